"""Backfill state: atomic writes, refusing another backfill's file, what resume picks."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from driver.backfill.chunks import Chunking, plan_chunks
from driver.backfill.state import (
    FAILED,
    PENDING,
    RUNNING,
    SUCCESS,
    BackfillState,
    StateStore,
    check_identity,
    chunks_to_run,
    read_state,
    write_state,
)
from driver.errors import UsageError

D = dt.date.fromisoformat


def make_state(**overrides: object) -> BackfillState:
    start, end = D("2022-01-01"), D("2022-01-31")
    kwargs: dict = {
        "target": "dev",
        "start": start,
        "end": end,
        "selection": ["+player_game_summary"],
        "chunking": "days:7",
        "chunks": plan_chunks(start, end, Chunking(days=7)),
    }
    kwargs.update(overrides)
    return BackfillState.new(**kwargs)


def test_round_trip_and_no_tmp_files_left(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "state.json"
    state = make_state()
    state.chunks[0].status, state.chunks[0].rows, state.chunks[0].error = FAILED, 3, "boom"
    write_state(path, state)
    again = read_state(path)
    assert again is not None and again.to_dict() == state.to_dict()
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]


def test_write_is_atomic_old_file_survives_a_failed_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.json"
    write_state(path, make_state())
    before = path.read_text()

    def boom(src: str, dst: str) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", boom)
    state = make_state()
    state.chunks[0].status = SUCCESS
    with pytest.raises(OSError):
        write_state(path, state)
    assert path.read_text() == before  # the old state, whole
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # tmp file cleaned up


def test_missing_state_is_none_and_garbage_is_a_usage_error(tmp_path: Path) -> None:
    assert read_state(tmp_path / "nope.json") is None
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(UsageError, match="not a backfill state"):
        read_state(bad)
    bad.write_text(json.dumps({"hello": 1}))
    with pytest.raises(UsageError):
        read_state(bad)


@pytest.mark.parametrize(
    ("override", "word"),
    [
        ({"target": "prod"}, "target"),
        ({"end": D("2022-02-28")}, "window"),
        ({"selection": ["+other_model"]}, "select"),
    ],
)
def test_refuses_state_of_another_backfill(tmp_path: Path, override: dict, word: str) -> None:
    with pytest.raises(UsageError, match=word):
        check_identity(make_state(), make_state(**override), tmp_path / "s.json")
    check_identity(make_state(), make_state(), tmp_path / "s.json")  # same one: fine


def test_resume_picks_failed_before_success_and_running_chunks() -> None:
    state = make_state()
    statuses = [FAILED, SUCCESS, RUNNING, SUCCESS, PENDING]
    for chunk, status in zip(state.chunks, statuses, strict=True):
        chunk.status = status
    assert chunks_to_run(state, retry_failed=False) == [0, 2, 4]
    assert chunks_to_run(state, retry_failed=True) == [0]


def test_store_persists_every_update(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = StateStore(path, make_state())
    with store.update(1) as chunk:
        chunk.status, chunk.attempts = RUNNING, 1
    on_disk = read_state(path)
    assert on_disk is not None and on_disk.chunks[1].status == RUNNING
    store.set_full_refresh_done()
    assert read_state(path).full_refresh_pending is False  # type: ignore[union-attr]
    assert store.snapshot().counts() == {PENDING: 4, RUNNING: 1, SUCCESS: 0, FAILED: 0}


GOOD_CHUNK = {"start": "2022-01-01", "end": "2022-01-07", "status": "pending"}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"chunks": {"a": 1}}, "`chunks` must be a list"),
        ({"chunks": ["2022-01-01"]}, "chunks[0] must be a mapping"),
        ({"chunks": [{**GOOD_CHUNK, "start": "2022-13-01"}]}, "chunks[0].start"),
        ({"chunks": [{**GOOD_CHUNK, "end": "2021-12-01"}]}, "chunks[0]: end"),
        ({"chunks": [{**GOOD_CHUNK, "attempts": "many"}]}, "chunks[0].attempts must be int"),
        ({"chunks": [GOOD_CHUNK, {**GOOD_CHUNK, "status": "done"}]}, "chunks[1].status"),
        ({"chunks": [{**GOOD_CHUNK, "pid": True}]}, "chunks[0].pid"),
        ({"start_date": 20220101}, "`start_date`"),
        ({"selection": "+x"}, "`selection`"),
        ({"full_refresh_pending": "yes"}, "`full_refresh_pending`"),
    ],
)
def test_malformed_state_is_a_usage_error_naming_file_and_field(
    tmp_path: Path, change: dict, named: str
) -> None:
    path = tmp_path / "state.json"
    data = {**make_state().to_dict(), **change}
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError) as info:
        read_state(path)
    assert str(path) in str(info.value) and named in str(info.value)


def test_top_level_not_an_object_and_state_path_a_directory(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("[1, 2]")
    with pytest.raises(UsageError, match="top level must be a JSON object"):
        read_state(path)
    with pytest.raises(UsageError, match="is a directory"):
        read_state(tmp_path)
