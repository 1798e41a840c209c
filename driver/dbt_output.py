"""Read what a dbt run did from its run_results.json and output: rows, bytes, error text.

Rows are the sum of adapter_response.rows_affected over the models that report it (BigQuery
does for its DML; views report none). dbt-duckdb 1.11 reports no rows_affected at all, so on
DuckDB rows are unknown (None, shown as "-"), by decision: counting would need a second
connection to the file between chunks, which holds DuckDB's single-writer lock against the
next chunk, and the driver would have to know the mart's table and date column, which it
must not. Bytes are BigQuery's bytes_processed and bytes_billed summed over every node
(models and tests); DuckDB reports none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from driver.dbt import DbtResult

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


def metrics(run_results: dict | None) -> RunMetrics:
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
    found = []
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
