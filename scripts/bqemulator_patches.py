"""Fixes for known bugs of bqemulator 1.4.0, applied in the emulator's process only.

scripts/bqemulator.sh starts the emulator as
`.venv-bqemu/bin/python scripts/bqemulator_patches.py start ...`: the fixes are applied, then
bqemulator's own CLI runs. Each fix is for a bug of the emulator, never a change of what
BigQuery accepts; docs/bigquery_emulator.md lists them. Written for the pinned version only:
with another version nothing is patched.

1. CREATE TABLE x (column list) AS ( SELECT ... ): the emulator rewrites BigQuery's combined
   schema-plus-CTAS form into a DuckDB CTAS with casts, but only when the body is a bare
   SELECT. dbt-bigquery wraps the body in parentheses (a model with an enforced contract), so
   the rewrite was skipped and DuckDB failed with `Parser Error: syntax error at or near "AS"`.
   The fix lets the rewriter look through the parentheses.
2. Query parameters: for every parameter of a query DuckDB's Python client tries
   `import pandas` (to recognise pandas values). pandas is not installed in the emulator's venv,
   a failed import is not cached, so each try searches sys.path again: an insert of 500
   parameters took 0.31 s instead of 0.03 s (the emulator's own writes, e.g. load jobs and its
   table snapshots, bind many parameters; a third of its CPU in the kill -9 test). The
   fix records pandas as absent (`sys.modules["pandas"] = None`), so the import fails at once,
   as it did before, without the search. Not a change of behaviour: pandas could not be
   imported either way.
"""

from __future__ import annotations

import sys
from importlib.metadata import version

PATCHED_VERSION = "1.4.0"


def _apply() -> None:
    if version("bqemulator") != PATCHED_VERSION:
        sys.stderr.write(f"bqemulator_patches: not bqemulator {PATCHED_VERSION}, nothing patched\n")
        return
    from bqemulator.sql.rewriter import create_table_schema_ctas as ctas
    from sqlglot import exp

    original = ctas._first_select

    def first_select(body):  # type: ignore[no-untyped-def]
        while isinstance(body, exp.Subquery | exp.Paren):
            body = body.this
        return original(body)

    ctas._first_select = first_select

    try:  # 2: installed after all (another venv): nothing to fix
        __import__("pandas")
    except ImportError:
        sys.modules["pandas"] = None  # type: ignore[assignment]


if __name__ == "__main__":
    _apply()
    from bqemulator.cli import main

    sys.argv[0] = "bqemulator"
    sys.exit(main())
