"""The window reaches dbt in the environment, so one parse serves every window.

dbt parses the whole project again whenever --vars change; the driver passes the window as
NBA_WINDOW_START / NBA_WINDOW_END, which macros/window.sql reads at run time only, and keeps
the partial-parse file between calls (driver.dbt.invoke.seed_parse / keep_parse). A daily
one-day build then skips the parse. Checked with real dbt on compiled SQL: the next window's
call reuses the parse and still compiles its own window; a --vars window (a user's dbt CLI)
wins over the environment; a var set to '' means no window (what the unit tests use).
"""

from __future__ import annotations

import json
from pathlib import Path

from driver.dbt.invoke import DbtResult, run_dbt, window_vars
from python_tests.conftest import copy_db, duckdb_env

MODEL = "stg_nba_raw__schedule"


def _compile(tmp: Path, name: str, db: Path, cache: Path, **call: object) -> tuple[DbtResult, str]:
    run_dir = tmp / name
    result = run_dbt(
        ["compile", "--select", MODEL],
        target="dev",
        run_dir=run_dir,
        parse_cache=cache,
        env=duckdb_env(db),
        **call,  # type: ignore[arg-type]
    )
    assert result.ok, result.output[-3000:]
    compiled = next((run_dir / "target" / "compiled").rglob(f"{MODEL}.sql")).read_text()
    return result, compiled


def test_the_next_window_reuses_the_parse_and_compiles_its_own_window(
    month_db: Path, tmp_path: Path
) -> None:
    db = copy_db(month_db, tmp_path / "nba.duckdb")
    cache = tmp_path / "dbt_parse"

    first, sql = _compile(tmp_path, "day1", db, cache, window=("2022-01-05", "2022-01-05"))
    assert "2022-01-05" in sql
    assert "saved manifest not found" in first.log_text()  # nothing cached yet: a full parse
    assert len(list(cache.glob("*.msgpack"))) == 1

    second, sql = _compile(tmp_path, "day2", db, cache, window=("2022-01-20", "2022-01-21"))
    assert "Nothing changed, skipping partial parsing" in second.log_text()
    assert "2022-01-20" in sql and "2022-01-21" in sql and "2022-01-05" not in sql

    # a user's --vars window wins over the environment (its own cache entry: other vars)
    _, sql = _compile(
        tmp_path,
        "vars",
        db,
        cache,
        window=("2022-01-20", "2022-01-21"),
        vars_json=window_vars("2022-01-09", "2022-01-10"),
    )
    assert "2022-01-09" in sql and "2022-01-20" not in sql

    # '' = no window even when the environment has one (the staging unit tests' inputs)
    _, sql = _compile(
        tmp_path,
        "none",
        db,
        cache,
        window=("2022-01-20", "2022-01-21"),
        vars_json=json.dumps({"start_date": "", "end_date": ""}),
    )
    assert "1 = 1" in sql and "2022-01-20" not in sql
