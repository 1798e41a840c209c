"""The validation history and the quality report on real dbt and DuckDB (January 2022, seed 7).

The month is built once (the mart, its tests and the monitoring views); scenarios copy it.
- Every validation appends one run of rows to nba_monitoring.validation_history: two
  validations leave two runs, next to the build's own run.
- A tampered day (all minutes NULL) is a FAIL point on the NULL-share plot, labelled with its
  date, and the check it breaks is a FAIL row in the checks table.
- The report opens in headless Chromium with no network: its plots render (SVG count and
  non-blank pixels). Set NBA_REPORT_SCREENSHOT=docs/img/quality_report.png to keep the shot
  (docs/quality_report.md shows it).
Report logic without dbt: python_tests/unit/test_report.py.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import duckdb
import pytest
from conftest import copy_db, duckdb_env, parse_cache

from driver.dbt.invoke import run_dbt
from driver.validation.command import validate_window
from nba_report import cli

MART = "nba_analytics.player_game_summary"
HISTORY = "nba_monitoring.validation_history"
START, END = "2022-01-01", "2022-01-31"
TAMPERED = "2022-01-15"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def _rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def _report(tmp_path: Path, *window: str) -> tuple[int, Path]:
    out = tmp_path / "report.html"
    dates = ["--start-date", window[0], "--end-date", window[1]] if window else []
    code = cli.main([*dates, "--out", str(out), "--runs-dir", str(tmp_path / "no-runs")])
    return code, out


@pytest.fixture(scope="module")
def built(month_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """January 2022 built with its data tests (one history run) and the monitoring views (and
    their dbt unit tests: a failing one fails the build)."""
    db = copy_db(month_db, tmp_path_factory.mktemp("report") / "built" / "nba.duckdb")
    res = run_dbt(
        [
            "build",
            "--select",
            "+player_game_summary",
            "path:models/monitoring",
            # the unit tests of the mart's models run elsewhere; the monitoring views' run here
            "--exclude",
            "test_type:unit,+player_game_summary",
        ],
        target="dev",
        run_dir=db.parent / "build",
        window=(START, END),
        parse_cache=parse_cache(),
        env=duckdb_env(db),
    )
    assert res.ok, res.output[-3000:]
    return db


@pytest.fixture(scope="module")
def tampered(built: Path) -> Path:
    """The built month with every minute of one day set NULL, then validated (it fails).
    Every table holding the mart's rows is tampered (the published mart and, where the build
    audits before publishing, the audited copy the data tests read)."""
    db = copy_db(built, built.parent / "tampered" / "nba.duckdb")
    with duckdb.connect(str(db)) as con:
        tables = con.execute(
            "select c.table_schema, c.table_name from information_schema.columns c "
            "join information_schema.tables t using (table_schema, table_name) "
            "where c.column_name = 'minutes_played' and t.table_type = 'BASE TABLE' "
            "and c.table_schema not in ('nba_test_failures', 'nba_monitoring')"
        ).fetchall()
        assert ("nba_analytics", "player_game_summary") in tables
        for schema, table in tables:
            con.execute(
                f"update {schema}.{table} set minutes_played = null where game_date = '{TAMPERED}'"
            )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NBA_DUCKDB_PATH", duckdb_env(db)["NBA_DUCKDB_PATH"])  # shares the parse
        report = validate_window(
            START, END, "dev", db.parent / "validate", parse_cache=parse_cache()
        )
    assert report.error is None, report.render()
    assert "pgs_team_minutes_error" in {c.name for c in report.failed}, report.render()
    return db


def test_two_validations_leave_two_runs_of_history(
    built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = copy_db(built, built.parent / "two" / "nba.duckdb")
    monkeypatch.setenv("NBA_DUCKDB_PATH", duckdb_env(db)["NBA_DUCKDB_PATH"])  # shares the parse
    for _ in range(2):
        report = validate_window(
            START, END, "dev", db.parent / "validate", parse_cache=parse_cache()
        )
        assert report.ok, report.render()
    runs = _rows(
        db,
        f"select run_id, count(*), min(window_start), max(window_end), "
        f"count(distinct run_started_at) from {HISTORY} where dbt_command = 'test' "
        "group by run_id",
    )
    assert len(runs) == 2
    for _, checks, start, end, started in runs:
        assert checks == len(report.checks)  # one row per check the validation ran
        assert (str(start), str(end), started) == (START, END, 1)
    # the build's own run is still there: rows are appended, never replaced
    assert _rows(
        db, f"select count(distinct run_id) from {HISTORY} where dbt_command = 'build'"
    ) == [(1,)]
    # the rate check's measured percentage and band, and a row check's failing-row count
    null_rate = _rows(
        db,
        f"select status, measured_value, band_min, band_max, error_max from {HISTORY} "
        "where check_name = 'pgs_minutes_null_rate' and dbt_command = 'test'",
    )
    assert len(null_rate) == 2
    for status, measured, band_min, band_max, error_max in null_rate:
        assert status == "pass" and 35 <= measured <= 45
        assert (band_min, band_max, error_max) == (35, 45, 60)
    assert _rows(
        db,
        f"select distinct status, failing_rows, band_min, band_max from {HISTORY} "
        "where check_name = 'pgs_rows_per_game'",
    ) == [("pass", 0, 20, 41)]


def test_tampered_day_is_a_red_point_and_a_failing_check(
    tampered: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NBA_DUCKDB_PATH", str(tampered))
    assert _rows(
        tampered,
        "select minutes_null_pct, minutes_null_level "
        f"from nba_monitoring.monitoring_completeness_by_date where game_date = '{TAMPERED}'",
    ) == [(100.0, 2)]
    code, out = _report(tmp_path, START, END)
    assert code == 0
    page = out.read_text()
    # the day is drawn in the NULL-share plot's FAIL group (red X markers), labelled
    fail_group = re.search(r'<g id="minutes-null-fail">(.*?)</g>\s*<g id=', page, re.DOTALL)
    assert fail_group and fail_group.group(1).count("<use") == 1
    assert f"{TAMPERED}: 100% FAIL" in page
    # the checks table lists the check it broke as FAIL, first, with its stored rows
    checks = page[page.index('<table class="checks">') :]
    first = re.search(r'<td class="status status-(\w+)">[^<]*</td><td>([^<]+)</td>', checks)
    assert first and first.group(1) == "fail"
    assert re.search(
        r'status-fail">[^<]*FAIL</td><td>pgs_team_minutes_error</td>(?:<td[^>]*>[^<]*</td>){4}'
        r"<td>nba_test_failures.pgs_team_minutes_error</td>",
        checks,
    )
    # and the day is in the completeness table of days out of band
    assert f"<td>{TAMPERED}</td>" in page[: page.index('id="minutes-null"')]


def test_bad_windows_and_missing_views_exit_2(
    built: Path,
    month_db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    monkeypatch.setenv("NBA_DUCKDB_PATH", str(built))
    code, out = _report(tmp_path, "2021-07-01", "2021-07-31")
    assert code == 2 and not out.exists()
    assert (
        "no rows in nba_analytics.player_game_summary between 2021-07-01" in capsys.readouterr().err
    )
    raw_only = copy_db(month_db, tmp_path / "raw.duckdb")
    monkeypatch.setenv("NBA_DUCKDB_PATH", str(raw_only))
    code, out = _report(tmp_path, START, END)
    assert code == 2 and not out.exists()
    assert "build the monitoring views" in capsys.readouterr().err


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_report_renders_offline_in_headless_chromium(
    tampered: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("no chromium on PATH: scripts/install_chromium.sh installs it")
    from PIL import Image

    monkeypatch.setenv("NBA_DUCKDB_PATH", str(tampered))
    code, out = _report(tmp_path, START, END)
    assert code == 0
    page = out.read_text()
    # nothing to fetch: no script, no src/href leaving the page
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    # every request would go to a closed local port: what renders came from the file alone
    flags = [
        *CHROMIUM_FLAGS,
        f"--proxy-server=127.0.0.1:{_closed_port()}",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [exe, *flags, "--dump-dom", out.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert dom.stdout.count("<svg") == page.count("<svg") >= 5
    shot = Path(os.environ.get("NBA_REPORT_SCREENSHOT") or tmp_path / "report.png").resolve()
    shot.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [exe, *flags, "--window-size=1200,1900", f"--screenshot={shot}", out.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    with Image.open(shot) as image:
        gray = image.convert("L")
        assert gray.size == (1200, 1900)
        histogram = gray.histogram()
    inked = sum(histogram[:200]) / sum(histogram)  # pixels clearly darker than the page
    assert inked > 0.03, f"screenshot looks blank: {inked:.3%} dark pixels"
    # the NULL-share plot (its red FAIL marker, #b71c1c) made it into the pixels
    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20) or []
    assert any(abs(r - 0xB7) < 24 and g < 60 and b < 60 for _, (r, g, b) in colours)
