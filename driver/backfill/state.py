"""Durable backfill state: one JSON file, rewritten atomically after every change.

A write goes to a temporary file in the same directory, is fsynced, then os.replace()d over
the old file (and the directory fsynced), so a crash at any moment leaves either the old or
the new state, never a torn file. A chunk is marked `running` before its dbt process starts
and `success`/`failed` after it ends: a chunk found `running` was cut off and is redone.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any

from driver.backfill.chunks import Chunk
from driver.errors import UsageError
from driver.files import atomic_write_text
from driver.project import PROJECT_DIR

STATE_VERSION = 1
# Where state files (and run reports, unit-test records) live unless --state-file says otherwise.
STATE_DIR = PROJECT_DIR / "target" / "backfill"


class ChunkStatus(StrEnum):
    """A chunk's status in the state file (stored as its string value)."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"


PENDING, RUNNING, SUCCESS, FAILED = (
    ChunkStatus.PENDING,
    ChunkStatus.RUNNING,
    ChunkStatus.SUCCESS,
    ChunkStatus.FAILED,
)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass
class ChunkState:
    start: str
    end: str
    status: ChunkStatus = PENDING
    attempts: int = 0
    started_at: str | None = None
    finished_at: str | None = None
    seconds: float | None = None
    rows: int | None = None
    bytes_processed: int | None = None
    bytes_billed: int | None = None
    error: str | None = None
    pid: int | None = None
    pid_started: int | None = None  # the dbt process's start time (clock ticks since boot)
    run_id: str | None = None  # the run that started it (NBA_BACKFILL_RUN_ID in its env)
    run_dir: str | None = None

    def __post_init__(self) -> None:
        self.status = ChunkStatus(self.status)  # read from JSON as a plain string

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

    def counts(self) -> dict[ChunkStatus, int]:
        out = dict.fromkeys(ChunkStatus, 0)
        for chunk in self.chunks:
            out[chunk.status] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BackfillState:
        """The state in `data` (parsed JSON); StateFormatError naming the first bad field."""
        check_state_dict(data)
        known = {f.name for f in fields(ChunkState)}
        chunks = [ChunkState(**{k: v for k, v in c.items() if k in known}) for c in data["chunks"]]
        top = {f.name for f in fields(cls)} - {"chunks"}
        return cls(chunks=chunks, **{k: v for k, v in data.items() if k in top})


class StateFormatError(ValueError):
    """A state file's content is not a backfill state; the message names the field."""


_OPTIONAL_TYPES: dict[str, tuple[type, ...]] = {  # ChunkState fields beyond start/end/status
    "attempts": (int,),
    "started_at": (str,),
    "finished_at": (str,),
    "seconds": (int, float),
    "rows": (int,),
    "bytes_processed": (int,),
    "bytes_billed": (int,),
    "error": (str,),
    "pid": (int,),
    "pid_started": (int,),
    "run_id": (str,),
    "run_dir": (str,),
}


def _check_date(value: object, where: str) -> dt.date:
    if not isinstance(value, str):
        raise StateFormatError(f"{where} must be a YYYY-MM-DD date, got {value!r}")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise StateFormatError(f"{where} must be a YYYY-MM-DD date, got {value!r}") from None


def check_state_dict(data: object) -> None:
    """Raise StateFormatError (naming the field) unless `data` has a backfill state's shape."""
    if not isinstance(data, dict):
        raise StateFormatError(f"the top level must be a JSON object, got {type(data).__name__}")
    for name in ("target", "start_date", "end_date", "chunking"):
        if not isinstance(data.get(name), str):
            raise StateFormatError(f"`{name}` must be a string, got {data.get(name)!r}")
    _check_date(data["start_date"], "`start_date`")
    _check_date(data["end_date"], "`end_date`")
    selection = data.get("selection")
    if not isinstance(selection, list) or not all(isinstance(s, str) for s in selection):
        raise StateFormatError(f"`selection` must be a list of strings, got {selection!r}")
    chunks = data.get("chunks")
    if not isinstance(chunks, list):
        raise StateFormatError(f"`chunks` must be a list, got {type(chunks).__name__}")
    statuses = ", ".join(s.value for s in ChunkStatus)
    for i, chunk in enumerate(chunks):
        where = f"chunks[{i}]"
        if not isinstance(chunk, dict):
            raise StateFormatError(f"{where} must be a mapping, got {chunk!r}")
        start = _check_date(chunk.get("start"), f"{where}.start")
        end = _check_date(chunk.get("end"), f"{where}.end")
        if end < start:
            raise StateFormatError(f"{where}: end {end} is before start {start}")
        status = chunk.get("status", PENDING)
        if status not in {s.value for s in ChunkStatus}:
            raise StateFormatError(f"{where}.status must be one of {statuses}, got {status!r}")
        for name, types in _OPTIONAL_TYPES.items():
            value = chunk.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, types)):
                kind = " or ".join(t.__name__ for t in types)
                raise StateFormatError(f"{where}.{name} must be {kind}, got {value!r}")
    if not isinstance(data.get("full_refresh_pending", False), bool):
        raise StateFormatError("`full_refresh_pending` must be true or false")


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


def default_state_file(target: str, start: dt.date, end: dt.date) -> Path:
    return STATE_DIR / f"state_{target}_{start}_{end}.json"


def read_state(path: Path) -> BackfillState | None:
    """The state in `path`, or None if there is none; UsageError if it is unreadable."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"state file {path} is a directory; pass --state-file a file path")
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"state file {path} cannot be read ({exc})") from None
    try:
        return BackfillState.from_dict(json.loads(text))
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise UsageError(
            f"state file {path} is not a backfill state ({exc}); "
            "remove it or pass --no-resume to start over"
        ) from None


def write_state(path: Path, state: BackfillState) -> None:
    """Write durably and atomically (driver.files.atomic_write_text with fsync)."""
    state.updated_at = now_iso()
    atomic_write_text(
        Path(path), json.dumps(state.to_dict(), indent=2, sort_keys=True) + "\n", durable=True
    )


class StateStore:
    """The state of one run, shared by worker threads; every update is persisted at once."""

    def __init__(self, path: Path, state: BackfillState) -> None:
        self.path = Path(path)
        self.state = state
        self._lock = threading.Lock()

    def save(self) -> None:
        with self._lock:
            self._write()

    def _write(self) -> None:
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
