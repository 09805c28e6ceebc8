#!/usr/bin/env bash
# aigw serve end to end: every captured AdmissionReview fixture over HTTPS on
# both endpoints with each reply field checked, every kind of bad input over
# the wire, health/readiness/metrics, and a graceful SIGTERM that lets a
# request in flight finish.
source "$AIGW_ROOT/tests/integration/lib.sh"
cd "$TMP"

# A test CA and a serving leaf for 127.0.0.1/localhost, made with openssl.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=aigw-test-ca -keyout ca.key -out ca.pem 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj /CN=localhost -keyout tls.key -out tls.csr 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > ext.cnf
openssl x509 -req -in tls.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
  -extfile ext.cnf -out tls.crt 2>/dev/null

PORT=$(free_port)
MPORT=$(free_port)
$AIGW_WRAP "$AIGW" serve --tls-cert tls.crt --tls-key tls.key \
  --listen "127.0.0.1:$PORT" --metrics-listen "127.0.0.1:$MPORT" \
  --conn-timeout 2 --idle-timeout 5 --log-level debug 2>serve.log &
SERVE_PID=$!
track_pid "$SERVE_PID"
wait_http "http://127.0.0.1:$MPORT/healthz" 300 || { cat serve.log; fail "server did not start"; }
BASE="https://127.0.0.1:$PORT"

# post PATH FILE [CONTENT_TYPE] -> writes reply.body, reply.headers; prints the status code.
post() {
  local ct=${3:-application/json}
  curl -sS --cacert ca.pem --max-time 20 -o reply.body -D reply.headers \
    -H "Content-Type: $ct" --data-binary "@$2" -w '%{http_code}' "$BASE$1" || true
}

# Checks a one-line text/plain error body.
one_line_error() {
  local lines
  lines=$(wc -l < reply.body)
  [ "$lines" = 1 ] || fail "$1: error body is not one line: $(cat reply.body)"
  grep -qi '^content-type: text/plain' reply.headers || fail "$1: error is not text/plain"
}

cat > check_reply.py <<'PY'
# check_reply.py REQUEST REPLY ENDPOINT: every field of an AdmissionReview reply.
import base64, json, sys
req = json.load(open(sys.argv[1]))
rep = json.load(open(sys.argv[2]))
endpoint = sys.argv[3]
r = req["request"]
assert rep.get("apiVersion") == "admission.k8s.io/v1", rep.get("apiVersion")
assert rep.get("kind") == "AdmissionReview", rep.get("kind")
assert set(rep) == {"apiVersion", "kind", "response"}, sorted(rep)
resp = rep["response"]
assert resp.get("uid") == r["uid"], (resp.get("uid"), r["uid"])
assert isinstance(resp.get("allowed"), bool), resp
allowed_keys = {"uid", "allowed", "status", "warnings", "patch", "patchType", "auditAnnotations"}
assert set(resp) <= allowed_keys, sorted(resp)
if endpoint == "/mutate-pods":
    assert resp["allowed"] is True, "injection never denies"
if not resp["allowed"]:
    st = resp["status"]
    assert isinstance(st.get("code"), int) and st["code"] >= 400, st
    assert isinstance(st.get("message"), str) and st["message"], st
if "status" in resp:
    assert isinstance(resp["status"].get("code"), int), resp["status"]
for w in resp.get("warnings", []):
    assert isinstance(w, str) and len(w.encode()) <= 256, w
    assert not any(ord(c) < 0x20 for c in w), w
if "patch" in resp or "patchType" in resp:
    assert r["operation"] in ("CREATE", "UPDATE"), "patch on " + r["operation"]
    assert resp.get("patchType") == "JSONPatch", resp
    ops = json.loads(base64.b64decode(resp["patch"], validate=True))
    assert isinstance(ops, list) and ops, ops
print("reply ok:", endpoint, r["uid"], r["operation"], "allowed=%s" % resp["allowed"])
PY

# 1. Every fixture, on both endpoints (the request-only one wrapped in an envelope).
n_fixtures=0
for f in "$AIGW_SHARED"/testdata/admission/*.json; do
  name=$(basename "$f" .json)
  if python3 -c 'import json,sys; sys.exit(0 if "request" in json.load(open(sys.argv[1])) else 1)' "$f"; then
    cp "$f" "req-$name.json"
  else
    python3 - "$f" "req-$name.json" <<'PY'
import json, sys
inner = json.load(open(sys.argv[1]))
json.dump({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": inner},
          open(sys.argv[2], "w"))
PY
  fi
  for ep in /validate /mutate-pods; do
    # The API server appends ?timeout=<webhook timeout>.
    code=$(post "$ep?timeout=5s" "req-$name.json")
    assert_eq "$code" 200 "$name on $ep: HTTP status"
    grep -qi '^content-type: application/json' reply.headers || fail "$name on $ep: content type"
    python3 check_reply.py "req-$name.json" reply.body "$ep" || fail "$name on $ep: reply fields"
  done
  n_fixtures=$((n_fixtures + 1))
done
[ "$n_fixtures" -ge 3 ] || fail "expected at least 3 fixtures, found $n_fixtures"
ok "$n_fixtures fixtures answered on both endpoints"

# Keep-alive: idle longer than --conn-timeout is fine; idle past --idle-timeout closes.
# Runs in the background while the bad-input checks go on.
cat > keepalive.py <<'PY'
import socket, ssl, sys, time
port, cafile, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
body = open(path, "rb").read()
ctx = ssl.create_default_context(cafile=cafile)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
s.settimeout(20)
def ask():
    s.sendall(b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body) + body)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return "closed"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
    while len(rest) < length:
        rest += s.recv(65536)
    return head.split(b"\r\n")[0].decode()
first = ask()
time.sleep(3)      # > --conn-timeout 2, < --idle-timeout 5
second = ask()
time.sleep(7)      # > --idle-timeout 5
try:
    third = ask()
except (ConnectionError, ssl.SSLError, OSError):
    third = "closed"
print(first); print(second); print(third)
PY
python3 keepalive.py "$PORT" ca.pem "req-kubewarden-policy-server_pod_create_privileged.json" > keepalive.out 2>&1 &
KEEPALIVE=$!
track_pid "$KEEPALIVE"

# 2. Bad input: each gets an HTTP error with one line, and nothing else happens.
bad() { # bad NAME PATH BODY EXPECTED_CODE MESSAGE_SUBSTRING [CONTENT_TYPE]
  printf '%s' "$3" > bad.json
  local code
  code=$(post "$2" bad.json "${6:-application/json}")
  assert_eq "$code" "$4" "$1: HTTP status"
  one_line_error "$1"
  grep -q -- "$5" reply.body || fail "$1: message '$(cat reply.body)' lacks '$5'"
  ok "$1 -> $4 $(cat reply.body)"
}
bad "non-JSON" /validate 'this is not json' 400 "not valid JSON"
bad "empty body" /validate '' 400 "empty"
bad "JSON array" /mutate-pods '[1,2,3]' 400 "not an AdmissionReview"
bad "not a review" /validate '{"apiVersion":"v1","kind":"Pod","metadata":{}}' 400 'kind must be "AdmissionReview"'
bad "v1beta1 review" /validate '{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"x"}}' 400 "unsupported apiVersion"
bad "missing request" /mutate-pods '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}' 400 "request is missing"
bad "missing uid" /validate '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE"}}' 400 "request.uid is missing"
bad "uid not a string" /validate '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":7,"kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE"}}' 400 "request.uid must be a string"
bad "wrong Content-Type" /validate '{}' 415 "application/json" text/plain
bad "unknown path" /nope '{}' 404 "not found"

# GET on a POST path: 405 with Allow.
code=$(curl -sS --cacert ca.pem --max-time 10 -o reply.body -D reply.headers -w '%{http_code}' "$BASE/validate")
assert_eq "$code" 405 "GET /validate"
grep -qi '^allow: POST' reply.headers || fail "405 without Allow: POST"
one_line_error "GET /validate"
ok "GET /validate -> 405 with Allow"

# Over the limit by Content-Length: 413 before the body is read.
head -c 7340033 /dev/zero | tr '\0' ' ' > big.json
start=$(date +%s%N)
code=$(post /validate big.json)
assert_eq "$code" 413 "7 MiB + 1 byte"
one_line_error "413"
grep -q "7340032" reply.body || fail "413 message does not name the limit"
ok "body over the limit -> 413 $(cat reply.body) in $(( ($(date +%s%N) - start) / 1000000 )) ms"
# Exactly at the limit is read (and refused as JSON, not as size).
head -c 7340032 /dev/zero | tr '\0' ' ' > limit.json
code=$(post /validate limit.json)
assert_eq "$code" 400 "body of exactly 7 MiB"
# Streamed (chunked) past the limit: refused, never a 200.
code=$(curl -sS --cacert ca.pem --max-time 20 -o reply.body -H 'Content-Type: application/json' \
  -H 'Transfer-Encoding: chunked' --data-binary @big.json -w '%{http_code}' "$BASE/validate" 2>/dev/null || true)
case "$code" in 200) fail "chunked body over the limit was accepted";; esac
ok "chunked body over the limit refused (HTTP ${code:-none})"

# Plain HTTP to the TLS port: a readable 400.
code=$(curl -sS --max-time 10 -o reply.body -w '%{http_code}' "http://127.0.0.1:$PORT/validate" || true)
assert_eq "$code" 400 "plain HTTP to the TLS port"
assert_eq "$(cat reply.body)" "Client sent an HTTP request to an HTTPS server." "plain HTTP message"
ok "plain HTTP to the TLS port -> 400"

# TLS below 1.2 is refused; 1.2 and 1.3 work.
if openssl s_client -connect "127.0.0.1:$PORT" -tls1_1 </dev/null >tls11.out 2>&1 && grep -q "Cipher is [A-Z]" tls11.out; then
  fail "TLS 1.1 handshake succeeded"
fi
for v in -tls1_2 -tls1_3; do
  openssl s_client -connect "127.0.0.1:$PORT" "$v" -CAfile ca.pem </dev/null >tls.out 2>&1 || true
  grep -q "Verify return code: 0" tls.out || fail "TLS handshake with $v failed"
done
ok "TLS 1.2/1.3 only"

# A client that stalls mid-body is cut off while others are served.
cat > stall.py <<'PY'
import socket, ssl, sys, time
port, cafile = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=cafile)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
s.sendall(b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Content-Length: 1000\r\n\r\n{\"apiVersion\":")
s.settimeout(30)
start = time.time()
try:
    data = s.recv(100)
except (ConnectionError, ssl.SSLError):
    data = b""
print("%.1f %d" % (time.time() - start, len(data)))
PY
python3 stall.py "$PORT" ca.pem > stall.out &
STALL=$!
track_pid "$STALL"
sleep 0.3
code=$(post /mutate-pods "req-kubewarden-policy-server_pod_create_privileged.json")
assert_eq "$code" 200 "request served while another client stalls"
wait "$STALL" || fail "stall client failed"
read -r secs got < stall.out
python3 -c "import sys; sys.exit(0 if float('$secs') < 15 else 1)" || fail "stalled client held for ${secs}s"
assert_eq "$got" 0 "stalled client got a reply"
grep -q "timed out mid-request" serve.log || fail "stall not logged"
ok "stalled client cut off after ${secs}s, others served"

wait "$KEEPALIVE" || fail "keep-alive client failed: $(cat keepalive.out)"
assert_eq "$(sed -n 1p keepalive.out)" "HTTP/1.1 200 OK" "first keep-alive request"
assert_eq "$(sed -n 2p keepalive.out)" "HTTP/1.1 200 OK" "request after 3 s idle on the same connection"
assert_eq "$(sed -n 3p keepalive.out)" "closed" "connection idle past --idle-timeout"
ok "keep-alive survives idle > --conn-timeout, closed after --idle-timeout"

# 3. Health, readiness, metrics.
assert_eq "$(curl -sS --max-time 5 "http://127.0.0.1:$MPORT/healthz")" ok "healthz"
assert_eq "$(curl -sS --max-time 5 "http://127.0.0.1:$MPORT/readyz")" ok "readyz"
code=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$MPORT/metrics")
assert_eq "$code" 405 "POST /metrics"
curl -sS --max-time 5 "http://127.0.0.1:$MPORT/metrics" > metrics.txt
out=$(promtool check metrics < metrics.txt 2>&1) || fail "promtool: $out"
[ -z "$out" ] || fail "promtool check metrics printed: $out"
grep -q '^aigw_admission_requests_total{webhook="validate",kind="Pod",operation="CREATE",result="allowed"} [1-9]' metrics.txt \
  || fail "admission counter missing"
grep -q 'result="invalid_request"' metrics.txt || fail "invalid requests not counted"
grep -q '^aigw_admission_duration_seconds_count{webhook="mutate-pods"} [1-9]' metrics.txt || fail "histogram missing"
grep -q '^aigw_build_info{version="[^"]*"} 1$' metrics.txt || fail "build info missing"
ok "metrics valid ($(wc -l < metrics.txt) lines)"

# 4. SIGTERM with a request in flight: it finishes, new connections are refused, exit 0.
cat > inflight.py <<'PY'
import json, os, signal, socket, ssl, sys, time
port, cafile, pid, path = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
body = open(path, "rb").read()
ctx = ssl.create_default_context(cafile=cafile)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
s.sendall(b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Content-Length: %d\r\n\r\n" % len(body) + body[:100])
time.sleep(0.5)
os.kill(pid, signal.SIGTERM)
time.sleep(0.5)
s.sendall(body[100:])
s.settimeout(20)
reply = b""
while b"\r\n\r\n" not in reply or len(reply.split(b"\r\n\r\n", 1)[1]) < 10:
    chunk = s.recv(65536)
    if not chunk:
        break
    reply += chunk
head, _, rest = reply.partition(b"\r\n\r\n")
print(head.split(b"\r\n")[0].decode())
PY
python3 inflight.py "$PORT" ca.pem "$SERVE_PID" "req-kubewarden-policy-server_pod_create_privileged.json" > inflight.out \
  || fail "in-flight client failed: $(cat inflight.out)"
assert_eq "$(head -1 inflight.out)" "HTTP/1.1 200 OK" "request in flight during SIGTERM"
rc=0
for _ in $(seq 1 300); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
wait "$SERVE_PID" || rc=$?
assert_eq "$rc" 0 "exit status after SIGTERM"
grep -q '"msg":"stopped"' serve.log || fail "no stop log line"
python3 - serve.log <<'PY' || fail "log is not JSON lines"
import json, sys
for line in open(sys.argv[1]):
    if line.startswith("==") or not line.strip():
        continue  # valgrind's own lines when wrapped
    d = json.loads(line)
    assert {"ts", "level", "msg"} <= set(d), d
PY
grep -q "PRIVATE KEY" serve.log && fail "key material in the log"
ok "SIGTERM drained the request in flight and exited 0"

# 5. --dev-self-signed: an in-memory pair whose CA can be written out for clients.
PORT2=$(free_port)
MPORT2=$(free_port)
$AIGW_WRAP "$AIGW" serve --dev-self-signed --dev-ca-out dev-ca.pem \
  --listen "127.0.0.1:$PORT2" --metrics-listen "127.0.0.1:$MPORT2" 2>dev.log &
DEV_PID=$!
track_pid "$DEV_PID"
wait_http "http://127.0.0.1:$MPORT2/readyz" 300 || { cat dev.log; fail "dev server did not start"; }
code=$(curl -sS --cacert dev-ca.pem --max-time 20 -o reply.body -w '%{http_code}' \
  -H 'Content-Type: application/json' \
  --data-binary "@req-kubewarden-policy-server_pod_create_privileged.json" "https://localhost:$PORT2/mutate-pods")
assert_eq "$code" 200 "dev-self-signed pair verified by its CA"
python3 check_reply.py "req-kubewarden-policy-server_pod_create_privileged.json" reply.body /mutate-pods >/dev/null \
  || fail "dev reply fields"
# Another server on the same port cannot start: exit 2 with a logged reason.
rc=0
$AIGW_WRAP "$AIGW" serve --dev-self-signed --listen "127.0.0.1:$PORT2" \
  --metrics-listen "127.0.0.1:$(free_port)" 2>busy.log || rc=$?
assert_eq "$rc" 2 "exit status when the port is taken"
grep -q '"msg":"cannot start the webhook"' busy.log || fail "port clash not logged"
kill -TERM "$DEV_PID"
rc=0
wait "$DEV_PID" || rc=$?
assert_eq "$rc" 0 "dev server exit status"
ok "--dev-self-signed serves a verifiable pair; a taken port exits 2"

# 6. Usage errors exit 2 with a message; --help exits 0.
for args in "" "--tls-cert x.crt" "--dev-self-signed --tls-cert a --tls-key b" \
            "--dev-self-signed --max-body abc" "--dev-self-signed --bogus" "--dev-self-signed extra" \
            "--dev-self-signed --log-level loud"; do
  rc=0
  # shellcheck disable=SC2086
  "$AIGW" serve $args >usage.out 2>&1 || rc=$?
  assert_eq "$rc" 2 "aigw serve $args"
  grep -q "aigw serve" usage.out || fail "no usage message for: $args"
done
"$AIGW" serve --help | grep -q -- "--tls-cert" || fail "--help output"
ok "usage errors exit 2, --help exits 0"
