"""dbt's context for sqlfluff's jinja templater, rendering models as BigQuery SQL (no dbt).

`.sqlfluff-bigquery` points `library_path` here: every public name below is put in the jinja
context next to sqlfluff's own dbt builtins (ref, source, config, is_incremental, ...), so our
macros render as they would on BigQuery: `adapter.dispatch` picks the `bigquery__` variant,
`dbt.*` are BigQuery's cross-database macros, `var` reads dbt_project.yml's vars, and the
window vars come from the [sqlfluff:templater:jinja:context] section (start_date, end_date).
"""

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2
import yaml

_PROJECT_DIR = Path(__file__).resolve().parents[2]


def _macros_return_like_dbt() -> None:
    """Every macro call catches `return(...)`, as in dbt.

    sqlfluff catches it only around the macros it exports, and Jinja exports no macro whose name
    starts with `_`: a `_helper` using `return` would end its caller instead.
    """
    from sqlfluff.core.templaters.builtins.dbt import MacroReturn

    original = jinja2.runtime.Macro.__call__
    if getattr(original, "_catches_return", False):
        return

    def call(self: jinja2.runtime.Macro, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(self, *args, **kwargs)
        except MacroReturn as exc:
            return exc.value

    call._catches_return = True  # type: ignore[attr-defined]
    jinja2.runtime.Macro.__call__ = call  # type: ignore[method-assign]


_macros_return_like_dbt()


def _project_vars() -> dict[str, Any]:
    with open(_PROJECT_DIR / "dbt_project.yml") as fh:
        return dict((yaml.safe_load(fh) or {}).get("vars") or {})


@jinja2.pass_context
def var(ctx: jinja2.runtime.Context, name: str, default: Any = None) -> Any:
    """dbt's var(): the lint context's value, else dbt_project.yml's, else the default."""
    value = ctx.get(name)
    if value is not None and not callable(value):
        return value
    project = _project_vars()
    if name in project:
        return project[name]
    return default


def env_var(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise jinja2.exceptions.UndefinedError(f"env var {name} is not set")
    return value


class _Adapter:
    """adapter.dispatch(name, namespace): the bigquery__ macro, else default__, else name."""

    unsafe_callable = False
    alters_data = False

    def dispatch(self, name: str, macro_namespace: str | None = None) -> Any:
        @jinja2.pass_context
        def call(ctx: jinja2.runtime.Context, *args: Any, **kwargs: Any) -> Any:
            for candidate in (f"bigquery__{name}", f"default__{name}"):
                macro = ctx.get(candidate)
                if macro is not None:
                    return macro(*args, **kwargs)
            raise jinja2.exceptions.UndefinedError(f"no bigquery__ or default__ macro {name}")

        return call


adapter = _Adapter()


def _raise_compiler_error(message: str) -> None:
    raise jinja2.exceptions.TemplateRuntimeError(message)


exceptions = SimpleNamespace(
    raise_compiler_error=_raise_compiler_error,
    warn=lambda message: "",
)
modules = SimpleNamespace(datetime=datetime, re=re)
target = SimpleNamespace(
    type="bigquery",
    name="prod",
    database="lint-project",
    project="lint-project",
    schema="nba_analytics",
    dataset="nba_analytics",
    threads=1,
)
execute = False


def run_query(sql: str) -> None:
    return None


def tojson(value: Any) -> str:
    import json

    return json.dumps(value, default=str)


# dbt's cross-database macros as dbt-bigquery renders them.
def _split_part(string_text: str, delimiter_text: str, part_number: int) -> str:
    if int(part_number) >= 0:
        return f"split({string_text}, {delimiter_text})[safe_offset({int(part_number) - 1})]"
    return (
        f"split({string_text}, {delimiter_text})"
        f"[safe_ordinal(array_length(split({string_text}, {delimiter_text})) + 1 + {part_number})]"
    )


dbt = SimpleNamespace(
    type_string=lambda: "string",
    type_bigint=lambda: "int64",
    type_int=lambda: "int64",
    type_float=lambda: "float64",
    type_numeric=lambda: "numeric",
    type_timestamp=lambda: "timestamp",
    type_boolean=lambda: "bool",
    safe_cast=lambda field, type_: f"safe_cast({field} as {type_})",
    cast=lambda field, type_: f"cast({field} as {type_})",
    split_part=_split_part,
    concat=lambda fields: f"concat({', '.join(fields)})",
    current_timestamp=lambda: "current_timestamp()",
    datediff=lambda first, second, part: (
        f"datetime_diff(cast({second} as datetime), cast({first} as datetime), {part})"
    ),
    dateadd=lambda part, interval, expr: f"date_add({expr}, interval {interval} {part})",
    date_trunc=lambda part, expr: f"timestamp_trunc(cast({expr} as timestamp), {part})",
    replace=lambda field, old, new: f"replace({field}, {old}, {new})",
    length=lambda expr: f"length({expr})",
    hash=lambda field: f"to_hex(md5(cast({field} as string)))",
    bool_or=lambda expr: f"logical_or({expr})",
    any_value=lambda expr: f"any_value({expr})",
    string_literal=lambda value: f"'{value}'",
    escape_single_quotes=lambda expr: expr.replace("'", "\\'"),
)
