"""The dbt models on real dbt and real DuckDB: windows, idempotence, bad raw data, dialects."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from conftest import RAW_MONTH, copy_db, duckdb_env, parse_cache

from driver.dbt.invoke import DbtResult, DbtSession, run_dbt

MART = "nba_analytics.player_game_summary"
# The rows are what these tests compare: data and unit tests are tested elsewhere.
NO_TESTS = ("--exclude-resource-type", "test", "unit_test")
# processed_at is the build time: everything else must match.
COMPARE_SQL = f"select * exclude (processed_at) from {MART} order by game_id, player_lookup"


def _build(
    db: Path,
    run_dir: Path,
    start: str | None,
    end: str | None,
    *extra: str,
    session: DbtSession | None = None,
) -> DbtResult:
    """`dbt build` of the mart for the window (in the environment, as the driver passes it: the
    parse is shared); in `session` when given (several windows in one dbt process parsed once,
    as a backfill's serial chunks: it holds the file until closed)."""
    args = ["build", "--select", "+player_game_summary", *extra]
    call = {"target": "dev", "run_dir": run_dir, "window": (start, end), "env": duckdb_env(db),
            "parse_cache": parse_cache()}  # fmt: skip
    result = session.run(args, **call) if session else run_dbt(args, **call)
    assert result.ok, result.output[-4000:]
    return result


@pytest.fixture
def session() -> Iterator[DbtSession]:
    dbt = DbtSession()
    yield dbt
    dbt.close()


def _rows(db: Path, sql: str = COMPARE_SQL) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def db(month_db: Path, tmp_path: Path) -> Path:
    return copy_db(month_db, tmp_path / "nba.duckdb")


def _boundary_days(db: Path) -> list[str]:
    """The days where a one-day window differs most from the whole month: the first and the
    last (month boundaries, the edge of the raw data), the day after the day with the fewest
    games (a neighbour of a quiet day) and the day with the most rows whose team comes from
    the team hint (inactive players without a team)."""
    start, end, _ = RAW_MONTH
    with duckdb.connect(str(db), read_only=True) as con:
        (quiet,) = con.execute(
            "select game_date + 1 from nba_raw.nbac_schedule where game_date < ? "
            "group by game_date order by count(distinct game_id), game_date limit 1",
            [end],
        ).fetchone()  # type: ignore[misc]
        (hinted,) = con.execute(
            "select game_date from nba_raw.nbac_gamebook_player_stats where team_abbr is null "
            "group by game_date order by count(*) desc, game_date limit 1"
        ).fetchone()  # type: ignore[misc]
    return sorted({start, end, str(quiet), str(hinted)})


def test_one_window_equals_one_day_windows_on_boundary_days(
    month_db: Path, month_built_db: Path, tmp_path: Path, session: DbtSession
) -> None:
    """One build of the month (conftest.month_built_db: the same models over RAW_MONTH, its
    data tests passed) and one-day builds of the days most likely to differ give the same rows
    for those days (a sample: 31 daily builds took minutes)."""
    one = month_built_db
    daily = copy_db(month_db, tmp_path / "daily" / "nba.duckdb")  # nba: the parse is shared
    days = _boundary_days(month_db)
    assert len(days) >= 3, days
    for d in days:
        _build(daily, tmp_path / "run_daily", d, d, *NO_TESTS, session=session)
    session.close()  # it holds the file
    in_days = "game_date in (" + ", ".join(f"date '{d}'" for d in days) + ")"
    sql = f"{COMPARE_SQL.split(' order by')[0]} where {in_days} order by game_id, player_lookup"
    expected = _rows(one, sql)
    assert len(expected) > len(days) * 150
    assert _rows(daily, sql) == expected
    assert _rows(daily, f"select count(*) from {MART} where not {in_days}") == [(0,)]


def test_rebuilding_a_window_is_idempotent_and_empties_lost_days(db: Path, tmp_path: Path) -> None:
    _build(db, tmp_path / "run", "2022-01-10", "2022-01-16", *NO_TESTS)
    first = _rows(db)
    _build(db, tmp_path / "run", "2022-01-10", "2022-01-16", *NO_TESTS)
    assert _rows(db) == first
    # A day whose raw rows vanished is emptied by the next build of its window.
    with duckdb.connect(str(db)) as con:
        day = con.execute(f"select min(game_date) from {MART}").fetchone()[0]
        for table in ("nbac_gamebook_player_stats", "bdl_player_boxscores"):
            con.execute(f"delete from nba_raw.{table} where game_date = ?", [day])
    _build(db, tmp_path / "run", "2022-01-10", "2022-01-16", *NO_TESTS)
    count = _rows(db, f"select count(*) from {MART} where game_date = date '{day}'")
    assert count == [(0,)]
    others = _rows(db, f"select count(*) from {MART} where game_date != date '{day}'")
    assert others[0][0] > 0


def test_full_refresh_rebuilds_from_scratch(db: Path, tmp_path: Path, session: DbtSession) -> None:
    _build(db, tmp_path / "run", "2022-01-01", "2022-01-05", *NO_TESTS, session=session)
    _build(
        db, tmp_path / "run", "2022-01-20", "2022-01-21", "--full-refresh", *NO_TESTS,
        session=session,
    )  # fmt: skip
    session.close()
    dates = _rows(db, f"select distinct game_date from {MART} order by 1")
    assert {str(d[0]) for d in dates} <= {"2022-01-20", "2022-01-21"}


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
            "update nba_raw.nbac_gamebook_player_stats set minutes = '2:61', team_abbr = 'XXX', "
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
    _build(db, tmp_path / "run", day, day, *NO_TESTS)
    row = _rows(
        db,
        f"select minutes_played, minutes_parse_status, team_abbr, steals from {MART} "
        f"where game_id = '{gid}' and player_lookup = '{lookup}'",
    )
    assert row == [(None, "unparseable", "XXX", -1)]


def test_invalid_window_is_a_compile_error_that_says_what_to_fix(
    tmp_path: Path, session: DbtSession
) -> None:
    cases = {
        '{"start_date": "2022-02-30", "end_date": "2022-03-01"}': "not a real date",
        '{"start_date": "2022-03-01", "end_date": "2022-02-01"}': "is before start_date",
        '{"start_date": "yesterday", "end_date": "2022-02-01"}': "must be an ISO date",
        '{"start_date": "2022-01-01"}': "Set both vars",
    }
    for vars_json, message in cases.items():  # one dbt process: the window is read at run time
        result = session.run(
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
