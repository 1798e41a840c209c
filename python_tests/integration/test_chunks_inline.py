"""Cheap chunks (driver.backfill.runner: STEP_VARS, WINDOW_INDEPENDENT): a backfill of short
chunks inlines the staging and intermediate steps into the audited relation instead of writing
them per chunk (the first chunk writes them, so that they exist), and its validation checks
those steps over the whole window, not a chunk's rows; the models tagged window_independent are
built by the first chunk only.

One backfill of January (seed 7, conftest.month_db) in two chunks, without the unit tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
from conftest import RAW_MONTH, copy_db, duckdb_env

from driver.project import PROJECT_DIR

STEP_SCHEMAS = ("nba_staging", "nba_intermediate")


def _run_results(run_dir: Path) -> list[dict]:
    return json.loads((run_dir / "target" / "run_results.json").read_text())["results"]


def test_two_short_chunks_inline_the_steps_and_validate_them_over_the_whole_window(
    month_db: Path, tmp_path: Path
) -> None:
    db = copy_db(month_db, tmp_path / "nba.duckdb")  # raw data only: no step relation yet
    state_file = tmp_path / "bf" / "state.json"
    proc = subprocess.run(
        [sys.executable, "-m", "driver", "backfill", "--start-date", RAW_MONTH[0],
         "--end-date", RAW_MONTH[1], "--chunk-days", "16", "--skip-unit-tests",
         "--state-file", str(state_file)],
        cwd=PROJECT_DIR, env=duckdb_env(db), capture_output=True, text=True, check=False,
        timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    assert "validation OK" in proc.stdout

    # the step tables hold the first chunk's rows only: the second inlined the steps
    with duckdb.connect(str(db), read_only=True) as con:
        last = con.execute(
            "select max(game_date) from nba_staging.stg_nba_raw__gamebook_player_stats"
        ).fetchone()
    assert last is not None and str(last[0]) <= "2022-01-16" < RAW_MONTH[1]

    runs = next((state_file.parent / "runs").iterdir())
    first, second = sorted(runs.glob("chunk_*"))
    built = [{r["unique_id"] for r in _run_results(d)} for d in (first, second)]
    staleness = "model.nba_analytics.build_staleness"
    assert staleness in built[0] and staleness not in built[1]  # window-independent: once
    assert "model.nba_analytics.player_game_summary" in built[1]

    # the validation ran the steps' checks, each computing its step from the raw tables of the
    # whole window (a table would have held the last chunk's rows only)
    validation = runs / "validation"
    manifest = json.loads((validation / "target" / "manifest.json").read_text())["nodes"]
    step_checks = [
        r for r in _run_results(validation)
        if r["unique_id"].startswith("test.")
        and manifest[r["unique_id"]]["original_file_path"].startswith(
            ("models/staging", "models/intermediate"))
        and any(".stg_" in n or ".int_" in n
                for n in manifest[r["unique_id"]]["depends_on"]["nodes"])
    ]  # fmt: skip
    assert len(step_checks) >= 10
    assert all(r["status"] == "pass" for r in step_checks)
    for r in step_checks:
        sql = r["compiled_code"]
        assert not any(f'"{schema}".' in sql for schema in STEP_SCHEMAS), r["unique_id"]
        assert '"nba_raw".' in sql, r["unique_id"]
