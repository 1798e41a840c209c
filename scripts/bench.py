"""`make bench`: the set-based backfill against dbt microbatch, the legacy per-day pattern and
the engine floor, on the same machine and the same generated data (DuckDB).

    python -m scripts.bench            # the full 2021-10-01..2024-05-01 history
    python -m scripts.bench --smoke    # one week, one sample day: checks the pieces run

What is measured (every figure from a run made here, nothing hard-coded):

1. set_based_s: `python -m driver backfill` over the whole range (one chunk unless told
   otherwise), wall time of the driver process, with its parse, dbt build (models + tests) and
   validation; also without validation and with season chunks.
2. microbatch_s: the same models in a temporary copy of the dbt project where only the mart's
   config becomes dbt's `microbatch` (event_time game_date, daily batches, concurrent batches)
   and `event_time: game_date` is set on every upstream model and source that has the column;
   `dbt run --event-time-start/--event-time-end`, threads = cores. Measured on a sub-range and
   extrapolated linearly by days unless the whole range fits the time budget.
3. per_day_s: one `dbt build --select +player_game_summary --vars {start_date: D, end_date: D}`
   (unit tests excluded, as in every driver chunk but the first)
   per sampled day on an already built history, the legacy pattern; the mean of the game-day
   samples times the game days plus the mean of the no-game-day samples times the other
   calendar days (extrapolated).
4. floor_s: the mart's compiled full-range SELECT run directly in DuckDB
   (`create table ... as <sql>`) on a copy of the built warehouse, plus a no-op dbt invocation
   (`dbt run --select <nothing>` with a warm partial parse: start-up, project load, adapter).

Also a one-day refresh of the built history, through the driver and through dbt directly.

And how it scales (not in --smoke): `scale`, the driver's set-based backfill as a user runs it
(`--no-resume --full-refresh`, default chunking, validation) at 1, 3, 10 and 20 seasons, each
size generated once into data/raw/scale_<n>seasons_seed<seed>/, with the per-season slope of
wall time and peak RSS and a plot (docs/img/scale_curve.png); `forced`, the range in month
chunks against the default chunking, with where a chunk's time goes; `default`, the README's
backfill command as written. `--only PART,...` runs some parts and merges into results.json.
Results go to <out>/results.json (default target/bench) and a table on stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb
import yaml

from driver.dbt import invoke as dbt_invoke
from driver.dbt.unit_tests import RECORD_FILE
from driver.project import PROJECT_DIR

try:  # psutil ships with the project's pinned tree (pandas-gbq needs it); optional here
    import psutil
except ImportError:  # pragma: no cover - then only the largest single process is known
    psutil = None

MART_MODEL = "player_game_summary"
# Write-audit-publish: this model computes the window's rows, the mart publishes them. The
# floor runs its SQL and the microbatch variant batches it.
COMPUTE_MODEL = "player_game_summary__audit"
MART = "nba_analytics.player_game_summary"
SELECTION = f"+{MART_MODEL}"
# One day's build, as the driver runs every chunk but its lead one: dbt unit tests check
# fixtures, not the day, so a daily job runs them once, not once per day.
DAY_BUILD_ARGS = ["build", "--select", SELECTION, "--exclude-resource-type", "unit_test"]
DB_NAME = "nba.duckdb"  # the catalog name is the file stem: every copy keeps it
COMPILED_MART = Path(f"compiled/nba_analytics/models/marts/{COMPUTE_MODEL}.sql")
FULL_START, FULL_END = dt.date(2021, 10, 1), dt.date(2024, 5, 1)
SMOKE_START, SMOKE_END = dt.date(2022, 1, 3), dt.date(2022, 1, 9)
TARGETS = {  # name: (limit, "max" = value must be <= limit, "min" = value must be >= limit)
    "set_based_s": (30.0, "max"),
    "microbatch_over_set_based": (10.0, "min"),
    "per_day_over_set_based": (50.0, "min"),
    "set_based_over_floor": (3.0, "max"),
    "peak_rss_mb": (2048.0, "max"),
    "one_day_refresh_s": (8.0, "max"),
    "refresh_noop_s": (3.0, "max"),
}
# Scale curve: the last N seasons up to this day, one command each; its goals at 20 seasons.
SCALE_SEASONS: tuple[int, ...] = (1, 3, 10, 20)
SCALE_LAST_DAY = dt.date(2024, 6, 30)
SCALE_LIMITS = {"seconds": 60.0, "peak_rss_mb": 2048.0}
SCALE_PNG = PROJECT_DIR / "docs" / "img" / "scale_curve.png"
# The parts of the bench (--only picks some); the first five share one built history.
CORE_PARTS = ("set_based", "floor", "per_day", "microbatch", "refresh")
PARTS = (*CORE_PARTS, "scale", "forced", "default", "late")
SMOKE_PARTS = (*CORE_PARTS, "late")  # --smoke's default: every part that has a smoke variant
MICROBATCH_CONFIG = """{{
    config(
        materialized='incremental',
        incremental_strategy='microbatch',
        event_time='game_date',
        batch_size='day',
        begin='%(begin)s',
        lookback=%(lookback)d,
        concurrent_batches=true,
        on_schema_change='fail',
    )
}}"""


def log(message: str) -> None:
    sys.stderr.write(f"[bench {dt.datetime.now():%H:%M:%S}] {message}\n")
    sys.stderr.flush()


# ------------------------------------------------------------------ measuring processes


class TreeSampler:
    """Samples the summed RSS of a process and all its descendants every `interval` seconds."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> TreeSampler:
        if psutil is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _loop(self) -> None:
        assert psutil is not None
        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self._stop.is_set():
            total = 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                return
            for proc in procs:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    continue
            self.peak_bytes = max(self.peak_bytes, total)
            self._stop.wait(self.interval)

    @property
    def peak_mb(self) -> float | None:
        return round(self.peak_bytes / 2**20, 1) if psutil is not None else None


@dataclass
class Run:
    label: str
    seconds: float
    returncode: int
    peak_rss_mb: float | None
    load_1min_before: float
    log: str
    cmd: list[str] = field(repr=False)

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def output(self) -> str:
        return Path(self.log).read_text(errors="replace")


def run_timed(label: str, cmd: list[str], log_file: Path, env: dict[str, str]) -> Run:
    """Run `cmd` from the project dir, output to `log_file`; wall time and peak tree RSS."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    with open(log_file, "w") as out:
        began = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            cwd=PROJECT_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
        with TreeSampler(proc.pid) as sampler:
            returncode = proc.wait()
        seconds = time.perf_counter() - began
    run = Run(label, round(seconds, 2), returncode, sampler.peak_mb, load, str(log_file), cmd)
    status = "ok" if run.ok else f"FAILED (exit {returncode}, see {log_file})"
    log(f"{label}: {run.seconds:.1f} s, peak RSS {run.peak_rss_mb} MB, {status}")
    return run


def require_ok(run: Run) -> Run:
    if not run.ok:
        tail = "\n".join(run.output().splitlines()[-40:])
        raise BenchError(f"{run.label} failed (exit {run.returncode}); log {run.log}:\n{tail}")
    return run


class BenchError(RuntimeError):
    pass


# ------------------------------------------------------------------ configuration


@dataclass(frozen=True)
class Config:
    start: dt.date
    end: dt.date
    seed: int
    out: Path
    sample_days: int
    off_days: int
    repeat: int
    microbatch_sub: tuple[dt.date, dt.date] | None  # None: the whole range
    microbatch_budget_s: float
    season_chunks: bool
    smoke: bool
    raw_dir_override: Path | None = None
    only: tuple[str, ...] = PARTS
    scale_seasons: tuple[int, ...] = SCALE_SEASONS
    threads: int = field(default_factory=lambda: os.cpu_count() or 1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def raw_dir(self) -> Path:
        if self.raw_dir_override is not None:
            return self.raw_dir_override
        return PROJECT_DIR / "data" / "raw" / f"{self.start}_{self.end}_seed{self.seed}"


def dbt_cmd(
    args: list[str],
    *,
    run_dir: Path,
    project_dir: Path = PROJECT_DIR,
    vars_json: str | None = None,
    threads: int | None = None,
) -> list[str]:
    """A dbt command with its own target and log paths (as driver.dbt.invoke.run_dbt builds it)."""
    cmd = [
        *dbt_invoke.default_dbt_command(),
        *args,
        "--project-dir",
        str(project_dir),
        "--target",
        "dev",
        "--target-path",
        str(run_dir / "target"),
        "--log-path",
        str(run_dir / "logs"),
    ]
    if threads is not None:
        cmd += ["--threads", str(threads)]
    if vars_json is not None:
        cmd += ["--vars", vars_json]
    return cmd


def db_env(db: Path) -> dict[str, str]:
    return dbt_invoke.dbt_env({"NBA_DUCKDB_PATH": str(db)})


def fresh_db(src: Path, out: Path, name: str) -> Path:
    """A copy of the warehouse `src` in <out>/<name>/nba.duckdb (same catalog name)."""
    folder = out / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    dst = folder / DB_NAME
    shutil.copyfile(src, dst)
    wal = src.with_name(src.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, dst.with_name(dst.name + ".wal"))
    return dst


def query(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def run_results(run_dir: Path) -> dict | None:
    path = run_dir / "target" / "run_results.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return None


def node_times(results: dict | None) -> dict[str, float]:
    """unique_id -> execution seconds from a run_results.json."""
    if not results:
        return {}
    return {r["unique_id"]: round(r.get("execution_time") or 0.0, 2) for r in results["results"]}


def split_times(times: dict[str, float]) -> dict[str, Any]:
    """Sum models, data tests and unit tests, and name the slowest nodes."""
    kinds = {"model": 0.0, "test": 0.0, "unit_test": 0.0}
    for uid, seconds in times.items():
        kind = uid.split(".", 1)[0]
        kinds[kind] = kinds.get(kind, 0.0) + seconds
    top = sorted(times.items(), key=lambda kv: -kv[1])[:6]
    return {
        "models_s": round(kinds["model"], 2),
        "data_tests_s": round(kinds["test"], 2),
        "unit_tests_s": round(kinds["unit_test"], 2),
        # model/test name, or model.test for a unit test (its id has both)
        "slowest": {uid.split(".", 2)[2][:60]: s for uid, s in top},
    }


# ------------------------------------------------------------------ phases


def prepare_data(cfg: Config) -> dict[str, Any]:
    """Generate the raw history once (cached in data/raw/) and load it into a cached DuckDB."""
    info: dict[str, Any] = {"raw_dir": str(cfg.raw_dir)}
    done = cfg.raw_dir / ".done"
    env = dict(os.environ)
    if not done.exists():
        cmd = [
            sys.executable, "-m", "driver", "generate",
            "--start-date", str(cfg.start), "--end-date", str(cfg.end),
            "--seed", str(cfg.seed), "--out", str(cfg.raw_dir),
        ]  # fmt: skip
        run = require_ok(run_timed("generate", cmd, cfg.out / "logs" / "generate.log", env))
        done.touch()
        info["generate_s"] = run.seconds
    info["generated_cached"] = "generate_s" not in info

    raw_db = cfg.out / "raw" / DB_NAME
    stamp_file = cfg.out / "raw" / "stamp.json"
    stamp = {"raw_dir": str(cfg.raw_dir), "done_mtime": done.stat().st_mtime}
    cached = raw_db.exists() and stamp_file.exists() and json.loads(stamp_file.read_text()) == stamp
    if not cached:
        if raw_db.parent.exists():
            shutil.rmtree(raw_db.parent)
        raw_db.parent.mkdir(parents=True)
        cmd = [
            sys.executable,
            "-m",
            "driver",
            "load",
            "--from",
            str(cfg.raw_dir),
            "--target",
            "dev",
        ]
        env = {**env, "NBA_DUCKDB_PATH": str(raw_db)}
        run = require_ok(run_timed("load", cmd, cfg.out / "logs" / "load.log", env))
        stamp_file.write_text(json.dumps(stamp))
        info["load_s"] = run.seconds
    info["loaded_cached"] = cached
    info["raw_db"] = str(raw_db)
    info["raw_rows"] = {
        table: n
        for table, n in query(
            raw_db,
            "select table_name, estimated_size from duckdb_tables() where schema_name = 'nba_raw' "
            "order by table_name",
        )
    }
    return info


def _log_span(run_dir: Path) -> float | None:
    """Seconds from the first to the last line of a run dir's dbt.log (every dbt call that
    wrote there: dbt's own wall time, without the Python start-up before its first line)."""
    log_file = run_dir / "logs" / "dbt.log"
    if not log_file.exists():
        return None
    stamps = re.findall(
        r"^\S*?(\d\d):(\d\d):(\d\d\.\d+) ", log_file.read_text(errors="replace"), re.M
    )
    if not stamps:
        return None
    first, last = ((int(h) * 3600 + int(m) * 60 + float(s)) for h, m, s in (stamps[0], stamps[-1]))
    return round((last - first) % 86400, 2)


def _driver_breakdown(state_file: Path, run: Run) -> dict[str, Any]:
    """Where the driver's time went: the chunks' dbt builds (wall, from the state; each parses
    the project; the first one runs the unit tests too), the validation's
    dbt call (dbt's own wall, from its log; none when one chunk's build is the validation)
    and the rest (Python and dbt start-up of those calls, the driver itself)."""
    state = json.loads(state_file.read_text())
    chunks = state.get("chunks", [])
    build_s = sum(c.get("seconds") or 0.0 for c in chunks)
    times: dict[str, float] = {}
    elapsed = 0.0
    runs_dir: Path | None = None
    for c in chunks:
        if not c.get("run_dir"):
            continue
        runs_dir = Path(c["run_dir"]).parent
        results = run_results(Path(c["run_dir"]))
        for uid, seconds in node_times(results).items():
            times[uid] = times.get(uid, 0.0) + seconds
        elapsed += (results or {}).get("elapsed_time") or 0.0
    steps: dict[str, float | None] = {}
    steps["validation_in_dbt_s"] = _log_span(runs_dir / "validation") if runs_dir else None
    rest = run.seconds - build_s - sum(v or 0.0 for v in steps.values())
    return {
        "chunks": len(chunks),
        "dbt_build_s": round(build_s, 2),
        "dbt_build_in_dbt_s": round(elapsed, 2),
        **steps,
        "rest_s": round(rest, 2),
        "build_nodes": split_times(times),
    }


def backfill(
    cfg: Config,
    db: Path,
    workdir: Path,
    start: dt.date,
    end: dt.date,
    extra: list[str],
    unit_test_record: Path | None = None,
    parse_cache: Path | None = None,
) -> tuple[Run, dict[str, Any]]:
    """`python -m driver backfill` on `db`, its state and runs under `workdir`; with
    `unit_test_record` (the record of an earlier backfill that ran the unit tests, see
    driver/dbt/unit_tests.py) and `parse_cache` (an earlier backfill's dbt_parse dir, see
    driver/dbt/invoke.py) placed in its state dir first, as a deployment's state dir keeps
    them."""
    state_file = workdir / "backfill" / "state.json"
    state_file.parent.mkdir(parents=True, exist_ok=True)
    if unit_test_record is not None and unit_test_record.exists():
        shutil.copyfile(unit_test_record, state_file.parent / unit_test_record.name)
    if parse_cache is not None and parse_cache.is_dir():
        kept = state_file.parent / dbt_invoke.PARSE_CACHE_DIR
        shutil.copytree(parse_cache, kept, dirs_exist_ok=True)
    cmd = [
        sys.executable, "-m", "driver", "backfill",
        "--start-date", str(start), "--end-date", str(end), "--target", "dev",
        "--no-resume", "--state-file", str(state_file), *extra,
    ]  # fmt: skip
    env = {**os.environ, "NBA_DUCKDB_PATH": str(db)}
    label = f"driver backfill {start}..{end} {' '.join(extra)}"
    run = run_timed(label, cmd, workdir / "driver.log", env)
    detail = _driver_breakdown(state_file, run) if state_file.exists() else {}
    return run, detail


def bench_set_based(cfg: Config, raw_db: Path) -> dict[str, Any]:
    """The driver over the whole range: one chunk (repeated), without validation, seasons."""
    one_chunk = ["--chunk-days", str(cfg.days)]
    if cfg.smoke:  # the smoke run checks the bench's pieces, not the driver's validation
        one_chunk.append("--skip-validation")
    variants: list[tuple[str, list[str], int]] = [("one_chunk", one_chunk, cfg.repeat)]
    if not cfg.smoke:
        variants.append(("one_chunk_no_validation", [*one_chunk, "--skip-validation"], 1))
    if cfg.season_chunks:
        variants.append(("season_chunks", ["--chunk", "season"], 1))
    out: dict[str, Any] = {"variants": {}}
    best: tuple[float, str, Path] | None = None
    for label, extra, times in variants:
        runs = []
        for i in range(times):
            db = fresh_db(raw_db, cfg.out, "set_based")
            run, detail = backfill(
                cfg, db, db.parent / f"{label}_{i + 1}", cfg.start, cfg.end, extra
            )
            require_ok(run)
            runs.append({**asdict(run), **detail})
            counts_as_best = cfg.smoke or "--skip-validation" not in extra
            if counts_as_best and (best is None or run.seconds < best[0]):
                best = (run.seconds, label, db)
            out["unit_test_record"] = str(db.parent / f"{label}_{i + 1}" / "backfill" / RECORD_FILE)
        out["variants"][label] = {
            "args": extra,
            "best_s": min(r["seconds"] for r in runs),
            "peak_rss_mb": max(r["peak_rss_mb"] or 0.0 for r in runs),
            "runs": runs,
        }
    assert best is not None
    out["set_based_s"], out["chunking"] = best[0], best[1]
    out["peak_rss_mb"] = max(v["peak_rss_mb"] for v in out["variants"].values())
    # The last variant run leaves a complete history in set_based/nba.duckdb for the others.
    out["db"] = str(cfg.out / "set_based" / DB_NAME)
    return out


def counts(db: Path, cfg: Config) -> dict[str, Any]:
    rows, games, game_days = query(
        db,
        f"select count(*), count(distinct game_id), count(distinct game_date) from {MART} "
        "where game_date between ? and ?",
        [cfg.start, cfg.end],
    )[0]
    return {"days": cfg.days, "game_days": game_days, "games": games, "rows": rows}


def _profile_top(profile: dict, limit: int = 8) -> list[dict[str, Any]]:
    """The operators with the most time in a DuckDB JSON profile (DuckDB 2.x layout)."""
    found: list[dict[str, Any]] = []

    def walk(node: dict) -> None:
        info = node.get("extra_info") or {}
        what = info.get("Join Type") or info.get("Table") or info.get("Function") or ""
        detail = info.get("Conditions") or info.get("Groups") or info.get("Partitions") or ""
        found.append(
            {
                "operator": node.get("name") or node.get("operator_name"),
                "cpu_s": round(node.get("timing") or node.get("operator_timing") or 0.0, 2),
                "rows_out": node.get("intermediate_rows") or node.get("operator_cardinality"),
                "what": f"{what} {str(detail)[:120]}".strip(),
            }
        )
        for child in node.get("children", []):
            walk(child)

    roots = profile.get("operator")
    for root in roots if isinstance(roots, list) else [profile]:
        walk(root)
    return sorted(found, key=lambda op: -op["cpu_s"])[:limit]


def bench_floor(cfg: Config, built_db: Path) -> dict[str, Any]:
    """The compiled full-range SELECT straight in DuckDB, plus a no-op dbt invocation. The
    SELECT is the audit model's with the staging and intermediate steps inlined (var
    inline_steps: ephemeral, so their SQL is in it): all of the build's computation, raw
    tables to mart rows, in one statement."""
    db = fresh_db(built_db, cfg.out, "floor")
    run_dir = cfg.out / "floor" / "dbt"
    env = db_env(db)
    vars_json = dbt_invoke.window_vars(str(cfg.start), str(cfg.end), {"inline_steps": True})
    compile_cmd = dbt_cmd(
        ["compile", "--select", COMPUTE_MODEL],
        run_dir=run_dir,
        vars_json=vars_json,
        threads=cfg.threads,
    )
    compiled = require_ok(
        run_timed("floor: dbt compile", compile_cmd, run_dir / "compile.log", env)
    )
    sql = (run_dir / "target" / COMPILED_MART).read_text()
    # Same run dir and vars as the compile: a warm partial parse, the fixed cost of any dbt call.
    noop_args = ["run", "--select", "bench_selects_nothing"]
    noop_cmd = dbt_cmd(noop_args, run_dir=run_dir, vars_json=vars_json, threads=cfg.threads)
    noop = [
        require_ok(run_timed("floor: no-op dbt", noop_cmd, run_dir / f"noop_{i}.log", env))
        for i in range(1 if cfg.smoke else 2)
    ]
    cold_s = None
    if not cfg.smoke:  # a new target dir: dbt parses the whole project first
        cold_dir = cfg.out / "floor" / "dbt_cold"
        cold_cmd = dbt_cmd(noop_args, run_dir=cold_dir, vars_json=vars_json, threads=cfg.threads)
        cold_log = cold_dir / "noop.log"
        cold = run_timed("floor: no-op dbt, cold parse", cold_cmd, cold_log, env)
        cold_s = require_ok(cold).seconds

    sql_runs = []
    for _ in range(cfg.repeat if cfg.smoke else max(cfg.repeat, 2)):
        load = os.getloadavg()[0]
        began = time.perf_counter()
        with duckdb.connect(str(db)) as con:
            con.execute("set enable_progress_bar = false")
            con.execute(f"create or replace table nba_analytics.bench_floor as {sql}")
        sql_runs.append({"seconds": round(time.perf_counter() - began, 2), "load_1min": load})
        log(f"floor: compiled SQL in DuckDB {sql_runs[-1]['seconds']:.1f} s")
    profile_file = cfg.out / "floor" / "profile.json"
    with duckdb.connect(str(db)) as con:
        con.execute("set enable_progress_bar = false")
        con.execute("pragma enable_profiling = 'json'")
        con.execute(f"pragma profiling_output = '{profile_file}'")
        con.execute(f"create or replace table nba_analytics.bench_floor as {sql}")
    profile = json.loads(profile_file.read_text())
    query_info = profile.get("query", {}) if isinstance(profile.get("query"), dict) else {}
    system = profile.get("system", {}) if isinstance(profile.get("system"), dict) else {}
    sql_s = min(r["seconds"] for r in sql_runs)
    noop_s = min(r.seconds for r in noop)
    floor_rows = query(db, "select count(*) from nba_analytics.bench_floor")[0][0]
    mart_rows = query(db, f"select count(*) from {MART}")[0][0]
    if floor_rows != mart_rows:
        raise BenchError(f"floor SQL made {floor_rows} rows, the mart has {mart_rows}")
    return {
        "floor_s": round(sql_s + noop_s, 2),
        "sql_s": sql_s,
        "sql_runs": sql_runs,
        "rows": floor_rows,
        "noop_dbt_s": noop_s,
        "noop_dbt_command": "dbt run --select bench_selects_nothing (warm partial parse)",
        "noop_dbt_cold_parse_s": cold_s,
        "compile_s": compiled.seconds,
        "compiled_sql": str(run_dir / "target" / COMPILED_MART),
        "profile": {
            "cpu_s": round(query_info.get("cpu_time") or 0.0, 2),
            "latency_s": round(query_info.get("total_time") or 0.0, 2),
            "peak_buffer_memory_mb": round((system.get("peak_buffer_memory") or 0) / 2**20, 1),
            "top_operators": _profile_top(profile),
        },
    }


def sample_days(cfg: Config, db: Path) -> tuple[list[dt.date], list[dt.date], int, int]:
    """`sample_days` game days and `off_days` days without games, spread evenly over the range."""
    game_days = [
        r[0]
        for r in query(
            db,
            f"select distinct game_date from {MART} where game_date between ? and ? order by 1",
            [cfg.start, cfg.end],
        )
    ]
    game_set = set(game_days)
    all_days = [cfg.start + dt.timedelta(days=i) for i in range(cfg.days)]
    off_days = [d for d in all_days if d not in game_set]

    def spread(days: list[dt.date], n: int) -> list[dt.date]:
        if n <= 0 or not days:
            return []
        if n >= len(days):
            return list(days)
        step = len(days) / n
        return [days[int(step * i + step / 2)] for i in range(n)]

    return (
        spread(game_days, cfg.sample_days),
        spread(off_days, cfg.off_days),
        len(game_days),
        len(off_days),
    )


def bench_per_day(cfg: Config, built_db: Path) -> dict[str, Any]:
    """One `dbt build` per sampled day on a built history; extrapolated to every calendar day."""
    db = fresh_db(built_db, cfg.out, "per_day")
    games, offs, n_game_days, n_off_days = sample_days(cfg, db)
    run_dir = cfg.out / "per_day" / "dbt"  # one project/target dir, as a daily job would have
    samples: list[dict[str, Any]] = []
    for kind, days in (("game_day", games), ("no_game_day", offs)):
        for day in days:
            cmd = dbt_cmd(
                DAY_BUILD_ARGS,
                run_dir=run_dir,
                vars_json=dbt_invoke.window_vars(str(day), str(day)),
                threads=cfg.threads,
            )
            run = require_ok(
                run_timed(f"per-day {day} ({kind})", cmd, run_dir / f"{day}.log", db_env(db))
            )
            nodes = split_times(node_times(run_results(run_dir)))
            samples.append({"day": str(day), "kind": kind, **asdict(run), **nodes})
    game_s = [s["seconds"] for s in samples if s["kind"] == "game_day"]
    off_s = [s["seconds"] for s in samples if s["kind"] == "no_game_day"]
    mean_game = statistics.fmean(game_s)
    mean_off = statistics.fmean(off_s) if off_s else mean_game
    per_day_s = mean_game * n_game_days + mean_off * n_off_days
    return {
        "per_day_s": round(per_day_s, 1),
        "extrapolated": True,
        "method": (
            f"mean of {len(game_s)} game-day samples x {n_game_days} game days + mean of "
            f"{len(off_s)} no-game-day samples x {n_off_days} other calendar days "
            f"(all {cfg.days} calendar days of the range, one dbt build each)"
        ),
        "mean_game_day_s": round(mean_game, 2),
        "median_game_day_s": round(statistics.median(game_s), 2),
        "mean_no_game_day_s": round(mean_off, 2) if off_s else None,
        "median_x_calendar_days_s": round(statistics.median(game_s + off_s) * cfg.days, 1),
        "game_days": n_game_days,
        "no_game_days": n_off_days,
        "peak_rss_mb": max(s["peak_rss_mb"] or 0.0 for s in samples),
        "samples": samples,
    }


def event_time_models(built_db: Path) -> tuple[list[str], list[str]]:
    """Upstream models (views) with / without a game_date column in the built warehouse."""
    rows = query(
        built_db,
        "select table_name, bool_or(column_name = 'game_date') from information_schema.columns "
        "where table_schema in ('nba_staging', 'nba_intermediate') group by 1 order by 1",
    )
    return [name for name, has in rows if has], [name for name, has in rows if not has]


def make_microbatch_project(
    dst: Path, cfg: Config, with_event_time: list[str], lookback: int = 0
) -> dict[str, Any]:
    """Copy the dbt project to `dst`; only the computing model's config (COMPUTE_MODEL, made
    microbatch with `lookback` batches) and event_time configs change."""
    mart_config = MICROBATCH_CONFIG % {"begin": cfg.start.isoformat(), "lookback": lookback}
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    shutil.copyfile(PROJECT_DIR / "dbt_project.yml", dst / "dbt_project.yml")
    for folder in ("models", "macros", "tests"):
        if (PROJECT_DIR / folder).exists():
            shutil.copytree(PROJECT_DIR / folder, dst / folder)

    mart = next((dst / "models").rglob(f"{COMPUTE_MODEL}.sql"))
    text = mart.read_text()
    new, n = re.subn(
        r"\{\{\s*config\(.*?\)\s*\}\}",
        lambda _m: mart_config,
        text,
        count=1,
        flags=re.DOTALL,
    )
    if n != 1:
        raise BenchError(f"no config() block found in {mart} to turn into microbatch")
    mart.write_text(new)

    project = yaml.safe_load((dst / "dbt_project.yml").read_text())
    name = project["name"]
    models = project.setdefault("models", {}).setdefault(name, {})
    layers = {"stg_": "staging", "int_": "intermediate"}
    for model in with_event_time:
        layer = next((v for k, v in layers.items() if model.startswith(k)), None)
        if layer is None:
            continue
        models.setdefault(layer, {})[model] = {"+event_time": "game_date"}
    project.setdefault("sources", {}).setdefault(name, {})["+event_time"] = "game_date"
    (dst / "dbt_project.yml").write_text(yaml.safe_dump(project, sort_keys=False))
    return {"project_dir": str(dst), "mart_config": mart_config}


def _batch_concurrency(output: str) -> int:
    """Most batches running at once, from dbt's 'Batch i of n START/OK' log lines."""
    running = peak = 0
    for line in output.splitlines():
        if re.search(r"Batch \d+ of \d+ START", line):
            running += 1
            peak = max(peak, running)
        elif re.search(r"Batch \d+ of \d+ (OK|ERROR|SKIP)", line):
            running = max(0, running - 1)
    return peak


def _microbatch_run(
    cfg: Config,
    db: Path,
    project_dir: Path,
    start: dt.date,
    end: dt.date,
    run_dir: Path,
    threads: int | None = None,
    must_pass: bool = True,
) -> dict[str, Any]:
    cmd = dbt_cmd(
        [
            "run", "--select", SELECTION,
            "--event-time-start", str(start),
            "--event-time-end", str(end + dt.timedelta(days=1)),
        ],
        run_dir=run_dir, project_dir=project_dir, threads=threads or cfg.threads,
    )  # fmt: skip
    if run_dir.exists():
        shutil.rmtree(run_dir)
    label = f"microbatch {start}..{end}, {threads or cfg.threads} threads"
    run = run_timed(label, cmd, run_dir / "run.log", db_env(db))
    if must_pass:
        require_ok(run)
    results = run_results(run_dir) or {}
    mart = next(
        (r for r in results.get("results", []) if r["unique_id"].endswith(f".{COMPUTE_MODEL}")),
        {},
    )
    batches = mart.get("batch_results") or {}
    mart_s = round(mart.get("execution_time") or 0.0, 2)
    return {
        "range": [str(start), str(end)],
        "days": (end - start).days + 1,
        **asdict(run),
        "mart_s": mart_s,
        "fixed_s": round(run.seconds - mart_s, 2),
        "batches_ok": len(batches.get("successful") or []),
        "batches_failed": len(batches.get("failed") or []),
        "max_concurrent_batches_seen": _batch_concurrency(run.output()),
        "errors": sorted(set(re.findall(r"(TransactionContext Error: [^\n]*)", run.output()))),
        "nodes": split_times(node_times(results)),
    }


def bench_microbatch(cfg: Config, raw_db: Path, built_db: Path) -> dict[str, Any]:
    """dbt microbatch over the range, in a copy of the project; see the module docstring.

    dbt runs batches concurrently only once the target relation exists, so the first day is
    built by its own invocation (which creates the table) and the rest of the range by a second
    one, where batches can run in parallel; both are timed and added.
    """
    with_et, without_et = event_time_models(built_db)
    project = make_microbatch_project(cfg.out / "microbatch_project", cfg, with_et)
    project_dir = Path(project["project_dir"])
    info: dict[str, Any] = {
        **project,
        "event_time_models": with_et,
        "no_event_time_models": without_et,
        "threads": cfg.threads,
    }
    sub = cfg.microbatch_sub or (cfg.start + dt.timedelta(days=1), cfg.end)
    rest_days = cfg.days - 1

    def measure(rest: tuple[dt.date, dt.date]) -> tuple[dict[str, Any], dict[str, Any], Path]:
        db = fresh_db(raw_db, cfg.out, "microbatch")
        first = _microbatch_run(cfg, db, project_dir, cfg.start, cfg.start, db.parent / "first")
        more = _microbatch_run(cfg, db, project_dir, rest[0], rest[1], db.parent / "rest")
        return first, more, db

    first, rest, db = measure(sub)
    per_day = rest["mart_s"] / rest["days"]
    estimate = first["seconds"] + rest["fixed_s"] + per_day * rest_days
    runs = [first, rest]
    if rest["days"] < rest_days and estimate <= cfg.microbatch_budget_s:
        log(f"microbatch: whole range estimated {estimate:.0f} s, within budget: running it")
        first, rest, db = measure((cfg.start + dt.timedelta(days=1), cfg.end))
        runs += [first, rest]
    extrapolated = rest["days"] < rest_days
    microbatch_s = first["seconds"] + rest["fixed_s"] + rest["mart_s"] / rest["days"] * rest_days
    # The microbatch mart must hold what the set-based mart holds for the measured days.
    check_sql = (
        f"select count(*), sum(hash(game_id, player_lookup, points, minutes_played)) from {MART} "
        "where game_date between ? and ?"
    )
    window = [dt.date.fromisoformat(rest["range"][0]), dt.date.fromisoformat(rest["range"][1])]
    same = query(db, check_sql, window) == query(built_db, check_sql, window)
    probe = None
    if not cfg.smoke:
        # With threads = cores one dbt thread orchestrates the model and batches run one at a
        # time; one more thread lets two batches run at once: what DuckDB then does, on a week.
        after = dt.date.fromisoformat(rest["range"][1]) + dt.timedelta(days=1)
        week = (after, min(cfg.end, after + dt.timedelta(days=6)))
        probe = _microbatch_run(
            cfg, db, project_dir, *week, db.parent / "probe", cfg.threads + 1, must_pass=False
        )
    return {
        **info,
        "microbatch_s": round(microbatch_s, 1),
        "microbatch_extrapolated": extrapolated,
        "measured_range": rest["range"],
        "method": (
            f"first day {cfg.start} (creates the table) + {rest['days']} days "
            f"{rest['range'][0]}..{rest['range'][1]} measured; non-batch time + batch time x "
            f"{rest_days}/{rest['days']} days"
            if extrapolated
            else f"measured over the whole range ({cfg.start} alone, then the rest)"
        ),
        "seconds_per_batch": round(rest["mart_s"] / max(rest["batches_ok"], 1), 2),
        "estimate_from_first_run_s": round(estimate, 1),
        "rows_match_set_based": same,
        "concurrency_probe_threads_plus_one": probe,
        "peak_rss_mb": max(r["peak_rss_mb"] or 0.0 for r in runs),
        "runs": runs,
    }


def bench_refresh(
    cfg: Config, built_db: Path, day: dt.date, unit_test_record: Path | None
) -> dict[str, Any]:
    """One day rebuilt on the built history: the driver as a daily job runs it, its state dir
    kept from the history's build (the unit tests passed then, so it leaves them out; dbt's
    partial parse is reused), the same with an empty parse cache (a container that kept only
    the unit tests' record), without validation, and right after a project change (the unit
    tests run again, dbt parses everything); dbt build directly."""
    out: dict[str, Any] = {"day": str(day)}
    one = ["--chunk-days", "1"]
    cache = unit_test_record.parent / dbt_invoke.PARSE_CACHE_DIR if unit_test_record else None
    drivers = (
        ("driver", one, unit_test_record, cache),
        ("driver_cold_parse", one, unit_test_record, None),
        ("driver_no_validation", [*one, "--skip-validation"], unit_test_record, cache),
        ("driver_after_project_change", one, None, None),
    )
    for label, extra, record, parse in drivers if not cfg.smoke else ():  # smoke: dbt only
        work = cfg.out / "refresh" / label
        if work.exists():
            shutil.rmtree(work)
        run, detail = backfill(cfg, built_db, work, day, day, extra, record, parse)
        out[label] = {**asdict(require_ok(run)), **detail}
    run_dir = cfg.out / "refresh" / "dbt"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    cmd = dbt_cmd(
        DAY_BUILD_ARGS,
        run_dir=run_dir,
        vars_json=dbt_invoke.window_vars(str(day), str(day)),
        threads=cfg.threads,
    )
    # First call in a new target dir parses the project; the second reuses the partial parse.
    for label in ("dbt_cold_parse", "dbt_warm_parse")[: 1 if cfg.smoke else 2]:
        run = run_timed(f"refresh {day}: {label}", cmd, run_dir / f"{label}.log", db_env(built_db))
        out[label] = {**asdict(require_ok(run)), **split_times(node_times(run_results(run_dir)))}
    via = "dbt_cold_parse" if cfg.smoke else "driver"
    out["one_day_refresh_s"], out["one_day_refresh_via"] = out[via]["seconds"], via
    return out


# ------------------------------------------------------------------ scale curve and chunking


def season_range(seasons: int) -> tuple[dt.date, dt.date]:
    """The last `seasons` NBA seasons up to SCALE_LAST_DAY: October 1 to June 30."""
    return dt.date(SCALE_LAST_DAY.year - seasons, 10, 1), SCALE_LAST_DAY


def least_squares_slope(xs: list[float], ys: list[float]) -> float | None:
    """The slope of the least-squares line through (xs, ys); None below two distinct xs."""
    if len(xs) < 2 or len(set(xs)) < 2:
        return None
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def generate_raw(
    raw_dir: Path, start: dt.date, end: dt.date, seed: int, log_file: Path
) -> Run | None:
    """Generate `start..end` with the synthetic generator into `raw_dir`, unless already there
    (a `.done` marker is written last). None when cached."""
    if (raw_dir / ".done").exists():
        return None
    cmd = [
        sys.executable, "-m", "synth", "--start-date", str(start), "--end-date", str(end),
        "--seed", str(seed), "--out", str(raw_dir),
    ]  # fmt: skip
    run = require_ok(run_timed(f"generate {start}..{end}", cmd, log_file, dict(os.environ)))
    (raw_dir / ".done").touch()
    return run


def load_raw(raw_dir: Path, folder: Path, log_file: Path) -> tuple[Path, Run]:
    """A fresh DuckDB in `folder` with `raw_dir` loaded (`python -m driver load`)."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    db = folder / DB_NAME
    cmd = [sys.executable, "-m", "driver", "load", "--from", str(raw_dir), "--target", "dev"]
    env = {**os.environ, "NBA_DUCKDB_PATH": str(db)}
    return db, require_ok(run_timed(f"load {raw_dir.name}", cmd, log_file, env))


def _mart_counts(db: Path, start: dt.date, end: dt.date) -> tuple[int, int]:
    rows, game_days = query(
        db,
        f"select count(*), count(distinct game_date) from {MART} where game_date between ? and ?",
        [start, end],
    )[0]
    return rows, game_days


def bench_scale(cfg: Config) -> dict[str, Any]:
    """The set-based backfill as a user runs it (`--no-resume --full-refresh`, default chunking,
    validation on) at 1, 3, 10 and 20 seasons, each on its own freshly loaded DuckDB; the data
    generated once per size and cached in data/raw/scale_<n>seasons_seed<seed>/."""
    points: list[dict[str, Any]] = []
    for n in cfg.scale_seasons:
        start, end = season_range(n)
        raw_dir = PROJECT_DIR / "data" / "raw" / f"scale_{n}seasons_seed{cfg.seed}"
        work = cfg.out / "scale" / f"{n}seasons"
        gen = generate_raw(raw_dir, start, end, cfg.seed, work.parent / f"generate_{n}.log")
        db, load = load_raw(raw_dir, work, work.parent / f"load_{n}.log")
        run, detail = backfill(cfg, db, work, start, end, ["--full-refresh"])
        rows, game_days = _mart_counts(db, start, end) if run.ok else (None, None)
        points.append(
            {
                "seasons": n,
                "range": [str(start), str(end)],
                "days": (end - start).days + 1,
                "game_days": game_days,
                "rows": rows,
                "seconds": run.seconds,
                "peak_rss_mb": run.peak_rss_mb,
                "chunks": detail.get("chunks"),
                "ok": run.ok,
                "load_1min_before": run.load_1min_before,
                "generate_s": gen.seconds if gen else None,
                "load_s": load.seconds,
                "log": run.log,
                "breakdown": {k: v for k, v in detail.items() if k != "chunks"},
            }
        )
        shutil.rmtree(work / "backfill" / "runs", ignore_errors=True) if run.ok else None
        db.unlink(missing_ok=True)  # up to GBs per point; the figures are kept
    ok = [p for p in points if p["ok"] and p["peak_rss_mb"] is not None]
    xs = [float(p["seasons"]) for p in ok]
    slope_s = least_squares_slope(xs, [p["seconds"] for p in ok])
    slope_mb = least_squares_slope(xs, [p["peak_rss_mb"] for p in ok])
    return {
        "points": points,
        "seconds_per_season": round(slope_s, 2) if slope_s is not None else None,
        "mb_per_season": round(slope_mb, 1) if slope_mb is not None else None,
    }


def plot_scale(scale: dict[str, Any], png: Path) -> None:
    """Wall time and peak RSS against seasons, with the least-squares lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [p for p in scale["points"] if p["ok"]]
    xs = [p["seasons"] for p in ok]
    fig, (ax_s, ax_m) = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, slope_key, unit, limit in (
        (ax_s, "seconds", "seconds_per_season", "s", SCALE_LIMITS["seconds"]),
        (ax_m, "peak_rss_mb", "mb_per_season", "MB", SCALE_LIMITS["peak_rss_mb"]),
    ):
        ys = [p[key] for p in ok]
        ax.plot(xs, ys, "o-", label="measured")
        slope = scale.get(slope_key)
        if slope is not None and xs:
            mx, my = statistics.fmean(xs), statistics.fmean(ys)
            ax.plot(
                [0, max(xs)],
                [my - slope * mx, my + slope * (max(xs) - mx)],
                "--",
                label=f"least squares: {slope:,.1f} {unit}/season",
            )
        ax.axhline(limit, color="red", linewidth=0.8, label=f"target {limit:g} {unit}")
        ax.set_xlabel("seasons backfilled (one command)")
        ax.set_ylabel("wall seconds" if key == "seconds" else "peak RSS of the process tree, MB")
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle("python -m driver backfill --full-refresh (DuckDB, default chunking)")
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=100)
    plt.close(fig)


def _within(chunk: dict[str, Any], start: str, end: str) -> bool:
    """Whether a state file's chunk lies inside start..end (ISO dates compare as strings)."""
    return start <= str(chunk.get("start")) and str(chunk.get("end")) <= end


def _per_chunk(state_file: Path) -> list[dict[str, Any]]:
    """Per chunk: its wall in the driver, dbt's own elapsed, models and data tests summed.
    A chunk of a group (driver.backfill.runner.run_group) gets its share of the group's one
    call (`group_<start>_<end>/` beside the chunks' dirs, the chunk's run_dir), as its wall in
    the state file does; a chunk redone alone after its group failed, its own call plus its
    share of the group's."""
    chunks = json.loads(state_file.read_text()).get("chunks", [])
    groups: list[tuple[str, str, dict | None, int]] = []
    parents = {Path(c["run_dir"]).parent for c in chunks if c.get("run_dir")}
    for group_dir in sorted(d for parent in parents for d in parent.glob("group_*_*")):
        start, end = group_dir.name.split("_")[1:3]
        members = sum(_within(c, start, end) for c in chunks)
        groups.append((start, end, run_results(group_dir), max(members, 1)))
    out = []
    for c in chunks:
        run_dir = Path(c["run_dir"]) if c.get("run_dir") else None
        own = run_dir is not None and not run_dir.name.startswith("group_")  # else in groups
        calls = [(run_results(run_dir) if own and run_dir else None, 1)]
        calls += [
            (results, members) for start, end, results, members in groups if _within(c, start, end)
        ]
        entry: dict[str, Any] = {
            "chunk": f"{c.get('start')}..{c.get('end')}",
            "wall_s": c.get("seconds"),
            "dbt_elapsed_s": None,
            "models_s": 0.0,
            "data_tests_s": 0.0,
            "unit_tests_s": 0.0,
            "nodes": 0,
            "data_tests": 0,
        }
        for results, members in calls:
            if results is None:
                continue
            split = split_times(node_times(results))
            for key in ("models_s", "data_tests_s", "unit_tests_s"):
                entry[key] = round(entry[key] + split[key] / members, 2)
            elapsed = (results.get("elapsed_time") or 0.0) / members
            entry["dbt_elapsed_s"] = round((entry["dbt_elapsed_s"] or 0.0) + elapsed, 2)
            entry["nodes"] += len(results.get("results", []))
            entry["data_tests"] += sum(
                r["unique_id"].startswith("test.") for r in results.get("results", [])
            )
        out.append(entry)
    return out


def bench_forced(cfg: Config, raw_db: Path) -> dict[str, Any]:
    """The demo history forced into month chunks against the default (one chunk), each on a
    fresh copy of the loaded warehouse, with where each chunk's time goes and the CPU time
    (user + sys) of the driver and every dbt process it ran: the machine may be shared."""
    out: dict[str, Any] = {}
    for label, extra in (("default", []), ("month", ["--chunk", "month"])):
        db = fresh_db(raw_db, cfg.out, f"forced_{label}")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        run, detail = backfill(cfg, db, db.parent / "work", cfg.start, cfg.end, extra)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        require_ok(run)
        cpu_s = round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1)
        chunks = _per_chunk(db.parent / "work" / "backfill" / "state.json")
        n = len(chunks) or 1
        sums = {k: sum(c[k] or 0.0 for c in chunks) for k in ("wall_s", "dbt_elapsed_s")}
        sums |= {k: sum(c[k] for c in chunks) for k in ("models_s", "data_tests_s", "unit_tests_s")}
        out[label] = {
            **asdict(run),
            **detail,
            "cpu_s": cpu_s,
            "per_chunk_mean": {
                "wall_s": round(sums["wall_s"] / n, 2),
                # dbt's start-up, project load/parse and adapter before its first node, and its
                # exit: the chunk's wall less dbt's own elapsed
                "startup_parse_s": round((sums["wall_s"] - sums["dbt_elapsed_s"]) / n, 2),
                "models_s": round(sums["models_s"] / n, 2),
                "data_tests_s": round(sums["data_tests_s"] / n, 2),
                "unit_tests_s": round(sums["unit_tests_s"] / n, 2),
            },
            "chunk_list": chunks,
        }
        db.unlink(missing_ok=True)
    out["forced_month_chunks_s"] = out["month"]["seconds"]
    out["one_chunk_s"] = out["default"]["seconds"]
    out["month_over_one_chunk"] = _ratio(out["month"]["seconds"], out["default"]["seconds"])
    out["month_over_one_chunk_cpu"] = _ratio(out["month"]["cpu_s"], out["default"]["cpu_s"])
    return out


def bench_default_command(cfg: Config, raw_db: Path) -> dict[str, Any]:
    """The README's command as written (only the state file is placed in the bench's dir so
    the shared target/ stays untouched), on a fresh copy of the loaded warehouse."""
    db = fresh_db(raw_db, cfg.out, "default_command")
    state_file = db.parent / "backfill" / "state.json"
    cmd = [
        sys.executable, "-m", "driver", "backfill",
        "--start-date", str(FULL_START), "--end-date", str(FULL_END),
        "--state-file", str(state_file),
    ]  # fmt: skip
    env = {**os.environ, "NBA_DUCKDB_PATH": str(db)}
    run = require_ok(run_timed("README command", cmd, db.parent / "driver.log", env))
    detail = _driver_breakdown(state_file, run) if state_file.exists() else {}
    db.unlink(missing_ok=True)
    return {**asdict(run), **detail, "default_command_s": run.seconds}


# ------------------------------------------------------------------ late data


# The daily job's clock: 10:00 UTC, after the night's box scores (they land by 07:30 the day
# after the game) and before that day's corrections (12:00); docs/synthetic_data.md.
LATE_JOB_HOUR = 10
LATE_GAP = dt.timedelta(days=3)  # T2 - T1: three days of arrivals between the two loads
LOOKBACK = 3  # dbt microbatch `lookback` of the comparison
BOX_TABLES = ("nbac_gamebook_player_stats", "bdl_player_boxscores")  # a correction's tables
GAMEBOOK = BOX_TABLES[0]  # the mart's first box-score source (BDL only fills its gaps)
LATE_PBP_TABLE = "bigdataball_play_by_play"  # lands about game day + 2 days 22:00
LATE_MIN_PBP_DAYS = 3  # the full run needs late play-by-play on at least this many dates


def microbatch_batches(now: dt.datetime, lookback: int) -> list[dt.date]:
    """The daily batches dbt microbatch runs for an incremental run at `now` (UTC) without
    --event-time-start/--event-time-end, by dbt's documented rule: the run ends at `now`
    rounded up to the next batch boundary, and processes the batch holding `now` plus
    `lookback` batches before it (docs.getdbt.com, "About microbatch incremental models").
    No dbt internals: the bench checks this list against the batches the run reports in its
    run_results (batch_results), so a change of dbt's rule fails the bench, not the figure."""
    midnight = dt.datetime.combine(now.date(), dt.time(), tzinfo=now.tzinfo)
    end_day = now.date() if now == midnight else now.date() + dt.timedelta(days=1)
    return [end_day - dt.timedelta(days=lookback + 1 - i) for i in range(lookback + 1)]


Arrivals = dict[str, list[tuple[dt.date, dt.datetime]]]


def raw_arrivals(raw_dir: Path) -> Arrivals:
    """Per raw table (file stem): its distinct (game_date, processed_at UTC) pairs."""
    out: Arrivals = {}
    with duckdb.connect() as con:
        con.execute("set timezone = 'UTC'")
        for path in sorted(raw_dir.glob("*.parquet")):
            out[path.stem] = [
                (day, stamp.astimezone(dt.UTC))
                for day, stamp in con.execute(
                    "select distinct game_date, processed_at from read_parquet(?) "
                    "where game_date is not null and processed_at is not null",
                    [str(path)],
                ).fetchall()
            ]
    return out


@dataclass(frozen=True)
class LateScenario:
    """Two loads of the same raw files, as of T1 and as of T2 = T1 + LATE_GAP, and what arrived
    between them, all read from the files."""

    t1: dt.datetime
    t2: dt.datetime
    built_end: dt.date  # last date with box-score rows at T1: the history built at T1 ends here
    window_end: dt.date  # last date with box-score rows at T2: the daily job's window ends here
    changed: dict[str, list[str]]  # ISO date -> raw tables with rows arriving in (T1, T2]
    late_pbp_days: list[dt.date]  # BigDataBall rows arriving in (T1, T2]
    correction_days: list[dt.date]  # box-score rows arriving in (T1, T2] on a date built at T1
    new_game_days: list[dt.date]  # box-score rows arriving in (T1, T2], none at T1
    lookback_days: list[dt.date]  # the batches of a microbatch run at T2 (LOOKBACK)

    @property
    def old_corrections(self) -> list[dt.date]:
        """Gamebook corrections on dates before the microbatch lookback's first batch where
        nothing but box scores arrived: if such a date's rows differ, the correction did it."""
        return [
            d
            for d in self.correction_days
            if d < self.lookback_days[0]
            and GAMEBOOK in self.changed.get(d.isoformat(), [])
            and set(self.changed[d.isoformat()]) <= set(BOX_TABLES)
        ]

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["old_corrections"] = self.old_corrections
        return json.loads(json.dumps(out, default=str))


def late_scenario(
    arrivals: Arrivals, start: dt.date, end: dt.date, require_all: bool
) -> LateScenario:
    """The latest T1 (a day at LATE_JOB_HOUR UTC, T2 = T1 + LATE_GAP on or before `end`) where
    play-by-play lands late on LATE_MIN_PBP_DAYS dates and a gamebook correction lands alone on a
    date older than the microbatch lookback (LateScenario.old_corrections); without
    `require_all` (the smoke week, which may hold no correction), any T1 with late play-by-play
    and a new game day."""
    box = [(d, p) for t in BOX_TABLES for d, p in arrivals.get(t, []) if start <= d <= end]
    pbp = [(d, p) for d, p in arrivals.get(LATE_PBP_TABLE, []) if start <= d <= end]
    day = end - LATE_GAP
    while day > start:
        t1 = dt.datetime.combine(day, dt.time(LATE_JOB_HOUR), tzinfo=dt.UTC)
        t2 = t1 + LATE_GAP
        day -= dt.timedelta(days=1)
        built = {d for d, p in box if p <= t1}
        late = sorted({d for d, p in pbp if t1 < p <= t2})
        arrived = {d for d, p in box if t1 < p <= t2}
        if not built or not late:
            continue
        window_end = max(built | arrived)
        changed: dict[str, set[str]] = {}
        for table, rows in arrivals.items():
            for d, p in rows:
                if t1 < p <= t2 and start <= d <= window_end:
                    changed.setdefault(d.isoformat(), set()).add(table)
        scenario = LateScenario(
            t1=t1,
            t2=t2,
            built_end=max(built),
            window_end=window_end,
            changed={d: sorted(tables) for d, tables in sorted(changed.items())},
            late_pbp_days=late,
            correction_days=sorted(arrived & built),
            new_game_days=sorted(arrived - built),
            lookback_days=microbatch_batches(t2, LOOKBACK),
        )
        if require_all:
            if len(late) >= LATE_MIN_PBP_DAYS and scenario.old_corrections:
                return scenario
        elif scenario.new_game_days:
            return scenario
    need = (
        f"late {LATE_PBP_TABLE} rows on {LATE_MIN_PBP_DAYS} dates and a gamebook correction "
        f"alone on a date older than a {LOOKBACK}-day lookback"
        if require_all
        else f"late {LATE_PBP_TABLE} rows and a new game day"
    )
    raise BenchError(
        f"no T1 in {start}..{end} gives {need} within {LATE_GAP.days} days. Raw data generated "
        "before the generator made box-score corrections have none: regenerate them "
        "(delete the raw dir's .done marker, or give --raw-dir a new directory)"
    )


def _iso_utc(t: dt.datetime) -> str:
    """2024-04-14T10:00:00Z: what `load --as-of` and the dbt var as_of both accept."""
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _run_cpu(label: str, cmd: list[str], log_file: Path, env: dict[str, str]) -> dict[str, Any]:
    """run_timed, plus the user+sys CPU seconds of the process tree and the load after."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    run = require_ok(run_timed(label, cmd, log_file, env))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {**asdict(run), "cpu_s": round(cpu, 2), "load_1min_after": os.getloadavg()[0]}


def differing_dates(db: Path, reference: Path, start: dt.date, end: dt.date) -> list[str]:
    """The game dates of `start..end` whose mart rows (all columns but processed_at, the build
    time) differ between `db` and `reference`, in either direction."""
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute(f"attach '{reference}' as reference (read_only)")
        rows = con.execute(
            f"""
            with ours as (
                select * exclude (processed_at) from {MART} where game_date between $1 and $2
            ),
            theirs as (
                select * exclude (processed_at) from reference.{MART}
                where game_date between $1 and $2
            ),
            different as (
                (select * from ours except all select * from theirs)
                union all
                (select * from theirs except all select * from ours)
            )
            select distinct game_date from different order by 1
            """,
            [start, end],
        ).fetchall()
    return [r[0].isoformat() for r in rows]


def _ledger(db: Path) -> dict[str, str]:
    """game_date -> invocation_id of the build ledger: which build last wrote each date."""
    sql = "select game_date, invocation_id from nba_analytics.build_ledger"
    return {d.isoformat(): inv for d, inv in query(db, sql)}


def bench_late(
    cfg: Config, sc: LateScenario, unit_test_record: Path | None = None
) -> dict[str, Any]:
    """Late data on the history: `refresh` against dbt microbatch with lookback 3 over the same
    change, `sc` (late_scenario; docs/benchmark.md, "Late data"). Each method starts from the
    same state (the history loaded as of T1 and built in one chunk, then the raw data loaded as
    of T2) on its own copy, and its mart is compared with a full rebuild of the same raw data."""
    work = cfg.out / "late"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    log(
        f"late: T1 {_iso_utc(sc.t1)}, T2 {_iso_utc(sc.t2)}; late play-by-play "
        f"{sc.as_dict()['late_pbp_days']}, corrections {sc.as_dict()['correction_days']}, "
        f"new game days {sc.as_dict()['new_game_days']}"
    )
    skip = ["--skip-validation"] if cfg.smoke else []  # smoke: the pieces, not the validation

    def load(db: Path, as_of: dt.datetime) -> None:
        cmd = [
            sys.executable, "-m", "driver", "load", "--from", str(cfg.raw_dir),
            "--target", "dev", "--as-of", _iso_utc(as_of),
        ]  # fmt: skip
        env = {**os.environ, "NBA_DUCKDB_PATH": str(db)}
        log_file = work / f"load_{as_of:%Y%m%dT%H%M}.log"
        require_ok(run_timed(f"late: load as of {_iso_utc(as_of)}", cmd, log_file, env))

    # The state at T1: the history as it had arrived, built in one chunk; not timed. Its state
    # dir is the daily job's and holds the unit tests' record, as a deployment's does: the build
    # runs them and records it, unless `unit_test_record` (the set-based build's, same
    # project) says they passed already.
    base = work / "t1" / DB_NAME
    base.parent.mkdir(parents=True)
    load(base, sc.t1)
    days = (sc.built_end - cfg.start).days + 1
    t1_vars = ["--vars", json.dumps({"as_of": _iso_utc(sc.t1)})]
    t2_vars = ["--vars", json.dumps({"as_of": _iso_utc(sc.t2)})]
    t1_extra = ["--chunk-days", str(days), *t1_vars, *skip]
    run, _ = backfill(cfg, base, base.parent, cfg.start, sc.built_end, t1_extra, unit_test_record)
    require_ok(run)
    state_dir = base.parent / "backfill"  # the unit-test record is there
    load(base, sc.t2)
    with_et, _ = event_time_models(base)
    mb_project = make_microbatch_project(work / "microbatch_project", cfg, with_et, LOOKBACK)
    window = (cfg.start, sc.window_end)

    # refresh over the history's window: what is stale, then a second run that finds nothing
    db = fresh_db(base, work, "refresh")
    view = query(
        db,
        "select game_date, state, reason from nba_analytics.build_staleness "
        "where state != 'fresh' and game_date between ? and ? order by 1",
        list(window),
    )
    ledger_before = _ledger(db)
    cmd = [
        sys.executable, "-m", "driver", "refresh", "--start-date", str(window[0]),
        "--end-date", str(window[1]), "--target", "dev", "--state-dir", str(state_dir),
        *t2_vars, *skip,
    ]  # fmt: skip
    env = {**os.environ, "NBA_DUCKDB_PATH": str(db)}
    stale = _run_cpu("late: refresh (stale)", cmd, work / "refresh" / "stale.log", env)
    ledger_after = _ledger(db)
    rebuilt = sorted(d for d, inv in ledger_after.items() if ledger_before.get(d) != inv)
    noop = _run_cpu("late: refresh (nothing stale)", cmd, work / "refresh" / "noop.log", env)
    if "nothing to build" not in Path(noop["log"]).read_text():
        raise BenchError(f"the second refresh built something; log {noop['log']}")

    # dbt microbatch, lookback 3, as a daily job at T2 runs it: the batch of T2's day and the 3
    # before it (dbt's rule, microbatch_batches), given as the explicit event-time range
    # because dbt takes "now" from the clock. Its table starts as the T1 build left it: the
    # same rows a microbatch build of the history makes (the microbatch part checks that on the
    # days it builds), without 900 daily batches first.
    mb_db = fresh_db(base, work, "microbatch")
    batches = sc.lookback_days
    run_dir = work / "microbatch" / "run"
    mb_cmd = dbt_cmd(
        [
            "run", "--select", SELECTION,
            "--event-time-start", str(batches[0]),
            "--event-time-end", str(batches[-1] + dt.timedelta(days=1)),
        ],
        run_dir=run_dir, project_dir=Path(mb_project["project_dir"]), threads=cfg.threads,
    )  # fmt: skip
    mb = _run_cpu(
        "late: microbatch lookback 3", mb_cmd, work / "microbatch" / "run.log", db_env(mb_db)
    )
    results = run_results(run_dir) or {}
    node = next(
        (r for r in results.get("results", []) if r["unique_id"].endswith(f".{COMPUTE_MODEL}")),
        {},
    )
    done = (node.get("batch_results") or {}).get("successful") or []
    mb_days = sorted({str(b[0])[:10] for b in done})
    if mb_days != [str(d) for d in batches]:
        raise BenchError(f"microbatch ran batches {mb_days}, expected {batches}; log {mb['log']}")

    # the reference: the window rebuilt from scratch from the same raw data (as of T2), one
    # `dbt run --full-refresh` of the models (their tests are not what is compared)
    ref = fresh_db(base, work, "full_rebuild")
    ref_cmd = dbt_cmd(
        ["run", "--select", SELECTION, "--full-refresh"],
        run_dir=ref.parent / "run",
        vars_json=dbt_invoke.window_vars(str(window[0]), str(window[1])),
        threads=cfg.threads,
    )
    full = asdict(
        require_ok(
            run_timed(
                "late: full rebuild (reference)", ref_cmd, ref.parent / "run.log", db_env(ref)
            )
        )
    )
    refresh_diff = differing_dates(db, ref, *window)
    missed = differing_dates(mb_db, ref, *window)
    if refresh_diff:
        raise BenchError(f"refresh left dates that differ from a full rebuild: {refresh_diff}")
    changed = sorted(sc.changed)
    return {
        "scenario": sc.as_dict(),
        "window": [str(window[0]), str(window[1])],
        "refresh_stale_s": stale["seconds"],
        "refresh_noop_s": noop["seconds"],
        "refresh_days_rebuilt": rebuilt,
        "refresh_view_before": [{"game_date": str(d), "state": s, "reason": r} for d, s, r in view],
        "refresh_differing_days": refresh_diff,
        "microbatch_lookback_s": mb["seconds"],
        "microbatch_lookback_days_rebuilt": mb_days,
        "microbatch_lookback_missed_days": missed,
        "changed_days_outside_lookback": [d for d in changed if d not in mb_days],
        "runs": {
            "refresh_stale": stale,
            "refresh_noop": noop,
            "microbatch": mb,
            "full_rebuild": full,
        },
        "microbatch_project": mb_project,
    }


def late_summary(late: dict[str, Any]) -> dict[str, Any]:
    """The late part's keys in results.json: times, and counts of days (the lists are in
    details.late)."""
    old = late["scenario"]["old_corrections"]
    return {
        "refresh_stale_s": late["refresh_stale_s"],
        "refresh_noop_s": late["refresh_noop_s"],
        "refresh_days_rebuilt": len(late["refresh_days_rebuilt"]),
        "microbatch_lookback_s": late["microbatch_lookback_s"],
        "microbatch_lookback_days_rebuilt": len(late["microbatch_lookback_days_rebuilt"]),
        "microbatch_lookback_missed_days": len(late["microbatch_lookback_missed_days"]),
        # None when the window held no correction older than the lookback (the smoke week)
        "microbatch_lookback_caught_old_correction": (
            not set(old) & set(late["microbatch_lookback_missed_days"]) if old else None
        ),
    }


def late_lines(results: dict[str, Any]) -> list[str]:
    """The late part in a few lines, when measured."""
    late = (results.get("details") or {}).get("late")
    if not late:
        return []
    sc = late["scenario"]
    runs = late["runs"]
    return [
        f"late data: history {late['window'][0]}..{sc['built_end']} built as of {sc['t1']}, "
        f"then raw data as of {sc['t2']}: late play-by-play on {', '.join(sc['late_pbp_days'])}; "
        f"box-score corrections on {', '.join(sc['correction_days']) or '-'}; "
        f"new game days {', '.join(sc['new_game_days']) or '-'}",
        f"refresh {late['window'][0]}..{late['window'][1]}: {late['refresh_stale_s']:.1f} s "
        f"({runs['refresh_stale']['cpu_s']:.1f} s CPU, load "
        f"{runs['refresh_stale']['load_1min_before']:.1f}), rebuilt "
        f"{len(late['refresh_days_rebuilt'])} days [{', '.join(late['refresh_days_rebuilt'])}], "
        f"equal to a full rebuild; nothing stale {late['refresh_noop_s']:.1f} s",
        f"microbatch lookback {LOOKBACK}: {late['microbatch_lookback_s']:.1f} s "
        f"({runs['microbatch']['cpu_s']:.1f} s CPU, load "
        f"{runs['microbatch']['load_1min_before']:.1f}), rebuilt "
        f"{len(late['microbatch_lookback_days_rebuilt'])} days "
        f"[{', '.join(late['microbatch_lookback_days_rebuilt'])}]; differs from a full rebuild "
        f"on {len(late['microbatch_lookback_missed_days'])} days "
        f"[{', '.join(late['microbatch_lookback_missed_days'])}]",
    ]


# ------------------------------------------------------------------ results


def machine() -> dict[str, Any]:
    mem_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    versions = {}
    for dist in ("dbt-core", "dbt-duckdb", "duckdb"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 2**20, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


def evaluate(results: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, (limit, kind) in TARGETS.items():
        value = results.get(name)
        met = None if value is None else (value <= limit if kind == "max" else value >= limit)
        out[name] = {
            "value": value,
            "target": f"{'<=' if kind == 'max' else '>='} {limit:g}",
            "met": met,
        }
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def summarize(cfg: Config, parts: dict[str, Any]) -> dict[str, Any]:
    sb = parts["set_based"]
    c = parts["counts"]
    set_based_s = sb["set_based_s"]
    mb = parts.get("microbatch") or {}
    pd_ = parts.get("per_day") or {}
    fl = parts.get("floor") or {}
    rf = parts.get("refresh") or {}
    results: dict[str, Any] = {
        "range": [str(cfg.start), str(cfg.end)],
        "smoke": cfg.smoke,
        "days": c["days"],
        "game_days": c["game_days"],
        "games": c["games"],
        "rows": c["rows"],
        "set_based_s": set_based_s,
        "set_based_chunking": sb["chunking"],
        "microbatch_s": mb.get("microbatch_s"),
        "microbatch_extrapolated": mb.get("microbatch_extrapolated"),
        "microbatch_measured_range": mb.get("measured_range"),
        "per_day_s": pd_.get("per_day_s"),
        "per_day_extrapolated": pd_.get("extrapolated"),
        "floor_s": fl.get("floor_s"),
        "one_day_refresh_s": rf.get("one_day_refresh_s"),
        "one_day_refresh_via": rf.get("one_day_refresh_via"),
        "peak_rss_mb": sb["peak_rss_mb"],
        "days_per_hour": round(c["days"] / set_based_s * 3600),
        "days_per_hour_by_method": {
            k: round(c["days"] / v * 3600, 1)
            for k, v in (
                ("set_based", set_based_s),
                ("microbatch", mb.get("microbatch_s")),
                ("per_day", pd_.get("per_day_s")),
                ("floor", fl.get("floor_s")),
            )
            if v
        },
        "microbatch_over_set_based": _ratio(mb.get("microbatch_s"), set_based_s),
        "per_day_over_set_based": _ratio(pd_.get("per_day_s"), set_based_s),
        "set_based_over_floor": _ratio(set_based_s, fl.get("floor_s")),
        "max_child_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        "machine": parts["machine"],
    }
    results["targets"] = evaluate(results)
    results["details"] = {k: v for k, v in parts.items() if k not in ("machine", "counts")}
    return results


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,d}"
    return str(value)


def table_rows(results: dict[str, Any]) -> tuple[list[list[str]], list[list[str]]]:
    d = results["details"]
    sb = results["set_based_s"]
    mb, fl = d.get("microbatch") or {}, d.get("floor") or {}
    dph = results["days_per_hour_by_method"]

    def row(name: str, seconds: float | None, note: str, key: str) -> list[str]:
        return [name, _fmt(seconds), _fmt(dph.get(key), 0), _fmt(_ratio(seconds, sb), 2), note]

    methods = [
        row("set-based (driver)", sb, f"chunking {results['set_based_chunking']}", "set_based"),
        row(
            "dbt microbatch",
            results["microbatch_s"],
            (
                f"extrapolated from {mb.get('measured_range')}"
                if results["microbatch_extrapolated"]
                else "measured"
            )
            + f", {mb.get('threads', '-')} threads",
            "microbatch",
        ),
        row("per-day dbt build", results["per_day_s"], "extrapolated from samples", "per_day"),
        row(
            "engine floor",
            results["floor_s"],
            f"SQL {_fmt(fl.get('sql_s'))} s + no-op dbt {_fmt(fl.get('noop_dbt_s'))} s",
            "floor",
        ),
    ]
    targets = [
        [
            name,
            _fmt(t["value"], 2),
            t["target"],
            {True: "met", False: "MISSED", None: "-"}[t["met"]],
        ]
        for name, t in results["targets"].items()
    ]
    return methods, targets


def profile_lines(results: dict[str, Any]) -> list[str]:
    """Where the time goes, from the runs' own records."""
    d = results["details"]
    out = []
    best = d["set_based"]["variants"][results["set_based_chunking"]]
    run = min(best["runs"], key=lambda r: r["seconds"])
    nodes = run.get("build_nodes") or {}
    validation = (
        f" + validation {_fmt(run['validation_in_dbt_s'])} s (dbt's own wall, from its log)"
        if run.get("validation_in_dbt_s")
        else " (the validation report is the build's own test results)"
    )
    out.append(
        f"set-based {run['seconds']:.1f} s = dbt build {_fmt(run.get('dbt_build_s'))} s "
        f"(models {_fmt(nodes.get('models_s'))} s, data tests {_fmt(nodes.get('data_tests_s'))} "
        f"s, unit tests {_fmt(nodes.get('unit_tests_s'))} s summed over threads; the rest dbt "
        f"start-up and parse){validation} + the rest (the driver's Python, other start-ups) "
        f"{_fmt(run.get('rest_s'))} s"
    )
    if nodes.get("slowest"):
        slow = ", ".join(f"{k} {v:.1f} s" for k, v in list(nodes["slowest"].items())[:4])
        out.append(f"slowest nodes of the build: {slow}")
    no_val = d["set_based"]["variants"].get("one_chunk_no_validation")
    if no_val:
        out.append(f"set-based without validation: {no_val['best_s']:.1f} s")
    season = d["set_based"]["variants"].get("season_chunks")
    if season:
        out.append(f"set-based in season chunks: {season['best_s']:.1f} s")
    fl = d.get("floor") or {}
    if fl:
        prof = fl.get("profile") or {}
        top = ", ".join(
            f"{o['operator']} {o['cpu_s']:.1f} s" for o in (prof.get("top_operators") or [])[:4]
        )
        out.append(
            f"floor: mart SQL {fl['sql_s']:.1f} s ({prof.get('cpu_s')} s CPU; "
            f"top operators {top}); "
            f"no-op dbt {fl['noop_dbt_s']:.1f} s warm, {_fmt(fl.get('noop_dbt_cold_parse_s'))} s "
            "with a full parse"
        )
    mb = d.get("microbatch") or {}
    if mb:
        out.append(
            f"microbatch: {mb['seconds_per_batch']:.1f} s per daily batch; upstream models "
            f"without event_time (read whole per batch): {', '.join(mb['no_event_time_models'])}"
        )
        probe = mb.get("concurrency_probe_threads_plus_one")
        if probe:
            out.append(
                f"microbatch with {probe['cmd'][probe['cmd'].index('--threads') + 1]} threads: "
                f"{probe['max_concurrent_batches_seen']} batches at once, "
                f"{probe['batches_ok']} ok, "
                f"{probe['batches_failed']} failed {'; '.join(probe['errors'])[:160]}"
            )
    pd_ = d.get("per_day") or {}
    if pd_:
        s0 = pd_["samples"]
        models = statistics.fmean(x["models_s"] for x in s0)
        tests = statistics.fmean(x["data_tests_s"] for x in s0)
        out.append(
            f"per-day: {pd_['mean_game_day_s']:.1f} s per game day, of which models "
            f"{models:.1f} s and data tests {tests:.1f} s; the rest is dbt start-up and parse"
        )
    rf = d.get("refresh") or {}
    if rf:
        parts = [f"driver {rf['driver']['seconds']:.1f} s"] if "driver" in rf else []
        if "driver_cold_parse" in rf:
            parts.append(f"driver with no kept parse {rf['driver_cold_parse']['seconds']:.1f} s")
        if "driver_no_validation" in rf:
            parts.append(f"driver without validation {rf['driver_no_validation']['seconds']:.1f} s")
        if "driver_after_project_change" in rf:
            changed = rf["driver_after_project_change"]["seconds"]
            parts.append(f"driver right after a project change (unit tests rerun) {changed:.1f} s")
        for k in ("dbt_cold_parse", "dbt_warm_parse"):
            if k in rf:
                parts.append(f"{k.replace('_', ' ')} {rf[k]['seconds']:.1f} s")
        out.append(f"one-day refresh of {rf['day']}: " + ", ".join(parts))
    return out


def scale_lines(results: dict[str, Any]) -> list[str]:
    """The scale curve, the forced month chunks and the README command, when measured."""
    out = []
    for p in results.get("scale") or []:
        out.append(
            f"{p['seasons']} seasons ({p['days']:,} days, {_fmt(p['rows'])} rows, "
            f"{_fmt(p['chunks'])} chunks): {p['seconds']:.1f} s, "
            f"peak RSS {_fmt(p['peak_rss_mb'])} MB"
        )
    if results.get("scale"):
        out.append(
            f"per season (least squares): {_fmt(results.get('scale_seconds_per_season'), 2)} s, "
            f"{_fmt(results.get('scale_mb_per_season'))} MB"
        )
    forced = (results.get("details") or {}).get("forced")
    if forced:
        per = forced["month"]["per_chunk_mean"]
        out.append(
            f"demo history in {forced['month']['chunks']} month chunks "
            f"{forced['forced_month_chunks_s']:.1f} s vs {forced['default']['chunks']} chunk "
            f"{forced['one_chunk_s']:.1f} s ({_fmt(forced['month_over_one_chunk'], 2)}x; CPU "
            f"{_fmt(forced['month'].get('cpu_s'))} s vs {_fmt(forced['default'].get('cpu_s'))} s, "
            f"{_fmt(forced.get('month_over_one_chunk_cpu'), 2)}x); "
            f"per month chunk {per['wall_s']:.1f} s = dbt call overhead "
            f"{per['startup_parse_s']:.1f} s "
            f"+ models {per['models_s']:.1f} s + data tests {per['data_tests_s']:.1f} s "
            f"(summed over threads)"
        )
    if results.get("default_command_s") is not None:
        out.append(f"README command (fresh DB after a load): {results['default_command_s']:.1f} s")
    return out


def markdown(results: dict[str, Any]) -> str:
    """The two tables as Markdown (target/bench/results.md), for docs/benchmark.md."""
    methods, targets = table_rows(results)
    lines = [f"{headline(results)}", ""]
    for cols, rows in (
        (["method", "seconds", "days/hour", "x set-based", "how"], methods),
        (["target", "value", "goal", "status"], targets),
    ):
        lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        lines.append("")
    lines += [f"- {line}" for line in profile_lines(results) + late_lines(results)]
    return "\n".join(lines) + "\n"


def headline(results: dict[str, Any]) -> str:
    m = results["machine"]
    return (
        f"{results['range'][0]}..{results['range'][1]}: {results['days']} days, "
        f"{results['game_days']} game days, {results['games']:,} games, {results['rows']:,} rows; "
        f"{m['cores']} cores, {m['memory_gib']} GiB; dbt-core {m['versions']['dbt-core']}, "
        f"dbt-duckdb {m['versions']['dbt-duckdb']}, duckdb {m['versions']['duckdb']}; "
        f"load {results['load_1min_start']:.2f} at start, {results['load_1min_end']:.2f} at end"
    )


def print_table(results: dict[str, Any]) -> None:
    methods, targets = table_rows(results)
    head = headline(results)
    extra = (
        f"peak RSS (set-based, process tree) {results['peak_rss_mb']} MB; one-day refresh "
        f"{_fmt(results['one_day_refresh_s'])} s ({results['one_day_refresh_via']}); "
        f"{results['days_per_hour']:,} days/hour"
    )
    method_cols = ["method", "seconds", "days/hour", "x set-based", "how"]
    target_cols = ["target", "value", "goal", "status"]
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        console = Console()
        console.print(head)
        for title, cols, rows in (
            ("Backfill of the range", method_cols, methods),
            ("Targets", target_cols, targets),
        ):
            table = Table(title=title)
            for col in cols:
                table.add_column(
                    col, justify="left" if col in ("method", "how", "target") else "right"
                )
            for r in rows:
                table.add_row(*r)
            console.print(table)
        console.print(extra)
        for line in profile_lines(results):
            console.print(f"- {line}", markup=False)
        return
    print(head)
    for cols, rows in ((method_cols, methods), (target_cols, targets)):
        widths = [max(len(str(x)) for x in col) for col in zip(cols, *rows, strict=False)]
        print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=False)))
        for r in rows:
            print("  ".join(x.ljust(w) for x, w in zip(r, widths, strict=False)))
        print()
    print(extra)
    for line in profile_lines(results):
        print(f"- {line}")


# ------------------------------------------------------------------ main


def parse_args(argv: list[str] | None) -> Config:
    p = argparse.ArgumentParser(prog="python -m scripts.bench", description=__doc__.split("\n")[0])
    p.add_argument("--smoke", action="store_true", help="one week, one sample day: a quick check")
    p.add_argument("--out", type=Path, help="output dir (default target/bench, smoke: .../smoke)")
    p.add_argument("--start-date", type=dt.date.fromisoformat, help="default 2021-10-01")
    p.add_argument("--end-date", type=dt.date.fromisoformat, help="default 2024-05-01")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--raw-dir", type=Path, help="generated data (default data/raw/START_END_seedN)")
    p.add_argument("--sample-days", type=int, help="game days sampled for per-day (20)")
    p.add_argument("--off-days", type=int, help="days without games sampled for per-day (3)")
    p.add_argument("--repeat", type=int, help="runs of the set-based backfill and floor SQL (2)")
    p.add_argument(
        "--microbatch-range",
        help="START..END measured for microbatch, or 'full' (default 2022-01-01..2022-01-31)",
    )
    p.add_argument(
        "--microbatch-budget",
        type=float,
        default=600.0,
        help="seconds: run microbatch over the whole range too if the estimate fits (600)",
    )
    p.add_argument("--no-season-chunks", action="store_true", help="skip the season variant")
    p.add_argument(
        "--only",
        help=f"comma-separated parts to run, of {','.join(PARTS)} (default: all; smoke: "
        f"{','.join(SMOKE_PARTS)}); results are merged into an existing results.json",
    )
    p.add_argument(
        "--scale-seasons",
        help=f"comma-separated season counts of the scale curve (default "
        f"{','.join(map(str, SCALE_SEASONS))})",
    )
    a = p.parse_args(argv)
    only = SMOKE_PARTS if a.smoke else PARTS
    if a.only:
        only = tuple(x.strip() for x in a.only.split(",") if x.strip())
        unknown = sorted(set(only) - set(PARTS))
        if unknown or not only:
            p.error(f"--only: unknown part(s) {', '.join(unknown)}; pick from {', '.join(PARTS)}")
    seasons = SCALE_SEASONS
    if a.scale_seasons:
        try:
            seasons = tuple(int(x) for x in a.scale_seasons.split(","))
        except ValueError:
            seasons = tuple[int, ...]()
        if not seasons or min(seasons) < 1:
            p.error(
                f"--scale-seasons must be positive integers like 1,3,10, got {a.scale_seasons!r}"
            )
    start = a.start_date or (SMOKE_START if a.smoke else FULL_START)
    end = a.end_date or (SMOKE_END if a.smoke else FULL_END)
    if end < start:
        p.error(f"--end-date {end} is before --start-date {start}")
    if a.microbatch_range == "full":
        sub = None
    elif a.microbatch_range:
        try:
            s, e = (dt.date.fromisoformat(x) for x in a.microbatch_range.split(".."))
        except ValueError:
            p.error(f"--microbatch-range must be START..END or full, got {a.microbatch_range!r}")
        sub = (s, e)
    elif a.smoke:
        sub = (start, min(end, start + dt.timedelta(days=2)))
    else:
        sub = (dt.date(2022, 1, 1), dt.date(2022, 1, 31))
    if sub is not None and not (start <= sub[0] <= sub[1] <= end):
        p.error(f"--microbatch-range {sub[0]}..{sub[1]} must lie inside {start}..{end}")
    default_out = PROJECT_DIR / "target" / "bench" / ("smoke" if a.smoke else "")
    return Config(
        start=start,
        end=end,
        seed=a.seed,
        out=(a.out or default_out).resolve(),
        sample_days=a.sample_days if a.sample_days is not None else (1 if a.smoke else 20),
        off_days=a.off_days if a.off_days is not None else (0 if a.smoke else 3),
        repeat=a.repeat or (1 if a.smoke else 2),
        microbatch_sub=sub,
        microbatch_budget_s=0.0 if a.smoke else a.microbatch_budget,
        season_chunks=not (a.smoke or a.no_season_chunks),
        smoke=a.smoke,
        raw_dir_override=a.raw_dir.resolve() if a.raw_dir else None,
        only=only,
        scale_seasons=seasons,
    )


def run_core(cfg: Config, parts: dict[str, Any], raw_db: Path) -> dict[str, Any]:
    """The set-based backfill and what is measured on its built history."""
    parts["set_based"] = bench_set_based(cfg, raw_db)
    built = Path(parts["set_based"]["db"])
    parts["counts"] = counts(built, cfg)
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("floor", lambda: bench_floor(cfg, built)),
        ("per_day", lambda: bench_per_day(cfg, built)),
        ("microbatch", lambda: bench_microbatch(cfg, raw_db, built)),
    ]
    for name, step in steps:
        if name in cfg.only:
            parts[name] = step()
    # the refresh measures a mid-range game day: per_day's middle sample, else the middle of
    # the built game days (never a day without games: that is "nothing to build" in 0.3 s)
    games = [
        s for s in (parts.get("per_day") or {}).get("samples") or [] if s.get("kind") == "game_day"
    ]
    if games:
        refresh_day = dt.date.fromisoformat(games[len(games) // 2]["day"])
    else:
        game_days = sample_days(cfg, built)[0]
        refresh_day = game_days[len(game_days) // 2] if game_days else cfg.start
    record = parts["set_based"].get("unit_test_record")
    if "refresh" in cfg.only:
        parts["refresh"] = bench_refresh(cfg, built, refresh_day, Path(record) if record else None)
    return summarize(cfg, parts)


def run_bench(cfg: Config) -> dict[str, Any]:
    cfg.out.mkdir(parents=True, exist_ok=True)
    load_start = os.getloadavg()[0]
    log(f"{cfg.start}..{cfg.end} ({cfg.days} days) into {cfg.out}; parts {','.join(cfg.only)}; "
        f"load {load_start:.2f}")  # fmt: skip
    out_file = cfg.out / "results.json"
    parts: dict[str, Any] = {"machine": machine()}
    began = time.perf_counter()
    needs_raw = any(p in cfg.only for p in (*CORE_PARTS, "forced", "default", "late"))
    parts["data"] = prepare_data(cfg) if needs_raw else {}
    raw_db = Path(parts["data"]["raw_db"]) if needs_raw else Path()
    # the late part's T1/T2 first: raw data without corrections fail here, not after the rest
    scenario = None
    if "late" in cfg.only:
        arrivals = raw_arrivals(cfg.raw_dir)
        try:
            scenario = late_scenario(arrivals, cfg.start, cfg.end, require_all=not cfg.smoke)
        except BenchError as exc:
            raise BenchError(f"late part, raw data {cfg.raw_dir}: {exc}") from None
    if any(p in cfg.only for p in CORE_PARTS):
        results = run_core(cfg, parts, raw_db)
    else:  # only the scale/chunking parts: merged into the last full results
        results = json.loads(out_file.read_text()) if out_file.exists() else {}
        results["machine"] = parts["machine"]
    if "scale" in cfg.only:
        scale = bench_scale(cfg)
        results["scale"] = [
            {k: p[k] for k in ("seasons", "days", "rows", "seconds", "peak_rss_mb", "chunks")}
            for p in scale["points"]
        ]
        results["scale_seconds_per_season"] = scale["seconds_per_season"]
        results["scale_mb_per_season"] = scale["mb_per_season"]
        results.setdefault("details", {})["scale"] = scale
        if not cfg.smoke and set(cfg.scale_seasons) == set(SCALE_SEASONS):
            plot_scale(scale, SCALE_PNG)
        plot_scale(scale, cfg.out / SCALE_PNG.name)
    if "forced" in cfg.only:
        forced = bench_forced(cfg, raw_db)
        results["forced_month_chunks_s"] = forced["forced_month_chunks_s"]
        results["forced_month_over_one_chunk"] = forced["month_over_one_chunk"]
        results.setdefault("details", {})["forced"] = forced
    if "default" in cfg.only:
        default = bench_default_command(cfg, raw_db)
        results["default_command_s"] = default["default_command_s"]
        results.setdefault("details", {})["default_command"] = default
    if "late" in cfg.only:
        record = (results.get("details") or {}).get("set_based", {}).get("unit_test_record")
        assert scenario is not None
        late = bench_late(cfg, scenario, Path(record) if record else None)
        results.update(late_summary(late))
        results.setdefault("details", {})["late"] = late
        results["targets"] = evaluate(results)
    results["load_1min_start"] = load_start
    results["load_1min_end"] = os.getloadavg()[0]
    results["bench_wall_s"] = round(time.perf_counter() - began, 1)
    results["parts_run"] = list(cfg.only)
    results["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    out_file.write_text(json.dumps(results, indent=2, default=str) + "\n")
    if "set_based_s" in results:
        (cfg.out / "results.md").write_text(markdown(results))
    log(f"wrote {out_file}")
    return results


def main(argv: list[str] | None = None) -> int:
    cfg = parse_args(argv)
    try:
        results = run_bench(cfg)
    except BenchError as exc:
        sys.stderr.write(f"bench failed: {exc}\n")
        return 1
    if "set_based_s" in results:
        print_table(results)
    for line in scale_lines(results) + late_lines(results):
        print(f"- {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
