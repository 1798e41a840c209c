"""`python -m nba_report --start-date D --end-date D [--target T] --out report.html`.

Exit codes: 0 written; 2 bad input (bad dates, unknown or non-DuckDB target, missing
database or monitoring views, a window without rows) with a message that says what to fix,
and nothing written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from driver.dates import parse_window
from driver.errors import EXIT_OK, EXIT_USAGE, UsageError
from driver.files import atomic_write_text
from driver.project import DEFAULT_TARGET, PROJECT_DIR
from nba_report import data as report_data
from nba_report.render import render
from nba_report.warehouse import MART, Warehouse


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The report's options (also `python -m driver report`)."""
    p.add_argument("--start-date", help="first game date, YYYY-MM-DD (default: first in the mart)")
    p.add_argument("--end-date", help="last game date, YYYY-MM-DD (default: last in the mart)")
    p.add_argument("--target", default=DEFAULT_TARGET, help="dbt target (DuckDB targets)")
    p.add_argument("--out", required=True, type=Path, help="the HTML file to write")
    p.add_argument(
        "--runs-dir",
        type=Path,
        default=PROJECT_DIR / "target" / "backfill",
        help="where the driver's run_*.json reports are (default target/backfill)",
    )
    p.add_argument("--seed", type=int, default=42, help="seed of the spot-check sample")
    p.add_argument("--spot-checks", type=int, default=6, help="how many lines to spot-check")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m nba_report",
        description="Write the quality report of nba_analytics.player_game_summary for a "
        "window as one self-contained HTML file (opens offline).",
    )
    add_arguments(p)
    return p


def _window(wh: Warehouse, start: str | None, end: str | None) -> tuple[dt.date, dt.date]:
    if start is None and end is None:
        found = wh.rows(f"select min(game_date) as s, max(game_date) as e from {MART}")
        if not found or found[0]["s"] is None:
            raise UsageError(f"{MART} in {wh.location} has no rows: build it first")
        return found[0]["s"], found[0]["e"]
    assert start is not None and end is not None  # main checked: both or neither
    return parse_window(start, end)


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Write the report for parsed arguments; the exit code."""
    began = time.perf_counter()
    try:
        # the window first, before touching the warehouse
        if (args.start_date is None) != (args.end_date is None):
            raise UsageError("give both --start-date and --end-date, or neither (the whole mart)")
        if args.start_date is not None:
            parse_window(args.start_date, args.end_date)
        if args.spot_checks < 0:
            raise UsageError(f"--spot-checks must be >= 0, got {args.spot_checks}")
        if args.out.is_dir():
            raise UsageError(f"--out {args.out} is a directory: give a file name")
        wh = Warehouse.open(args.target)
        try:
            start, end = _window(wh, args.start_date, args.end_date)
            loaded = report_data.load(
                wh,
                start,
                end,
                runs_dir=args.runs_dir,
                seed=args.seed,
                spot_checks=args.spot_checks,
            )
        finally:
            wh.close()
    except UsageError as exc:
        print(f"nba_report: {exc}", file=sys.stderr)
        return EXIT_USAGE
    page = render(loaded, dt.datetime.now(dt.UTC))
    atomic_write_text(args.out, page)
    print(
        f"report written: {args.out} ({len(page) / 1024:.0f} KiB, "
        f"{time.perf_counter() - began:.1f} s)"
    )
    return EXIT_OK
