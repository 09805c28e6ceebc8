#!/usr/bin/env bash
# aigw certgen create|patch against the test API server: creation with the
# Service SANs, idempotence (no write when valid), leaf renewal under the same
# CA, replacement of a broken CA, caBundle on every webhook, conflicts retried.
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$here/lib.sh"

kc=$TMP/kubeconfig
"$AIGW_ROOT/hack/test-apiserver" --listen 127.0.0.1:0 --kubeconfig-out "$kc" \
  >"$TMP/apiserver.out" 2>"$TMP/apiserver.err" &
track_pid $!
for _ in $(seq 1 100); do [ -s "$kc" ] && break; sleep 0.1; done
[ -s "$kc" ] || fail "test-apiserver did not start"
step() { python3 "$here/certgen_steps.py" "$kc" "$@"; }
certgen() { $AIGW_WRAP "$AIGW" certgen "$@" --kubeconfig "$kc" --namespace aigw-system; }

step setup

certgen create --log-level debug 2>"$TMP/create1.log" || { cat "$TMP/create1.log"; fail "create"; }
rv1=$(step check-created)
grep -q '"new CA and serving certificate"' "$TMP/create1.log" || fail "create log"
ok "created CA + leaf with the four Service names (rv $rv1)"

w=$(step writes)
certgen create 2>"$TMP/create2.log" || fail "second create"
assert_eq "$(step rv)" "$rv1" "valid Secret left alone"
assert_eq "$(step writes)" "$w" "no write for a valid Secret"
ok "valid Secret: no write"

ca_before=$(step field ca.crt)
step expire-leaf
[ "$(step leaf-days)" -lt 11 ] || fail "expire-leaf did not shorten the leaf"
certgen create 2>"$TMP/create3.log" || fail "renewal"
grep -q 'same CA' "$TMP/create3.log" || fail "renewal should keep the CA"
assert_eq "$(step field ca.crt)" "$ca_before" "CA kept on renewal"
[ "$(step leaf-days)" -gt 300 ] || fail "renewed leaf too short"
step check-created >/dev/null
ok "leaf expiring in 10 days reissued under the same CA"

step corrupt-ca
certgen create 2>"$TMP/create4.log" || fail "replace broken CA"
[ "$(step field ca.crt)" != "$ca_before" ] || fail "broken CA not replaced"
step check-created >/dev/null
ok "unreadable CA replaced"

certgen patch --validating-webhook aigw-validating --mutating-webhook aigw-mutating 2>"$TMP/patch1.log" ||
  { cat "$TMP/patch1.log"; fail "patch"; }
step check-bundles
w=$(step writes)
certgen patch --validating-webhook aigw-validating --mutating-webhook aigw-mutating 2>/dev/null || fail "patch again"
assert_eq "$(step writes)" "$w" "no write when caBundle is current"
ok "caBundle on every webhook of both configurations; idempotent"

# A rotated CA with conflicts on the first writes: retried until written.
step corrupt-ca
certgen create 2>/dev/null || fail "create after corrupt"
step faults '{"conflict_next": 2, "verbs": ["PATCH"]}'
certgen patch --validating-webhook aigw-validating --mutating-webhook aigw-mutating 2>"$TMP/patch3.log" ||
  { cat "$TMP/patch3.log"; fail "patch under conflicts"; }
step check-bundles
ok "409 conflicts retried"

set +e
certgen patch --validating-webhook does-not-exist 2>/dev/null; rc=$?
set -e
assert_eq "$rc" 1 "missing configuration exit status"
set +e
$AIGW_WRAP "$AIGW" certgen create --bogus 2>/dev/null; rc=$?
set -e
assert_eq "$rc" 2 "usage error exit status"
ok "errors: missing configuration 1, usage 2"
