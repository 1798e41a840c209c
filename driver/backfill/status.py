"""Show a backfill's state file (chunks by status, failed chunks with their errors), or with
--target / a window the warehouse's own record: built, stale and missing dates per month and the
last build time, read from the build_staleness view (works from any machine, no local state).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from driver import options
from driver.backfill import progress as prog
from driver.backfill.refresh import (
    CHANGED_LOGIC,
    FRESH,
    MISSING,
    SCHEDULED,
    SCHEMA,
    STALE,
    STATES,
    VIEW,
    DayState,
    ViewMissing,
    read_view,
)
from driver.backfill.state import FAILED, STATE_DIR, SUCCESS, read_state
from driver.errors import EXIT_FAILED, EXIT_OK, UsageError
from driver.project import DEFAULT_TARGET, adapter_type


def _latest_state() -> Path:
    files = sorted(
        STATE_DIR.glob("state_*.json"),
        key=lambda p: p.stat().st_mtime,
    )
    if not files:
        raise UsageError("no state file under target/backfill/; pass --state-file PATH")
    return files[-1]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-file", type=Path, help="state file (default: the newest in target/backfill/)"
    )
    parser.add_argument(
        "--target",
        default=None,
        help="read the target's build ledger instead of a state file: dates built / stale / "
        "missing per month (default target with a window: dev or $NBA_DBT_TARGET)",
    )
    options.add_days_back(parser)
    options.add_window(parser, required=False)


def run(args: argparse.Namespace) -> int:
    window = options.optional_window(args)
    if args.target is not None or window is not None:
        if args.state_file is not None:
            raise UsageError("--state-file reads a local state; leave out --target and the window")
        return warehouse_status(args, window)
    return state_file_status(args)


def month_table(rows: list[DayState]) -> list[tuple[str, dict[str, int], str]]:
    """Per month: the count of dates in each state and the month's last build time."""
    months: dict[str, dict[str, int]] = {}
    last: dict[str, str] = {}
    for d in rows:
        month = d.day.strftime("%Y-%m")
        counts = months.setdefault(month, dict.fromkeys(STATES, 0))
        counts[d.state] += 1
        if d.built_at and d.built_at > last.get(month, ""):
            last[month] = d.built_at
    return [(m, months[m], last.get(m, "-")) for m in sorted(months)]


def warehouse_status(args: argparse.Namespace, window: tuple[dt.date, dt.date] | None) -> int:
    """Dates per month by state, from the target's staleness view; exit 1 if any is out of
    date (missing, stale, changed_logic; dates not played yet are not)."""
    target = args.target or os.environ.get("NBA_DBT_TARGET", DEFAULT_TARGET)
    adapter = adapter_type(target)
    try:
        rows = read_view(target, adapter, window)
    except ViewMissing:
        raise UsageError(
            f"{SCHEMA}.{VIEW} does not exist on {target}: nothing was built with the ledger yet "
            "(run a backfill or `python -m driver refresh`)"
        ) from None
    out = sys.stdout
    span = f"{window[0]}..{window[1]}" if window else "every date"
    out.write(f"target {target} ({adapter}), {span}: {len(rows)} dates\n")
    header = ("month", "built", "stale", "logic changed", "missing", "not played", "last build")
    table = [header] + [
        (m, *(str(c[s]) for s in (FRESH, STALE, CHANGED_LOGIC, MISSING, SCHEDULED)), last)
        for m, c, last in month_table(rows)
    ]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for r in table:
        line = "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True))
        out.write(f"  {line.rstrip()}\n")
    built = [d.built_at for d in rows if d.built_at]
    out.write(f"last build: {max(built) if built else 'never'}\n")
    behind = sum(d.state not in (FRESH, SCHEDULED) for d in rows)
    if behind:
        out.write(f"{behind} dates out of date: python -m driver refresh --target {target}\n")
    return EXIT_OK if behind == 0 else EXIT_FAILED


def state_file_status(args: argparse.Namespace) -> int:
    path = args.state_file or _latest_state()
    state = read_state(path)
    if state is None:
        raise UsageError(f"no state file at {path}")
    counts = state.counts()
    out = sys.stdout
    out.write(
        f"state {path}\n  target={state.target} window={state.start_date}..{state.end_date} "
        f"select={' '.join(state.selection)} chunks={state.chunking}\n"
        f"  last update {state.updated_at}; "
        + ", ".join(f"{k}: {v}" for k, v in counts.items())
        + "\n"
    )
    out.write(prog.render(prog.summary_table(state, "chunks")))
    for c in state.chunks:
        if c.status == FAILED:
            out.write(f"\nFAILED {c.label} ({c.attempts} attempts):\n{c.error}\n")
    return EXIT_OK if counts[SUCCESS] == len(state.chunks) else EXIT_FAILED
