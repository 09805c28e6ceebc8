# Helpers for the kube client tests (sourced after lib.sh): start the test API
# server, talk to its fault and counter endpoints, run kubetest, read JSON.

# start_apiserver [extra flags...]: starts hack/test-apiserver on a free port,
# waits for its kubeconfig ($TMP/kc), sets KC, API_SERVER, API_TOKEN, API_CA.
start_apiserver() {
  local port
  port=$(free_port)
  "$AIGW_ROOT/hack/test-apiserver" --listen "127.0.0.1:$port" --kubeconfig-out "$TMP/kc" "$@" \
    >"$TMP/apiserver.log" 2>&1 &
  track_pid $!
  for _ in $(seq 1 150); do [ -s "$TMP/kc" ] && break; sleep 0.1; done
  [ -s "$TMP/kc" ] || { cat "$TMP/apiserver.log" >&2; fail "test-apiserver did not start"; }
  KC=$TMP/kc
  API_SERVER=$(python3 -c 'import sys,yaml; d=yaml.safe_load(open(sys.argv[1])); print(d["clusters"][0]["cluster"]["server"])' "$KC")
  API_TOKEN=$(python3 -c 'import sys,yaml; d=yaml.safe_load(open(sys.argv[1])); print(d["users"][0]["user"]["token"])' "$KC")
  API_CA=$TMP/apiserver-ca.crt
  python3 -c 'import sys,yaml,base64; d=yaml.safe_load(open(sys.argv[1])); sys.stdout.write(base64.b64decode(d["clusters"][0]["cluster"]["certificate-authority-data"]).decode())' "$KC" >"$API_CA"
}

# faults JSON: changes the server's faults.
faults() {
  curl -fsS --max-time 5 --cacert "$API_CA" -H "Authorization: Bearer $API_TOKEN" \
    -X POST -H 'Content-Type: application/json' -d "$1" "$API_SERVER/_test/faults" >/dev/null
}

# counters: the server's per-verb counters (JSON).
counters() {
  curl -fsS --max-time 5 --cacert "$API_CA" -H "Authorization: Bearer $API_TOKEN" \
    "$API_SERVER/_test/counters"
}

# kt ARGS: kubetest against the server (wrapped like aigw, so valgrind covers it).
# Prints its JSON; the exit status is kubetest's.
kt() {
  # shellcheck disable=SC2086
  $AIGW_WRAP "$AIGW_TOOLS/kubetest" --kubeconfig "$KC" "$@"
}

# ktq ARGS: kubetest without the wrapper, for setup steps that are not under test
# (valgrind makes every TLS client start cost seconds).
ktq() {
  "$AIGW_TOOLS/kubetest" --kubeconfig "$KC" "$@"
}

# jf JSON EXPR: evaluates python EXPR on the parsed JSON `d`.
jf() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); r=($2); print(r)" "$1"; }
