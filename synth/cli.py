"""`python -m synth --start-date D --end-date D --seed N --out DIR [--clean]`.

Importing this module needs no numpy (the driver's CLI imports it to list its commands);
running the generator does: without it, exit 2 saying to install the `synth` extra.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from driver.dates import parse_window
from driver.errors import EXIT_USAGE, UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--start-date", required=True, help="first game date, YYYY-MM-DD")
    parser.add_argument("--end-date", required=True, help="last game date, YYYY-MM-DD")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--clean", action="store_true", help="no injected messiness")


def run(args: argparse.Namespace) -> int:
    start, end = parse_window(args.start_date, args.end_date)
    try:
        from synth.constants import FIRST_SEASON, LAST_SEASON
        from synth.pipeline import generate
        from synth.schedule import season_of
    except ImportError as exc:
        raise UsageError(
            f"the generator needs {exc.name or 'numpy'}, which is not installed: install the "
            "synth extra (pip install -c constraints.txt -e '.[synth]')"
        ) from None
    if args.seed < 0:
        raise UsageError(f"--seed must be a non-negative integer, got {args.seed}")
    first, last = season_of(start), season_of(end)
    if first < FIRST_SEASON or last > LAST_SEASON:
        raise UsageError(f"seasons {FIRST_SEASON}-{LAST_SEASON} only; got {first}-{last}")
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out} exists and is not a directory")
    counts = generate(args.seed, start, end, args.out, clean=args.clean)
    for name, n in counts.items():
        print(f"{name:32s} {n:>10,d} rows")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synth", description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except UsageError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
