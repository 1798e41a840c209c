"""CLI options more than one command takes, defined once, and what they resolve to."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shlex

import yaml

from driver.dates import parse_window
from driver.dbt.invoke import default_dbt_command
from driver.errors import UsageError
from driver.project import DEFAULT_TARGET, adapter_type


def add_target(parser: argparse.ArgumentParser) -> None:
    """--target: a target of the dbt profile (default dev, or $NBA_DBT_TARGET)."""
    parser.add_argument(
        "--target",
        default=os.environ.get("NBA_DBT_TARGET", DEFAULT_TARGET),
        help=f"dbt target of profiles.yml (default {DEFAULT_TARGET} or $NBA_DBT_TARGET); "
        "its adapter type (duckdb, bigquery) decides how the driver runs",
    )


def add_window(parser: argparse.ArgumentParser, *, required: bool) -> None:
    """--start-date / --end-date: an inclusive window of ISO dates. A required window may be
    given as --days-back N instead (checked by `window`, so a missing one exits 2 too)."""
    if required:
        add_days_back(parser)
    parser.add_argument("--start-date", help="first date (YYYY-MM-DD)")
    parser.add_argument("--end-date", help="last date, inclusive (YYYY-MM-DD)")


def add_days_back(parser: argparse.ArgumentParser) -> None:
    """--days-back N: the window today-N .. today (UTC), for schedulers."""
    parser.add_argument(
        "--days-back",
        type=int,
        default=None,
        metavar="N",
        help="the window today-N .. today (UTC); instead of --start-date/--end-date",
    )


def days_back_window(days: int, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """today-N .. today (UTC); UsageError for N < 0."""
    if days < 0:
        raise UsageError(f"--days-back must be >= 0 (0 is today only), got {days}")
    end = today or dt.datetime.now(dt.UTC).date()
    return end - dt.timedelta(days=days), end


def optional_window(args: argparse.Namespace) -> tuple[dt.date, dt.date] | None:
    """--start-date/--end-date, or --days-back N, or None when neither is given. Mixing them,
    or one date without the other, is a UsageError."""
    days = getattr(args, "days_back", None)
    start, end = args.start_date, args.end_date
    if days is not None:
        if start is not None or end is not None:
            raise UsageError("give either --days-back or --start-date/--end-date, not both")
        return days_back_window(days)
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise UsageError("give both --start-date and --end-date (or --days-back N)")
    return parse_window(start, end)


# Vars the driver sets itself: the window, and how chunks store test failures.
RESERVED_VARS = ("start_date", "end_date", "store_failures_as")


def add_vars(parser: argparse.ArgumentParser) -> None:
    """--vars: extra dbt vars for every dbt call, next to the window's."""
    parser.add_argument(
        "--vars",
        dest="dbt_vars",
        default=None,
        help="extra dbt vars, a YAML mapping, e.g. '{allow_shrink: true}' (the window comes "
        "from --start-date/--end-date)",
    )


def dbt_vars(args: argparse.Namespace) -> dict[str, object]:
    """The checked --vars mapping ({} without it)."""
    text = getattr(args, "dbt_vars", None)
    if text is None:
        return {}
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(
            f"--vars is not YAML ({exc}); give a mapping like '{{name: value}}'"
        ) from None
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise UsageError(f"--vars must be a mapping of var names to values, got {text!r}")
    reserved = sorted(set(value) & set(RESERVED_VARS))
    if reserved:
        raise UsageError(
            f"--vars may not set {', '.join(reserved)}: the driver sets them "
            "(use --start-date/--end-date for the window)"
        )
    return dict(value)


def add_dbt_executable(parser: argparse.ArgumentParser) -> None:
    """--dbt-executable: for tests only (a fake dbt); hidden from --help."""
    parser.add_argument("--dbt-executable", default=None, help=argparse.SUPPRESS)


def window(args: argparse.Namespace) -> tuple[dt.date, dt.date]:
    """The checked --start-date/--end-date pair, or today-N .. today for --days-back N."""
    found = optional_window(args)
    if found is None:
        raise UsageError("give a window: --start-date D --end-date D, or --days-back N")
    return found


def target_adapter(args: argparse.Namespace) -> str:
    """The adapter type of --target, read from the profile (UsageError if unknown)."""
    return adapter_type(args.target)


def dbt_command(args: argparse.Namespace) -> list[str]:
    """The dbt command line to run: the project's dbt, or --dbt-executable (tests)."""
    value = getattr(args, "dbt_executable", None)
    if value is None:
        return default_dbt_command()
    command = shlex.split(value)
    if not command:
        raise UsageError("--dbt-executable is empty: give a command, or leave the option out")
    return command
