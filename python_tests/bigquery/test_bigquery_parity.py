"""The BigQuery path on the local emulator as a daily job lives it, compared row by row with
DuckDB.

Run through `make test-bigquery` (scripts/test_bigquery.sh), which starts the emulator and sets
BQEMU_ENDPOINT / BQEMU_PROJECT; without them these tests are skipped. The module fixture
`timeline` plays issue 14's timeline once (November 2023, seed 42), through the driver:

- T1 (Nov 10 00:00): the box scores up to Nov 8 have landed and BigDataBall's play-by-play up
  to Nov 7 (it lands at game day + 70 h); BigDataBall's delivery of one game of Nov 2 and one
  of Nov 5 is held back too. Nov 1-8 is built as one chunk, Nov 8's games pending.
- T2 = T1 + 3 days, loaded again: late play-by-play on three scattered dates (Nov 2, 5, 8),
  the gamebook correction of Nov 7 (with the team-hint neighbours the rule makes dependent),
  two new game days (Nov 9, 10; Nov 11 has no games and Nov 12's have not been played at T2:
  not built). `refresh --dry-run` lists exactly the view's out-of-date dates with their
  reasons, `refresh --workers 2` rebuilds them (parallel chunks: the first alone, then two at
  once), and a second refresh builds nothing.
- `validate` on the emulator over the window, with the measured rates of the on-run-end hook.
- The same raw data built from scratch on DuckDB (one chunk): the two
  nba_analytics.player_game_summary tables must be identical after normalising types: NUMERIC
  (Decimal) and FLOAT64 are compared at the column's scale, processed_at (a build timestamp) is
  left out. One differing value fails the test, naming the column and the key.

The tests then read what the fixture recorded and the warehouses it left; the last one rebuilds
a window whose first day lost its raw rows (partitions replaced, the day emptied). Each build
on the emulator is the suite's largest cost, so the one timeline serves all of them.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import yaml
from conftest import driver_cli, share_parse_of

from driver.project import PROJECT_DIR, load_contract

pytestmark = pytest.mark.bigquery

SEED = "42"
RAW = ("2023-11-01", "2023-11-20")
T1, T2 = "2023-11-10T00:00:00Z", "2023-11-13T00:00:00Z"
BUILT = ("2023-11-01", "2023-11-08")  # box scores landed by T1
WINDOW = ("2023-11-01", "2023-11-12")  # the refresh at T2
HELD_BACK = ("2023-11-02", "2023-11-05")  # BigDataBall late on one game of each
PENDING_DAY = "2023-11-08"  # its BigDataBall play-by-play lands after T1
LATE_PBP = {*HELD_BACK, PENDING_DAY}
CORRECTED = "2023-11-07"  # a gamebook row re-issued at game day + 3.5 days
NEW_DAYS = {"2023-11-09", "2023-11-10"}
NOT_PLAYED = "2023-11-12"  # scheduled, its games not played at T2
MART = "nba_analytics.player_game_summary"
VIEW = "nba_analytics.build_staleness"
EXCLUDED_COLUMNS = frozenset({"processed_at"})
# "  2023-11-04..2023-11-05 (2 days, pending)  would process 0 B" (the dry-run estimate)
PLANNED = re.compile(r"^  (\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2}) \(\d+ days?, pending\)")

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


# --- the timeline, on both engines ------------------------------------------------------------


def _driver(env: Mapping[str, str], log: Path, *args: str) -> str:
    """Run `python -m driver ...`, fail with its output when it fails; return its output.
    A command that starts no dbt (generate, load) runs in this process (conftest.driver_cli)."""
    if args[0] in ("generate", "load"):
        ran = driver_cli(*args, env=env)
        proc = subprocess.CompletedProcess(ran.args, ran.returncode, ran.stdout + ran.stderr)
    else:
        share_parse_of(args)  # the runs' dbt processes share one parse per target
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
    if proc.returncode != 0:
        pytest.fail(
            f"python -m driver {' '.join(args)} exited {proc.returncode}; "
            f"last output ({log}):\n{proc.stdout[-6000:]}"
        )
    return proc.stdout


def dates(window: tuple[str, str]) -> list[str]:
    return ["--start-date", window[0], "--end-date", window[1]]


def clock(when: str) -> list[str]:
    return ["--vars", json.dumps({"as_of": when})]


def planned(stdout: str) -> set[str]:
    """The dates of the chunks a dry run lists."""
    days: set[str] = set()
    for line in stdout.splitlines():
        m = PLANNED.match(line)
        if m:
            day, end = dt.date.fromisoformat(m.group(1)), dt.date.fromisoformat(m.group(2))
            while day <= end:
                days.add(day.isoformat())
                day += dt.timedelta(days=1)
    return days


def view() -> dict[str, tuple[str, str]]:
    """{date: (state, reason)} of the staleness view in the window."""
    rows = bigquery_rows(
        f"select cast(game_date as string) as d, state, reason from {VIEW} "
        f"where game_date between date '{WINDOW[0]}' and date '{WINDOW[1]}'"
    )
    return {str(r["d"]): (str(r["state"]), str(r["reason"])) for r in rows}


def out_of_date() -> dict[str, tuple[str, str]]:
    return {d: v for d, v in view().items() if v[0] not in ("fresh", "scheduled")}


@dataclass
class Timeline:
    work: Path
    env: dict[str, str]
    duckdb_path: Path  # the DuckDB build of the same raw data at T2
    pending_games_t1: int  # Nov 8's games published at T1 with shot_zone_source 'none'
    out_of_date_t1: dict[str, tuple[str, str]]
    stale_t2: dict[str, tuple[str, str]]  # the view's out-of-date dates at T2
    view_t2: dict[str, tuple[str, str]]
    dry_run: str
    out_of_date_after: dict[str, tuple[str, str]]
    noop: str
    validate: str


@pytest.fixture(scope="module")
def timeline(tmp_path_factory: pytest.TempPathFactory) -> Timeline:
    if not os.environ.get("BQEMU_ENDPOINT"):
        pytest.skip("needs the BigQuery emulator: run `make test-bigquery`")
    from driver.warehouse.bigquery import client_for_target

    work = tmp_path_factory.mktemp("bq_timeline")
    duckdb_path = work / "full.duckdb"
    env = {**os.environ, "NBA_DUCKDB_PATH": str(duckdb_path)}
    raw = work / "raw"
    _driver(env, work / "generate.log", "generate", *dates(RAW), "--seed", SEED,
            "--out", str(raw))  # fmt: skip
    client = client_for_target("bq_local")
    # a clean start: the group's modules before this one built other windows
    client.delete_dataset(f"{client.project}.nba_analytics", delete_contents=True,
                          not_found_ok=True)  # fmt: skip
    load = ["load", "--from", str(raw), "--target", "bq_local"]
    _driver(env, work / "load_t1.log", *load, "--mode", "replace-all", "--as-of", T1)
    for day in HELD_BACK:  # one game's delivery of each date (a whole date, overdue at T1,
        # would bring a one-chunk window's shot-zone coverage near its error bound)
        client.query(
            "delete from nba_raw.bigdataball_play_by_play where game_id = (select min(game_id) "
            f"from nba_raw.bigdataball_play_by_play where game_date = date '{day}')"
        ).result()
    bq = ["--target", "bq_local", "--workers", "2"]
    # no --skip-unit-tests: the driver leaves dbt unit tests out on BigQuery by itself (they
    # need their inputs as relations; staging is ephemeral there)
    _driver(env, work / "backfill.log", "backfill", *dates(BUILT), *bq, "--chunk-days", "8",
            "--no-resume", "--state-file", str(work / "bf" / "state.json"),
            *clock(T1))  # fmt: skip
    pending = bigquery_rows(
        f"select count(distinct game_id) as n from {MART} "
        f"where game_date = date '{PENDING_DAY}' and shot_zone_source = 'none'"
    )
    out_of_date_t1 = out_of_date()

    _driver(env, work / "load_t2.log", *load, "--as-of", T2)
    stale, view_t2 = out_of_date(), view()
    refresh = ["refresh", *dates(WINDOW), *bq, "--state-dir", str(work / "refresh")]
    dry = _driver(env, work / "dry.log", *refresh, "--dry-run", *clock(T2))
    _driver(env, work / "refresh.log", *refresh, *clock(T2))
    out_of_date_after = out_of_date()
    noop = _driver(env, work / "noop.log", *refresh, *clock(T2))
    validate = _driver(env, work / "validate.log", "validate", *dates(WINDOW), "--target",
                       "bq_local", "--run-dir", str(work / "validate_bq"), *clock(T2))  # fmt: skip

    # the same raw data built from scratch (DuckDB, one chunk)
    _driver(env, work / "load_dev.log", "load", "--from", str(raw), "--target", "dev",
            "--as-of", T2)  # fmt: skip
    _driver(env, work / "full.log", "backfill", "--start-date", WINDOW[0], "--end-date",
            max(NEW_DAYS), "--target", "dev", "--chunk-days", "400", "--no-resume",
            "--state-file", str(work / "full" / "state.json"), "--skip-unit-tests",
            *clock(T2))  # fmt: skip
    return Timeline(
        work=work,
        env=env,
        duckdb_path=duckdb_path,
        pending_games_t1=int(str(pending[0]["n"])),
        out_of_date_t1=out_of_date_t1,
        stale_t2=stale,
        view_t2=view_t2,
        dry_run=dry,
        out_of_date_after=out_of_date_after,
        noop=noop,
        validate=validate,
    )


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
def test_t1_publishes_the_pending_day_and_leaves_nothing_out_of_date(timeline: Timeline) -> None:
    assert timeline.pending_games_t1 > 0  # published with its play-by-play pending
    assert timeline.out_of_date_t1 == {}


@needs_emulator
def test_t2_view_gives_each_out_of_date_date_its_reason(timeline: Timeline) -> None:
    stale = timeline.stale_t2
    for day in LATE_PBP:
        assert stale[day] == ("stale", "late play-by-play"), (day, stale)
    assert stale[CORRECTED] == ("stale", "box-score correction"), stale
    for day in NEW_DAYS:
        assert stale[day] == ("missing", "never built"), (day, stale)
    for day in set(stale) - LATE_PBP - NEW_DAYS - {CORRECTED}:
        assert stale[day] == ("stale", "team-hint neighbour"), (day, stale)
    assert timeline.view_t2[NOT_PLAYED] == ("scheduled", "not played yet")


@needs_emulator
def test_refresh_rebuilds_exactly_the_out_of_date_dates_with_two_workers(
    timeline: Timeline,
) -> None:
    dry = timeline.dry_run
    assert planned(dry) == set(timeline.stale_t2), dry
    assert "late play-by-play: 3 days" in dry and "never built: 2 days" in dry, dry
    assert "box-score correction: 1 day" in dry, dry
    assert timeline.out_of_date_after == {}
    refresh = (timeline.work / "refresh.log").read_text()
    assert "workers: 2" in refresh and refresh.count("[backfill] start") >= 3, refresh[-3000:]
    noop = timeline.noop
    assert "nothing to build" in noop and "[backfill] start" not in noop, noop


@needs_emulator
def test_player_game_summary_identical_on_bigquery_and_duckdb(timeline: Timeline) -> None:
    """After the T1 build and the refresh at T2, the mart equals a build from scratch of the
    same raw data on the other engine."""
    sql = f"select * from {MART} where game_date between date '{WINDOW[0]}' and date '{WINDOW[1]}'"
    bq = bigquery_rows(sql)
    duck = duckdb_rows(timeline.duckdb_path, sql)
    assert duck, "the DuckDB build has no rows in the window: the comparison would prove nothing"
    problems = compare_tables(bq, duck, mart_key(), scales=mart_scales(), exclude=EXCLUDED_COLUMNS)
    shown = "\n".join(problems[:40])
    assert not problems, (
        f"{len(problems)} difference(s) between BigQuery (left) and DuckDB (right), "
        f"{len(bq)} vs {len(duck)} rows:\n{shown}"
    )


@needs_emulator
def test_validation_on_bigquery_reports_measured_rates(timeline: Timeline) -> None:
    """`validate` on the emulator: every check ran, and the rate checks show the percentage
    the on-run-end hook read back from their stored rows (one union query on BigQuery)."""
    report = timeline.validate
    assert "validation OK" in report, report[-3000:]
    null_rate = next(line for line in report.splitlines() if "Minutes NULL share" in line)
    assert re.search(r"\d+\.\d\d% \(\d+ of \d+ rows\)", null_rate), null_rate


@needs_emulator
def test_validation_history_on_bigquery(timeline: Timeline) -> None:
    """The on-run-end hook created nba_monitoring.validation_history on BigQuery and appended
    one row per check for every chunk's build and for each validation, rate checks measured."""
    rows = bigquery_rows(
        "select dbt_command, count(distinct run_id) as runs, count(*) as n, "
        "countif(measured_unit = 'percent' and measured_value is not null) as rates "
        "from nba_monitoring.validation_history group by dbt_command"
    )
    by_command = {r["dbt_command"]: r for r in rows}
    assert by_command["test"]["runs"] == 2, rows  # the refresh's validation and `validate`
    assert int(str(by_command["test"]["rates"])) >= 6, rows
    # the T1 build and the refresh's parallel chunks: a run each
    assert int(str(by_command["build"]["runs"])) >= 4, rows


@needs_emulator
def test_comparison_reports_a_single_changed_value(timeline: Timeline) -> None:
    sql = f"select * from {MART} where game_date between date '{WINDOW[0]}' and date '{WINDOW[1]}'"
    rows = duckdb_rows(timeline.duckdb_path, sql)
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
def test_rebuild_replaces_partitions_and_empties_a_day_without_rows(timeline: Timeline) -> None:
    from driver.warehouse.bigquery import client_for_target

    client = client_for_target("bq_local")
    day = dt.date.fromisoformat("2023-11-04")
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
        timeline.env,
        timeline.work / "backfill_bq_rebuild.log",
        "backfill", "--start-date", str(day), "--end-date", str(window_end),
        "--target", "bq_local", "--workers", "1", "--chunk-days", "2", "--no-resume",
        "--state-file", str(timeline.work / "state_bq_rebuild" / "state.json"),
        "--skip-validation",
        # the day really lost its rows: the shrink guard would refuse to empty it
        "--vars", json.dumps({"allow_shrink": True, "as_of": T2}),
    )  # fmt: skip
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
