"""`refresh` end to end: real dbt, real DuckDB, the build ledger and its staleness view.

The timeline of the issue: January 2022 (conftest.raw_month_dir) is loaded as it had arrived
by the 15th, backfilled, then loaded as of three days later: the new games' dates show as
missing, built dates with late play-by-play or corrections as stale. `refresh --dry-run` over
the built dates lists exactly the dates the view says are out of date, `refresh` rebuilds
them, the mart then equals a build from scratch of the same raw data, and a second refresh
builds nothing. And: a backfill killed after its first chunk, its state directory deleted,
is finished by a refresh that builds only the dates not yet built.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import RAW_MONTH, duckdb_env

from driver.backfill.state import SUCCESS, read_state
from driver.dbt.invoke import run_dbt, window_vars
from driver.project import PROJECT_DIR

MART = "nba_analytics.player_game_summary"
VIEW = "nba_analytics.build_staleness"
MONTH = (RAW_MONTH[0], RAW_MONTH[1])
# Raw data as it had arrived by T1 and T2; a backfill or refresh covers the days up to then
# (later days have no games yet: an empty regular-season day fails the gap test).
T1, T2 = "2022-01-15T12:00:00Z", "2022-01-18T12:00:00Z"
UNTIL_T1, SINCE_T1 = (MONTH[0], "2022-01-15"), ("2022-01-16", "2022-01-18")
# chunks of a dry run's plan: "  2022-01-13..2022-01-18 (6 days, pending)"
PLANNED = re.compile(r"^  (\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2}) \(\d+ days?, pending\)$")


def driver(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
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
        f"select game_date, state from {VIEW} where state != 'fresh' "
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


def scratch_build(
    raw_month_dir: Path, db: Path, window: tuple[str, str], *load_args: str
) -> list[tuple[object, ...]]:
    """The mart of one plain dbt build of `window` from the raw data loaded with load_args."""
    ok(driver(db, "load", "--from", str(raw_month_dir), "--target", "dev", *load_args))
    result = run_dbt(
        ["build", "--select", "+player_game_summary", "--exclude-resource-type", "unit_test"],
        target="dev",
        run_dir=db.parent / "scratch_run",
        vars_json=window_vars(*window),
        env={"NBA_DUCKDB_PATH": str(db)},
    )
    assert result.ok, result.output[-4000:]
    return mart(db)


def dates(window: tuple[str, str]) -> list[str]:
    return ["--start-date", window[0], "--end-date", window[1]]


def backfill(db: Path, window: tuple[str, str], *extra: str) -> list[str]:
    return ["backfill", *dates(window), "--state-file", str(db.parent / "bf" / "state.json"),
            "--skip-unit-tests", *extra]  # fmt: skip


def refresh(db: Path, window: tuple[str, str], *extra: str) -> list[str]:
    return ["refresh", *dates(window), "--state-dir", str(db.parent / "refresh"), *extra]


def test_late_data_timeline_refresh_rebuilds_exactly_what_is_stale(
    raw_month_dir: Path, tmp_path: Path
) -> None:
    db = tmp_path / "nba.duckdb"
    ok(driver(db, "load", "--from", str(raw_month_dir), "--target", "dev", "--as-of", T1))
    ok(driver(db, *backfill(db, UNTIL_T1)))
    assert out_of_date(db, UNTIL_T1) == {}  # everything that had arrived is built

    ok(driver(db, "load", "--from", str(raw_month_dir), "--target", "dev", "--as-of", T2))
    new_games = out_of_date(db, SINCE_T1)
    assert new_games and set(new_games.values()) == {"missing"}  # games played since
    # The refresh covers the dates up to T1 (late data for built dates; the 15th, scheduled at
    # T1, now has its games; all their play-by-play has landed by T2); the newest
    # dates would fail the shot-zone coverage test while their play-by-play is pending.
    stale = out_of_date(db, UNTIL_T1)
    assert "stale" in stale.values() and set(stale.values()) <= {"stale", "missing"}

    dry = ok(driver(db, *refresh(db, UNTIL_T1, "--dry-run")))
    assert planned_dates(dry) == set(stale)
    assert f"{len(stale)} to build" in dry and not dbt_started(dry)
    assert not (tmp_path / "refresh").exists()

    began = time.monotonic()
    built = ok(driver(db, *refresh(db, UNTIL_T1)))
    stale_seconds = time.monotonic() - began
    assert dbt_started(built)
    assert out_of_date(db, UNTIL_T1) == {}
    scratch = tmp_path / "scratch.duckdb"
    assert mart(db) == scratch_build(raw_month_dir, scratch, UNTIL_T1, "--as-of", T2)

    began = time.monotonic()
    again = ok(driver(db, *refresh(db, UNTIL_T1)))
    noop_seconds = time.monotonic() - began
    assert "nothing to build" in again and not dbt_started(again)
    print(f"refresh: stale {stale_seconds:.1f} s, nothing to do {noop_seconds:.1f} s")
    assert noop_seconds < 10  # about a second; generous for a loaded CI machine


def test_killed_backfill_without_its_state_is_finished_by_refresh(
    raw_month_dir: Path, tmp_path: Path
) -> None:
    db = tmp_path / "nba.duckdb"
    ok(driver(db, "load", "--from", str(raw_month_dir), "--target", "dev"))
    state_file = tmp_path / "bf" / "state.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "driver", *backfill(db, MONTH, "--chunk-days", "10")],
        cwd=PROJECT_DIR,
        env=duckdb_env(db),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            state = read_state(state_file) if state_file.exists() else None
            if state is not None and state.chunks[0].status == SUCCESS:
                break
            assert proc.poll() is None, "the backfill ended before it could be killed"
            time.sleep(0.2)
        else:
            pytest.fail("the first chunk did not finish in 600 s")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    shutil.rmtree(tmp_path / "bf")

    first = dt.date.fromisoformat(state.chunks[0].end)
    stale = out_of_date(db, MONTH)
    assert stale and min(stale) > first  # the first chunk's dates are in the ledger
    dry = ok(driver(db, *refresh(db, MONTH, "--dry-run")))
    assert planned_dates(dry) == set(stale)
    ok(driver(db, *refresh(db, MONTH)))
    assert out_of_date(db, MONTH) == {}
    assert mart(db) == scratch_build(raw_month_dir, tmp_path / "scratch.duckdb", MONTH)
