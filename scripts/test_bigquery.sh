#!/usr/bin/env bash
# `make test-bigquery`: the BigQuery path on the local emulator, compared with DuckDB.
# Installs the emulator in .venv-bqemu/ (once), then runs the tests in python_tests/bigquery/
# (marked `bigquery`) in two groups side by side, each its own pytest against its own emulator
# (scripts/bqemulator.sh run: free loopback ports, stopped also when a test fails). A group's
# modules run one after another on its emulator, in the order listed. Each group's output is
# printed in one piece when it ends; the script fails when either fails. Extra arguments go to
# both pytests (e.g. -k parity: a group left with no test counts as passed).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PY:-$ROOT/.venv/bin/python}"
[[ -x "$PY" ]] || { echo "test_bigquery.sh: no $PY: run 'make venv' first" >&2; exit 2; }
export DO_NOT_TRACK=1 DBT_SEND_ANONYMOUS_USAGE_STATS=false

# CPU seconds of each group (the driver, dbt and the emulator): lease 2 + load 21 + safety 75,
# and parity (the whole timeline, refresh and validation included) about 180.
T=python_tests/bigquery
TEST_GROUPS=(
    "$T/test_lease_bigquery.py $T/test_load_bigquery.py $T/test_safety_bigquery.py"
    "$T/test_bigquery_parity.py"
)
# every test file in exactly one group: a new one must be added above
listed="$(printf '%s\n' "${TEST_GROUPS[@]}" | tr ' ' '\n' | sort)"
found="$(find "$T" -name 'test_*.py' | sort)"
if [[ "$listed" != "$found" ]]; then
    echo "test_bigquery.sh: the files of TEST_GROUPS differ from $T/test_*.py:" >&2
    diff <(echo "$listed") <(echo "$found") >&2 || true
    echo "test_bigquery.sh: list each test file of $T in one group of TEST_GROUPS" >&2
    exit 2
fi

bash scripts/bqemulator.sh install
OUT="$(mktemp -d "${TMPDIR:-/tmp}/test_bigquery.XXXXXX")"
PIDS=()
set -m  # each group in a process group of its own (its emulator, pytest and their children)
stop() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
}
trap 'stop; rm -rf "$OUT"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
for i in "${!TEST_GROUPS[@]}"; do
    # shellcheck disable=SC2086  # a group is a list of paths without spaces
    bash scripts/bqemulator.sh run -- \
        "$PY" -m pytest -q -p no:cacheprovider -m bigquery --durations=25 \
        ${TEST_GROUPS[$i]} "$@" \
        >"$OUT/group_$i.log" 2>&1 &
    PIDS+=("$!")
done
rc=0
for i in "${!PIDS[@]}"; do
    group_rc=0
    wait "${PIDS[$i]}" || group_rc=$?
    echo "=== test-bigquery group $((i + 1)) of ${#PIDS[@]}: ${TEST_GROUPS[$i]} (exit $group_rc)"
    cat "$OUT/group_$i.log"
    # 5: pytest selected no test of this group (-k ...)
    ((group_rc == 0 || group_rc == 5)) || rc=$group_rc
done
PIDS=()
exit "$rc"
