"""The JSON report of one backfill run: target/backfill/run_<timestamp>.json (next to the state)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from driver.state import BackfillState


def write_report(path: Path, *, state: BackfillState, run: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"run": run, "state": state.to_dict()}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")
    os.replace(tmp, path)
    return path
