#!/usr/bin/env bash
# make demo: starts `aigw serve` with an in-memory self-signed pair on free
# loopback ports, sends each sample AdmissionReview in examples/reviews/ to its
# endpoint (validate-*.json -> /validate, mutate-*.json -> /mutate-pods),
# shows the replies, a malformed request and a metrics excerpt, then stops the
# server by its pid (SIGTERM: graceful).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
aigw=${AIGW:-$root/aigw}
work=$(mktemp -d "${TMPDIR:-/tmp}/aigw-demo.XXXXXX")
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
title() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }

port=$(free_port)
mport=$(free_port)
title "aigw serve --dev-self-signed on 127.0.0.1:$port (metrics on 127.0.0.1:$mport)"
"$aigw" serve --dev-self-signed --dev-ca-out "$work/ca.pem" \
  --listen "127.0.0.1:$port" --metrics-listen "127.0.0.1:$mport" 2>"$work/serve.log" &
pid=$!
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$mport/readyz" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/serve.log"; echo "demo: aigw serve exited" >&2; exit 1; }
  sleep 0.1
done
curl -fsS -o /dev/null "http://127.0.0.1:$mport/readyz"
echo "ready (pid $pid); the CA of its throwaway certificate is in $work/ca.pem"

show_reply() { # request reply
  python3 - "$1" "$2" <<'PY'
import base64, json, sys
req = json.load(open(sys.argv[1]))["request"]
rep = json.load(open(sys.argv[2]))
r = rep["response"]
obj = req.get("object") or {}
meta = obj.get("metadata", {})
name = meta.get("name") or (meta.get("generateName", "") + "*")
print("request : %s %s %s/%s (uid %s)" % (req["operation"], req["kind"]["kind"], req.get("namespace", ""), name, req["uid"]))
verdict = "ALLOWED" if r["allowed"] else "DENIED"
print("reply   : %s, uid %s echoed: %s" % (verdict, r["uid"], r["uid"] == req["uid"]))
if "status" in r:
    st = r["status"]
    print("status  : %s %s: %s" % (st.get("code"), st.get("reason", ""), st.get("message", "")))
for w in r.get("warnings", []):
    print("warning : " + w)
if "patch" in r:
    print("patch   : (%s)" % r.get("patchType"))
    for op in json.loads(base64.b64decode(r["patch"])):
        print("          %s %s" % (op["op"], op["path"]))
else:
    print("patch   : none")
print("full reply:")
print(json.dumps(rep, indent=2))
PY
}

for review in "$root"/examples/reviews/*.json; do
  base=$(basename "$review")
  case "$base" in
    validate-*) path=/validate ;;
    mutate-*) path=/mutate-pods ;;
    *) continue ;;
  esac
  title "POST $path  <- examples/reviews/$base"
  curl -sS --cacert "$work/ca.pem" -H 'Content-Type: application/json' \
    --data-binary "@$review" -o "$work/reply.json" "https://127.0.0.1:$port$path"
  show_reply "$review" "$work/reply.json"
done

title "A malformed request gets a one-line error"
printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}' > "$work/bad.json"
curl -sS --cacert "$work/ca.pem" -H 'Content-Type: application/json' --data-binary "@$work/bad.json" \
  -w 'HTTP %{http_code}\n' "https://127.0.0.1:$port/validate"

title "GET http://127.0.0.1:$mport/metrics (excerpt)"
curl -sS "http://127.0.0.1:$mport/metrics" | grep -E '^aigw_(admission_requests_total|build_info)' || true

title "Stopping aigw serve (SIGTERM to pid $pid)"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=""
echo "exit status $rc; last log lines:"
tail -n 3 "$work/serve.log"
[ "$rc" -eq 0 ]
