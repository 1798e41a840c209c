"""Strict ISO date parsing for CLI input (anything else is a UsageError)."""

from __future__ import annotations

import datetime as dt
import re

from driver.errors import UsageError

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_iso_date(value: str, flag: str) -> dt.date:
    """Parse YYYY-MM-DD; reject anything else (including SQL-shaped text) naming the flag."""
    if not isinstance(value, str) or not _ISO.fullmatch(value.strip()):
        raise UsageError(f"{flag} must be an ISO date YYYY-MM-DD, got {value!r}")
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise UsageError(f"{flag} {value!r} is not a real calendar date ({exc})") from None


def parse_window(start: str, end: str) -> tuple[dt.date, dt.date]:
    """Parse and check a --start-date/--end-date pair (start <= end)."""
    s = parse_iso_date(start, "--start-date")
    e = parse_iso_date(end, "--end-date")
    if e < s:
        raise UsageError(f"--end-date {e} is before --start-date {s}: swap them")
    return s, e
