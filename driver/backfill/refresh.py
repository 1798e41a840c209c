"""Rebuild only what the warehouse says is out of date: `python -m driver refresh`.

The warehouse keeps a build ledger (one row per date built) and a view, build_staleness, that
compares it with the raw tables and the current model logic: one row per date with raw rows or
a ledger row, `state` in missing / stale / changed_logic / fresh / scheduled (not played yet:
nothing to build), a human-readable `reason`,
`stale_tables` (which raw tables moved since the build). Refresh reads that view for the window,
prints what is out of date grouped by reason, cuts the dates into contiguous runs and builds
them as the chunks of a backfill (the same steps: lease, signals, retries, progress, state,
run report, validation). It needs no local state: the ledger is in the warehouse, so after a
killed backfill (state directory lost or not) refresh builds exactly the dates not yet built.

Dates whose only change is the model logic (changed_logic) are rebuilt with
--include-logic-changes, else listed as skipped. Nothing out of date: no dbt build runs.

Validation: every run's build checks exactly its dates before it publishes them
(write-audit-publish: the audit model's error-level tests). The validation report after
several runs is the backfill's, one `dbt test` over the first..last rebuilt date: the window
vars are one range, so checking only the rebuilt dates would take one dbt test (a dbt start-up
and parse) per run; the fresh dates between runs are re-checked instead, which costs test
queries, not dbt processes.

Exit codes as for backfill: 0 built and validated (or nothing to do), 1 a chunk or the
validation failed, 2 bad usage, 3 another run holds the target's lease, 130/143 interrupted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driver import options
from driver.backfill import command as backfill
from driver.backfill.chunks import Chunk
from driver.backfill.lease import (
    EXIT_LEASE_HELD,
    add_wait_argument,
    check_wait,
    database_file,
    new_run_id,
)
from driver.backfill.plan import Plan, UnitTests, check_selection, workers_for
from driver.errors import EXIT_FAILED, EXIT_OK, UsageError
from driver.project import DEFAULT_SELECTION

SCHEMA = "nba_analytics"
VIEW = "build_staleness"
LEDGER = "build_ledger"
# dbt run arguments that create the view when it is missing: the view and its direct parents
# (the views it reads, the ledger), never the mart. A ledger that exists is left alone; a new
# one is created empty (var ledger_bootstrap: nothing says what an existing mart was built
# from, so every date shows as missing).
CREATE_VIEW = ["--select", f"1+{VIEW}", "--exclude", LEDGER]
CREATE_VIEW_AND_LEDGER = ["--select", f"1+{VIEW}", "--vars", '{"ledger_bootstrap": true}']
# The view bakes in the project's fingerprint when it is created: re-created before reading
# when logic changes matter (--include-logic-changes); every build re-creates it too.
RECREATE_VIEW = ["--select", VIEW]
MISSING, STALE, CHANGED_LOGIC, FRESH = "missing", "stale", "changed_logic", "fresh"
SCHEDULED = "scheduled"  # games not played yet: nothing to build
STATES = (MISSING, STALE, CHANGED_LOGIC, FRESH, SCHEDULED)
COLUMNS = ("game_date", "state", "reason", "stale_tables", "built_at")


@dataclass(frozen=True)
class DayState:
    """One row of the staleness view."""

    day: dt.date
    state: str
    reason: str
    stale_tables: str
    built_at: str | None


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def day_state(row: Sequence[Any]) -> DayState:
    """A view row (in COLUMNS order) as a DayState; an unknown state is an error."""
    day, state, reason, tables, built_at = row
    if state not in STATES:
        raise UsageError(f"{SCHEMA}.{VIEW}: unknown state {state!r} on {day}")
    return DayState(
        _date(day),
        str(state),
        str(reason or ""),
        str(tables or ""),
        None if built_at is None else str(built_at),
    )


def _query(window: tuple[dt.date, dt.date] | None) -> str:
    where = ""
    if window is not None:  # parsed dates, never raw text
        where = (
            f" where game_date between date '{window[0].isoformat()}' "
            f"and date '{window[1].isoformat()}'"
        )
    cols = ", ".join(f"cast({c} as string)" if c == "built_at" else c for c in COLUMNS)
    return f"select {cols} from {SCHEMA}.{VIEW}{where} order by game_date"


class ViewMissing(Exception):
    """The staleness view does not exist on the target yet (`ledger`: the ledger table does)."""

    def __init__(self, ledger: bool) -> None:
        super().__init__(f"{SCHEMA}.{VIEW} missing")
        self.ledger = ledger


class ViewFailed(Exception):
    """The dbt run that creates the view failed (exit 1)."""


def _read_duckdb(path: Path, sql: str) -> list[tuple[Any, ...]]:
    import duckdb

    if not path.is_file():
        raise UsageError(
            f"DuckDB database {path} does not exist: load the raw tables first "
            "(python -m driver load --from <raw dir>) or fix NBA_DUCKDB_PATH"
        )
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:
        raise LeaseBusy(
            f"cannot open {path} read-only (another process writes it?): {exc}"
        ) from None
    try:
        found = {
            str(r[0])
            for r in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = ? and table_name in (?, ?)",
                [SCHEMA, VIEW, LEDGER],
            ).fetchall()
        }
        if VIEW not in found:
            raise ViewMissing(ledger=LEDGER in found)
        return [tuple(r) for r in con.execute(sql).fetchall()]
    finally:
        con.close()


def _read_bigquery(target: str, sql: str) -> list[tuple[Any, ...]]:
    from google.api_core.exceptions import NotFound

    from driver.warehouse.bigquery import client_for_target

    client = client_for_target(target)
    try:
        return [tuple(r.values()) for r in client.query(sql).result()]
    except NotFound:
        tables = f"{SCHEMA}.INFORMATION_SCHEMA.TABLES"
        sql = f"select count(*) from {tables} where table_name = '{LEDGER}'"
        try:
            ledger = any(r[0] for r in client.query(sql).result())
        except NotFound:  # no dataset yet
            ledger = False
        raise ViewMissing(ledger=ledger) from None


class LeaseBusy(Exception):
    """The DuckDB file is held by a writer: it cannot be read now."""


def read_view(target: str, adapter: str, window: tuple[dt.date, dt.date] | None) -> list[DayState]:
    """The staleness view's rows for `window` (None: every date); ViewMissing if not built."""
    sql = _query(window)
    if adapter == "duckdb":
        path = database_file(target, adapter)
        if path is None:
            raise UsageError(f"target {target!r}: refresh needs a DuckDB file path in the profile")
        rows = _read_duckdb(path, sql)
    elif adapter == "bigquery":
        rows = _read_bigquery(target, sql)
    else:
        raise UsageError(f"target {target!r} is {adapter}: refresh supports duckdb and bigquery")
    return [day_state(r) for r in rows]


def create_view(
    target: str, dbt_command: list[str], dbt_args: list[str], why: str, state_dir: Path
) -> None:
    """`dbt run <dbt_args>` (the view, maybe its parents; never the mart) in
    `<state_dir>/views_<target>`, from and keeping the state dir's dbt parse (the refresh's
    own backfill then reuses it); ViewFailed if it fails."""
    from driver.dbt.invoke import PARSE_CACHE_DIR, run_dbt

    run_dir = state_dir / f"views_{target}"
    sys.stdout.write(f"{why}: dbt run {shlex.join(dbt_args)}\n")
    sys.stdout.flush()
    result = run_dbt(
        ["run", *dbt_args],
        target=target,
        run_dir=run_dir,
        dbt_command=dbt_command,
        parse_cache=state_dir / PARSE_CACHE_DIR,
    )
    if not result.ok:
        tail = "\n".join(result.output.splitlines()[-20:])
        raise ViewFailed(f"dbt run {shlex.join(dbt_args)} failed (in {run_dir}):\n{tail}")


def date_runs(days: Iterable[dt.date]) -> list[Chunk]:
    """Sorted distinct dates cut into runs of consecutive days."""
    runs: list[Chunk] = []
    for day in sorted(set(days)):
        if runs and runs[-1].end + dt.timedelta(days=1) == day:
            runs[-1] = Chunk(runs[-1].start, day)
        else:
            runs.append(Chunk(day, day))
    return runs


def _ranges(days: Iterable[dt.date]) -> str:
    parts = [r.start.isoformat() if r.days == 1 else r.label for r in date_runs(days)]
    shown = ", ".join(parts[:6])
    return shown + (f", ... ({len(parts) - 6} more ranges)" if len(parts) > 6 else "")


def moved_tables(stale_tables: str) -> list[str]:
    """The table names of a stale_tables value ('<table> <old> -> <new>' entries joined by '; ')."""
    return [e.split()[0] for e in stale_tables.split("; ") if e.strip()]


def reason_of(d: DayState) -> str:
    return d.reason or d.state


def describe(rows: list[DayState], include_logic: bool) -> tuple[list[dt.date], list[str]]:
    """The dates to build and the lines that say why, grouped by reason (and what is skipped)."""
    groups: dict[str, list[DayState]] = {}
    skipped: list[DayState] = []
    for d in rows:
        if d.state in (FRESH, SCHEDULED):
            continue
        if d.state == CHANGED_LOGIC and not include_logic:
            skipped.append(d)
            continue
        groups.setdefault(reason_of(d), []).append(d)
    lines = []
    for reason, days in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        tables = sorted({name for d in days for name in moved_tables(d.stale_tables)})
        moved = f"; raw tables moved: {', '.join(tables)}" if tables else ""
        lines.append(
            f"  {reason}: {len(days)} day{'s' if len(days) != 1 else ''} "
            f"[{_ranges(d.day for d in days)}]{moved}"
        )
    if skipped:
        lines.append(
            f"  skipped, logic change only: {len(skipped)} day{'s' if len(skipped) != 1 else ''}"
            f" [{_ranges(d.day for d in skipped)}] (rebuild them with --include-logic-changes)"
        )
    return sorted(d.day for ds in groups.values() for d in ds), lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_days_back(parser)
    options.add_window(parser, required=False)
    options.add_target(parser)
    parser.add_argument(
        "--include-logic-changes",
        action="store_true",
        help="also rebuild the dates built by an older model logic (state changed_logic)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="list what is out of date and why; build nothing"
    )
    parser.add_argument(
        "--workers", type=int, help="parallel chunks on BigQuery; DuckDB runs one at a time"
    )
    parser.add_argument(
        "--select", nargs="+", default=None, help=f"dbt selection (default {DEFAULT_SELECTION[0]})"
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="where the run's state, report and dbt run dirs go (default target/backfill/)",
    )
    parser.add_argument("--max-attempts", type=int, default=3, help="attempts per chunk (3)")
    parser.add_argument("--fail-fast", action="store_true", help="stop after the first failure")
    parser.add_argument("--skip-validation", action="store_true", help="skip the validation")
    add_wait_argument(parser)
    options.add_vars(parser)
    options.add_dbt_executable(parser)


def state_dir(args: argparse.Namespace) -> Path:
    """Where the refresh keeps its state files, the view's dbt run and dbt's parse."""
    from driver.backfill.state import STATE_DIR

    return Path(args.state_dir or STATE_DIR)


def make_refresh_plan(args: argparse.Namespace, runs: list[Chunk], adapter: str) -> Plan:
    """A backfill Plan whose chunks are the runs to rebuild, with a state file of its own
    (written for the run report and `status`, never read back: the ledger is the truth)."""
    from driver.backfill.state import BackfillState

    workers, notes = workers_for(adapter, args.workers)
    selection = check_selection(args)
    state = BackfillState.new(
        target=args.target,
        start=runs[0].start,
        end=runs[-1].end,
        selection=selection,
        chunking="refresh",
        chunks=runs,
    )
    notes.insert(0, f"refresh: {len(runs)} run(s) of consecutive out-of-date dates")
    return Plan(
        target=args.target,
        adapter=adapter,
        start=runs[0].start,
        end=runs[-1].end,
        selection=selection,
        workers=workers,
        state_file=state_dir(args) / f"refresh_{args.target}_{args.run_id}.json",
        state=state,
        resumed=False,
        to_run=list(range(len(runs))),
        unit_tests=UnitTests.AUTO,
        dbt_command=options.dbt_command(args),
        extra_vars=options.dbt_vars(args),
        notes=notes,
    )


def refresh_planner(
    runs: list[Chunk], adapter: str, window: tuple[dt.date, dt.date] | None
) -> backfill.Planner:
    """The backfill planner of a refresh: `runs` first (dry run, path checks); under the
    target's lease the view is read again, since a run we waited for may have built some of
    the dates (NothingToBuild when it built them all)."""
    planned: list[list[Chunk]] = []

    def plan(args: argparse.Namespace) -> Plan:
        now = runs
        if planned:
            rows = read_view(args.target, adapter, window)
            now = date_runs(describe(rows, args.include_logic_changes)[0])
            if not now:
                raise backfill.NothingToBuild("another run built the dates meanwhile")
            if now != planned[-1]:
                sys.stdout.write(f"  the view changed while waiting: {len(now)} chunk(s) now\n")
        planned.append(now)
        return make_refresh_plan(args, now, adapter)

    return plan


def build(
    args: argparse.Namespace,
    runs: list[Chunk],
    adapter: str,
    window: tuple[dt.date, dt.date] | None,
) -> int:
    """Build the runs with the backfill's steps (lease, signals, retries, state, report,
    validation)."""
    # the backfill steps read these from their arguments
    args.chunk_timeout, args.retry_base_seconds, args.heartbeat_seconds = None, 5.0, 30.0
    args.run_id = new_run_id()
    return backfill.run(args, planner=refresh_planner(runs, adapter, window))


def read_or_create(
    args: argparse.Namespace, adapter: str, window: tuple[dt.date, dt.date] | None
) -> list[DayState]:
    """The view's rows. A missing view is created first (and the ledger, empty, if it is
    missing too); with --include-logic-changes the view is re-created first (it holds the
    fingerprint of the project that created it, so a logic change shows only after that)."""
    dbt_command = options.dbt_command(args)
    try:
        rows = read_view(args.target, adapter, window)
    except ViewMissing as missing:
        why = f"{SCHEMA}.{VIEW} not found on {args.target}"
        dbt_args = CREATE_VIEW if missing.ledger else CREATE_VIEW_AND_LEDGER
        create_view(args.target, dbt_command, dbt_args, why, state_dir(args))
        try:
            return read_view(args.target, adapter, window)
        except ViewMissing:
            raise ViewFailed(f"{SCHEMA}.{VIEW} still missing after dbt run") from None
    if not args.include_logic_changes:
        return rows
    create_view(args.target, dbt_command, RECREATE_VIEW, "--include-logic-changes", state_dir(args))
    return read_view(args.target, adapter, window)


def _span(window: tuple[dt.date, dt.date] | None) -> str:
    return f"{window[0]}..{window[1]}" if window else "every date"


def run(args: argparse.Namespace) -> int:
    window = options.optional_window(args)
    adapter = options.target_adapter(args)
    # every input checked before anything is read or run
    workers_for(adapter, args.workers)
    check_selection(args)
    options.dbt_vars(args)
    options.dbt_command(args)
    if args.max_attempts < 1:
        raise UsageError(f"--max-attempts must be at least 1, got {args.max_attempts}")
    check_wait(args.wait)
    deadline = time.monotonic() + args.wait
    while True:  # a DuckDB file being written cannot be read: wait like for the lease
        try:
            rows = read_or_create(args, adapter, window)
            break
        except ViewFailed as exc:
            sys.stderr.write(f"error: {exc}\n")
            return EXIT_FAILED
        except LeaseBusy as exc:
            if time.monotonic() >= deadline:
                sys.stderr.write(f"error: {exc}; retry later or give --wait SECONDS\n")
                return EXIT_LEASE_HELD
            time.sleep(min(2.0, max(0.0, deadline - time.monotonic())))
    days, lines = describe(rows, args.include_logic_changes)
    fresh = sum(d.state == FRESH for d in rows)
    scheduled = sum(d.state == SCHEDULED for d in rows)
    out = sys.stdout
    out.write(
        f"refresh {_span(window)} target={args.target} ({adapter}): {len(rows)} dates known, "
        f"{fresh} fresh, {scheduled} not played yet, {len(days)} to build\n"
    )
    for line in lines:
        out.write(line + "\n")
    if not days:
        out.write("nothing to build: every date is up to date\n")
        out.flush()
        return EXIT_OK
    runs = date_runs(days)
    out.write(f"  {len(runs)} chunk(s): {', '.join(r.label for r in runs[:8])}")
    out.write(" ...\n" if len(runs) > 8 else "\n")
    out.flush()
    return build(args, runs, adapter, window)
