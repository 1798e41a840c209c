"""The benchmark's pieces that need no dbt build: the microbatch copy of the project, reading
batch concurrency from dbt's output, judging the targets, and the late-data part's choice of
T1/T2, its microbatch batches and its row comparison. The smoke run of the whole bench is in
python_tests/integration/test_bench_smoke.py."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import duckdb
import pytest
import yaml

from driver.project import PROJECT_DIR
from scripts import bench


def test_microbatch_copy_changes_only_the_computing_config_and_event_times(
    tmp_path: Path,
) -> None:
    cfg = bench.parse_args(["--smoke", "--out", str(tmp_path)])
    info = bench.make_microbatch_project(
        tmp_path / "mb", cfg, ["stg_nba_raw__schedule", "int_box_scores_unified"], lookback=3
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
    assert "lookback=3," in config and f"begin='{cfg.start}'" in config
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
    assert bench.parse_args(["--smoke"]).only == (*bench.CORE_PARTS, "late")
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


UTC = dt.UTC


def at(day: str, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour, minute), tzinfo=UTC)


def test_microbatch_lookback_batches_are_dbts_own() -> None:
    # a run during a day: that day's batch and `lookback` before it
    days = bench.microbatch_batches(at("2024-04-17", 10), 3)
    assert days == [dt.date(2024, 4, d) for d in (14, 15, 16, 17)]
    # at midnight the day has not begun: its batch is the day before
    days = bench.microbatch_batches(at("2024-04-17", 0), 3)
    assert days == [dt.date(2024, 4, d) for d in (13, 14, 15, 16)]
    assert bench.microbatch_batches(at("2024-04-17", 10), 0) == [dt.date(2024, 4, 17)]


def game(
    day: str, arrivals: dict[str, list[tuple[dt.date, dt.datetime]]], fix: bool = False
) -> None:
    """One game on `day` arriving as the generator stamps it; `fix`: a correction at +3 12:00."""
    d = dt.date.fromisoformat(day)
    for table in bench.BOX_TABLES:
        arrivals.setdefault(table, []).append((d, at(day, 6) + dt.timedelta(days=1)))
    arrivals.setdefault(bench.LATE_PBP_TABLE, []).append((d, at(day, 22) + dt.timedelta(days=2)))
    if fix:
        arrivals[bench.BOX_TABLES[0]].append((d, at(day, 12) + dt.timedelta(days=3)))


def test_late_scenario_is_the_latest_t1_with_late_pbp_and_an_old_correction() -> None:
    arrivals: dict[str, list[tuple[dt.date, dt.datetime]]] = {}
    for n in range(1, 29):
        game(f"2024-03-{n:02d}", arrivals, fix=n in (10, 25))
    start, end = dt.date(2024, 3, 1), dt.date(2024, 3, 28)
    sc = bench.late_scenario(arrivals, start, end, require_all=True)
    # the correction of March 25 lands March 28 12:00, after the last possible T2 (March 28
    # 10:00); the one of March 10 (March 13 12:00) is older than the lookback when T2 is
    # March 14 10:00 .. March 16 10:00: the latest is T1 = March 13 10:00
    assert (sc.t1, sc.t2) == (at("2024-03-13", 10), at("2024-03-16", 10))
    assert sc.lookback_days == [dt.date(2024, 3, d) for d in (13, 14, 15, 16)]
    assert sc.correction_days == sc.old_corrections == [dt.date(2024, 3, 10)]
    assert sc.late_pbp_days == [dt.date(2024, 3, d) for d in (11, 12, 13)]
    assert sc.new_game_days == [dt.date(2024, 3, d) for d in (13, 14, 15)]
    assert (sc.built_end, sc.window_end) == (dt.date(2024, 3, 12), dt.date(2024, 3, 15))
    assert sc.changed["2024-03-10"] == ["nbac_gamebook_player_stats"]
    assert sc.as_dict()["old_corrections"] == ["2024-03-10"]
    # the smoke week needs no correction: the latest T1 with late pbp and a new game day
    smoke = bench.late_scenario(arrivals, start, end, require_all=False)
    assert smoke.t2 == at("2024-03-28", 10) and not smoke.old_corrections


def test_late_scenario_without_a_correction_says_what_to_fix() -> None:
    arrivals: dict[str, list[tuple[dt.date, dt.datetime]]] = {}
    for n in range(1, 29):
        game(f"2024-03-{n:02d}", arrivals)
    # a BDL correction does not count: the gamebook, the mart's first source, did not move
    bdl = bench.BOX_TABLES[1]
    arrivals[bdl].append((dt.date(2024, 3, 10), at("2024-03-13", 12)))
    with pytest.raises(bench.BenchError, match="regenerate them"):
        bench.late_scenario(arrivals, dt.date(2024, 3, 1), dt.date(2024, 3, 28), True)


def test_differing_dates_compare_rows_in_both_directions(tmp_path: Path) -> None:
    def mart(path: Path, rows: list[tuple[str, str, int]]) -> Path:
        with duckdb.connect(str(path)) as con:
            con.execute("create schema nba_analytics")
            con.execute(
                "create table nba_analytics.player_game_summary (game_date date, "
                "player_lookup varchar, points integer, processed_at timestamp)"
            )
            for day, player, points in rows:
                con.execute(
                    "insert into nba_analytics.player_game_summary values (?, ?, ?, now())",
                    [day, player, points],
                )
        return path

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    same = [("2024-04-10", "x", 10), ("2024-04-12", "x", 12)]
    ours = mart(tmp_path / "a" / "nba.duckdb", [*same, ("2024-04-13", "x", 7)])
    theirs = mart(
        tmp_path / "b" / "nba.duckdb", [*same, ("2024-04-13", "x", 9), ("2024-04-14", "y", 1)]
    )
    window = (dt.date(2024, 4, 1), dt.date(2024, 4, 30))
    # processed_at (the build time) differs on every row and is not compared
    assert bench.differing_dates(ours, theirs, *window) == ["2024-04-13", "2024-04-14"]
    assert bench.differing_dates(ours, theirs, dt.date(2024, 4, 1), dt.date(2024, 4, 12)) == []


def test_late_keys_count_the_days_and_say_whether_the_old_correction_was_caught() -> None:
    run = {"cpu_s": 1.0, "load_1min_before": 1.2}
    late = {
        "window": ["2024-03-01", "2024-03-15"],
        "scenario": {
            "t1": "T1", "t2": "T2", "built_end": "2024-03-12", "old_corrections": ["2024-03-10"],
            "late_pbp_days": ["2024-03-11"], "correction_days": ["2024-03-10"],
            "new_game_days": ["2024-03-13"],
        },
        "refresh_stale_s": 9.0, "refresh_noop_s": 0.5,
        "refresh_days_rebuilt": ["2024-03-10", "2024-03-11", "2024-03-13"],
        "microbatch_lookback_s": 12.0,
        "microbatch_lookback_days_rebuilt": ["2024-03-13", "2024-03-14", "2024-03-15",
                                             "2024-03-16"],
        "microbatch_lookback_missed_days": ["2024-03-10", "2024-03-11"],
        "runs": {"refresh_stale": run, "microbatch": run},
    }  # fmt: skip
    summary = bench.late_summary(late)
    assert summary["refresh_days_rebuilt"] == 3 and summary["microbatch_lookback_days_rebuilt"] == 4
    assert summary["microbatch_lookback_missed_days"] == 2
    assert summary["microbatch_lookback_caught_old_correction"] is False
    late["microbatch_lookback_missed_days"] = ["2024-03-11"]
    assert bench.late_summary(late)["microbatch_lookback_caught_old_correction"] is True
    late["scenario"]["old_corrections"] = []  # the smoke week: nothing to catch
    assert bench.late_summary(late)["microbatch_lookback_caught_old_correction"] is None
    lines = bench.late_lines({"details": {"late": late}})
    assert "rebuilt 3 days" in lines[1] and "differs from a full rebuild on 1 days" in lines[2]
    assert bench.late_lines({}) == []


def test_per_chunk_shares_a_groups_call_among_its_chunks(tmp_path: Path) -> None:
    runs = tmp_path / "runs"

    def results(path: Path, elapsed: float, nodes: dict[str, float]) -> None:
        (path / "target").mkdir(parents=True)
        rows = [{"unique_id": uid, "execution_time": t} for uid, t in nodes.items()]
        (path / "target" / "run_results.json").write_text(
            json.dumps({"elapsed_time": elapsed, "results": rows})
        )

    months = (("2022-01-01", "2022-01-31"), ("2022-02-01", "2022-02-28"))
    group = runs / "group_2022-01-01_2022-02-28"
    results(group, 2.0, {"test.p.a": 0.8, "model.p.mart": 0.2})
    state = tmp_path / "state.json"

    # the group's one call is both chunks' run dir: each gets half of it, counted once
    chunks = [{"start": a, "end": b, "seconds": 1.0, "run_dir": str(group)} for a, b in months]
    state.write_text(json.dumps({"chunks": chunks}))
    per = bench._per_chunk(state)
    assert [c["data_tests_s"] for c in per] == [0.4, 0.4]
    assert [c["models_s"] for c in per] == [0.1, 0.1]
    assert [c["dbt_elapsed_s"] for c in per] == [1.0, 1.0]

    # the group failed, each chunk was redone alone: its own call plus half of the group's
    chunks = []
    for start, end in months:
        run_dir = runs / f"chunk_{start}_{end}"
        results(run_dir, 1.0, {"model.p.audit": 0.6})
        chunks.append({"start": start, "end": end, "seconds": 2.0, "run_dir": str(run_dir)})
    state.write_text(json.dumps({"chunks": chunks}))
    per = bench._per_chunk(state)
    assert [c["data_tests_s"] for c in per] == [0.4, 0.4]
    assert [c["models_s"] for c in per] == [0.7, 0.7]
    assert [c["dbt_elapsed_s"] for c in per] == [2.0, 2.0]
    assert [c["data_tests"] for c in per] == [1, 1]
