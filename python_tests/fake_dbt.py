#!/usr/bin/env python3
"""A fake `dbt` for scheduling and retry unit tests (never in place of an end-to-end test).

Pass it to the driver with the hidden option `--dbt-executable "python fake_dbt.py"`.
Behaviour comes from env vars:
  FAKE_DBT_LOG             append one JSON line per call (argv, vars, pid, t0, t1, outcome)
  FAKE_DBT_FAIL            comma list of chunk start dates that fail permanently (a SQL error)
  FAKE_DBT_TRANSIENT_ONCE  comma list of chunk start dates whose first call fails with a
                           BigQuery rate limit (markers kept in FAKE_DBT_STATE_DIR)
  FAKE_DBT_SLEEP           seconds a build takes (default 0)
  FAKE_DBT_TEST_SLEEP      seconds a `dbt test` takes (default FAKE_DBT_SLEEP)
  FAKE_DBT_KILL_ONCE       comma list of chunk start dates whose first call dies of SIGKILL
  FAKE_DBT_UNIT_FAIL       "1": a build that runs the unit tests fails on one
Writes run_results.json into --target-path with rows_affected = 10 per day of the window.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sys
import time
from pathlib import Path


def _arg(argv: list[str], flag: str) -> str | None:
    return argv[argv.index(flag) + 1] if flag in argv else None


def _log(entry: dict) -> None:
    path = os.environ.get("FAKE_DBT_LOG")
    if path:
        with open(path, "a") as fh:
            fh.write(json.dumps(entry) + "\n")


def _results(
    target_path: Path, status: str, rows: int, message: str, unit_status: str | None = None
) -> None:
    target_path.mkdir(parents=True, exist_ok=True)
    payload = {
        "results": [
            {
                "unique_id": "model.fake.mart",
                "status": status,
                "message": message,
                "adapter_response": {"rows_affected": rows} if status == "success" else {},
            },
            {"unique_id": "model.fake.view", "status": "success", "adapter_response": {}},
        ]
    }
    if unit_status is not None:
        unit = {"unique_id": "unit_test.fake.mart.parses_minutes", "status": unit_status}
        payload["results"].append({**unit, "message": message, "adapter_response": {}})
    (target_path / "run_results.json").write_text(json.dumps(payload))


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    # the window as the driver passes it (the environment), else as a user types it (--vars)
    given = json.loads(_arg(argv, "--vars") or "{}")
    start = os.environ.get("NBA_WINDOW_START") or given.get("start_date")
    end = os.environ.get("NBA_WINDOW_END") or given.get("end_date")
    target_path = Path(_arg(argv, "--target-path") or "target")
    entry = {"argv": argv, "command": command, "start": start, "end": end, "pid": os.getpid()}
    entry["t0"] = time.time()
    signal.signal(
        signal.SIGTERM, lambda *_: (_log({**entry, "outcome": "terminated"}), os._exit(143))
    )

    if command == "compile":
        node = {"resource_type": "model", "config": {"materialized": "incremental"}}
        node["compiled_code"] = f"select * from raw where d between '{start}' and '{end}'"
        target_path.mkdir(parents=True, exist_ok=True)
        (target_path / "manifest.json").write_text(json.dumps({"nodes": {"model.f.m": node}}))
        _log({**entry, "outcome": "compiled", "t1": time.time()})
        return 0

    unit_tests = command == "build" and "unit_test" not in argv  # not excluded: they run
    if unit_tests and os.environ.get("FAKE_DBT_UNIT_FAIL") == "1":
        message = "Failure in unit_test parses_minutes (models/mart.yml)\n  actual differs"
        _results(target_path, "skipped", 0, message, unit_status="fail")
        print(f"Completed with 1 error, 0 partial successes, and 0 warnings:\n\n{message}\n")
        _log({**entry, "outcome": "failed", "t1": time.time()})
        return 1
    _log({**entry, "outcome": "started"})
    sleep = os.environ.get("FAKE_DBT_SLEEP", "0")
    if command == "test":
        sleep = os.environ.get("FAKE_DBT_TEST_SLEEP", sleep)
    time.sleep(float(sleep))
    fail = set(filter(None, os.environ.get("FAKE_DBT_FAIL", "").split(",")))
    once = set(filter(None, os.environ.get("FAKE_DBT_TRANSIENT_ONCE", "").split(",")))
    state_dir = Path(os.environ.get("FAKE_DBT_STATE_DIR", target_path))
    if start in once and not (state_dir / f"transient_{start}").exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        (state_dir / f"transient_{start}").write_text("1")
        message = "403 Exceeded rate limits: too many table update operations (rateLimitExceeded)"
        _results(target_path, "error", 0, message)
        print(f"Completed with 1 error, 0 partial successes, and 0 warnings:\n\n{message}\n")
        _log({**entry, "outcome": "transient", "t1": time.time()})
        return 1
    kill_once = set(filter(None, os.environ.get("FAKE_DBT_KILL_ONCE", "").split(",")))
    if start in kill_once and not (state_dir / f"killed_{start}").exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        (state_dir / f"killed_{start}").write_text("1")
        _log({**entry, "outcome": "killed", "t1": time.time()})
        os.kill(os.getpid(), signal.SIGKILL)
    if start in fail:
        message = f'Runtime Error in model mart\n  Conversion Error: Could not convert "x{start}"'
        _results(target_path, "error", 0, message)
        print(f"Completed with 1 error, 0 partial successes, and 0 warnings:\n\n{message}\n")
        _log({**entry, "outcome": "failed", "t1": time.time()})
        return 1
    days = (dt.date.fromisoformat(end) - dt.date.fromisoformat(start)).days + 1 if start else 1
    _results(target_path, "success", 10 * days, "OK", unit_status="pass" if unit_tests else None)
    print("Completed successfully\nDone. PASS=2 WARN=0 ERROR=0 SKIP=0 TOTAL=2")
    _log({**entry, "outcome": "success", "t1": time.time()})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
