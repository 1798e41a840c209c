"""Durable backfill state: one JSON file, rewritten atomically after every change.

A write goes to a temporary file in the same directory, is fsynced, then os.replace()d over
the old file (and the directory fsynced), so a crash at any moment leaves either the old or
the new state, never a torn file. A chunk is marked `running` before its dbt process starts
and `success`/`failed` after it ends: a chunk found `running` was cut off and is redone.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from driver.errors import UsageError
from driver.planning import Chunk

STATE_VERSION = 1
PENDING, RUNNING, SUCCESS, FAILED = "pending", "running", "success", "failed"
STATUSES = (PENDING, RUNNING, SUCCESS, FAILED)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass
class ChunkState:
    start: str
    end: str
    status: str = PENDING
    attempts: int = 0
    started_at: str | None = None
    finished_at: str | None = None
    seconds: float | None = None
    rows: int | None = None
    bytes_processed: int | None = None
    bytes_billed: int | None = None
    error: str | None = None
    pid: int | None = None
    run_dir: str | None = None

    @property
    def label(self) -> str:
        return f"{self.start}..{self.end}"

    @property
    def days(self) -> int:
        return (dt.date.fromisoformat(self.end) - dt.date.fromisoformat(self.start)).days + 1


@dataclass
class BackfillState:
    target: str
    start_date: str
    end_date: str
    selection: list[str]
    chunking: str
    chunks: list[ChunkState]
    full_refresh_pending: bool = False
    version: int = STATE_VERSION
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)

    @classmethod
    def new(
        cls,
        *,
        target: str,
        start: dt.date,
        end: dt.date,
        selection: Iterable[str],
        chunking: str,
        chunks: Iterable[Chunk],
        full_refresh: bool = False,
    ) -> BackfillState:
        return cls(
            target=target,
            start_date=start.isoformat(),
            end_date=end.isoformat(),
            selection=list(selection),
            chunking=chunking,
            chunks=[ChunkState(c.start.isoformat(), c.end.isoformat()) for c in chunks],
            full_refresh_pending=full_refresh,
        )

    def identity(self) -> dict[str, object]:
        return {
            "target": self.target,
            "window": f"{self.start_date}..{self.end_date}",
            "select": " ".join(self.selection),
        }

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for chunk in self.chunks:
            out[chunk.status] = out.get(chunk.status, 0) + 1
        return out

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> BackfillState:
        known = {f.name for f in fields(ChunkState)}
        chunks = [ChunkState(**{k: v for k, v in c.items() if k in known}) for c in data["chunks"]]
        top = {f.name for f in fields(cls)} - {"chunks"}
        return cls(chunks=chunks, **{k: v for k, v in data.items() if k in top})


def check_identity(state: BackfillState, expected: BackfillState, path: Path) -> None:
    """Refuse (UsageError) a state file made for another target, window or selection."""
    have, want = state.identity(), expected.identity()
    diffs = [
        f"{k}: file has {have[k]!r}, this run has {want[k]!r}" for k in want if have[k] != want[k]
    ]
    if diffs:
        raise UsageError(
            f"state file {path} belongs to another backfill ({'; '.join(diffs)}). "
            "Use --state-file with a new path, or --no-resume to overwrite it."
        )


def chunks_to_run(state: BackfillState, *, retry_failed: bool) -> list[int]:
    """Indexes of the chunks to run, in window order.

    Resume: every chunk not yet successful (failed ones before a successful one and chunks
    left `running` by a killed run included). --retry-failed: the failed chunks only.
    """
    wanted = {FAILED} if retry_failed else {PENDING, RUNNING, FAILED}
    return [i for i, c in enumerate(state.chunks) if c.status in wanted]


def read_state(path: Path) -> BackfillState | None:
    """The state in `path`, or None if there is none; UsageError if it is unreadable."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return None
    try:
        return BackfillState.from_dict(json.loads(text))
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise UsageError(
            f"state file {path} is not a backfill state ({exc}); "
            "remove it or pass --no-resume to start over"
        ) from None


def write_state(path: Path, state: BackfillState) -> None:
    """Write atomically: tmp file in the same dir, fsync, os.replace, fsync the dir."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state.updated_at = now_iso()
    payload = json.dumps(state.to_dict(), indent=2, sort_keys=True) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class StateStore:
    """The state of one run, shared by worker threads; every update is persisted at once."""

    def __init__(self, path: Path, state: BackfillState, *, persist: bool = True) -> None:
        self.path = Path(path)
        self.state = state
        self._persist = persist
        self._lock = threading.Lock()

    def save(self) -> None:
        with self._lock:
            self._write()

    def _write(self) -> None:
        if self._persist:
            write_state(self.path, self.state)

    @contextmanager
    def update(self, index: int) -> Iterator[ChunkState]:
        """Change chunk `index` under the lock; the new state is on disk when this returns."""
        with self._lock:
            yield self.state.chunks[index]
            self._write()

    def set_full_refresh_done(self) -> None:
        with self._lock:
            self.state.full_refresh_pending = False
            self._write()

    def snapshot(self) -> BackfillState:
        with self._lock:
            return BackfillState.from_dict(json.loads(json.dumps(self.state.to_dict())))
