#!/usr/bin/env bash
# `make test-bigquery`: the BigQuery path on the local emulator, compared with DuckDB.
# Installs the emulator in .venv-bqemu/ (once), starts it on free loopback ports, runs the
# tests in python_tests/bigquery/ (marked `bigquery`) against it and stops it, also
# when a test fails. Extra arguments go to pytest (e.g. -k parity).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PY:-$ROOT/.venv/bin/python}"
[[ -x "$PY" ]] || { echo "test_bigquery.sh: no $PY: run 'make venv' first" >&2; exit 2; }
export DO_NOT_TRACK=1 DBT_SEND_ANONYMOUS_USAGE_STATS=false

bash scripts/bqemulator.sh install
exec bash scripts/bqemulator.sh run -- \
    "$PY" -m pytest -q -p no:cacheprovider -m bigquery python_tests/bigquery "$@"
