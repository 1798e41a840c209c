"""One writer per target: the database a backfill writes, checked before dbt runs, and a lease.

DuckDB: the database file is the profile's `path` (relative to the project, as dbt opens it).
Its directory and the file itself must exist before any dbt process starts (dbt-duckdb would
create an empty database at a mistyped path, and a backfill reads the raw tables from it).
The lease is `<database>.lease` beside it, held with fcntl.flock for the whole run: two
processes cannot both hold it, and a holder that dies releases it with its file descriptors.
The file records the holder (host, pid, process start time, run id, since) so a second run
can say who holds it; a record left by a holder that is gone is taken over with a note.
The file is emptied, never removed, on release (removing it would let a waiter lock the
removed file while a third process locks a new one).

BigQuery: a row of nba_monitoring.build_leases per dataset written (project.dataset of the
target), taken with a conditional MERGE (driver.warehouse.bigquery.BigQueryLease), renewed
every BIGQUERY_LEASE_TTL / 4 seconds while the run lasts and deleted at its end; a holder
that dies stops renewing and its lease lapses after BIGQUERY_LEASE_TTL seconds. A run on the
same host as the holder can tell at once that it is gone (the row's holder names host, pid and
process start time): it takes the lease over with a note instead of waiting for the expiry
(a resume right after a kill -9).
"""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import json
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from driver.backfill.state import now_iso
from driver.errors import UsageError
from driver.project import PROJECT_DIR, profile_setting

EXIT_LEASE_HELD = 3
DUCKDB = "duckdb"
BIGQUERY = "bigquery"
BIGQUERY_LEASE_TTL = 600  # seconds a BigQuery lease lasts unless renewed


class LeaseHeld(Exception):
    """Another run holds the target's lease (exit 3); the message says who and since when."""


def add_wait_argument(parser: argparse.ArgumentParser) -> None:
    """--wait SECONDS: how long a command that writes the target waits for its lease."""
    parser.add_argument(
        "--wait",
        type=float,
        default=0.0,
        help="seconds to wait for another run holding the target's lease (default 0: exit 3)",
    )


def check_wait(wait: float) -> None:
    """UsageError unless --wait is >= 0."""
    if wait < 0:
        raise UsageError(f"--wait must be >= 0 seconds, got {wait}")


def new_run_id() -> str:
    """An id for one run of a command that writes the target: UTC time and pid."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + f"_{os.getpid()}"


def database_file(target: str, adapter: str) -> Path | None:
    """The DuckDB file `target` writes (None: not DuckDB, in memory, or a templated path)."""
    if adapter != DUCKDB:
        return None
    path = profile_setting(target, "path")
    if not path or path == ":memory:" or path.startswith("md:"):
        return None
    file = Path(path).expanduser()
    return file if file.is_absolute() else PROJECT_DIR / file


def check_database(target: str, adapter: str) -> Path | None:
    """UsageError unless `target`'s DuckDB file exists (a backfill reads its raw tables)."""
    file = database_file(target, adapter)
    if file is None:
        return None
    if not file.parent.is_dir():
        raise UsageError(
            f"DuckDB database {file}: directory {file.parent} does not exist; fix "
            f"NBA_DUCKDB_PATH (or the `path` of target {target!r} in profiles.yml)"
        )
    if file.is_dir():
        raise UsageError(f"DuckDB database {file} is a directory; point NBA_DUCKDB_PATH at a file")
    if not file.exists():
        raise UsageError(
            f"DuckDB database {file} does not exist: load the raw tables first "
            "(python -m driver load --from <raw dir>) or fix NBA_DUCKDB_PATH"
        )
    return file


def _stat(pid: int) -> list[str]:
    """/proc/<pid>/stat from field 3 (state) on; [] if there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    # the command name (field 2) may hold spaces: split after its closing parenthesis
    return stat[stat.rindex(")") + 2 :].split() if ")" in stat else []


def process_start_time(pid: int) -> int | None:
    """Start time of process `pid` in clock ticks since boot (/proc/<pid>/stat field 22)."""
    fields = _stat(pid)
    try:
        return int(fields[19])
    except (ValueError, IndexError):
        return None


def process_running(pid: int, started: int | None) -> bool:
    """Process `pid` runs (not a zombie) and started at `started` (clock ticks)."""
    fields = _stat(pid)
    return len(fields) > 19 and fields[0] != "Z" and fields[19] == str(started)


def holder_alive(holder: dict[str, object]) -> bool:
    """Whether the process a lease record names still runs (same pid and start time)."""
    pid, started = holder.get("pid"), holder.get("pid_started")
    if holder.get("host") != socket.gethostname() or not isinstance(pid, int):
        return True  # cannot tell from here: assume it is alive
    return process_running(pid, started if isinstance(started, int) else None)


_BIGQUERY_HOLDER = re.compile(r"(?P<host>\S+) pid (?P<pid>\d+) started (?P<started>\d+)")


def bigquery_holder_alive(holder: str) -> bool:
    """Whether the holder of a BigQuery lease row ("<host> pid <pid> started <ticks>") may
    still run: False only when it is on this host and that process is gone."""
    match = _BIGQUERY_HOLDER.fullmatch(holder.strip())
    if match is None:
        return True  # another format (an older run): cannot tell, it lapses by its expiry
    return holder_alive(
        {"host": match["host"], "pid": int(match["pid"]), "pid_started": int(match["started"])}
    )


def _describe(holder: dict[str, object]) -> str:
    return (
        f"run {holder.get('run_id')} (pid {holder.get('pid')} on {holder.get('host')}, "
        f"since {holder.get('since')})"
    )


def _read(fd: int) -> dict[str, object]:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 65536).decode(errors="replace")
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def _write(fd: int, data: dict[str, object]) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, (json.dumps(data, sort_keys=True) + "\n").encode() if data else b"")
    os.fsync(fd)


@contextmanager
def duckdb_lease(database: Path, run_id: str, since: str, wait: float = 0.0) -> Iterator[Path]:
    """Hold `<database>.lease` for the block; LeaseHeld after `wait` seconds if another run
    holds it. Yields the lease file's path."""
    path = database.with_name(database.name + ".lease")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + max(0.0, wait)
        announced = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _read(fd)
                if time.monotonic() >= deadline:
                    raise LeaseHeld(
                        f"{database} is being written by {_describe(holder)}; "
                        f"lease {path}. Wait for it, or pass --wait SECONDS"
                    ) from None
                if not announced:
                    sys.stdout.write(f"waiting up to {wait:.0f} s for {_describe(holder)}\n")
                    sys.stdout.flush()
                    announced = True
                time.sleep(0.5)
        previous = _read(fd)
        if previous and not holder_alive(previous):
            sys.stdout.write(f"note: took over the lease of {_describe(previous)}, now gone\n")
        pid = os.getpid()
        _write(
            fd,
            {
                "host": socket.gethostname(),
                "pid": pid,
                "pid_started": process_start_time(pid),
                "run_id": run_id,
                "since": since,
            },
        )
        try:
            yield path
        finally:
            _write(fd, {})
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def bigquery_lease(
    target: str, run_id: str, wait: float = 0.0, ttl: int = BIGQUERY_LEASE_TTL
) -> Iterator[str]:
    """Hold the BigQuery lease of `target`'s dataset for the block, renewed in a thread;
    LeaseHeld after `wait` seconds if another run holds it. Yields the leased key."""
    from google.api_core.exceptions import GoogleAPIError

    from driver.warehouse.bigquery import BigQueryLease, client_for_target

    client = client_for_target(target)
    dataset = profile_setting(target, "dataset") or profile_setting(target, "schema") or ""
    key = f"{client.project}.{dataset}"
    pid = os.getpid()
    holder = f"{socket.gethostname()} pid {pid} started {process_start_time(pid)}"
    lease = BigQueryLease(client, key, run_id, holder, ttl)
    deadline = time.monotonic() + max(0.0, wait)
    announced = False
    while True:
        try:
            lease.ensure_table()
            taken, before = lease.try_acquire()
            now = {} if taken else (lease.current() or {})
            gone = bool(now) and not bigquery_holder_alive(str(now.get("holder") or ""))
            if gone and lease.take_over(str(now.get("run_id"))):
                sys.stdout.write(
                    f"note: took over the lease of run {now.get('run_id')} "
                    f"({now.get('holder')}, since {now.get('acquired_at')}), now gone\n"
                )
                taken, before = True, None
        except GoogleAPIError as exc:
            raise UsageError(
                f"cannot take the lease of {key} in {client.project}.nba_monitoring."
                f"build_leases (the account needs to create and write that table): {exc}"
            ) from None
        if taken:
            break
        who = f"run {now.get('run_id')} ({now.get('holder')}, since {now.get('acquired_at')})"
        if time.monotonic() >= deadline:
            raise LeaseHeld(
                f"{key} is being written by {who}; lease row in "
                f"nba_monitoring.build_leases. Wait for it, or pass --wait SECONDS"
            )
        if not announced:
            sys.stdout.write(f"waiting up to {wait:.0f} s for {who}\n")
            sys.stdout.flush()
            announced = True
        time.sleep(5.0)
    if before and before.get("expired") and before.get("run_id") != run_id:
        sys.stdout.write(
            f"note: took over the expired lease of run {before.get('run_id')} "
            f"({before.get('holder')}, expired {before.get('expires_at')})\n"
        )
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(ttl / 4):
            try:
                if not lease.renew():
                    sys.stderr.write(f"WARNING: the lease of {key} is no longer this run's\n")
            except Exception as exc:  # noqa: BLE001 - a failed renewal is retried next beat
                sys.stderr.write(f"WARNING: renewing the lease of {key} failed: {exc}\n")

    renewer = threading.Thread(target=renew, name="lease-renewal", daemon=True)
    renewer.start()
    try:
        yield key
    finally:
        stop.set()
        renewer.join(timeout=5)
        lease.release()


@contextmanager
def target_lease(target: str, adapter: str, run_id: str, wait: float) -> Iterator[None]:
    """Hold `target`'s lease for the block: DuckDB `<database>.lease`, BigQuery the dataset's
    build_leases row; nothing for a DuckDB target without a file. LeaseHeld if another run
    holds it after `wait` seconds. Every command that writes the target takes it (backfill,
    refresh, validate: dbt test writes validation_history and the stored failures)."""
    if adapter == BIGQUERY:
        with bigquery_lease(target, run_id, wait):
            yield
        return
    database = database_file(target, adapter)
    if database is None:
        yield
        return
    with duckdb_lease(database, run_id, now_iso(), wait):
        yield
