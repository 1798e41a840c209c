"""The JSON report of one backfill run: run_<timestamp>.json next to the state file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from driver.backfill.state import BackfillState
from driver.files import atomic_write_text


def write_report(path: Path, *, state: BackfillState, run: dict[str, Any]) -> Path:
    payload = {"run": run, "state": state.to_dict()}
    return atomic_write_text(
        Path(path), json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n"
    )
