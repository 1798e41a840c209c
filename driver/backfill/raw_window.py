"""Whether a window has any raw data: a window whose raw tables are all empty has nothing to
build, and building it would only empty the published rows (the shrink guard refuses that).

The raw tables and the column each is partitioned by come from the raw-table contract
(contract/raw_tables.yml). One cheap query before any dbt process starts: the rows per
partition date of every raw table in the window, summed.
- DuckDB: the target's file, opened read-only.
- BigQuery: one query over the raw dataset (project NBA_RAW_DATABASE, as the dbt sources, else
  the target's); it reads only the partition column of the window's partitions.
When the answer cannot be told (no file, a table missing, a warehouse error) it is None and
the backfill runs: dbt then says what is wrong.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from driver.backfill.lease import BIGQUERY, database_file
from driver.project import load_contract

# the dbt sources read the raw tables from this project (models/staging/nba_raw/)
RAW_DATABASE_ENV = "NBA_RAW_DATABASE"


def _partitions() -> tuple[str, dict[str, str]] | None:
    """The raw dataset and {table: partition column}; None if a table has no partition."""
    contract = load_contract("raw_tables")
    tables = {str(name): spec.get("partition") for name, spec in contract["tables"].items()}
    if not all(isinstance(column, str) for column in tables.values()):
        return None  # a table without a partition date cannot be counted by window
    return str(contract["dataset"]), {t: str(c) for t, c in tables.items()}


def count_sql(relations: dict[str, str], start: dt.date, end: dt.date) -> str:
    """One query: rows per partition date over every raw table in start..end.
    `relations` is {relation as SQL: partition column}; the dates are date objects."""
    parts = [
        f"select {column} as partition_date from {relation} "
        f"where {column} between date '{start.isoformat()}' and date '{end.isoformat()}'"
        for relation, column in relations.items()
    ]
    union = "\n  union all\n  ".join(parts)
    return (
        f"select partition_date, count(*) as row_count from (\n  {union}\n) as raw_rows\n"
        "group by partition_date"
    )


def raw_rows_in_window(target: str, adapter: str, start: dt.date, end: dt.date) -> int | None:
    """Rows of the contract's raw tables with their partition date in start..end; None when
    that cannot be told (see the module docstring)."""
    found = _partitions()
    if found is None:
        return None
    dataset, tables = found
    if adapter == BIGQUERY:
        return _bigquery_rows(target, dataset, tables, start, end)
    return _duckdb_rows(database_file(target, adapter), dataset, tables, start, end)


def _duckdb_rows(
    database: Path | None, schema: str, tables: dict[str, str], start: dt.date, end: dt.date
) -> int | None:
    if database is None:
        return None
    import duckdb

    try:
        with duckdb.connect(str(database), read_only=True) as con:
            present = {
                str(row[0])
                for row in con.execute(
                    "select table_name from information_schema.tables where table_schema = ?",
                    [schema],
                ).fetchall()
            }
            if not set(tables) <= present:
                return None  # dbt will say which source is missing
            relations = {f'"{schema}"."{t}"': f'"{c}"' for t, c in tables.items()}
            rows = con.execute(count_sql(relations, start, end)).fetchall()
    except duckdb.Error:
        return None
    return sum(int(count) for _, count in rows)


def _bigquery_rows(
    target: str, dataset: str, tables: dict[str, str], start: dt.date, end: dt.date
) -> int | None:
    from google.api_core.exceptions import GoogleAPIError

    from driver.warehouse.bigquery import client_for_target

    client = client_for_target(target)
    project = os.environ.get(RAW_DATABASE_ENV) or client.project
    relations = {f"`{project}.{dataset}.{t}`": f"`{c}`" for t, c in tables.items()}
    try:
        rows = list(client.query(count_sql(relations, start, end)).result())
    except GoogleAPIError:
        return None  # a missing table or no right to read: dbt will say which
    return sum(int(row["row_count"]) for row in rows)
