"""The raw-data loader on real DuckDB: contract validation first, then one all-or-nothing load."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import duckdb_env

from driver.project import PROJECT_DIR, load_contract
from driver.warehouse.contract import TYPES
from driver.warehouse.load import _contract_columns_only

CONTRACT = load_contract("raw_tables")["tables"]


def _load(src: Path, db: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "driver", "load", "--from", str(src), "--target", "dev", *extra],
        cwd=PROJECT_DIR,
        env=duckdb_env(db),
        capture_output=True,
        text=True,
        check=False,
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


def test_reload_replaces_instead_of_appending(
    raw_month_dir: Path, tmp_path: Path, expected_counts: dict[str, int]
) -> None:
    db = tmp_path / "raw.duckdb"
    assert _load(raw_month_dir, db).returncode == 0
    assert _load(raw_month_dir, db).returncode == 0
    assert _raw_tables(db) == expected_counts


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
