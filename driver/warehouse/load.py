"""Load raw Parquet files (one per table of contract/raw_tables.yml) into `nba_raw` of a target.

`python -m driver load --from DIR [--target T]`: the tables' contents become the files' rows.

Every file is checked against the contract first (missing file, missing column,
wrong type); if anything is wrong nothing is loaded and the exit code is 2.
The target's adapter type (from the profile) picks the loader. DuckDB: the file
NBA_DUCKDB_PATH (default warehouse/nba.duckdb), all tables in one transaction. BigQuery:
driver.warehouse.bigquery creates the dataset and partitioned tables and runs load jobs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from driver import options
from driver.errors import EXIT_FAILED, EXIT_OK, UsageError
from driver.project import PROJECT_DIR, load_contract
from driver.warehouse.contract import contract_type

DEFAULT_DUCKDB_PATH = "warehouse/nba.duckdb"


class LoadError(Exception):
    """The load itself failed (locked database, warehouse error): exit 1, nothing committed."""


# --------------------------------------------------------------------------- validation


def validate_dir(src: Path, contract: dict[str, Any]) -> dict[str, Path]:
    """Check every table file against the contract; raise UsageError listing every problem."""
    if not src.is_dir():
        raise UsageError(f"--from {src} is not a directory (generate one with `driver generate`)")
    problems: list[str] = []
    files: dict[str, Path] = {}
    for table, spec in contract["tables"].items():
        path = src / f"{table}.parquet"
        if not path.is_file():
            problems.append(f"{table}: file {path} is missing")
            continue
        try:
            schema = pq.read_schema(path)
        except (pa.ArrowInvalid, OSError) as exc:
            problems.append(f"{table}: {path} is not a readable Parquet file ({exc})")
            continue
        for column, name in spec["columns"].items():
            ctype = contract_type(name, column=f"{table}.{column}")
            idx = schema.get_field_index(column)
            if idx < 0:
                problems.append(
                    f"{table}.{column}: column missing (expected {name} / {ctype.arrow})"
                )
            elif not ctype.accepts(schema.field(idx).type):
                problems.append(
                    f"{table}.{column}: wrong type: expected {name} ({ctype.arrow}), "
                    f"found {schema.field(idx).type}"
                )
        files[table] = path
    if problems:
        lines = "\n  ".join(problems)
        raise UsageError(
            f"{src} does not match contract/raw_tables.yml; nothing loaded:\n  {lines}"
        )
    return files


# --------------------------------------------------------------------------- DuckDB


def duckdb_path() -> Path:
    """NBA_DUCKDB_PATH, or warehouse/nba.duckdb; relative paths are relative to the project."""
    path = Path(os.environ.get("NBA_DUCKDB_PATH") or DEFAULT_DUCKDB_PATH)
    return path if path.is_absolute() else PROJECT_DIR / path


def _duckdb_type(name: str) -> str:
    return contract_type(name).duckdb


def _ddl(schema: str, table: str, columns: dict[str, str]) -> str:
    cols = ", ".join(f'"{c}" {_duckdb_type(t)}' for c, t in columns.items())
    return f'create or replace table "{schema}"."{table}" ({cols})'


def _select(columns: dict[str, str]) -> str:
    return ", ".join(f'cast("{c}" as {_duckdb_type(t)}) as "{c}"' for c, t in columns.items())


def load_duckdb(files: dict[str, Path], contract: dict[str, Any], db_path: Path) -> dict[str, int]:
    """Replace every nba_raw table in one transaction: all tables or none."""
    import duckdb

    db_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(db_path))
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise LoadError(
                f"DuckDB file {db_path} is locked by another process (a running dbt or "
                f"backfill?). Wait for it to finish or stop it, then retry.\n  {exc}"
            ) from None
        raise LoadError(f"cannot open DuckDB file {db_path}: {exc}") from None
    dataset = contract["dataset"]
    counts: dict[str, int] = {}
    try:
        con.execute("begin transaction")
        con.execute(f'create schema if not exists "{dataset}"')
        for table, path in files.items():
            columns = contract["tables"][table]["columns"]
            con.execute(_ddl(dataset, table, columns))
            con.execute(
                f'insert into "{dataset}"."{table}" select {_select(columns)} from read_parquet(?)',
                [str(path)],
            )
            row = con.execute(f'select count(*) from "{dataset}"."{table}"').fetchone()
            counts[table] = int(row[0]) if row else 0
        con.execute("commit")
    except duckdb.Error as exc:
        con.execute("rollback")
        raise LoadError(f"loading into {db_path} failed, nothing committed: {exc}") from None
    finally:
        con.close()
    return counts


# --------------------------------------------------------------------------- BigQuery


def _contract_columns_only(
    files: dict[str, Path], contract: dict[str, Any], tmp: Path
) -> dict[str, Path]:
    """Files with extra columns are rewritten with only the contract's columns (load jobs
    match the table schema exactly); the others are used as they are."""
    out: dict[str, Path] = {}
    for table, path in files.items():
        columns = list(contract["tables"][table]["columns"])
        if set(pq.read_schema(path).names) == set(columns):
            out[table] = path
        else:
            out[table] = tmp / path.name
            pq.write_table(pq.read_table(path, columns=columns), out[table])
    return out


def load_bigquery(files: dict[str, Path], contract: dict[str, Any], target: str) -> dict[str, int]:
    from google.api_core import exceptions as gexc

    # lazy: google-cloud-bigquery is only needed for BigQuery targets
    from driver.warehouse import bigquery

    try:
        client = bigquery.client_for_target(target)
        with tempfile.TemporaryDirectory(prefix="nba-load-") as tmp:
            files = _contract_columns_only(files, contract, Path(tmp))
            return bigquery.load_parquet_tables(client, contract["dataset"], files, contract)
    except gexc.GoogleAPIError as exc:
        raise LoadError(f"BigQuery load into {target} failed: {exc}") from None


# --------------------------------------------------------------------------- CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from", dest="src", required=True, type=Path, help="directory of <table>.parquet"
    )
    options.add_target(parser)


LOADERS = ("duckdb", "bigquery")


def run(args: argparse.Namespace) -> int:
    adapter = options.target_adapter(args)
    if adapter not in LOADERS:
        raise UsageError(f"target {args.target} is {adapter}: load supports {', '.join(LOADERS)}")
    contract = load_contract("raw_tables")
    files = validate_dir(Path(args.src), contract)
    where: Path | str
    try:
        if adapter == "duckdb":
            where = duckdb_path()
            counts = load_duckdb(files, contract, where)
        else:
            where = f"BigQuery target {args.target}"
            counts = load_bigquery(files, contract, args.target)
    except LoadError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_FAILED
    print(f"loaded {contract['dataset']} into {where}:")
    for table, n in counts.items():
        print(f"  {table:32s} {n:>10,d} rows")
    return EXIT_OK
