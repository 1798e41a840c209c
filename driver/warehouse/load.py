"""Load raw Parquet files (one per table of contract/raw_tables.yml) into `nba_raw` of a target.

`python -m driver load --from DIR [--target T] [--mode merge|replace-dates|replace-all]
[--as-of TIMESTAMP]`. A load never drops rows it was not given unless told to:

- merge (default): add the file rows whose version (the table's contract key + processed_at)
  is not in the table yet; nothing is deleted. Every version of a row is kept (staging keeps
  the latest processed_at per key), so loading a week over three months keeps the rest, loading
  the same files twice changes nothing, and replaying as-of T1 then as-of T2 gives the tables
  a single load as-of T2 gives. A row whose version is already loaded is skipped even if its
  other values differ: a corrected re-delivery under the same processed_at takes replace-dates.
- replace-dates: delete the table's rows of every game_date (the contract's partition column)
  present in the rows being loaded, then insert them: a corrected re-delivery of some days.
- replace-all: recreate every table from the contract and insert the rows (the old behaviour);
  it prints how many rows each table drops.

--as-of TIMESTAMP loads only the rows with processed_at at or before it (an ISO 8601 timestamp;
without a zone it is UTC; a date alone is its midnight UTC); rows with no processed_at have no
known arrival and are not loaded under --as-of. Every contract table has processed_at (the
generator stamps each source's arrival, docs/synthetic_data.md), so merge + --as-of replays
the real arrival timeline. The cut applies before the mode: replace-dates replaces only the
dates of the rows at or before --as-of.

Every file is checked against the contract first (missing file, missing column, wrong type),
and --as-of and --mode before that; if anything is wrong nothing is loaded and the exit code
is 2. The target's adapter type (from the profile) picks the warehouse. DuckDB: the file
NBA_DUCKDB_PATH (default warehouse/nba.duckdb), all tables in one transaction. BigQuery
(driver.warehouse.bigquery): every file goes into a staging table by a load job first, then
the same statements run table by table (not one transaction across tables; a failed merge
can be rerun, it only adds what is missing). The statements are written once
(`table_statements`) for both engines.
"""

from __future__ import annotations

import argparse
import datetime as dt
import enum
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from driver import options
from driver.errors import EXIT_FAILED, EXIT_OK, UsageError
from driver.project import PROJECT_DIR, load_contract
from driver.warehouse.contract import contract_type

DEFAULT_DUCKDB_PATH = "warehouse/nba.duckdb"
ARRIVAL_COLUMN = "processed_at"


class LoadError(Exception):
    """The load itself failed (locked database, warehouse error): exit 1, nothing committed."""


class Mode(enum.StrEnum):
    MERGE = "merge"
    REPLACE_DATES = "replace-dates"
    REPLACE_ALL = "replace-all"


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


# --------------------------------------------------------------------------- as-of


def parse_as_of(text: str) -> dt.datetime:
    """--as-of: an ISO 8601 timestamp (or date), UTC when it names no zone; UsageError if bad."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"--as-of {text!r} is not a timestamp: give ISO 8601, e.g. 2022-01-15T06:00:00Z, "
            "2022-01-15T06:00:00+00:00 or 2022-01-15 (midnight UTC); nothing loaded"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


# --------------------------------------------------------------------------- statements


class Engine(Protocol):
    """What a warehouse offers the load: the statements themselves are `table_statements`."""

    dialect: str  # "duckdb" | "bigquery": the ContractType field of the column types

    def relation(self, table: str) -> str:
        """The raw table's name as SQL."""
        ...

    def stage(self, table: str, path: Path) -> str:
        """Make the file's rows (contract columns and types) readable as SQL; its name."""
        ...

    def row_count(self, table: str) -> int:
        """Rows of the raw table, 0 if it does not exist."""
        ...

    def create(self, table: str, *, replace: bool) -> None:
        """Create the raw table from the contract (replace: drop it first)."""
        ...

    def scalar(self, sql: str) -> int: ...

    def execute(self, sql: str) -> None: ...


@dataclass(frozen=True)
class TableLoad:
    """What one table's load did (row counts)."""

    file_rows: int  # rows in the file
    after_as_of: int  # file rows not loaded: processed_at after --as-of (or NULL under --as-of)
    already_loaded: int  # merge: file rows whose version was in the table already
    dropped: int  # rows deleted: replace-dates (their dates), replace-all (all)
    added: int  # rows inserted
    rows: int  # rows in the table afterwards


def version_columns(table: str, spec: dict[str, Any]) -> list[str]:
    """A row version: the contract key + processed_at (UsageError if the contract lacks them)."""
    key = list(spec.get("key") or [])
    if not key or ARRIVAL_COLUMN not in spec["columns"] or not spec.get("partition"):
        raise UsageError(
            f"contract/raw_tables.yml: table {table} needs a key, a partition column and a "
            f"{ARRIVAL_COLUMN} column for the loader to tell rows, dates and arrivals apart"
        )
    return [*key, ARRIVAL_COLUMN]


def arrived(as_of: dt.datetime | None, dialect: str, alias: str = "s") -> str:
    """SQL condition: the row arrived at or before --as-of (true without --as-of)."""
    if as_of is None:
        return "true"
    ts_type = getattr(contract_type("TIMESTAMP"), dialect)
    literal = as_of.astimezone(dt.UTC).isoformat(sep=" ")
    return f"{alias}.{ARRIVAL_COLUMN} <= cast('{literal}' as {ts_type})"


def table_statements(
    mode: Mode,
    spec: dict[str, Any],
    target: str,
    stage: str,
    keep: str,
    version: list[str],
) -> tuple[str | None, str]:
    """(delete or None, insert) for one table, valid SQL in DuckDB and BigQuery.

    `stage` holds the file's rows, `keep` is the as-of condition on alias s. replace-all has
    no delete: the table is recreated before the insert.
    """
    columns = ", ".join(spec["columns"])
    select = f"select {', '.join(f's.{c}' for c in spec['columns'])} from {stage} as s"
    delete = None
    where = keep
    if mode is Mode.MERGE:
        same = " and ".join(f"t.{c} is not distinct from s.{c}" for c in version)
        where += f" and not exists (select 1 from {target} as t where {same})"
    elif mode is Mode.REPLACE_DATES:
        part = spec["partition"]
        delete = (
            f"delete from {target} where {part} in "
            f"(select distinct s.{part} from {stage} as s where {keep})"
        )
    return delete, f"insert into {target} ({columns}) {select} where {where}"


def load_tables(
    engine: Engine,
    files: dict[str, Path],
    contract: dict[str, Any],
    mode: Mode,
    as_of: dt.datetime | None,
) -> dict[str, TableLoad]:
    """Stage every file, then load table by table in `mode`; the counts per table."""
    specs = contract["tables"]
    versions = {table: version_columns(table, specs[table]) for table in files}
    stages = {table: engine.stage(table, path) for table, path in files.items()}
    keep = arrived(as_of, engine.dialect)
    out: dict[str, TableLoad] = {}
    for table, stage in stages.items():
        spec = specs[table]
        file_rows = engine.scalar(f"select count(*) from {stage}")
        offered = engine.scalar(f"select count(*) from {stage} as s where {keep}")
        before = engine.row_count(table)
        engine.create(table, replace=mode is Mode.REPLACE_ALL)
        target = engine.relation(table)
        delete, insert = table_statements(mode, spec, target, stage, keep, versions[table])
        kept = 0 if mode is Mode.REPLACE_ALL else before
        if delete is not None:
            engine.execute(delete)
            kept = engine.scalar(f"select count(*) from {target}")
        engine.execute(insert)
        rows = engine.scalar(f"select count(*) from {target}")
        added = rows - kept
        out[table] = TableLoad(
            file_rows=file_rows,
            after_as_of=file_rows - offered,
            already_loaded=offered - added if mode is Mode.MERGE else 0,
            dropped=before - kept,
            added=added,
            rows=rows,
        )
    return out


# --------------------------------------------------------------------------- DuckDB


def duckdb_path() -> Path:
    """NBA_DUCKDB_PATH, or warehouse/nba.duckdb; relative paths are relative to the project."""
    path = Path(os.environ.get("NBA_DUCKDB_PATH") or DEFAULT_DUCKDB_PATH)
    return path if path.is_absolute() else PROJECT_DIR / path


def _duckdb_type(name: str) -> str:
    return contract_type(name).duckdb


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DuckDBEngine:
    """The raw tables in schema `dataset` of an open DuckDB connection."""

    dialect = "duckdb"

    def __init__(self, con: Any, contract: dict[str, Any]) -> None:
        self.con = con
        self.dataset: str = contract["dataset"]
        self.tables: dict[str, Any] = contract["tables"]

    def relation(self, table: str) -> str:
        return f'"{self.dataset}"."{table}"'

    def stage(self, table: str, path: Path) -> str:
        columns = self.tables[table]["columns"]
        cast = ", ".join(f'cast("{c}" as {_duckdb_type(t)}) as "{c}"' for c, t in columns.items())
        name = f'"_load_{table}"'
        self.con.execute(
            f"create or replace temp view {name} as "
            f"select {cast} from read_parquet({_sql_string(str(path))})"
        )
        return name

    def row_count(self, table: str) -> int:
        exists = self.scalar(
            "select count(*) from information_schema.tables where "
            f"table_schema = {_sql_string(self.dataset)} and table_name = {_sql_string(table)}"
        )
        return self.scalar(f"select count(*) from {self.relation(table)}") if exists else 0

    def create(self, table: str, *, replace: bool) -> None:
        columns = self.tables[table]["columns"]
        cols = ", ".join(f'"{c}" {_duckdb_type(t)}' for c, t in columns.items())
        verb = "create or replace table" if replace else "create table if not exists"
        self.con.execute(f"{verb} {self.relation(table)} ({cols})")

    def scalar(self, sql: str) -> int:
        row = self.con.execute(sql).fetchone()
        return int(row[0]) if row else 0

    def execute(self, sql: str) -> None:
        self.con.execute(sql)


def load_duckdb(
    files: dict[str, Path],
    contract: dict[str, Any],
    db_path: Path,
    mode: Mode = Mode.MERGE,
    as_of: dt.datetime | None = None,
) -> dict[str, TableLoad]:
    """Load every nba_raw table in one transaction: all tables or none."""
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
    try:
        con.execute("begin transaction")
        con.execute(f'create schema if not exists "{contract["dataset"]}"')
        counts = load_tables(DuckDBEngine(con, contract), files, contract, mode, as_of)
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


def load_bigquery(
    files: dict[str, Path],
    contract: dict[str, Any],
    target: str,
    mode: Mode = Mode.MERGE,
    as_of: dt.datetime | None = None,
) -> dict[str, TableLoad]:
    from google.api_core import exceptions as gexc

    # lazy: google-cloud-bigquery is only needed for BigQuery targets
    from driver.warehouse import bigquery

    try:
        client = bigquery.client_for_target(target)
        with tempfile.TemporaryDirectory(prefix="nba-load-") as tmp:
            files = _contract_columns_only(files, contract, Path(tmp))
            with bigquery.RawTables(client, contract) as engine:
                return load_tables(engine, files, contract, mode, as_of)
    except gexc.GoogleAPIError as exc:
        raise LoadError(f"BigQuery load into {target} failed: {exc}") from None


# --------------------------------------------------------------------------- CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from", dest="src", required=True, type=Path, help="directory of <table>.parquet"
    )
    options.add_target(parser)
    parser.add_argument(
        "--mode",
        default=Mode.MERGE.value,
        help="merge (default): add the rows not loaded yet (same key + processed_at), delete "
        "nothing; replace-dates: replace the game_dates present in the files; replace-all: "
        "recreate every table (prints what it drops)",
    )
    parser.add_argument(
        "--as-of",
        default=None,
        metavar="TIMESTAMP",
        help="load only the rows with processed_at at or before TIMESTAMP (ISO 8601, UTC "
        "unless it names a zone): replays the arrival timeline",
    )


LOADERS = ("duckdb", "bigquery")


def _mode(text: str) -> Mode:
    try:
        return Mode(text)
    except ValueError:
        names = ", ".join(m.value for m in Mode)
        raise UsageError(f"--mode {text!r} is not one of {names}; nothing loaded") from None


def run(args: argparse.Namespace) -> int:
    mode = _mode(args.mode)
    as_of = parse_as_of(args.as_of) if args.as_of is not None else None
    adapter = options.target_adapter(args)
    if adapter not in LOADERS:
        raise UsageError(f"target {args.target} is {adapter}: load supports {', '.join(LOADERS)}")
    contract = load_contract("raw_tables")
    files = validate_dir(Path(args.src), contract)
    where: Path | str
    try:
        if adapter == "duckdb":
            where = duckdb_path()
            counts = load_duckdb(files, contract, where, mode, as_of)
        else:
            where = f"BigQuery target {args.target}"
            counts = load_bigquery(files, contract, args.target, mode, as_of)
    except LoadError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_FAILED
    print(report(contract["dataset"], where, mode, as_of, counts))
    return EXIT_OK


def report(
    dataset: str,
    where: Path | str,
    mode: Mode,
    as_of: dt.datetime | None,
    counts: dict[str, TableLoad],
) -> str:
    """The load's summary: per table the rows added, skipped, dropped and now in the table."""
    cut = f", as of {as_of.isoformat()}" if as_of else ""
    lines = [f"loaded {dataset} into {where} (mode {mode}{cut}):"]
    lines.append(
        f"  {'table':28s} {'file rows':>10s} {'after as-of':>11s} {'already in':>10s} "
        f"{'dropped':>10s} {'added':>10s} {'rows now':>10s}"
    )
    for table, c in counts.items():
        lines.append(
            f"  {table:28s} {c.file_rows:>10,d} {c.after_as_of:>11,d} {c.already_loaded:>10,d} "
            f"{c.dropped:>10,d} {c.added:>10,d} {c.rows:>10,d}"
        )
    dropped = sum(c.dropped for c in counts.values())
    if dropped:
        what = "every table recreated" if mode is Mode.REPLACE_ALL else "the game_dates loaded"
        lines.append(f"dropped {dropped:,d} rows that were in the tables before ({what})")
    return "\n".join(lines)
