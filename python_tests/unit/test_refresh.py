"""`refresh`, `status --target` and `--days-back` without a real dbt build: the staleness view
is a table of hand-written rows in a real DuckDB file, dbt is the fake one (python_tests/
fake_dbt.py). The real ledger and view are tested in python_tests/integration/test_refresh.py."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
from conftest import FAKE_DBT

from driver import options
from driver.backfill.chunks import Chunk
from driver.backfill.refresh import DayState, date_runs, describe
from driver.cli import main
from driver.errors import UsageError

FAKE = ["--dbt-executable", f"{sys.executable} {FAKE_DBT}"]
D = dt.date.fromisoformat

PBP = "pbp rows 0 -> 5025, max processed_at - -> 2022-01-04 22:27"
BOX = "box rows 20 -> 21, max processed_at 2022-02-01 05:29 -> 2022-02-03 06:00; sched rows 9 -> 9"
# game_date, state, reason, stale_tables, built_at
ROWS = [
    ("2022-01-01", "fresh", "", "", "2022-01-05 10:00:00"),
    ("2022-01-02", "stale", "late play-by-play", PBP, "2022-01-05"),
    ("2022-01-03", "stale", "late play-by-play", PBP, "2022-01-05"),
    ("2022-01-04", "fresh", "", "", "2022-01-05 10:00:00"),
    ("2022-01-05", "missing", "never built", "", None),
    ("2022-01-06", "changed_logic", "logic change", "", "2022-01-05 10:00:00"),
    ("2022-01-31", "scheduled", "not played yet", "", None),  # nothing to build
    ("2022-02-01", "stale", "box-score correction", BOX, "2022-02-02"),
]


def write_view(db: Path, rows: list[tuple[str, str, str, str, str | None]]) -> None:
    """nba_analytics.build_staleness as a table holding `rows` (the view's interface)."""
    con = duckdb.connect(str(db))
    con.execute("create schema if not exists nba_analytics")
    con.execute(
        "create or replace table nba_analytics.build_staleness (game_date date, state varchar, "
        "reason varchar, stale_tables varchar, built_at timestamp, built_fingerprint varchar, "
        "current_fingerprint varchar)"
    )
    for row in rows:
        con.execute(
            "insert into nba_analytics.build_staleness values (?, ?, ?, ?, ?, 'a', 'a')", row
        )
    con.close()


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    database = tmp_path / "fake.duckdb"
    write_view(database, ROWS)
    monkeypatch.setenv("NBA_DUCKDB_PATH", str(database))
    monkeypatch.setenv("FAKE_DBT_LOG", str(tmp_path / "calls.jsonl"))
    monkeypatch.setenv("FAKE_DBT_STATE_DIR", str(tmp_path / "fake_state"))
    for var in ("FAKE_DBT_FAIL", "FAKE_DBT_TRANSIENT_ONCE", "FAKE_DBT_SLEEP", "NBA_DBT_TARGET",
                "FAKE_DBT_KILL_ONCE", "FAKE_DBT_UNIT_FAIL"):  # fmt: skip
        monkeypatch.delenv(var, raising=False)
    return database


def builds(db: Path) -> list[tuple[str, str]]:
    """The (start_date, end_date) of every fake `dbt build`."""
    log = db.parent / "calls.jsonl"
    found = []
    for line in log.read_text().splitlines() if log.exists() else []:
        entry = json.loads(line)
        if entry["outcome"] != "started" and entry["command"] == "build":
            found.append((entry["start"], entry["end"]))
    return found


def refresh(db: Path, *extra: str) -> int:
    return main(["refresh", "--state-dir", str(db.parent / "state"), "--skip-validation", *FAKE,
                 *extra])  # fmt: skip


def test_dates_are_cut_into_runs_of_consecutive_days() -> None:
    days = [D("2022-01-05"), D("2022-01-02"), D("2022-01-03"), D("2022-01-03"), D("2022-02-01")]
    assert date_runs(days) == [
        Chunk(D("2022-01-02"), D("2022-01-03")),
        Chunk(D("2022-01-05"), D("2022-01-05")),
        Chunk(D("2022-02-01"), D("2022-02-01")),
    ]
    assert date_runs([]) == []


def test_days_are_grouped_by_reason_and_logic_changes_skipped_unless_asked() -> None:
    rows = [DayState(D(r[0]), r[1], r[2], r[3], r[4]) for r in ROWS]
    days, lines = describe(rows, include_logic=False)
    assert days == [D(d) for d in ("2022-01-02", "2022-01-03", "2022-01-05", "2022-02-01")]
    assert lines[0].startswith("  late play-by-play: 2 days [2022-01-02..2022-01-03]")
    assert lines[0].endswith("; raw tables moved: pbp")
    assert any(line.startswith("  never built: 1 day [2022-01-05]") for line in lines)
    assert "skipped, logic change only: 1 day [2022-01-06]" in lines[-1]
    days, lines = describe(rows, include_logic=True)
    assert D("2022-01-06") in days and not any("skipped" in line for line in lines)


def test_days_back_is_today_minus_n_to_today_and_checked() -> None:
    today = D("2024-03-01")
    assert options.days_back_window(3, today) == (D("2024-02-27"), today)
    assert options.days_back_window(0, today) == (today, today)
    with pytest.raises(UsageError, match="--days-back must be >= 0"):
        options.days_back_window(-1, today)


@pytest.mark.parametrize("command", ["refresh", "backfill"])
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--days-back", "-1"], "--days-back must be >= 0"),
        (["--days-back", "2", "--start-date", "2022-01-01"], "not both"),
        (["--start-date", "2022-01-01"], "both --start-date and --end-date"),
    ],
)
def test_bad_days_back_exits_2(
    db: Path, command: str, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, *argv, "--dry-run", *FAKE]) == 2
    assert message in capsys.readouterr().err
    assert builds(db) == []


def test_backfill_days_back_plans_today_minus_n_to_today(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    today = dt.datetime.now(dt.UTC).date()
    assert main(["backfill", "--days-back", "3", "--dry-run", *FAKE]) == 0
    assert f"backfill {today - dt.timedelta(days=3)}..{today} " in capsys.readouterr().out


def test_refresh_dry_run_lists_by_reason_and_builds_nothing(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert refresh(db, "--start-date", "2022-01-01", "--end-date", "2022-01-31", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "7 dates known, 2 fresh, 1 not played yet, 3 to build" in out
    assert "2 chunk(s): 2022-01-02..2022-01-03, 2022-01-05..2022-01-05" in out
    assert "dry run: nothing built" in out
    assert builds(db) == [] and not (db.parent / "state").exists()


def test_refresh_builds_each_run_of_out_of_date_dates_as_a_chunk(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert refresh(db, "--include-logic-changes") == 0
    assert builds(db) == [
        ("2022-01-02", "2022-01-03"),
        ("2022-01-05", "2022-01-06"),
        ("2022-02-01", "2022-02-01"),
    ]
    out = capsys.readouterr().out
    assert "box-score correction: 1 day [2022-02-01]; raw tables moved: box, sched" in out
    assert "chunks: 3 success, 0 failed" in out


def test_nothing_out_of_date_runs_no_dbt(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_view(db, [r for r in ROWS if r[1] == "fresh"])
    assert refresh(db, "--days-back", "3") == 0
    assert "nothing to build" in capsys.readouterr().out
    assert builds(db) == []


def test_status_target_counts_dates_per_month(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--target", "dev"]) == 1  # some dates are out of date
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "target dev (duckdb), every date: 8 dates"
    assert out[1].split() == ["month", "built", "stale", "logic", "changed", "missing", "not",
                              "played", "last", "build"]  # fmt: skip
    assert out[2].split()[:6] == ["2022-01", "2", "2", "1", "1", "1"]
    assert out[3].split()[:6] == ["2022-02", "0", "1", "0", "0", "0"]
    # dates not played yet are not out of date
    write_view(db, [r for r in ROWS if r[1] in ("fresh", "scheduled")])
    assert main(["status", "--start-date", "2022-01-01", "--end-date", "2022-01-31"]) == 0
    assert "last build: 2022-01-05 10:00:00" in capsys.readouterr().out


def test_a_database_being_written_exits_3_or_is_waited_for(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('held', flush=True); time.sleep(3)", str(db)],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        assert refresh(db, "--dry-run") == 3
        assert "give --wait SECONDS" in capsys.readouterr().err
        assert refresh(db, "--dry-run", "--wait", "30") == 0  # read once the writer is gone
        assert "dry run: nothing built" in capsys.readouterr().out
    finally:
        holder.kill()
        holder.wait()


def dbt_runs(db: Path) -> list[list[str]]:
    log = db.parent / "calls.jsonl"
    entries = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return [e["argv"] for e in entries if e["command"] == "run" and e["outcome"] != "started"]


def selected(argv: list[str]) -> list[str]:
    """The dbt selection of a dbt command line (the arguments after --select)."""
    rest = argv[argv.index("--select") + 1 :]
    return rest[: next((i for i, a in enumerate(rest) if a.startswith("-")), len(rest))]


@pytest.mark.parametrize("ledger", [False, True])
def test_a_missing_view_is_created_never_with_a_mart_build_nor_over_a_ledger(
    db: Path, ledger: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    with duckdb.connect(str(db)) as con:
        con.execute("drop table nba_analytics.build_staleness")
        if ledger:
            con.execute("create table nba_analytics.build_ledger (game_date date)")
    assert refresh(db, "--dry-run") == 1  # the fake dbt creates nothing: still missing
    assert "still missing after dbt run" in capsys.readouterr().err
    (argv,) = dbt_runs(db)
    assert selected(argv) == ["1+build_staleness"]
    if ledger:  # an existing ledger is never rebuilt outside a build's window
        assert argv[argv.index("--exclude") + 1] == "build_ledger" and "--vars" not in argv
    else:  # a new one is created empty: every date shows as missing
        assert json.loads(argv[argv.index("--vars") + 1]) == {"ledger_bootstrap": True}
    assert builds(db) == []


def test_logic_changes_recreate_the_view_before_it_is_read(db: Path) -> None:
    assert refresh(db, "--dry-run", "--include-logic-changes") == 0
    (argv,) = dbt_runs(db)
    assert selected(argv) == ["build_staleness"] and "--vars" not in argv


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--max-attempts", "0"], "--max-attempts must be at least 1"),
        (["--vars", "{start_date: 2022-01-01}"], "--vars may not set start_date"),
        (["--select", " "], "is not a dbt selection"),
        (["--workers", "0"], "--workers must be at least 1"),
    ],
)
def test_bad_input_exits_2_before_any_dbt_run(
    db: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with duckdb.connect(str(db)) as con:
        con.execute("drop table nba_analytics.build_staleness")  # would need a dbt run
    assert refresh(db, *argv) == 2
    assert message in capsys.readouterr().err
    assert dbt_runs(db) == [] and builds(db) == []


def test_the_view_is_read_again_under_the_lease(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run holding the target builds the dates while refresh waits: refresh builds nothing."""
    from driver.backfill.lease import duckdb_lease
    from driver.backfill.state import now_iso

    held, done = threading.Event(), threading.Event()

    def other_run() -> None:
        with duckdb_lease(db, "other", now_iso(), 0):
            held.set()
            time.sleep(1.5)
            write_view(db, [r for r in ROWS if r[1] == "fresh"])  # it built everything
        done.set()

    thread = threading.Thread(target=other_run)
    thread.start()
    assert held.wait(10)
    assert refresh(db, "--wait", "30") == 0
    thread.join()
    assert done.is_set()
    assert "another run built the dates meanwhile" in capsys.readouterr().out
    assert builds(db) == []
