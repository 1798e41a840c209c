"""The contract's column types (contract/*.yml) and what each one is in every engine: the one
map the loader, the BigQuery schema and the synthetic data generator share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

from driver.errors import UsageError


@dataclass(frozen=True)
class ContractType:
    name: str  # as written in the contract
    duckdb: str  # DuckDB column type
    bigquery: str  # BigQuery column type
    arrow: pa.DataType  # what a Parquet file written for the contract holds
    accepts: Callable[[pa.DataType], bool]  # Arrow types that load losslessly as this type


def _is_string(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def _is_instant(t: pa.DataType) -> bool:
    # a TIMESTAMP is an instant: naive timestamps would load as DATETIME in BigQuery
    return bool(pa.types.is_timestamp(t) and t.tz is not None)


TYPES: dict[str, ContractType] = {
    t.name: t
    for t in (
        ContractType("STRING", "VARCHAR", "STRING", pa.string(), _is_string),
        ContractType("INT64", "BIGINT", "INT64", pa.int64(), pa.types.is_signed_integer),
        ContractType("FLOAT64", "DOUBLE", "FLOAT64", pa.float64(), pa.types.is_floating),
        ContractType("BOOL", "BOOLEAN", "BOOL", pa.bool_(), pa.types.is_boolean),
        ContractType("DATE", "DATE", "DATE", pa.date32(), pa.types.is_date),
        ContractType(
            "TIMESTAMP", "TIMESTAMPTZ", "TIMESTAMP", pa.timestamp("us", tz="UTC"), _is_instant
        ),
    )
}
ARROW_TYPES: dict[str, pa.DataType] = {name: t.arrow for name, t in TYPES.items()}


def contract_type(name: str, *, column: str = "?") -> ContractType:
    """The ContractType called `name`; UsageError naming the column if there is none."""
    found = TYPES.get(str(name).upper())
    if found is None:
        raise UsageError(
            f"column {column!r} has type {name!r}, not a contract type ({', '.join(TYPES)})"
        )
    return found
