"""Reading the warehouse for the report: a read-only DuckDB connection (target dev).

Every query goes through `Warehouse.rows`; the dates in it come from a validated window
(driver.dates.parse_window), so they are inlined as date literals both dialects accept.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driver.errors import UsageError
from driver.project import PROJECT_DIR, targets

MONITORING_SCHEMA = "nba_monitoring"
MART = "nba_analytics.player_game_summary"
COMPLETENESS = f"{MONITORING_SCHEMA}.monitoring_completeness_by_date"
GAMEBOOK_LINES = f"{MONITORING_SCHEMA}.monitoring_gamebook_lines"
HISTORY = f"{MONITORING_SCHEMA}.validation_history"

Row = dict[str, Any]


def duckdb_path() -> Path:
    """The DuckDB file of target dev, as the profile resolves it (NBA_DUCKDB_PATH, default
    warehouse/nba.duckdb in the project)."""
    env = os.environ.get("NBA_DUCKDB_PATH")
    path = Path(env) if env else Path("warehouse/nba.duckdb")
    return path if path.is_absolute() else (Path.cwd() / path if env else PROJECT_DIR / path)


def date_sql(day: dt.date) -> str:
    """A date literal (the day comes from a parsed date, never from raw text)."""
    return f"cast('{day.isoformat()}' as date)"


@dataclass
class Warehouse:
    """A read-only connection to the target's warehouse."""

    connection: Any
    target: str
    location: str

    @classmethod
    def open(cls, target: str) -> Warehouse:
        """Connect to `target`; UsageError (exit 2) for an unknown or unsupported target or a
        missing database file."""
        known = targets()
        if target not in known:
            raise UsageError(f"unknown target {target!r}: use one of {', '.join(sorted(known))}")
        if known[target] != "duckdb":
            raise UsageError(
                f"target {target!r} is {known[target]}: the report supports DuckDB targets; "
                "build the report from a DuckDB copy or query nba_monitoring directly"
            )
        path = duckdb_path()
        if not path.is_file():
            raise UsageError(
                f"no DuckDB database at {path}: set NBA_DUCKDB_PATH or build it first "
                "(python -m driver load ... and a backfill)"
            )
        import duckdb

        try:
            connection = duckdb.connect(str(path), read_only=True)
        except duckdb.Error as exc:
            raise UsageError(f"cannot open {path} read-only: {exc}") from None
        return cls(connection=connection, target=target, location=str(path))

    def close(self) -> None:
        self.connection.close()

    def rows(self, sql: str) -> list[Row]:
        cursor = self.connection.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]

    def has_relation(self, name: str) -> bool:
        schema, table = name.split(".")
        found = self.rows(
            "select count(*) as n from information_schema.tables "
            f"where table_schema = '{schema}' and table_name = '{table}'"
        )
        return bool(found and found[0]["n"])
