"""Issue 14, the build ledger and the staleness view end to end (real dbt on DuckDB, January 2022).

January is loaded as of 2022-01-25 00:00 UTC (the last days' BigDataBall play-by-play and
box-score corrections not landed yet) and built: every date is fresh. Loaded again as of three
days later (merge keeps every version), build_staleness lists the dates whose play-by-play
landed, the box-score corrections, their team-hint neighbours and the new game days (missing),
each with its reason, checked here against what the raw tables received between the loads.
Rebuilding exactly those dates (`refresh`: one dbt build per contiguous run), after which every
date is fresh and the mart equals a full rebuild from the same raw data, is played by
test_refresh.py's timeline. A build that fails its validation records nothing: its date stays
stale.
The late-data rule (macros/late_data.sql): a young game without play-by-play is pending (a
warning naming it, left out of the shot-zone coverage), an old one is overdue (counted: the
coverage fails; the late-data test errors with late_data_overdue: error).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import RAW_MONTH, copy_db, driver_cli, duckdb_env, parse_cache

from driver.dbt.invoke import DbtResult, other_vars, run_dbt

MART = "nba_analytics.player_game_summary"
LEDGER = "nba_analytics.build_ledger"
STALENESS = "nba_analytics.build_staleness"
FIRST_LOAD = "2022-01-25T00:00:00Z"
SECOND_LOAD = "2022-01-28T00:00:00Z"
PBP_TABLES = ("bigdataball_play_by_play", "nbac_play_by_play")
BOX_TABLES = ("nbac_gamebook_player_stats", "bdl_player_boxscores", "nbac_team_boxscore")


def _load(raw_dir: Path, db: Path, as_of: str) -> None:
    """The driver's loader (merge mode: versions already loaded stay), as of `as_of`."""
    loaded = driver_cli("load", "--from", str(raw_dir), "--target", "dev", "--as-of", as_of,
                        env={"NBA_DUCKDB_PATH": str(db)})  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr[-4000:]


def _build(
    db: Path, run_dir: Path, start: str, end: str, extra: dict[str, object] | None = None
) -> DbtResult:
    return run_dbt(
        ["build", "--select", "+build_staleness",
         "--exclude-resource-type", "unit_test"],
        target="dev",
        run_dir=run_dir,
        vars_json=other_vars(extra),
        window=(start, end),
        parse_cache=parse_cache(),
        env=duckdb_env(db),
    )  # fmt: skip


def _rows(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _not_fresh(db: Path) -> dict[dt.date, tuple[str, str, str]]:
    """The dates out of date (not fresh, not scheduled: games not played yet)."""
    rows = _rows(
        db,
        f"select game_date, state, reason, stale_tables from {STALENESS} "
        "where state not in ('fresh', 'scheduled')",
    )
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def _dates_with_rows_between(
    db: Path, tables: tuple[str, ...], after: str, until: str
) -> set[dt.date]:
    """Dates of `tables` holding a row that arrived in (after, until]."""
    union = " union ".join(
        f"select game_date from nba_raw.{t} where processed_at > ? and processed_at <= ?"
        for t in tables
    )
    params = [dt.datetime.fromisoformat(after), dt.datetime.fromisoformat(until)] * len(tables)
    return {r[0] for r in _rows(db, union, params)}


@pytest.fixture(scope="module")
def built_early(raw_month_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """January loaded as of FIRST_LOAD and built with the ledger. Read only: tests copy it."""
    base = tmp_path_factory.mktemp("ledger_month")
    db = base / "nba.duckdb"
    _load(raw_month_dir, db, FIRST_LOAD)
    result = _build(db, base / "run", *RAW_MONTH[:2])
    assert result.ok, result.output[-4000:]
    return db


def test_late_data_is_listed_with_its_reasons(
    built_early: Path, raw_month_dir: Path, tmp_path: Path
) -> None:
    db = copy_db(built_early, tmp_path / "nba.duckdb")
    assert _not_fresh(db) == {}
    built = {r[0] for r in _rows(db, f"select game_date from {LEDGER} where mart_rows > 0")}

    _load(raw_month_dir, db, SECOND_LOAD)
    stale = _not_fresh(db)

    # what arrived between the loads, from the raw tables themselves
    pbp_days = _dates_with_rows_between(db, PBP_TABLES, FIRST_LOAD, SECOND_LOAD)
    box_days = _dates_with_rows_between(db, BOX_TABLES, FIRST_LOAD, SECOND_LOAD)
    new_days = box_days - built
    corrected = box_days & built
    assert new_days and pbp_days & built, (sorted(new_days), sorted(pbp_days))
    for day in new_days:
        assert stale[day][:2] == ("missing", "new games"), (day, stale[day])
    for day in (pbp_days | corrected) & built:
        state, reason, tables = stale[day]
        assert state == "stale", (day, stale[day])
        expected = {"late play-by-play"} if day in pbp_days else set()
        expected |= {"box-score correction"} if day in corrected else set()
        assert expected <= set(reason.split(" + ")), (day, reason)
        assert " -> " in tables, tables
    # every other listed date is a team-hint neighbour of a date whose gamebook moved
    neighbours = set(stale) - new_days - pbp_days - corrected
    gamebook_days = _dates_with_rows_between(
        db, ("nbac_gamebook_player_stats",), FIRST_LOAD, SECOND_LOAD
    )
    for day in neighbours:
        assert stale[day] == ("stale", "team-hint neighbour", ""), (day, stale[day])
        assert any(0 < abs((day - d).days) <= 30 for d in gamebook_days), day
    assert len(neighbours) < len(built) // 2, sorted(neighbours)  # the rule, not every date


def test_a_failed_build_leaves_its_date_stale(built_early: Path, tmp_path: Path) -> None:
    db = copy_db(built_early, tmp_path / "nba.duckdb")
    day = dt.date(2022, 1, 12)
    before = _rows(db, f"select built_at, invocation_id from {LEDGER} where game_date = ?", [day])
    with duckdb.connect(str(db)) as con:  # a later version of one active line with 999 points
        con.execute(
            "insert into nba_raw.nbac_gamebook_player_stats "
            "select * replace (999 as points, processed_at + interval 1 hour as processed_at) "
            "from nba_raw.nbac_gamebook_player_stats where game_date = ? "
            "and player_status = 'active' order by processed_at desc, player_lookup limit 1",
            [day],
        )
    assert _not_fresh(db)[day][:2] == ("stale", "box-score correction")

    result = _build(db, tmp_path / "run", day.isoformat(), day.isoformat())

    assert not result.ok
    assert (
        _rows(db, f"select built_at, invocation_id from {LEDGER} where game_date = ?", [day])
        == before
    )
    assert _not_fresh(db)[day][:2] == ("stale", "box-score correction")


def test_a_young_game_without_play_by_play_is_pending_an_old_one_fails(
    built_early: Path, tmp_path: Path
) -> None:
    """The newest built date: its games' BigDataBall play-by-play had not landed at the load.
    Young, they are pending (a warning naming them) and left out of the shot-zone coverage
    (which passes); past late_data_hours they are overdue and counted: the coverage fails
    (and the late-data test too with late_data_overdue: error)."""
    db = copy_db(built_early, tmp_path / "nba.duckdb")
    ((day, games, without),) = _rows(
        db,
        f"select game_date, count(distinct game_id), "
        f"count(distinct case when shot_zone_source = 'none' then game_id end) from {MART} "
        f"where game_date = (select max(game_date) from {MART}) group by game_date",
    )
    assert without > games // 2, (day, games, without)  # most of its games

    def check(as_of: dt.datetime, overdue: str) -> tuple[str, str]:
        result = run_dbt(
            ["test", "--select", "pgs_pbp_landed_or_pending", "pgs_shot_zone_coverage"],
            target="dev",
            run_dir=tmp_path / f"run_{as_of:%d%H}_{overdue}",
            vars_json=other_vars({"as_of": as_of.isoformat(), "late_data_overdue": overdue}),
            window=(day.isoformat(), day.isoformat()),
            parse_cache=parse_cache(),
            env=duckdb_env(db),
        )  # fmt: skip
        assert result.run_results is not None, result.output[-4000:]
        status = {
            name: str(r["status"])
            for r in result.run_results["results"]
            for name in ("pgs_pbp_landed_or_pending", "pgs_shot_zone_coverage")
            if r["unique_id"].startswith(f"test.nba_analytics.{name}")
        }
        return status["pgs_pbp_landed_or_pending"], status["pgs_shot_zone_coverage"]

    start = dt.datetime.combine(day, dt.time())
    assert check(start + dt.timedelta(hours=30), "error") == ("warn", "pass")  # pending
    stored = _rows(db, "select game_id, status from nba_test_failures.pgs_pbp_landed_or_pending")
    assert len(stored) == without and {s for _, s in stored} == {"pending"}  # names them
    assert check(start + dt.timedelta(hours=80), "error") == ("fail", "fail")  # overdue
    assert check(start + dt.timedelta(hours=80), "warn") == ("warn", "fail")
    stored = _rows(db, "select status from nba_test_failures.pgs_pbp_landed_or_pending")
    assert stored and {s for (s,) in stored} == {"overdue"}
