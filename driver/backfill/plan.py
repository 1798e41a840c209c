"""Check a backfill's inputs and decide what to run: the Plan. Nothing is run or written here.

How the chunks run depends on the target's adapter type, read from the profile: DuckDB
allows one writer per file (chunks run one at a time), BigQuery runs them in parallel; dbt
unit tests need relations, which BigQuery's ephemeral staging does not have, so they run
there only when asked (--unit-tests).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
import sys
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from driver import options
from driver.backfill.chunks import Chunking, plan_chunks
from driver.backfill.state import (
    SUCCESS,
    BackfillState,
    check_identity,
    chunks_to_run,
    default_state_file,
    read_state,
)
from driver.errors import UsageError
from driver.project import DEFAULT_SELECTION

DEFAULT_CHUNK = "month"
# Adapters that allow one writer at a time: chunks run serially there.
SERIAL_ADAPTERS = {"duckdb": "DuckDB allows one writer per database file"}
# Adapters whose builds cannot run dbt unit tests unless told (--unit-tests).
NO_UNIT_TEST_ADAPTERS = {"bigquery": "staging is ephemeral there and dbt unit tests need relations"}
DEFAULT_PARALLEL_WORKERS = 4
MAX_WORKERS = 20  # BigQuery queues at most 20 DML statements per table


class UnitTests(StrEnum):
    """--unit-tests / --skip-unit-tests; auto: where the adapter can, after a project change."""

    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


@dataclass
class Plan:
    target: str
    adapter: str
    start: dt.date
    end: dt.date
    selection: list[str]
    workers: int
    state_file: Path
    state: BackfillState
    resumed: bool
    to_run: list[int]
    unit_tests: UnitTests
    dbt_command: list[str]
    extra_vars: dict[str, object] = field(default_factory=dict)  # --vars, for every dbt call
    notes: list[str] = field(default_factory=list)

    @property
    def whole_window(self) -> bool:
        """One chunk that is the whole window: its build is the whole backfill."""
        return len(self.state.chunks) == 1

    @property
    def days_to_run(self) -> int:
        return sum(self.state.chunks[i].days for i in self.to_run)


def workers_for(adapter: str, asked: int | None) -> tuple[int, list[str]]:
    """How many chunks run at once on `adapter`, and a note when --workers was changed."""
    if asked is not None and asked < 1:
        raise UsageError(f"--workers must be at least 1, got {asked}")
    if adapter in SERIAL_ADAPTERS:
        note = []
        if asked and asked > 1:
            note = [
                f"{adapter}: {SERIAL_ADAPTERS[adapter]}; running chunks one at a time "
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


def _check_numbers(args: argparse.Namespace) -> None:
    if args.retry_base_seconds < 0 or args.heartbeat_seconds <= 0:
        raise UsageError("--retry-base-seconds must be >= 0 and --heartbeat-seconds > 0")
    if args.max_attempts < 1:
        raise UsageError(f"--max-attempts must be at least 1, got {args.max_attempts}")
    if args.chunk_timeout is not None and args.chunk_timeout <= 0:
        raise UsageError(f"--chunk-timeout must be > 0 seconds, got {args.chunk_timeout}")


def _selection(args: argparse.Namespace) -> list[str]:
    selection = list(args.select or DEFAULT_SELECTION)
    for item in selection:
        if not item.strip() or item.startswith("-"):
            raise UsageError(f"--select {item!r} is not a dbt selection")
    return selection


def _state(
    args: argparse.Namespace, fresh: BackfillState, state_file: Path, notes: list[str]
) -> tuple[BackfillState, bool]:
    """The state to run: the state file's when resuming (checked to be this backfill's),
    else `fresh`; and whether it was resumed."""
    if args.retry_failed and not args.resume:
        raise UsageError("--retry-failed needs the state of an earlier run; drop --no-resume")
    existing = read_state(state_file) if args.resume else None
    if existing is None:
        if args.retry_failed:
            raise UsageError(f"--retry-failed: no state file at {state_file} to retry from")
        return fresh, False
    check_identity(existing, fresh, state_file)
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
        existing.full_refresh_pending = True
    return existing, True


def make_plan(args: argparse.Namespace) -> Plan:
    """Check every input and decide what to run; raises UsageError, writes nothing."""
    start, end = options.window(args)
    adapter = options.target_adapter(args)
    workers, notes = workers_for(adapter, args.workers)
    _check_numbers(args)
    if args.chunk_days is not None:
        chunking = Chunking(days=args.chunk_days)
    else:
        chunking = Chunking(unit=args.chunk or DEFAULT_CHUNK)
    selection = _selection(args)
    dbt_command = options.dbt_command(args)
    extra_vars = options.dbt_vars(args)
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
    state, resumed = _state(args, fresh, state_file, notes)
    return Plan(
        target=args.target,
        adapter=adapter,
        start=start,
        end=end,
        selection=selection,
        workers=workers,
        state_file=state_file,
        state=state,
        resumed=resumed,
        to_run=chunks_to_run(state, retry_failed=args.retry_failed),
        unit_tests=UnitTests(args.unit_tests),
        dbt_command=dbt_command,
        extra_vars=extra_vars,
        notes=notes,
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
    how = ("resuming " if plan.resumed else "new state ") + str(plan.state_file)
    if dry_run:
        how += " (dry run: not written)"
    out.write(
        f"backfill {plan.start}..{plan.end} target={plan.target} ({plan.adapter}) "
        f"select={' '.join(plan.selection)}"
        f"\n  chunks: {len(state.chunks)} ({state.chunking}), to run: {len(plan.to_run)} "
        f"({plan.days_to_run} days), workers: {plan.workers}, {how}\n"
    )
    if state.full_refresh_pending:
        out.write("  full refresh: the first chunk to run does it, alone, before the others\n")
    for note in plan.notes:
        out.write(f"  note: {note}\n")
    out.flush()
