"""Groups of serial chunks (driver.backfill.runner.plan_groups, driver.backfill.scheduler): which
chunks share a group, and how the scheduler runs groups after the lead chunk. No dbt: the
builds are recorded calls (the real group build is tested in
python_tests/integration/test_chunks_inline.py)."""

from __future__ import annotations

import threading

from driver.backfill.runner import ChunkRunner, plan_groups
from driver.backfill.scheduler import StopReason, run_chunks
from driver.backfill.state import FAILED, PENDING, SUCCESS, ChunkState, ChunkStatus


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


def test_the_audit_part_leaves_out_the_checks_and_the_publish_the_group_part_selects_them() -> None:
    runner = ChunkRunner.__new__(ChunkRunner)
    runner.selection, runner.defer_checks, runner.window_independent_built = ["+m"], True, True
    audit = runner.build_args(False, False, "audit")
    assert audit[:3] == ["build", "--select", "+m"]
    assert "tag:wap_publish+" in audit and "tag:wap_audit+,resource_type:test" in audit
    publish = runner.build_args(False, False, "publish")
    select = publish[publish.index("--select") + 1 : publish.index("--exclude-resource-type")]
    assert select == ["tag:wap_audit+,resource_type:test,+m", "tag:wap_publish+,+m"]
    assert "tag:wap_publish+" not in publish


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
