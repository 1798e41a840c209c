"""`python -m driver.dbt_shared_parse <dbt args>`: dbt, reusing a parse made with other --vars.

dbt 1.11 throws a saved partial parse away whenever --vars differ (the vars hash is part of
its state check), so copying partial_parse.msgpack into a chunk saves nothing by itself. This
entry point accepts the saved parse despite the new vars and marks the files listed in
NBA_DBT_REPARSE_FILES (dbt file ids, `package://path`) as changed, so dbt re-parses exactly
those with the chunk's vars and reuses everything else. Which files depend on the window is
measured by driver.parse_once (two parses with different windows, compared); if a listed
file is not in the saved parse, the vars hash is left alone and dbt parses in full.
Runs in its own process: the patch never touches the driver.
"""

from __future__ import annotations

import os
import sys

REPARSE_ENV = "NBA_DBT_REPARSE_FILES"


def main() -> None:
    from dbt.cli.main import cli
    from dbt.contracts.files import FileHash
    from dbt.parser.manifest import ManifestLoader

    reparse = [f for f in os.environ.get(REPARSE_ENV, "").split(",") if f]
    original = ManifestLoader.is_partial_parsable

    def is_partial_parsable(self, saved):  # type: ignore[no-untyped-def]
        if all(file_id in saved.files for file_id in reparse):
            saved.state_check.vars_hash = self.manifest.state_check.vars_hash
            for file_id in reparse:
                saved.files[file_id].checksum = FileHash.from_contents("reparse: new window vars")
        return original(self, saved)

    ManifestLoader.is_partial_parsable = is_partial_parsable  # type: ignore[method-assign]
    sys.exit(cli())


if __name__ == "__main__":
    main()
