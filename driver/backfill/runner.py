"""Run one chunk: `dbt build` for its window, retrying transient failures, recording state.

The chunk is `running` in the state file before dbt starts and `success`/`failed` after it
ends; an interrupted chunk goes back to `pending` (never `success`).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from driver.backfill.lease import process_start_time
from driver.backfill.plan import MB_PER_DAY
from driver.backfill.retry import RetryPolicy, classify
from driver.backfill.scheduler import StopReason
from driver.backfill.state import (
    FAILED,
    PENDING,
    RUNNING,
    SUCCESS,
    ChunkState,
    ChunkStatus,
    StateStore,
    now_iso,
)
from driver.dbt import results as dbt_results
from driver.dbt.invoke import (
    DbtResult,
    DbtSession,
    dbt_runner,
    default_dbt_command,
    other_vars,
)

# Set in every dbt process a backfill starts: driver.backfill.orphans ends a leftover
# process only when its environment carries the run id the state file recorded.
RUN_ID_ENV = "NBA_BACKFILL_RUN_ID"

# Short chunks that leave the checks of the steps to the validation at the end (DEFERRED_CHECKS)
# inline the project's intermediate steps into the relation they audit and publish instead of
# writing each step as a table (var inline_steps, dbt_project.yml): a step written per chunk
# costs dbt's per-model overhead and a commit for a few days' rows only the audit relation
# reads. The validation of the whole window gets the same vars, so the checks of those steps
# read the whole window (tables would hold the last chunk's rows). Long chunks keep the tables:
# there the steps' work outweighs the overhead, and the checks' recomputation over a long
# window costs more than it saves (docs/benchmark.md; measured: month chunks of the demo 4.8 ->
# 2.2 s each; two 10-season chunks of 20 seasons no faster, their validation slower).
STEP_VARS: dict[str, object] = {"inline_steps": True}
INLINE_STEPS_MAX_DAYS = 92  # a quarter


def steps_inlined(chunks: Sequence[ChunkState], defer_checks: bool) -> bool:
    """Whether a run's chunks inline the steps (STEP_VARS): they defer the checks and none is
    longer than INLINE_STEPS_MAX_DAYS."""
    return defer_checks and bool(chunks) and max(c.days for c in chunks) <= INLINE_STEPS_MAX_DAYS


# When a backfill has several chunks, they don't store test failures: parallel chunks would
# replace each other's failure tables. The validation over the whole window, run once at the
# end, stores them. A backfill of one chunk stores them: its build is the validation.
CHUNK_VARS: dict[str, object] = {"store_failures_as": "ephemeral"}

# Models whose relation does not depend on the window (the project tags them, e.g. views over
# all raw data): a run builds them with its first chunk that succeeds; later chunks leave them
# out (their definition cannot change during a run).
WINDOW_INDEPENDENT = "tag:window_independent"

# Checks a chunk of a several-chunk backfill leaves to the validation of the whole window at
# the end, which runs every check once (dbt selectors, excluded from the chunk's build): the
# input checks, defined with the raw sources and the staging and intermediate models, and the
# warn-level checks (they never stop a publish). Each chunk keeps the error-level checks of
# what it publishes, the audit model's (write-audit-publish: they run before the publish).
# Cautious indirect selection: a mart check that reads a raw source too (the schedule's) is
# not an input check.
DEFERRED_CHECKS = (
    "path:models/staging,resource_type:test",
    "path:models/intermediate,resource_type:test",
    "config.severity:warn,resource_type:test",
)


# Serial chunks on a single-writer engine (DuckDB; driver.backfill.command decides) that leave
# those checks to the validation at the end go by groups: a group of consecutive chunks is
# built in ONE dbt call over the group's window, as one chunk of that window would be (the
# audit relation in one statement, its 31 checks once, the publish once): one call, one
# compile and one audit query per group instead of per chunk. A group holds at most the days
# the run's memory budget allows its query (driver.backfill.plan.budget_days at
# group_mb_per_day; the command passes it as group_max_days): chunks that write the step
# tables, as a chunk of the automatic chunking (plan.MB_PER_DAY, 5,000 days per GB); chunks
# that inline the steps (STEP_VARS) at GROUP_INLINE_MB_PER_DAY: the whole computation in one
# query holds more at once. The demo's 31 months after the lead chunk are one group, and the
# checks of a group measure its window as one chunk of that window would (the validation at
# the end measures the whole window either way). A chunk remains the unit of state, retry and
# publish: its chunks are `running` until the group's call ends, then all success; a call
# that fails for good (after retries) is redone chunk by chunk, so exactly the chunks that
# fail on their own stay unpublished (their windows keep the published rows), as without
# groups: when the call wrote the audit relation (a check failed), each chunk's checks and
# publish over it (_publish), else each chunk's own build. An interrupted group publishes
# nothing and resume redoes its chunks; a killed or timed-out call fails the group's chunks
# (a call gets one --chunk-timeout per chunk). Measured on the demo in 32 month chunks
# (docs/benchmark.md, "Groups").
GROUP_MAX_DAYS = 366  # ChunkRunner's default, without a memory budget: a year
# Measured with DuckDB's memory_limit at 1 GB (docs/benchmark.md, "Groups"): inlined groups of
# 913 days (the demo) ran within it; 20 seasons in month chunks made groups of 4,988 and 2,190
# days at 5,000 days per GB, and the second failed with DuckDB's "Out of Memory Error" (redone
# chunk by chunk). 1 MB a day: 1,000 days per GB, the demo's 31 months still one group.
GROUP_INLINE_MB_PER_DAY = 1.0


def group_mb_per_day(inline_steps: bool) -> float:
    """Memory per day of a group's window: its chunks inline the steps or write them."""
    return GROUP_INLINE_MB_PER_DAY if inline_steps else MB_PER_DAY


AUDIT_TAG, PUBLISH_TAG = "tag:wap_audit", "tag:wap_publish"
ALL, PUBLISH = "all", "publish"  # which part of the build a dbt call runs


def plan_groups(chunks: Sequence[ChunkState], indexes: list[int], max_days: int) -> list[list[int]]:
    """Cut `indexes` (in order) into groups: consecutive chunks (each starting the day after
    the previous one ends), at most `max_days` days in all (a longer chunk is a group alone)."""
    groups: list[list[int]] = []
    days = 0
    for index in indexes:
        chunk = chunks[index]
        if groups:
            last = chunks[groups[-1][-1]]
            follows = dt.date.fromisoformat(chunk.start) == dt.date.fromisoformat(
                last.end
            ) + dt.timedelta(days=1)
            if follows and days + chunk.days <= max_days:
                groups[-1].append(index)
                days += chunk.days
                continue
        groups.append([index])
        days = chunk.days
    return groups


def kept_for_inspection(result: DbtResult, audited: bool = False) -> list[str]:
    """Relations (schema.name) that built but failed a test of theirs: with write-audit-
    publish, the audit relation keeping the window's rows, while what depends on it (the
    published table) was skipped. Read from the run's run_results and manifest; `audited`:
    the call ran a group's checks, whose models the group's chunks built (not in this run)."""
    statuses = {
        str(r.get("unique_id")): str(r.get("status", "")).lower()
        for r in (result.run_results or {}).get("results", [])
    }
    nodes = dbt_results.manifest_nodes(result.run_dir)
    kept: set[str] = set()
    for uid, status in statuses.items():
        if not uid.startswith("test.") or status not in ("fail", "error"):
            continue
        test = nodes.get(uid, {})
        depends = (test.get("depends_on") or {}).get("nodes") or []
        for model in [test.get("attached_node"), *depends]:
            node = nodes.get(str(model), {})
            built = statuses.get(str(model), "success" if audited else None) == "success"
            if node.get("resource_type") == "model" and built:
                kept.add(f"{node.get('schema')}.{node.get('alias') or node.get('name')}")
    return sorted(kept)


def audit_written(result: DbtResult) -> bool:
    """Whether a failed call wrote the audit relation: every model tagged wap_audit (read
    from the manifest a failed call leaves) built, so what failed came after it (its checks,
    the publish)."""
    nodes = dbt_results.manifest_nodes(result.run_dir)
    statuses = {
        str(r.get("unique_id")): str(r.get("status", "")).lower()
        for r in (result.run_results or {}).get("results", [])
    }
    audit = [uid for uid, node in nodes.items() if AUDIT_TAG[4:] in (node.get("tags") or [])]
    return bool(audit) and all(statuses.get(uid) == "success" for uid in audit)


def failure_text(result: DbtResult) -> str:
    """What a failed dbt call says: its errors, after the signal that killed dbt if one did."""
    error = dbt_results.error_text(result)
    return f"dbt was killed by signal {result.killed_by}\n{error}" if result.killed_by else error


def inspection_note(result: DbtResult, audited: bool = False) -> str:
    """The line naming the relations a failed call left for inspection (kept_for_inspection),
    or nothing."""
    kept = kept_for_inspection(result, audited)
    if not kept:
        return ""
    return (
        f"\nleft for inspection: {', '.join(kept)} (built, but failed its tests; "
        "what depends on it, the published table, was not changed)"
    )


def serial_session(workers: int, chunks: int, dbt_command: list[str]) -> DbtSession | None:
    """A DbtSession (one dbt process, the project parsed once) for a run whose chunks go one at
    a time, more than one of them, with the project's own dbt: each chunk then skips dbt's
    start-up and parse. None otherwise: parallel chunks (dbtRunner is not safe concurrently in
    one process) and a --dbt-executable (a fake dbt in tests) run one process per chunk."""
    if workers == 1 and chunks > 1 and dbt_command == default_dbt_command():
        return DbtSession()
    return None


def _nothing(*_: object) -> None:
    """The default event callback."""


@dataclass
class ChunkEvents:
    """Callbacks for progress output; all optional."""

    started: Callable[[int], None] = _nothing
    finished: Callable[[int], None] = _nothing
    retrying: Callable[[int, int, float, str], None] = _nothing
    # a lead chunk built (its run dir holds the manifest the later chunks will build from)
    lead_built: Callable[[int, Path], None] = _nothing


@dataclass
class ChunkRunner:
    target: str
    selection: list[str]
    store: StateStore
    runs_dir: Path
    cancel: threading.Event
    dbt_command: list[str] = field(default_factory=default_dbt_command)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    events: ChunkEvents = field(default_factory=ChunkEvents)
    timeout: float | None = None
    chunk_vars: dict[str, object] = field(default_factory=lambda: dict(CHUNK_VARS))
    unit_tests: bool = True
    run_id: str = ""
    # leave DEFERRED_CHECKS to the validation at the end (only when one will run)
    defer_checks: bool = False
    results: dict[int, DbtResult] = field(default_factory=dict)  # the last dbt run per chunk
    session: DbtSession | None = None  # serial chunks in one dbt process (serial_session)
    # a chunk of this run succeeded: it built the WINDOW_INDEPENDENT models
    window_independent_built: bool = False
    inline_steps: bool = False  # STEP_VARS for builds without unit tests (steps_inlined)
    parse_cache: Path | None = None  # dbt's partial parse kept between calls and runs
    group_max_days: int = GROUP_MAX_DAYS
    fail_fast: bool = False  # run_group starts no chunk after a failed one

    def build_args(self, full_refresh: bool, unit_tests: bool, part: str = ALL) -> list[str]:
        """`dbt build` of the selection. Unit tests check model logic on fixtures, not on the
        window, so only lead chunks (see driver.scheduler) run them: in effect once. `part`:
        ALL, or PUBLISH (the audit checks and the publish, within the selection: a chunk of a
        group whose build failed, checked alone over the audit relation the group wrote)."""
        select = self.selection
        if part == PUBLISH:
            select = [
                *(f"{AUDIT_TAG}+,resource_type:test,{s}" for s in self.selection),
                *(f"{PUBLISH_TAG}+,{s}" for s in self.selection),
            ]
        args = ["build", "--select", *select]
        if not unit_tests:
            args += ["--exclude-resource-type", "unit_test"]
        exclude = [*(DEFERRED_CHECKS if self.defer_checks else ())]
        if self.window_independent_built:
            exclude.append(WINDOW_INDEPENDENT)
        if exclude:
            args += ["--exclude", *exclude]
        if self.defer_checks:
            args += ["--indirect-selection", "cautious"]
        return [*args, "--full-refresh"] if full_refresh else args

    def call_vars(self, lead: bool) -> dict[str, object]:
        """The chunk's vars, with STEP_VARS when the run inlines the steps, except in a lead
        chunk's build (driver.backfill.scheduler), which writes them as tables, so that they
        exist even in a fresh warehouse: dbt reads the column types of a unit test's inputs
        (run in a lead chunk) from their relations, and `dbt test` / `python -m driver
        validate` without the vars read the step tables."""
        inline = self.inline_steps and not lead
        return {**self.chunk_vars, **(STEP_VARS if inline else {})}

    def failed_unit_tests(self, index: int) -> list[str]:
        """The unit tests that failed in chunk `index`'s last build."""
        result = self.results.get(index)
        return dbt_results.nodes(result, "unit_test", failed=True) if result else []

    def stop_reason(self, index: int) -> StopReason | None:
        """Why no further chunk should run after lead chunk `index` failed, if it should not."""
        return StopReason.UNIT_TESTS_FAILED if self.failed_unit_tests(index) else None

    @property
    def unit_tests_passed(self) -> bool:
        """A build that ran the unit tests succeeded."""
        return any(r.ok and dbt_results.nodes(r, "unit_test") for r in self.results.values())

    def run(self, index: int, *, full_refresh: bool = False, lead: bool = False) -> ChunkStatus:
        """Run chunk `index` to a final status for this run: success, failed or pending."""
        chunk = self.store.state.chunks[index]
        unit_tests = lead and self.unit_tests
        run_dir = self.runs_dir / f"chunk_{chunk.start}_{chunk.end}"
        result, seconds, status = self._attempts(
            [index], run_dir, lambda: self._dbt(index, run_dir, full_refresh, unit_tests, lead)
        )
        if status == SUCCESS and lead:
            self.events.lead_built(index, run_dir)
        if status is not None:
            return status
        error = failure_text(result) + inspection_note(result)
        self._finish(index, FAILED, seconds, error=error, result=result)
        return FAILED

    def _attempts(
        self, indexes: list[int], run_dir: Path, call: Callable[[], DbtResult], label: str = ""
    ) -> tuple[DbtResult, float, ChunkStatus | None]:
        """Chunks `indexes` (one, or a group's) built by `call`, one dbt call, until it
        succeeds, is interrupted or fails for good; a transient failure is retried after the
        policy's backoff. Each attempt marks the chunks running in `run_dir`. Returns the last
        result, each chunk's share of its seconds, and the status when it is settled here
        (success or pending, recorded in the state) or None: failed for good, the caller
        records the failure. `label` prefixes the retry message (a group's window)."""
        attempt = 0
        while True:
            attempt += 1
            for index in indexes:
                with self.store.update(index) as c:
                    c.status, c.attempts, c.started_at = RUNNING, c.attempts + 1, now_iso()
                    c.finished_at = c.error = c.pid = c.pid_started = None
                    c.run_dir, c.run_id = str(run_dir), self.run_id
                self.events.started(index)
            began = time.monotonic()
            result = call()
            share = round((time.monotonic() - began) / len(indexes), 2)
            for index in indexes:
                self.results[index] = result
            if result.cancelled:
                for index in indexes:
                    self._finish(index, PENDING, share, error="interrupted; resume redoes it")
                return result, share, PENDING
            if result.ok:
                self.window_independent_built = True
                for index in indexes:
                    self._finish(index, SUCCESS, share, result=result)
                return result, share, SUCCESS
            error = failure_text(result)
            if not self.policy.should_retry(attempt, classify([result.output, error])):
                return result, share, None
            wait = self.policy.backoff(attempt)
            note = f"transient failure (attempt {attempt}/{self.policy.max_attempts}), "
            for index in indexes:
                self._finish(index, FAILED, share, error=f"{note}retrying in {wait:.1f} s\n{error}")
            self.events.retrying(indexes[0], attempt, wait, f"{label}{error}")
            if self.cancel.wait(wait):
                for index in indexes:
                    with self.store.update(index) as c:
                        c.status = PENDING
                return result, share, PENDING

    def _dbt(
        self,
        index: int,
        run_dir: Path,
        full_refresh: bool,
        unit_tests: bool,
        lead: bool,
    ) -> DbtResult:
        """Chunk `index`'s `dbt build`: in the session when there is one, else its own dbt."""
        chunk = self.store.state.chunks[index]
        args = self.build_args(full_refresh, unit_tests)
        return self._call(args, run_dir, (chunk.start, chunk.end), lead, [index])

    def _call(
        self,
        args: list[str],
        run_dir: Path,
        window: tuple[str, str],
        lead: bool,
        indexes: list[int],
        timeouts: int = 1,
    ) -> DbtResult:
        """One dbt call for `window`; its pid is recorded on the chunks `indexes`. `timeouts`:
        how many chunks' --chunk-timeout it gets (a group's build: one per chunk)."""
        return dbt_runner(self.session, self.dbt_command)(
            args,
            target=self.target,
            run_dir=run_dir,
            vars_json=other_vars(self.call_vars(lead)),
            window=window,
            parse_cache=self.parse_cache,
            env={RUN_ID_ENV: self.run_id},
            timeout=None if self.timeout is None else self.timeout * timeouts,
            cancel=self.cancel,
            on_start=lambda pid: self._set_pid(indexes, pid),
        )

    def groups(self, indexes: list[int]) -> list[list[int]]:
        """The scheduler's groups of `indexes` (plan_groups)."""
        return plan_groups(self.store.state.chunks, indexes, self.group_max_days)

    def run_group(self, indexes: list[int]) -> list[ChunkStatus]:
        """Build consecutive chunks `indexes` in one dbt call over their window (the audit
        relation, its checks, the publish). When that call fails for good, the chunks go one
        at a time: when the audit relation was written (a check failed), each chunk's checks
        and publish (_publish); else each chunk's own build (run). Returns the statuses of
        the chunks it started, in order (pending: interrupted, nothing of it published)."""
        chunks = self.store.state.chunks
        window = (chunks[indexes[0]].start, chunks[indexes[-1]].end)
        label = f"{window[0]}..{window[1]}"
        run_dir = self.runs_dir / f"group_{window[0]}_{window[1]}"
        args = self.build_args(False, False)
        result, share, status = self._attempts(
            indexes,
            run_dir,
            lambda: self._call(args, run_dir, window, False, indexes, len(indexes)),
            f"group {label}: ",
        )
        if status is not None:
            return [status] * len(indexes)
        error = failure_text(result)
        if result.killed_by or result.timed_out:  # not the data: the chunks fail together
            error += inspection_note(result)
            for index in indexes:
                self._finish(index, FAILED, share, error=f"group {label}: {error}")
            return [FAILED] * len(indexes)
        for index in indexes:
            with self.store.update(index) as c:
                c.seconds = share
        audited = audit_written(result)
        statuses: dict[int, ChunkStatus] = {}
        for index in indexes:  # chunk by chunk: exactly the failing ones stay unpublished
            if self.cancel.is_set():
                break
            if audited:  # the group's window is in the audit relation: each chunk's checks
                statuses |= self._publish([index])
                continue
            statuses[index] = self.run(index)  # each chunk's own build
            if statuses[index] == PENDING or (self.fail_fast and statuses[index] == FAILED):
                break
        for index in indexes:  # interrupted or not reached: nothing of it was published
            if statuses.get(index, PENDING) == PENDING:
                interrupted = self.cancel.is_set() or index in statuses
                with self.store.update(index) as c:
                    c.status, c.pid, c.pid_started = PENDING, None, None
                    c.error = "interrupted; resume redoes it" if interrupted else None
        return [statuses[i] for i in indexes if i in statuses]

    def _publish(self, indexes: list[int]) -> dict[int, ChunkStatus]:
        """The audit checks over the window of audited chunks `indexes` and, when none fails
        at error level, the publish of that window, in one dbt call (retried like a chunk's).
        Failed checks in a group of several: each chunk is checked and published alone."""
        chunks = self.store.state.chunks
        window = (chunks[indexes[0]].start, chunks[indexes[-1]].end)
        label = f"{window[0]}..{window[1]}"
        run_dir = self.runs_dir / f"group_{window[0]}_{window[1]}"
        args = self.build_args(False, False, PUBLISH)
        attempt = 0
        while True:
            attempt += 1
            began = time.monotonic()
            result = self._call(args, run_dir, window, False, indexes)
            seconds = time.monotonic() - began
            if result.cancelled:
                return {i: PENDING for i in indexes}  # run_group sets them back to pending
            if result.ok:
                self.window_independent_built = True
                for i in indexes:
                    self.results[i] = result
                    share = round((chunks[i].seconds or 0.0) + seconds / len(indexes), 2)
                    self._finish(i, SUCCESS, share, result=result)
                return {i: SUCCESS for i in indexes}
            error = failure_text(result)
            kind = classify([result.output, error])
            if self.policy.should_retry(attempt, kind):
                wait = self.policy.backoff(attempt)
                self.events.retrying(indexes[0], attempt, wait, f"group {label}: {error}")
                if self.cancel.wait(wait):
                    return {i: PENDING for i in indexes}
                continue
            if len(indexes) > 1 and not result.killed_by and not result.timed_out:
                statuses: dict[int, ChunkStatus] = {}
                for i in indexes:  # which chunks fail their own checks
                    if self.cancel.is_set():
                        break
                    statuses |= self._publish([i])
                return statuses
            error += inspection_note(result, audited=True)
            for i in indexes:
                self.results[i] = result
                self._finish(i, FAILED, round(seconds, 2), error=f"checks of {label}: {error}")
            return {i: FAILED for i in indexes}

    def close(self) -> None:
        """End the session's dbt process, if any (it holds the warehouse until then)."""
        if self.session is not None:
            self.session.close()

    def _set_pid(self, indexes: list[int], pid: int) -> None:
        """Record the dbt process running chunks `indexes` (one, or a group's)."""
        started = process_start_time(pid)
        for index in indexes:
            with self.store.update(index) as c:
                c.pid, c.pid_started = pid, started

    def _finish(
        self,
        index: int,
        status: ChunkStatus,
        seconds: float,
        *,
        error: str | None = None,
        result: DbtResult | None = None,
    ) -> None:
        found = dbt_results.metrics(result.run_results if result else None)
        with self.store.update(index) as c:
            c.status, c.finished_at, c.seconds, c.error = status, now_iso(), seconds, error
            c.pid = c.pid_started = None
            if status == SUCCESS:
                c.rows, c.bytes_processed, c.bytes_billed = (
                    found.rows,
                    found.bytes_processed,
                    found.bytes_billed,
                )
        if status != FAILED or error is None or not error.startswith("transient failure"):
            self.events.finished(index)
