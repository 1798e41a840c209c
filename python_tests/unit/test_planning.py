"""Chunk planning: N days from the window start, calendar months, NBA seasons, clipping."""

from __future__ import annotations

import argparse
import datetime as dt

import pytest

from driver.backfill.chunks import Chunk, Chunking, plan_chunks
from driver.backfill.plan import choose_chunking, parse_size_mb
from driver.errors import UsageError

D = dt.date.fromisoformat


def labels(start: str, end: str, chunking: Chunking) -> list[str]:
    return [c.label for c in plan_chunks(D(start), D(end), chunking)]


def test_n_days_aligned_to_window_start_last_chunk_short() -> None:
    assert labels("2022-01-01", "2022-01-20", Chunking(days=7)) == [
        "2022-01-01..2022-01-07",
        "2022-01-08..2022-01-14",
        "2022-01-15..2022-01-20",
    ]


def test_single_day_window_and_one_day_chunks() -> None:
    assert labels("2022-03-05", "2022-03-05", Chunking(days=30)) == ["2022-03-05..2022-03-05"]
    assert len(plan_chunks(D("2022-01-01"), D("2022-01-31"), Chunking(days=1))) == 31


def test_months_follow_the_calendar_and_are_clipped() -> None:
    assert labels("2022-01-15", "2022-04-10", Chunking(unit="month")) == [
        "2022-01-15..2022-01-31",
        "2022-02-01..2022-02-28",
        "2022-03-01..2022-03-31",
        "2022-04-01..2022-04-10",
    ]
    assert labels("2023-12-20", "2024-01-05", Chunking(unit="month")) == [
        "2023-12-20..2023-12-31",
        "2024-01-01..2024-01-05",
    ]
    assert labels("2024-02-01", "2024-02-29", Chunking(unit="month")) == ["2024-02-01..2024-02-29"]


def test_seasons_run_july_to_june_and_are_clipped() -> None:
    assert labels("2021-10-01", "2024-05-01", Chunking(unit="season")) == [
        "2021-10-01..2022-06-30",
        "2022-07-01..2023-06-30",
        "2023-07-01..2024-05-01",
    ]
    assert labels("2022-06-30", "2022-07-01", Chunking(unit="season")) == [
        "2022-06-30..2022-06-30",
        "2022-07-01..2022-07-01",
    ]


@pytest.mark.parametrize(
    "chunking",
    [Chunking(days=1), Chunking(days=7), Chunking(days=45), Chunking(unit="month"),
     Chunking(unit="season")],
)  # fmt: skip
def test_chunks_cover_the_window_exactly_without_overlap(chunking: Chunking) -> None:
    start, end = D("2021-09-17"), D("2023-08-02")
    chunks = plan_chunks(start, end, chunking)
    assert chunks[0].start == start and chunks[-1].end == end
    for prev, nxt in zip(chunks, chunks[1:], strict=False):
        assert nxt.start == prev.end + dt.timedelta(days=1)
    assert sum(c.days for c in chunks) == (end - start).days + 1


def test_bad_chunking_and_window_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="at least 1"):
        Chunking(days=0)
    with pytest.raises(UsageError, match="one of"):
        Chunking()
    with pytest.raises(UsageError, match="month, season"):
        Chunking(unit="week")
    with pytest.raises(UsageError, match="before"):
        plan_chunks(D("2022-02-01"), D("2022-01-01"), Chunking(days=7))


def test_chunk_days_property() -> None:
    assert Chunk(D("2022-01-01"), D("2022-01-31")).days == 31


def _args(**kw: object) -> argparse.Namespace:
    base: dict[str, object] = {
        "chunk_days": None, "chunk": None, "memory_budget": None, "target": "dev",
    }  # fmt: skip
    base.update(kw)
    return argparse.Namespace(**base)


def test_auto_chunking_duckdb_fewest_chunks_within_the_memory_budget() -> None:
    # the demo history (944 days) fits a 1 GB budget in one chunk
    chunking, why = choose_chunking(
        _args(memory_budget="1GB"), "duckdb", D("2021-10-01"), D("2024-05-01")
    )
    assert chunking == Chunking(days=944)
    assert "5,000 days" in why and "1 chunk" in why and "--memory-budget" in why
    # 20 seasons (7,213 days) need two chunks of equal size at 1 GB, one at 2 GB
    chunking, why = choose_chunking(
        _args(memory_budget="1GB"), "duckdb", D("2004-10-01"), D("2024-06-30")
    )
    assert chunking == Chunking(days=3607) and "2 chunks" in why
    chunking, _ = choose_chunking(
        _args(memory_budget="2GB"), "duckdb", D("2004-10-01"), D("2024-06-30")
    )
    assert chunking == Chunking(days=7213)


def test_auto_chunking_reads_the_profile_memory_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBA_DUCKDB_MEMORY_LIMIT", "500MB")
    chunking, why = choose_chunking(_args(), "duckdb", D("2021-10-01"), D("2024-05-01"))
    assert chunking == Chunking(days=944)
    assert "memory_limit 500MB of target dev" in why
    chunking, _ = choose_chunking(_args(), "duckdb", D("2014-10-01"), D("2024-06-30"))
    assert chunking == Chunking(days=1781)  # 3,561 days, 2,500 at most a chunk: 2 chunks


def test_auto_chunking_parallel_engines_use_months_and_choices_win() -> None:
    chunking, why = choose_chunking(_args(), "bigquery", D("2022-01-01"), D("2022-03-31"))
    assert chunking == Chunking(unit="month") and "parallel" in why
    assert choose_chunking(_args(chunk="season"), "duckdb", D("2022-01-01"), D("2022-03-31"))[
        0
    ] == Chunking(unit="season")
    assert choose_chunking(_args(chunk_days=7), "duckdb", D("2022-01-01"), D("2022-03-31"))[
        0
    ] == Chunking(days=7)


@pytest.mark.parametrize(
    ("text", "mb"), [("1GB", 1000.0), ("1500MB", 1500.0), ("1GiB", 1073.741824), ("2 gb", 2000.0)]
)
def test_sizes_parse_like_duckdb(text: str, mb: float) -> None:
    assert parse_size_mb(text, "x") == pytest.approx(mb)


def test_bad_memory_budget_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--memory-budget must be a size"):
        choose_chunking(_args(memory_budget="lots"), "duckdb", D("2022-01-01"), D("2022-01-31"))
