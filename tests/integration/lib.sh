# Shared helpers for integration tests (sourced). Every process a test starts
# is registered with track_pid and stopped by its pid on exit.
set -euo pipefail

AIGW=${AIGW:?AIGW must point at the binary}
AIGW_SHARED=${AIGW_SHARED:?}
AIGW_ROOT=${AIGW_ROOT:?}
AIGW_WRAP=${AIGW_WRAP:-}
AIGW_TOOLS=${AIGW_TOOLS:-$AIGW_ROOT/build/tools}
TMP=${AIGW_TMP:-$(pwd)}
_pids=()

track_pid() { _pids+=("$1"); }

stop_all() {
  local p
  for p in "${_pids[@]:-}"; do
    [ -n "$p" ] || continue
    kill -TERM "$p" 2>/dev/null || true
  done
  for p in "${_pids[@]:-}"; do
    [ -n "$p" ] || continue
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
}
trap stop_all EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_http URL [tries]: waits until URL answers 200 (0.1 s steps).
wait_http() {
  local url=$1 tries=${2:-100}
  for _ in $(seq 1 "$tries"); do
    if curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

# assert_eq ACTUAL EXPECTED MESSAGE
assert_eq() { [ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"; }

# jq-like field read with python: json_get FILE EXPR (EXPR is python on `d`).
json_get() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
