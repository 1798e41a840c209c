"""Issue 13 with real dbt on DuckDB (generated January 2022): one writer per target, nothing
built from an empty window, a failed audit left for inspection, signals in the validation,
kill -9 during the mart's publish.

One clean build of WINDOW (the driver, one chunk) is made once per module (`clean`): it is the
reference every test compares with, and the starting database of the tests that need a built
mart (a copy each). Each test runs as few dbt processes as it can.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import copy_db, duckdb_env, mart_duplicates, share_parse_of

from driver.backfill.state import RUNNING, SUCCESS, read_state
from driver.project import PROJECT_DIR

MART = "nba_analytics.player_game_summary"
MART_NODE = "model.nba_analytics.player_game_summary"
WINDOW = ("2022-01-01", "2022-01-14")


def _args(state_file: Path, *extra: str, window: tuple[str, str] = WINDOW) -> list[str]:
    return [sys.executable, "-m", "driver", "backfill", "--start-date", window[0],
            "--end-date", window[1], "--skip-unit-tests", "--state-file", str(state_file),
            *extra]  # fmt: skip


def _run(db: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    share_parse_of(args)
    return subprocess.run(args, cwd=PROJECT_DIR, env=duckdb_env(db), capture_output=True,
                          text=True, timeout=900, check=False)  # fmt: skip


def _start(db: Path, args: list[str]) -> subprocess.Popen[str]:
    """The driver in its own process group (so the test can kill the group)."""
    share_parse_of(args)
    return subprocess.Popen(args, cwd=PROJECT_DIR, env=duckdb_env(db), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, process_group=0)  # fmt: skip


def _mart(db: Path, where: str = "true") -> list[tuple]:
    """The mart's rows without processed_at (a build timestamp), in key order."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            f"select * exclude (processed_at) from {MART} where {where} "
            "order by game_id, player_lookup"
        ).fetchall()


def _untouched(db: Path) -> list[tuple]:
    """Every mart row, processed_at included: equal only if nothing was rewritten."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(f"select * from {MART} order by game_id, player_lookup").fetchall()


def _wait_until_free(db: Path) -> None:
    """Wait until nothing holds DuckDB file `db` (a killed process frees its lock only once all
    its threads have ended, which can be after its pid shows as a zombie)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            duckdb.connect(str(db)).close()
            return
        except duckdb.IOException:
            assert time.monotonic() < deadline, f"{db} still locked a minute after the kill"
            time.sleep(0.2)


@pytest.fixture(scope="module")
def clean(month_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """WINDOW built by one backfill of one chunk (its build is its validation). Read only."""
    base = tmp_path_factory.mktemp("safety_clean")
    db = copy_db(month_db, base / "nba.duckdb")
    built = _run(db, _args(base / "state.json", "--chunk-days", "14"))
    assert built.returncode == 0, (built.stdout + built.stderr)[-4000:]
    assert len(_mart(db)) > 1000
    return db


def test_the_same_backfill_twice_runs_once(month_db: Path, clean: Path, tmp_path: Path) -> None:
    """Started twice 3 s apart: the second exits 3 naming the first; with --wait it waits,
    plans again under the lease and finds nothing left; the mart equals a single run's."""
    db = copy_db(month_db, tmp_path / "nba.duckdb")
    args = _args(tmp_path / "state.json", "--chunk-days", "14")
    first = _start(db, args)
    started = time.monotonic()
    lease = db.with_name(db.name + ".lease")
    deadline = started + 120  # a loaded machine may take longer to start the first
    while f'"pid": {first.pid}' not in (lease.read_text() if lease.exists() else ""):
        assert first.poll() is None and time.monotonic() < deadline, "the first took no lease"
        time.sleep(0.1)
    time.sleep(max(0.0, 3 - (time.monotonic() - started)))
    refused = _run(db, args)
    assert refused.returncode == 3, (refused.stdout + refused.stderr)[-4000:]
    assert f"pid {first.pid}" in refused.stderr and "Traceback" not in refused.stderr
    assert first.poll() is None, "the first ended before the second was refused"
    waited = _run(db, [*args, "--wait", "600", "--skip-validation"])
    out, err = first.communicate(timeout=900)
    assert first.returncode == 0, (out + err)[-4000:]
    assert waited.returncode == 0, (waited.stdout + waited.stderr)[-4000:]
    assert "waiting up to 600 s" in waited.stdout
    assert "to run: 0" in waited.stdout  # planned again under the lease: nothing left to build
    assert _mart(db) == _mart(clean)


def test_a_ten_year_window_without_raw_rows_has_nothing_to_build(
    clean: Path, tmp_path: Path
) -> None:
    """2000..2009 has no raw rows: no dbt process runs, the mart is as it was (to the
    processed_at), exit 0, and the run says so."""
    db = copy_db(clean, tmp_path / "nba.duckdb")
    before = _untouched(db)
    state_file = tmp_path / "empty" / "state.json"
    empty = _run(db, _args(state_file, window=("2000-01-01", "2009-12-31")))
    assert empty.returncode == 0, (empty.stdout + empty.stderr)[-4000:]
    assert "nothing to build: the raw tables hold no rows in 2000-01-01..2009-12-31" in empty.stdout
    assert "days built" not in empty.stdout and "validation OK" not in empty.stdout
    assert not (state_file.parent / "runs").exists()  # no dbt process ran
    assert _untouched(db) == before


def test_a_failed_audit_names_the_relation_left_for_inspection(clean: Path, tmp_path: Path) -> None:
    """A 999-point line fails the audit of its chunk: the chunk fails, the mart keeps its rows,
    and the run's output, its report and `status` name the audit relation."""
    db = copy_db(clean, tmp_path / "nba.duckdb")
    before = _untouched(db)
    with duckdb.connect(str(db)) as con:
        con.execute(
            "update nba_raw.nbac_gamebook_player_stats set points = 999 where game_date = "
            "'2022-01-10' and player_lookup = (select min(player_lookup) from "
            "nba_raw.nbac_gamebook_player_stats where game_date = '2022-01-10' "
            "and player_status = 'active')"
        )
    state_file = tmp_path / "bf" / "state.json"
    week = ("2022-01-08", "2022-01-14")
    failed = _run(db, _args(state_file, "--max-attempts", "1", window=week))
    assert failed.returncode == 1, (failed.stdout + failed.stderr)[-4000:]
    named = "left for inspection: nba_audit.player_game_summary__audit"
    assert named in failed.stdout
    report = next(state_file.parent.glob("run_*.json")).read_text()
    assert named in report
    status = _run(db, [sys.executable, "-m", "driver", "status", "--state-file", str(state_file)])
    assert status.returncode == 1 and named in status.stdout
    with duckdb.connect(str(db), read_only=True) as con:
        kept = con.execute(
            "select count(*) from nba_audit.player_game_summary__audit where points = 999"
        ).fetchone()
    assert kept == (1,)
    assert _untouched(db) == before


def test_sigterm_during_the_validation_ends_dbt_test_and_frees_the_database(
    month_db: Path, tmp_path: Path
) -> None:
    """Both chunks built, `dbt test` validating the window: SIGTERM ends it (it would hold
    DuckDB's lock), writes state and report, exits 143 with one line."""
    db = copy_db(month_db, tmp_path / "nba.duckdb")
    state_file = tmp_path / "bf" / "state.json"
    proc = _start(db, _args(state_file, "--chunk-days", "2", window=("2022-01-01", "2022-01-04")))
    deadline = time.monotonic() + 600
    while not list(state_file.parent.glob("runs/*/validation/dbt_output.log")):
        assert proc.poll() is None and time.monotonic() < deadline, "no validation started"
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, (out + err)[-4000:]
    assert "Traceback" not in out + err
    assert "SIGTERM during the validation: stopped; chunks 2 success" in err
    assert len(list(state_file.parent.glob("run_*.json"))) == 1
    with duckdb.connect(str(db)) as con:  # read-write: no dbt process holds the file
        assert con.execute(f"select count(*) from {MART}").fetchone() != (0,)


def _stop_in_the_publish(log: Path, dbt_pid: int, deadline: float) -> None:
    """Read dbt's debug log as it grows; SIGSTOP dbt's process group the moment the mart's
    publish transaction is open, so the test can look before killing it."""
    began = f"On {MART_NODE}: BEGIN".encode()  # window_replace's transaction is open
    offset, pending = 0, b""
    while time.monotonic() < deadline:
        if log.exists():
            with open(log, "rb") as fh:
                fh.seek(offset)
                data = fh.read()
            offset += len(data)
            lines = (pending + data).split(b"\n")
            pending = lines.pop()
            if any(line.rstrip().endswith(began) for line in lines):
                os.killpg(dbt_pid, signal.SIGSTOP)
                return
        time.sleep(0.002)
    raise AssertionError(f"the mart's publish never began ({log})")


def test_kill_9_during_the_publish_then_resume_gives_the_clean_table(
    month_db: Path, clean: Path, tmp_path: Path
) -> None:
    """Two chunks; chunk 1 is published, then, once dbt's log shows chunk 2's publish
    transaction open (window_replace: delete the window, insert the audited rows, commit),
    before its commit, the driver and dbt are killed with SIGKILL. The mart holds chunk 1
    whole and nothing of chunk 2 (the transaction rolled back); the resume redoes chunk 2
    only, and the table equals a clean build, without duplicates."""
    db = copy_db(month_db, tmp_path / "nba.duckdb")
    state_file = tmp_path / "bf" / "state.json"
    args = _args(state_file, "--chunk-days", "7", "--skip-validation")
    driver = _start(db, args)
    deadline = time.monotonic() + 600
    while True:
        state = read_state(state_file) if state_file.exists() else None
        if state and state.chunks[0].status == SUCCESS and state.chunks[1].pid:
            break
        assert driver.poll() is None and time.monotonic() < deadline, "chunk 2 never started"
        time.sleep(0.05)
    dbt_pid = state.chunks[1].pid
    # run_dbt made the chunk's directory before it started dbt
    log = next(state_file.parent.glob("runs/*/chunk_2022-01-08_2022-01-14")) / "logs" / "dbt.log"
    try:
        _stop_in_the_publish(log, dbt_pid, deadline)
        text = log.read_text(errors="replace")
        assert f"On {MART_NODE}: COMMIT" not in text, "the publish committed before the stop"
    finally:  # a crash: the driver and its dbt die at once, nothing ends cleanly
        for group in (driver.pid, dbt_pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
        driver.communicate(timeout=30)
    _wait_until_free(db)
    state = read_state(state_file)
    assert state is not None and [c.status for c in state.chunks] == [SUCCESS, RUNNING]

    first_week, second_week = "game_date <= '2022-01-07'", "game_date >= '2022-01-08'"
    assert _mart(db, first_week) == _mart(clean, first_week)  # chunk 1 published whole
    assert _mart(db, second_week) == []  # chunk 2: nothing half-published

    resumed = _run(db, args)
    assert resumed.returncode == 0, (resumed.stdout + resumed.stderr)[-4000:]
    assert "resuming" in resumed.stdout
    state = read_state(state_file)
    assert state is not None and all(c.status == SUCCESS for c in state.chunks)
    assert state.chunks[0].attempts == 1  # the chunk published before the kill is not redone
    assert _mart(db) == _mart(clean)
    assert mart_duplicates(db) == 0


def test_a_raw_row_without_a_date_fails_every_window_and_publishes_nothing(
    clean: Path, tmp_path: Path
) -> None:
    """A gamebook row with a NULL game_date is in no window; the not-null check on raw
    game_date reads the whole table, so a build of any other week fails naming the table and
    column, and the mart keeps its rows."""
    db = copy_db(clean, tmp_path / "nba.duckdb")
    before = _untouched(db)
    with duckdb.connect(str(db)) as con:
        con.execute(
            "insert into nba_raw.nbac_gamebook_player_stats select * replace (null as game_date) "
            "from nba_raw.nbac_gamebook_player_stats where game_date = '2022-01-20' limit 1"
        )
    state_file = tmp_path / "bf" / "state.json"
    failed = _run(db, _args(state_file, "--max-attempts", "1", window=("2022-01-08", "2022-01-14")))
    assert failed.returncode == 1, (failed.stdout + failed.stderr)[-4000:]
    assert "source_not_null_nba_raw_nbac_gamebook_player_stats_game_date" in failed.stdout
    assert "Traceback" not in failed.stdout + failed.stderr
    assert _untouched(db) == before


def test_one_game_without_play_by_play_is_named_and_blocks_the_publish_when_overdue(
    clean: Path, tmp_path: Path
) -> None:
    """One game of a day loses its play-by-play in both sources: the window's zone coverage
    still passes, but the per-game check names the game; overdue (late_data_overdue: error)
    it fails the audit and the day keeps its published zones."""
    db = copy_db(clean, tmp_path / "nba.duckdb")
    with duckdb.connect(str(db)) as con:
        day, game, games = con.execute(  # a day whose games all have play-by-play
            f"select game_date, min(game_id), count(distinct game_id) from {MART} "
            "where game_date between '2022-01-08' and '2022-01-14' group by game_date "
            "having count(distinct game_id) >= 5 and "
            "count(*) filter (where shot_zone_source = 'none') = 0 "
            "order by game_date limit 1"
        ).fetchone()  # type: ignore[misc]
        for table in ("bigdataball_play_by_play", "nbac_play_by_play"):
            con.execute(f"delete from nba_raw.{table} where game_id = ?", [game])
    before = _untouched(db)
    state_file = tmp_path / "bf" / "state.json"
    day_window = (day.isoformat(), day.isoformat())
    failed = _run(db, _args(state_file, "--max-attempts", "1", "--vars",
                            "{late_data_overdue: error}", window=day_window))  # fmt: skip
    assert failed.returncode == 1, (failed.stdout + failed.stderr)[-4000:]
    assert "pgs_pbp_landed_or_pending" in failed.stdout
    with duckdb.connect(str(db), read_only=True) as con:
        named = con.execute(
            "select game_id, status from nba_test_failures.pgs_pbp_landed_or_pending"
        ).fetchall()
    assert named == [(game, "overdue")], f"{games} games on {day}"
    assert _untouched(db) == before
