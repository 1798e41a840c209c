"""Run dbt: as a subprocess per call (run_dbt), or serial calls in one dbt process that
parses the project once (DbtSession, driver.dbt.worker; dbtRunner is not safe to run
concurrently in one process, so parallel chunks use run_dbt).

The dbt command line is a parameter (`dbt_command`), decided by the CLI: the project's dbt
by default, a fake dbt in tests (the hidden --dbt-executable option).

The build window goes to dbt in the environment (NBA_WINDOW_START / NBA_WINDOW_END, read by
macros/window.sql at run time only), other vars in --vars. dbt re-parses the whole project when
--vars change, not when an environment variable it never read while parsing changes, so every
window reuses one parse: a call given a `parse_cache` directory starts from the partial-parse
file the last call with the same target and vars left there (`seed_parse`) and leaves its own
when dbt wrote a new one (`keep_parse`). dbt checks that file itself (project files, vars,
profile, dbt version) and parses again whatever changed, so a stale or foreign cache costs a
parse, never a wrong manifest.

Every call gets its own --target-path and --log-path so parallel chunks never share
partial-parse files, manifests or logs. The output streams to <run_dir>/dbt_output.log while
dbt runs (so a long chunk can be followed with tail -f) and is returned when it ends. dbt runs
in its own process group: a cancel event or a timeout terminates the whole group (dbt and any
child it started), SIGTERM first, SIGKILL after a grace period.
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from driver.files import atomic_write_bytes
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
    """The --vars payload for a window (JSON is valid YAML): what a user types at the dbt CLI.
    The driver passes the window in the environment instead (window_env)."""
    payload: dict[str, object] = dict(extra or {})
    if start is not None:
        payload["start_date"] = start
    if end is not None:
        payload["end_date"] = end
    return json.dumps(payload, sort_keys=True, default=str)  # dates from YAML --vars as ISO


WINDOW_ENV = ("NBA_WINDOW_START", "NBA_WINDOW_END")
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
PARSE_CACHE_DIR = "dbt_parse"  # the cache's name next to a backfill's state file


def window_env(start: str | None, end: str | None) -> dict[str, str]:
    """The environment that gives dbt the window start..end (None: no window, all data; an
    NBA_WINDOW_* of the caller's own environment is overridden either way)."""
    return {WINDOW_ENV[0]: start or "", WINDOW_ENV[1]: end or ""}


def other_vars(extra: Mapping[str, object] | None) -> str | None:
    """The --vars payload for vars other than the window (None when there are none)."""
    return window_vars(None, None, extra) if extra else None


def _parse_cache_file(cache: Path, target: str, vars_json: str | None) -> Path:
    """One partial-parse file per target and vars: calls that differ there never share one."""
    key = hashlib.sha1(f"{target}\n{vars_json or ''}".encode()).hexdigest()[:16]
    return cache / f"{target}-{key}.msgpack"


def seed_parse(run_dir: Path, cache: Path, target: str, vars_json: str | None) -> None:
    """Put the cached partial-parse file (if any) where this call's dbt looks for it."""
    cached = _parse_cache_file(cache, target, vars_json)
    if cached.exists():
        shutil.copyfile(cached, Path(run_dir) / "target" / PARTIAL_PARSE_FILE)


def keep_parse(run_dir: Path, cache: Path, target: str, vars_json: str | None) -> None:
    """Keep the partial-parse file this call's dbt wrote, if it wrote a new one (atomic: a
    parallel call reads the old file or the new one, never half of one)."""
    written = Path(run_dir) / "target" / PARTIAL_PARSE_FILE
    if not written.exists():
        return
    data = written.read_bytes()
    cached = _parse_cache_file(cache, target, vars_json)
    if not cached.exists() or cached.read_bytes() != data:
        atomic_write_bytes(cached, data)


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


def _call_paths(run_dir: Path) -> tuple[Path, Path, int]:
    """Create run_dir/target, drop a previous run_results.json; (target, logs, log offset)."""
    target_path = run_dir / "target"
    target_path.mkdir(parents=True, exist_ok=True)
    (target_path / "run_results.json").unlink(missing_ok=True)  # never a previous run's
    log_file = dbt_log_file(run_dir)
    log_offset = log_file.stat().st_size if log_file.exists() else 0
    return target_path, run_dir / "logs", log_offset


def _dbt_args(args: Sequence[str], target: str, run_dir: Path, vars_json: str | None) -> list[str]:
    """The dbt command line after the executable: `args`, then the project, target, paths."""
    cmd = [
        *args,
        "--project-dir",
        str(PROJECT_DIR),
        "--target",
        target,
        "--target-path",
        str(run_dir / "target"),
        "--log-path",
        str(run_dir / "logs"),
    ]
    return [*cmd, "--vars", vars_json] if vars_json is not None else cmd


def _supervise(
    proc: subprocess.Popen[str],
    done: Callable[[float], bool],
    timeout: float | None,
    cancel: threading.Event | None,
) -> tuple[bool, bool]:
    """Wait until `done(poll_seconds)` says the call ended; a set `cancel` or the `timeout`
    ends proc's process group instead. Returns (cancelled, timed_out)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while not done(0.2):
        cancelled = cancel is not None and cancel.is_set()
        timed_out = not cancelled and deadline is not None and time.monotonic() > deadline
        if cancelled or timed_out:
            terminate_group(proc)
            return cancelled, timed_out
    return False, False


def _result(
    run_dir: Path,
    returncode: int | None,
    *,
    cancelled: bool,
    timed_out: bool,
    timeout: float | None,
    log_offset: int,
) -> DbtResult:
    """The DbtResult of a call that wrote <run_dir>/dbt_output.log and maybe run_results."""
    output = (run_dir / "dbt_output.log").read_text(errors="replace")
    if timed_out:
        output += f"\ndbt timed out after {timeout:.0f} s and was terminated\n"
    elif returncode is not None and returncode < 0 and not cancelled:
        output += f"\ndbt was killed by signal {signal_text(-returncode)}\n"
    run_results = None
    results_file = run_dir / "target" / "run_results.json"
    if results_file.exists():
        try:
            run_results = json.loads(results_file.read_text())
        except json.JSONDecodeError:
            run_results = None
    return DbtResult(
        returncode if returncode is not None else -1,
        output,
        run_results,
        cancelled=cancelled,
        timed_out=timed_out,
        run_dir=run_dir,
        log_offset=log_offset,
    )


def run_dbt(
    args: Sequence[str],
    *,
    target: str,
    run_dir: Path,
    vars_json: str | None = None,
    window: tuple[str | None, str | None] | None = None,
    parse_cache: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    cancel: threading.Event | None = None,
    on_start: Callable[[int], None] | None = None,
    dbt_command: Sequence[str] | None = None,
) -> DbtResult:
    """Run `<dbt_command> <args>` for `target`, with target and log paths under run_dir.

    `dbt_command` defaults to the project's dbt (default_dbt_command). `window` (start, end)
    goes to dbt in the environment (window_env; None: no window, whatever the caller's
    environment says), `vars_json` as --vars; with `parse_cache`
    the call reuses and refreshes the cached partial parse (seed_parse, keep_parse). Returns
    the exit code, the combined output and target/run_results.json if written. `cancel` (set
    from another thread) or `timeout` ends the run; `on_start(pid)` is called once the
    process exists.
    """
    run_dir = Path(run_dir)
    _, _, log_offset = _call_paths(run_dir)
    if parse_cache is not None:
        seed_parse(run_dir, parse_cache, target, vars_json)
    cmd = [*(dbt_command or default_dbt_command()), *_dbt_args(args, target, run_dir, vars_json)]
    call_env = {**(env or {}), **window_env(*(window or (None, None)))}
    cancelled = timed_out = False
    with open(run_dir / "dbt_output.log", "w") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=PROJECT_DIR,
            env=dbt_env(call_env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            process_group=0,  # our own group: Ctrl-C reaches the driver, which ends us cleanly
        )
        try:
            if on_start is not None:
                on_start(proc.pid)

            def ended(wait: float) -> bool:
                try:
                    proc.wait(timeout=wait)
                    return True
                except subprocess.TimeoutExpired:
                    return False

            cancelled, timed_out = _supervise(proc, ended, timeout, cancel)
        finally:  # an exception here (a signal's, say) never leaves dbt running
            if proc.poll() is None:
                terminate_group(proc)
    if parse_cache is not None and proc.returncode in (0, 1):  # dbt ran (a kill may tear it)
        keep_parse(run_dir, parse_cache, target, vars_json)
    return _result(
        run_dir,
        proc.returncode,
        cancelled=cancelled,
        timed_out=timed_out,
        timeout=timeout,
        log_offset=log_offset,
    )


class DbtSession:
    """Serial dbt calls in one long-lived dbt process (driver.dbt.worker), the project parsed
    once: a chunk then costs its nodes, not dbt's start-up and parse.

    `run` has run_dbt's contract (same DbtResult, same run dir layout: target/ with
    run_results.json, and manifest.json when the call failed, logs/dbt.log, dbt_output.log;
    driver.dbt.worker says why) and the same process
    control: the worker runs in its own process group, which a cancel or a timeout ends
    (SIGTERM, then SIGKILL); a worker that died (killed, crashed) fails only the call it was
    running, and the next call starts a new one. Calls whose other vars, target or
    environment differ from the previous call's parse again. One call at a time: `close`
    ends the worker (it holds the warehouse's connection until then).
    """

    def __init__(self, python: str = sys.executable) -> None:
        self.python = python
        self._proc: subprocess.Popen[str] | None = None
        self._reply: Any = None
        self._env: dict[str, str] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _start(self, env: dict[str, str]) -> subprocess.Popen[str]:
        if self._proc is not None and (self._proc.poll() is not None or env != self._env):
            self.close()
        if self._proc is None:
            read_fd, write_fd = os.pipe()
            try:
                self._proc = subprocess.Popen(
                    [self.python, "-m", "driver.dbt.worker", str(write_fd)],
                    cwd=PROJECT_DIR,
                    env=env,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    text=True,
                    pass_fds=(write_fd,),
                    process_group=0,
                )
            finally:
                os.close(write_fd)
            self._reply = os.fdopen(read_fd, "r")
            self._env = env
        return self._proc

    def run(
        self,
        args: Sequence[str],
        *,
        target: str,
        run_dir: Path,
        vars_json: str | None = None,
        window: tuple[str | None, str | None] | None = None,
        parse_cache: Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        cancel: threading.Event | None = None,
        on_start: Callable[[int], None] | None = None,
    ) -> DbtResult:
        """One dbt call (see run_dbt). The worker parses again when the target or the vars
        differ from its last parse's; the window (the environment of this call only) never
        makes it parse again."""
        run_dir = Path(run_dir)
        _, _, log_offset = _call_paths(run_dir)
        if parse_cache is not None:
            seed_parse(run_dir, parse_cache, target, vars_json)
        output = run_dir / "dbt_output.log"
        output.write_text("")
        proc = self._start(dbt_env(env))
        request = {
            "args": _dbt_args(args, target, run_dir, vars_json),
            "parse_args": _dbt_args(["parse"], target, run_dir, vars_json),
            "parse_key": f"{target}\n{vars_json or ''}",
            "env": window_env(*(window or (None, None))),
            "output": str(output),
        }
        cancelled = timed_out = False
        returncode: int | None = None
        try:
            if on_start is not None:
                on_start(proc.pid)
            assert proc.stdin is not None
            proc.stdin.write(json.dumps(request) + "\n")
            proc.stdin.flush()
            reply_fd = self._reply.fileno()

            def replied(wait: float) -> bool:
                readable, _, _ = select.select([reply_fd], [], [], wait)
                return bool(readable) or proc.poll() is not None

            cancelled, timed_out = _supervise(proc, replied, timeout, cancel)
            line = "" if cancelled or timed_out else self._reply.readline()
            if line:
                returncode = int(json.loads(line)["returncode"])
        except (BrokenPipeError, ValueError, KeyError):
            pass  # the worker died: its exit status is the call's
        finally:
            if returncode is None:  # killed, crashed, cancelled or timed out: not reusable
                if proc.poll() is None:
                    terminate_group(proc)
                returncode = proc.returncode
                self.close()
        if parse_cache is not None and returncode in (0, 1):
            keep_parse(run_dir, parse_cache, target, vars_json)
        return _result(
            run_dir,
            returncode,
            cancelled=cancelled,
            timed_out=timed_out,
            timeout=timeout,
            log_offset=log_offset,
        )

    def close(self) -> None:
        """End the worker: EOF on its stdin, then its process group if it lingers."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.stdin is not None:
                proc.stdin.close()
            proc.wait(timeout=TERMINATE_GRACE_SECONDS)
        except (BrokenPipeError, OSError, subprocess.TimeoutExpired):
            terminate_group(proc)
        if self._reply is not None:
            self._reply.close()
            self._reply = None


def dbt_runner(
    session: DbtSession | None, dbt_command: Sequence[str] | None = None
) -> Callable[..., DbtResult]:
    """run_dbt's contract in `session` when there is one, else in a new dbt process."""
    if session is not None:
        return session.run
    return lambda *args, **kwargs: run_dbt(*args, dbt_command=dbt_command, **kwargs)
