"""`python -m driver <command>`: each command lives in its own module.

A command module exposes `add_arguments(parser)` and `run(args) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from driver.errors import EXIT_USAGE, UsageError

COMMANDS = {
    "generate": ("driver.generate", "write synthetic raw NBA tables as Parquet"),
    "load": ("driver.load", "load raw Parquet files into nba_raw of a target"),
    "backfill": ("driver.backfill", "build a date range in chunks (parallel, resumable)"),
    "status": ("driver.status", "show the state of a backfill"),
    "validate": ("driver.validate", "run the validation tests for a window and print a report"),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 too; keep its message
        self.print_usage(sys.stderr)
        sys.stderr.write(f"error: {message}\n")
        sys.exit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m driver", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (module, help_text) in COMMANDS.items():
        mod = importlib.import_module(module)
        p = sub.add_parser(name, help=help_text, description=(mod.__doc__ or help_text))
        mod.add_arguments(p)
        p.set_defaults(_module=mod)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args._module.run(args))
    except UsageError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
