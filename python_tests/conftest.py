"""Shared pytest set-up: markers by directory, synthetic raw data generated once per session,
and the helpers every dbt test uses (a DuckDB file with raw data loaded, its env).

- python_tests/unit/         no dbt build: seconds (`make test-fast`)
- python_tests/integration/  real dbt on real DuckDB files: marked `slow`
- python_tests/bigquery/     the BigQuery emulator: marked `bigquery` (`make test-bigquery`)

Helpers used by several test modules live next to this file: fake_dbt.py (a fake dbt for
scheduling tests), real_game.py (the real overtime game fixture).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from driver.project import load_contract
from driver.warehouse.load import load_duckdb, validate_dir

HERE = Path(__file__).resolve().parent
FAKE_DBT = HERE / "fake_dbt.py"
# The small window most tests use: January 2022 (regular season), seed 7.
RAW_MONTH = ("2022-01-01", "2022-01-31", 7)
# End of the 2021-22 regular season, the play-in and the first playoff round, seed 7.
RAW_POSTSEASON = ("2022-04-04", "2022-04-30", 7)
# A quarter for the multi-chunk backfill tests, seed 7.
RAW_QUARTER = ("2022-01-01", "2022-03-31", 7)
MARKERS_BY_DIR = {"integration": "slow", "bigquery": "bigquery"}


def pytest_itemcollected(item: pytest.Item) -> None:
    """Mark every test by the directory it lives in (before -m selects)."""
    try:
        top = item.path.relative_to(HERE).parts[0]
    except ValueError:
        return
    marker = MARKERS_BY_DIR.get(top)
    if marker:
        item.add_marker(marker)


def _quiet(_: str) -> None:
    """Swallow generator progress lines in tests."""


def generate_raw(out: Path, start: str, end: str, seed: int, clean: bool = False) -> Path:
    """Generate raw Parquet tables for [start, end] into `out` and return it."""
    from synth import generate  # lazy: unit tests of the driver need no numpy

    generate(seed, dt.date.fromisoformat(start), dt.date.fromisoformat(end), out, clean, _quiet)
    return out


def duckdb_env(db: Path) -> dict[str, str]:
    """The environment for a dbt or driver process working on DuckDB file `db`."""
    return {**os.environ, "NBA_DUCKDB_PATH": str(db)}


def load_raw(raw_dir: Path, db: Path) -> Path:
    """Load raw Parquet tables into nba_raw of DuckDB file `db` (the driver's loader)."""
    contract = load_contract("raw_tables")
    load_duckdb(validate_dir(raw_dir, contract), contract, db)
    return db


def copy_db(src: Path, dst: Path) -> Path:
    """A copy of DuckDB file `src` at `dst` (tests change copies, never the shared file)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    return dst


@pytest.fixture(scope="session")
def raw_month_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Raw tables for 2022-01-01..2022-01-31, seed 7 (about 230 games). Do not modify."""
    start, end, seed = RAW_MONTH
    return generate_raw(tmp_path_factory.mktemp("raw_month"), start, end, seed)


@pytest.fixture(scope="session")
def raw_season_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Raw tables for the whole 2021-22 season incl. play-in and playoffs, seed 7. Read only."""
    return generate_raw(tmp_path_factory.mktemp("raw_season"), "2021-10-01", "2022-06-30", 7)


@pytest.fixture(scope="session")
def raw_postseason_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Raw tables for 2022-04-04..2022-04-30, seed 7: all three season types. Read only."""
    start, end, seed = RAW_POSTSEASON
    return generate_raw(tmp_path_factory.mktemp("raw_postseason"), start, end, seed)


@pytest.fixture(scope="session")
def month_db(raw_month_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """January 2022 raw data loaded into a DuckDB file. Read only: tests copy it (copy_db)."""
    return load_raw(raw_month_dir, tmp_path_factory.mktemp("month_db") / "raw.duckdb")


@pytest.fixture(scope="session")
def quarter_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2022-01-01..2022-03-31 raw data loaded into a DuckDB file. Read only: tests copy it."""
    base = tmp_path_factory.mktemp("quarter_db")
    start, end, seed = RAW_QUARTER
    return load_raw(generate_raw(base / "raw", start, end, seed), base / "raw.duckdb")
