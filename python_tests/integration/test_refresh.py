"""`refresh` end to end: real dbt, real DuckDB, the build ledger and its staleness view.

The issue's timeline on January 2022 (conftest.raw_month_dir, seed 7). At T1 (Jan 22 00:00)
the box scores up to Jan 20 have landed, BigDataBall's play-by-play up to Jan 19 (it lands at
game day + 70 h); two earlier dates' BigDataBall deliveries (Jan 6 and 13) are held back as
well. A refresh (a fresh database: it creates the view and builds every date) publishes Jan 20
with its games' play-by-play pending: zones NULL, shot_zone_source none, the warning naming
those games, the shot-zone coverage passing. Loaded again as of T2 = T1 + 3 days, the view
lists exactly: late play-by-play on three scattered dates (Jan 6, 13, 20), the one box-score
correction of the month (Jan 19) with the team-hint neighbours the rule makes dependent, and
two new game days (Jan 21, 22). `refresh --dry-run` lists those dates with their reasons,
`refresh` rebuilds them (Jan 20's games move to bigdataball), the mart then equals a build
from scratch of the same raw data, and a second refresh builds nothing. And: a backfill killed
after its first chunk, its state directory deleted, is finished by a refresh that builds only
the dates not yet built, with the same result. (Killed with its dbt, as when a container
is lost: a dbt left running would finish the rest of the window, one group on DuckDB.)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import driver_cli, duckdb_env, parse_cache, share_parse_of

from driver.backfill.state import RUNNING, SUCCESS, read_state
from driver.dbt.invoke import other_vars, run_dbt
from driver.project import PROJECT_DIR

MART = "nba_analytics.player_game_summary"
VIEW = "nba_analytics.build_staleness"
PENDING_ROWS = "nba_test_failures.pgs_pbp_landed_or_pending"
T1, T2 = "2022-01-22T00:00:00Z", "2022-01-25T00:00:00Z"
BUILT = ("2022-01-01", "2022-01-20")  # the dates with box scores at T1
WINDOW = ("2022-01-01", "2022-01-22")  # the refresh at T2: two more game days
PENDING_DAY = dt.date(2022, 1, 20)  # its BigDataBall play-by-play lands after T1
HELD_BACK = (dt.date(2022, 1, 6), dt.date(2022, 1, 13))  # BigDataBall late on these too
LATE_PBP = {*HELD_BACK, PENDING_DAY}
CORRECTED = dt.date(2022, 1, 19)  # the month's one box-score correction lands in (T1, T2]
PBP_GAMES = "select distinct game_id from nba_raw.bigdataball_play_by_play where game_date = ?"
NEW_DAYS = {dt.date(2022, 1, 21), dt.date(2022, 1, 22)}
# chunks of a dry run's plan: "  2022-01-13..2022-01-18 (6 days, pending)"
PLANNED = re.compile(r"^  (\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2}) \(\d+ days?, pending\)$")


def driver(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    share_parse_of(args)
    proc = subprocess.run(
        [sys.executable, "-m", "driver", *args],
        cwd=PROJECT_DIR,
        env=duckdb_env(db),
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    return proc


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc.stdout


def mart(db: Path) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            f"select * exclude (processed_at) from {MART} order by game_id, player_lookup"
        ).fetchall()


def out_of_date(db: Path, window: tuple[str, str]) -> dict[dt.date, str]:
    """Date -> state of every date in `window` the view says is out of date (not fresh)."""
    sql = (
        f"select game_date, state from {VIEW} where state not in ('fresh', 'scheduled') "
        f"and game_date between date '{window[0]}' and date '{window[1]}'"
    )
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(sql)
        return {d: s for d, s in rows.fetchall()}


def planned_dates(stdout: str) -> set[dt.date]:
    days: set[dt.date] = set()
    for line in stdout.splitlines():
        m = PLANNED.match(line)
        if m:
            day, end = dt.date.fromisoformat(m.group(1)), dt.date.fromisoformat(m.group(2))
            while day <= end:
                days.add(day)
                day += dt.timedelta(days=1)
    return days


def dbt_started(stdout: str) -> bool:
    return "[backfill] start" in stdout


def load(raw_month_dir: Path, db: Path, as_of: str) -> None:
    load_args = ("load", "--from", str(raw_month_dir), "--target", "dev", "--as-of", as_of)
    ok(driver_cli(*load_args, env={"NBA_DUCKDB_PATH": str(db)}))


def as_of(when: str) -> list[str]:
    """--vars fixing the late-data clock (a replay: now is years after these games)."""
    return ["--vars", json.dumps({"as_of": when})]


@pytest.fixture(scope="module")
def scratch_mart(raw_month_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    """The mart of one plain dbt build of WINDOW from the raw data as of T2: what both tests'
    refreshes must end with."""
    db = tmp_path_factory.mktemp("refresh_scratch") / "nba.duckdb"
    load(raw_month_dir, db, T2)
    result = run_dbt(
        ["build", "--select", "+player_game_summary", "--exclude-resource-type", "unit_test"],
        target="dev",
        run_dir=db.parent / "run",
        vars_json=other_vars({"as_of": T2}),
        window=WINDOW,
        parse_cache=parse_cache(),
        env=duckdb_env(db),
    )
    assert result.ok, result.output[-4000:]
    return mart(db)


def rows(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def arrived(db: Path, tables: tuple[str, ...]) -> set[dt.date]:
    """Dates of WINDOW holding a row of `tables` that arrived in (T1, T2]."""
    union = " union ".join(
        f"select game_date from nba_raw.{t} where processed_at > ? and processed_at <= ? "
        f"and game_date between date '{WINDOW[0]}' and date '{WINDOW[1]}'"
        for t in tables
    )
    when = [dt.datetime.fromisoformat(T1), dt.datetime.fromisoformat(T2)] * len(tables)
    return {r[0] for r in rows(db, union, when)}


def zone_sources(db: Path, day: dt.date) -> dict[str, str]:
    """game_id -> shot_zone_source of the games of `day` (one source per game)."""
    return dict(
        rows(
            db, f"select distinct game_id, shot_zone_source from {MART} where game_date = ?", [day]
        )
    )


def dates(window: tuple[str, str]) -> list[str]:
    return ["--start-date", window[0], "--end-date", window[1]]


def backfill(db: Path, window: tuple[str, str], *extra: str) -> list[str]:
    return ["backfill", *dates(window), "--state-file", str(db.parent / "bf" / "state.json"),
            "--skip-unit-tests", *extra]  # fmt: skip


def refresh(db: Path, window: tuple[str, str], *extra: str) -> list[str]:
    return ["refresh", *dates(window), "--state-dir", str(db.parent / "refresh"), *extra]


def test_late_data_timeline_refresh_rebuilds_exactly_what_is_stale(
    raw_month_dir: Path, tmp_path: Path, scratch_mart: list[Any]
) -> None:
    db = tmp_path / "nba.duckdb"
    load(raw_month_dir, db, T1)
    with duckdb.connect(str(db)) as con:  # BigDataBall late on two more dates
        con.execute(
            "delete from nba_raw.bigdataball_play_by_play where game_date in (?, ?)",
            list(HELD_BACK),
        )

    # A refresh on a database without the ledger: it creates the view, builds every date.
    # Jan 20's games have a box score but no play-by-play yet: pending, not a failure.
    first = ok(driver(db, *refresh(db, BUILT, *as_of(T1))))
    assert dbt_started(first) and out_of_date(db, BUILT) == {}
    before = zone_sources(db, PENDING_DAY)
    pending = {g for g, source in before.items() if source == "none"}
    assert len(pending) > len(before) // 2, before  # most of the day: coverage would fail
    assert rows(
        db, f"select count(*) from {MART} where game_id in ({', '.join('?' * len(pending))}) "
        "and (paint_attempts is not null or has_complete_shot_zones)", sorted(pending),
    ) == [(0,)]  # fmt: skip
    named = rows(
        db, f"select game_id, status from {PENDING_ROWS} where game_date = ?", [PENDING_DAY]
    )
    assert {g for g, status in named if status == "pending"} == pending

    load(raw_month_dir, db, T2)
    # what arrived between the loads, from the raw tables themselves: the scenario
    # (besides the play-by-play held back from the first load)
    assert arrived(db, ("bigdataball_play_by_play",)) == {PENDING_DAY, *NEW_DAYS}
    box = arrived(db, ("nbac_gamebook_player_stats", "bdl_player_boxscores", "nbac_team_boxscore"))
    assert box == {CORRECTED, *NEW_DAYS}
    stale = out_of_date(db, WINDOW)
    reasons = dict(rows(db, f"select game_date, reason from {VIEW} where state != 'fresh'"))
    for day in LATE_PBP:
        assert (stale[day], reasons[day]) == ("stale", "late play-by-play"), day
    assert (stale[CORRECTED], reasons[CORRECTED]) == ("stale", "box-score correction")
    for day in NEW_DAYS:
        assert (stale[day], reasons[day]) == ("missing", "never built"), day
    neighbours = set(stale) - LATE_PBP - NEW_DAYS - {CORRECTED}
    for day in neighbours:  # only the dates the team-hint rule makes dependent on Jan 19
        assert (stale[day], reasons[day]) == ("stale", "team-hint neighbour"), day
    assert len(neighbours) < 10, sorted(neighbours)

    written = sorted((tmp_path / "refresh").rglob("*"))  # by the first refresh
    dry = ok(driver(db, *refresh(db, WINDOW, "--dry-run", *as_of(T2))))
    assert planned_dates(dry) == set(stale)
    assert f"{len(stale)} to build" in dry and not dbt_started(dry)
    assert "late play-by-play: 3 days" in dry and "never built: 2 days" in dry
    assert "box-score correction: 1 day" in dry
    assert sorted((tmp_path / "refresh").rglob("*")) == written  # nothing written

    began = time.monotonic()
    built = ok(driver(db, *refresh(db, WINDOW, *as_of(T2))))
    stale_seconds = time.monotonic() - began
    assert dbt_started(built)
    assert out_of_date(db, WINDOW) == {}
    after = zone_sources(db, PENDING_DAY)
    landed = {g for (g,) in rows(db, PBP_GAMES, [PENDING_DAY])}  # (some games never get it)
    assert len(landed & pending) > len(pending) // 2
    assert {after[g] for g in landed & pending} == {"bigdataball"}
    assert mart(db) == scratch_mart

    began = time.monotonic()
    again = ok(driver(db, *refresh(db, WINDOW)))
    noop_seconds = time.monotonic() - began
    assert "nothing to build" in again and not dbt_started(again)
    print(f"refresh: stale {stale_seconds:.1f} s, nothing to do {noop_seconds:.1f} s")
    assert noop_seconds < 10  # about a second; generous for a loaded CI machine


def test_killed_backfill_without_its_state_is_finished_by_refresh(
    raw_month_dir: Path, tmp_path: Path, scratch_mart: list[Any]
) -> None:
    db = tmp_path / "nba.duckdb"
    load(raw_month_dir, db, T2)
    state_file = tmp_path / "bf" / "state.json"
    args = backfill(db, WINDOW, "--chunk-days", "8")
    share_parse_of(args)
    proc = subprocess.Popen(
        [sys.executable, "-m", "driver", *args],
        cwd=PROJECT_DIR,
        env=duckdb_env(db),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    dbt_pid = None
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            state = read_state(state_file) if state_file.exists() else None
            # the first chunk published, the next call (the rest of the window: one group)
            # under way
            running = [c.pid for c in state.chunks[1:] if c.status == RUNNING] if state else []
            if state is not None and state.chunks[0].status == SUCCESS and any(running):
                dbt_pid = next(pid for pid in running if pid)
                break
            assert proc.poll() is None, "the backfill ended before it could be killed"
            time.sleep(0.1)
        else:
            pytest.fail("the first chunk did not finish in 600 s")
    finally:
        # the container is gone: the driver and its dbt (its own process group) with it
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        if dbt_pid:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(dbt_pid, signal.SIGKILL)
    deadline = time.monotonic() + 300
    while True:
        try:
            duckdb.connect(str(db), read_only=True).close()
            break
        except duckdb.IOException:
            assert time.monotonic() < deadline, "the killed backfill's dbt still holds the file"
            time.sleep(0.5)
    shutil.rmtree(tmp_path / "bf")

    first = dt.date.fromisoformat(state.chunks[0].end)
    stale = out_of_date(db, WINDOW)
    assert stale and min(stale) > first  # the first chunk's dates are in the ledger
    dry = ok(driver(db, *refresh(db, WINDOW, "--dry-run")))
    assert planned_dates(dry) == set(stale)
    ok(driver(db, *refresh(db, WINDOW)))
    assert out_of_date(db, WINDOW) == {}
    assert mart(db) == scratch_mart
