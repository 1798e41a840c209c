"""Run dbt as a subprocess (dbtRunner is not safe to run concurrently in one process).

Every call gets its own --target-path and --log-path so parallel chunks never share
partial-parse files, manifests or logs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from driver.project import PROJECT_DIR, profiles_dir


@dataclass
class DbtResult:
    returncode: int
    output: str
    run_results: dict | None = field(default=None)

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def dbt_executable() -> list[str]:
    """The dbt CLI next to this interpreter (the project venv), else `dbt` on PATH.

    NBA_DBT_EXECUTABLE overrides it (tests of scheduling/retry use a fake dbt).
    """
    override = os.environ.get("NBA_DBT_EXECUTABLE")
    if override:
        return [override]
    local = Path(sys.executable).parent / "dbt"
    return [str(local)] if local.exists() else ["dbt"]


def window_vars(start: str | None, end: str | None, extra: dict | None = None) -> str:
    """The --vars payload for a window (JSON is valid YAML)."""
    payload: dict = dict(extra or {})
    if start is not None:
        payload["start_date"] = start
    if end is not None:
        payload["end_date"] = end
    return json.dumps(payload, sort_keys=True)


def dbt_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DO_NOT_TRACK", "1")
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    env["DBT_PROFILES_DIR"] = str(profiles_dir())
    env.setdefault("DBT_PROJECT_DIR", str(PROJECT_DIR))
    if extra:
        env.update(extra)
    return env


def run_dbt(
    args: list[str],
    *,
    target: str,
    run_dir: Path,
    vars_json: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
) -> DbtResult:
    """Run `dbt <args>` for `target`, with target and log paths under run_dir.

    Returns the exit code, the combined output and target/run_results.json if written.
    """
    run_dir = Path(run_dir)
    target_path = run_dir / "target"
    log_path = run_dir / "logs"
    target_path.mkdir(parents=True, exist_ok=True)
    results_file = target_path / "run_results.json"
    results_file.unlink(missing_ok=True)  # never report a previous run's results
    cmd = [
        *dbt_executable(),
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
    proc = subprocess.run(
        cmd,
        cwd=PROJECT_DIR,
        env=dbt_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    run_results = None
    if results_file.exists():
        try:
            run_results = json.loads(results_file.read_text())
        except json.JSONDecodeError:
            run_results = None
    return DbtResult(proc.returncode, proc.stdout, run_results)
