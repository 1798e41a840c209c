"""The dbt models on real dbt and real DuckDB: windows, idempotence, bad raw data, dialects."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from driver.dbt import run_dbt, window_vars
from driver.project import PROJECT_DIR

MART = "nba_analytics.player_game_summary"
# processed_at is the build time: everything else must match.
COMPARE_SQL = f"select * exclude (processed_at) from {MART} order by game_id, player_lookup"


def _load(raw_dir: Path, db: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "driver", "load", "--from", str(raw_dir), "--target", "dev"],
        cwd=PROJECT_DIR,
        env={**_env(db)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _env(db: Path) -> dict[str, str]:
    import os

    return {**os.environ, "NBA_DUCKDB_PATH": str(db)}


def _build(db: Path, run_dir: Path, start: str | None, end: str | None, *extra: str):
    result = run_dbt(
        ["build", "--select", "+player_game_summary", *extra],
        target="dev",
        run_dir=run_dir,
        vars_json=window_vars(start, end),
        env={"NBA_DUCKDB_PATH": str(db)},
    )
    assert result.ok, result.output[-4000:]
    return result


def _rows(db: Path, sql: str = COMPARE_SQL) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def loaded_db(raw_month_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """January 2022 raw data loaded into a DuckDB file (copied by each test)."""
    db = tmp_path_factory.mktemp("models") / "raw.duckdb"
    _load(raw_month_dir, db)
    return db


@pytest.fixture
def db(loaded_db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "nba.duckdb"
    shutil.copyfile(loaded_db, copy)
    return copy


@pytest.mark.slow
def test_one_window_equals_31_daily_windows(loaded_db: Path, tmp_path: Path) -> None:
    one = tmp_path / "one.duckdb"
    daily = tmp_path / "daily.duckdb"
    shutil.copyfile(loaded_db, one)
    shutil.copyfile(loaded_db, daily)
    _build(one, tmp_path / "run_one", "2022-01-01", "2022-01-31")
    for day in range(1, 32):
        d = f"2022-01-{day:02d}"
        _build(daily, tmp_path / "run_daily", d, d, "--exclude-resource-type", "test", "unit_test")
    expected = _rows(one)
    assert len(expected) > 2000
    assert _rows(daily) == expected


@pytest.mark.slow
def test_rebuilding_a_window_is_idempotent_and_empties_lost_days(db: Path, tmp_path: Path) -> None:
    _build(db, tmp_path / "run", "2022-01-10", "2022-01-16")
    first = _rows(db)
    _build(db, tmp_path / "run", "2022-01-10", "2022-01-16")
    assert _rows(db) == first
    # A day whose raw rows vanished is emptied by the next build of its window.
    with duckdb.connect(str(db)) as con:
        day = con.execute(f"select min(game_date) from {MART}").fetchone()[0]
        for table in ("nbac_gamebook_player_stats", "bdl_player_boxscores"):
            con.execute(f"delete from nba_raw.{table} where game_date = ?", [day])
    _build(
        db,
        tmp_path / "run",
        "2022-01-10",
        "2022-01-16",
        "--exclude-resource-type",
        "test",
        "unit_test",
    )
    count = _rows(db, f"select count(*) from {MART} where game_date = date '{day}'")
    assert count == [(0,)]
    others = _rows(db, f"select count(*) from {MART} where game_date != date '{day}'")
    assert others[0][0] > 0


@pytest.mark.slow
def test_full_refresh_rebuilds_from_scratch(db: Path, tmp_path: Path) -> None:
    _build(db, tmp_path / "run", "2022-01-01", "2022-01-05")
    _build(db, tmp_path / "run", "2022-01-20", "2022-01-21", "--full-refresh")
    dates = _rows(db, f"select distinct game_date from {MART} order by 1")
    assert {str(d[0]) for d in dates} <= {"2022-01-20", "2022-01-21"}


@pytest.mark.slow
def test_bad_raw_values_are_flagged_not_fatal(db: Path, tmp_path: Path) -> None:
    """Unparseable minutes, NULL distances and coordinates, unknown team codes, NULL names and
    negative counts never fail the build: the row is kept and flagged."""
    day = "2022-01-12"
    with duckdb.connect(str(db)) as con:
        gid, lookup = con.execute(
            "select game_id, player_lookup from nba_raw.nbac_gamebook_player_stats "
            "where game_date = ? and player_status = 'active' order by 1, 2 limit 1",
            [day],
        ).fetchone()
        con.execute(
            "update nba_raw.nbac_gamebook_player_stats set minutes = '2:60', team_abbr = 'XXX', "
            "player_name = null, player_name_original = null, steals = -1 "
            "where game_id = ? and player_lookup = ?",
            [gid, lookup],
        )
        con.execute(
            "update nba_raw.bigdataball_play_by_play set shot_distance = null, original_x = null, "
            "original_y = null where game_date = ? and event_id in "
            "(select event_id from nba_raw.bigdataball_play_by_play where game_date = ? "
            "and event_type = 'shot' order by event_id limit 5)",
            [day, day],
        )
    _build(db, tmp_path / "run", day, day, "--exclude-resource-type", "test", "unit_test")
    row = _rows(
        db,
        f"select minutes_played, minutes_parse_status, team_abbr, steals from {MART} "
        f"where game_id = '{gid}' and player_lookup = '{lookup}'",
    )
    assert row == [(None, "unparseable", "XXX", -1)]


def test_invalid_window_is_a_compile_error_that_says_what_to_fix(tmp_path: Path) -> None:
    cases = {
        '{"start_date": "2022-02-30", "end_date": "2022-03-01"}': "not a real date",
        '{"start_date": "2022-03-01", "end_date": "2022-02-01"}': "is before start_date",
        '{"start_date": "yesterday", "end_date": "2022-02-01"}': "must be an ISO date",
        '{"start_date": "2022-01-01"}': "Set both vars",
    }
    for vars_json, message in cases.items():
        result = run_dbt(
            ["compile", "--select", "player_game_summary"],
            target="dev",
            run_dir=tmp_path / "run",
            vars_json=vars_json,
            env={"NBA_DUCKDB_PATH": str(tmp_path / "none.duckdb")},
        )
        assert not result.ok
        assert message in result.output, result.output[-2000:]


def test_dbt_parse_for_bigquery_runs_offline(tmp_path: Path) -> None:
    """The same models parse for BigQuery (prod target) with no connection."""
    result = run_dbt(
        ["parse"],
        target="prod",
        run_dir=tmp_path / "run",
        env={"NBA_BQ_PROJECT": "offline-check"},
    )
    assert result.ok, result.output[-3000:]
    manifest = json.loads((tmp_path / "run" / "target" / "manifest.json").read_text())
    mart = manifest["nodes"]["model.nba_analytics.player_game_summary"]
    assert mart["config"]["contract"]["enforced"] is True
