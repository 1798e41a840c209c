"""Retry: which dbt failures are transient, and backoff bounds (full jitter)."""

from __future__ import annotations

import pytest

from driver.backfill.retry import PERMANENT, TRANSIENT, RetryPolicy, classify
from driver.dbt.invoke import DbtResult
from driver.dbt.results import error_text, metrics


@pytest.mark.parametrize(
    "text",
    [
        "google.api_core.exceptions.Forbidden: 403 Exceeded rate limits: too many table update",
        "reason: rateLimitExceeded",
        "Quota exceeded: Your project exceeded quota for ... (quotaExceeded)",
        "Too many DML statements outstanding against table x, limit is 20",
        "500 Internal Error: backendError",
        'IO Error: Could not set lock on file "/tmp/nba.duckdb": Conflicting lock is held',
        "ConnectionResetError: [Errno 104] Connection reset by peer",
        "Operation timed out after 900 seconds",
    ],
)
def test_transient(text: str) -> None:
    assert classify(["some dbt output", text]) == TRANSIENT


@pytest.mark.parametrize(
    "text",
    [
        "Compilation Error in model mart (models/marts/mart.sql)",
        'Conversion Error: Could not convert string "abc" to INT32',
        "Failure in test unique_mart_id (models/marts/mart.yml)\n  Got 3 results",
        "Parser Error: syntax error at or near 'selec'",
        "",
    ],
)
def test_permanent(text: str) -> None:
    assert classify([text, None]) == PERMANENT


def test_backoff_full_jitter_bounds() -> None:
    policy = RetryPolicy(max_attempts=3, base_seconds=2.0, cap_seconds=10.0)
    calls: list[tuple[float, float]] = []

    def fake_uniform(lo: float, hi: float) -> float:
        calls.append((lo, hi))
        return hi

    assert [policy.backoff(n, fake_uniform) for n in (1, 2, 3, 4, 5)] == [2, 4, 8, 10, 10]
    assert all(lo == 0 for lo, _ in calls)  # full jitter: anywhere from 0
    for n in range(1, 8):
        assert 0 <= policy.backoff(n) <= min(10.0, 2.0 * 2 ** (n - 1))


def test_should_retry_only_transient_within_attempts() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert policy.should_retry(1, TRANSIENT) and policy.should_retry(2, TRANSIENT)
    assert not policy.should_retry(3, TRANSIENT)
    assert not policy.should_retry(1, PERMANENT)


def test_error_text_names_the_failing_node_and_keeps_dbt_lines() -> None:
    output = (
        "\x1b[0m20:01:02  1 of 3 ERROR creating sql incremental model nba.mart\n"
        "20:01:03  Completed with 1 error, 0 partial successes, and 0 warnings:\n"
        "20:01:03  \n"
        "20:01:03  Runtime Error in model mart (models/marts/mart.sql)\n"
        '20:01:03    Conversion Error: Could not convert string "x" to INT32\n'
        "20:01:03  \n"
        "20:01:03  Done. PASS=2 WARN=0 ERROR=1 SKIP=0 TOTAL=3\n"
    )
    results = {
        "results": [
            {"unique_id": "model.p.mart", "status": "error", "message": "Runtime Error"},
            {"unique_id": "model.p.view", "status": "success", "message": "OK"},
        ]
    }
    text = error_text(DbtResult(1, output, results))
    assert "model.p.mart: error" in text
    assert 'Conversion Error: Could not convert string "x" to INT32' in text
    assert "Done." not in text and "model.p.view" not in text
    assert error_text(DbtResult(2, "")) == "dbt exited 2 with no output"


def test_metrics_rows_from_models_bytes_from_all_nodes() -> None:
    results = {
        "results": [
            {"unique_id": "model.p.mart", "adapter_response": {"rows_affected": 120,
             "bytes_processed": 1000, "bytes_billed": 10485760}},
            {"unique_id": "model.p.view", "adapter_response": {"rows_affected": -1}},
            {"unique_id": "test.p.t", "adapter_response": {"rows_affected": 7,
             "bytes_processed": 50, "bytes_billed": 10485760}},
        ]
    }  # fmt: skip
    m = metrics(results)
    assert (m.rows, m.bytes_processed, m.bytes_billed) == (120, 1050, 20971520)
    assert metrics(None).rows is None
    assert metrics({"results": [{"unique_id": "model.a", "adapter_response": {}}]}).rows is None
