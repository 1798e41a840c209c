"""nba_report without dbt: bad input exits 2 with nothing written, the page is
self-contained (no script, nothing fetched), bands and statuses in words, monthly sums and
run reports. The report on a real built warehouse: python_tests/integration/test_report.py.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from nba_report import cli
from nba_report.data import BackfillRun, Bands, ReportData, by_month, read_backfill_runs
from nba_report.render import band_text, measured_text, render

BANDS = Bands(
    minutes_null_pass_min=35,
    minutes_null_pass_max=45,
    minutes_null_error_max=60,
    zone_pass_min=85,
    zone_error_min=70,
    rows_per_game_min=20,
    rows_per_game_max=41,
    usage_max=50,
)


def _day(day: dt.date, null_pct: float, level: int) -> dict[str, object]:
    rows = 200
    nulls = round(rows * null_pct / 100)
    return {
        "game_date": day,
        "games_scheduled": 6,
        "games_scheduled_final": 6,
        "games_built": 6,
        "games_final_missing": 0,
        "row_count": rows,
        "active_rows": 120,
        "rows_per_game": rows / 6,
        "minutes_null_rows": nulls,
        "minutes_null_pct": null_pct,
        "zone_population_rows": 120,
        "zone_covered_rows": 118,
        "zone_coverage_pct": 98.33,
        "games_zone_bigdataball": 5,
        "games_zone_nbac": 1,
        "games_zone_none": 0,
        "usage_above_max_rows": 1,
        "identity_exact_rows": 190,
        "identity_suffix_rows": 2,
        "identity_single_source_rows": 8,
        "minutes_null_level": level,
        "zone_coverage_level": 0,
    }


def _history_row(run: str, started: dt.datetime, check: str, status: str) -> dict[str, object]:
    return {
        "run_id": run,
        "run_started_at": started,
        "dbt_command": "test",
        "target_name": "dev",
        "window_start": dt.date(2022, 1, 1),
        "window_end": dt.date(2022, 1, 31),
        "check_name": check,
        "check_description": f"{check} <described>",
        "test_name": "aggregate_per_group_between",
        "status": status,
        "measured_value": 0.0 if status == "pass" else 12.0,
        "measured_unit": "failing rows",
        "band_min": 180.0,
        "band_max": None,
        "error_min": None,
        "error_max": None,
        "failing_rows": 0 if status == "pass" else 12,
        "failures_relation": f'"nba"."nba_test_failures"."{check}"',
    }


def _data(tmp_path: Path) -> ReportData:
    days = [_day(dt.date(2022, 1, d), 40.0, 0) for d in range(1, 29)]
    days.append(_day(dt.date(2022, 1, 29), 100.0, 2))  # a tampered day
    t0 = dt.datetime(2026, 1, 1, 10, 0)
    history = [
        _history_row("run-a", t0, "pgs_team_minutes_error", "pass"),
        _history_row("run-a", t0, "pgs_rows_per_game", "pass"),
        _history_row("run-b", t0 + dt.timedelta(hours=1), "pgs_team_minutes_error", "fail"),
        _history_row("run-b", t0 + dt.timedelta(hours=1), "pgs_rows_per_game", "pass"),
    ]
    return ReportData(
        start=dt.date(2022, 1, 1),
        end=dt.date(2022, 1, 31),
        target="dev",
        location=str(tmp_path / "nba.duckdb"),
        bands=BANDS,
        days=days,
        months=by_month(days),
        games_rows=[33, 35, 36, 36, 38],
        usage_buckets=[(0.0, 100), (20.0, 300), (50.0, 4), (70.0, 1)],
        usage_above_max=5,
        usage_rows=405,
        history=history,
        history_available=True,
        backfill_runs=[],
        spot_checks=[],
        seed=42,
    )


def test_bad_dates_exit_2_and_write_nothing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "r.html"
    cases = [
        (["--start-date", "2022-13-01", "--end-date", "2022-12-31"], "not a real calendar date"),
        (["--start-date", "2022-02-01", "--end-date", "2022-01-01"], "before --start-date"),
        (["--start-date", "2022-01-01'; drop table x; --", "--end-date", "2022-01-31"], "ISO"),
        (["--start-date", "2022-01-01"], "both --start-date and --end-date"),
        (["--start-date", "2022-01-01", "--end-date", "2022-01-31", "--spot-checks", "-1"], ">= 0"),
    ]
    for args, message in cases:
        assert cli.main([*args, "--out", str(out)]) == 2, args
        assert message in capsys.readouterr().err
        assert not out.exists()


def test_missing_database_and_unsupported_targets_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "r.html"
    monkeypatch.setenv("NBA_DUCKDB_PATH", str(tmp_path / "missing.duckdb"))
    window = ["--start-date", "2022-01-01", "--end-date", "2022-01-31", "--out", str(out)]
    assert cli.main(window) == 2
    assert "no DuckDB database" in capsys.readouterr().err
    assert cli.main([*window, "--target", "nope"]) == 2
    assert "unknown target 'nope'" in capsys.readouterr().err
    assert cli.main([*window, "--target", "bq_local"]) == 2
    assert "supports DuckDB targets" in capsys.readouterr().err
    assert not out.exists()


def test_page_is_self_contained(tmp_path: Path) -> None:
    page = render(_data(tmp_path), dt.datetime(2026, 1, 1, 12, 0))
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert "@import" not in page
    assert not re.search(r"url\(\s*['\"]?(?!#)", page)  # only in-page references (clip paths)
    # one inline <svg> per plot: NULL share, zones, rows per game, usage, check history
    assert page.count("<svg") == 5
    assert "<metadata>" not in page


def test_tampered_day_is_a_labelled_fail_point_and_the_failing_check_a_fail_row(
    tmp_path: Path,
) -> None:
    page = render(_data(tmp_path), dt.datetime(2026, 1, 1, 12, 0))
    assert 'id="minutes-null-fail"' in page  # the day's point group, marker X
    assert "2022-01-29: 100% FAIL" in page  # its label, not only its colour
    row = re.search(r"<tr><td class=\"status status-fail\">[^<]*FAIL</td><td>([^<]+)</td>", page)
    assert row and row.group(1) == "pgs_team_minutes_error"
    assert "&lt;described&gt;" in page  # text from the warehouse is escaped


def test_band_and_measured_text() -> None:
    rate = {"measured_unit": "percent", "band_min": 35.0, "band_max": 45.0, "error_max": 60.0}
    assert band_text(rate) == "pass 35-45 %; error > 60 %"
    cover = {"measured_unit": "percent", "band_min": 85.0, "error_min": 70.0}
    assert band_text(cover) == "pass >= 85 %; error < 70 %"
    assert band_text({"band_min": 20.0, "band_max": 41.0}) == "20..41"
    assert band_text({"band_min": 2.0, "band_max": 2.0}) == "2"
    assert band_text({"band_max": 10.0}) == "<= 10"
    assert band_text({}) == "no failing rows"
    assert measured_text({"measured_unit": "percent", "measured_value": 39.256}) == "39.26 %"
    assert measured_text({"measured_value": 3.0}) == "3 failing"
    assert measured_text({"measured_value": None, "status": "error"}) == "did not run"


def test_by_month_sums_days() -> None:
    days = [_day(dt.date(2022, 1, 30), 40.0, 0), _day(dt.date(2022, 2, 1), 50.0, 1)]
    days.append(_day(dt.date(2022, 2, 2), 30.0, 1))
    months = by_month(days)
    assert [m.month for m in months] == [dt.date(2022, 1, 1), dt.date(2022, 2, 1)]
    assert months[1].rows == 400 and months[1].minutes_null_rows == 160
    assert months[1].minutes_null_pct == pytest.approx(40.0)
    assert months[0].games_zone == {"bigdataball": 5, "nbac": 1, "none": 0}


def test_backfill_run_reports_in_the_window(tmp_path: Path) -> None:
    def report(name: str, start: str, end: str) -> None:
        payload = {
            "run": {
                "started_at": f"{start}T00:00:00+00:00",
                "seconds": 36.0,
                "days_run": 10,
                "exit_code": 0,
            },
            "state": {
                "start_date": start,
                "end_date": end,
                "target": "dev",
                "chunks": [{"start": start, "end": end, "seconds": 30.0, "status": "success"}],
            },
        }
        (tmp_path / name).write_text(json.dumps(payload))

    report("run_1.json", "2022-01-01", "2022-01-10")
    report("run_2.json", "2023-01-01", "2023-01-10")  # outside the window
    (tmp_path / "run_3.json").write_text("{not json")
    (tmp_path / "run_4.json").write_text(json.dumps({"something": "else"}))
    runs = read_backfill_runs(tmp_path, dt.date(2022, 1, 5), dt.date(2022, 1, 31))
    assert [r.path.name for r in runs] == ["run_1.json"]
    assert isinstance(runs[0], BackfillRun) and runs[0].days_per_hour == pytest.approx(1000.0)
    assert read_backfill_runs(tmp_path / "none", dt.date(2022, 1, 1), dt.date(2022, 1, 2)) == []


def test_the_latest_validation_shown_is_one_that_covers_the_window(tmp_path: Path) -> None:
    data = _data(tmp_path)
    later = dt.datetime(2026, 1, 2, 6, 0)
    one_day = [
        {**_history_row("run-day", later, check, "pass"), "window_start": dt.date(2022, 1, 15),
         "window_end": dt.date(2022, 1, 15)}
        for check in ("pgs_team_minutes_error", "pgs_rows_per_game")
    ]  # fmt: skip
    data.history = [*data.history, *one_day]
    # a later run of one day does not hide the last validation of the whole month (run-b)
    assert data.latest_run_id == "run-b"
    at = dt.datetime(2026, 1, 2, 12, 0)
    assert "part of this report" not in render(data, at)
    # with no run over the whole window, the latest partial one is shown, and says so
    data.history = one_day
    assert data.latest_run_id == "run-day"
    page = render(data, at)
    assert "window 2022-01-15..2022-01-15" in page
    assert "only part of this report's window" in page
    assert "(of part of the window only)" in page
