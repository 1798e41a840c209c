"""The raw-data loader on real DuckDB: contract validation first, then one all-or-nothing load
that never drops rows it was not given (merge by default, replace-dates / replace-all on request),
and --as-of replays of the arrival timeline."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from conftest import driver_cli

from driver.project import load_contract
from driver.warehouse.contract import TYPES
from driver.warehouse.load import _contract_columns_only

CONTRACT = load_contract("raw_tables")["tables"]


def _load(src: Path, db: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """`python -m driver load --from src --target dev ...` on DuckDB file `db` (in process)."""
    return driver_cli(
        "load", "--from", str(src), "--target", "dev", *extra, env={"NBA_DUCKDB_PATH": str(db)}
    )


def _raw_tables(db: Path) -> dict[str, int]:
    if not db.exists():
        return {}
    with duckdb.connect(str(db), read_only=True) as con:
        names = con.execute(
            "select table_name from information_schema.tables where table_schema = 'nba_raw'"
        ).fetchall()
        return {
            n: con.execute(f'select count(*) from nba_raw."{n}"').fetchone()[0]  # type: ignore[index]
            for (n,) in names
        }


def _copy_with(src: Path, dst: Path, table: str, change) -> Path:
    """Copy the raw dir, rewriting one table's file with `change(table) -> table`."""
    shutil.copytree(src, dst)
    path = dst / f"{table}.parquet"
    pq.write_table(change(pq.read_table(path)), path)
    return dst


@pytest.fixture(scope="module")
def expected_counts(raw_month_dir: Path) -> dict[str, int]:
    return {t: pq.read_metadata(raw_month_dir / f"{t}.parquet").num_rows for t in CONTRACT}


def test_loads_every_table_with_contract_types(
    raw_month_dir: Path, tmp_path: Path, expected_counts: dict[str, int]
) -> None:
    db = tmp_path / "sub" / "dir" / "raw.duckdb"  # the directory is created
    proc = _load(raw_month_dir, db)
    assert proc.returncode == 0, proc.stderr
    assert _raw_tables(db) == expected_counts
    for table, n in expected_counts.items():
        assert f"{n:,d}" in proc.stdout, table
    with duckdb.connect(str(db), read_only=True) as con:
        for table, spec in CONTRACT.items():
            cols = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'nba_raw' and table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
            want = [(c, TYPES[t].duckdb.replace("TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE"))
                    for c, t in spec["columns"].items()]  # fmt: skip
            assert cols == want, table


WEEK = (dt.date(2022, 1, 10), dt.date(2022, 1, 16))


def _same_tables(db_a: Path, db_b: Path) -> None:
    """Every raw table holds the same rows (as multisets) in both DuckDB files."""
    with duckdb.connect() as con:
        con.execute(f"attach '{db_a}' as a (read_only)")
        con.execute(f"attach '{db_b}' as b (read_only)")
        for table in CONTRACT:
            for x, y in (("a", "b"), ("b", "a")):
                extra = con.execute(
                    f"select count(*) from (select * from {x}.nba_raw.{table} "
                    f"except all select * from {y}.nba_raw.{table})"
                ).fetchone()
                assert extra == (0,), f"{table}: rows in {x} not in {y}"


def _count(db: Path, sql: str) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchone()[0]  # type: ignore[index]


@pytest.fixture(scope="module")
def raw_week_dir(raw_month_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The month's files cut to the game_dates of WEEK (a re-delivery of one week)."""
    out = tmp_path_factory.mktemp("raw_week")
    for table in CONTRACT:
        t = pq.read_table(raw_month_dir / f"{table}.parquet")
        day = t.column("game_date")
        pq.write_table(
            t.filter(pc.and_(pc.greater_equal(day, WEEK[0]), pc.less_equal(day, WEEK[1]))),
            out / f"{table}.parquet",
        )
    return out


def test_loading_the_same_files_twice_changes_nothing(
    raw_month_dir: Path, tmp_path: Path, expected_counts: dict[str, int]
) -> None:
    once, twice = tmp_path / "once.duckdb", tmp_path / "twice.duckdb"
    assert _load(raw_month_dir, once).returncode == 0
    assert _load(raw_month_dir, twice).returncode == 0
    proc = _load(raw_month_dir, twice)
    assert proc.returncode == 0, proc.stderr
    assert _raw_tables(twice) == expected_counts
    _same_tables(once, twice)
    for table, n in expected_counts.items():  # every row already in, none added
        line = next(x for x in proc.stdout.splitlines() if x.strip().startswith(table))
        assert line.split()[1:] == [f"{n:,d}", "0", f"{n:,d}", "0", "0", f"{n:,d}"], line


def test_loading_one_week_keeps_the_rest_of_the_month(
    raw_month_dir: Path, raw_week_dir: Path, tmp_path: Path, expected_counts: dict[str, int]
) -> None:
    db = tmp_path / "raw.duckdb"
    assert _load(raw_month_dir, db).returncode == 0
    proc = _load(raw_week_dir, db)
    assert proc.returncode == 0, proc.stderr
    assert "dropped" not in proc.stdout.split("\n", 2)[-1]  # no drop summary line
    assert _raw_tables(db) == expected_counts
    outside = _count(
        db, f"select count(*) from nba_raw.nbac_gamebook_player_stats "
        f"where game_date not between '{WEEK[0]}' and '{WEEK[1]}'",
    )  # fmt: skip
    assert outside > 0


def test_replace_dates_replaces_only_the_dates_in_the_files(
    raw_month_dir: Path, raw_week_dir: Path, tmp_path: Path, expected_counts: dict[str, int]
) -> None:
    """A corrected re-delivery under the same processed_at: merge keeps the loaded version
    (it is the same version), replace-dates swaps the week's rows and leaves the other days."""

    def one_more_point(t: pa.Table) -> pa.Table:
        i = t.schema.get_field_index("points")
        return t.set_column(i, "points", pc.add(t.column("points"), 1))

    fixed = _copy_with(raw_week_dir, tmp_path / "fixed", "nbac_team_boxscore", one_more_point)
    db = tmp_path / "raw.duckdb"
    assert _load(raw_month_dir, db).returncode == 0
    points = "select sum(points) from nba_raw.nbac_team_boxscore"
    before = _count(db, points)
    week_rows = pq.read_metadata(fixed / "nbac_team_boxscore.parquet").num_rows

    assert _load(fixed, db).returncode == 0  # merge: same versions, nothing added
    assert _count(db, points) == before

    proc = _load(fixed, db, "--mode", "replace-dates")
    assert proc.returncode == 0, proc.stderr
    assert _raw_tables(db) == expected_counts
    assert _count(db, points) == before + week_rows
    assert "rows that were in the tables before (the game_dates loaded)" in proc.stdout


def test_replace_all_recreates_the_tables_and_says_what_it_drops(
    raw_month_dir: Path, raw_week_dir: Path, tmp_path: Path, expected_counts: dict[str, int]
) -> None:
    db = tmp_path / "raw.duckdb"
    assert _load(raw_month_dir, db).returncode == 0
    proc = _load(raw_week_dir, db, "--mode", "replace-all")
    assert proc.returncode == 0, proc.stderr
    week = {t: pq.read_metadata(raw_week_dir / f"{t}.parquet").num_rows for t in CONTRACT}
    assert _raw_tables(db) == week
    for table, n in expected_counts.items():
        line = next(x for x in proc.stdout.splitlines() if x.strip().startswith(table))
        assert line.split()[4] == f"{n:,d}", line  # the dropped column: the month's rows
    total = sum(expected_counts.values())
    assert f"dropped {total:,d} rows that were in the tables before" in proc.stdout


def test_as_of_replay_equals_one_load_as_of_the_last_time(
    raw_month_dir: Path, tmp_path: Path
) -> None:
    """Loading as-of T1 then as-of T2 gives row for row the tables of one load as-of T2;
    the second load brings late rows (BigDataBall, corrections) of games before T1."""
    t1, t2 = "2022-01-12T12:00:00Z", "2022-01-20T12:00:00+00:00"
    replay, single = tmp_path / "replay.duckdb", tmp_path / "single.duckdb"
    first = _load(raw_month_dir, replay, "--as-of", t1)
    assert first.returncode == 0, first.stderr
    bdb_before_t1 = (
        "select count(*) from nba_raw.bigdataball_play_by_play where game_date = '2022-01-11'"
    )
    assert _count(replay, bdb_before_t1) == 0  # lands game day + 2 days 22:00
    assert _load(raw_month_dir, replay, "--as-of", t2).returncode == 0
    assert _count(replay, bdb_before_t1) > 0
    assert _load(raw_month_dir, single, "--as-of", t2).returncode == 0
    _same_tables(replay, single)
    cut = dt.datetime(2022, 1, 20, 12, tzinfo=dt.UTC)
    for table, n in _raw_tables(single).items():
        assert 0 < n < pq.read_metadata(raw_month_dir / f"{table}.parquet").num_rows, table
        latest = _count(single, f"select max(processed_at) from nba_raw.{table}")
        assert latest <= cut, table  # type: ignore[operator]


@pytest.mark.parametrize("as_of", ["yesterday", "2022-13-01", ""])
def test_bad_as_of_exits_2_and_writes_nothing(
    raw_month_dir: Path, tmp_path: Path, as_of: str
) -> None:
    db = tmp_path / "raw.duckdb"
    proc = _load(raw_month_dir, db, "--as-of", as_of)
    assert proc.returncode == 2
    assert "--as-of" in proc.stderr and "ISO 8601" in proc.stderr
    assert not db.exists()


def test_bad_mode_exits_2(raw_month_dir: Path, tmp_path: Path) -> None:
    proc = _load(raw_month_dir, tmp_path / "raw.duckdb", "--mode", "replace")
    assert proc.returncode == 2 and "merge, replace-dates, replace-all" in proc.stderr


def test_wrong_type_is_refused_naming_the_column(raw_month_dir: Path, tmp_path: Path) -> None:
    def points_as_text(t: pa.Table) -> pa.Table:
        i = t.schema.get_field_index("points")
        return t.set_column(i, "points", t.column("points").cast(pa.string()))

    bad = _copy_with(raw_month_dir, tmp_path / "bad", "nbac_team_boxscore", points_as_text)
    db = tmp_path / "raw.duckdb"
    proc = _load(bad, db)
    assert proc.returncode == 2
    assert "nbac_team_boxscore.points" in proc.stderr
    assert "INT64" in proc.stderr and "found string" in proc.stderr
    assert _raw_tables(db) == {}


def test_missing_column_and_missing_file_are_refused(raw_month_dir: Path, tmp_path: Path) -> None:
    bad = _copy_with(
        raw_month_dir, tmp_path / "bad", "bigdataball_play_by_play",
        lambda t: t.drop_columns(["shot_distance"]),
    )  # fmt: skip
    (bad / "nbac_schedule.parquet").unlink()
    db = tmp_path / "raw.duckdb"
    proc = _load(bad, db)
    assert proc.returncode == 2
    assert "bigdataball_play_by_play.shot_distance: column missing" in proc.stderr
    assert "nbac_schedule: file" in proc.stderr and "missing" in proc.stderr
    assert _raw_tables(db) == {}


def test_a_bad_file_leaves_previously_loaded_tables_untouched(
    raw_month_dir: Path, tmp_path: Path, expected_counts: dict[str, int]
) -> None:
    db = tmp_path / "raw.duckdb"
    assert _load(raw_month_dir, db).returncode == 0
    bad = _copy_with(
        raw_month_dir, tmp_path / "bad", "nbac_gamebook_player_stats",
        lambda t: t.slice(0, 10).drop_columns(["minutes"]),
    )  # fmt: skip
    assert _load(bad, db).returncode == 2
    assert _raw_tables(db) == expected_counts


def test_extra_columns_are_allowed(raw_month_dir: Path, tmp_path: Path) -> None:
    more = _copy_with(
        raw_month_dir, tmp_path / "more", "nbac_team_boxscore",
        lambda t: t.append_column("source_file", pa.array(["x"] * t.num_rows)),
    )  # fmt: skip
    db = tmp_path / "raw.duckdb"
    assert _load(more, db).returncode == 0


def test_locked_database_is_reported(raw_month_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "raw.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True);"
         " time.sleep(60)", str(db)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        proc = _load(raw_month_dir, db)
        assert proc.returncode == 1
        assert "locked by another process" in proc.stderr
    finally:
        holder.kill()
        holder.wait()


def test_from_must_be_a_directory(tmp_path: Path) -> None:
    proc = _load(tmp_path / "nope", tmp_path / "raw.duckdb")
    assert proc.returncode == 2 and "not a directory" in proc.stderr


def test_bigquery_files_are_cut_to_the_contract_columns(
    raw_month_dir: Path, tmp_path: Path
) -> None:
    more = _copy_with(
        raw_month_dir, tmp_path / "more", "nbac_team_boxscore",
        lambda t: t.append_column("source_file", pa.array(["x"] * t.num_rows)),
    )  # fmt: skip
    contract = load_contract("raw_tables")
    files = {t: more / f"{t}.parquet" for t in CONTRACT}
    (tmp_path / "cut").mkdir()
    cut = _contract_columns_only(files, contract, tmp_path / "cut")
    assert cut["nbac_schedule"] == files["nbac_schedule"]  # untouched when nothing extra
    schema = pq.read_schema(cut["nbac_team_boxscore"])
    assert schema.names == list(CONTRACT["nbac_team_boxscore"]["columns"])
