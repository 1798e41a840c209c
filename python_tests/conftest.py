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
import fcntl
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from driver.dbt.invoke import run_dbt, window_vars
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
# The longest test files (seconds of `make test-python` alone, 2 cores, load 4 to 7 from other
# work; test_models includes the 30 s month_built_db build its worker made), run first: `make
# test-python` hands whole files to two workers in collection order (--dist loadfile
# --no-loadscope-reorder), and a long file started last would leave the other worker idle.
# Other integration files follow, then the quick unit files fill the gaps at the end.
LONGEST_FIRST = (
    "integration/test_backfill_e2e.py",  # 278
    "integration/test_bench_smoke.py",  # 269
    "integration/test_models.py",  # 179
    "integration/test_backfill_safety.py",  # 174
    "integration/test_refresh.py",  # 163
    "integration/test_ledger.py",  # 149
    "integration/test_validation.py",  # 149
    "integration/test_wap.py",  # 112
    "integration/test_report.py",  # 105
    "integration/test_real_game.py",  # 74
    "integration/test_dbt_parse.py",  # 27
    "integration/test_identity.py",  # 19
)


def pytest_itemcollected(item: pytest.Item) -> None:
    """Mark every test by the directory it lives in (before -m selects)."""
    try:
        top = item.path.relative_to(HERE).parts[0]
    except ValueError:
        return
    marker = MARKERS_BY_DIR.get(top)
    if marker:
        item.add_marker(marker)


def _schedule_rank(item: pytest.Item) -> tuple[int, int]:
    try:
        rel = item.path.relative_to(HERE).as_posix()
    except ValueError:
        return (3, 0)
    if rel in LONGEST_FIRST:
        return (0, LONGEST_FIRST.index(rel))
    return (1, 0) if rel.startswith("integration/") else (2, 0)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest files first (LONGEST_FIRST); a stable sort keeps each file's own order."""
    items.sort(key=_schedule_rank)


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


def mart_duplicates(db: Path) -> int:
    """Rows of the published mart in DuckDB file `db` beyond one per (game_id, player_lookup)."""
    with duckdb.connect(str(db), read_only=True) as con:
        total, distinct = con.execute(
            "select count(*), count(distinct (game_id, player_lookup))"
            " from nba_analytics.player_game_summary"
        ).fetchone()  # type: ignore[misc]
    return int(total) - int(distinct)


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


def _run_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temp dir of this pytest run that its xdist workers share (each has its own base temp
    below it), for what only one of them should build."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def month_built_db(month_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """January 2022 built: `dbt build --select +player_game_summary` without the unit tests
    (the data tests audited the window and the mart was published). Built once per test run,
    whichever worker asks first (a file lock), so the files that start from a built month
    share one build. Read only: tests copy it (copy_db)."""
    shared = _run_tmp(tmp_path_factory) / "month_built"
    shared.mkdir(exist_ok=True)
    db = shared / "built.duckdb"
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not db.exists():
            work = copy_db(month_db, shared / "building" / "nba.duckdb")
            result = run_dbt(
                [
                    "build",
                    "--select",
                    "+player_game_summary",
                    "--exclude-resource-type",
                    "unit_test",
                ],
                target="dev",
                run_dir=work.parent / "run",
                vars_json=window_vars(*RAW_MONTH[:2]),
                env=duckdb_env(work),
            )
            assert result.ok, result.output[-4000:]
            work.rename(db)
    return db
