#!/usr/bin/env bash
# The local BigQuery emulator (bqemulator, DuckDB-backed) for the bq_local target.
#
#   scripts/bqemulator.sh install             create/refresh .venv-bqemu/ (idempotent, pinned)
#   scripts/bqemulator.sh run -- CMD [ARGS]   start it on free loopback ports, run CMD with
#                                             BQEMU_ENDPOINT / BQEMU_PROJECT exported, stop it
#                                             afterwards (also when CMD fails or is interrupted);
#                                             exits with CMD's exit code
#   scripts/bqemulator.sh serve               start it in the foreground (Ctrl-C stops it)
#
# Env: BQEMU_PROJECT (default nba-local), BQEMU_VENV (default .venv-bqemu),
#      BQEMU_PYTHON (interpreter for the venv, default python3.11 or python3),
#      BQEMU_START_TIMEOUT (seconds to wait for it to answer, default 60).
# The emulator is ephemeral (in memory): every `run` starts from an empty project. It is started
# through scripts/bqemulator_patches.py, which fixes known emulator bugs first
# (docs/bigquery_emulator.md).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REQUIREMENTS="$ROOT/scripts/bqemulator-requirements.txt"
VENV="${BQEMU_VENV:-$ROOT/.venv-bqemu}"
PROJECT="${BQEMU_PROJECT:-nba-local}"
START_TIMEOUT="${BQEMU_START_TIMEOUT:-60}"
DUCKDB_VERSION="v1.5.5"

log() { printf 'bqemulator.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 2; }

python_for_venv() {
    if [[ -n "${BQEMU_PYTHON:-}" ]]; then echo "$BQEMU_PYTHON"; return; fi
    if command -v python3.11 >/dev/null 2>&1; then echo python3.11; return; fi
    command -v python3 >/dev/null 2>&1 || die "no python3 on PATH: install Python 3.11 or set BQEMU_PYTHON"
    echo python3
}

duckdb_platform() {
    case "$(uname -s)-$(uname -m)" in
        Linux-x86_64) echo linux_amd64 ;;
        Linux-aarch64 | Linux-arm64) echo linux_arm64 ;;
        Darwin-arm64) echo osx_arm64 ;;
        Darwin-x86_64) echo osx_amd64 ;;
        *) die "unknown platform $(uname -s)-$(uname -m): copy spatial.duckdb_extension by hand" ;;
    esac
}

# Install (or refresh when the pins changed) the emulator venv, then put DuckDB's spatial
# extension where DuckDB looks for it: the emulator loads it and must not download it.
install() {
    local stamp="$VENV/.bqemu-installed" want
    want="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"
    if [[ ! -x "$VENV/bin/bqemulator" || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
        log "installing the emulator into $VENV"
        [[ -x "$VENV/bin/python" ]] || "$(python_for_venv)" -m venv "$VENV"
        # uv, pinned in the project's constraints.txt, as for the project's venv (Makefile)
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check -c "$ROOT/constraints.txt" uv
        "$VENV/bin/uv" pip install -q --system-certs --python "$VENV/bin/python" --compile-bytecode \
            -r "$REQUIREMENTS"
        echo "$want" >"$stamp"
    fi
    local src dest
    src="$("$VENV/bin/python" - <<'PY'
import pathlib, duckdb_extension_spatial as m
hits = sorted(pathlib.Path(m.__file__).parent.rglob("spatial.duckdb_extension"))
print(hits[0] if hits else "")
PY
)"
    [[ -n "$src" ]] || die "duckdb-extension-spatial has no spatial.duckdb_extension in $VENV"
    dest="$HOME/.duckdb/extensions/$DUCKDB_VERSION/$(duckdb_platform)"
    if ! cmp -s "$src" "$dest/spatial.duckdb_extension" 2>/dev/null; then
        mkdir -p "$dest"
        cp "$src" "$dest/spatial.duckdb_extension.tmp"
        mv "$dest/spatial.duckdb_extension.tmp" "$dest/spatial.duckdb_extension"
    fi
}

free_port() {
    "$VENV/bin/python" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

EMU_PID=""
EMU_DIR=""

stop_emulator() {
    if [[ -n "$EMU_PID" ]] && kill -0 "$EMU_PID" 2>/dev/null; then
        kill -TERM "$EMU_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$EMU_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$EMU_PID" 2>/dev/null || true
        wait "$EMU_PID" 2>/dev/null || true
    fi
    EMU_PID=""
    if [[ -n "$EMU_DIR" ]]; then
        rm -rf "$EMU_DIR"
        EMU_DIR=""
    fi
}

# Start on two free loopback ports and wait until the REST API answers.
start_emulator() {
    local rest grpc deadline
    EMU_DIR="$(mktemp -d "${TMPDIR:-/tmp}/bqemu.XXXXXX")"
    rest="$(free_port)"
    grpc="$(free_port)"
    while [[ "$grpc" == "$rest" ]]; do grpc="$(free_port)"; done
    "$VENV/bin/python" "$ROOT/scripts/bqemulator_patches.py" start --project "$PROJECT" \
        --rest-host 127.0.0.1 --rest-port "$rest" --grpc-host 127.0.0.1 --grpc-port "$grpc" \
        --ephemeral --data-dir "$EMU_DIR" --log-level warning \
        >"$EMU_DIR/emulator.log" 2>&1 &
    EMU_PID=$!
    export BQEMU_ENDPOINT="http://127.0.0.1:$rest"
    export BQEMU_PROJECT="$PROJECT"
    deadline=$((SECONDS + START_TIMEOUT))
    until curl -sf -o /dev/null "$BQEMU_ENDPOINT/bigquery/v2/projects/$PROJECT/datasets"; do
        if ! kill -0 "$EMU_PID" 2>/dev/null; then
            log "the emulator exited while starting; its log:"
            cat "$EMU_DIR/emulator.log" >&2
            return 1
        fi
        if ((SECONDS >= deadline)); then
            log "the emulator did not answer on $BQEMU_ENDPOINT within ${START_TIMEOUT}s; its log:"
            tail -n 50 "$EMU_DIR/emulator.log" >&2
            return 1
        fi
        sleep 0.3
    done
    log "emulator up: BQEMU_ENDPOINT=$BQEMU_ENDPOINT BQEMU_PROJECT=$PROJECT (pid $EMU_PID)"
}

cmd_run() {
    [[ "${1:-}" == "--" ]] && shift
    (($# > 0)) || die "usage: scripts/bqemulator.sh run -- COMMAND [ARGS...]"
    install
    trap stop_emulator EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    start_emulator
    local rc=0
    "$@" || rc=$?
    if ((rc != 0)) && [[ -n "$EMU_DIR" ]]; then
        log "command failed ($rc); last emulator log lines:"
        tail -n 30 "$EMU_DIR/emulator.log" >&2 || true
    fi
    return "$rc"
}

cmd_serve() {
    install
    exec "$VENV/bin/python" "$ROOT/scripts/bqemulator_patches.py" start --project "$PROJECT" \
        --rest-host 127.0.0.1 --rest-port "${BQEMU_REST_PORT:-9050}" \
        --grpc-host 127.0.0.1 --grpc-port "${BQEMU_GRPC_PORT:-9060}" "$@"
}

case "${1:-}" in
    install) install ;;
    run) shift; cmd_run "$@" ;;
    serve) shift; cmd_serve "$@" ;;
    *) die "usage: scripts/bqemulator.sh {install | run -- COMMAND [ARGS...] | serve}" ;;
esac
