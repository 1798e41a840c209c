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


if __name__ == "__main__":
    _apply()
    from bqemulator.cli import main

    sys.argv[0] = "bqemulator"
    sys.exit(main())
