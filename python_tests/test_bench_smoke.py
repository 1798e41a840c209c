"""The benchmark's pieces run: `python -m scripts.bench --smoke` on one week (real dbt, DuckDB).

The timings of a smoke run mean nothing; what is checked is that every phase (driver backfill,
engine floor, per-day build, microbatch copy of the project, one-day refresh) runs and writes
the figures `make bench` reports, so the bench cannot rot between full runs.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from driver.project import PROJECT_DIR
from scripts import bench

REQUIRED = (
    "days", "games", "rows", "set_based_s", "microbatch_s", "per_day_s", "floor_s",
    "peak_rss_mb", "days_per_hour", "microbatch_over_set_based", "per_day_over_set_based",
    "set_based_over_floor", "one_day_refresh_s", "machine", "targets",
)  # fmt: skip


def test_microbatch_copy_changes_only_the_mart_config_and_event_times(tmp_path: Path) -> None:
    cfg = bench.parse_args(["--smoke", "--out", str(tmp_path)])
    info = bench.make_microbatch_project(
        tmp_path / "mb", cfg, ["stg_nba_raw__schedule", "int_box_scores_unified"]
    )
    project = yaml.safe_load((tmp_path / "mb" / "dbt_project.yml").read_text())
    models = project["models"][project["name"]]
    assert models["staging"]["stg_nba_raw__schedule"] == {"+event_time": "game_date"}
    assert models["intermediate"]["int_box_scores_unified"] == {"+event_time": "game_date"}
    assert project["sources"][project["name"]] == {"+event_time": "game_date"}
    mart = (tmp_path / "mb" / "models" / "marts" / "player_game_summary.sql").read_text()
    assert "incremental_strategy='microbatch'" in mart and "concurrent_batches=true" in mart
    assert "window_replace" not in mart
    original = (PROJECT_DIR / "models" / "marts" / "player_game_summary.sql").read_text()
    assert mart.split("}}", 1)[1] == original.split("}}", 1)[1]  # the SQL itself is untouched
    assert info["project_dir"] == str(tmp_path / "mb")


def test_batch_concurrency_is_read_from_dbt_output() -> None:
    out = "\n".join(
        [
            "Batch 1 of 4 START batch 2022-01-01 of m",
            "Batch 1 of 4 OK created batch 2022-01-01 of m",
            "Batch 2 of 4 START batch 2022-01-02 of m",
            "Batch 3 of 4 START batch 2022-01-03 of m",
            "Batch 2 of 4 OK created batch 2022-01-02 of m",
            "Batch 3 of 4 OK created batch 2022-01-03 of m",
        ]
    )
    assert bench._batch_concurrency(out) == 2


def test_targets_are_judged_in_the_right_direction() -> None:
    judged = bench.evaluate({"set_based_s": 31.0, "microbatch_over_set_based": 12.0})
    assert judged["set_based_s"]["met"] is False
    assert judged["microbatch_over_set_based"]["met"] is True
    assert judged["set_based_over_floor"]["met"] is None


@pytest.mark.slow
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
