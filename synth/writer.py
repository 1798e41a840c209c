"""Writing a table: contract types, atomic Parquet files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ARROW_TYPES = {
    "STRING": pa.string(),
    "INT64": pa.int64(),
    "FLOAT64": pa.float64(),
    "BOOL": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us", tz="UTC"),
}


def write_atomic(schema: pa.Schema, batches: Iterator[pa.Table], path: Path) -> int:
    """Write batches to a temporary file, then rename: a crash never leaves a half file."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    rows = 0
    try:
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for batch in batches:
                table = batch.select(schema.names).cast(schema)
                writer.write_table(table, row_group_size=256_000)
                rows += table.num_rows
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return rows
