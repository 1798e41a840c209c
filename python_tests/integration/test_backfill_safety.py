"""One writer per target, with real dbt on DuckDB: the same backfill started twice 3 s apart
runs once; the second exits 3 naming the first, or waits (--wait) and then runs; the mart
equals a single run's."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from conftest import copy_db, duckdb_env

from driver.project import PROJECT_DIR

MART = "nba_analytics.player_game_summary"
WINDOW = ("2022-01-01", "2022-01-14")


def _args(state_file: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "driver", "backfill", "--start-date", WINDOW[0],
            "--end-date", WINDOW[1], "--chunk-days", "7", "--skip-unit-tests",
            "--state-file", str(state_file), *extra]  # fmt: skip


def _run(db: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=PROJECT_DIR, env=duckdb_env(db), capture_output=True,
                          text=True, timeout=900, check=False)  # fmt: skip


def _mart(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            f"select * exclude (processed_at) from {MART} order by game_id, player_lookup"
        ).fetchall()


def test_the_same_backfill_twice_runs_once(month_db: Path, tmp_path: Path) -> None:
    single = copy_db(month_db, tmp_path / "single" / "nba.duckdb")
    one = _run(single, _args(tmp_path / "single" / "state.json"))
    assert one.returncode == 0, (one.stdout + one.stderr)[-4000:]

    db = copy_db(month_db, tmp_path / "twice" / "nba.duckdb")
    state_file = tmp_path / "twice" / "state.json"
    first = subprocess.Popen(_args(state_file), cwd=PROJECT_DIR, env=duckdb_env(db),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    time.sleep(3)
    lease = db.with_name(db.name + ".lease")
    deadline = time.monotonic() + 120  # a loaded machine may take longer to start the first
    while f'"pid": {first.pid}' not in (lease.read_text() if lease.exists() else ""):
        assert first.poll() is None and time.monotonic() < deadline, "the first took no lease"
        time.sleep(0.1)
    refused = _run(db, _args(state_file))
    assert refused.returncode == 3, (refused.stdout + refused.stderr)[-4000:]
    assert f"pid {first.pid}" in refused.stderr and "Traceback" not in refused.stderr
    waited = _run(db, _args(state_file, "--wait", "600"))
    out, err = first.communicate(timeout=900)
    assert first.returncode == 0, (out + err)[-4000:]
    assert waited.returncode == 0, (waited.stdout + waited.stderr)[-4000:]
    assert "waiting up to 600 s" in waited.stdout
    assert "to run: 0" in waited.stdout  # planned again under the lease: nothing left to build
    assert _mart(db) == _mart(single) and len(_mart(single)) > 500


def test_a_window_without_raw_rows_has_nothing_to_build(month_db: Path, tmp_path: Path) -> None:
    """January 2022 is built; August 2021 has no raw rows: nothing runs, the mart is as it
    was, exit 0."""
    db = copy_db(month_db, tmp_path / "nba.duckdb")
    built = _run(db, _args(tmp_path / "state.json"))
    assert built.returncode == 0, (built.stdout + built.stderr)[-4000:]
    before = _mart(db)
    state_file = tmp_path / "empty" / "state.json"
    empty = _run(db, [sys.executable, "-m", "driver", "backfill", "--start-date", "2021-08-01",
                      "--end-date", "2021-08-31", "--state-file", str(state_file)])  # fmt: skip
    assert empty.returncode == 0, (empty.stdout + empty.stderr)[-4000:]
    assert "nothing to build: the raw tables hold no rows in 2021-08-01..2021-08-31" in empty.stdout
    assert not (state_file.parent / "runs").exists()  # no dbt process ran
    assert _mart(db) == before


def test_a_failed_audit_names_the_relation_left_for_inspection(
    month_db: Path, tmp_path: Path
) -> None:
    """A 999-point line fails the audit of its chunk: the chunk fails, the mart is not
    published for it, and the run's output, its report and `status` name the audit relation."""
    db = copy_db(month_db, tmp_path / "nba.duckdb")
    with duckdb.connect(str(db)) as con:
        con.execute(
            "update nba_raw.nbac_gamebook_player_stats set points = 999 where game_date = "
            "'2022-01-10' and player_lookup = (select min(player_lookup) from "
            "nba_raw.nbac_gamebook_player_stats where game_date = '2022-01-10' "
            "and player_status = 'active')"
        )
    state_file = tmp_path / "bf" / "state.json"
    failed = _run(db, _args(state_file, "--max-attempts", "1"))
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


def test_sigterm_during_the_validation_ends_dbt_test_and_frees_the_database(
    month_db: Path, tmp_path: Path
) -> None:
    """Both chunks built, `dbt test` validating the window: SIGTERM ends it (it would hold
    DuckDB's lock), writes state and report, exits 143 with one line."""
    db = copy_db(month_db, tmp_path / "nba.duckdb")
    state_file = tmp_path / "bf" / "state.json"
    proc = subprocess.Popen(_args(state_file), cwd=PROJECT_DIR, env=duckdb_env(db),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
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
