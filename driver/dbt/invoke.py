"""Run dbt as a subprocess (dbtRunner is not safe to run concurrently in one process).

The dbt command line is a parameter (`dbt_command`), decided by the CLI: the project's dbt
by default, a fake dbt in tests (the hidden --dbt-executable option).

Every call gets its own --target-path and --log-path so parallel chunks never share
partial-parse files, manifests or logs. The output streams to <run_dir>/dbt_output.log while
dbt runs (so a long chunk can be followed with tail -f) and is returned when it ends. dbt runs
in its own process group: a cancel event or a timeout terminates the whole group (dbt and any
child it started), SIGTERM first, SIGKILL after a grace period.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from driver.project import PROJECT_DIR, profiles_dir

TERMINATE_GRACE_SECONDS = 10.0


def signal_text(number: int) -> str:
    """A signal number with its name, e.g. "9 (SIGKILL)"."""
    try:
        return f"{number} ({signal.Signals(number).name})"
    except ValueError:
        return str(number)


@dataclass
class DbtResult:
    returncode: int
    output: str
    run_results: dict[str, Any] | None = field(default=None)
    cancelled: bool = False
    timed_out: bool = False
    run_dir: Path | None = None  # holds target/ (run_results, manifest) and logs/
    log_offset: int = 0  # where this call's lines begin in logs/dbt.log (shared by the dir's calls)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.cancelled and not self.timed_out

    @property
    def killed_by(self) -> str | None:
        """The signal that ended dbt when nobody here ended it (e.g. "9 (SIGKILL)"), else None."""
        if self.returncode >= 0 or self.cancelled or self.timed_out:
            return None
        return signal_text(-self.returncode)

    def log_text(self) -> str:
        """The lines this call wrote to dbt's log file (debug level; "" if there is none)."""
        log_file = dbt_log_file(self.run_dir) if self.run_dir is not None else None
        if log_file is None or not log_file.exists():
            return ""
        with open(log_file, "rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(self.log_offset if self.log_offset <= size else 0)  # 0: dbt rotated it
            return fh.read().decode("utf-8", errors="replace")


def dbt_log_file(run_dir: Path) -> Path:
    return Path(run_dir) / "logs" / "dbt.log"


def default_dbt_command() -> list[str]:
    """The dbt CLI next to this interpreter (the project venv), else `dbt` on PATH."""
    local = Path(sys.executable).parent / "dbt"
    return [str(local)] if local.exists() else ["dbt"]


def window_vars(
    start: str | None, end: str | None, extra: Mapping[str, object] | None = None
) -> str:
    """The --vars payload for a window (JSON is valid YAML)."""
    payload: dict[str, object] = dict(extra or {})
    if start is not None:
        payload["start_date"] = start
    if end is not None:
        payload["end_date"] = end
    return json.dumps(payload, sort_keys=True, default=str)  # dates from YAML --vars as ISO


def dbt_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DO_NOT_TRACK", "1")
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    env["DBT_PROFILES_DIR"] = str(profiles_dir())
    env.setdefault("DBT_PROJECT_DIR", str(PROJECT_DIR))
    if extra:
        env.update(extra)
    return env


def terminate_group(proc: subprocess.Popen[str], grace: float = TERMINATE_GRACE_SECONDS) -> None:
    """SIGTERM the process group of `proc`, then SIGKILL it if it is still there after `grace`."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def run_dbt(
    args: Sequence[str],
    *,
    target: str,
    run_dir: Path,
    vars_json: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    cancel: threading.Event | None = None,
    on_start: Callable[[int], None] | None = None,
    dbt_command: Sequence[str] | None = None,
) -> DbtResult:
    """Run `<dbt_command> <args>` for `target`, with target and log paths under run_dir.

    `dbt_command` defaults to the project's dbt (default_dbt_command). Returns the exit
    code, the combined output and target/run_results.json if written. `cancel` (set from
    another thread) or `timeout` ends the run; `on_start(pid)` is called once the process
    exists.
    """
    run_dir = Path(run_dir)
    target_path = run_dir / "target"
    log_path = run_dir / "logs"
    target_path.mkdir(parents=True, exist_ok=True)
    results_file = target_path / "run_results.json"
    results_file.unlink(missing_ok=True)  # never report a previous run's results
    log_file = dbt_log_file(run_dir)
    log_offset = log_file.stat().st_size if log_file.exists() else 0
    cmd = [
        *(dbt_command or default_dbt_command()),
        *args,
        "--project-dir",
        str(PROJECT_DIR),
        "--target",
        target,
        "--target-path",
        str(target_path),
        "--log-path",
        str(log_path),
    ]
    if vars_json is not None:
        cmd += ["--vars", vars_json]
    output_file = run_dir / "dbt_output.log"
    cancelled = timed_out = False
    with open(output_file, "w") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=PROJECT_DIR,
            env=dbt_env(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            process_group=0,  # our own group: Ctrl-C reaches the driver, which ends us cleanly
        )
        try:
            if on_start is not None:
                on_start(proc.pid)
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                try:
                    proc.wait(timeout=0.2)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if cancel is not None and cancel.is_set():
                    cancelled = True
                elif deadline is not None and time.monotonic() > deadline:
                    timed_out = True
                if cancelled or timed_out:
                    terminate_group(proc)
                    break
        finally:  # an exception here (a signal's, say) never leaves dbt running
            if proc.poll() is None:
                terminate_group(proc)
    output = output_file.read_text(errors="replace")
    if timed_out:
        output += f"\ndbt timed out after {timeout:.0f} s and was terminated\n"
    elif proc.returncode is not None and proc.returncode < 0 and not cancelled:
        output += f"\ndbt was killed by signal {signal_text(-proc.returncode)}\n"
    run_results = None
    if results_file.exists():
        try:
            run_results = json.loads(results_file.read_text())
        except json.JSONDecodeError:
            run_results = None
    returncode = proc.returncode if proc.returncode is not None else -1
    return DbtResult(
        returncode,
        output,
        run_results,
        cancelled=cancelled,
        timed_out=timed_out,
        run_dir=run_dir,
        log_offset=log_offset,
    )
