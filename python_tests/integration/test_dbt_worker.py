"""The dbt worker (driver.dbt.worker) with real dbt on a two-model DuckDB project: the
manifest parsed once serves several calls, and each call starts from the parsed state.
dbt marks what it compiles in the manifest it is given (ephemeral CTEs as injected); a
second call on the same object then compiled a test on an ephemeral model without its
CTE (BigQuery, where staging is ephemeral: "Not found: Table __dbt__cte__...")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT = {
    "dbt_project.yml": "name: tiny\nversion: '1.0'\nprofile: tiny\n",
    "profiles.yml": (
        "tiny:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        "      path: \"{{ env_var('TINY_DB') }}\"\n      threads: 1\n"
    ),
    "models/eph.sql": "{{ config(materialized='ephemeral') }}\nselect 1 as id",
    "models/m.sql": "{{ config(materialized='table') }}\nselect * from {{ ref('eph') }}",
    "tests/eph_id_not_null.sql": "select * from {{ ref('eph') }} where id is null",
}


def test_two_builds_in_one_worker_both_inline_the_ephemeral_model(tmp_path: Path) -> None:
    project = tmp_path / "tiny"
    for name, text in PROJECT.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    common = ["--project-dir", str(project), "--profiles-dir", str(project)]
    requests = []
    for call in (1, 2):
        paths = ["--target-path", str(tmp_path / f"t{call}"), "--log-path", str(tmp_path / "l")]
        requests.append(
            {
                "args": ["build", *common, *paths],
                "parse_args": ["parse", *common, *paths],
                "parse_key": "same",
                "output": str(tmp_path / f"out{call}.log"),
            }
        )
    read_fd, write_fd = os.pipe()
    env = {**os.environ, "TINY_DB": str(tmp_path / "tiny.duckdb"), "DO_NOT_TRACK": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "driver.dbt.worker", str(write_fd)],
        stdin=subprocess.PIPE,
        pass_fds=(write_fd,),
        env=env,
        text=True,
    )
    os.close(write_fd)
    assert proc.stdin is not None
    proc.stdin.write("".join(json.dumps(r) + "\n" for r in requests))
    proc.stdin.close()
    with os.fdopen(read_fd) as reply:
        codes = [json.loads(line)["returncode"] for line in reply]
    assert proc.wait(timeout=120) == 0
    outputs = [Path(r["output"]).read_text() for r in requests]
    assert codes == [0, 0], outputs[1][-2000:]
    compiled = tmp_path / "t2" / "compiled" / "tiny" / "tests" / "eph_id_not_null.sql"
    assert "__dbt__cte__eph" in compiled.read_text()
