"""One writer per target: the DuckDB lease file, validate taking it like a backfill, and
ending only our own leftover processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import FAKE_DBT

from driver.backfill.lease import LeaseHeld, duckdb_lease, process_running, process_start_time
from driver.backfill.orphans import end_leftover, is_ours
from driver.backfill.runner import RUN_ID_ENV
from driver.cli import main
from driver.project import PROJECT_DIR


def test_a_second_holder_is_refused_naming_the_first(tmp_path: Path) -> None:
    database = tmp_path / "nba.duckdb"
    with duckdb_lease(database, "run-a", "2026-01-01T00:00:00+00:00") as lease:
        record = json.loads(lease.read_text())
        assert record["run_id"] == "run-a" and record["pid"] == os.getpid()
        assert record["pid_started"] == process_start_time(os.getpid())
        with (
            pytest.raises(LeaseHeld, match=r"run run-a .*since 2026-01-01T00:00:00"),
            duckdb_lease(database, "run-b", "later", wait=0.6),
        ):
            pass
    assert lease.read_text() == ""  # released: emptied, kept
    with duckdb_lease(database, "run-b", "now"):
        pass


def test_the_record_of_a_dead_holder_is_taken_over_with_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "nba.duckdb"
    dead = subprocess.Popen(["true"])
    dead.wait()
    record = {"host": os.uname().nodename, "pid": dead.pid, "pid_started": 1, "run_id": "old"}
    (tmp_path / "nba.duckdb.lease").write_text(json.dumps({**record, "since": "then"}))
    with duckdb_lease(database, "new", "now") as lease:
        assert json.loads(lease.read_text())["run_id"] == "new"
    assert "took over the lease of run old" in capsys.readouterr().out


def test_leftovers_are_ended_only_when_pid_start_time_and_run_id_match() -> None:
    code = "import time; print('ready', flush=True); time.sleep(60)"
    ours = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, RUN_ID_ENV: "r1"},
                            process_group=0, stdout=subprocess.PIPE, text=True)  # fmt: skip
    other = subprocess.Popen([sys.executable, "-c", code], process_group=0,
                             stdout=subprocess.PIPE, text=True)  # same command line  # fmt: skip
    try:
        # both run Python now: until the exec, /proc/<pid>/environ is the parent's (seen on a
        # busy machine: `ours` had no run id yet)
        for proc in (ours, other):
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        started = process_start_time(ours.pid)
        assert started is not None
        assert is_ours(ours.pid, started, "r1")
        assert not is_ours(ours.pid, started, "r2")  # another run's
        assert not is_ours(ours.pid, started + 1, "r1")  # a reused pid
        assert not is_ours(other.pid, process_start_time(other.pid), "r1")  # no run id
        assert not end_leftover(other.pid, process_start_time(other.pid), "r1")
        assert other.poll() is None
        assert end_leftover(ours.pid, started, "r1", grace=5)
        assert ours.wait(timeout=5) != 0
    finally:
        for proc in (ours, other):
            proc.kill()
            proc.wait()


def _validate(run_dir: Path, *extra: str) -> list[str]:
    return ["validate", "--start-date", "2022-01-01", "--end-date", "2022-01-07",
            "--run-dir", str(run_dir), "--dbt-executable", f"{sys.executable} {FAKE_DBT}",
            *extra]  # fmt: skip


def test_validate_takes_the_lease_a_backfill_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`dbt test` writes (stored failures, validation_history): validate exits 3 naming the
    holder and runs no dbt, or waits (--wait) until the holder is done."""
    database = tmp_path / "nba.duckdb"
    database.touch()
    monkeypatch.setenv("NBA_DUCKDB_PATH", str(database))
    monkeypatch.setenv("FAKE_DBT_LOG", str(tmp_path / "calls.jsonl"))
    with duckdb_lease(database, "backfill-run", "2026-01-01T00:00:00+00:00"):
        assert main(_validate(tmp_path / "refused")) == 3
    err = capsys.readouterr().err
    assert "run backfill-run" in err and "--wait" in err and "Traceback" not in err
    assert not (tmp_path / "calls.jsonl").exists()  # no dbt ran

    held = threading.Event()

    def hold_briefly() -> None:
        with duckdb_lease(database, "backfill-run", "now"):
            held.set()
            time.sleep(1.5)

    holder = threading.Thread(target=hold_briefly)
    holder.start()
    held.wait(10)
    try:
        code = main(_validate(tmp_path / "waited", "--wait", "30"))
    finally:
        holder.join()
    assert "waiting up to 30 s for run backfill-run" in capsys.readouterr().out
    assert code in (0, 1)  # the fake dbt's report; what matters: it ran after the holder
    (call,) = [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()
               if json.loads(line)["outcome"] != "started"]  # fmt: skip
    assert call["command"] == "test"


def test_sigint_during_validate_ends_dbt_test_with_one_line(tmp_path: Path) -> None:
    database = tmp_path / "nba.duckdb"
    database.touch()
    log = tmp_path / "calls.jsonl"
    env = {**os.environ, "NBA_DUCKDB_PATH": str(database), "FAKE_DBT_LOG": str(log),
           "FAKE_DBT_TEST_SLEEP": "30"}  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "driver", *_validate(tmp_path / "v")],
                            cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while not (log.exists() and log.read_text().strip()):
        assert proc.poll() is None and time.monotonic() < deadline, "no dbt test started"
        time.sleep(0.1)
    dbt_pid = json.loads(log.read_text().splitlines()[0])["pid"]
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, out + err
    assert "Traceback" not in out + err
    assert err.strip().splitlines() == ["SIGINT during the validation: stopped; dbt test ended"]
    assert not process_running(dbt_pid, process_start_time(dbt_pid))
    assert database.with_name("nba.duckdb.lease").read_text() == ""  # released


def test_a_bigquery_lease_holder_on_this_host_whose_process_ended_is_gone() -> None:
    """The BigQuery lease row names host, pid and start time: a resume on the same host after a
    kill -9 takes it over at once; a holder elsewhere (or unreadable) lapses by expiry only."""
    from driver.backfill.lease import bigquery_holder_alive

    host = os.uname().nodename
    dead = subprocess.Popen(["true"])
    dead.wait()
    me = os.getpid()
    assert bigquery_holder_alive(f"{host} pid {me} started {process_start_time(me)}")
    assert not bigquery_holder_alive(f"{host} pid {dead.pid} started 1")
    assert not bigquery_holder_alive(f"{host} pid {me} started 1")  # a reused pid
    assert bigquery_holder_alive(f"elsewhere pid {dead.pid} started 1")
    assert bigquery_holder_alive("gone")
