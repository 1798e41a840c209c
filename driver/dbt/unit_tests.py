"""Remember that the dbt unit tests passed, so a backfill runs them only after a change.

Unit tests check model logic on fixture rows: their outcome depends on the project's files,
the dbt versions, the target and the selection, never on the window or the data. A backfill
runs them in its first chunk's build and, when they pass, records the fingerprint of all that
(driver.project.project_fingerprint) next to its state file; a later backfill with the same
fingerprint (a daily refresh of an unchanged project, say) leaves them out. `make test` and
`dbt build` run them as usual; --skip-unit-tests never runs them, --unit-tests always does.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from driver.files import atomic_write_text
from driver.project import project_fingerprint

RECORD_FILE = "unit_tests_passed.json"
_KEEP = 20  # fingerprints remembered (targets, selections, project versions)


class UnitTestRecord:
    def __init__(self, directory: Path, target: str, selection: list[str]) -> None:
        self.path = Path(directory) / RECORD_FILE
        self.key = project_fingerprint("unit-tests", target, *selection)

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, json.JSONDecodeError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def passed(self) -> bool:
        """True if the unit tests passed before for this exact project, target and selection."""
        return self.key in self._read()

    def record(self) -> None:
        """Remember that they passed now (atomic: a crash leaves the old record)."""
        data = self._read()
        data.pop(self.key, None)
        data[self.key] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        kept = dict(list(data.items())[-_KEEP:])
        atomic_write_text(self.path, json.dumps(kept, indent=1) + "\n")
