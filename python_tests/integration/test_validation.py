"""The validation checks on real dbt and real DuckDB.

January 2022 is loaded and built once; each scenario copies that DuckDB file, breaks the
data the way a real incident did, and asserts that the RIGHT check fails (by its name in the
report and in dbt's run_results), and that its rows were kept. The report without dbt
(rendering, bands, bad windows) is in python_tests/unit/test_validation_report.py.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from conftest import copy_db, duckdb_env, parse_cache

from driver.dbt.invoke import run_dbt
from driver.project import DEFAULT_SELECTION, PROJECT_DIR
from driver.validation.command import validate_window
from driver.validation.report import ValidationReport

MART = "nba_analytics.player_game_summary"
START, END = "2022-01-01", "2022-01-31"
# Warnings the synthetic data earns (docs/validation.md): injected BDL fill-in rows with
# halved points, an odd minutes string above 60, a few high-usage synthetic players, and the
# games that never get play-by-play (overdue: a warning unless late_data_overdue: error).
EARNED_WARNINGS = {
    "pgs_usage_rate_at_most_max", "pgs_minutes_at_most_max", "pgs_points_formula",
    "pgs_pbp_landed_or_pending",
}  # fmt: skip


@pytest.fixture(scope="module")
def built_db(month_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """January 2022 loaded and built (mart, ledger; without tests); each scenario copies it."""
    db = copy_db(month_db, tmp_path_factory.mktemp("validation") / "built" / "nba.duckdb")
    build = run_dbt(
        ["run", "--select", *DEFAULT_SELECTION],  # what the validation tests
        target="dev",
        run_dir=db.parent / "build",
        window=(START, END),
        parse_cache=parse_cache(),
        env=duckdb_env(db),
    )
    assert build.ok, build.output[-3000:]
    return db


@pytest.fixture(scope="module")
def scenario_dir(built_db: Path) -> Path:
    """One directory (a DuckDB file and dbt's run dir) for every scenario."""
    path = built_db.parent.parent / "scenario"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def db(built_db: Path, scenario_dir: Path) -> Iterator[Path]:
    """A fresh copy of the built month for one scenario (scenarios run one at a time)."""
    copy = copy_db(built_db, scenario_dir / "nba.duckdb")
    with pytest.MonkeyPatch.context() as mp:
        # validate_window's dbt reads it (conftest.duckdb_env: the path that shares the parse)
        mp.setenv("NBA_DUCKDB_PATH", duckdb_env(copy)["NBA_DUCKDB_PATH"])
        yield copy


def _sql(db: Path, *statements: str) -> None:
    with duckdb.connect(str(db)) as con:
        for statement in statements:
            con.execute(statement)


def _one(db: Path, sql: str) -> tuple:
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute(sql).fetchone()
    assert row is not None
    return row


def _validate(db: Path, start: str | None = START, end: str | None = END) -> ValidationReport:
    report = validate_window(start, end, "dev", db.parent / "validate", parse_cache=parse_cache())
    assert report.error is None, report.render()
    return report


def _status(report: ValidationReport) -> dict[str, str]:
    return {c.name: c.status for c in report.checks}


def _failed(report: ValidationReport) -> set[str]:
    return {c.name for c in report.failed}


def test_demo_month_passes_with_only_earned_warnings(db: Path) -> None:
    report = _validate(db)
    text = report.render()
    assert report.ok, text
    assert len(report.checks) > 50
    assert {c.name for c in report.warned} <= EARNED_WARNINGS, text
    # Rate checks show the measured value read back from their stored row.
    null_rate = next(c for c in report.checks if c.name == "pgs_minutes_null_rate")
    assert null_rate.status == "pass" and "% (" in null_rate.measured, text
    assert "35-45%" in null_rate.band
    assert "validation OK" in text


def test_minutes_nulled_by_the_legacy_parser_bug_fail_the_null_rate(db: Path):
    # Legacy defect 1: the minutes string coerced to a number first, 99.5% NULL.
    _sql(db, f"update {MART} set minutes_played = null where hash(player_lookup) % 200 != 0")
    report = _validate(db)
    status = _status(report)
    assert not report.ok
    assert status["pgs_minutes_null_rate"] == "fail", report.render()
    assert status["pgs_minutes_coverage_non_dnp"] == "fail"
    null_rate = next(c for c in report.checks if c.name == "pgs_minutes_null_rate")
    assert float(null_rate.measured.split("%")[0]) > 99
    # The measurement row is kept in the failures schema.
    stored = _one(
        db, "select measured_pct, severity_level from nba_test_failures.pgs_minutes_null_rate"
    )
    assert stored[0] > 99 and stored[1] == 2


def test_missing_play_by_play_fails_zone_coverage_in_the_chunk_build(db: Path):
    # BigDataBall and NBA.com play-by-play both missing for 40% of the window's games:
    # rebuilding the chunk runs its tests, and the chunk fails on zone coverage.
    games = "select game_id from nba_raw.nbac_gamebook_player_stats where hash(game_id) % 5 < 2"
    _sql(
        db,
        f"delete from nba_raw.bigdataball_play_by_play where game_id in ({games})",
        f"delete from nba_raw.nbac_play_by_play where game_id in ({games})",
    )
    build = run_dbt(
        ["build", "--select", "+player_game_summary", "--exclude-resource-type", "unit_test"],
        target="dev",
        run_dir=db.parent / "validate",
        window=(START, END),
        parse_cache=parse_cache(),
        env=duckdb_env(db),
    )
    assert not build.ok
    assert build.run_results is not None
    by_name = {r["unique_id"].split(".")[2]: r for r in build.run_results["results"]}
    assert by_name["pgs_shot_zone_coverage"]["status"] == "fail", build.output[-3000:]
    assert by_name["player_game_summary"]["status"] == "skipped"  # the audit failed: not published
    measured = _one(db, "select measured_pct from nba_test_failures.pgs_shot_zone_coverage")[0]
    assert measured < 70


def test_a_duplicated_player_game_fails_uniqueness(db: Path) -> None:
    _sql(
        db,
        f"insert into {MART} select * from {MART} "
        "where game_date = date '2022-01-15' order by game_id, player_lookup limit 1",
    )
    report = _validate(db)
    failed = _failed(report)
    assert {"pgs_unique_game_player", "pgs_unique_date_player"} <= failed, report.render()
    assert "pgs_minutes_null_rate" not in failed
    kept = _one(
        db, "select count(*), max(duplicate_rows) from nba_test_failures.pgs_unique_game_player"
    )
    assert kept == (1, 2)
    # Scoped to the window: a chunk that does not hold Jan 15 does not see the duplicate.
    narrow = run_dbt(
        ["test", "--select", "pgs_unique_game_player", "pgs_unique_date_player"],
        target="dev",
        run_dir=db.parent / "validate",
        window=("2022-01-03", "2022-01-09"),
        parse_cache=parse_cache(),
        env=duckdb_env(db),
    )
    assert narrow.ok and narrow.run_results is not None, narrow.output[-2000:]
    tests = [r for r in narrow.run_results["results"] if r["unique_id"].startswith("test.")]
    assert len(tests) == 2 and {r["status"] for r in tests} == {"pass"}


def test_twelve_days_without_rows_fail_the_season_gap_check(db: Path) -> None:
    _sql(db, f"delete from {MART} where game_date between date '2022-01-10' and date '2022-01-21'")
    report = _validate(db)
    # The lost days' games are missing too; the gap check names the hole itself.
    assert _failed(report) == {"pgs_scheduled_games_present", "pgs_no_regular_season_gap"}
    gap = _one(
        db,
        "select date_before_gap, date_after_gap, gap_days "
        "from nba_test_failures.pgs_no_regular_season_gap",
    )
    assert (str(gap[0]), str(gap[1]), gap[2]) == ("2022-01-09", "2022-01-22", 12)


def test_a_final_game_without_rows_fails_completeness(db: Path) -> None:
    """Through the CLI: the report names the check, and the exit code is 1."""
    game_id = _one(db, f"select min(game_id) from {MART} where game_date = date '2022-01-20'")[0]
    _sql(db, f"delete from {MART} where game_id = '{game_id}'")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "driver",
            "validate",
            "--start-date",
            START,
            "--end-date",
            END,
            "--run-dir",
            str(db.parent / "validate"),
        ],  # fmt: skip
        cwd=PROJECT_DIR,
        env=duckdb_env(db),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAIL" in proc.stdout and "Every final scheduled game" in proc.stdout
    assert "pgs_scheduled_games_present" in proc.stdout
    assert "validation FAILED" in proc.stdout
    table_rows = [line for line in proc.stdout.splitlines() if line.startswith("FAIL  ")]
    assert len(table_rows) == 1 and "Every final scheduled game" in table_rows[0], proc.stdout
    missing = _one(
        db, "select game_id, game_status from nba_test_failures.pgs_scheduled_games_present"
    )
    assert missing == (game_id, 3)
