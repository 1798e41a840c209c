"""`python -m driver validate`: run the validation tests for a window and print a report.

`dbt test` of the data tests on the mart, on the models upstream of it and on the raw
sources, with the window vars (without a window: everything), in one dbt call; the report is
driver.validation.report's.

`dbt test` writes (the stored failures, nba_monitoring.validation_history), so the command
holds the target's lease like a backfill (driver.backfill.lease): while another run holds it,
validate waits --wait seconds, then exits 3 naming it. SIGINT / SIGTERM end the dbt process
and exit 130 / 143 with one line. Exit code 0 when nothing failed at error level, 1
otherwise, 2 for bad input (nothing run), 3 the lease is held.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from driver import options
from driver.backfill.command import Interrupted, SignalGuard
from driver.backfill.lease import (
    EXIT_LEASE_HELD,
    LeaseHeld,
    add_wait_argument,
    check_database,
    check_wait,
    new_run_id,
    target_lease,
)
from driver.backfill.state import STATE_DIR
from driver.dates import parse_window
from driver.dbt.invoke import PARSE_CACHE_DIR, DbtSession, dbt_runner, other_vars
from driver.errors import EXIT_FAILED, EXIT_OK, UsageError
from driver.project import adapter_type
from driver.validation.report import SELECTION, ValidationReport, report_from_run


def checked_window(start: str | None, end: str | None) -> tuple[str | None, str | None]:
    """Both dates as ISO strings, or both None (everything); UsageError otherwise."""
    if (start is None) != (end is None):
        raise UsageError("give both --start-date and --end-date, or neither (validate all)")
    if start is not None and end is not None:
        s, e = parse_window(start, end)
        return s.isoformat(), e.isoformat()
    return None, None


def validate_window(
    start: str | None,
    end: str | None,
    target: str,
    run_dir: Path,
    dbt_command: Sequence[str] | None = None,
    extra_vars: Mapping[str, object] | None = None,
    *,
    parse_cache: Path | None = None,
    session: DbtSession | None = None,
    env: Mapping[str, str] | None = None,
) -> ValidationReport:
    """Run the validation tests for start..end (both None: everything) and report;
    `extra_vars` are more dbt vars (--vars); `parse_cache` keeps dbt's partial parse
    (driver.dbt.invoke.seed_parse); `session`: run in that dbt process (a backfill's serial
    chunks') instead of a new one; `env`: more environment for dbt.

    Raises UsageError for a bad window or target; dbt problems end up in `.error`. Takes no
    lease: the caller holds it (a backfill, or `run` below).
    """
    start, end = checked_window(start, end)
    adapter_type(target)  # a target of the profile, or UsageError
    res = dbt_runner(session, dbt_command)(
        ["test", "--select", *SELECTION, "--resource-type", "test"],
        target=target,
        run_dir=Path(run_dir),
        vars_json=other_vars(extra_vars),
        window=(start, end),
        parse_cache=parse_cache,
        env=env,
    )
    return report_from_run(res, start=start, end=end, target=target)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_window(parser, required=False)
    options.add_target(parser)
    parser.add_argument(
        "--run-dir",
        type=Path,
        default=None,
        help="where dbt writes its target/ and logs/ (default: target/backfill/validate_<target>,"
        " replaced by the next validation of that target)",
    )
    add_wait_argument(parser)
    options.add_vars(parser)
    options.add_dbt_executable(parser)


def run(args: argparse.Namespace) -> int:
    checked_window(args.start_date, args.end_date)
    adapter = adapter_type(args.target)
    check_wait(args.wait)
    check_database(args.target, adapter)  # dbt would create an empty file at a mistyped path
    dbt_command = options.dbt_command(args)
    extra_vars = options.dbt_vars(args)
    guard = SignalGuard(threading.Event())
    with guard.installed():
        try:
            with target_lease(args.target, adapter, new_run_id(), args.wait):
                run_dir = args.run_dir or STATE_DIR / f"validate_{args.target}"
                report = validate_window(
                    args.start_date,
                    args.end_date,
                    args.target,
                    run_dir,
                    dbt_command,
                    extra_vars,
                    parse_cache=STATE_DIR / PARSE_CACHE_DIR,
                )
        except LeaseHeld as exc:
            sys.stderr.write(f"error: {exc}\n")
            return EXIT_LEASE_HELD
        except Interrupted as exc:  # run_dbt ended the dbt process group on the way out
            sys.stderr.write(f"{exc} during the validation: stopped; dbt test ended\n")
            return exc.code
    tty = sys.stdout.isatty()
    width = os.get_terminal_size().columns if tty else 160
    sys.stdout.write(report.render(use_rich=tty, width=width))
    sys.stdout.flush()
    return EXIT_OK if report.ok else EXIT_FAILED
