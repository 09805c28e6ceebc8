#!/usr/bin/env bash
# Certificate reload under load: swap the serving pair (atomic renames) while
# a bounded request loop runs (fresh connections and one keep-alive stream);
# the new serial must be served within 10 s with zero failed requests. Then a
# mismatched pair and an unreadable pair must be refused, keeping the current
# one, with an error in the log.
source "$AIGW_ROOT/tests/integration/lib.sh"
cd "$TMP"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=aigw-test-ca -keyout ca.key -out ca.pem 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > ext.cnf
# leaf NAME: a serving pair NAME.crt/NAME.key signed by the test CA.
leaf() {
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
    -keyout "$1.key" -out "$1.csr" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile ext.cnf -out "$1.crt" 2>/dev/null
}
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
served_serial() {
  openssl s_client -connect "127.0.0.1:$PORT" -servername localhost </dev/null 2>/dev/null \
    | openssl x509 -noout -serial 2>/dev/null | cut -d= -f2
}
leaf one
leaf two
leaf three
cp one.crt tls.crt
cp one.key tls.key

PORT=$(free_port)
MPORT=$(free_port)
$AIGW_WRAP "$AIGW" serve --tls-cert tls.crt --tls-key tls.key \
  --listen "127.0.0.1:$PORT" --metrics-listen "127.0.0.1:$MPORT" 2>serve.log &
SERVE_PID=$!
track_pid "$SERVE_PID"
wait_http "http://127.0.0.1:$MPORT/readyz" 300 || { cat serve.log; fail "server did not start"; }
assert_eq "$(served_serial)" "$(serial_of one.crt)" "initial serial"

FIXTURE="$AIGW_SHARED/testdata/admission/kubewarden-policy-server_pod_create_privileged.json"
URL="https://127.0.0.1:$PORT/validate"

# Fresh connection per request (a handshake each time), bounded by count and the stop file.
load_fresh() {
  local okc=0 badc=0
  for _ in $(seq 1 600); do
    [ -e stop ] && break
    if curl -sS --cacert ca.pem --max-time 10 -o /dev/null -w '%{http_code}' \
         -H 'Content-Type: application/json' --data-binary "@$FIXTURE" "$URL" 2>>fresh.err | grep -q '^200$'; then
      okc=$((okc + 1))
    else
      badc=$((badc + 1))
    fi
  done
  echo "$okc $badc" > fresh.count
}
# One keep-alive connection carrying 200 requests across the swap.
load_keepalive() {
  local args=() i
  for i in $(seq 1 200); do
    args+=(--cacert ca.pem -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' --data-binary "@$FIXTURE" "$URL")
    [ "$i" -lt 200 ] && args+=(--next)
  done
  curl -sS --cacert ca.pem --max-time 60 "${args[@]}" > keepalive.codes 2>keepalive.err || true
}
load_fresh &
track_pid $!
FRESH=$!
load_keepalive &
track_pid $!
KEEP=$!
sleep 1

# Swap to pair two: each file is written aside and renamed into place.
cp two.key tls.key.new && mv tls.key.new tls.key
cp two.crt tls.crt.new && mv tls.crt.new tls.crt
swapped=$(date +%s%N)
want=$(serial_of two.crt)
got=""
for _ in $(seq 1 50); do
  got=$(served_serial)
  [ "$got" = "$want" ] && break
  sleep 0.2
done
elapsed=$(( ($(date +%s%N) - swapped) / 1000000 ))
assert_eq "$got" "$want" "serial served after the swap"
[ "$elapsed" -le 10000 ] || fail "new pair picked up after ${elapsed} ms (> 10 s)"
ok "new pair served ${elapsed} ms after the swap"
sleep 1
touch stop
wait "$FRESH" || true
wait "$KEEP" || true
read -r fresh_ok fresh_bad < fresh.count
keep_ok=$(grep -c '^200$' keepalive.codes || true)
keep_bad=$(grep -vc '^200$' keepalive.codes || true)
[ "$fresh_bad" = 0 ] || fail "$fresh_bad fresh-connection requests failed: $(head -3 fresh.err)"
[ "$fresh_ok" -gt 0 ] || fail "no fresh-connection request ran"
[ "$keep_bad" = 0 ] || fail "$keep_bad keep-alive requests failed: $(head -3 keepalive.err)"
[ "$keep_ok" -gt 0 ] || fail "no keep-alive request ran"
ok "zero failed requests during the swap ($fresh_ok fresh, $keep_ok keep-alive)"
grep -q '"msg":"TLS pair reloaded"' serve.log || fail "reload not logged"

# A mismatched pair (three's certificate, two's key) is refused; two stays.
cp three.crt tls.crt.new && mv tls.crt.new tls.crt
for _ in $(seq 1 100); do
  grep -q "does not match" serve.log && break
  sleep 0.1
done
grep '"level":"error"' serve.log | grep -q "does not match the certificate" || fail "mismatch not logged as an error"
assert_eq "$(served_serial)" "$want" "serial after a mismatched pair"
ok "mismatched pair refused, current pair kept"

# An unreadable certificate is refused too.
echo "not a certificate" > tls.crt.new && mv tls.crt.new tls.crt
for _ in $(seq 1 100); do
  [ "$(grep -c '"msg":"TLS pair not reloaded' serve.log)" -ge 2 ] && break
  sleep 0.1
done
[ "$(grep -c '"msg":"TLS pair not reloaded' serve.log)" -ge 2 ] || fail "unreadable certificate not logged"
assert_eq "$(served_serial)" "$want" "serial after an unreadable certificate"
code=$(curl -sS --cacert ca.pem --max-time 10 -o /dev/null -w '%{http_code}' \
  -H 'Content-Type: application/json' --data-binary "@$FIXTURE" "$URL")
assert_eq "$code" 200 "requests still served"
ok "unreadable pair refused, current pair kept"
grep -q "PRIVATE KEY" serve.log && fail "key material in the log"

# Pair three, complete and matching, is then picked up.
cp three.key tls.key.new && mv tls.key.new tls.key
cp three.crt tls.crt.new && mv tls.crt.new tls.crt
want=$(serial_of three.crt)
for _ in $(seq 1 50); do
  [ "$(served_serial)" = "$want" ] && break
  sleep 0.2
done
assert_eq "$(served_serial)" "$want" "serial after a good pair follows a bad one"
ok "recovered with the next good pair"

kill -TERM "$SERVE_PID"
rc=0
wait "$SERVE_PID" || rc=$?
assert_eq "$rc" 0 "exit status after SIGTERM"
