"""Parse the dbt project once per backfill and hand the parse to every chunk.

`dbt parse` runs once into <runs>/parse before any chunk: a project that does not parse
fails the backfill once, up front, instead of once per chunk. Each chunk's target path is
then seeded with that partial_parse.msgpack.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from driver.dbt import DbtResult, run_dbt

PARTIAL_PARSE_FILE = "partial_parse.msgpack"


class SharedParse:
    def __init__(self, parse_dir: Path) -> None:
        self.parse_dir = Path(parse_dir)

    @property
    def msgpack(self) -> Path:
        return self.parse_dir / "target" / PARTIAL_PARSE_FILE

    def run(self, target: str, vars_json: str, cancel: threading.Event) -> DbtResult:
        return run_dbt(
            ["parse"], target=target, run_dir=self.parse_dir, vars_json=vars_json, cancel=cancel
        )

    def seed(self, run_dir: Path) -> None:
        """Copy the shared partial parse into a chunk's target path (if there is one)."""
        if not self.msgpack.exists():
            return
        dest = Path(run_dir) / "target"
        dest.mkdir(parents=True, exist_ok=True)
        tmp = dest / (PARTIAL_PARSE_FILE + ".tmp")
        shutil.copyfile(self.msgpack, tmp)
        tmp.replace(dest / PARTIAL_PARSE_FILE)
