"""Run chunks over a pool of workers.

Chunks run one at a time until one succeeds: that first chunk may create the target table
(or full-refresh it), and parallel first builds would race to create it. These serial chunks
are the "lead" ones (run_one is told so: the driver runs the dbt unit tests in a lead chunk's
build). After a lead chunk fails, `stop_after_lead_failure` may give a reason to launch no
further chunk (its unit tests failed: every chunk would fail the same way). Then up to
`workers` run at once, or, with one worker and a `run_group`, the rest goes by groups: `groups`
cuts the queue into runs of consecutive chunks that run_group builds and publishes together
(driver.backfill.runner.ChunkRunner.run_group: one dbt call over the group's window; a group
of one goes to run_one). A set
cancel event stops launching new chunks (running ones are ended by run_dbt); fail_fast stops
launching after the first failure.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from enum import StrEnum

from driver.backfill.state import FAILED, SUCCESS, ChunkStatus

RunOne = Callable[[int, bool, bool], ChunkStatus]  # (chunk index, full_refresh, lead) -> status
RunGroup = Callable[[list[int]], list[ChunkStatus]]  # chunk indexes -> their statuses, in order


class StopReason(StrEnum):
    """Why chunks were left unlaunched."""

    INTERRUPT = "interrupt"
    FAIL_FAST = "fail-fast"
    UNIT_TESTS_FAILED = "unit tests failed"


def run_chunks(
    indexes: list[int],
    run_one: RunOne,
    *,
    workers: int,
    cancel: threading.Event,
    fail_fast: bool = False,
    full_refresh: bool = False,
    on_full_refresh_done: Callable[[], None] = lambda: None,
    stop_after_lead_failure: Callable[[int], StopReason | None] = lambda index: None,
    run_group: RunGroup | None = None,
    groups: Callable[[list[int]], list[list[int]]] = lambda queue: [[i] for i in queue],
) -> StopReason | None:
    """Run the chunks; returns why it stopped early, or None when every chunk was launched."""
    queue = list(indexes)
    stopped_by: StopReason | None = None
    have_success = False
    refresh_pending = full_refresh

    # Serial phase: until one chunk succeeds (it creates or full-refreshes the table).
    while queue and not have_success:
        if cancel.is_set():
            stopped_by = StopReason.INTERRUPT
            break
        index = queue.pop(0)
        status = run_one(index, refresh_pending, True)
        if status == SUCCESS:
            have_success = True
            if refresh_pending:
                refresh_pending = False
                on_full_refresh_done()
        elif status == FAILED and (reason := stop_after_lead_failure(index)):
            stopped_by = reason
            break
        elif status == FAILED and fail_fast:
            stopped_by = StopReason.FAIL_FAST
            break
        elif status not in (SUCCESS, FAILED):
            stopped_by = StopReason.INTERRUPT
            break

    if have_success and not stopped_by and run_group is not None and workers == 1:
        return _run_groups(groups(queue), run_one, run_group, cancel=cancel, fail_fast=fail_fast)
    if have_success and not stopped_by:
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="chunk") as pool:
            running: dict[Future[ChunkStatus], int] = {}
            while queue or running:
                while queue and len(running) < workers and stopped_by is None:
                    if cancel.is_set():
                        stopped_by = StopReason.INTERRUPT
                        break
                    index = queue.pop(0)
                    running[pool.submit(run_one, index, False, False)] = index
                if not running:
                    break
                done, _ = wait(list(running), timeout=0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    running.pop(future)
                    if future.result() == FAILED and fail_fast and stopped_by is None:
                        stopped_by = StopReason.FAIL_FAST
                if cancel.is_set() and stopped_by is None:
                    stopped_by = StopReason.INTERRUPT
    return stopped_by


def _run_groups(
    groups: list[list[int]],
    run_one: RunOne,
    run_group: RunGroup,
    *,
    cancel: threading.Event,
    fail_fast: bool,
) -> StopReason | None:
    """The chunks after the lead one, one group at a time (a group of one: run_one)."""
    for group in groups:
        if cancel.is_set():
            return StopReason.INTERRUPT
        statuses = run_group(group) if len(group) > 1 else [run_one(group[0], False, False)]
        if fail_fast and FAILED in statuses:
            return StopReason.FAIL_FAST
        if any(status not in (SUCCESS, FAILED) for status in statuses) or cancel.is_set():
            return StopReason.INTERRUPT
    return None
