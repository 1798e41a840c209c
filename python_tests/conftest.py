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
import io
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import redirect_stderr, redirect_stdout
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
# The longest test files, run next (after WAITING_FIRST below): `make test-python` hands whole
# files to two workers in collection order (--dist loadfile --no-loadscope-reorder), and a long
# file started last would leave the other worker idle. Figures: wall s / CPU-s of each file in
# a clean-clone `make test` (99a2869; a file's figures include the shared fixtures it was first
# to ask for; test_ledger: since 6fb2dbe, its wall run alone). The two first wait as well
# (retry back-off, a killed driver's resume; the bench's timers): they lead whatever their CPU.
# Other integration files follow, then the quick unit files fill the gaps at the end.
LONGEST_FIRST = (
    "integration/test_backfill_e2e.py",  # 274 / 104
    "integration/test_bench_smoke.py",  # 257 / 108
    "integration/test_chunks_inline.py",  # 118 / 69
    "integration/test_refresh.py",  # 113 / 65
    "integration/test_backfill_safety.py",  # 71 / 53
    "integration/test_validation.py",  # 47 / 46
    "integration/test_real_game.py",  # 36 / 44
    "integration/test_models.py",  # 59 / 44
    "integration/test_ledger.py",  # 34 / 36
    "integration/test_wap.py",  # 45 / 35
    "integration/test_report.py",  # 34 / 33
    "integration/test_dbt_parse.py",  # 18 / 17
    "integration/test_identity.py",  # 8 / 8
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


# Files that mostly wait (a fake dbt's sleeps, a driver's signal handling, lock waits): seconds
# of wall for little CPU (test_backfill_cli 18 s for 8 CPU-s, unit/test_refresh 8 s for 2,
# test_lease 3 s for 0.3, test_dbt_session 2 s for 0.1; in `make test`). They go first, while
# the lint and test-bigquery keep both cores busy; last, a worker waiting on them left a core
# idle at the end of the run.
WAITING_FIRST = (
    "unit/test_backfill_cli.py",
    "unit/test_refresh.py",
    "unit/test_lease.py",
    "unit/test_dbt_session.py",
)


def _schedule_rank(item: pytest.Item) -> tuple[int, int]:
    try:
        rel = item.path.relative_to(HERE).as_posix()
    except ValueError:
        return (4, 0)
    if rel in WAITING_FIRST:
        return (0, WAITING_FIRST.index(rel))
    if rel in LONGEST_FIRST:
        return (1, LONGEST_FIRST.index(rel))
    return (2, 0) if rel.startswith("integration/") else (3, 0)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The waiting files first (WAITING_FIRST), then the longest (LONGEST_FIRST); a stable
    sort keeps each file's own order."""
    items.sort(key=_schedule_rank)


def _quiet(_: str) -> None:
    """Swallow generator progress lines in tests."""


def generate_raw(out: Path, start: str, end: str, seed: int, clean: bool = False) -> Path:
    """Generate raw Parquet tables for [start, end] into `out` and return it."""
    from synth import generate  # lazy: unit tests of the driver need no numpy

    generate(seed, dt.date.fromisoformat(start), dt.date.fromisoformat(end), out, clean, _quiet)
    return out


# dbt reuses a partial parse only when the profile it was made with is the same, and the
# DuckDB file's path is part of it (dbt-duckdb's connection_info: path, database). Tests work on
# a file of their own each, so every dbt process would parse the whole project (~3 CPU-s). One
# path per pytest process instead: a slot, a symlink to the directory of the file a test works
# on, re-pointed by duckdb_env; with one parse cache per process (parse_cache, share_parse) the
# dbt processes of all tests then skip the parse. The session fixture _dbt_slot names the
# directory holding both in this variable (an environment variable, not a module global: test
# modules import this file under another module name than pytest does).
SLOT_ENV = "NBA_TESTS_DBT_SLOT"


@pytest.fixture(scope="session", autouse=True)
def _dbt_slot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """This pytest process's slot and parse cache (xdist: each worker has its own base temp)."""
    base = tmp_path_factory.getbasetemp()
    (base / "dbt_parse").mkdir(exist_ok=True)
    os.environ[SLOT_ENV] = str(base)
    yield
    os.environ.pop(SLOT_ENV, None)


def _slot_base() -> Path | None:
    value = os.environ.get(SLOT_ENV)
    return Path(value) if value else None


def duckdb_env(db: Path) -> dict[str, str]:
    """The environment for a dbt or driver process working on DuckDB file `db`.

    NBA_DUCKDB_PATH is `db` seen through this process's slot (see SLOT_ENV), which now points
    at db's directory: the path dbt sees is the same in every test, so the parse is shared. One
    directory at a time: a later duckdb_env call for a file in another directory re-points the
    slot, so use the returned environment before asking for another directory's."""
    base = _slot_base()
    if base is None or not Path(db).parent.is_dir():  # outside a session; a directory that
        # the process is to create (the slot would make it seem to exist)
        return {**os.environ, "NBA_DUCKDB_PATH": str(db)}
    slot, fresh = base / "dbt_slot", base / "dbt_slot.new"
    fresh.unlink(missing_ok=True)
    fresh.symlink_to(Path(db).resolve().parent, target_is_directory=True)
    fresh.replace(slot)  # atomic: the slot always points somewhere
    return {**os.environ, "NBA_DUCKDB_PATH": str(slot / Path(db).name)}


def parse_cache() -> Path | None:
    """This pytest process's dbt parse cache (run_dbt's parse_cache), None outside a session."""
    base = _slot_base()
    return base / "dbt_parse" if base is not None else None


def share_parse(state_dir: Path) -> None:
    """Let a driver run whose state lives in `state_dir` keep dbt's parse in this process's
    cache: its `dbt_parse/` (driver.backfill.command.parse_cache) becomes a link to it."""
    cache = parse_cache()
    link = Path(state_dir) / "dbt_parse"
    if cache is None or link.exists() or link.is_symlink():
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(cache, target_is_directory=True)


def share_parse_of(args: Sequence[str]) -> None:
    """share_parse for the state directory of a `python -m driver` command line: the directory
    of its --state-file (backfill) or its --state-dir (refresh)."""
    for flag, value in zip(args, args[1:], strict=False):
        if flag == "--state-file":
            share_parse(Path(value).parent)
        elif flag == "--state-dir":
            share_parse(Path(value))


def driver_cli(
    *argv: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m driver <argv>` run in this process through the CLI's entry point
    (driver.cli.main, what `python -m driver` calls), with `env` set for the call: its exit
    code and what it printed. For commands that start no dbt (a new interpreter costs ~0.5
    CPU-s a call); the rest run as subprocesses, as a user runs them."""
    from driver import cli

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp, redirect_stdout(out), redirect_stderr(err):
        for name, value in (env or {}).items():
            mp.setenv(name, value)
        try:
            code = cli.main(list(argv))
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code if isinstance(exc.code, int) else 1
    return subprocess.CompletedProcess(list(argv), code, out.getvalue(), err.getvalue())


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


def _run_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temp dir of this pytest run that its xdist workers share (each has its own base temp
    below it), for what only one of them should build."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _once_per_run(
    tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], object]
) -> Path:
    """The directory `make(dir)` fills, made once per test run by whichever xdist worker asks
    first (a file lock; the others wait for it and share it). Read only."""
    shared = _run_tmp(tmp_path_factory) / name
    shared.mkdir(exist_ok=True)
    done = shared / "done"
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            work = shared / "making"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            make(work)
            work.rename(done)
    return done


@pytest.fixture(scope="session")
def raw_month_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Raw tables for 2022-01-01..2022-01-31, seed 7 (about 230 games). Do not modify."""
    start, end, seed = RAW_MONTH
    return _once_per_run(
        tmp_path_factory, "raw_month", lambda out: generate_raw(out, start, end, seed)
    )


@pytest.fixture(scope="session")
def raw_season_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Raw tables for the whole 2021-22 season incl. play-in and playoffs, seed 7. Read only."""
    return generate_raw(tmp_path_factory.mktemp("raw_season"), "2021-10-01", "2022-06-30", 7)


@pytest.fixture(scope="session")
def raw_postseason_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Raw tables for 2022-04-04..2022-04-30, seed 7: all three season types. Read only."""
    start, end, seed = RAW_POSTSEASON
    return _once_per_run(
        tmp_path_factory, "raw_postseason", lambda out: generate_raw(out, start, end, seed)
    )


@pytest.fixture(scope="session")
def month_db(raw_month_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """January 2022 raw data loaded into a DuckDB file. Read only: tests copy it (copy_db)."""
    made = _once_per_run(
        tmp_path_factory, "month_db", lambda out: load_raw(raw_month_dir, out / "raw.duckdb")
    )
    return made / "raw.duckdb"


@pytest.fixture(scope="session")
def quarter_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2022-01-01..2022-03-31 raw data loaded into a DuckDB file. Read only: tests copy it."""
    start, end, seed = RAW_QUARTER

    def make(out: Path) -> None:
        load_raw(generate_raw(out / "raw", start, end, seed), out / "raw.duckdb")

    return _once_per_run(tmp_path_factory, "quarter_db", make) / "raw.duckdb"


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
                vars_json=window_vars(*RAW_MONTH[:2]),  # a user's --vars window (the driver's
                # environment window is what most other builds use)
                parse_cache=parse_cache(),
                env=duckdb_env(work),
            )
            assert result.ok, result.output[-4000:]
            work.rename(db)
    return db
