"""BigQuery access for the driver: clients per target, raw-table loads, dry-run cost estimates.

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


def load_parquet_tables(
    client: bigquery.Client,
    dataset: str,
    files: Mapping[str, Path],
    contract: Mapping[str, Any],
) -> dict[str, int]:
    """Load Parquet files into `dataset`, replacing each table's rows; return rows per table.

    `files` maps a contract table name to a Parquet file holding exactly the contract's
    columns. `contract` is driver.project.load_contract('raw_tables'). Each table is created
    first with the contract's schema and DAY partitioning on its partition column (a load job
    into a missing table does not create it on the emulator), then loaded with WRITE_TRUNCATE.
    """
    tables = contract.get("tables") or {}
    unknown = sorted(set(files) - set(tables))
    if unknown:
        raise UsageError(f"not in the raw-table contract: {', '.join(unknown)}")
    dataset_ref = bigquery.DatasetReference(client.project, dataset)
    ds = bigquery.Dataset(dataset_ref)
    if client.location:
        ds.location = client.location
    client.create_dataset(ds, exists_ok=True)

    loaded: dict[str, int] = {}
    for name, path in files.items():
        spec = tables[name]
        schema = contract_schema(spec["columns"])
        partition = spec.get("partition")
        partitioning = (
            bigquery.TimePartitioning(type_=bigquery.TimePartitioningType.DAY, field=partition)
            if partition
            else None
        )
        table = bigquery.Table(dataset_ref.table(name), schema=schema)
        table.time_partitioning = partitioning
        client.create_table(table, exists_ok=True)

        job_config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            schema=schema,
            time_partitioning=partitioning,
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
        )
        with open(path, "rb") as fh:
            job = client.load_table_from_file(fh, table.reference, job_config=job_config)
        job.result()
        loaded[name] = int(job.output_rows or 0)
    return loaded


def dry_run_bytes(client: bigquery.Client, sql: str) -> int:
    """Bytes a query would process, from a dry-run job (nothing runs, nothing is billed).

    The emulator answers dry runs but always reports 0 bytes.
    """
    job_config = bigquery.QueryJobConfig(dry_run=True, use_query_cache=False)
    job = client.query(sql, job_config=job_config)
    return int(job.total_bytes_processed or 0)
