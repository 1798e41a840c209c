"""Whether a window has any raw data: a window whose raw tables are all empty has nothing to
build, and building it would only empty the published rows (the shrink guard refuses that).

The raw tables and the column each is partitioned by come from the raw-table contract
(contract/raw_tables.yml). DuckDB only: the file is opened read-only before any dbt process
starts. Elsewhere (BigQuery) the answer is "unknown" and the backfill runs as before.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from driver.project import load_contract


def raw_rows_in_window(database: Path | None, start: dt.date, end: dt.date) -> int | None:
    """Rows of the contract's raw tables with their partition date in start..end; None when
    that cannot be told (no DuckDB file, a table missing, the file unreadable)."""
    if database is None:
        return None
    import duckdb

    contract = load_contract("raw_tables")
    schema = str(contract["dataset"])
    tables = {str(name): spec.get("partition") for name, spec in contract["tables"].items()}
    if not all(isinstance(column, str) for column in tables.values()):
        return None  # a table without a partition date cannot be counted by window
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
            total = 0
            for table, column in tables.items():
                found = con.execute(
                    f'select count(*) from "{schema}"."{table}" where "{column}" between ? and ?',
                    [start, end],
                ).fetchone()
                total += int(found[0]) if found else 0
            return total
    except duckdb.Error:
        return None
