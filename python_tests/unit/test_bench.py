"""The benchmark's pieces that need no dbt: the microbatch copy of the project, reading batch
concurrency from dbt's output, judging the targets. The smoke run of the whole bench is in
python_tests/integration/test_bench_smoke.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
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


def test_scale_slope_is_the_least_squares_line() -> None:
    # y = 3x + 1 exactly, then one point off the line: the slope moves as least squares says
    assert bench.least_squares_slope([1, 3, 10, 20], [4, 10, 31, 61]) == 3.0
    assert bench.least_squares_slope([0, 1, 2], [0, 0, 3]) == 1.5
    assert bench.least_squares_slope([5], [1]) is None
    assert bench.least_squares_slope([2, 2], [1, 3]) is None


def test_seasons_run_october_to_june_and_end_together() -> None:
    assert bench.season_range(1) == (
        bench.dt.date(2023, 10, 1),
        bench.SCALE_LAST_DAY,
    )
    start, end = bench.season_range(20)
    assert (start.year, end) == (2004, bench.SCALE_LAST_DAY)


def test_only_picks_parts_and_rejects_unknown_ones(capsys: pytest.CaptureFixture[str]) -> None:
    cfg = bench.parse_args(["--only", "scale,forced", "--scale-seasons", "1,3"])
    assert cfg.only == ("scale", "forced") and cfg.scale_seasons == (1, 3)
    assert bench.parse_args([]).only == bench.PARTS
    assert bench.parse_args(["--smoke"]).only == bench.CORE_PARTS
    for bad in (["--only", "scale,nope"], ["--scale-seasons", "0"], ["--scale-seasons", "x"]):
        with pytest.raises(SystemExit) as exc:
            bench.parse_args(bad)
        assert exc.value.code == 2
    assert "nope" in capsys.readouterr().err


def test_scale_plot_and_lines_show_every_point(tmp_path: Path) -> None:
    points = [
        {"seasons": n, "days": 273 * n, "rows": 50_000 * n, "seconds": 5.0 + 2 * n,
         "peak_rss_mb": 400.0 + 30 * n, "chunks": 1, "ok": True}
        for n in (1, 3, 10)
    ]  # fmt: skip
    scale = {"points": points, "seconds_per_season": 2.0, "mb_per_season": 30.0}
    png = tmp_path / "curve.png"
    bench.plot_scale(scale, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = bench.scale_lines({"scale": points, "scale_seconds_per_season": 2.0,
                               "scale_mb_per_season": 30.0})  # fmt: skip
    assert lines[0].startswith("1 seasons (273 days, 50,000 rows, 1 chunks): 7.0 s")
    assert lines[-1] == "per season (least squares): 2.00 s, 30.0 MB"
