"""The backfill driver end to end: real dbt, real DuckDB, synthetic raw data.

One quarter (2022-01-01..2022-03-31, seed 7) is generated and loaded once per session
(conftest.quarter_db); each test copies the DuckDB file and points NBA_DUCKDB_PATH at the
copy, so nothing touches warehouse/nba.duckdb or the project's target/ dir.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import RAW_QUARTER, copy_db, duckdb_env, mart_duplicates, parse_cache, share_parse_of

from driver.backfill.state import FAILED, RUNNING, SUCCESS, read_state
from driver.dbt.invoke import run_dbt
from driver.project import PROJECT_DIR

MART = "nba_analytics.player_game_summary"
QUARTER = RAW_QUARTER[:2]
# The dbt unit tests run in a backfill's build in test_one_chunk_is_one_dbt_build...; the other
# backfills here leave them out (--skip-unit-tests), as test_backfill_safety's do: they test
# chunks, failures and resume, and the unit tests' outcome does not depend on the window.
# The reference build makes rows only: the unit and data tests are the driver's to run.
ROWS_ONLY = ("--exclude-resource-type", "unit_test", "test")
_env = duckdb_env


def _driver(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    share_parse_of(args)
    return subprocess.run(
        [sys.executable, "-m", "driver", *args],
        cwd=PROJECT_DIR,
        env=_env(db),
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )


def _rows(db: Path, start: str, end: str) -> list[tuple]:
    sql = (
        f"select * exclude (processed_at) from {MART} "
        f"where game_date between date '{start}' and date '{end}' order by game_id, player_lookup"
    )
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def reference_db(quarter_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quarter built by one plain `dbt build` over the whole window (rows only)."""
    db = copy_db(quarter_db, tmp_path_factory.mktemp("e2e_reference") / "nba.duckdb")
    result = run_dbt(
        ["build", "--select", "+player_game_summary", *ROWS_ONLY],
        target="dev",
        run_dir=db.parent / "reference_run",
        window=QUARTER,
        parse_cache=parse_cache(),
        env=duckdb_env(db),
    )
    assert result.ok, result.output[-4000:]
    return db


@pytest.fixture
def db(quarter_db: Path, tmp_path: Path) -> Path:
    return copy_db(quarter_db, tmp_path / "nba.duckdb")


def test_quarter_in_30_day_chunks_equals_one_window_build(
    db: Path, reference_db: Path, tmp_path: Path
) -> None:
    state_file = tmp_path / "bf" / "state.json"
    proc = _driver(db, "backfill", "--start-date", QUARTER[0], "--end-date", QUARTER[1],
                   "--chunk-days", "30", "--state-file", str(state_file),
                   "--skip-unit-tests")  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    state = read_state(state_file)
    # boundaries inside months (Jan 30 | Jan 31, Mar 1 | Mar 2): chunks are not calendar-aligned
    assert state is not None and len(state.chunks) == 3
    assert all(c.status == SUCCESS and c.attempts == 1 for c in state.chunks)
    expected = _rows(reference_db, *QUARTER)
    assert len(expected) > 1000
    assert _rows(db, *QUARTER) == expected
    assert mart_duplicates(db) == 0
    assert all(c.rows is None for c in state.chunks)  # dbt-duckdb reports no rows_affected
    report = json.loads(next(state_file.parent.glob("run_*.json")).read_text())
    assert report["run"]["exit_code"] == 0 and report["run"]["validation_ok"] is True


def _report_lines(output: str) -> list[str]:
    """The rows of the plain validation table (status, check, measured, band)."""
    return sorted(line for line in output.splitlines() if re.match(r"(PASS|WARN|FAIL)  ", line))


def test_one_chunk_is_one_dbt_build_whose_tests_are_the_validation(
    db: Path, reference_db: Path, tmp_path: Path
) -> None:
    """The whole window in one chunk: one dbt call (unit tests in the build, no second
    test run), and its report is what `validate` reports for the window."""
    state_file = tmp_path / "bf" / "state.json"
    args = ["backfill", "--start-date", QUARTER[0], "--end-date", QUARTER[1], "--chunk-days",
            "90", "--state-file", str(state_file), "--no-resume"]  # fmt: skip
    proc = _driver(db, *args)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert _rows(db, *QUARTER) == _rows(reference_db, *QUARTER)
    report = json.loads(next(state_file.parent.glob("run_*.json")).read_text())
    runs = Path(report["run"]["runs_dir"])
    assert [p.name for p in runs.iterdir()] == [f"chunk_{QUARTER[0]}_{QUARTER[1]}"]
    results = json.loads((runs / f"chunk_{QUARTER[0]}_{QUARTER[1]}/target/run_results.json")
                         .read_text())["results"]  # fmt: skip
    assert sum(r["unique_id"].startswith("unit_test.") for r in results) >= 9
    lines = _report_lines(out)
    assert len(lines) == sum(r["unique_id"].startswith("test.") for r in results) > 60
    null_rate = next(line for line in lines if "Minutes NULL share" in line)
    assert "% (" in null_rate, null_rate  # the measurement the on-run-end hook logged

    validate = _driver(db, "validate", "--start-date", QUARTER[0], "--end-date", QUARTER[1])
    assert validate.returncode == 0, validate.stdout[-4000:]
    assert _report_lines(validate.stdout) == lines

    # A second run with the same state dir: the unit tests passed for this project already.
    proc = _driver(db, *args)
    assert proc.returncode == 0 and "not rerun" in proc.stdout, proc.stdout[-4000:]
    again = sorted(state_file.parent.glob("run_*.json"))[-1]
    runs = Path(json.loads(again.read_text())["run"]["runs_dir"])
    results = json.loads(next(runs.glob("chunk_*/target/run_results.json")).read_text())
    assert not [r for r in results["results"] if r["unique_id"].startswith("unit_test.")]
    assert _report_lines(proc.stdout) == lines


def test_sigkill_mid_run_then_resume_gives_the_same_table(
    db: Path, reference_db: Path, tmp_path: Path
) -> None:
    window = ("2022-01-01", "2022-01-21")
    state_file = tmp_path / "bf" / "state.json"
    args = [sys.executable, "-m", "driver", "backfill", "--start-date", window[0],
            "--end-date", window[1], "--chunk-days", "7", "--state-file", str(state_file),
            "--skip-validation", "--skip-unit-tests"]  # fmt: skip
    share_parse_of(args)
    proc = subprocess.Popen(
        args, cwd=PROJECT_DIR, env=_env(db), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 300
    killed_during = None
    while time.monotonic() < deadline and proc.poll() is None:
        state = read_state(state_file) if state_file.exists() else None
        second = state.chunks[1] if state else None
        if state and state.chunks[0].status == SUCCESS and second and second.pid:
            time.sleep(1.5)  # let dbt get into the chunk's build
            proc.send_signal(signal.SIGKILL)
            killed_during = second.label
            break
        time.sleep(0.05)
    proc.wait(timeout=30)
    assert killed_during, "the driver finished before it could be killed"
    state = read_state(state_file)
    assert state is not None and state.chunks[1].status == RUNNING  # left as the kill found it

    resumed = subprocess.run(args, cwd=PROJECT_DIR, env=_env(db), capture_output=True, text=True,
                             check=False, timeout=900)  # fmt: skip
    assert resumed.returncode == 0, (resumed.stdout + resumed.stderr)[-6000:]
    assert "resuming" in resumed.stdout
    state = read_state(state_file)
    assert state is not None and all(c.status == SUCCESS for c in state.chunks)
    assert state.chunks[0].attempts == 1  # the chunk built before the kill is not redone
    assert _rows(db, *window) == _rows(reference_db, *window)
    assert mart_duplicates(db) == 0


def test_failing_chunk_is_recorded_others_complete_then_retry_failed(
    db: Path, reference_db: Path, tmp_path: Path
) -> None:
    window = ("2022-01-01", "2022-01-21")
    bad_day = "2022-01-10"
    table = "nba_raw.nbac_gamebook_player_stats"
    with duckdb.connect(str(db)) as con:  # a status the raw contract does not allow
        con.execute(
            f"insert into {table} select * replace ('on_vacation' as player_status) "
            f"from {table} where game_date = date '{bad_day}' limit 1"
        )
    state_file = tmp_path / "bf" / "state.json"
    base = ["backfill", "--start-date", window[0], "--end-date", window[1], "--chunk-days", "7",
            "--state-file", str(state_file), "--skip-validation", "--skip-unit-tests"]  # fmt: skip
    proc = _driver(db, *base)
    assert proc.returncode == 1, (proc.stdout + proc.stderr)[-6000:]
    state = read_state(state_file)
    assert state is not None
    assert [c.status for c in state.chunks] == [SUCCESS, FAILED, SUCCESS]
    error = state.chunks[1].error or ""
    assert "accepted_values" in error and "player_status" in error, error
    assert "--retry-failed" in proc.stdout

    with duckdb.connect(str(db)) as con:
        con.execute(f"delete from {table} where player_status = 'on_vacation'")
    retried = _driver(db, *base, "--retry-failed")
    assert retried.returncode == 0, (retried.stdout + retried.stderr)[-6000:]
    state = read_state(state_file)
    assert state is not None and all(c.status == SUCCESS for c in state.chunks)
    assert state.chunks[0].attempts == 1 and state.chunks[1].attempts == 2
    assert _rows(db, *window) == _rows(reference_db, *window)
