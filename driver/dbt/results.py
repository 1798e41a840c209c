"""Read what a dbt run did from its run_results.json, manifest.json and output: rows, bytes,
error text, the nodes it ran, the relations it rewrites, compiled SQL.

Rows are the sum of adapter_response.rows_affected over the models that report it (BigQuery
does for its DML; views report none). dbt-duckdb 1.11 reports no rows_affected at all, so on
DuckDB rows are unknown (None, shown as "-"), by decision: counting would need a second
connection to the file between chunks, which holds DuckDB's single-writer lock against the
next chunk, and the driver would have to know the mart's table and date column, which it
must not. Bytes are BigQuery's bytes_processed and bytes_billed summed over every node
(models and tests); DuckDB reports none.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driver.dbt.invoke import DbtResult

MAX_ERROR_CHARS = 4000
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_TIMESTAMP = re.compile(r"^\d{2}:\d{2}:\d{2}(\.\d+)?\s+")
_FAILED_STATUSES = ("error", "fail", "runtime error")


@dataclass(frozen=True)
class RunMetrics:
    rows: int | None = None
    bytes_processed: int | None = None
    bytes_billed: int | None = None


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def metrics(run_results: dict[str, Any] | None) -> RunMetrics:
    """Rows written and bytes from the adapter responses (None where nothing reported)."""
    if not run_results:
        return RunMetrics()
    rows = processed = billed = None
    for result in run_results.get("results", []):
        response = result.get("adapter_response") or {}
        uid = str(result.get("unique_id", ""))
        affected = _int_or_none(response.get("rows_affected"))
        if uid.startswith("model.") and affected is not None:
            rows = (rows or 0) + affected
        for key, total in (("bytes_processed", processed), ("bytes_billed", billed)):
            value = _int_or_none(response.get(key))
            if value is not None:
                total = (total or 0) + value
                if key == "bytes_processed":
                    processed = total
                else:
                    billed = total
    return RunMetrics(rows, processed, billed)


def clean_lines(output: str) -> list[str]:
    return [_TIMESTAMP.sub("", _ANSI.sub("", line)).rstrip() for line in output.splitlines()]


def _output_errors(output: str) -> str:
    """dbt's own error summary: the block after 'Completed with N error(s)', else the first
    error line and what follows it, else the tail of the output."""
    lines = clean_lines(output)
    for i, line in enumerate(lines):
        if line.startswith("Completed with") and "error" in line:
            block = [x for x in lines[i + 1 :] if x.strip() and not x.startswith("Done.")]
            return "\n".join(block)
    for i, line in enumerate(lines):
        if re.search(r"\b(Error|error|ERROR)\b", line):
            return "\n".join(x for x in lines[i : i + 25] if x.strip())
    return "\n".join(x for x in lines[-15:] if x.strip())


def nodes(result: DbtResult, kind: str, *, failed: bool | None = None) -> list[str]:
    """unique_ids of the `kind` nodes ("model", "test", "unit_test", ...) the call ran: all of
    them, only the failed ones (failed=True) or only the others (failed=False)."""
    found: list[str] = []
    for r in (result.run_results or {}).get("results", []):
        uid = str(r.get("unique_id", ""))
        if not uid.startswith(f"{kind}."):
            continue
        is_failed = str(r.get("status", "")).lower() in _FAILED_STATUSES
        if failed is None or failed == is_failed:
            found.append(uid)
    return found


def error_text(result: DbtResult) -> str:
    """The failing nodes with their messages, then dbt's error lines; never just 'exit 1'."""
    parts: list[str] = []
    detail = _output_errors(result.output)
    for r in (result.run_results or {}).get("results", []):
        if str(r.get("status", "")).lower() in _FAILED_STATUSES:
            message = _ANSI.sub("", r.get("message") or "").strip()
            shown = "" if message and message in detail else f": {message}"
            parts.append(f"{r.get('unique_id')}: {r.get('status')}{shown}")
    if detail:
        parts.append(detail)
    if result.timed_out:
        parts.append("dbt timed out and was terminated")
    text = "\n".join(parts).strip() or f"dbt exited {result.returncode} with no output"
    if len(text) > MAX_ERROR_CHARS:
        text = text[: MAX_ERROR_CHARS - 20] + "\n... (truncated)"
    return text


def manifest_nodes(run_dir: Path | None) -> dict[str, dict[str, Any]]:
    """The nodes of <run_dir>/target/manifest.json ({} if there is none or it is unreadable)."""
    if run_dir is None:
        return {}
    try:
        manifest = json.loads((Path(run_dir) / "target" / "manifest.json").read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    nodes = manifest.get("nodes") if isinstance(manifest, dict) else None
    return dict(nodes) if isinstance(nodes, dict) else {}


def compiled_tables(run_dir: Path) -> list[str]:
    """The compiled SQL of every table / incremental model a `dbt compile` in run_dir wrote."""
    out = []
    for node in manifest_nodes(run_dir).values():
        materialized = (node.get("config") or {}).get("materialized")
        is_table = node.get("resource_type") == "model" and materialized in ("table", "incremental")
        if is_table and node.get("compiled_code"):
            out.append(str(node["compiled_code"]))
    return out


def shared_relations(run_dir: Path) -> list[str]:
    """Relations every chunk rewrites, from the manifest of a chunk's build in run_dir: views
    and tables (not incremental, not ephemeral) and tests that store failures in a table.
    Parallel chunks race on them; if their SQL depends on the window, one chunk can read
    another's rows."""
    models, tests = [], []
    for node in manifest_nodes(run_dir).values():
        config = node.get("config") or {}
        kind = node.get("resource_type")
        if kind == "model" and config.get("materialized") in ("view", "table"):
            models.append(f"{node.get('name')} ({config.get('materialized')})")
        elif (
            kind == "test"
            and config.get("store_failures")
            and config.get("store_failures_as") != "ephemeral"
        ):
            tests.append(f"{node.get('name')} (stored test failures)")
    return sorted(models) + sorted(tests)
