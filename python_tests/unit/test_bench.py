"""The benchmark's pieces that need no dbt: the microbatch copy of the project, reading batch
concurrency from dbt's output, judging the targets. The smoke run of the whole bench is in
python_tests/integration/test_bench_smoke.py."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from driver.project import PROJECT_DIR
from scripts import bench


def test_microbatch_copy_changes_only_the_computing_config_and_event_times(
    tmp_path: Path,
) -> None:
    cfg = bench.parse_args(["--smoke", "--out", str(tmp_path)])
    info = bench.make_microbatch_project(
        tmp_path / "mb", cfg, ["stg_nba_raw__schedule", "int_box_scores_unified"]
    )
    project = yaml.safe_load((tmp_path / "mb" / "dbt_project.yml").read_text())
    models = project["models"][project["name"]]
    assert models["staging"]["stg_nba_raw__schedule"] == {"+event_time": "game_date"}
    assert models["intermediate"]["int_box_scores_unified"] == {"+event_time": "game_date"}
    assert project["sources"][project["name"]] == {"+event_time": "game_date"}
    model = f"{bench.COMPUTE_MODEL}.sql"
    mart = (tmp_path / "mb" / "models" / "marts" / model).read_text()
    found = re.search(r"\{\{\s*config\(.*?\)\s*\}\}", mart, re.DOTALL)
    assert found is not None
    config = found.group(0)
    assert "incremental_strategy='microbatch'" in config and "concurrent_batches=true" in config
    assert "window_replace" not in config
    original = (PROJECT_DIR / "models" / "marts" / model).read_text()
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
