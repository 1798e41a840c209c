"""Build a date window in chunks with dbt: parallel where the engine allows, resumable, retried.

Each chunk runs `dbt build --select <selection>` with vars {start_date, end_date} as its own
dbt process; the first chunk's build also runs the dbt unit tests. State is kept in a JSON
file (resume is the default); a summary and a JSON run report are written at the end, and the
validation report covers the whole window: a backfill of one chunk reports the tests its build
ran (one dbt call in all), a backfill of several runs the data tests once more over the
whole window at the end (checks that span chunks, failures stored for every chunk).

Exit codes: 0 every chunk built and validation passed; 1 a chunk or the validation failed;
2 bad usage or input (nothing run, nothing written); 130 interrupted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shlex
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from driver import progress as prog
from driver.chunk_runner import CHUNK_VARS, ChunkEvents, ChunkRunner
from driver.dates import parse_window
from driver.dbt import DbtResult, window_vars
from driver.dbt_output import error_text
from driver.errors import EXIT_FAILED, EXIT_OK, UsageError
from driver.orphans import end_leftover
from driver.parse_once import SharedParse
from driver.planning import UNITS, Chunking, plan_chunks
from driver.project import DEFAULT_SELECTION, PROJECT_DIR, TARGETS
from driver.retry import RetryPolicy
from driver.run_report import write_report
from driver.scheduler import run_chunks
from driver.state import (
    FAILED,
    PENDING,
    RUNNING,
    SUCCESS,
    BackfillState,
    StateStore,
    check_identity,
    chunks_to_run,
    now_iso,
    read_state,
)
from driver.unit_tests import UnitTestRecord

DEFAULT_CHUNK = "month"
SERIAL_TARGETS = {"dev": "DuckDB allows one writer per database file"}
DEFAULT_PARALLEL_WORKERS = 4
MAX_WORKERS = 20  # BigQuery queues at most 20 DML statements per table
EXIT_INTERRUPTED = 130


def default_state_file(target: str, start: dt.date, end: dt.date) -> Path:
    return PROJECT_DIR / "target" / "backfill" / f"state_{target}_{start}_{end}.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--start-date", required=True, help="first date (YYYY-MM-DD)")
    parser.add_argument("--end-date", required=True, help="last date, inclusive (YYYY-MM-DD)")
    parser.add_argument(
        "--target",
        default=os.environ.get("NBA_DBT_TARGET", "dev"),
        help=f"dbt target: {' | '.join(TARGETS)} (default dev or $NBA_DBT_TARGET)",
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--chunk-days", type=int, help="chunks of N days from --start-date")
    size.add_argument(
        "--chunk",
        choices=UNITS,
        help=f"calendar chunks: month, or season (Jul 1 - Jun 30); default {DEFAULT_CHUNK}",
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
    parser.add_argument(
        "--skip-unit-tests",
        action="store_true",
        help="skip the dbt unit tests (otherwise run in the first chunk's build, unless they "
        "passed before for the same project files, dbt versions, target and selection)",
    )
    parser.add_argument(
        "--parse-reuse",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="chunks reuse one dbt parse (default); --no-parse-reuse: each parses in full",
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


@dataclass
class Plan:
    target: str
    start: dt.date
    end: dt.date
    selection: list[str]
    chunking: Chunking
    workers: int
    notes: list[str]
    state_file: Path
    state: BackfillState
    resumed: bool
    to_run: list[int]


def _workers(target: str, asked: int | None) -> tuple[int, list[str]]:
    if asked is not None and asked < 1:
        raise UsageError(f"--workers must be at least 1, got {asked}")
    if target in SERIAL_TARGETS:
        note = []
        if asked and asked > 1:
            note = [
                f"target {target}: {SERIAL_TARGETS[target]}; running chunks one at a time "
                f"(--workers {asked} ignored)"
            ]
        return 1, note
    if asked is None:
        return DEFAULT_PARALLEL_WORKERS, []
    if asked > MAX_WORKERS:
        return MAX_WORKERS, [
            f"--workers {asked} capped at {MAX_WORKERS}: BigQuery queues at most "
            f"{MAX_WORKERS} DML statements per table"
        ]
    return asked, []


def make_plan(args: argparse.Namespace) -> Plan:
    """Check every input and decide what to run; raises UsageError, writes nothing."""
    start, end = parse_window(args.start_date, args.end_date)
    if args.target not in TARGETS:
        raise UsageError(f"--target must be one of {', '.join(TARGETS)}, got {args.target!r}")
    workers, notes = _workers(args.target, args.workers)
    if args.retry_base_seconds < 0 or args.heartbeat_seconds <= 0:
        raise UsageError("--retry-base-seconds must be >= 0 and --heartbeat-seconds > 0")
    if args.max_attempts < 1:
        raise UsageError(f"--max-attempts must be at least 1, got {args.max_attempts}")
    chunking = Chunking(days=args.chunk_days) if args.chunk_days is not None else None
    chunking = chunking or Chunking(unit=args.chunk or DEFAULT_CHUNK)
    selection = list(args.select or DEFAULT_SELECTION)
    for item in selection:
        if not item.strip() or item.startswith("-"):
            raise UsageError(f"--select {item!r} is not a dbt selection")
    if args.retry_failed and not args.resume:
        raise UsageError("--retry-failed needs the state of an earlier run; drop --no-resume")

    state_file = Path(args.state_file or default_state_file(args.target, start, end))
    fresh = BackfillState.new(
        target=args.target,
        start=start,
        end=end,
        selection=selection,
        chunking=chunking.describe(),
        chunks=plan_chunks(start, end, chunking),
        full_refresh=args.full_refresh,
    )
    existing = read_state(state_file) if args.resume else None
    if args.retry_failed and existing is None:
        raise UsageError(f"--retry-failed: no state file at {state_file} to retry from")
    state, resumed = fresh, False
    if existing is not None:
        check_identity(existing, fresh, state_file)
        state, resumed = existing, True
        if existing.chunking != fresh.chunking and (args.chunk_days or args.chunk):
            notes.append(
                f"resuming with the state's chunks ({existing.chunking}); "
                f"--no-resume to re-plan as {fresh.chunking}"
            )
        if args.full_refresh:
            if any(c.status == SUCCESS for c in existing.chunks):
                raise UsageError(
                    "--full-refresh drops the table, which would lose the chunks this state "
                    "already built; use --no-resume --full-refresh to rebuild everything"
                )
            state.full_refresh_pending = True
    return Plan(
        target=args.target,
        start=start,
        end=end,
        selection=selection,
        chunking=chunking,
        workers=workers,
        notes=notes,
        state_file=state_file,
        state=state,
        resumed=resumed,
        to_run=chunks_to_run(state, retry_failed=args.retry_failed),
    )


def retry_command(plan: Plan) -> str:
    cmd = [
        "python", "-m", "driver", "backfill",
        "--start-date", plan.start.isoformat(), "--end-date", plan.end.isoformat(),
        "--target", plan.target, "--state-file", str(plan.state_file),
    ]  # fmt: skip
    if plan.selection != DEFAULT_SELECTION:
        cmd += ["--select", *plan.selection]
    return shlex.join([*cmd, "--retry-failed"])


def print_plan(plan: Plan, *, dry_run: bool = False) -> None:
    out = sys.stdout
    state = plan.state
    days = sum(state.chunks[i].days for i in plan.to_run)
    how = ("resuming " if plan.resumed else "new state ") + str(plan.state_file)
    if dry_run:
        how += " (dry run: not written)"
    out.write(
        f"backfill {plan.start}..{plan.end} target={plan.target} select={' '.join(plan.selection)}"
        f"\n  chunks: {len(state.chunks)} ({state.chunking}), to run: {len(plan.to_run)} "
        f"({days} days), workers: {plan.workers}, {how}\n"
    )
    if state.full_refresh_pending:
        out.write("  full refresh: the first chunk to run does it, alone, before the others\n")
    for note in plan.notes:
        out.write(f"  note: {note}\n")
    out.flush()


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
    print_plan(plan, dry_run=True)
    chunks = [plan.state.chunks[i] for i in plan.to_run]
    estimates = {}
    if plan.target not in SERIAL_TARGETS and chunks:
        from driver.dry_run import estimate_bytes

        estimates = {
            e.label: e for e in estimate_bytes(plan.target, plan.selection, chunks, plan.workers)
        }
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


def _validate(plan: Plan, run_dir: Path, build: DbtResult | None) -> tuple[bool, str]:
    """The validation report of the whole window: from `build` (the dbt build of the one
    chunk that is the whole window) when it ran every validation test, else a `dbt test` now."""
    from driver.validate import SELECTION, report_from_run, validate_window

    start, end = plan.start.isoformat(), plan.end.isoformat()
    if build is not None and plan.selection == SELECTION:
        report = report_from_run(build, start=start, end=end, target=plan.target)
    else:
        report = validate_window(start, end, plan.target, run_dir)
    return report.ok, report.render()


def run(args: argparse.Namespace) -> int:
    plan = make_plan(args)
    if args.dry_run:
        return dry_run(plan)

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + f"_{os.getpid()}"
    base = plan.state_file.parent
    runs_dir = base / "runs" / f"{plan.state_file.stem}_{stamp}"
    store = StateStore(plan.state_file, plan.state)
    for i in plan.to_run:  # a killed run may have left dbt processes behind
        chunk = plan.state.chunks[i]
        if chunk.status == RUNNING and end_leftover(chunk.pid, chunk.run_dir):
            sys.stdout.write(f"ended leftover dbt process {chunk.pid} of {chunk.label}\n")
    store.save()
    print_plan(plan)

    cancel = threading.Event()
    began, started_at = time.monotonic(), now_iso()
    tally = prog.Tally(len(plan.to_run), sum(plan.state.chunks[i].days for i in plan.to_run))
    parse = SharedParse(runs_dir / "parse")
    stopped_by: str | None = None
    parse_error: str | None = None
    unit_test_error: str | None = None
    # One chunk that is the whole window: its build is the whole backfill (no up-front parse,
    # failures stored, its test results are the validation report).
    whole_window = len(plan.state.chunks) == 1
    whole_window_build: DbtResult | None = None
    unit_record = UnitTestRecord(plan.state_file.parent, plan.target, plan.selection)
    run_unit_tests = not args.skip_unit_tests and not unit_record.passed()
    if not args.skip_unit_tests and not run_unit_tests:
        sys.stdout.write(
            "  unit tests: passed before for this project, target and selection; not rerun "
            f"(forget it: rm {unit_record.path})\n"
        )

    with (
        interrupt_handler(cancel),
        prog.make_progress(tally, heartbeat=args.heartbeat_seconds) as view,
    ):
        if len(plan.to_run) > 1:  # parse once up front, fail early, reuse it in every chunk
            first = plan.state.chunks[plan.to_run[0]]
            last = plan.state.chunks[plan.to_run[-1]]
            reuse = args.parse_reuse
            other = window_vars(last.start, last.end, CHUNK_VARS) if reuse else None
            t0 = time.monotonic()
            parsed = parse.run(
                plan.target, window_vars(first.start, first.end, CHUNK_VARS), other, cancel
            )
            if parsed.cancelled:
                stopped_by = "interrupt"
            elif not parsed.ok:
                parse_error = error_text(parsed)
            else:
                view.note(f"project parsed in {time.monotonic() - t0:.1f} s; {parse.describe()}")
                shared = parse.shared_relations() if plan.workers > 1 else []
                if shared:
                    view.note(
                        f"WARNING: {len(shared)} relations are rewritten by every chunk "
                        f"(e.g. {', '.join(shared[:4])}); parallel chunks race on them, and a "
                        "view filtered by the window can hand one chunk another's rows. Make "
                        "them ephemeral / store no failures, or run with --workers 1."
                    )
        if plan.to_run and stopped_by is None and parse_error is None:
            runner = ChunkRunner(
                target=plan.target,
                selection=plan.selection,
                store=store,
                runs_dir=runs_dir,
                cancel=cancel,
                policy=RetryPolicy(
                    max_attempts=args.max_attempts, base_seconds=args.retry_base_seconds
                ),
                events=ChunkEvents(
                    started=lambda i: view.started(store.state.chunks[i]),
                    finished=lambda i: view.finished(store.state.chunks[i]),
                    retrying=lambda i, n, wait, err: view.note(
                        f"{store.state.chunks[i].label}: transient failure, attempt {n}; "
                        f"retrying in {wait:.1f} s: {err.splitlines()[0][:160] if err else ''}"
                    ),
                ),
                prepare_run_dir=parse.seed,
                executable=parse.executable(),
                extra_env=parse.env(),
                timeout=args.chunk_timeout,
                chunk_vars={} if whole_window else dict(CHUNK_VARS),
                unit_tests=run_unit_tests,
            )
            result = run_chunks(
                plan.to_run,
                lambda i, fr, lead: runner.run(i, full_refresh=fr, lead=lead),
                workers=plan.workers,
                cancel=cancel,
                fail_fast=args.fail_fast,
                full_refresh=plan.state.full_refresh_pending,
                on_full_refresh_done=store.set_full_refresh_done,
                stop_after_lead_failure=runner.stop_reason,
            )
            stopped_by = result.stopped_by
            if runner.unit_tests_passed:
                unit_record.record()
            if stopped_by == "unit tests failed":
                unit_test_error = ", ".join(
                    uid for index in runner.results for uid in runner.failed_unit_tests(index)
                )
            if whole_window:
                whole_window_build = runner.results.get(0)

    state = store.snapshot()
    counts = state.counts()
    complete = counts[SUCCESS] == len(state.chunks)
    validation_ok: bool | None = None
    validation_text = ""
    if parse_error:
        sys.stdout.write(f"dbt parse failed, no chunk was run:\n{parse_error}\n")
    if unit_test_error:
        sys.stdout.write(
            f"dbt unit tests failed in the first chunk's build ({unit_test_error}); no further "
            "chunk was launched (the failure is below)\n"
        )
    elif complete and stopped_by != "interrupt" and not args.skip_validation:
        validation_ok, validation_text = _validate(
            plan, runs_dir / "validation", whole_window_build
        )
    elapsed = time.monotonic() - began

    days_done = sum(c.days for c in state.chunks if c.status == SUCCESS)
    known = [c.rows for c in state.chunks if c.status == SUCCESS and c.rows is not None]
    rows = sum(known) if known else None
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
    if stopped_by:
        sys.stdout.write(f"stopped: {stopped_by}; resume with the same command\n")
    if validation_text:
        sys.stdout.write("\n" + validation_text.rstrip() + "\n")
    elif complete and args.skip_validation:
        sys.stdout.write("validation skipped (--skip-validation)\n")

    if stopped_by == "interrupt":
        code = EXIT_INTERRUPTED
    elif complete and validation_ok is not False and not (parse_error or unit_test_error):
        code = EXIT_OK
    else:
        code = EXIT_FAILED
    report = write_report(
        base / f"run_{stamp}.json",
        state=state,
        run={
            "started_at": started_at,
            "finished_at": now_iso(),
            "seconds": round(elapsed, 1),
            "state_file": str(plan.state_file),
            "runs_dir": str(runs_dir),
            "workers": plan.workers,
            "chunks_run": len(plan.to_run),
            "days_run": tally.days,
            "rows": rows,
            "stopped_by": stopped_by,
            "parse_error": parse_error,
            "parse_reuse": parse.describe(),
            "unit_test_error": unit_test_error,
            "validation_ok": validation_ok,
            "validation": validation_text or None,
            "retry_command": retry_command(plan) if failed else None,
            "exit_code": code,
            "notes": plan.notes,
        },
    )
    sys.stdout.write(f"state: {plan.state_file}\nreport: {report}\n")
    sys.stdout.flush()
    return code
