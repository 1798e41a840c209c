"""DbtSession (serial chunks in one dbt process) without dbt: a fake worker speaks the
protocol of driver.dbt.worker, so these check the session's process control: replies,
a worker killed mid-call (only that call fails, the next starts a new worker), timeouts and
cancels ending the worker's process group; and which chunk builds use a session and which
checks they leave to the final validation."""

from __future__ import annotations

import datetime as dt
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from driver.backfill.runner import (
    CHUNK_VARS,
    DEFERRED_CHECKS,
    STEP_VARS,
    WINDOW_INDEPENDENT,
    ChunkRunner,
    serial_session,
    steps_inlined,
)
from driver.backfill.state import BackfillState, ChunkState, StateStore
from driver.dbt.invoke import DbtSession, default_dbt_command

# Stands in for `python -m driver.dbt.worker FD`: the first word of each call's args says
# what to do: "ok" (exit 0, writes run_results.json), "fail" (exit 1), "die" (SIGKILL
# itself), "hang" (never replies).
FAKE_WORKER = """
import json, os, signal, sys, time
reply = os.fdopen(int(sys.argv[-1]), "w", buffering=1)
for line in sys.stdin:
    req = json.loads(line)
    verb = req["args"][0]
    with open(req["output"], "w") as out:
        out.write(f"fake dbt {verb} in {os.getpid()} parse {req['parse_key']!r}\\n")
    if verb == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    if verb == "hang":
        time.sleep(600)
    target = req["args"][req["args"].index("--target-path") + 1]
    with open(os.path.join(target, "run_results.json"), "w") as fh:
        json.dump({"results": [{"unique_id": "model.fake.m", "status": "success"}]}, fh)
    reply.write(json.dumps({"returncode": 0 if verb == "ok" else 1}) + "\\n")
"""


@pytest.fixture
def session(tmp_path: Path) -> Iterator[DbtSession]:
    script = tmp_path / "fake_python"
    script.write_text(f"#!{sys.executable}\n{FAKE_WORKER}")
    script.chmod(0o755)
    s = DbtSession(python=str(script))
    yield s
    s.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_calls_share_one_worker_and_report_like_run_dbt(
    session: DbtSession, tmp_path: Path
) -> None:
    pids: list[int] = []
    first = session.run(["ok"], target="dev", run_dir=tmp_path / "a", on_start=pids.append)
    second = session.run(["fail"], target="dev", run_dir=tmp_path / "b", on_start=pids.append)
    assert first.ok and first.run_results and "fake dbt ok" in first.output
    assert second.returncode == 1 and not second.ok and "fake dbt fail" in second.output
    assert pids[0] == pids[1] == session.pid  # one process served both


def test_a_killed_worker_fails_its_call_only(session: DbtSession, tmp_path: Path) -> None:
    before = session.run(["ok"], target="dev", run_dir=tmp_path / "a")
    dead_pid = session.pid
    killed = session.run(["die"], target="dev", run_dir=tmp_path / "b")
    assert killed.killed_by == "9 (SIGKILL)" and "killed by signal 9" in killed.output
    assert killed.run_results is None
    after = session.run(["ok"], target="dev", run_dir=tmp_path / "c")
    assert before.ok and after.ok and session.pid != dead_pid


def test_timeout_and_cancel_end_the_worker(session: DbtSession, tmp_path: Path) -> None:
    pids: list[int] = []
    timed = session.run(["hang"], target="dev", run_dir=tmp_path / "a", timeout=1.0,
                        on_start=pids.append)  # fmt: skip
    assert timed.timed_out and not timed.ok and "timed out after 1 s" in timed.output
    assert not _alive(pids[0])
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    cancelled = session.run(["hang"], target="dev", run_dir=tmp_path / "b", cancel=cancel,
                            on_start=pids.append)  # fmt: skip
    assert cancelled.cancelled and not _alive(pids[1])
    assert session.run(["ok"], target="dev", run_dir=tmp_path / "c").ok


def test_serial_runs_of_several_chunks_with_the_projects_dbt_use_a_session() -> None:
    dbt = default_dbt_command()
    assert isinstance(serial_session(1, 32, dbt), DbtSession)
    assert serial_session(1, 1, dbt) is None  # one chunk: one dbt call anyway
    assert serial_session(4, 32, dbt) is None  # parallel: dbtRunner is not concurrency-safe
    assert serial_session(1, 32, ["python", "fake_dbt.py"]) is None  # a fake dbt: per call


def test_deferred_checks_leave_the_chunk_only_when_asked(tmp_path: Path) -> None:
    day = dt.date(2022, 1, 1)
    state = BackfillState.new(target="dev", start=day, end=day, selection=["+m"],
                              chunking="month", chunks=[])  # fmt: skip
    runner = ChunkRunner("dev", ["+m"], StateStore(tmp_path / "s.json", state), tmp_path,
                         threading.Event())  # fmt: skip
    assert runner.build_args(False, True) == ["build", "--select", "+m"]
    runner.defer_checks = True
    args = runner.build_args(False, False)
    excluded = args[args.index("--exclude") + 1 : args.index("--indirect-selection")]
    assert excluded == list(DEFERRED_CHECKS) and args[-1] == "cautious"
    assert args[:4] == ["build", "--select", "+m", "--exclude-resource-type"]


def test_window_independent_models_leave_the_chunks_after_one_succeeded(tmp_path: Path) -> None:
    """The first chunk that succeeds builds the models tagged window_independent; the rest of
    the run leaves them out, next to the deferred checks."""
    day = dt.date(2022, 1, 1)
    state = BackfillState.new(target="dev", start=day, end=day, selection=["+m"],
                              chunking="month", chunks=[])  # fmt: skip
    runner = ChunkRunner("dev", ["+m"], StateStore(tmp_path / "s.json", state), tmp_path,
                         threading.Event(), defer_checks=True)  # fmt: skip
    assert WINDOW_INDEPENDENT not in runner.build_args(False, False)
    runner.window_independent_built = True
    args = runner.build_args(False, False)
    excluded = args[args.index("--exclude") + 1 : args.index("--indirect-selection")]
    assert excluded == [*DEFERRED_CHECKS, WINDOW_INDEPENDENT]
    runner.defer_checks = False
    assert runner.build_args(False, True) == ["build", "--select", "+m", "--exclude",
                                              WINDOW_INDEPENDENT]  # fmt: skip


def test_short_chunks_deferring_checks_inline_the_steps_except_lead_chunks(
    tmp_path: Path,
) -> None:
    """Chunks of at most INLINE_STEPS_MAX_DAYS whose step checks are deferred to the validation
    inline the steps (STEP_VARS), except lead chunks, which write them as tables (unit tests
    and a later `dbt test` read those relations). Chunks that run every check, and long
    chunks, keep the steps as tables."""
    day = dt.date(2022, 1, 1)
    months = [ChunkState(start=f"2022-{m:02d}-01", end=f"2022-{m:02d}-28") for m in (1, 2)]
    year = [ChunkState(start="2022-01-01", end="2022-12-31")]
    assert steps_inlined(months, defer_checks=True)
    assert not steps_inlined(months, defer_checks=False)
    assert not steps_inlined([*months, *year], defer_checks=True)
    assert not steps_inlined([], defer_checks=True)
    state = BackfillState.new(target="dev", start=day, end=day, selection=["+m"],
                              chunking="month", chunks=[])  # fmt: skip
    runner = ChunkRunner("dev", ["+m"], StateStore(tmp_path / "s.json", state), tmp_path,
                         threading.Event(), chunk_vars={**CHUNK_VARS, "x": 1})  # fmt: skip
    assert runner.call_vars(lead=False) == {**CHUNK_VARS, "x": 1}
    runner.inline_steps = True
    assert runner.call_vars(lead=False) == {**CHUNK_VARS, "x": 1, **STEP_VARS}
    assert runner.call_vars(lead=True) == {**CHUNK_VARS, "x": 1}
