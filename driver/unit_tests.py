"""Run the selection's dbt unit tests once per backfill, without window vars.

Unit tests check model logic on fixture rows, which do not depend on (and usually lie outside)
a chunk's window, so they are excluded from the chunk builds and run here once. They need the
relations of the models they test to exist (dbt reads their columns), so they run right
after the first chunk has built them; if they fail, no further chunk is launched.
"""

from __future__ import annotations

import threading
from pathlib import Path

from driver.dbt import run_dbt
from driver.dbt_output import error_text


def run_unit_tests(
    target: str, selection: list[str], run_dir: Path, cancel: threading.Event
) -> str | None:
    """None if the unit tests pass (or there are none), else dbt's error text."""
    result = run_dbt(
        ["test", "--select", *selection, "--resource-type", "unit_test"],
        target=target,
        run_dir=run_dir,
        cancel=cancel,
    )
    if result.ok:
        return None
    return "interrupted" if result.cancelled else error_text(result)
