"""Issue 13, write-audit-publish end to end (real dbt on DuckDB, generated January 2022).

`dbt build` computes a window into nba_audit.player_game_summary__audit, runs the validation
tests there, and publishes into nba_analytics.player_game_summary only when none failed at
error level. One month is built, then on copies of it:
- a normal rebuild of one week (with one raw value changed) publishes the new value;
- a 999-point gamebook line fails the build (pgs_points_range): the mart is unchanged for the
  whole window, to the processed_at, and the audit relation keeps the bad row for inspection;
- deleting every raw row of one week fails the shrink guard (pgs_shrink_guard), whose stored
  rows name the emptied days; the mart is unchanged. With allow_shrink the week is emptied.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import RAW_MONTH, copy_db, duckdb_env, parse_cache

from driver.dbt.invoke import DbtResult, other_vars, run_dbt

MART = "nba_analytics.player_game_summary"
AUDIT = "nba_audit.player_game_summary__audit"
MART_NODE = "model.nba_analytics.player_game_summary"
RAW_TABLES = [
    "nbac_gamebook_player_stats", "bdl_player_boxscores", "bigdataball_play_by_play",
    "nbac_play_by_play", "nbac_team_boxscore", "nbac_schedule",
]  # fmt: skip
WEEK = ("2022-01-10", "2022-01-16")


def _build(
    db: Path, run_dir: Path, window: tuple[str, str], extra: dict[str, object] | None = None
) -> DbtResult:
    return run_dbt(
        ["build", "--select", "+player_game_summary", "--exclude-resource-type", "unit_test"],
        target="dev",
        run_dir=run_dir,
        vars_json=other_vars(extra),
        window=window,
        parse_cache=parse_cache(),
        env=duckdb_env(db),
    )


def _statuses(result: DbtResult) -> dict[str, str]:
    """Node name -> status of one dbt call (run_results)."""
    assert result.run_results is not None, result.output[-4000:]
    return {r["unique_id"].split(".")[2]: r["status"] for r in result.run_results["results"]}


def _rows(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _mart(db: Path) -> list[tuple[Any, ...]]:
    """Every mart row, processed_at included: an untouched mart compares equal."""
    return _rows(db, f"select * from {MART} order by game_id, player_lookup")


def _execute(db: Path, sql: str, params: list[Any]) -> int:
    with duckdb.connect(str(db)) as con:
        return len(con.execute(sql + " returning 1", params).fetchall())


@pytest.fixture(scope="module")
def built_month(month_built_db: Path) -> Path:
    """January 2022 built (audited and published) with _build's command, shared with other
    test files (conftest.month_built_db). Read only: tests copy it."""
    return month_built_db


def test_a_normal_rebuild_publishes_the_audited_window(built_month: Path, tmp_path: Path) -> None:
    db = copy_db(built_month, tmp_path / "nba.duckdb")
    before = _mart(db)
    player = _rows(
        db,
        f"select game_id, player_lookup, assists from {MART} "
        "where primary_source_used = 'nbac_gamebook' and is_active and game_date between ? and ? "
        "order by game_id, player_lookup limit 1",
        list(WEEK),
    )[0]
    changed = _execute(
        db,
        "update nba_raw.nbac_gamebook_player_stats set assists = assists + 1 "
        "where game_id = ? and player_lookup = ?",
        [player[0], player[1]],
    )
    assert changed >= 1

    result = _build(db, tmp_path / "run", WEEK)

    assert result.ok, result.output[-4000:]
    assert _statuses(result)["player_game_summary"] == "success"
    after = _mart(db)
    assert len(after) == len(before)
    assert _rows(
        db, f"select assists from {MART} where game_id = ? and player_lookup = ?", [*player[:2]]
    ) == [(player[2] + 1,)]
    outside = (
        f"select * from {MART} where game_date not between ? and ? order by game_id, player_lookup"
    )
    assert _rows(db, outside, list(WEEK)) == [
        row for row in before if not (WEEK[0] <= row[3].isoformat() <= WEEK[1])
    ]


def test_b_an_error_level_failure_publishes_nothing(built_month: Path, tmp_path: Path) -> None:
    db = copy_db(built_month, tmp_path / "nba.duckdb")
    before = _mart(db)
    game_id = _rows(db, f"select min(game_id) from {MART} where game_date = ?", [WEEK[0]])[0][0]
    changed = _execute(
        db,
        "update nba_raw.nbac_gamebook_player_stats set points = 999 "
        "where game_id = ? and player_lookup = (select min(player_lookup) "
        "from nba_raw.nbac_gamebook_player_stats where game_id = ? and player_status = 'active')",
        [game_id, game_id],
    )
    assert changed == 1

    result = _build(db, tmp_path / "run", RAW_MONTH[:2])

    assert not result.ok
    status = _statuses(result)
    assert status["pgs_points_range"] == "fail", status
    assert status["player_game_summary"] == "skipped", status
    assert _mart(db) == before  # the whole window, processed_at included
    # the audit relation keeps the failed window for inspection, the bad row in it
    assert _rows(db, f"select count(*) from {AUDIT} where points = 999") == [(1,)]
    assert _rows(db, "select count(*) from nba_test_failures.pgs_points_range") == [(1,)]


def test_c_a_shrinking_week_fails_the_guard_unless_allowed(
    built_month: Path, tmp_path: Path
) -> None:
    db = copy_db(built_month, tmp_path / "nba.duckdb")
    before = _mart(db)
    week_days = _rows(
        db,
        f"select game_date, count(*) from {MART} where game_date between ? and ? "
        "group by all order by all",
        list(WEEK),
    )
    assert len(week_days) == 7
    for table in RAW_TABLES:
        assert _execute(db, f"delete from nba_raw.{table} where game_date between ? and ?", [*WEEK])

    failed = _build(db, tmp_path / "run_guarded", WEEK)

    assert not failed.ok
    status = _statuses(failed)
    assert status["pgs_shrink_guard"] == "fail", status
    assert status["player_game_summary"] == "skipped", status
    assert _mart(db) == before
    stored = _rows(
        db,
        "select game_date, published_rows, audited_rows, reason "
        "from nba_test_failures.pgs_shrink_guard order by game_date",
    )
    assert stored == [(day, rows, 0, "day emptied") for day, rows in week_days]

    allowed = _build(db, tmp_path / "run_allowed", WEEK, {"allow_shrink": True})

    assert allowed.ok, allowed.output[-4000:]
    assert _statuses(allowed)["pgs_shrink_guard"] == "warn"
    assert _rows(db, f"select count(*) from {MART} where game_date between ? and ?", [*WEEK]) == [
        (0,)
    ]
    assert len(_mart(db)) == len(before) - sum(rows for _, rows in week_days)
