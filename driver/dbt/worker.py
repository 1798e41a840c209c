"""`python -m driver.dbt.worker REPLY_FD`: one dbt process serving several dbt calls, the
project parsed once (driver.dbt.invoke.DbtSession starts it; nothing else should).

Serial chunks of a backfill differ only in their window, which dbt's parse does not depend on
(macros/window.sql reads it at run time, from the environment the driver gives each call), so
the manifest parsed for the first call serves every later call with the same vars and
target. That saves dbt's start-up and parse (seconds) per chunk. Only documented programmatic APIs
are used: `dbtRunner().invoke(["parse", ...])` returns the Manifest and
`dbtRunner(manifest=...)` reuses it (docs.getdbt.com, "Programmatic invocations"); every
call gets a fresh deep copy of the parsed manifest, because dbt marks the nodes it compiles.
Calls run with dbt's own artifact writing off and write run_results.json themselves, and
manifest.json only when they fail or are not a build (a backfill's validation, `dbt test`,
whose report reads it) (_build): serializing the 1.1 MB manifest cost every chunk
0.05 s of CPU and 0.08-0.11 s of wall, for a file only a failure's report reads.

Protocol: one JSON request per line on stdin, {"args": [...], "parse_args": [...],
"parse_key": "...", "env": {...}, "output": "<file>"}; `args` is the dbt command line after
the executable (with --target-path, --log-path, --vars), `parse_args` the `dbt parse` line for
the same project, target and vars; calls with another `parse_key` parse again; `env` is set in
the environment for this call only (the window). Everything dbt prints
during a call goes to `output` (file descriptors 1 and 2 point there), and one JSON reply line,
{"returncode": N} (0 success, 1 dbt failures, 2 dbt could not run), goes to REPLY_FD. EOF on
stdin ends the worker. It runs one call at a time (dbtRunner is not safe concurrently).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


def _invoke(args: list[str], manifest: Any = None) -> tuple[int, Any]:
    """One dbtRunner call: (exit code as the dbt CLI would give it, the result)."""
    from dbt.cli.main import dbtRunner

    res = dbtRunner(manifest=manifest).invoke(list(args))
    if res.exception is not None:
        sys.stdout.write(f"dbt could not run: {res.exception!r}\n")
        return EXIT_ERROR, None
    return (EXIT_OK if res.success else EXIT_FAILED), res.result


def _target_path(args: list[str]) -> str | None:
    """The --target-path of a dbt command line (None without one)."""
    for i, arg in enumerate(args[:-1]):
        if arg == "--target-path":
            return args[i + 1]
    return None


def _build(args: list[str], parsed: Any) -> int:
    """A dbt call on a copy of the parsed manifest, with dbt's own artifact writing off
    (--no-write-json: every call would serialize the whole manifest, plus the semantic
    manifest and the graph summary): run_results.json is written here from the result, and
    manifest.json only when the call failed (what a failure left for inspection is read from
    it, driver.backfill.runner.kept_for_inspection) or was not a build (a backfill's
    validation, `dbt test`: its report reads the tests' definitions from it)."""
    manifest = parsed.deepcopy()
    code, result = _invoke([*args, "--no-write-json"], manifest)
    target = _target_path(args)
    if target is not None:
        if hasattr(result, "write"):
            result.write(os.path.join(target, "run_results.json"))
        if code != EXIT_OK or args[0] != "build":
            manifest.write(os.path.join(target, "manifest.json"))
    return code


def serve(request: dict[str, Any], manifests: dict[str, Any]) -> int:
    """Run one request with fds 1/2 on its output file; returns its exit code."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = (os.dup(1), os.dup(2))
    call_env: dict[str, str] = dict(request.get("env") or {})
    env_before = {name: os.environ.get(name) for name in call_env}
    os.environ.update(call_env)
    with open(request["output"], "w") as out:
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
        try:
            key = str(request["parse_key"])
            if key not in manifests:
                manifests.clear()  # one manifest kept: the calls of a run share their vars
                code, manifest = _invoke(request["parse_args"])
                if code != EXIT_OK or manifest is None:
                    return code or EXIT_ERROR
                manifests[key] = manifest
            # dbt compiles into the manifest it is given (nodes are marked compiled, ephemeral
            # CTEs as injected): a second call on the same object would skip the injection
            # (BigQuery: "Not found: Table __dbt__cte__..."). Each call gets its own copy of
            # the parsed manifest (Manifest.deepcopy, which rebuilds its lookups; about 0.1 s).
            return _build(request["args"], manifests[key])
        except Exception:  # noqa: BLE001 - the reply must always come; the text says what
            traceback.print_exc()
            return EXIT_ERROR
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            for name, value in env_before.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].isdigit():
        sys.stderr.write("usage: python -m driver.dbt.worker REPLY_FD (started by DbtSession)\n")
        return 2
    manifests: dict[str, Any] = {}
    with os.fdopen(int(argv[0]), "w", buffering=1) as reply:
        for line in sys.stdin:
            if line.strip():
                code = serve(json.loads(line), manifests)
                reply.write(json.dumps({"returncode": code}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
