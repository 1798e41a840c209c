"""Build a date window in chunks with dbt: parallel where the engine allows, resumable, retried.

Each chunk runs `dbt build --select <selection>` for its window (given to dbt in the
environment, NBA_WINDOW_START / NBA_WINDOW_END: dbt's partial parse, kept next to the state
file, then serves every window); serial chunks share one dbt process, parallel chunks run one
each. The first chunk's build also runs the dbt unit tests where the target's adapter can.
State is kept in a JSON file (resume is the default); a summary and a JSON run report are
written at the end, and the validation report
covers the whole window: a backfill of one chunk reports the tests its build ran (one dbt
call in all), a backfill of several runs the data tests once more over the whole window at
the end (checks that span chunks, failures stored for every chunk).

`--dbt-executable CMD` (hidden) runs CMD instead of the project's dbt: for tests only (a
fake dbt, python_tests/fake_dbt.py).

One writer per target: the run holds the target's lease (driver.backfill.lease) from before
the first dbt process to the end; a second run waits --wait seconds, then exits 3. SIGINT or
SIGTERM at any moment ends the running dbt processes, writes the state and the run report and
exits 130 / 143 with a one-line summary.

Exit codes: 0 every chunk built and validation passed; 1 a chunk or the validation failed;
2 bad usage or input (nothing run, nothing written); 3 another run holds the target's lease;
130 interrupted (SIGINT); 143 terminated (SIGTERM).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from driver import options
from driver.backfill import progress as prog
from driver.backfill.chunks import UNITS
from driver.backfill.lease import (
    EXIT_LEASE_HELD,
    LeaseHeld,
    add_wait_argument,
    check_database,
    check_wait,
    new_run_id,
)
from driver.backfill.lease import target_lease as hold_target_lease
from driver.backfill.orphans import end_leftover
from driver.backfill.plan import (
    AUTO_CHUNK,
    DEFAULT_PARALLEL_WORKERS,
    MAX_WORKERS,
    MB_PER_DAY,
    NO_UNIT_TEST_ADAPTERS,
    SERIAL_ADAPTERS,
    Plan,
    UnitTests,
    budget_days,
    make_plan,
    print_plan,
    retry_command,
)
from driver.backfill.raw_window import raw_rows_in_window
from driver.backfill.report import write_report
from driver.backfill.retry import RetryPolicy
from driver.backfill.runner import (
    CHUNK_VARS,
    RUN_ID_ENV,
    STEP_VARS,
    ChunkEvents,
    ChunkRunner,
    group_mb_per_day,
    serial_session,
    steps_inlined,
)
from driver.backfill.scheduler import StopReason, run_chunks
from driver.backfill.state import (
    FAILED,
    PENDING,
    RUNNING,
    SUCCESS,
    BackfillState,
    StateStore,
    now_iso,
)
from driver.dbt.invoke import PARSE_CACHE_DIR, DbtResult, DbtSession
from driver.dbt.results import shared_relations
from driver.dbt.unit_tests import UnitTestRecord
from driver.errors import EXIT_FAILED, EXIT_OK, UsageError
from driver.project import DEFAULT_SELECTION

EXIT_INTERRUPTED = 130  # SIGINT; any signal: 128 + its number (SIGTERM: 143)
# Decides what a run builds; called before the lease (dry run, paths) and again under it.
Planner = Callable[[argparse.Namespace], Plan]


class NothingToBuild(Exception):
    """A planner found nothing left to build under the lease (a run we waited for built it)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_window(parser, required=True)
    options.add_target(parser)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--chunk-days", type=int, help="chunks of N days from --start-date")
    size.add_argument(
        "--chunk",
        choices=(AUTO_CHUNK, *UNITS),
        help="auto (default): on DuckDB the fewest chunks that fit the memory budget, on "
        "BigQuery months; or calendar chunks: month, season (Jul 1 - Jun 30)",
    )
    parser.add_argument(
        "--memory-budget",
        help="DuckDB: memory a chunk may use, e.g. 1GB (default: the profile's memory_limit); "
        f"--chunk auto plans chunks of at most budget / {MB_PER_DAY} MB days",
    )
    parser.add_argument(
        "--workers",
        type=int,
        help=f"parallel chunks on BigQuery (default {DEFAULT_PARALLEL_WORKERS}, "
        f"max {MAX_WORKERS}); DuckDB runs one at a time",
    )
    parser.add_argument("--state-file", type=Path, help="default target/backfill/state_*.json")
    parser.add_argument(
        "--resume",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="redo every chunk not yet successful (default); --no-resume starts over",
    )
    parser.add_argument("--retry-failed", action="store_true", help="run only failed chunks")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    parser.add_argument(
        "--select", nargs="+", default=None, help=f"dbt selection (default {DEFAULT_SELECTION[0]})"
    )
    parser.add_argument(
        "--full-refresh", action="store_true", help="rebuild the incremental models (first chunk)"
    )
    parser.add_argument("--fail-fast", action="store_true", help="stop after the first failure")
    parser.add_argument("--skip-validation", action="store_true", help="skip the validation")
    unit = parser.add_mutually_exclusive_group()
    unit.add_argument(
        "--unit-tests",
        dest="unit_tests",
        action="store_const",
        const=UnitTests.ALWAYS,
        default=UnitTests.AUTO,
        help="run the dbt unit tests in the first chunk's build, on any adapter. Default: "
        "run them (not on BigQuery) unless they passed before for the same project files, "
        "dbt versions, target and selection",
    )
    unit.add_argument(
        "--skip-unit-tests",
        dest="unit_tests",
        action="store_const",
        const=UnitTests.NEVER,
        help="never run the dbt unit tests",
    )
    parser.add_argument("--max-attempts", type=int, default=3, help="attempts per chunk (3)")
    parser.add_argument("--chunk-timeout", type=float, help="seconds before a chunk is ended")
    parser.add_argument(
        "--retry-base-seconds",
        type=float,
        default=5.0,
        help="backoff base: retry n waits up to base * 2**(n-1) s, capped at 120 (default 5)",
    )
    parser.add_argument(
        "--heartbeat-seconds", type=float, default=30.0, help="log-mode heartbeat interval (30)"
    )
    add_wait_argument(parser)
    options.add_vars(parser)
    options.add_dbt_executable(parser)


@contextmanager
def interrupt_handler(cancel: threading.Event) -> Iterator[None]:
    """SIGINT/SIGTERM set `cancel` (no new chunks; running dbt processes are ended)."""

    def handler(signum: int, _frame: object) -> None:
        if not cancel.is_set():
            sys.stderr.write(
                f"\n{signal.Signals(signum).name}: stopping; running chunks are ended and "
                "go back to pending\n"
            )
        cancel.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def dry_run(plan: Plan) -> int:
    """Print the plan and, on parallel (BigQuery) targets, the bytes each chunk would process."""
    print_plan(plan, dry_run=True)
    chunks = [plan.state.chunks[i] for i in plan.to_run]
    estimates = {}
    if plan.adapter not in SERIAL_ADAPTERS and chunks:
        from driver.warehouse.dry_run import estimate_bytes

        found = estimate_bytes(
            plan.target, plan.selection, chunks, plan.workers, plan.dbt_command,
            parse_cache=parse_cache(plan),  # read only: a dry run writes nothing
        )  # fmt: skip
        estimates = {e.label: e for e in found}
    for c in chunks:
        e = estimates.get(c.label)
        extra = ""
        if e is not None:
            extra = (
                f"  would process {prog.fmt_bytes(e.bytes)}"
                if e.error is None
                else (f"  estimate failed: {e.error.splitlines()[0] if e.error else ''}")
            )
        sys.stdout.write(f"  {c.label} ({c.days} days, {c.status}){extra}\n")
    if estimates:
        total = sum(e.bytes or 0 for e in estimates.values())
        sys.stdout.write(f"  total: {prog.fmt_bytes(total)} (BigQuery dry-run estimate)\n")
    sys.stdout.write("dry run: nothing built, no state or report written\n")
    return EXIT_OK


def end_leftovers(plan: Plan) -> None:
    """A killed run may have left dbt processes behind: end them before their chunks rerun
    (only processes proven to be that run's: pid, start time and run id)."""
    for i in plan.to_run:
        chunk = plan.state.chunks[i]
        if chunk.status == RUNNING and end_leftover(chunk.pid, chunk.pid_started, chunk.run_id):
            sys.stdout.write(
                f"ended leftover dbt process {chunk.pid} of {chunk.label} (run {chunk.run_id})\n"
            )


class Interrupted(Exception):
    """SIGINT/SIGTERM outside the chunks: unwinds the run (run_dbt ends its dbt on the way)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def code(self) -> int:
        return 128 + self.signum


class SignalGuard:
    """SIGINT/SIGTERM for a whole run. While chunks run (inside `chunks()`) a signal sets
    `cancel`: no new chunk starts, running dbt processes are ended, their chunks go back to
    pending; the block then raises Interrupted. Anywhere else the signal raises Interrupted
    at once in the main thread. Later signals only repeat that the run is stopping."""

    def __init__(self, cancel: threading.Event) -> None:
        self.cancel = cancel
        self.signum: int | None = None
        self._soft = False

    def _handle(self, signum: int, _frame: object) -> None:
        first = self.signum is None
        if first:
            self.signum = signum
        self.cancel.set()
        name = signal.Signals(signum).name
        if self._soft or not first:
            sys.stderr.write(f"\n{name}: stopping; running dbt processes are ended\n")
            return
        raise Interrupted(signum)

    @contextmanager
    def installed(self) -> Iterator[None]:
        sigs = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self._handle) for sig in sigs}
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)

    @contextmanager
    def chunks(self) -> Iterator[None]:
        self._soft = True
        try:
            yield
        finally:
            self._soft = False
        if self.signum is not None:
            raise Interrupted(self.signum)


def decide_unit_tests(plan: Plan, record: UnitTestRecord) -> bool:
    """Whether the first chunk's build runs the dbt unit tests; says why when it does not."""
    if plan.unit_tests == UnitTests.NEVER:
        return False
    if plan.unit_tests == UnitTests.ALWAYS:
        return True
    if plan.adapter in NO_UNIT_TEST_ADAPTERS:
        sys.stdout.write(
            f"  unit tests: not run on {plan.adapter} ({NO_UNIT_TEST_ADAPTERS[plan.adapter]}); "
            "they run on DuckDB (make test), or force them with --unit-tests\n"
        )
        return False
    if record.passed():
        sys.stdout.write(
            "  unit tests: passed before for this project, target and selection; not rerun "
            f"(forget it: rm {record.path})\n"
        )
        return False
    return True


@dataclass
class ChunksOutcome:
    """What building the chunks ended with."""

    stopped_by: StopReason | None = None
    failed_unit_tests: list[str] = field(default_factory=list)
    unit_tests_passed: bool = False
    whole_window_build: DbtResult | None = None  # the one chunk's build, if it is the window

    @property
    def unit_test_error(self) -> str | None:
        """The failed unit tests, when they stopped the backfill."""
        if self.stopped_by != StopReason.UNIT_TESTS_FAILED:
            return None
        return ", ".join(self.failed_unit_tests)


def _warn_shared_relations(plan: Plan, view: prog.ProgressView, run_dir: Path) -> None:
    """In parallel mode, warn about relations every chunk rewrites (read from the first
    chunk's manifest): parallel chunks race on them."""
    if plan.workers < 2 or len(plan.to_run) < 2:
        return
    shared = shared_relations(run_dir)
    if shared:
        view.note(
            f"WARNING: {len(shared)} relations are rewritten by every chunk "
            f"(e.g. {', '.join(shared[:4])}); parallel chunks race on them, and a "
            "view filtered by the window can hand one chunk another's rows. Make "
            "them ephemeral / store no failures, or run with --workers 1."
        )


def parse_cache(plan: Plan) -> Path:
    """Where the run's dbt calls keep dbt's partial parse, next to the state file: the next
    run on this target starts from it instead of parsing the project again
    (driver.dbt.invoke.seed_parse)."""
    return plan.state_file.parent / PARSE_CACHE_DIR


def inlines_steps(plan: Plan, defer_checks: bool) -> bool:
    """Whether this run's chunks inline the project's steps (runner.steps_inlined)."""
    return steps_inlined([plan.state.chunks[i] for i in plan.to_run], defer_checks)


def build_chunks(
    plan: Plan,
    args: argparse.Namespace,
    store: StateStore,
    runs_dir: Path,
    cancel: threading.Event,
    view: prog.ProgressView,
    unit_tests: bool,
    session: DbtSession | None = None,
) -> ChunksOutcome:
    """Run the plan's chunks (lead chunk first, then in parallel where allowed); `session`:
    the serial chunks' dbt process (serial_session), which the caller ends."""
    chunks = store.state.chunks
    defer_checks = not plan.whole_window and not getattr(args, "skip_validation", False)
    runner = ChunkRunner(
        target=plan.target,
        selection=plan.selection,
        store=store,
        runs_dir=runs_dir,
        cancel=cancel,
        dbt_command=plan.dbt_command,
        policy=RetryPolicy(max_attempts=args.max_attempts, base_seconds=args.retry_base_seconds),
        events=ChunkEvents(
            started=lambda i: view.started(chunks[i]),
            finished=lambda i: view.finished(chunks[i]),
            retrying=lambda i, n, wait, err: view.note(
                f"{chunks[i].label}: transient failure, attempt {n}; "
                f"retrying in {wait:.1f} s: {err.splitlines()[0][:160] if err else ''}"
            ),
            lead_built=lambda i, run_dir: _warn_shared_relations(plan, view, run_dir),
        ),
        timeout=args.chunk_timeout,
        # one chunk stores its test failures: its build is the validation
        chunk_vars={**plan.extra_vars, **({} if plan.whole_window else CHUNK_VARS)},
        unit_tests=unit_tests,
        run_id=getattr(args, "run_id", ""),
        session=session,
        parse_cache=parse_cache(plan),
        # several chunks: the validation at the end runs the input and warn-level checks once
        defer_checks=defer_checks,
        inline_steps=inlines_steps(plan, defer_checks),
        fail_fast=args.fail_fast,
        # a group is built as one chunk of its window: as long as the memory budget allows
        group_max_days=budget_days(args, group_mb_per_day(inlines_steps(plan, defer_checks))),
    )
    stopped_by = run_chunks(
        plan.to_run,
        lambda i, fr, lead: runner.run(i, full_refresh=fr, lead=lead),
        workers=plan.workers,
        cancel=cancel,
        fail_fast=args.fail_fast,
        full_refresh=plan.state.full_refresh_pending,
        on_full_refresh_done=store.set_full_refresh_done,
        stop_after_lead_failure=runner.stop_reason,
        # serial chunks on a single-writer engine that defer the input checks: checked and
        # published by groups
        run_group=(
            runner.run_group
            if runner.session and defer_checks and plan.adapter in SERIAL_ADAPTERS
            else None
        ),
        groups=runner.groups,
    )
    return ChunksOutcome(
        stopped_by=stopped_by,
        failed_unit_tests=[uid for i in runner.results for uid in runner.failed_unit_tests(i)],
        unit_tests_passed=runner.unit_tests_passed,
        whole_window_build=runner.results.get(0) if plan.whole_window else None,
    )


def validate(
    plan: Plan,
    run_dir: Path,
    build: DbtResult | None,
    session: DbtSession | None = None,
    env: dict[str, str] | None = None,
) -> tuple[bool, str]:
    """The validation report of the whole window: from `build` (the dbt build of the one
    chunk that is the whole window) when it ran every validation test, else a `dbt test` now:
    in the chunks' dbt process when there is one (`session`: no second dbt start-up)."""
    from driver.validation.command import validate_window
    from driver.validation.report import SELECTION, report_from_run

    start, end = plan.start.isoformat(), plan.end.isoformat()
    if build is not None and plan.selection == SELECTION:
        report = report_from_run(build, start=start, end=end, target=plan.target)
    else:
        report = validate_window(
            start,
            end,
            plan.target,
            run_dir,
            plan.dbt_command,
            # the chunks inlined the steps (runner.STEP_VARS): their checks, here, too
            {
                **plan.extra_vars,
                **(STEP_VARS if inlines_steps(plan, not plan.whole_window) else {}),
            },
            parse_cache=parse_cache(plan),
            session=session,
            env=env,
        )
    return report.ok, report.render()


def print_summary(
    plan: Plan, state: BackfillState, tally: prog.Tally, elapsed: float, rows: int | None
) -> None:
    counts = state.counts()
    days_done = sum(c.days for c in state.chunks if c.status == SUCCESS)
    sys.stdout.write(prog.render(prog.summary_table(state, f"backfill {plan.start}..{plan.end}")))
    rate = tally.days / elapsed * 3600 if elapsed > 0 else 0.0
    sys.stdout.write(
        f"chunks: {counts[SUCCESS]} success, {counts[FAILED]} failed, {counts[PENDING]} pending, "
        f"{counts[RUNNING]} running of {len(state.chunks)}; days built: {days_done}; rows: "
        f"{prog.fmt_int(rows)}; this run: {tally.days} days in {prog.fmt_seconds(elapsed)} "
        f"({rate:,.0f} days/h)\n"
    )
    failed = [c for c in state.chunks if c.status == FAILED]
    for c in failed:
        sys.stdout.write(f"\nFAILED {c.label} after {c.attempts} attempt(s):\n{c.error}\n")
    if failed:
        sys.stdout.write(f"\nretry the failed chunks with:\n  {retry_command(plan)}\n")


@dataclass
class Validation:
    ok: bool | None = None  # None: not run
    text: str = ""


def check_window(
    plan: Plan,
    args: argparse.Namespace,
    outcome: ChunksOutcome,
    state: BackfillState,
    runs_dir: Path,
    session: DbtSession | None = None,
) -> Validation:
    """The validation of the whole window, when every chunk was built and nothing stopped
    (in the chunks' dbt process, `session`, when there is one)."""
    if outcome.stopped_by == StopReason.UNIT_TESTS_FAILED:
        sys.stdout.write(
            f"dbt unit tests failed in the first chunk's build ({outcome.unit_test_error}); "
            "no further chunk was launched (the failure is below)\n"
        )
        return Validation()
    complete = state.counts()[SUCCESS] == len(state.chunks)
    if not complete or outcome.stopped_by == StopReason.INTERRUPT or args.skip_validation:
        return Validation()
    env = {RUN_ID_ENV: getattr(args, "run_id", "")}  # the chunks' environment: same process
    build = outcome.whole_window_build
    return Validation(*validate(plan, runs_dir / "validation", build, session, env))


def exit_code(state: BackfillState, outcome: ChunksOutcome, validation: Validation) -> int:
    if outcome.stopped_by == StopReason.INTERRUPT:
        return EXIT_INTERRUPTED
    complete = state.counts()[SUCCESS] == len(state.chunks)
    if complete and validation.ok is not False and not outcome.unit_test_error:
        return EXIT_OK
    return EXIT_FAILED


@dataclass
class RunContext:
    """What one run writes besides the state: where, since when, and what it is doing."""

    plan: Plan
    store: StateStore
    run_id: str
    runs_dir: Path
    report_path: Path
    started_at: str = field(default_factory=now_iso)
    began: float = field(default_factory=time.monotonic)
    phase: str = "starting"

    def write_report(self, state: BackfillState, info: dict[str, Any]) -> Path:
        run_info: dict[str, Any] = {
            "run_id": self.run_id,
            "started_at": self.started_at,
            "finished_at": now_iso(),
            "seconds": round(time.monotonic() - self.began, 1),
            "state_file": str(self.plan.state_file),
            "runs_dir": str(self.runs_dir),
            "workers": self.plan.workers,
            "chunks_run": len(self.plan.to_run),
            "vars": self.plan.extra_vars,
            "notes": self.plan.notes,
            **info,
        }
        return write_report(self.report_path, state=state, run=run_info)


def check_paths(plan: Plan) -> None:
    """Before anything is written: the state path is not a directory, the database exists."""
    if plan.state_file.is_dir():
        raise UsageError(f"--state-file {plan.state_file} is a directory; give a file path")
    blocking = [p for p in plan.state_file.parents if p.exists() and not p.is_dir()]
    if blocking:
        raise UsageError(f"--state-file {plan.state_file}: {blocking[0]} is not a directory")
    check_database(plan.target, plan.adapter)


@contextmanager
def target_lease(plan: Plan, run_id: str, wait: float) -> Iterator[None]:
    """Hold the target's lease for the block (driver.backfill.lease); LeaseHeld if not."""
    with hold_target_lease(plan.target, plan.adapter, run_id, wait):
        yield


def finish_interrupted(ctx: RunContext, signum: int) -> int:
    """After SIGINT/SIGTERM: running chunks back to pending, state and report written, one
    line said; the exit code is 128 + the signal number."""
    name = signal.Signals(signum).name
    for i, chunk in enumerate(ctx.store.state.chunks):
        if chunk.status == RUNNING:
            with ctx.store.update(i) as c:
                c.status, c.pid, c.pid_started = PENDING, None, None
                c.error = "interrupted; resume redoes it"
    ctx.store.save()
    state = ctx.store.snapshot()
    counts = state.counts()
    code = 128 + signum
    report = ctx.write_report(
        state, {"stopped_by": f"{StopReason.INTERRUPT} ({name})", "phase": ctx.phase,
                "exit_code": code},
    )  # fmt: skip
    sys.stdout.flush()
    sys.stderr.write(
        f"{name} during {ctx.phase}: stopped; chunks {counts[SUCCESS]} success, "
        f"{counts[FAILED]} failed, {counts[PENDING]} pending of {len(state.chunks)}; "
        f"state {ctx.plan.state_file}; report {report}; resume with the same command\n"
    )
    return code


def run(args: argparse.Namespace, planner: Planner = make_plan) -> int:
    """The steps of one run; `planner` decides the chunks (refresh passes its own)."""
    guard = SignalGuard(threading.Event())
    with guard.installed():
        try:
            return plan_and_run(args, guard, planner)
        except NothingToBuild as exc:
            sys.stdout.write(f"nothing to build: {exc}\n")
            return EXIT_OK
        except LeaseHeld as exc:
            sys.stderr.write(f"error: {exc}\n")
            return EXIT_LEASE_HELD
        except Interrupted as exc:  # before the run began: nothing written
            sys.stderr.write(f"{exc} before the run began: nothing run or written\n")
            return exc.code


def plan_and_run(args: argparse.Namespace, guard: SignalGuard, planner: Planner = make_plan) -> int:
    """Plan, check the paths, take the target's lease and run (signals already guarded)."""
    plan = planner(args)
    check_wait(args.wait)
    if args.dry_run:
        try:
            return dry_run(plan)
        except Interrupted as exc:
            sys.stderr.write(f"{exc}: dry run stopped; nothing written\n")
            return exc.code
    check_paths(plan)
    stamp = new_run_id()
    args.run_id = stamp
    with target_lease(plan, stamp, args.wait):
        # planned again under the lease: a run we waited for may have built chunks
        plan = planner(args)
        base = plan.state_file.parent
        ctx = RunContext(
            plan=plan,
            store=StateStore(plan.state_file, plan.state),
            run_id=stamp,
            runs_dir=base / "runs" / f"{plan.state_file.stem}_{stamp}",
            report_path=base / f"run_{stamp}.json",
        )
        try:
            return run_leased(ctx, args, guard)
        except Interrupted as exc:
            return finish_interrupted(ctx, exc.signum)


def nothing_to_build(ctx: RunContext) -> int:
    """The window's raw tables are empty: no dbt runs, the mart is not touched, exit 0."""
    plan = ctx.plan
    sys.stdout.write(
        f"nothing to build: the raw tables hold no rows in {plan.start}..{plan.end}; "
        "no dbt process ran and the published tables were not touched\n"
    )
    report = ctx.write_report(
        plan.state, {"nothing_to_build": True, "days_run": 0, "exit_code": EXIT_OK}
    )
    sys.stdout.write(f"report: {report}\n")
    return EXIT_OK


def run_leased(ctx: RunContext, args: argparse.Namespace, guard: SignalGuard) -> int:
    """The backfill, holding the target's lease; Interrupted propagates to the caller."""
    plan, store, runs_dir = ctx.plan, ctx.store, ctx.runs_dir
    base = plan.state_file.parent
    ctx.phase = "start-up"
    end_leftovers(plan)
    # an empty window would only empty the published rows; --vars '{allow_shrink: true}' means it
    if (
        plan.to_run
        and not plan.extra_vars.get("allow_shrink")
        and raw_rows_in_window(plan.target, plan.adapter, plan.start, plan.end) == 0
    ):
        return nothing_to_build(ctx)
    store.save()
    print_plan(plan)
    unit_record = UnitTestRecord(base, plan.target, plan.selection)
    unit_tests = decide_unit_tests(plan, unit_record)

    tally = prog.Tally(len(plan.to_run), plan.days_to_run)
    outcome = ChunksOutcome()
    ctx.phase = "the chunks"
    # serial chunks share one dbt process; the validation at the end runs in it too
    session = serial_session(plan.workers, len(plan.to_run), plan.dbt_command)
    try:
        with (
            guard.chunks(),
            prog.make_progress(tally, heartbeat=args.heartbeat_seconds) as view,
        ):
            if plan.to_run:
                outcome = build_chunks(
                    plan, args, store, runs_dir, guard.cancel, view, unit_tests, session
                )
        if outcome.unit_tests_passed:
            unit_record.record()

        state = store.snapshot()
        ctx.phase = "the validation"
        validation = check_window(plan, args, outcome, state, runs_dir, session)
    finally:  # the session's dbt holds the warehouse until it ends
        if session is not None:
            session.close()
    ctx.phase = "the summary"
    elapsed = time.monotonic() - ctx.began
    known = [c.rows for c in state.chunks if c.status == SUCCESS and c.rows is not None]
    rows = sum(known) if known else None
    print_summary(plan, state, tally, elapsed, rows)
    if outcome.stopped_by:
        sys.stdout.write(f"stopped: {outcome.stopped_by}; resume with the same command\n")
    if validation.text:
        sys.stdout.write("\n" + validation.text.rstrip() + "\n")
    elif args.skip_validation and state.counts()[SUCCESS] == len(state.chunks):
        sys.stdout.write("validation skipped (--skip-validation)\n")

    code = exit_code(state, outcome, validation)
    failed = any(c.status == FAILED for c in state.chunks)
    report = ctx.write_report(
        state,
        {
            "days_run": tally.days,
            "rows": rows,
            "stopped_by": outcome.stopped_by,
            "unit_tests_run": unit_tests,
            "unit_test_error": outcome.unit_test_error,
            "validation_ok": validation.ok,
            "validation": validation.text or None,
            "retry_command": retry_command(plan) if failed else None,
            "exit_code": code,
        },
    )
    sys.stdout.write(f"state: {plan.state_file}\nreport: {report}\n")
    sys.stdout.flush()
    return code
