"""Show a backfill's state file: chunks by status, failed chunks with their errors."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from driver.backfill import progress as prog
from driver.backfill.state import FAILED, STATE_DIR, SUCCESS, read_state
from driver.errors import EXIT_FAILED, EXIT_OK, UsageError


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


def run(args: argparse.Namespace) -> int:
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
