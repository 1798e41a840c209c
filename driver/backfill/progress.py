"""Progress while chunks run, and the summary at the end.

On a terminal: a live `rich` bar (chunks done, days, rows, days/hour, ETA). Elsewhere (CI, log
files): one plain line per finished chunk and a heartbeat line every `heartbeat` seconds.
"""

from __future__ import annotations

import io
import sys
import threading
import time
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from driver.backfill.state import FAILED, SUCCESS, BackfillState, ChunkState


def fmt_int(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def fmt_bytes(value: int | None) -> str:
    if value is None:
        return "-"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(value)


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


class Tally:
    """Running totals for the chunks of this run."""

    def __init__(self, total_chunks: int, total_days: int) -> None:
        self.total_chunks, self.total_days = total_chunks, total_days
        self.done = self.failed = self.days = 0
        self.rows: int | None = None  # None until an adapter reports rows (DuckDB never does)
        self.began = time.monotonic()

    def add(self, chunk: ChunkState) -> None:
        if chunk.status == SUCCESS:
            self.done += 1
            self.days += chunk.days
            if chunk.rows is not None:
                self.rows = (self.rows or 0) + chunk.rows
        elif chunk.status == FAILED:
            self.failed += 1

    def elapsed(self) -> float:
        return time.monotonic() - self.began

    def days_per_hour(self) -> float | None:
        elapsed = self.elapsed()
        return self.days / elapsed * 3600 if self.days and elapsed > 0 else None

    def eta_seconds(self) -> float | None:
        rate = self.days_per_hour()
        left = self.total_days - self.days
        return left / rate * 3600 if rate else None

    def line(self) -> str:
        rate = self.days_per_hour()
        return (
            f"{self.done}/{self.total_chunks} chunks, {self.days}/{self.total_days} days, "
            f"{fmt_int(self.rows)} rows, {self.failed} failed, "
            f"{'-' if rate is None else f'{rate:,.0f}'} days/h, "
            f"elapsed {fmt_seconds(self.elapsed())}, ETA {fmt_seconds(self.eta_seconds())}"
        )


class PlainProgress:
    """Log lines: one per finished chunk, a heartbeat every `heartbeat` seconds."""

    def __init__(self, tally: Tally, out: TextIO, heartbeat: float = 30.0) -> None:
        self.tally, self.out, self.heartbeat = tally, out, heartbeat
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._beat, daemon=True, name="heartbeat")

    def __enter__(self) -> PlainProgress:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def _print(self, text: str) -> None:
        with self._lock:
            self.out.write(text + "\n")
            self.out.flush()

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat):
            self._print(f"[backfill] ... {self.tally.line()}")

    def note(self, text: str) -> None:
        self._print(f"[backfill] {text}")

    def started(self, chunk: ChunkState) -> None:
        self._print(f"[backfill] start  {chunk.label} (attempt {chunk.attempts})")

    def finished(self, chunk: ChunkState) -> None:
        self.tally.add(chunk)
        first = (chunk.error or "").strip().splitlines()[:1]
        detail = f": {first[0][:200]}" if chunk.status == FAILED and first else ""
        self._print(
            f"[backfill] {chunk.status:<7} {chunk.label} {fmt_seconds(chunk.seconds)} "
            f"rows={fmt_int(chunk.rows)}{detail} | {self.tally.line()}"
        )


class RichProgress:
    """A live bar on the terminal."""

    def __init__(self, tally: Tally, console: Console) -> None:
        self.tally, self.console = tally, console
        self.progress = Progress(
            TextColumn("[bold]backfill"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            console=console,
        )
        self.task = self.progress.add_task("chunks", total=tally.total_chunks, info="")

    def __enter__(self) -> RichProgress:
        self.progress.start()
        self._refresh()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def _refresh(self) -> None:
        t = self.tally
        rate = t.days_per_hour()
        info = (
            f"{t.days}/{t.total_days} days  {fmt_int(t.rows)} rows  "
            f"{'-' if rate is None else f'{rate:,.0f}'} days/h  "
            f"ETA {fmt_seconds(t.eta_seconds())}  failed {t.failed}"
        )
        self.progress.update(self.task, completed=t.done + t.failed, info=info)

    def note(self, text: str) -> None:
        self.console.log(text)

    def started(self, chunk: ChunkState) -> None:
        self._refresh()

    def finished(self, chunk: ChunkState) -> None:
        self.tally.add(chunk)
        if chunk.status == FAILED:
            first = (chunk.error or "").strip().splitlines()[:1]
            self.console.log(f"[red]failed[/red] {chunk.label}: {first[0][:200] if first else ''}")
        self._refresh()


ProgressView = PlainProgress | RichProgress


def make_progress(tally: Tally, *, heartbeat: float = 30.0) -> ProgressView:
    if sys.stderr.isatty():
        return RichProgress(tally, Console(stderr=True))
    return PlainProgress(tally, sys.stdout, heartbeat)


def summary_table(state: BackfillState, title: str) -> Table:
    table = Table(title=title, show_lines=False)
    for column in ("chunk", "status", "attempts", "time", "rows", "bytes billed", "error"):
        table.add_column(column, overflow="fold")
    for c in state.chunks:
        first = (c.error or "").strip().splitlines()[:1]
        table.add_row(
            c.label,
            c.status,
            str(c.attempts),
            fmt_seconds(c.seconds),
            fmt_int(c.rows),
            fmt_bytes(c.bytes_billed),
            first[0][:120] if first else "",
        )
    return table


def render(renderable: object, width: int = 140) -> str:
    console = Console(width=width, record=True, file=io.StringIO(), force_terminal=False)
    console.print(renderable)
    return console.export_text()
