"""What a backfill would do, without doing it: the plan and, on BigQuery, bytes per chunk.

For the estimate each chunk's selection is compiled (`dbt compile` with the chunk's window
into a temporary target path) and every compiled table/incremental model is dry-run with
google-cloud-bigquery (driver.bq, imported only here). Chunks are estimated in parallel with
the same worker count as the real run. Nothing is written outside the temporary directory.
"""

from __future__ import annotations

import json
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from driver.dbt import run_dbt, window_vars
from driver.dbt_output import error_text
from driver.state import ChunkState

MATERIALIZED = ("table", "incremental")


@dataclass
class Estimate:
    label: str
    bytes: int | None = None
    error: str | None = None


def _compiled_sql(target_path: Path) -> list[str]:
    manifest = json.loads((target_path / "manifest.json").read_text())
    out = []
    for node in manifest.get("nodes", {}).values():
        materialized = (node.get("config") or {}).get("materialized")
        is_table = node.get("resource_type") == "model" and materialized in MATERIALIZED
        if is_table and node.get("compiled_code"):
            out.append(node["compiled_code"])
    return out


def estimate_bytes(
    target: str, selection: list[str], chunks: list[ChunkState], workers: int
) -> list[Estimate]:
    from driver import bq  # lazy: google-cloud-bigquery is only needed here

    client = bq.client_for_target(target)
    cancel = threading.Event()

    with tempfile.TemporaryDirectory(prefix="nba-dry-run-") as tmp:

        def one(chunk: ChunkState) -> Estimate:
            run_dir = Path(tmp) / f"chunk_{chunk.start}_{chunk.end}"
            result = run_dbt(
                ["compile", "--select", *selection],
                target=target,
                run_dir=run_dir,
                vars_json=window_vars(chunk.start, chunk.end),
                cancel=cancel,
            )
            if not result.ok:
                return Estimate(chunk.label, error=error_text(result))
            try:
                sqls = _compiled_sql(run_dir / "target")
                return Estimate(chunk.label, bytes=sum(bq.dry_run_bytes(client, s) for s in sqls))
            except Exception as exc:  # report it per chunk, keep estimating the others
                return Estimate(chunk.label, error=f"{type(exc).__name__}: {exc}")

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            return list(pool.map(one, chunks))
