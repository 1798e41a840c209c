"""BigQuery access for the driver: clients per target, the raw tables a load writes (RawTables),
dry-run cost estimates.

Targets (the same names as in profiles.example.yml):
- bq_local: the local emulator (scripts/bqemulator.sh run -- ... exports BQEMU_ENDPOINT and
  BQEMU_PROJECT); anonymous credentials, nothing leaves the machine.
- prod: BigQuery. Credentials from NBA_BQ_KEYFILE (a service-account key file) or else the
  application default credentials (`gcloud auth application-default login`, or the attached
  service account); project NBA_BQ_PROJECT (else the credentials' project), location
  NBA_BQ_LOCATION (default US).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from google.api_core.client_options import ClientOptions
from google.api_core.exceptions import NotFound
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from driver.errors import UsageError
from driver.warehouse.contract import contract_type


def client_for_target(target: str) -> bigquery.Client:
    """A BigQuery client for a BigQuery target of profiles.example.yml (bq_local or prod)."""
    if target == "bq_local":
        endpoint = os.environ.get("BQEMU_ENDPOINT")
        if not endpoint:
            raise UsageError(
                "target bq_local needs BQEMU_ENDPOINT (the emulator's REST URL): run the command "
                "under `bash scripts/bqemulator.sh run -- <command>`, which starts the emulator "
                "and sets it"
            )
        return bigquery.Client(
            project=os.environ.get("BQEMU_PROJECT", "nba-local"),
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=endpoint),
            location=os.environ.get("BQEMU_LOCATION", "US"),
        )
    if target == "prod":
        return _prod_client()
    raise UsageError(f"target {target!r} is not a BigQuery target: use bq_local or prod")


def _prod_client() -> bigquery.Client:
    project = os.environ.get("NBA_BQ_PROJECT") or None
    location = os.environ.get("NBA_BQ_LOCATION", "US")
    keyfile = os.environ.get("NBA_BQ_KEYFILE")
    if keyfile:
        from google.oauth2 import service_account

        path = Path(keyfile).expanduser()
        if not path.is_file():
            raise UsageError(f"NBA_BQ_KEYFILE={keyfile!r} is not a file: point it at a key JSON")
        credentials = service_account.Credentials.from_service_account_file(
            str(path), scopes=["https://www.googleapis.com/auth/cloud-platform"]
        )
        return bigquery.Client(
            project=project or credentials.project_id, credentials=credentials, location=location
        )
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        credentials, default_project = google.auth.default(
            scopes=["https://www.googleapis.com/auth/cloud-platform"]
        )
    except DefaultCredentialsError as exc:
        raise UsageError(
            "no BigQuery credentials: set NBA_BQ_KEYFILE to a service-account key file or run "
            f"`gcloud auth application-default login` ({exc})"
        ) from None
    project = project or default_project
    if not project:
        raise UsageError("set NBA_BQ_PROJECT to the Google Cloud project that holds the data")
    return bigquery.Client(project=project, credentials=credentials, location=location)


def contract_schema(columns: Mapping[str, str]) -> list[bigquery.SchemaField]:
    """BigQuery schema from a contract's {column: TYPE} (all columns NULLABLE)."""
    return [
        bigquery.SchemaField(name, contract_type(type_name, column=name).bigquery, mode="NULLABLE")
        for name, type_name in columns.items()
    ]


class RawTables:
    """The raw tables of the contract's dataset as a load engine (driver.warehouse.load.Engine).

    Each file is loaded by a load job into a staging table `_load_<table>` of the dataset
    (dropped when the `with` block ends, also on failure); the load's statements then read it.
    Raw tables are created from the contract's schema with DAY partitioning on the partition
    column (a load job into a missing table does not create it on the emulator; the types and
    partitioning come from the contract, not from the file).
    """

    dialect = "bigquery"

    def __init__(self, client: bigquery.Client, contract: Mapping[str, Any]) -> None:
        self.client = client
        self.tables: Mapping[str, Any] = contract.get("tables") or {}
        self.dataset = bigquery.DatasetReference(client.project, contract["dataset"])
        self.stages: list[bigquery.TableReference] = []

    def __enter__(self) -> RawTables:
        ds = bigquery.Dataset(self.dataset)
        if self.client.location:
            ds.location = self.client.location
        self.client.create_dataset(ds, exists_ok=True)
        return self

    def __exit__(self, *exc: object) -> None:
        for ref in self.stages:
            self.client.delete_table(ref, not_found_ok=True)

    def _spec(self, table: str) -> Any:
        spec = self.tables.get(table)
        if spec is None:
            raise UsageError(f"not in the raw-table contract: {table}")
        return spec

    def _ref(self, table: str) -> bigquery.TableReference:
        return self.dataset.table(table)

    def relation(self, table: str) -> str:
        return f"`{self.client.project}.{self.dataset.dataset_id}.{table}`"

    def stage(self, table: str, path: Path) -> str:
        """Load the Parquet file (exactly the contract's columns) into `_load_<table>`."""
        schema = contract_schema(self._spec(table)["columns"])
        ref = self._ref(f"_load_{table}")
        self.client.create_table(bigquery.Table(ref, schema=schema), exists_ok=True)
        self.stages.append(ref)
        job_config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            schema=schema,
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
        )
        with open(path, "rb") as fh:
            self.client.load_table_from_file(fh, ref, job_config=job_config).result()
        return self.relation(ref.table_id)

    def row_count(self, table: str) -> int:
        try:
            self.client.get_table(self._ref(table))
        except NotFound:
            return 0
        # a query, never get_table().num_rows: the emulator does not update it after DML
        return self.scalar(f"select count(*) from {self.relation(table)}")

    def create(self, table: str, *, replace: bool) -> None:
        spec = self._spec(table)
        partition = spec.get("partition")
        created = bigquery.Table(self._ref(table), schema=contract_schema(spec["columns"]))
        if partition:
            created.time_partitioning = bigquery.TimePartitioning(
                type_=bigquery.TimePartitioningType.DAY, field=partition
            )
        if replace:
            self.client.delete_table(created.reference, not_found_ok=True)
        self.client.create_table(created, exists_ok=True)

    def scalar(self, sql: str) -> int:
        rows = list(self.client.query(sql).result())
        return int(rows[0][0]) if rows else 0

    def execute(self, sql: str) -> None:
        self.client.query(sql).result()


def dry_run_bytes(client: bigquery.Client, sql: str) -> int:
    """Bytes a query would process, from a dry-run job (nothing runs, nothing is billed).

    The emulator answers dry runs but always reports 0 bytes.
    """
    job_config = bigquery.QueryJobConfig(dry_run=True, use_query_cache=False)
    job = client.query(sql, job_config=job_config)
    return int(job.total_bytes_processed or 0)


LEASE_DATASET = "nba_monitoring"
LEASE_TABLE = "build_leases"
LEASE_COLUMNS = {  # one row per leased key; expires_at lapses unless the holder renews it
    "target": "STRING",
    "holder": "STRING",
    "run_id": "STRING",
    "acquired_at": "TIMESTAMP",
    "expires_at": "TIMESTAMP",
}


class BigQueryLease:
    """One writer per key (a dataset the backfill writes) through a row of
    nba_monitoring.build_leases, taken with one conditional MERGE (a row that is missing or
    expired becomes ours; BigQuery runs DML on one table one statement at a time), renewed by
    `renew` before it expires, deleted by `release`. A holder that dies stops renewing: its
    lease lapses after `ttl_seconds`, or is taken over at once (`take_over`) by a run that
    can tell the holder is gone (driver.backfill.lease: the same host, its process ended)."""

    def __init__(
        self, client: bigquery.Client, key: str, run_id: str, holder: str, ttl_seconds: int
    ) -> None:
        self.client, self.key, self.run_id, self.holder = client, key, run_id, holder
        self.ttl_seconds = ttl_seconds
        self.table = f"`{client.project}.{LEASE_DATASET}.{LEASE_TABLE}`"

    def _query(self, sql: str, **params: Any) -> list[Any]:
        types = {str: "STRING", int: "INT64"}
        config = bigquery.QueryJobConfig(
            query_parameters=[
                bigquery.ScalarQueryParameter(name, types[type(value)], value)
                for name, value in params.items()
            ]
        )
        return list(self.client.query(sql, job_config=config).result())

    def ensure_table(self) -> None:
        dataset = bigquery.Dataset(bigquery.DatasetReference(self.client.project, LEASE_DATASET))
        if self.client.location:
            dataset.location = self.client.location
        self.client.create_dataset(dataset, exists_ok=True)
        table = bigquery.Table(dataset.table(LEASE_TABLE), schema=contract_schema(LEASE_COLUMNS))
        self.client.create_table(table, exists_ok=True)

    def current(self) -> dict[str, Any] | None:
        """The key's lease row (expired or not), or None."""
        rows = self._query(
            f"select holder, run_id, acquired_at, expires_at, "
            f"expires_at < current_timestamp() as expired from {self.table} where target = @key",
            key=self.key,
        )
        return dict(rows[0].items()) if rows else None

    def try_acquire(self) -> tuple[bool, dict[str, Any] | None]:
        """(taken, the lease row before): taken when the row was missing, expired or ours."""
        before = self.current()
        self._query(
            f"merge {self.table} l using (select @key as target) s on l.target = s.target "
            "when matched and (l.expires_at < current_timestamp() or l.run_id = @run_id) then "
            "update set holder = @holder, run_id = @run_id, acquired_at = current_timestamp(), "
            "expires_at = timestamp_add(current_timestamp(), interval @ttl second) "
            "when not matched then insert (target, holder, run_id, acquired_at, expires_at) "
            "values (@key, @holder, @run_id, current_timestamp(), "
            "timestamp_add(current_timestamp(), interval @ttl second))",
            key=self.key, holder=self.holder, run_id=self.run_id, ttl=self.ttl_seconds,
        )  # fmt: skip
        now = self.current()
        return (now is not None and now["run_id"] == self.run_id), before

    def take_over(self, dead_run_id: str) -> bool:
        """Take the lease of run `dead_run_id`, whose holder is known to be gone (not expired
        yet); False if that run no longer holds it (another run took it first)."""
        self._query(
            f"update {self.table} set holder = @holder, run_id = @run_id, "
            "acquired_at = current_timestamp(), "
            "expires_at = timestamp_add(current_timestamp(), interval @ttl second) "
            "where target = @key and run_id = @dead",
            key=self.key, holder=self.holder, run_id=self.run_id, ttl=self.ttl_seconds,
            dead=dead_run_id,
        )  # fmt: skip
        now = self.current()
        return now is not None and now["run_id"] == self.run_id

    def renew(self) -> bool:
        """Push the expiry out by ttl_seconds; False if the lease is no longer ours."""
        self._query(
            f"update {self.table} set expires_at = timestamp_add(current_timestamp(), "
            "interval @ttl second) where target = @key and run_id = @run_id",
            key=self.key, run_id=self.run_id, ttl=self.ttl_seconds,
        )  # fmt: skip
        now = self.current()
        return now is not None and now["run_id"] == self.run_id

    def release(self) -> None:
        self._query(
            f"delete from {self.table} where target = @key and run_id = @run_id",
            key=self.key, run_id=self.run_id,
        )  # fmt: skip
