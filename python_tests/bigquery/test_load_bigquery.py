"""The raw-data loader on the BigQuery emulator: the same statements as on DuckDB, run after load
jobs into staging tables, give the same tables.

Run through `make test-bigquery` (the emulator sets BQEMU_ENDPOINT); skipped without it. The
emulator is one in-memory project shared by the modules of a group (scripts/test_bigquery.sh),
so this module empties nba_raw before and after itself.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
from conftest import driver_cli, generate_raw

from driver.project import load_contract

CONTRACT = load_contract("raw_tables")
TABLES = list(CONTRACT["tables"])
T1, T2 = "2022-01-04T12:00:00Z", "2022-01-06T12:00:00Z"


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    if not os.environ.get("BQEMU_ENDPOINT"):
        pytest.skip("needs the BigQuery emulator: run `make test-bigquery`")
    from driver.warehouse.bigquery import client_for_target

    bq = client_for_target("bq_local")
    dataset = f"{bq.project}.{CONTRACT['dataset']}"
    bq.delete_dataset(dataset, delete_contents=True, not_found_ok=True)
    yield bq
    bq.delete_dataset(dataset, delete_contents=True, not_found_ok=True)


@pytest.fixture(scope="module")
def raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_raw(tmp_path_factory.mktemp("raw_bq_load"), "2022-01-01", "2022-01-07", 7)


def _load(raw: Path, target: str, *extra: str, db: Path | None = None) -> str:
    env = {"NBA_DUCKDB_PATH": str(db)} if db else None
    proc = driver_cli("load", "--from", str(raw), "--target", target, *extra, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _utc(value: Any) -> Any:
    return value.astimezone(dt.UTC) if isinstance(value, dt.datetime) else value


def _bq_rows(client: Any, table: str) -> Counter[tuple[Any, ...]]:
    columns = ", ".join(CONTRACT["tables"][table]["columns"])
    rows = client.query(f"select {columns} from {CONTRACT['dataset']}.{table}").result()
    return Counter(tuple(_utc(v) for v in row.values()) for row in rows)


def _duckdb_rows(db: Path, table: str) -> Counter[tuple[Any, ...]]:
    columns = ", ".join(CONTRACT["tables"][table]["columns"])
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(f"select {columns} from {CONTRACT['dataset']}.{table}").fetchall()
    return Counter(tuple(_utc(v) for v in row) for row in rows)


def test_as_of_replay_on_bigquery_equals_one_duckdb_load(
    client: Any, raw_dir: Path, tmp_path: Path
) -> None:
    _load(raw_dir, "bq_local", "--as-of", T1)
    _load(raw_dir, "bq_local", "--as-of", T2)
    db = tmp_path / "raw.duckdb"
    _load(raw_dir, "dev", "--as-of", T2, db=db)
    for table in TABLES:
        bq, dd = _bq_rows(client, table), _duckdb_rows(db, table)
        assert bq == dd, f"{table}: {sum((bq - dd).values())} rows only on BigQuery, " + (
            f"{sum((dd - bq).values())} only on DuckDB"
        )
        assert 0 < sum(bq.values()) < pq.read_metadata(raw_dir / f"{table}.parquet").num_rows


def test_merge_is_idempotent_and_leaves_no_staging_tables(client: Any, raw_dir: Path) -> None:
    _load(raw_dir, "bq_local")
    out = _load(raw_dir, "bq_local")
    for table in TABLES:
        n = pq.read_metadata(raw_dir / f"{table}.parquet").num_rows
        line = next(x for x in out.splitlines() if x.strip().startswith(table))
        assert line.split()[1:] == [f"{n:,d}", "0", f"{n:,d}", "0", "0", f"{n:,d}"], line
    left = [t.table_id for t in client.list_tables(CONTRACT["dataset"])]
    assert sorted(left) == sorted(TABLES)


def test_replace_all_on_bigquery_says_what_it_drops(client: Any, raw_dir: Path) -> None:
    _load(raw_dir, "bq_local")  # every row (a no-op after the test above)
    before = {t: sum(_bq_rows(client, t).values()) for t in TABLES}
    out = _load(raw_dir, "bq_local", "--mode", "replace-all", "--as-of", T1)
    for table in TABLES:
        line = next(x for x in out.splitlines() if x.strip().startswith(table))
        assert line.split()[4] == f"{before[table]:,d}", line
    assert f"dropped {sum(before.values()):,d} rows" in out
