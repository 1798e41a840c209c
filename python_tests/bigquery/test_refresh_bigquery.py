"""Issue 14's timeline on the BigQuery emulator, refresh with two workers.

November 2023 (seed 42). At T1 (Nov 10 00:00) the box scores up to Nov 8 have landed and
BigDataBall's play-by-play up to Nov 7 (it lands at game day + 70 h); BigDataBall's delivery
of one game of Nov 2 and one of Nov 5 is held back too. The window is built (one chunk) with
Nov 8's games pending. Loaded again as of T2 = T1 + 3 days: late play-by-play on
three scattered dates (Nov 2, 5, 8), the gamebook correction of Nov 7 (with the team-hint
neighbours the rule makes dependent), two new game days (Nov 9, 10; Nov 11 has no games and
Nov 12's have not been played at T2: not built). `refresh --dry-run` lists exactly the view's
out-of-date dates with their reasons, `refresh --workers 2` rebuilds them, the mart then equals
a full build of the same raw data (on DuckDB, compared value by value like the parity test), and
a second refresh builds nothing.

Run with `bash scripts/test_bigquery.sh -k refresh` (a fresh emulator); skipped without one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from bigquery.test_bigquery_parity import (  # the parity test's comparator
    bigquery_rows,
    compare_tables,
    duckdb_rows,
    mart_key,
    mart_scales,
)
from conftest import share_parse_of

from driver.project import PROJECT_DIR

pytestmark = pytest.mark.bigquery

SEED = "42"
RAW = ("2023-11-01", "2023-11-20")
T1, T2 = "2023-11-10T00:00:00Z", "2023-11-13T00:00:00Z"
BUILT = ("2023-11-01", "2023-11-08")  # box scores landed by T1
WINDOW = ("2023-11-01", "2023-11-12")  # the refresh at T2
HELD_BACK = ("2023-11-02", "2023-11-05")  # BigDataBall late on one game of each
PENDING_DAY = "2023-11-08"  # its BigDataBall play-by-play lands after T1
LATE_PBP = {*HELD_BACK, PENDING_DAY}
CORRECTED = "2023-11-07"  # a gamebook row re-issued at game day + 3.5 days
NEW_DAYS = {"2023-11-09", "2023-11-10"}
NOT_PLAYED = "2023-11-12"  # scheduled, its games not played at T2
MART = "nba_analytics.player_game_summary"
VIEW = "nba_analytics.build_staleness"
# "  2023-11-04..2023-11-05 (2 days, pending)  would process 0 B" (the dry-run estimate)
PLANNED = re.compile(r"^  (\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2}) \(\d+ days?, pending\)")


def driver(env: dict[str, str], log: Path, *args: str) -> str:
    share_parse_of(args)
    proc = subprocess.run(
        [sys.executable, "-m", "driver", *args],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    log.write_text(proc.stdout)
    assert proc.returncode == 0, f"driver {' '.join(args)} ({log}):\n{proc.stdout[-6000:]}"
    return proc.stdout


def dates(window: tuple[str, str]) -> list[str]:
    return ["--start-date", window[0], "--end-date", window[1]]


def clock(when: str) -> list[str]:
    return ["--vars", json.dumps({"as_of": when})]


def planned(stdout: str) -> set[str]:
    days: set[str] = set()
    for line in stdout.splitlines():
        m = PLANNED.match(line)
        if m:
            day, end = dt.date.fromisoformat(m.group(1)), dt.date.fromisoformat(m.group(2))
            while day <= end:
                days.add(day.isoformat())
                day += dt.timedelta(days=1)
    return days


def view() -> dict[str, tuple[str, str]]:
    rows = bigquery_rows(
        f"select cast(game_date as string) as d, state, reason from {VIEW} "
        f"where game_date between date '{WINDOW[0]}' and date '{WINDOW[1]}'"
    )
    return {str(r["d"]): (str(r["state"]), str(r["reason"])) for r in rows}


def out_of_date() -> dict[str, tuple[str, str]]:
    return {d: v for d, v in view().items() if v[0] not in ("fresh", "scheduled")}


@pytest.mark.skipif(not os.environ.get("BQEMU_ENDPOINT"), reason="needs the BigQuery emulator")
def test_refresh_timeline_with_two_workers(tmp_path: Path) -> None:
    from driver.warehouse.bigquery import client_for_target

    env = {**os.environ, "NBA_DUCKDB_PATH": str(tmp_path / "full.duckdb")}
    raw = tmp_path / "raw"
    driver(env, tmp_path / "generate.log", "generate", *dates(RAW), "--seed", SEED,
           "--out", str(raw))  # fmt: skip
    client = client_for_target("bq_local")
    # a clean start: other tests of the session built other windows
    client.delete_dataset(f"{client.project}.nba_analytics", delete_contents=True,
                          not_found_ok=True)  # fmt: skip
    load = ["load", "--from", str(raw), "--target", "bq_local"]
    driver(env, tmp_path / "load_t1.log", *load, "--mode", "replace-all", "--as-of", T1)
    for day in HELD_BACK:  # one game's delivery of each date (a whole date, overdue at T1,
        # would bring a one-chunk window's shot-zone coverage near its error bound)
        client.query(
            "delete from nba_raw.bigdataball_play_by_play where game_id = (select min(game_id) "
            f"from nba_raw.bigdataball_play_by_play where game_date = date '{day}')"
        ).result()
    bq = ["--target", "bq_local", "--workers", "2"]
    driver(env, tmp_path / "backfill.log", "backfill", *dates(BUILT), *bq, "--chunk-days", "8",
           "--no-resume", "--state-file", str(tmp_path / "bf" / "state.json"),
           *clock(T1))  # fmt: skip
    pending = bigquery_rows(
        f"select count(distinct game_id) as n from {MART} "
        f"where game_date = date '{PENDING_DAY}' and shot_zone_source = 'none'"
    )
    assert int(str(pending[0]["n"])) > 0  # published with its play-by-play pending
    assert out_of_date() == {}

    driver(env, tmp_path / "load_t2.log", *load, "--as-of", T2)
    stale = out_of_date()
    for day in LATE_PBP:
        assert stale[day] == ("stale", "late play-by-play"), (day, stale)
    assert stale[CORRECTED] == ("stale", "box-score correction"), stale
    for day in NEW_DAYS:
        assert stale[day] == ("missing", "never built"), (day, stale)
    for day in set(stale) - LATE_PBP - NEW_DAYS - {CORRECTED}:
        assert stale[day] == ("stale", "team-hint neighbour"), (day, stale)
    assert view()[NOT_PLAYED] == ("scheduled", "not played yet")

    refresh = ["refresh", *dates(WINDOW), *bq, "--state-dir", str(tmp_path / "refresh")]
    dry = driver(env, tmp_path / "dry.log", *refresh, "--dry-run", *clock(T2))
    assert planned(dry) == set(stale), dry
    assert "late play-by-play: 3 days" in dry and "never built: 2 days" in dry, dry
    assert "box-score correction: 1 day" in dry, dry
    driver(env, tmp_path / "refresh.log", *refresh, *clock(T2))
    assert out_of_date() == {}
    again = driver(env, tmp_path / "noop.log", *refresh, *clock(T2))
    assert "nothing to build" in again and "[backfill] start" not in again, again

    # the same raw data built from scratch (DuckDB, one chunk), compared value by value
    driver(env, tmp_path / "load_dev.log", "load", "--from", str(raw), "--target", "dev",
           "--as-of", T2)  # fmt: skip
    driver(env, tmp_path / "full.log", "backfill", "--start-date", WINDOW[0], "--end-date",
           max(NEW_DAYS), "--target", "dev", "--chunk-days", "400", "--no-resume",
           "--state-file", str(tmp_path / "full" / "state.json"), "--skip-unit-tests",
           *clock(T2))  # fmt: skip
    sql = f"select * from {MART} where game_date between date '{WINDOW[0]}' and date '{WINDOW[1]}'"
    left, right = bigquery_rows(sql), duckdb_rows(tmp_path / "full.duckdb", sql)
    assert right
    problems = compare_tables(left, right, mart_key(), scales=mart_scales(),
                              exclude={"processed_at"})  # fmt: skip
    assert not problems, "\n".join(problems[:40])
