#!/usr/bin/env bash
# /mutate-pods through the running server, with the injector's cache fed by
# watches on the test API server: readiness waits for the first sync; the
# server version (1.32) selects regular sidecars; a pod gets the patch and the
# reply passes check-pod-patch; namespace label and policy changes reach the
# cache through the watch; admission makes no API call per pod (it keeps
# injecting while every API request fails).
source "$AIGW_ROOT/tests/integration/lib.sh"
source "$AIGW_ROOT/tests/integration/kube_lib.sh"
cd "$TMP"

conformance=$AIGW_SHARED/tools/conformance/run
mkdir -p cluster
cp "$AIGW_ROOT"/charts/aigw/crds/*.yaml "$AIGW_ROOT"/examples/cluster/namespaces.yaml \
  "$AIGW_ROOT"/examples/cluster/access-policy.yaml cluster/
start_apiserver --objects cluster --git-version v1.32.4

# api METHOD PATH [BODY [CONTENT_TYPE]]: one request to the test API server.
api() {
  curl -fsS --max-time 5 --cacert "$API_CA" -H "Authorization: Bearer $API_TOKEN" -X "$1" \
    -H "Content-Type: ${4:-application/merge-patch+json}" ${3:+-d "$3"} "$API_SERVER$2"
}

# What the reconciler would write: the policy's status.endpoint (create drops status).
POLICY=/apis/aigateway.kagenti.dev/v1alpha1/namespaces/team-a/aiaccesspolicies/team-a-mtls
api PATCH "$POLICY/status" \
  '{"status":{"endpoint":"https://envoy-team-a-ai-gateway-6c2d9f1e.envoy-gateway-system.svc:8443"}}' >/dev/null

# Every API request fails until the faults are cleared: the injector cannot sync.
faults '{"error_rate": 1.0}'
PORT=$(free_port)
MPORT=$(free_port)
$AIGW_WRAP "$AIGW" serve --dev-self-signed --dev-ca-out ca.pem --listen "127.0.0.1:$PORT" \
  --metrics-listen "127.0.0.1:$MPORT" --kubeconfig "$KC" --drain-timeout 2 2>serve.log &
SERVE_PID=$!
track_pid "$SERVE_PID"
wait_http "http://127.0.0.1:$MPORT/healthz" 300 || { cat serve.log; fail "server did not start"; }
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$MPORT/readyz")
assert_eq "$code" 503 "readyz before the injector's first sync"
ok "not ready while the policy cache cannot sync"
faults '{"error_rate": 0.0}'
wait_http "http://127.0.0.1:$MPORT/readyz" 300 || { tail -20 serve.log; fail "never ready after the faults cleared"; }
ok "ready after the first sync"

# review NAMESPACE OUT: an AdmissionReview for examples/pods/agent.yaml in NAMESPACE.
review() {
  python3 - "$AIGW_ROOT/examples/pods/agent.yaml" "$1" >"$2" <<'PY'
import json, sys, yaml
pod = yaml.safe_load(open(sys.argv[1]))
pod["metadata"]["namespace"] = sys.argv[2]
print(json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
    "uid": "it-" + sys.argv[2], "kind": {"group": "", "version": "v1", "kind": "Pod"},
    "resource": {"group": "", "version": "v1", "resource": "pods"}, "namespace": sys.argv[2],
    "name": pod["metadata"]["name"], "operation": "CREATE", "object": pod,
    "userInfo": {"username": "it"}}}))
PY
}

# mutate REQ RESP: POST to /mutate-pods.
mutate() {
  local code
  code=$(curl -sS --cacert ca.pem --max-time 10 -o "$2" -w '%{http_code}' \
    -H 'Content-Type: application/json' --data-binary "@$1" "https://127.0.0.1:$PORT/mutate-pods")
  assert_eq "$code" 200 "POST /mutate-pods"
}

# patched RESP: prints the names of the containers and init containers the patch adds.
added() {
  python3 - "$1" <<'PY'
import base64, json, sys
r = json.load(open(sys.argv[1]))["response"]
ops = json.loads(base64.b64decode(r["patch"])) if r.get("patch") else []
names = [o["path"] + "=" + o["value"]["name"] for o in ops
         if o["op"] == "add" and isinstance(o.get("value"), dict) and "image" in o["value"]]
print(" ".join(names) if names else "none")
PY
}

review team-a req-a.json
mutate req-a.json resp-a.json
"$conformance" check-pod-patch req-a.json resp-a.json >check.log || { cat check.log; fail "check-pod-patch"; }
assert_eq "$(added resp-a.json)" \
  "/spec/containers/0=aigw-spiffe-helper /spec/containers/1=aigw-egress" \
  "1.32 API server: regular sidecars placed first"
grep -q 'envoy-team-a-ai-gateway-6c2d9f1e.envoy-gateway-system.svc:8443' <(python3 -c '
import base64,json,sys; print(base64.b64decode(json.load(open(sys.argv[1]))["response"]["patch"]).decode())' resp-a.json) ||
  fail "the egress target is not the policy's status.endpoint"
ok "team-a pod injected through the server (check-pod-patch clean)"

review team-b req-b.json
mutate req-b.json resp-b.json
assert_eq "$(added resp-b.json)" "none" "team-b is not opted in"

# Opt team-b in through the API server: the watch brings the label to the cache.
api PATCH /api/v1/namespaces/team-b '{"metadata":{"labels":{"aigateway.kagenti.dev/inject":"enabled"}}}' >/dev/null
seen=""
for _ in $(seq 1 100); do
  mutate req-b.json resp-b.json
  if python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["response"]; sys.exit(0 if any("no AIAccessPolicy in namespace team-b" in w for w in r.get("warnings", [])) else 1)' resp-b.json; then
    seen=1; break
  fi
  sleep 0.1
done
[ -n "$seen" ] || fail "the namespace label never reached the injector's cache"
ok "namespace label change seen through the watch (team-b now warns: no policy)"

# Removing the label takes team-b out of the (label-selected) namespace watch.
api PATCH /api/v1/namespaces/team-b '{"metadata":{"labels":{"aigateway.kagenti.dev/inject":null}}}' >/dev/null
quiet=""
for _ in $(seq 1 100); do
  mutate req-b.json resp-b.json
  if python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["response"]; sys.exit(0 if not r.get("warnings") and not r.get("patch") else 1)' resp-b.json; then
    quiet=1; break
  fi
  sleep 0.1
done
[ -n "$quiet" ] || fail "team-b still opted in after the label was removed"
ok "label removal seen through the watch (team-b admitted unchanged, no warning)"

# No API call per admission: with every API request failing, injection goes on.
before=$(counters)
faults '{"error_rate": 1.0}'
for i in 1 2 3 4 5; do mutate req-a.json "resp-f$i.json"; done
faults '{"error_rate": 0.0}'
after=$(counters)
for verb in GET LIST; do
  b=$(jf "$before" "d.get('$verb', 0)")
  a=$(jf "$after" "d.get('$verb', 0)")
  assert_eq "$a" "$b" "API $verb requests during 5 admissions"
done
assert_eq "$(added resp-f5.json)" \
  "/spec/containers/0=aigw-spiffe-helper /spec/containers/1=aigw-egress" \
  "injection while the API server fails"
ok "5 admissions without an API request"

# Deleting the policy reaches the cache too: team-a pods are then admitted unchanged.
api DELETE "$POLICY" >/dev/null
gone=""
for _ in $(seq 1 100); do
  mutate req-a.json resp-a2.json
  if [ "$(added resp-a2.json)" = none ]; then gone=1; break; fi
  sleep 0.1
done
[ -n "$gone" ] || fail "the policy deletion never reached the injector's cache"
grep -q 'no AIAccessPolicy in namespace team-a' resp-a2.json || fail "no warning after the policy went"
"$conformance" check-pod-patch req-a.json resp-a2.json >check.log || { cat check.log; fail "check-pod-patch (skip)"; }
ok "policy deletion seen through the watch; the pod is admitted unchanged with a warning"

# A clean stop: watch threads joined, cache freed (under valgrind: no leak, exit 0).
kill -TERM "$SERVE_PID"
set +e
wait "$SERVE_PID"
rc=$?
set -e
[ "$rc" -eq 0 ] || { tail -20 serve.log; fail "aigw serve exited with $rc after SIGTERM"; }
grep -q '"msg":"injector cache synced"' serve.log || fail "no 'injector cache synced' log line"
ok "graceful stop with the injector watches running"
