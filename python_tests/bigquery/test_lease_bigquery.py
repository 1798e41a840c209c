"""The BigQuery lease on the emulator: one holder per key; a second is refused naming the
first; a lease that is not renewed lapses and is taken over; release frees it."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from driver.backfill.lease import LeaseHeld, bigquery_lease


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    if not os.environ.get("BQEMU_ENDPOINT"):
        pytest.skip("needs the BigQuery emulator: run `make test-bigquery`")
    from driver.warehouse.bigquery import LEASE_DATASET, client_for_target

    bq = client_for_target("bq_local")
    bq.delete_dataset(f"{bq.project}.{LEASE_DATASET}", delete_contents=True, not_found_ok=True)
    yield bq
    bq.delete_dataset(f"{bq.project}.{LEASE_DATASET}", delete_contents=True, not_found_ok=True)


def test_one_holder_then_release(client: Any) -> None:
    with bigquery_lease("bq_local", "run-a") as key:
        with pytest.raises(LeaseHeld, match="run run-a"), bigquery_lease("bq_local", "run-b"):
            pass
        assert key.endswith(".nba_analytics")
    with bigquery_lease("bq_local", "run-b"):
        pass


def test_a_lease_not_renewed_lapses_and_is_taken_over(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from driver.warehouse.bigquery import BigQueryLease

    dead = BigQueryLease(client, f"{client.project}.nba_analytics", "dead-run", "gone", 2)
    dead.ensure_table()
    assert dead.try_acquire()[0]
    with pytest.raises(LeaseHeld, match="dead-run"), bigquery_lease("bq_local", "run-c"):
        pass
    time.sleep(3)
    with bigquery_lease("bq_local", "run-c"):
        pass
    assert "took over the expired lease of run dead-run" in capsys.readouterr().out
