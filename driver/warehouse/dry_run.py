"""What a BigQuery backfill would process, without running it: bytes per chunk.

For the estimate each chunk's selection is compiled (`dbt compile` with the chunk's window
into a temporary target path) and every compiled table/incremental model is dry-run with
google-cloud-bigquery (driver.warehouse.bigquery, imported only here). The window reaches dbt
in the environment, so one parse serves every chunk: the first chunk is compiled alone
(starting from the run's kept parse when there is one, `parse_cache`), the others then in
parallel from its parse, with the same worker count as the real run. Nothing is written
outside the temporary directory (the kept parse is read, never updated).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from driver.dbt.invoke import other_vars, run_dbt
from driver.dbt.results import compiled_tables, error_text


class Window(Protocol):
    """A chunk's window (driver.backfill.state.ChunkState is one)."""

    @property
    def start(self) -> str: ...
    @property
    def end(self) -> str: ...
    @property
    def label(self) -> str: ...


@dataclass
class Estimate:
    label: str
    bytes: int | None = None
    error: str | None = None


def estimate_bytes(
    target: str,
    selection: Sequence[str],
    windows: Sequence[Window],
    workers: int,
    dbt_command: Sequence[str],
    extra_vars: Mapping[str, object] | None = None,
    parse_cache: Path | None = None,
) -> list[Estimate]:
    """One Estimate per window, in order; a failure is reported per window. `parse_cache`:
    the directory of the run's kept dbt parse (driver.dbt.invoke.seed_parse), read only."""
    from driver.warehouse import bigquery  # lazy: google-cloud-bigquery is only needed here

    client = bigquery.client_for_target(target)
    cancel = threading.Event()

    with tempfile.TemporaryDirectory(prefix="nba-dry-run-") as tmp:
        cache = Path(tmp) / "dbt_parse"  # the chunks' shared parse, a copy of the kept one
        if parse_cache is not None and parse_cache.is_dir():
            shutil.copytree(parse_cache, cache)

        def one(window: Window) -> Estimate:
            run_dir = Path(tmp) / f"chunk_{window.start}_{window.end}"
            result = run_dbt(
                ["compile", "--select", *selection],
                target=target,
                run_dir=run_dir,
                vars_json=other_vars(extra_vars),
                window=(window.start, window.end),
                parse_cache=cache,
                cancel=cancel,
                dbt_command=dbt_command,
            )
            if not result.ok:
                return Estimate(window.label, error=error_text(result))
            try:
                sqls = compiled_tables(run_dir)
                total = sum(bigquery.dry_run_bytes(client, s) for s in sqls)
                return Estimate(window.label, bytes=total)
            except Exception as exc:  # report it per chunk, keep estimating the others
                return Estimate(window.label, error=f"{type(exc).__name__}: {exc}")

        if not windows:
            return []
        first = one(windows[0])  # parses (or starts from the kept parse) and keeps its parse
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            return [first, *pool.map(one, windows[1:])]
