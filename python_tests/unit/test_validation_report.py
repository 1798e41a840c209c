"""The validation report without dbt: window checks before dbt runs, ok / failed / warned,
plain and rich rendering, bands read from the project vars. The report on real dbt runs is
in python_tests/integration/test_validation.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from driver.errors import EXIT_USAGE, UsageError
from driver.project import PROJECT_DIR
from driver.validation.command import validate_window
from driver.validation.report import CheckResult, ValidationReport, _band


def test_bad_window_is_a_usage_error_before_dbt_runs(tmp_path: Path) -> None:
    for start, end in [("2022-01-31", "2022-01-01"), ("2022-02-30", "2022-03-01"), ("x", "y")]:
        with pytest.raises(UsageError):
            validate_window(start, end, "dev", tmp_path)
    with pytest.raises(UsageError, match="both"):
        validate_window("2022-01-01", None, "dev", tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "driver", "validate", "--start-date", "2022-01-01"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == EXIT_USAGE, proc.stdout + proc.stderr
    assert not (tmp_path / "target").exists()


def _check(name: str, status: str, measured: str = "0 rows failing") -> CheckResult:
    kept = f"nba_test_failures.{name}" if status in ("fail", "warn") else None
    message = "Got 1 result" if status != "pass" else None
    uid = f"test.nba_analytics.{name}.x"
    return CheckResult(
        uid, name, name.replace("_", " "), status, 0, measured, "band", message, kept
    )


def test_report_is_ok_unless_a_check_fails_at_error_level() -> None:
    report = ValidationReport("2022-01-01", "2022-01-31", "dev", [_check("a", "pass")])
    assert report.ok
    report.checks.append(_check("b", "warn"))
    assert report.ok and [c.name for c in report.warned] == ["b"]
    report.checks.append(_check("c", "fail"))
    assert not report.ok and [c.name for c in report.failed] == ["c"]
    assert not ValidationReport(None, None, "dev", [_check("d", "error")]).ok
    assert not ValidationReport(None, None, "dev", [], error="no connection").ok


def test_report_renders_failures_first_as_plain_text_and_as_a_rich_table() -> None:
    report = ValidationReport(
        "2022-01-01", "2022-01-31", "dev", [_check("a_pass", "pass"), _check("z_fail", "fail")]
    )
    plain = report.render()
    lines = plain.splitlines()
    assert lines[1].split() == ["STATUS", "CHECK", "MEASURED", "BAND"]
    assert lines[2].startswith("FAIL") and lines[3].startswith("PASS")
    assert "FAIL z_fail: Got 1 result; offending rows kept in nba_test_failures.z_fail" in plain
    assert "validation FAILED: 2022-01-01..2022-01-31 on dev: 2 checks, 1 pass, 1 fail" in plain
    rich = report.render(use_rich=True, width=120)
    assert "\x1b[" in rich and "z fail" in rich and "validation FAILED" in rich


def test_bands_are_read_from_the_project_vars() -> None:
    node = {
        "test_metadata": {
            "name": "null_rate_in_band",
            "kwargs": {
                "pass_min": "{{ var('validation_minutes_null_pct_pass_min') }}",
                "pass_max": "{{ var('validation_minutes_null_pct_pass_max') }}",
                "error_max": "{{ var('validation_minutes_null_pct_error_max') }}",
            },
        },
        "config": {"severity": "ERROR"},
    }
    project_vars = {
        "validation_minutes_null_pct_pass_min": 35,
        "validation_minutes_null_pct_pass_max": 45,
        "validation_minutes_null_pct_error_max": 60,
    }
    assert _band(node, project_vars) == "pass 35-45%, else warn; error > 60%"
    node = {
        "test_metadata": {
            "name": "expression_true",
            "kwargs": {"expression": "usage_rate <= {{ var('validation_usage_rate_max') }}"},
        },
        "config": {"severity": "warn"},
    }
    assert _band(node, {"validation_usage_rate_max": 50}) == "usage_rate <= 50 (warn)"
