"""The benchmark's pieces run: `python -m scripts.bench --smoke` on one week (real dbt, DuckDB).

The timings of a smoke run mean nothing; what is checked is that every phase (driver backfill,
engine floor, per-day build, microbatch copy of the project, one-day refresh) runs and writes
the figures `make bench` reports, so the bench cannot rot between full runs. The bench's
pieces that need no dbt are tested in python_tests/unit/test_bench.py.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from driver.project import PROJECT_DIR
from scripts import bench

REQUIRED = (
    "days", "games", "rows", "set_based_s", "microbatch_s", "per_day_s", "floor_s",
    "peak_rss_mb", "days_per_hour", "microbatch_over_set_based", "per_day_over_set_based",
    "set_based_over_floor", "one_day_refresh_s", "machine", "targets",
    "refresh_stale_s", "refresh_noop_s", "refresh_days_rebuilt", "microbatch_lookback_s",
    "microbatch_lookback_days_rebuilt", "microbatch_lookback_missed_days",
)  # fmt: skip


def test_smoke_bench_runs_every_piece(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    proc = subprocess.run(
        [
            sys.executable, "-m", "scripts.bench", "--smoke",
            "--out", str(out), "--raw-dir", str(tmp_path / "raw"),
        ],
        cwd=PROJECT_DIR, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    for key in REQUIRED:
        assert results.get(key) is not None, key
    start, end = bench.SMOKE_START, bench.SMOKE_END
    assert results["days"] == (end - start).days + 1
    assert results["rows"] > 0 and results["games"] > 0
    assert results["microbatch_extrapolated"] is True
    assert results["details"]["microbatch"]["rows_match_set_based"] is True
    assert results["per_day_extrapolated"] is True
    assert dt.date.fromisoformat(results["details"]["refresh"]["day"]) >= start
    assert "set-based (driver)" in proc.stdout  # the table was printed
    # late data (the bench itself fails if refresh differs from a full rebuild): the week's
    # late play-by-play before the lookback is what microbatch misses
    late = results["details"]["late"]
    assert late["refresh_differing_days"] == [] and results["refresh_days_rebuilt"] > 0
    assert results["microbatch_lookback_days_rebuilt"] == bench.LOOKBACK + 1
    assert set(late["microbatch_lookback_missed_days"]) <= set(late["scenario"]["changed"])
