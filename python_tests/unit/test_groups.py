"""Groups of serial chunks (driver.backfill.runner.plan_groups, driver.backfill.scheduler): which
chunks share a group, how the scheduler runs groups after the lead chunk, and how a group's
one call and its chunk-by-chunk fallback set each chunk's state (ChunkRunner.run_group). No
dbt: the builds are recorded calls with scripted results (the real group build is tested in
python_tests/integration/test_chunks_inline.py)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import threading
from pathlib import Path
from typing import Any

from driver.backfill.chunks import Chunking, plan_chunks
from driver.backfill.command import validate
from driver.backfill.plan import budget_days
from driver.backfill.retry import RetryPolicy
from driver.backfill.runner import RUN_ID_ENV, ChunkRunner, group_mb_per_day, plan_groups
from driver.backfill.scheduler import StopReason, run_chunks
from driver.backfill.state import (
    FAILED,
    PENDING,
    SUCCESS,
    BackfillState,
    ChunkState,
    ChunkStatus,
    StateStore,
)
from driver.dbt.invoke import DbtResult
from driver.validation.report import SELECTION


def _chunks(*windows: tuple[str, str]) -> list[ChunkState]:
    return [ChunkState(start, end) for start, end in windows]


MONTHS = _chunks(
    ("2022-01-01", "2022-01-31"), ("2022-02-01", "2022-02-28"), ("2022-03-01", "2022-03-31"),
    ("2022-04-01", "2022-04-30"), ("2022-05-01", "2022-05-31"),
)  # fmt: skip


def test_groups_are_consecutive_chunks_within_the_day_limit() -> None:
    assert plan_groups(MONTHS, [0, 1, 2, 3, 4], 366) == [[0, 1, 2, 3, 4]]
    # 31 + 28 + 31 = 90 days fit in 90, the fourth month starts a new group
    assert plan_groups(MONTHS, [0, 1, 2, 3, 4], 90) == [[0, 1, 2], [3, 4]]
    # a chunk longer than the limit is a group alone
    assert plan_groups(MONTHS, [0, 1, 2], 20) == [[0], [1], [2]]
    # a gap (resume with chunks done in between) ends a group
    assert plan_groups(MONTHS, [0, 1, 3, 4], 366) == [[0, 1], [3, 4]]


def test_a_group_is_as_long_as_the_memory_budget_allows_its_query() -> None:
    """The backfill command gives run_group's planner plan.budget_days at group_mb_per_day:
    0.2 MB a day when the chunks write the step tables, 1 MB when they inline the steps."""
    args = argparse.Namespace(memory_budget="20MB", target="dev")
    assert budget_days(args, group_mb_per_day(False)) == 100
    assert plan_groups(MONTHS, [0, 1, 2, 3, 4], budget_days(args)) == [[0, 1, 2], [3, 4]]
    assert budget_days(args, group_mb_per_day(True)) == 20
    args.memory_budget = "1GB"  # the demo profile's memory_limit
    assert budget_days(args, group_mb_per_day(False)) == 5000
    assert budget_days(args, group_mb_per_day(True)) == 1000  # the demo's 913 days: one group


def test_the_publish_part_selects_the_audit_checks_and_the_publish() -> None:
    runner = ChunkRunner.__new__(ChunkRunner)
    runner.selection, runner.defer_checks, runner.window_independent_built = ["+m"], True, True
    whole = runner.build_args(False, False)
    assert whole[:3] == ["build", "--select", "+m"] and "tag:wap_publish+" not in whole
    publish = runner.build_args(False, False, "publish")
    select = publish[publish.index("--select") + 1 : publish.index("--exclude-resource-type")]
    assert select == ["tag:wap_audit+,resource_type:test,+m", "tag:wap_publish+,+m"]
    assert "tag:wap_publish+" not in publish


AUDIT_UID, CHECK_UID, MART_UID = "model.p.audit", "test.p.points_range", "model.p.mart"


class FakeSession:
    """DbtSession.run's signature: records each call (its first --select and its window) and
    answers with the next scripted (returncode, {unique_id: status}) or cancels."""

    def __init__(
        self, answers: list[tuple[int, dict[str, str]] | str], cancel: threading.Event | None = None
    ) -> None:
        self.answers = answers
        self.cancel = cancel  # set by a "cancel" answer, as SIGTERM sets the driver's
        self.calls: list[tuple[str, tuple[str, str]]] = []
        self.timeouts: list[float | None] = []
        self.envs: list[object] = []

    def run(self, args: list[str], **kw: Any) -> DbtResult:
        self.calls.append((args[args.index("--select") + 1], kw["window"]))
        self.timeouts.append(kw.get("timeout"))
        self.envs.append(kw.get("env"))
        if kw.get("on_start"):
            kw["on_start"](os.getpid())
        answer = self.answers.pop(0)
        run_dir: Path = kw["run_dir"]
        if answer == "cancel":
            if self.cancel is not None:
                self.cancel.set()
            return DbtResult(-15, "", cancelled=True, run_dir=run_dir)
        code, statuses = answer
        results = {"results": [{"unique_id": u, "status": s} for u, s in statuses.items()]}
        if code:  # a failed call leaves its manifest (driver.dbt.worker)
            (run_dir / "target").mkdir(parents=True, exist_ok=True)
            nodes = {AUDIT_UID: {"resource_type": "model", "tags": ["wap_audit"],
                                 "schema": "nba_audit", "name": "audit"},
                     CHECK_UID: {"resource_type": "test", "attached_node": AUDIT_UID}}  # fmt: skip
            (run_dir / "target" / "manifest.json").write_text(json.dumps({"nodes": nodes}))
        return DbtResult(code, "", results, run_dir=run_dir)

    def close(self) -> None:
        pass


def _runner(tmp_path: Path, session: FakeSession, fail_fast: bool = False) -> ChunkRunner:
    state = BackfillState.new(
        target="dev", start=dt.date(2022, 1, 1), end=dt.date(2022, 5, 31), selection=["+m"],
        chunking="month", chunks=plan_chunks(dt.date(2022, 1, 1), dt.date(2022, 5, 31),
                                             Chunking(unit="month")),
    )  # fmt: skip
    return ChunkRunner(
        target="dev", selection=["+m"], store=StateStore(tmp_path / "state.json", state),
        runs_dir=tmp_path / "runs", cancel=threading.Event(), session=session,  # type: ignore[arg-type]
        policy=RetryPolicy(max_attempts=1), defer_checks=True, fail_fast=fail_fast,
    )  # fmt: skip


GROUP_OK = {AUDIT_UID: "success", CHECK_UID: "pass", MART_UID: "success"}
CHECK_FAILS = {AUDIT_UID: "success", CHECK_UID: "fail", MART_UID: "skipped"}
BUILD_FAILS = {AUDIT_UID: "error", CHECK_UID: "skipped", MART_UID: "skipped"}


def test_a_group_is_built_in_one_call_over_its_window(tmp_path: Path) -> None:
    session = FakeSession([(0, GROUP_OK)])
    runner = _runner(tmp_path, session)
    runner.timeout = 60.0
    assert runner.run_group([1, 2, 3]) == [SUCCESS] * 3
    assert session.calls == [("+m", ("2022-02-01", "2022-04-30"))]
    assert session.timeouts == [180.0]  # one --chunk-timeout per chunk of the group
    chunks = runner.store.state.chunks
    assert [c.status for c in chunks] == [PENDING, SUCCESS, SUCCESS, SUCCESS, PENDING]
    assert all(c.run_dir and c.run_dir.endswith("group_2022-02-01_2022-04-30") for c in chunks[1:4])
    assert all(c.attempts == 1 and c.pid is None and c.seconds is not None for c in chunks[1:4])


def test_a_group_whose_checks_fail_checks_and_publishes_each_chunk_alone(tmp_path: Path) -> None:
    """The group wrote the audit relation: each chunk's checks and publish over it, no rebuild;
    the chunk whose own checks fail stays unpublished."""
    session = FakeSession([(1, CHECK_FAILS), (0, GROUP_OK), (1, CHECK_FAILS), (0, GROUP_OK)])
    runner = _runner(tmp_path, session)
    assert runner.run_group([1, 2, 3]) == [SUCCESS, FAILED, SUCCESS]
    publish = "tag:wap_audit+,resource_type:test,+m"
    assert session.calls[1:] == [(publish, ("2022-02-01", "2022-02-28")),
                                 (publish, ("2022-03-01", "2022-03-31")),
                                 (publish, ("2022-04-01", "2022-04-30"))]  # fmt: skip
    error = runner.store.state.chunks[2].error or ""
    assert CHECK_UID in error and "left for inspection: nba_audit.audit" in error


def test_a_group_whose_build_fails_builds_each_chunk_alone(tmp_path: Path) -> None:
    """The audit relation did not build: each chunk's own whole build; with fail_fast the
    chunks after a failed one are not started and go back to pending."""
    session = FakeSession([(1, BUILD_FAILS), (0, GROUP_OK), (1, BUILD_FAILS), (0, GROUP_OK)])
    runner = _runner(tmp_path, session)
    assert runner.run_group([1, 2, 3]) == [SUCCESS, FAILED, SUCCESS]
    assert session.calls[1:] == [("+m", ("2022-02-01", "2022-02-28")),
                                 ("+m", ("2022-03-01", "2022-03-31")),
                                 ("+m", ("2022-04-01", "2022-04-30"))]  # fmt: skip
    assert runner.store.state.chunks[2].run_dir.endswith("chunk_2022-03-01_2022-03-31")  # type: ignore[union-attr]

    session = FakeSession([(1, BUILD_FAILS), (1, BUILD_FAILS)])
    runner = _runner(tmp_path / "ff", session, fail_fast=True)
    assert runner.run_group([1, 2, 3]) == [FAILED]
    assert [c.status for c in runner.store.state.chunks[1:4]] == [FAILED, PENDING, PENDING]
    assert runner.store.state.chunks[2].error is None


def test_an_interrupt_while_a_failed_group_is_checked_chunk_by_chunk(tmp_path: Path) -> None:
    """The chunk checked when the interrupt comes and the chunks not reached go back to
    pending (not left `running`); the chunk published before stays published."""
    session = FakeSession([(1, CHECK_FAILS), (0, GROUP_OK), "cancel"])
    runner = _runner(tmp_path, session)
    session.cancel = runner.cancel
    assert runner.run_group([1, 2, 3]) == [SUCCESS, PENDING]
    chunks = runner.store.state.chunks
    assert [c.status for c in chunks[1:4]] == [SUCCESS, PENDING, PENDING]
    assert all("interrupted" in (c.error or "") and c.pid is None for c in chunks[2:4])


def test_an_interrupted_group_call_leaves_its_chunks_pending(tmp_path: Path) -> None:
    session = FakeSession(["cancel"])
    runner = _runner(tmp_path, session)
    assert runner.run_group([1, 2]) == [PENDING, PENDING]
    chunks = runner.store.state.chunks
    assert [c.status for c in chunks[1:3]] == [PENDING, PENDING]
    assert all("interrupted" in (c.error or "") and c.pid is None for c in chunks[1:3])


class Recorder:
    """run_one / run_group that record their calls and return given statuses."""

    def __init__(self, statuses: dict[int, ChunkStatus]) -> None:
        self.statuses = statuses
        self.calls: list[tuple[str, list[int]]] = []

    def one(self, index: int, _full_refresh: bool, lead: bool) -> ChunkStatus:
        self.calls.append(("lead" if lead else "one", [index]))
        return self.statuses.get(index, SUCCESS)

    def group(self, indexes: list[int]) -> list[ChunkStatus]:
        self.calls.append(("group", indexes))
        return [self.statuses.get(i, SUCCESS) for i in indexes]


def _run(rec: Recorder, groups: list[list[int]], fail_fast: bool = False) -> StopReason | None:
    return run_chunks(
        [0, 1, 2, 3, 4],
        rec.one,
        workers=1,
        cancel=threading.Event(),
        fail_fast=fail_fast,
        run_group=rec.group,
        groups=lambda queue: [g for g in groups if g[0] in queue],
    )


def test_after_the_lead_chunk_the_groups_run_in_order_a_single_chunk_alone() -> None:
    rec = Recorder({})
    assert _run(rec, [[1, 2, 3], [4]]) is None
    assert rec.calls == [("lead", [0]), ("group", [1, 2, 3]), ("one", [4])]


def test_fail_fast_stops_after_a_group_with_a_failed_chunk() -> None:
    rec = Recorder({2: FAILED})
    assert _run(rec, [[1, 2], [3, 4]], fail_fast=True) == StopReason.FAIL_FAST
    assert rec.calls == [("lead", [0]), ("group", [1, 2])]
    rec = Recorder({2: FAILED})  # without fail_fast the next group runs
    assert _run(rec, [[1, 2], [3, 4]]) is None
    assert rec.calls[-1] == ("group", [3, 4])


def test_an_interrupted_group_stops_the_run() -> None:
    rec = Recorder({2: PENDING})
    assert _run(rec, [[1, 2], [3, 4]]) == StopReason.INTERRUPT
    assert rec.calls == [("lead", [0]), ("group", [1, 2])]


def test_the_validation_at_the_end_runs_in_the_chunks_dbt_process(tmp_path: Path) -> None:
    """command.validate with the chunks' session: one `dbt test` of the whole window in it
    (its environment unchanged, so the same worker), no new dbt process."""
    session = FakeSession([(0, {"test.p.check": "pass"})])
    state = BackfillState.new(
        target="dev", start=dt.date(2022, 1, 1), end=dt.date(2022, 2, 28), selection=["+m"],
        chunking="month", chunks=plan_chunks(dt.date(2022, 1, 1), dt.date(2022, 2, 28),
                                             Chunking(unit="month")),
    )  # fmt: skip
    plan = argparse.Namespace(
        start=dt.date(2022, 1, 1), end=dt.date(2022, 2, 28), target="dev", selection=["+m"],
        state=state, to_run=[0, 1], whole_window=False, extra_vars={},
        state_file=tmp_path / "state.json", dbt_command=["false"],
    )  # fmt: skip
    env = {RUN_ID_ENV: "run-1"}
    ok, text = validate(plan, tmp_path / "validation", None, session, env)  # type: ignore[arg-type]
    assert ok and "1 checks, 1 pass" in text
    assert session.calls == [(SELECTION[0], ("2022-01-01", "2022-02-28"))]
    assert session.envs == [env]
