"""The validation report of a dbt call that ran the data tests (report_from_run).

Each check is reported with its measured value (rate checks: the percentage read back from
the row dbt stored, which the project's on-run-end hook logs; other checks: how many
offending rows or groups), its band (the thresholds are vars in dbt_project.yml, see
docs/validation.md) and pass / warn / fail. The call is a `dbt test`
(driver.validation.command) or the `dbt build` of a backfill's one chunk: the same tests.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from driver.dbt.invoke import DbtResult
from driver.dbt.results import manifest_nodes
from driver.project import DEFAULT_SELECTION, PROJECT_DIR

# What `validate` tests: the data tests of the mart, of everything upstream of it and of the
# raw sources (not unit tests): the same tests a backfill's build runs.
SELECTION = DEFAULT_SELECTION
# Rate checks return one measurement row (tests/generic/*): their `failures` is a
# severity level, and the measured percentage is read back from the stored row.
RATE_TESTS = frozenset({"null_rate_in_band", "coverage_at_least"})
_MEASUREMENTS_MARK = "VALIDATION_MEASUREMENTS "
_VAR_REF = re.compile(r"\{\{\s*var\(\s*['\"]([A-Za-z0-9_]+)['\"]\s*\)\s*\}\}")
_STATUS_RANK = {"error": 0, "fail": 1, "warn": 2, "skipped": 3, "pass": 4}
# What a failing row of each test is (the measured value of non-rate checks is their count).
_UNIT = {
    "row_count_per_group_between": "groups outside",
    "aggregate_per_group_between": "groups outside",
    "unique_combination_of_columns": "duplicated keys",
    "unique": "duplicated values",
    "scheduled_games_present": "games missing",
    "no_regular_season_gap": "gaps",
    "expression_true": "rows failing",
    "not_null": "NULL rows",
    "accepted_values": "other values",
}
_LABEL = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "error": "ERROR", "skipped": "SKIP"}


@dataclass(frozen=True)
class CheckResult:
    """One data test's outcome, in words."""

    unique_id: str
    name: str
    title: str
    status: str  # pass | warn | fail | error | skipped (dbt's statuses)
    failures: int | None
    measured: str
    band: str
    message: str | None = None
    relation: str | None = None

    @property
    def label(self) -> str:
        return _LABEL.get(self.status, self.status.upper())

    @property
    def is_error(self) -> bool:
        """An error-level failure (or the test could not run)."""
        return self.status in ("fail", "error")


@dataclass
class ValidationReport:
    """The outcome of `dbt test` for a window: `.ok` and a readable `.render()`."""

    start: str | None
    end: str | None
    target: str
    checks: list[CheckResult] = field(default_factory=list)
    error: str | None = None  # dbt did not produce results (parse error, no connection, ...)
    run_dir: Path | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not any(c.is_error for c in self.checks)

    @property
    def failed(self) -> list[CheckResult]:
        return [c for c in self.checks if c.is_error]

    @property
    def warned(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status == "warn"]

    @property
    def window(self) -> str:
        return f"{self.start}..{self.end}" if self.start else "all dates"

    def summary(self) -> str:
        counts = {s: sum(1 for c in self.checks if c.status == s) for s in _LABEL}
        parts = [f"{counts[s]} {_LABEL[s].lower()}" for s in _LABEL if counts[s]]
        verdict = "OK" if self.ok else "FAILED"
        where = f" (dbt logs: {self.run_dir / 'logs'})" if self.run_dir and not self.ok else ""
        return (
            f"validation {verdict}: {self.window} on {self.target}: "
            f"{len(self.checks)} checks, {', '.join(parts) or 'none run'}{where}"
        )

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(status, check, measured, band), errors first."""
        ordered = sorted(self.checks, key=lambda c: (_STATUS_RANK.get(c.status, 9), c.title))
        return [(c.label, c.title, c.measured, c.band) for c in ordered]

    def render(self, use_rich: bool = False, width: int = 160) -> str:
        """The report as text: a rich table (for a terminal) or plain aligned columns."""
        if use_rich:
            return self._render_rich(width)
        return self._render_plain()

    def _render_plain(self) -> str:
        header = ("STATUS", "CHECK", "MEASURED", "BAND")
        lines = [f"validation of {self.window} on target {self.target}"]
        if self.error:
            lines.append(f"dbt did not run the tests: {self.error}")
        rows = self.rows()
        if rows:
            widths = [
                min(max(len(r[i]) for r in [header, *rows]), cap)
                for i, cap in enumerate((6, 60, 34, 60))
            ]
            for r in [header, *rows]:
                cells = [_clip(v, w).ljust(w) for v, w in zip(r, widths, strict=True)]
                lines.append("  ".join(cells).rstrip())
        lines.extend(self._details())
        lines.append(self.summary())
        return "\n".join(lines) + "\n"

    def _render_rich(self, width: int) -> str:
        from rich.console import Console
        from rich.table import Table

        style = {"PASS": "green", "WARN": "yellow", "FAIL": "bold red", "ERROR": "bold red"}
        table = Table(title=f"validation of {self.window} on target {self.target}")
        for col in ("status", "check", "measured", "band"):
            table.add_column(col)
        for label, *rest in self.rows():
            table.add_row(f"[{style.get(label, 'dim')}]{label}[/]", *rest)
        buf = io.StringIO()
        console = Console(file=buf, force_terminal=True, width=width)
        if self.error:
            console.print(f"[bold red]dbt did not run the tests:[/] {self.error}")
        console.print(table)
        for line in self._details():
            console.print(line, markup=False, highlight=False)
        console.print(self.summary(), style="green" if self.ok else "bold red")
        return buf.getvalue()

    def _details(self) -> list[str]:
        out = []
        for c in self.failed + self.warned:
            kept = f"; offending rows kept in {c.relation}" if c.relation else ""
            msg = f": {c.message}" if c.message else ""
            out.append(f"{c.label} {c.name}{msg}{kept}")
        return out


def _clip(value: str, width: int) -> str:
    return value if len(value) <= width else value[: width - 1] + "~"


def _project_vars() -> dict[str, Any]:
    with open(PROJECT_DIR / "dbt_project.yml") as fh:
        return dict((yaml.safe_load(fh) or {}).get("vars") or {})


def _resolve(value: Any, project_vars: dict[str, Any]) -> Any:
    """Replace {{ var('x') }} in a test argument by the project's value of x."""
    if not isinstance(value, str):
        return value
    whole = _VAR_REF.fullmatch(value.strip())
    if whole:
        return project_vars.get(whole.group(1), value)
    return _VAR_REF.sub(lambda m: str(project_vars.get(m.group(1), m.group(0))), value)


def _num(value: Any) -> str:
    if value is None:
        return "?"
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    return str(int(f)) if f.is_integer() else f"{f:g}"


def _band(node: dict[str, Any], project_vars: dict[str, Any]) -> str:
    meta = node.get("test_metadata") or {}
    kw = {k: _resolve(v, project_vars) for k, v in (meta.get("kwargs") or {}).items()}
    name = meta.get("name", "")
    warn = (node.get("config") or {}).get("severity", "").lower() == "warn"
    lvl = "warn" if warn else "error"
    if name == "null_rate_in_band":
        band = f"pass {_num(kw.get('pass_min'))}-{_num(kw.get('pass_max'))}%, else warn"
        if kw.get("error_max") is not None:
            band += f"; error > {_num(kw.get('error_max'))}%"
        if kw.get("error_min") is not None:
            band += f"; error < {_num(kw.get('error_min'))}%"
        return band
    if name == "coverage_at_least":
        pass_min, error_min = kw.get("pass_min"), kw.get("error_min")
        if error_min is None or _num(error_min) == _num(pass_min):
            return f">= {_num(pass_min)}% ({lvl} below)"
        return f"pass >= {_num(pass_min)}%, warn {_num(error_min)}-{_num(pass_min)}%, error below"
    if name in ("row_count_per_group_between", "aggregate_per_group_between"):
        lo = kw.get("min_count", kw.get("min_value"))
        hi = kw.get("max_count", kw.get("max_value"))
        per = ", ".join(kw.get("group_by") or []) if isinstance(kw.get("group_by"), list) else ""
        if lo is not None and hi is not None:
            rng = _num(lo) if _num(lo) == _num(hi) else f"{_num(lo)}-{_num(hi)}"
        elif lo is not None:
            rng = f">= {_num(lo)}"
        else:
            rng = f"<= {_num(hi)}"
        return f"{rng} per {per} ({lvl})"
    if name == "expression_true":
        return f"{kw.get('expression')} ({lvl})"
    if name == "unique_combination_of_columns":
        return f"unique ({', '.join(kw.get('combination_of_columns') or [])})"
    if name == "unique":
        return "unique"
    if name == "not_null":
        return "no NULLs"
    if name == "accepted_values":
        values = ", ".join(str(v) for v in kw.get("values") or [])
        return f"in ({values}) ({lvl})"
    if name == "scheduled_games_present":
        return "every final scheduled game has rows"
    if name == "no_regular_season_gap":
        return f"no gap > {_num(kw.get('max_gap_days'))} days"
    return lvl


def _title(node: dict[str, Any]) -> str:
    if node.get("description"):
        return str(node["description"])
    meta = node.get("test_metadata") or {}
    what = meta.get("name", node.get("name", "?")).replace("_", " ")
    sources = node.get("sources") or []
    refs = node.get("refs") or []
    if sources:
        obj = ".".join(sources[0])
    elif refs:
        first = refs[0]
        obj = str(first.get("name")) if isinstance(first, dict) else str(first[-1])
    else:
        obj = ""
    column = node.get("column_name")
    target = f"{obj}.{column}" if column else obj
    return f"{target}: {what}" if target else what


def _measured_text(rows: list[dict[str, Any]] | None) -> str | None:
    if not rows:
        return None
    row = rows[0]
    if row.get("measured_pct") is None:
        return "no rows in scope"
    return (
        f"{row['measured_pct']:.2f}% "
        f"({_num(row.get('matching_rows'))} of {_num(row.get('population_rows'))} rows)"
    )


def _measurements(result: DbtResult) -> dict[str, list[dict[str, Any]]]:
    """The rate checks' stored rows, as the project's on-run-end hook logged them
    (macros/validation/log_validation_measurements.sql) during this dbt call."""
    found: dict[str, list[dict[str, Any]]] = {}
    for line in result.log_text().splitlines():
        idx = line.find(_MEASUREMENTS_MARK)
        if idx >= 0:
            try:
                found = dict(json.loads(line[idx + len(_MEASUREMENTS_MARK) :]))
            except json.JSONDecodeError:
                continue
    return found


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def report_from_run(
    res: DbtResult, *, start: str | None, end: str | None, target: str
) -> ValidationReport:
    """The report of the data tests a dbt call ran (`dbt test`, or a `dbt build` of the
    validation selection over the same window): its run_results, manifest and logged
    measurements, all in the call's run dir."""
    report = ValidationReport(start=start, end=end, target=target, run_dir=res.run_dir)
    if not res.run_results:
        report.error = f"dbt exited {res.returncode} without run results:\n{_tail(res.output)}"
        return report
    nodes = manifest_nodes(res.run_dir)

    results = [r for r in res.run_results.get("results", []) if r["unique_id"].startswith("test.")]
    measurements = _measurements(res)
    project_vars = _project_vars()

    for r in results:
        uid = r["unique_id"]
        node = nodes.get(uid, {"name": uid.split(".")[-2] if "." in uid else uid})
        test_name = (node.get("test_metadata") or {}).get("name")
        failures = r.get("failures")
        status = str(r.get("status", "error"))
        relation = r.get("relation_name")
        if test_name in RATE_TESTS:
            measured = _measured_text(measurements.get(relation or "")) or "see stored row"
            shown_failures = None  # a severity level, not a row count
        else:
            measured = (
                "" if failures is None else f"{failures} {_UNIT.get(test_name or '', 'rows')}"
            )
            shown_failures = failures
        if status == "error":
            measured = "did not run"
        message = r.get("message") if status in ("fail", "error", "warn") else None
        report.checks.append(
            CheckResult(
                unique_id=uid,
                name=str(node.get("name", uid)),
                title=_title(node),
                status=status,
                failures=shown_failures,
                measured=measured,
                band=_band(node, project_vars),
                message=_tail(message, 3) if message else None,
                relation=relation if status in ("fail", "warn") else None,
            )
        )
    if res.returncode != 0 and not report.checks:
        report.error = f"dbt exited {res.returncode}:\n{_tail(res.output)}"
    return report
