"""`python scripts/sqlfluff_lint.py <sqlfluff arguments>`: sqlfluff's own CLI, with Jinja's
compilation of a template source done once per source (`make lint-sql-bigquery`).

sqlfluff's jinja templater loads our macros (`load_macros_from_path = macros`) for every file
it lints, twice per file, and each time Jinja compiles every macro file again: about 2,200
compilations of two dozen sources, half of that lint pass's CPU (26 CPU-s). Jinja's compiled
code depends only on the source, its name and file name and the environment's syntax settings
(Jinja's own bytecode cache relies on this for templates from a loader), so it is kept per
that key and reused by every environment with the same settings. What sqlfluff renders, lints
and reports does not change; a source that fails to compile raises each time, as before.
"""

from __future__ import annotations

import sys
from types import CodeType
from typing import Any

import jinja2


def _settings(env: jinja2.Environment) -> tuple[Any, ...]:
    """What Jinja's code generation reads from the environment."""
    return (
        type(env),
        env.block_start_string,
        env.block_end_string,
        env.variable_start_string,
        env.variable_end_string,
        env.comment_start_string,
        env.comment_end_string,
        env.line_statement_prefix,
        env.line_comment_prefix,
        env.trim_blocks,
        env.lstrip_blocks,
        env.newline_sequence,
        env.keep_trailing_newline,
        tuple(sorted(env.extensions)),
        env.optimized,
        env.finalize is None,
        repr(env.autoescape),
        env.is_async,
        env.code_generator_class,
    )


def keep_compilations() -> None:
    """Compile each (source, name, filename, settings) once: Environment.compile, memoized."""
    jinja_compile = jinja2.Environment.compile
    kept: dict[tuple[Any, ...], str | CodeType] = {}

    def compile(  # noqa: A001 - the method's own name
        self: jinja2.Environment,
        source: Any,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> str | CodeType:
        if not isinstance(source, str):  # an already parsed template: compiled, not kept
            code: str | CodeType = jinja_compile(self, source, name, filename, raw, defer_init)
            return code
        key = (source, name, filename, raw, defer_init, _settings(self))
        if key not in kept:
            kept[key] = jinja_compile(self, source, name, filename, raw, defer_init)
        return kept[key]

    jinja2.Environment.compile = compile


if __name__ == "__main__":
    keep_compilations()
    from sqlfluff.cli.commands import cli

    sys.argv[0] = "sqlfluff"
    sys.exit(cli())
