"""Writing the tables: contract types, one Parquet file per table, written season by season.

Every table's file stays open while the seasons are generated (each season appends its
row groups), under a temporary name; only when every season is written are the files
renamed into place, so a crash never leaves a half file or a mix of old and new tables.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

import pyarrow as pa
import pyarrow.parquet as pq

from driver.project import load_contract

ARROW_TYPES = {
    "STRING": pa.string(),
    "INT64": pa.int64(),
    "FLOAT64": pa.float64(),
    "BOOL": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us", tz="UTC"),
}
ROW_GROUP_SIZE = 256_000


def contract_schemas() -> dict[str, pa.Schema]:
    """The Arrow schema of every raw table of contract/raw_tables.yml, in contract order."""
    tables = load_contract("raw_tables")["tables"]
    return {
        name: pa.schema([(c, ARROW_TYPES[t]) for c, t in spec["columns"].items()])
        for name, spec in tables.items()
    }


class TableFiles:
    """`out/<table>.parquet` for every contract table, appended to, renamed in place on exit."""

    def __init__(self, out: Path, schemas: dict[str, pa.Schema]) -> None:
        self.out, self.schemas = out, schemas
        self.counts = dict.fromkeys(schemas, 0)
        self._tmp = {n: out / f".{n}.parquet.tmp-{os.getpid()}" for n in schemas}
        self._writers: dict[str, pq.ParquetWriter] = {}

    def __enter__(self) -> TableFiles:
        self.out.mkdir(parents=True, exist_ok=True)
        for name, schema in self.schemas.items():
            self._writers[name] = pq.ParquetWriter(self._tmp[name], schema, compression="zstd")
        return self

    def write(self, name: str, batches: Iterable[pa.Table]) -> None:
        """Append the batches (any column order, castable types) to table `name`."""
        schema = self.schemas[name]
        for batch in batches:
            table = batch.select(schema.names).cast(schema)
            self._writers[name].write_table(table, row_group_size=ROW_GROUP_SIZE)
            self.counts[name] += table.num_rows

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            for writer in self._writers.values():
                writer.close()
            if exc_type is None:
                for name, tmp in self._tmp.items():
                    os.replace(tmp, self.out / f"{name}.parquet")
        finally:
            for tmp in self._tmp.values():
                tmp.unlink(missing_ok=True)
