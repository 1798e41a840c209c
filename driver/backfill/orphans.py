"""End dbt processes a killed backfill left behind, before their chunks are redone.

A chunk found `running` in the state file records the pid of its dbt process. If that
process still runs (its command line names the chunk's run dir, so a reused pid is never
touched), its process group is terminated: on DuckDB it would hold the file lock, on
BigQuery it would write the same partitions as the redo.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def _cmdline(pid: int) -> str | None:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return None


def end_leftover(pid: int | None, marker: str | None, grace: float = 10.0) -> bool:
    """Terminate process group `pid` if it is alive and its command line contains `marker`."""
    if not pid or not marker:
        return False
    cmd = _cmdline(pid)
    if cmd is None or marker not in cmd:
        return False
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return True
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if _cmdline(pid) is None:
                return True
            time.sleep(0.1)
    return True
