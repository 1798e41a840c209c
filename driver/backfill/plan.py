"""Check a backfill's inputs and decide what to run: the Plan. Nothing is run or written here.

How the chunks run depends on the target's adapter type, read from the profile: DuckDB
allows one writer per file (chunks run one at a time), BigQuery runs them in parallel; dbt
unit tests need relations, which BigQuery's ephemeral staging does not have, so they run
there only when asked (--unit-tests).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import re
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
from driver.project import DEFAULT_SELECTION, profile_setting

AUTO_CHUNK = "auto"
DEFAULT_CHUNK = AUTO_CHUNK
PARALLEL_CHUNK = "month"  # the auto chunk on engines that run chunks in parallel
# Memory budget per calendar day of a chunk's window, measured on the synthetic history
# (docs/benchmark.md, Scale): with DuckDB's memory_limit at 1 GB, 20 seasons (7,213 days) as
# one chunk spill and took 143 s where two chunks of 3,607 days took 80 s (the first
# measurement); with today's models both cost the same CPU (66.6 s one chunk, 63.9 s two, at
# load 3), so the rule keeps the smaller chunks. 0.2 MB/day = 5,000 days per GB.
MB_PER_DAY = 0.2
_SIZE = re.compile(r"\s*([0-9]*\.?[0-9]+)\s*([kmgt]i?b|b)?\s*", re.IGNORECASE)
_UNIT_BYTES = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
               "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}  # fmt: skip
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


def parse_size_mb(text: str, what: str) -> float:
    """'1GB', '1500MB', '1.5GiB' (DuckDB's units: GB = 10**9 bytes) in MB; UsageError if not."""
    match = _SIZE.fullmatch(text)
    if not match:
        raise UsageError(f"{what} must be a size like 1GB or 1500MB, got {text!r}")
    unit = (match.group(2) or "b").lower()
    return float(match.group(1)) * _UNIT_BYTES[unit] / 10**6


def _memory_budget(args: argparse.Namespace) -> tuple[float, str]:
    """The serial engine's memory budget in MB and where it came from."""
    if getattr(args, "memory_budget", None):
        return parse_size_mb(args.memory_budget, "--memory-budget"), "--memory-budget"
    for keys in (("config_options", "memory_limit"), ("settings", "memory_limit")):
        value = profile_setting(args.target, *keys)
        if value:
            where = f"memory_limit {value} of target {args.target}"
            return parse_size_mb(value, f"the profile's {'.'.join(keys)}"), where
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 10**6
    return 0.8 * total, "DuckDB's default memory_limit (80% of RAM)"


def budget_days(args: argparse.Namespace, mb_per_day: float = MB_PER_DAY) -> int:
    """The most days one window may hold within the serial engine's memory budget, at
    `mb_per_day` (a chunk's build: MB_PER_DAY; a group of serial chunks built at once:
    driver.backfill.runner.group_mb_per_day)."""
    return max(1, int(_memory_budget(args)[0] / mb_per_day))


def choose_chunking(
    args: argparse.Namespace, adapter: str, start: dt.date, end: dt.date
) -> tuple[Chunking, str]:
    """The chunking asked for, or the engine's (--chunk auto, the default), and why."""
    if args.chunk_days is not None:
        return Chunking(days=args.chunk_days), f"--chunk-days {args.chunk_days}"
    unit = args.chunk or DEFAULT_CHUNK
    if unit != AUTO_CHUNK:
        return Chunking(unit=unit), f"--chunk {unit}"
    if adapter not in SERIAL_ADAPTERS:
        return Chunking(unit=PARALLEL_CHUNK), (
            f"auto: {adapter} runs chunks in parallel, so {PARALLEL_CHUNK} chunks"
        )
    budget_mb, source = _memory_budget(args)
    max_days = max(1, int(budget_mb / MB_PER_DAY))
    window_days = (end - start).days + 1
    count = math.ceil(window_days / max_days)
    days = math.ceil(window_days / count)
    return Chunking(days=days), (
        f"auto: {adapter} runs one chunk at a time, so the fewest chunks that fit memory: "
        f"{budget_mb:,.0f} MB ({source}) / {MB_PER_DAY} MB per day = up to {max_days:,} days "
        f"a chunk; {window_days:,} days -> {count} chunk{'s' if count > 1 else ''}"
    )


def _check_numbers(args: argparse.Namespace) -> None:
    if args.retry_base_seconds < 0 or args.heartbeat_seconds <= 0:
        raise UsageError("--retry-base-seconds must be >= 0 and --heartbeat-seconds > 0")
    if args.max_attempts < 1:
        raise UsageError(f"--max-attempts must be at least 1, got {args.max_attempts}")
    if args.chunk_timeout is not None and args.chunk_timeout <= 0:
        raise UsageError(f"--chunk-timeout must be > 0 seconds, got {args.chunk_timeout}")


def check_selection(args: argparse.Namespace) -> list[str]:
    """--select (default DEFAULT_SELECTION), each item checked to be a dbt selection."""
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
    if existing.chunking != fresh.chunking:
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
    chunking, why = choose_chunking(args, adapter, start, end)
    notes.insert(0, f"chunking: {why}")
    selection = check_selection(args)
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
