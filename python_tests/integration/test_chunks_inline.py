"""Cheap chunks (driver.backfill.runner: STEP_VARS, WINDOW_INDEPENDENT): a backfill of short
chunks inlines the staging and intermediate steps into the audited relation instead of writing
them per chunk (the first chunk writes them, so that they exist), and its validation checks
those steps over the whole window, not a chunk's rows; the models tagged window_independent are
built by the first chunk only.

Serial chunks after the first go by groups (driver.backfill.runner.ChunkRunner.run_group): one
dbt call builds the group's window (the audit relation, its checks, the publish); a group whose
checks fail is checked chunk by chunk, so only the failing chunk stays unpublished; an
interrupted group publishes nothing and resume redoes it.

Backfills of January (seed 7, conftest.month_db) in four chunks, without the unit tests.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from conftest import RAW_MONTH, copy_db, duckdb_env

from driver.backfill.state import FAILED, PENDING, RUNNING, SUCCESS, read_state
from driver.project import PROJECT_DIR

STEP_SCHEMAS = ("nba_staging", "nba_intermediate")
MART = "nba_analytics.player_game_summary"
AUDIT_NODE = "model.nba_analytics.player_game_summary__audit"
MART_NODE = "model.nba_analytics.player_game_summary"
# four chunks: the first alone (it writes the step tables), the other three one group
CHUNKS = [("2022-01-01", "2022-01-08"), ("2022-01-09", "2022-01-16"),
          ("2022-01-17", "2022-01-24"), ("2022-01-25", "2022-01-31")]  # fmt: skip
GROUP = f"group_{CHUNKS[1][0]}_{CHUNKS[-1][1]}"


def _backfill(db: Path, state_file: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "driver", "backfill", "--start-date", RAW_MONTH[0],
         "--end-date", RAW_MONTH[1], "--chunk-days", "8", "--skip-unit-tests",
         "--state-file", str(state_file), *extra],
        cwd=PROJECT_DIR, env=duckdb_env(db), capture_output=True, text=True, check=False,
        timeout=900,
    )  # fmt: skip


def _mart(db: Path, where: str = "true", columns: str = "* exclude (processed_at)") -> list:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            f"select {columns} from {MART} where {where} order by game_id, player_lookup"
        ).fetchall()


def _run_results(run_dir: Path) -> list[dict]:
    return json.loads((run_dir / "target" / "run_results.json").read_text())["results"]


def test_short_chunks_inline_the_steps_publish_by_group_and_validate_the_whole_window(
    month_db: Path, month_built_db: Path, tmp_path: Path
) -> None:
    db = copy_db(month_db, tmp_path / "nba.duckdb")  # raw data only: no step relation yet
    state_file = tmp_path / "bf" / "state.json"
    proc = _backfill(db, state_file)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    assert "validation OK" in proc.stdout

    # the step tables hold the first chunk's rows only: the others inlined the steps
    with duckdb.connect(str(db), read_only=True) as con:
        last = con.execute(
            "select max(game_date) from nba_staging.stg_nba_raw__gamebook_player_stats"
        ).fetchone()
    assert last is not None and str(last[0]) <= CHUNKS[0][1]

    runs = next((state_file.parent / "runs").iterdir())
    # the first chunk alone, the other three in one call over their window
    assert sorted(d.name for d in runs.glob("chunk_*")) == [f"chunk_{a}_{b}" for a, b in CHUNKS[:1]]
    assert sorted(d.name for d in runs.glob("group_*")) == [GROUP]
    first = {r["unique_id"] for r in _run_results(runs / f"chunk_{CHUNKS[0][0]}_{CHUNKS[0][1]}")}
    staleness = "model.nba_analytics.build_staleness"
    assert staleness in first and MART_NODE in first  # the first chunk: a whole build
    # the group's call wrote the audit relation over its window once, checked it once and
    # published it (the window-independent models: built by the first chunk only)
    group = {r["unique_id"]: r["status"] for r in _run_results(runs / GROUP)}
    checks = [uid for uid in group if uid.startswith("test.")]
    assert len(checks) >= 20 and all(group[uid] in ("pass", "warn") for uid in checks)
    assert group[AUDIT_NODE] == group[MART_NODE] == "success" and staleness not in group
    state = read_state(state_file)
    assert state is not None and [c.status for c in state.chunks] == [SUCCESS] * 4
    assert {c.run_dir for c in state.chunks[1:]} == {str(runs / GROUP)}
    assert _mart(db) == _mart(month_built_db)  # row for row a build of the month in one pass

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


def test_a_group_whose_checks_fail_publishes_every_chunk_but_the_failing_one(
    month_built_db: Path, tmp_path: Path
) -> None:
    """January built; a 999-point line in the third chunk fails the group's checks: the chunks
    are then checked one by one, the second and fourth publish, the third fails naming the
    check and the audit relation left for inspection, and its window keeps the published rows
    (processed_at included)."""
    db = copy_db(month_built_db, tmp_path / "nba.duckdb")
    third = f"game_date between '{CHUNKS[2][0]}' and '{CHUNKS[2][1]}'"
    with duckdb.connect(str(db)) as con:
        con.execute(
            "update nba_raw.nbac_gamebook_player_stats set points = 999 where game_date = "
            f"'{CHUNKS[2][0]}' and player_lookup = (select min(player_lookup) from "
            f"nba_raw.nbac_gamebook_player_stats where game_date = '{CHUNKS[2][0]}' "
            "and player_status = 'active')"
        )
    before = _mart(db, third, "*")
    clean = _mart(month_built_db)
    state_file = tmp_path / "bf" / "state.json"

    proc = _backfill(db, state_file, "--max-attempts", "1")

    assert proc.returncode == 1, (proc.stdout + proc.stderr)[-6000:]
    state = read_state(state_file)
    assert state is not None
    assert [c.status for c in state.chunks] == [SUCCESS, SUCCESS, FAILED, SUCCESS]
    error = state.chunks[2].error or ""
    assert "pgs_points_range" in error
    assert "left for inspection: nba_audit.player_game_summary__audit" in error
    runs = next((state_file.parent / "runs").iterdir())
    group = {r["unique_id"].split(".")[2]: r["status"] for r in _run_results(runs / GROUP)}
    assert group["pgs_points_range"] == "fail" and group["player_game_summary"] == "skipped"
    assert _mart(db, third, "*") == before  # the failing chunk's window: untouched
    assert _mart(db, f"not ({third})") == [  # the others: published, as a clean build
        row for row in clean if not (CHUNKS[2][0] <= row[3].isoformat() <= CHUNKS[2][1])
    ]


def test_an_interrupted_group_publishes_nothing_and_resume_redoes_it(
    month_built_db: Path, tmp_path: Path
) -> None:
    """SIGTERM while the group's call runs: the group's chunks go back to pending and their
    windows keep the published rows (processed_at included), the first chunk stays done; the
    same command then builds the rest, equal to a clean build."""
    db = copy_db(month_built_db, tmp_path / "nba.duckdb")
    rest = f"game_date >= '{CHUNKS[1][0]}'"
    before = _mart(db, rest, "*")
    state_file = tmp_path / "bf" / "state.json"
    args = [sys.executable, "-m", "driver", "backfill", "--start-date", RAW_MONTH[0],
            "--end-date", RAW_MONTH[1], "--chunk-days", "8", "--skip-unit-tests",
            "--state-file", str(state_file)]  # fmt: skip
    proc = subprocess.Popen(args, cwd=PROJECT_DIR, env=duckdb_env(db), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 600
    began = f"Began running node {AUDIT_NODE}"
    while True:  # the group's call writes the audit relation: nothing published yet
        state = read_state(state_file) if state_file.exists() else None
        logs = list(state_file.parent.glob(f"runs/*/{GROUP}/logs/dbt.log"))
        if (
            state
            and all(c.status == RUNNING and c.pid for c in state.chunks[1:])
            and any(began in log.read_text(errors="replace") for log in logs)
        ):
            break
        assert proc.poll() is None and time.monotonic() < deadline, "the group never started"
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, (out + err)[-4000:]
    state = read_state(state_file)
    assert state is not None
    assert [c.status for c in state.chunks] == [SUCCESS, PENDING, PENDING, PENDING]
    assert _mart(db, rest, "*") == before  # nothing of the group published

    resumed = _backfill(db, state_file)
    assert resumed.returncode == 0, (resumed.stdout + resumed.stderr)[-6000:]
    assert "resuming" in resumed.stdout
    state = read_state(state_file)
    assert state is not None and [c.status for c in state.chunks] == [SUCCESS] * 4
    assert state.chunks[0].attempts == 1
    assert _mart(db) == _mart(month_built_db)
