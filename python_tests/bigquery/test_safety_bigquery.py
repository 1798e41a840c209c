"""Issue 13 on the BigQuery emulator, through the driver: one writer per dataset through the
warehouse lease (nba_monitoring.build_leases), nothing built from an empty window, kill -9
during the mart's publish then resume.

Run through `make test-bigquery` (the emulator sets BQEMU_ENDPOINT); skipped without it. The
emulator is one project shared by the modules of a group (scripts/test_bigquery.sh), so this
module empties the datasets it uses before and after itself. One day is built (one chunk: a
build on the emulator takes about a minute), with raw data for the week around it (team hints
look at neighbouring days); the reference is the same day built on DuckDB, compared as the
parity test compares (NUMERIC at the column's scale, processed_at left out). The tests run in
file order: the first builds the mart the others start from.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import driver_cli, generate_raw, share_parse_of

from driver.backfill.state import RUNNING, SUCCESS, read_state
from driver.project import PROJECT_DIR


def _parity_helpers() -> ModuleType:
    """The parity test's comparator and readers (python_tests run with --import-mode=importlib,
    so a test module is loaded from its file, not imported by name)."""
    spec = importlib.util.spec_from_file_location(
        "bigquery_parity_helpers", Path(__file__).with_name("test_bigquery_parity.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


_parity = _parity_helpers()
bigquery_rows, duckdb_rows = _parity.bigquery_rows, _parity.duckdb_rows
compare_tables, mart_key, mart_scales = (
    _parity.compare_tables,
    _parity.mart_key,
    _parity.mart_scales,
)
MART = "nba_analytics.player_game_summary"
MART_NODE = "model.nba_analytics.player_game_summary"
DAY = "2022-01-04"
RAW = ("2022-01-01", "2022-01-07", 7)
DATASETS = ("nba_raw", "nba_analytics", "nba_audit", "nba_test_failures", "nba_monitoring")
SELECT_DAY = f"select * from {MART} where game_date = date '{DAY}'"


@dataclass
class Setup:
    client: Any
    env: dict[str, str]
    reference: list[dict[str, object]]  # the day built on DuckDB


def _empty(client: Any) -> None:
    for dataset in DATASETS:
        client.delete_dataset(f"{client.project}.{dataset}", delete_contents=True,
                              not_found_ok=True)  # fmt: skip


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    share_parse_of(args)
    return subprocess.run([sys.executable, "-m", "driver", *args], cwd=PROJECT_DIR, env=env,
                          capture_output=True, text=True, timeout=1800, check=False)  # fmt: skip


def _start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """The driver in its own process group (so the test can kill the group)."""
    share_parse_of(args)
    return subprocess.Popen([sys.executable, "-m", "driver", *args], cwd=PROJECT_DIR, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            process_group=0)  # fmt: skip


def _backfill(state_file: Path, *extra: str, day: tuple[str, str] = (DAY, DAY)) -> list[str]:
    return ["backfill", "--start-date", day[0], "--end-date", day[1], "--target", "bq_local",
            "--state-file", str(state_file), *extra]  # fmt: skip


def _differences(setup: Setup) -> list[str]:
    return compare_tables(bigquery_rows(SELECT_DAY), setup.reference, mart_key(),
                          scales=mart_scales(), exclude={"processed_at"})  # fmt: skip


def _duplicates() -> int:
    (row,) = bigquery_rows(
        f"select count(*) as n, count(distinct concat(game_id, '|', player_lookup)) as d "
        f"from {MART}"
    )
    return int(row["n"]) - int(row["d"])  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    if not os.environ.get("BQEMU_ENDPOINT"):
        pytest.skip("needs the BigQuery emulator: run `make test-bigquery`")
    from driver.warehouse.bigquery import client_for_target

    client = client_for_target("bq_local")
    _empty(client)
    work = tmp_path_factory.mktemp("bq_safety")
    raw = generate_raw(work / "raw", *RAW)
    duckdb_path = work / "nba.duckdb"
    env = {**os.environ, "NBA_DUCKDB_PATH": str(duckdb_path), "NBA_DBT_TARGET": "dev"}
    for target in ("bq_local", "dev"):
        loaded = driver_cli("load", "--from", str(raw), "--target", target, env=env)
        assert loaded.returncode == 0, loaded.stderr[-4000:]
    built = _run(env, *_backfill(work / "dev" / "state.json", "--target", "dev",
                                 "--skip-unit-tests", "--skip-validation"))  # fmt: skip
    assert built.returncode == 0, (built.stdout + built.stderr)[-4000:]
    reference = duckdb_rows(duckdb_path, SELECT_DAY)
    assert len(reference) > 100
    yield Setup(client=client, env=env, reference=reference)
    _empty(client)


def _lease_holder(setup: Setup) -> str:
    from driver.warehouse.bigquery import LEASE_DATASET, LEASE_TABLE

    try:
        rows = bigquery_rows(f"select holder from {LEASE_DATASET}.{LEASE_TABLE}")
    except Exception:  # noqa: BLE001 - the table does not exist before the first lease
        return ""
    return " ".join(str(row["holder"]) for row in rows)


def test_the_same_backfill_twice_runs_once_on_the_warehouse_lease(
    setup: Setup, tmp_path: Path
) -> None:
    """Started twice 3 s apart: the second exits 3 naming the holder (the lease row); with
    --wait it waits, plans again under the lease and finds nothing left; the mart equals the
    day built once (on DuckDB), without duplicates."""
    args = _backfill(tmp_path / "state.json")
    first = _start(setup.env, *args)
    started = time.monotonic()
    deadline = started + 600
    while f" pid {first.pid} " not in _lease_holder(setup):
        assert first.poll() is None and time.monotonic() < deadline, "the first took no lease"
        time.sleep(0.5)
    time.sleep(max(0.0, 3 - (time.monotonic() - started)))
    refused = _run(setup.env, *args)
    assert refused.returncode == 3, (refused.stdout + refused.stderr)[-4000:]
    assert f"pid {first.pid}" in refused.stderr and "build_leases" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert first.poll() is None, "the first ended before the second was refused"
    waited = _run(setup.env, *args, "--wait", "1800", "--skip-validation")
    out, err = first.communicate(timeout=1800)
    assert first.returncode == 0, (out + err)[-4000:]
    assert waited.returncode == 0, (waited.stdout + waited.stderr)[-4000:]
    assert "waiting up to 1800 s" in waited.stdout
    assert "to run: 0" in waited.stdout  # planned again under the lease: nothing left
    assert _differences(setup) == []
    assert _duplicates() == 0


def test_a_ten_year_window_without_raw_rows_has_nothing_to_build(
    setup: Setup, tmp_path: Path
) -> None:
    """One query counts the raw rows of 2010..2019 per partition date: none, so no dbt runs,
    the mart is as it was (to the processed_at), exit 0."""
    before = bigquery_rows(f"select * from {MART} order by game_id, player_lookup")
    state_file = tmp_path / "state.json"
    empty = _run(setup.env, *_backfill(state_file, day=("2010-01-01", "2019-12-31")))
    assert empty.returncode == 0, (empty.stdout + empty.stderr)[-4000:]
    assert "nothing to build: the raw tables hold no rows in 2010-01-01..2019-12-31" in empty.stdout
    assert not (tmp_path / "runs").exists()  # no dbt process ran
    assert bigquery_rows(f"select * from {MART} order by game_id, player_lookup") == before


def test_kill_9_during_the_publish_then_resume_gives_the_clean_table(
    setup: Setup, tmp_path: Path
) -> None:
    """The day is rebuilt; once dbt's log shows the mart's publish statement sent
    (insert_overwrite of the day's partition from the audited table, one MERGE) and before
    the model finished, the driver and dbt are killed with SIGKILL. The resume, on the same
    host, takes over the dead run's lease at once (no waiting for its expiry), redoes the
    chunk, and the table equals a clean build without duplicates."""
    state_file = tmp_path / "state.json"
    args = _backfill(state_file, "--skip-validation")
    driver = _start(setup.env, *args)
    deadline = time.monotonic() + 1200
    while True:
        state = read_state(state_file) if state_file.exists() else None
        if state and state.chunks[0].pid:
            break
        assert driver.poll() is None and time.monotonic() < deadline, "the chunk never started"
        time.sleep(0.1)
    dbt_pid = state.chunks[0].pid
    log = next(tmp_path.glob("runs/*/chunk_*")) / "logs" / "dbt.log"
    # the publish statement (insert_overwrite's MERGE) is logged as it is sent: kill then
    sent = re.compile(
        rf'Writing runtime sql for node "{re.escape(MART_NODE)}"\n.*?On {re.escape(MART_NODE)}: ',
        re.DOTALL,
    )
    try:
        while not (log.exists() and sent.search(log.read_text(errors="replace"))):
            assert time.monotonic() < deadline, f"the mart's publish was never sent ({log})"
            time.sleep(0.02)
        os.killpg(dbt_pid, signal.SIGSTOP)  # frozen in the publish step: look, then kill
        assert f"Finished running node {MART_NODE}\n" not in log.read_text(errors="replace")
    finally:  # a crash: the driver and its dbt die at once
        for group in (driver.pid, dbt_pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
        driver.communicate(timeout=30)
    state = read_state(state_file)
    assert state is not None and state.chunks[0].status == RUNNING

    resumed = _run(setup.env, *args)
    assert resumed.returncode == 0, (resumed.stdout + resumed.stderr)[-4000:]
    assert f"took over the lease of run {state.chunks[0].run_id}" in resumed.stdout
    state = read_state(state_file)
    assert state is not None and state.chunks[0].status == SUCCESS
    assert _differences(setup) == []
    assert _duplicates() == 0
