"""One writer per target: the DuckDB lease file, and ending only our own leftover processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from driver.backfill.lease import LeaseHeld, duckdb_lease, process_start_time
from driver.backfill.orphans import end_leftover, is_ours
from driver.backfill.runner import RUN_ID_ENV


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
    code = "import time; time.sleep(60)"
    ours = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, RUN_ID_ENV: "r1"},
                            process_group=0)  # fmt: skip
    other = subprocess.Popen([sys.executable, "-c", code], process_group=0)  # same command line
    try:
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
