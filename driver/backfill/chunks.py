"""Plan a date window as chunks: N days, calendar months or seasons (Jul 1 - Jun 30).

Chunks are contiguous, inclusive, cover the window exactly and never overlap.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from driver.errors import UsageError

UNITS = ("month", "season")
SEASON_START_MONTH = 7  # a season runs Jul 1 .. Jun 30


@dataclass(frozen=True, order=True)
class Chunk:
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


@dataclass(frozen=True)
class Chunking:
    """How to cut a window: `days` N-day chunks from the window start, or a calendar `unit`."""

    days: int | None = None
    unit: str | None = None

    def __post_init__(self) -> None:
        if (self.days is None) == (self.unit is None):
            raise UsageError("choose one of --chunk-days N or --chunk month|season")
        if self.days is not None and self.days < 1:
            raise UsageError(f"--chunk-days must be at least 1, got {self.days}")
        if self.unit is not None and self.unit not in UNITS:
            raise UsageError(f"--chunk must be one of {', '.join(UNITS)}, got {self.unit!r}")

    def describe(self) -> str:
        return f"days:{self.days}" if self.days is not None else self.unit or ""


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _next_season(day: dt.date) -> dt.date:
    year = day.year + (1 if day.month >= SEASON_START_MONTH else 0)
    return dt.date(year, SEASON_START_MONTH, 1)


def plan_chunks(start: dt.date, end: dt.date, chunking: Chunking) -> list[Chunk]:
    """Cut [start, end] into chunks; calendar units are aligned to their boundaries and clipped."""
    if end < start:
        raise UsageError(f"--end-date {end} is before --start-date {start}: swap them")
    chunks: list[Chunk] = []
    cursor = start
    while cursor <= end:
        if chunking.days is not None:
            nxt = cursor + dt.timedelta(days=chunking.days)
        elif chunking.unit == "month":
            nxt = _next_month(cursor)
        else:
            nxt = _next_season(cursor)
        chunk_end = min(end, nxt - dt.timedelta(days=1))
        chunks.append(Chunk(cursor, chunk_end))
        cursor = chunk_end + dt.timedelta(days=1)
    return chunks
