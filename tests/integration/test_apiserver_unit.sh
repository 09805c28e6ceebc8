#!/usr/bin/env bash
# The test API server's own suite: starts hack/test-apiserver, then runs the
# Python unittest suite tests/apiserver/test_*.py against it (CRUD, errors, SSA,
# status, generation, pagination, selectors, watch, GC, faults).
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$here/lib.sh"

kc=$TMP/kubeconfig
"$AIGW_ROOT/hack/test-apiserver" --listen 127.0.0.1:0 --kubeconfig-out "$kc" \
  >"$TMP/apiserver.out" 2>"$TMP/apiserver.err" &
track_pid $!
for _ in $(seq 1 100); do [ -s "$kc" ] && break; sleep 0.1; done
[ -s "$kc" ] || { cat "$TMP/apiserver.err" >&2; fail "test-apiserver did not start"; }
ok "test-apiserver up: $(cat "$TMP/apiserver.out")"

cd "$AIGW_ROOT/tests/apiserver"
export PYTHONDONTWRITEBYTECODE=1
if ! TEST_APISERVER_KUBECONFIG=$kc timeout 300 python3 -m unittest discover -s . \
    -p 'test_*.py' -v >"$TMP/unittest.log" 2>&1; then
  tail -n 80 "$TMP/unittest.log" >&2
  fail "apiserver unit suite"
fi
summary=$(grep -E '^Ran [0-9]+ tests' "$TMP/unittest.log")
grep -qx OK "$TMP/unittest.log" || fail "apiserver unit suite did not end with OK"
if grep -Eq 'skipped|expected failures' "$TMP/unittest.log"; then
  fail "apiserver unit suite skipped tests"
fi
ok "apiserver unit suite: $summary"
