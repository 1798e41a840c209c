"""The BigQuery path on the local emulator, compared row by row with the DuckDB build.

Run through `make test-bigquery` (scripts/test_bigquery.sh), which starts the emulator and sets
BQEMU_ENDPOINT / BQEMU_PROJECT; without them these tests are skipped. One small window is
generated, loaded into the emulator's nba_raw and into a private DuckDB file, built on both with
the driver (`backfill`, parallel chunks on the emulator), validated, and the two
nba_analytics.player_game_summary tables must be identical after normalising types: NUMERIC
(Decimal) and FLOAT64 are compared at the column's scale, processed_at (a build timestamp) is
left out. One differing value fails the test, naming the column and the key.

Env: NBA_BQ_PARITY_RAW_START / _RAW_END (generated raw data, default 2023-11-01..2023-11-14),
NBA_BQ_PARITY_START / NBA_BQ_PARITY_END (the build window, default 2023-11-06..2023-11-08),
NBA_BQ_PARITY_CHUNK_DAYS (default 1), NBA_BQ_PARITY_WORKERS (default 2). Three one-day chunks are
the fewest that show the parallel schedule on BigQuery (the first chunk alone, then two at once);
each chunk is a dbt build against the emulator, the suite's largest cost.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import yaml
from conftest import share_parse_of

from driver.project import PROJECT_DIR, load_contract

pytestmark = pytest.mark.bigquery

# Raw data for two weeks, a build window inside it: inactive players' teams are looked up in
# their nearest game within var team_hint_days, so the window needs raw days on both sides.
RAW_START = os.environ.get("NBA_BQ_PARITY_RAW_START", "2023-11-01")
RAW_END = os.environ.get("NBA_BQ_PARITY_RAW_END", "2023-11-14")
START = os.environ.get("NBA_BQ_PARITY_START", "2023-11-06")
END = os.environ.get("NBA_BQ_PARITY_END", "2023-11-08")
CHUNK_DAYS = os.environ.get("NBA_BQ_PARITY_CHUNK_DAYS", "1")
WORKERS = os.environ.get("NBA_BQ_PARITY_WORKERS", "2")
SEED = "42"
MART = "nba_analytics.player_game_summary"
EXCLUDED_COLUMNS = frozenset({"processed_at"})

needs_emulator = pytest.mark.skipif(
    not os.environ.get("BQEMU_ENDPOINT"),
    reason="needs the BigQuery emulator: run `make test-bigquery`",
)


# --- the comparator ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    key: tuple
    column: str
    left: object
    right: object

    def __str__(self) -> str:
        return f"key {self.key}: column {self.column}: {self.left!r} != {self.right!r}"


_NUMERIC = re.compile(r"\s*numeric\s*\(\s*\d+\s*,\s*(\d+)\s*\)\s*", re.IGNORECASE)


def numeric_scales(model_yml: Path, model_name: str) -> dict[str, int]:
    """{column: scale} of the model's numeric(p, s) columns (its contract's data types)."""
    spec = yaml.safe_load(model_yml.read_text())
    scales: dict[str, int] = {}
    for model in spec.get("models", []):
        if model.get("name") != model_name:
            continue
        for column in model.get("columns", []):
            m = re.fullmatch(
                r"\s*numeric\s*\(\s*\d+\s*,\s*(\d+)\s*\)\s*", column.get("data_type", "")
            )
            if m:
                scales[column["name"]] = int(m.group(1))
    return scales


def normalise(value: object, scale: int | None) -> object:
    """One comparable value: Decimal and float at the column's scale, dates as ISO strings."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, Decimal | float) and not isinstance(value, bool):
        d = Decimal(str(value))
        if scale is not None:
            d = d.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
        return d.normalize() if d != 0 else Decimal(0)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def compare_tables(
    left: Sequence[Mapping[str, object]],
    right: Sequence[Mapping[str, object]],
    key: Sequence[str],
    *,
    scales: Mapping[str, int] | None = None,
    exclude: Iterable[str] = (),
    float_scale: int = 9,
) -> list[str]:
    """Every difference between two tables of rows, as readable lines (empty when identical).

    Rows are matched on `key`; a key missing on one side, a duplicate key, a column present on
    only one side and each differing value (after `normalise`) is reported.
    """
    scales = dict(scales or {})
    excluded = set(exclude)
    problems: list[str] = []

    def index(rows: Sequence[Mapping[str, object]], side: str) -> dict[tuple, Mapping]:
        out: dict[tuple, Mapping] = {}
        for row in rows:
            k = tuple(normalise(row[c], None) for c in key)
            if k in out:
                problems.append(f"{side}: duplicate key {k}")
            out[k] = row
        return out

    left_rows, right_rows = index(left, "left"), index(right, "right")
    left_cols = set(left[0]) if left else set()
    right_cols = set(right[0]) if right else set()
    for col in sorted((left_cols ^ right_cols) - excluded):
        problems.append(f"column {col} only on the {'left' if col in left_cols else 'right'}")
    for k in sorted(left_rows.keys() - right_rows.keys(), key=str):
        problems.append(f"key {k} only on the left")
    for k in sorted(right_rows.keys() - left_rows.keys(), key=str):
        problems.append(f"key {k} only on the right")
    columns = sorted((left_cols & right_cols) - excluded - set(key))
    for k in sorted(left_rows.keys() & right_rows.keys(), key=str):
        a, b = left_rows[k], right_rows[k]
        for col in columns:
            scale = scales.get(col)
            if scale is None and isinstance(a[col], float | Decimal):
                scale = float_scale
            if scale is None and isinstance(b[col], float | Decimal):
                scale = float_scale
            va, vb = normalise(a[col], scale), normalise(b[col], scale)
            if va != vb:
                problems.append(str(Difference(k, col, a[col], b[col])))
    return problems


# --- building the window on both engines -------------------------------------------------------


def _driver(args: list[str], env: Mapping[str, str], log: Path) -> float:
    """Run `python -m driver ...`, fail with its output when it fails; return seconds taken."""
    share_parse_of(args)  # the runs' dbt processes share one parse per target
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "driver", *args],
        cwd=PROJECT_DIR,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    log.write_text(proc.stdout)
    took = time.monotonic() - t0
    if proc.returncode != 0:
        pytest.fail(
            f"python -m driver {' '.join(args)} exited {proc.returncode} after {took:.0f} s; "
            f"last output ({log}):\n{proc.stdout[-6000:]}"
        )
    sys.stderr.write(f"[bigquery parity] driver {args[0]} {args[-1]}: {took:.0f} s\n")
    return took


@dataclass
class Builds:
    work: Path
    raw: Path
    env: dict[str, str]
    duckdb_path: Path


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    if not os.environ.get("BQEMU_ENDPOINT"):
        pytest.skip("needs the BigQuery emulator: run `make test-bigquery`")
    work = tmp_path_factory.mktemp("bq_parity")
    raw = work / "raw"
    duckdb_path = work / "nba.duckdb"
    env = dict(os.environ)
    env.update(
        {
            "NBA_DUCKDB_PATH": str(duckdb_path),
            "DO_NOT_TRACK": "1",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "NBA_DBT_TARGET": "dev",
        }
    )
    window = ["--start-date", START, "--end-date", END]
    _driver(
        [
            "generate",
            "--start-date",
            RAW_START,
            "--end-date",
            RAW_END,
            "--seed",
            SEED,
            "--out",
            str(raw),
        ],
        env,
        work / "generate.log",
    )

    # BigQuery (the emulator): load, then the parallel chunked backfill, then validation.
    _driver(["load", "--from", str(raw), "--target", "bq_local"], env, work / "load_bq.log")
    _driver(
        [
            "backfill",
            *window,
            "--target",
            "bq_local",
            "--workers",
            WORKERS,
            "--chunk-days",
            CHUNK_DAYS,
            "--no-resume",
            "--state-file",
            str(work / "state_bq" / "state.json"),
            "--skip-validation",
            # no --skip-unit-tests: the driver leaves dbt unit tests out on BigQuery by itself
            # (they need their inputs as relations; staging is ephemeral there)
        ],
        env,
        work / "backfill_bq.log",
    )
    _driver(
        ["validate", *window, "--target", "bq_local", "--run-dir", str(work / "validate_bq")],
        env,
        work / "validate_bq.log",
    )

    # DuckDB: the same window in one chunk, in a private database file.
    _driver(["load", "--from", str(raw), "--target", "dev"], env, work / "load_dev.log")
    _driver(
        [
            "backfill",
            *window,
            "--target",
            "dev",
            "--chunk-days",
            "400",
            "--no-resume",
            "--state-file",
            str(work / "state_dev" / "state.json"),
            "--skip-validation",
            "--skip-unit-tests",
        ],
        env,
        work / "backfill_dev.log",
    )
    return Builds(work=work, raw=raw, env=env, duckdb_path=duckdb_path)


def bigquery_rows(sql: str) -> list[dict[str, object]]:
    from driver.warehouse.bigquery import client_for_target

    client = client_for_target("bq_local")
    return [dict(row.items()) for row in client.query(sql).result()]


def duckdb_rows(path: Path, sql: str) -> list[dict[str, object]]:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


def mart_key() -> list[str]:
    return list(load_contract("player_game_summary")["key"])


def mart_scales() -> dict[str, int]:
    marts = PROJECT_DIR / "models" / "marts" / "_marts__models.yml"
    scales = numeric_scales(marts, "player_game_summary")
    assert scales, f"no numeric(p, s) columns of player_game_summary in {marts}"
    return scales


# --- tests ------------------------------------------------------------------------------------


@needs_emulator
def test_player_game_summary_identical_on_bigquery_and_duckdb(builds: Builds) -> None:
    sql = f"select * from {MART} where game_date between date '{START}' and date '{END}'"
    bq = bigquery_rows(sql)
    duck = duckdb_rows(builds.duckdb_path, sql)
    assert duck, "the DuckDB build has no rows in the window: the comparison would prove nothing"
    problems = compare_tables(bq, duck, mart_key(), scales=mart_scales(), exclude=EXCLUDED_COLUMNS)
    shown = "\n".join(problems[:40])
    assert not problems, (
        f"{len(problems)} difference(s) between BigQuery (left) and DuckDB (right), "
        f"{len(bq)} vs {len(duck)} rows:\n{shown}"
    )


@needs_emulator
def test_validation_on_bigquery_reports_measured_rates(builds: Builds) -> None:
    """`validate` on the emulator: every check ran, and the rate checks show the percentage
    the on-run-end hook read back from their stored rows (one union query on BigQuery)."""
    report = (builds.work / "validate_bq.log").read_text()
    assert "validation OK" in report, report[-3000:]
    null_rate = next(line for line in report.splitlines() if "Minutes NULL share" in line)
    assert re.search(r"\d+\.\d\d% \(\d+ of \d+ rows\)", null_rate), null_rate


@needs_emulator
def test_validation_history_on_bigquery(builds: Builds) -> None:
    """The on-run-end hook created nba_monitoring.validation_history on BigQuery and appended
    one row per check for every chunk's build and for the validation, rate checks measured."""
    rows = bigquery_rows(
        "select dbt_command, count(distinct run_id) as runs, count(*) as n, "
        "countif(measured_unit = 'percent' and measured_value is not null) as rates "
        "from nba_monitoring.validation_history group by dbt_command"
    )
    by_command = {r["dbt_command"]: r for r in rows}
    assert by_command["test"]["runs"] == 1, rows
    assert int(str(by_command["test"]["rates"])) >= 3, rows
    assert int(str(by_command["build"]["runs"])) >= 2, rows  # parallel chunks: a run each


@needs_emulator
def test_comparison_reports_a_single_changed_value(builds: Builds) -> None:
    sql = f"select * from {MART} where game_date between date '{START}' and date '{END}'"
    rows = duckdb_rows(builds.duckdb_path, sql)
    changed = [dict(r) for r in rows]
    victim = next(r for r in changed if r["minutes_played"] is not None)
    victim["minutes_played"] = victim["minutes_played"] + Decimal("0.1")
    key = mart_key()
    problems = compare_tables(rows, changed, key, scales=mart_scales(), exclude=EXCLUDED_COLUMNS)
    assert len(problems) == 1, problems
    assert "minutes_played" in problems[0]
    assert str(tuple(victim[c] for c in key)) in problems[0]

    # A float column off in its 9th decimal, a dropped row and an excluded column.
    changed = [dict(r) for r in rows]
    changed[0]["usage_rate"] = None if changed[0]["usage_rate"] is not None else Decimal("1")
    changed[1]["processed_at"] = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    del changed[2]
    problems = compare_tables(rows, changed, key, scales=mart_scales(), exclude=EXCLUDED_COLUMNS)
    assert any("usage_rate" in p for p in problems), problems
    assert any("only on the left" in p for p in problems), problems
    assert not any("processed_at" in p for p in problems), problems


@needs_emulator
def test_rebuild_replaces_partitions_and_empties_a_day_without_rows(builds: Builds) -> None:
    from driver.warehouse.bigquery import client_for_target

    client = client_for_target("bq_local")
    day = dt.date.fromisoformat(START) + dt.timedelta(days=1)
    window_end = day + dt.timedelta(days=1)
    before = {
        str(r["game_date"]): r["n"]
        for r in bigquery_rows(f"select game_date, count(*) as n from {MART} group by game_date")
    }
    assert before.get(str(day)), f"no rows on {day} to begin with: pick another day"

    # The day loses all its raw rows, then a window holding it and the next day is rebuilt.
    for table in load_contract("raw_tables")["tables"]:
        client.query(f"delete from nba_raw.{table} where game_date = date '{day}'").result()
    _driver(
        [
            "backfill",
            "--start-date",
            str(day),
            "--end-date",
            str(window_end),
            "--target",
            "bq_local",
            "--workers",
            "1",
            "--chunk-days",
            "2",
            "--no-resume",
            "--state-file",
            str(builds.work / "state_bq_rebuild" / "state.json"),
            "--skip-validation",
            # the day really lost its rows: the shrink guard would refuse to empty it
            "--vars",
            "{allow_shrink: true}",
        ],
        builds.env,
        builds.work / "backfill_bq_rebuild.log",
    )
    after = {
        str(r["game_date"]): r["n"]
        for r in bigquery_rows(f"select game_date, count(*) as n from {MART} group by game_date")
    }
    assert str(day) not in after, (
        f"{day} lost its raw rows but the mart still has {after[str(day)]}"
    )
    expected = {d: n for d, n in before.items() if d != str(day)}
    assert after == expected, f"other days changed: before {before}, after {after}"
    dupes = bigquery_rows(
        f"select {', '.join(mart_key())}, count(*) as n from {MART} "
        f"group by {', '.join(mart_key())} having count(*) > 1"
    )
    assert not dupes, f"duplicate keys after the rebuild: {dupes[:5]}"
