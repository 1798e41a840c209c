"""`python -m driver <command>`: each command lives in its own module.

A command module exposes `add_arguments(parser)` and `run(args) -> int`. Only the module of
the command being run is imported (so `backfill` never imports the generator's numpy, and
`--help` imports none).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

from driver.errors import EXIT_USAGE, UsageError

COMMANDS = {
    "generate": ("synth.cli", "write synthetic raw NBA tables as Parquet (python -m synth)"),
    "load": ("driver.warehouse.load", "load raw Parquet files into nba_raw of a target"),
    "backfill": ("driver.backfill.command", "build a date range in chunks (parallel, resumable)"),
    "status": ("driver.backfill.status", "show the state of a backfill, or of a target's dates"),
    "refresh": ("driver.backfill.refresh", "rebuild the dates the warehouse says are out of date"),
    "validate": (
        "driver.validation.command",
        "run the validation tests for a window and print a report",
    ),
    "report": (
        "nba_report.cli",
        "write the HTML quality report of a window",
    ),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse exits 2 too; keep its message
        self.print_usage(sys.stderr)
        sys.stderr.write(f"error: {message}\n")
        sys.exit(EXIT_USAGE)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; the arguments of `command` (None: of every command) are added."""
    parser = _Parser(prog="python -m driver", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if command is None or command == name:
            module = importlib.import_module(module_name)
            p.description = module.__doc__ or help_text
            module.add_arguments(p)
            p.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    args = build_parser(command if command in COMMANDS else None).parse_args(argv)
    try:
        return int(args._module.run(args))
    except UsageError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
