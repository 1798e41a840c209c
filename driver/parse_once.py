"""Parse the dbt project once per backfill and let every chunk reuse that parse.

dbt 1.11 discards a saved partial parse when --vars change (the vars hash is in its state
check: dbt/parser/manifest.py is_partial_parsable), and every chunk has its own window vars,
so copying partial_parse.msgpack into the chunks alone saves nothing. What works:

1. Before any chunk, `dbt parse` runs twice at once with two different windows (the first
   and the last chunk). A project that does not parse fails the backfill here, once.
2. The two manifests are compared. The nodes that differ are the ones whose parse depends
   on the window (here: the mart, whose `partitions` / `incremental_predicates` config is
   computed from the window). If they all come from .sql files, chunks run dbt through
   driver.dbt_shared_parse, which accepts the saved parse despite the new vars and re-parses
   just those files; their configs are then exactly those of a full parse for the chunk.
   If anything else differs (a YAML-defined node, the graph), reuse is unsafe and every
   chunk parses in full, as plain dbt would.

NBA_DBT_EXECUTABLE (a fake dbt in tests) disables the reuse.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from driver.dbt import DbtResult, run_dbt
from driver.dbt_shared_parse import REPARSE_ENV

PARTIAL_PARSE_FILE = "partial_parse.msgpack"
_VOLATILE = ("created_at",)
_SQL_RESOURCES = ("model", "snapshot", "analysis")


@dataclass
class WindowDependence:
    files: list[str] = field(default_factory=list)
    unsafe: str | None = None


def _strip(entry: object) -> object:
    if isinstance(entry, dict):
        return {k: v for k, v in entry.items() if k not in _VOLATILE}
    return entry


def window_dependence(a: dict, b: dict) -> WindowDependence:
    """Which files' parse output differs between manifests a and b (parsed with 2 windows)."""
    out = WindowDependence()
    for section in sorted(set(a) | set(b)):
        if section == "metadata":
            continue
        sa, sb = a.get(section), b.get(section)
        if not (isinstance(sa, dict) and isinstance(sb, dict)):
            if sa != sb:
                out.unsafe = f"manifest section {section} depends on the window"
            continue
        for key in sorted(set(sa) | set(sb)):
            ea, eb = _strip(sa.get(key)), _strip(sb.get(key))
            if ea == eb:
                continue
            node = ea if isinstance(ea, dict) else {}
            path = str(node.get("original_file_path", ""))
            if (
                section == "nodes"
                and isinstance(eb, dict)
                and node.get("resource_type") in _SQL_RESOURCES
                and path.endswith(".sql")
            ):
                file_id = f"{node.get('package_name')}://{path}"
                if file_id not in out.files:
                    out.files.append(file_id)
            else:
                out.unsafe = f"{section} {key} depends on the window and is not a .sql node"
    return out


class SharedParse:
    def __init__(self, parse_dir: Path) -> None:
        self.parse_dir = Path(parse_dir)
        self.dependence: WindowDependence | None = None

    @property
    def msgpack(self) -> Path:
        return self.parse_dir / "a" / "target" / PARTIAL_PARSE_FILE

    def run(
        self, target: str, first_vars: str, other_vars: str | None, cancel: threading.Event
    ) -> DbtResult:
        """Parse with the first chunk's window (and another, to measure what depends on it)."""
        jobs = {"a": first_vars} if other_vars is None else {"a": first_vars, "b": other_vars}
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = {
                name: pool.submit(
                    run_dbt,
                    ["parse"],
                    target=target,
                    run_dir=self.parse_dir / name,
                    vars_json=vars_json,
                    cancel=cancel,
                )
                for name, vars_json in jobs.items()
            }
            results = {name: f.result() for name, f in futures.items()}
        first = results["a"]
        if first.ok and "b" in results and results["b"].ok and not self._faked():
            try:
                manifests = [
                    json.loads((self.parse_dir / n / "target" / "manifest.json").read_text())
                    for n in ("a", "b")
                ]
                self.dependence = window_dependence(*manifests)
            except (OSError, json.JSONDecodeError) as exc:
                self.dependence = WindowDependence(unsafe=f"manifest unreadable: {exc}")
        return first

    def shared_relations(self) -> list[str]:
        """Relations every chunk rewrites: views and tables (not incremental, not ephemeral)
        and tests that store their failures. Parallel chunks race on them; if their SQL
        depends on the window, one chunk can read another's."""
        path = self.parse_dir / "a" / "target" / "manifest.json"
        try:
            nodes = json.loads(path.read_text()).get("nodes", {})
        except (OSError, json.JSONDecodeError):
            return []
        models, tests = [], []
        for node in nodes.values():
            config = node.get("config") or {}
            kind = node.get("resource_type")
            if kind == "model" and config.get("materialized") in ("view", "table"):
                models.append(f"{node.get('name')} ({config.get('materialized')})")
            elif kind == "test" and config.get("store_failures"):
                tests.append(f"{node.get('name')} (stored test failures)")
        return sorted(models) + sorted(tests)

    @staticmethod
    def _faked() -> bool:
        return bool(os.environ.get("NBA_DBT_EXECUTABLE"))

    @property
    def reusable(self) -> bool:
        return self.dependence is not None and self.dependence.unsafe is None

    def describe(self) -> str:
        if self.dependence is None:
            return "each chunk parses in full (one chunk, --no-parse-reuse or a fake dbt)"
        if self.dependence.unsafe:
            return f"each chunk parses in full: {self.dependence.unsafe}"
        files = ", ".join(self.dependence.files) or "none"
        return f"chunks reuse the parse; re-parsed per chunk: {files}"

    def executable(self) -> list[str] | None:
        return [sys.executable, "-m", "driver.dbt_shared_parse"] if self.reusable else None

    def env(self) -> dict[str, str] | None:
        if not self.reusable or self.dependence is None:
            return None
        return {REPARSE_ENV: ",".join(self.dependence.files)}

    def seed(self, run_dir: Path) -> None:
        """Copy the shared partial parse into a chunk's target path (if reuse is on)."""
        if not self.reusable or not self.msgpack.exists():
            return
        dest = Path(run_dir) / "target"
        dest.mkdir(parents=True, exist_ok=True)
        tmp = dest / (PARTIAL_PARSE_FILE + ".tmp")
        shutil.copyfile(self.msgpack, tmp)
        tmp.replace(dest / PARTIAL_PARSE_FILE)
