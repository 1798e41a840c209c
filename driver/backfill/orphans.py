"""End dbt processes a killed backfill left behind, before their chunks are redone.

A chunk found `running` in the state file records its dbt process: pid, the process's start
time and the run id (driver.backfill.runner sets NBA_BACKFILL_RUN_ID in the process's env).
Only a process that matches all three is ended, its process group SIGTERMed then SIGKILLed:
a reused pid has another start time, another program has no such env. A command line is
never matched by substring. On DuckDB a leftover would hold the file lock, on BigQuery it
would write the same partitions as the redo.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from driver.backfill.lease import process_running
from driver.backfill.runner import RUN_ID_ENV


def _environ(pid: int) -> dict[str, str] | None:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


def is_ours(pid: int | None, started: int | None, run_id: str | None) -> bool:
    """Process `pid` runs, started at `started` (clock ticks) and carries run id `run_id`."""
    if not pid or started is None or not run_id:
        return False
    if not process_running(pid, started):
        return False
    env = _environ(pid)
    return env is not None and env.get(RUN_ID_ENV) == run_id


def end_leftover(
    pid: int | None, started: int | None, run_id: str | None, grace: float = 10.0
) -> bool:
    """End process group `pid` if is_ours(pid, started, run_id); whether it was ours."""
    if pid is None or not is_ours(pid, started, run_id):
        return False
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return True
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not process_running(pid, started):
                return True
            time.sleep(0.1)
    return True
