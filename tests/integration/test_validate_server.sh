#!/usr/bin/env bash
# /validate through a running `aigw serve --kubeconfig` against the test API
# server, which supplies Secrets, the trust bundle ConfigMap and other
# policies: denials with causes, warnings, ratcheting on UPDATE, and lookups
# that time out or fail (admitted with a warning naming the check).
source "$AIGW_ROOT/tests/integration/lib.sh"
cd "$TMP"

# --- cluster content for the test API server
mkdir -p cluster
cp "$AIGW_ROOT"/charts/aigw/crds/*.yaml cluster/
python3 - "$AIGW_SHARED/testdata/spiffe-bundles/spire/ca.spiffe" >cluster/objects.json <<'PY'
import base64, json, sys
bundle = open(sys.argv[1]).read()
def routing(name, gw, models):
    return {"apiVersion": "aigateway.kagenti.dev/v1alpha1", "kind": "AIRoutingPolicy",
            "metadata": {"name": name, "namespace": "team-a"},
            "spec": {"targetRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": gw},
                     "providers": [{"name": "openai", "endpoint": "https://api.openai.com/v1",
                                    "schema": "OpenAI"}],
                     "models": [{"name": m, "backends": [{"provider": "openai"}]} for m in models]}}
items = [
    {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "openai-secret", "namespace": "team-a"},
     "type": "Opaque", "data": {"api-key": base64.b64encode(b"sk-test-placeholder").decode()}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "spire-bundle", "namespace": "spire-system"},
     "data": {"bundle.spiffe": bundle}},
    routing("team-b", "ai-gateway", ["shared-model"]),
    {"apiVersion": "aigateway.kagenti.dev/v1alpha1", "kind": "AIAccessPolicy",
     "metadata": {"name": "existing", "namespace": "team-a"},
     "spec": {"targetRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "gw-taken"},
              "mtls": {"trustDomain": "localtest.me"}}},
]
print(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
PY

"$AIGW_ROOT/hack/test-apiserver" --listen 127.0.0.1:0 --kubeconfig-out kubeconfig \
  --objects cluster >apiserver.log 2>&1 &
track_pid $!
for _ in $(seq 1 100); do grep -q '"listening"' apiserver.log 2>/dev/null && break; sleep 0.1; done
grep -q '"listening"' apiserver.log || { cat apiserver.log; fail "test API server did not start"; }
API=$(python3 -c 'import json,sys; print(json.loads([l for l in open(sys.argv[1]) if "listening" in l][0])["listening"])' apiserver.log)
faults() { curl -sk --max-time 5 -o /dev/null -X POST -H 'Content-Type: application/json' --data "$1" "$API/_test/faults" || fail "cannot set faults"; }

PORT=$(free_port)
MPORT=$(free_port)
$AIGW_WRAP "$AIGW" serve --dev-self-signed --dev-ca-out ca.pem --kubeconfig kubeconfig \
  --listen "127.0.0.1:$PORT" --metrics-listen "127.0.0.1:$MPORT" 2>serve.log &
SERVE_PID=$!
track_pid "$SERVE_PID"
wait_http "http://127.0.0.1:$MPORT/healthz" 300 || { cat serve.log; fail "aigw serve did not start"; }

# review NAME KIND OPERATION OBJECT_JSON [OLD_JSON]: writes NAME.req, posts it, writes NAME.rep
review() {
  python3 - "$@" <<'PY'
import json, sys
name, kind, op, obj = sys.argv[1:5]
old = sys.argv[5] if len(sys.argv) > 5 else None
req = {"uid": "uid-" + name, "kind": {"group": "aigateway.kagenti.dev", "version": "v1alpha1", "kind": kind},
       "resource": {"group": "aigateway.kagenti.dev", "version": "v1alpha1", "resource": kind.lower() + "s"},
       "namespace": "team-a", "operation": op, "userInfo": {"username": "test"},
       "object": json.loads(obj), "dryRun": False}
if old:
    req["oldObject"] = json.loads(old)
json.dump({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req}, open(name + ".req", "w"))
PY
  local code
  code=$(curl -sS --cacert ca.pem --max-time 10 -o "$1.rep" -H 'Content-Type: application/json' \
    --data-binary "@$1.req" -w '%{http_code}' "https://127.0.0.1:$PORT/validate") || fail "$1: request failed"
  assert_eq "$code" 200 "$1: HTTP status"
}
field() { python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['response']; print($2)" "$1.rep"; }

routing() {  # routing NAME SECRET MODEL [TOKENS]
  printf '{"apiVersion":"aigateway.kagenti.dev/v1alpha1","kind":"AIRoutingPolicy","metadata":{"name":"%s","namespace":"team-a"},"spec":{"targetRef":{"name":"ai-gateway"},"providers":[{"name":"openai","endpoint":"https://api.openai.com/v1","schema":"OpenAI","credentials":{"type":"APIKey","secretRef":{"name":"%s","key":"api-key"}}}],"models":[{"name":"%s","backends":[{"provider":"openai"}],"rateLimit":{"tokensPerHour":%s}}]}}' "$1" "$2" "$3" "${4:-1000}"
}
access() {  # access NAME GATEWAY BUNDLE_NAME
  printf '{"apiVersion":"aigateway.kagenti.dev/v1alpha1","kind":"AIAccessPolicy","metadata":{"name":"%s","namespace":"team-a"},"spec":{"targetRef":{"name":"%s"},"mtls":{"trustDomain":"localtest.me","trustBundleConfigMap":{"name":"%s"}}}}' "$1" "$2" "$3"
}

# 1. valid: the Secret exists, the model is free
review ok AIRoutingPolicy CREATE "$(routing team-a openai-secret gpt-4o)"
assert_eq "$(field ok 'r["allowed"]')" True "valid routing policy"
assert_eq "$(field ok 'r["uid"]')" uid-ok "uid echoed"
assert_eq "$(field ok 'len(r.get("warnings", []))')" 0 "no warnings for a clean policy"
ok "valid routing policy admitted"

# 2. missing Secret and a model another policy serves: both errors, as causes
review bad AIRoutingPolicy CREATE "$(routing team-a nope shared-model)"
assert_eq "$(field bad 'r["allowed"]')" False "invalid routing policy"
assert_eq "$(field bad 'r["status"]["code"]')" 422 "status code"
assert_eq "$(field bad 'r["status"]["reason"]')" Invalid "status reason"
field bad 'r["status"]["message"]' | grep -cF 'spec.providers[0].credentials.secretRef.name: Not found: "nope"' >/dev/null || fail "secret error missing: $(cat bad.rep)"
field bad 'r["status"]["message"]' | grep -cF 'spec.models[0].name: Invalid value: "shared-model": already served on Gateway "ai-gateway" by AIRoutingPolicy "team-b"' >/dev/null || fail "shared model error missing: $(cat bad.rep)"
assert_eq "$(field bad 'sorted(c["field"] for c in r["status"]["details"]["causes"])')" "['spec.models[0].name', 'spec.providers[0].credentials.secretRef.name']" "causes"
ok "missing Secret and shared model denied with causes"

# 3. access policies: healthy bundle, a taken Gateway, a bundle not there yet
review acc AIAccessPolicy CREATE "$(access team-a-mtls ai-gateway spire-bundle)"
assert_eq "$(field acc 'r["allowed"]')" True "access policy with a healthy bundle"
review taken AIAccessPolicy CREATE "$(access second gw-taken spire-bundle)"
assert_eq "$(field taken 'r["allowed"]')" False "second access policy"
field taken 'r["status"]["message"]' | grep -cF 'spec.targetRef.name: Invalid value: "gw-taken": Gateway already has AIAccessPolicy "existing"' >/dev/null || fail "second policy error missing: $(cat taken.rep)"
review nobundle AIAccessPolicy CREATE "$(access team-a-mtls ai-gateway not-yet)"
assert_eq "$(field nobundle 'r["allowed"]')" True "missing bundle ConfigMap is admitted"
field nobundle '"\n".join(r["warnings"])' | grep -cF 'trust bundle ConfigMap spire-system/not-yet does not exist yet' >/dev/null || fail "bundle warning missing: $(cat nobundle.rep)"
ok "access policy checks"

# 4. ratcheting: an UPDATE that does not touch the (missing) Secret reference passes
review ratchet AIRoutingPolicy UPDATE "$(routing team-a nope gpt-4o 5)" "$(routing team-a nope gpt-4o 1000)"
assert_eq "$(field ratchet 'r["allowed"]')" True "ratcheted update"
review ratchet2 AIRoutingPolicy UPDATE "$(routing team-a nope2 gpt-4o 5)" "$(routing team-a nope gpt-4o 1000)"
assert_eq "$(field ratchet2 'r["allowed"]')" False "changed secret reference is checked"
ok "ratcheting"

# 5. dryRun is validated the same way
python3 -c 'import json; d=json.load(open("bad.req")); d["request"]["dryRun"]=True; json.dump(d, open("dry.json","w"))'
code=$(curl -sS --cacert ca.pem --max-time 10 -o dry.rep -H 'Content-Type: application/json' --data-binary @dry.json -w '%{http_code}' "https://127.0.0.1:$PORT/validate")
assert_eq "$code" 200 "dryRun status"
assert_eq "$(field dry 'r["allowed"]')" False "dryRun denied alike"

# 6. the API server answers slower than the 2 s budget: admitted with a warning
faults '{"latency_ms": 3000}'
start=$(date +%s%N)
review slow AIRoutingPolicy CREATE "$(routing team-a nope shared-model)"
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
assert_eq "$(field slow 'r["allowed"]')" True "lookup timeout admits"
field slow '"\n".join(r["warnings"])' | grep -cF 'Secret "nope" could not be checked (timed out' >/dev/null || fail "timeout warning missing: $(cat slow.rep)"
[ "$elapsed" -lt 4800 ] || fail "admission took ${elapsed} ms, past the webhook's timeout"
ok "lookup timeout: admitted with a warning in ${elapsed} ms"

# 7. the API server fails: admitted with a warning
faults '{"latency_ms": 0, "error_rate": 1.0}'
review failing AIAccessPolicy CREATE "$(access team-a-mtls ai-gateway spire-bundle)"
assert_eq "$(field failing 'r["allowed"]')" True "lookup error admits"
field failing '"\n".join(r["warnings"])' | grep -cF 'could not be checked (lookup failed' >/dev/null || fail "failure warning missing: $(cat failing.rep)"
faults '{"error_rate": 0.0}'
ok "lookup failure: admitted with a warning"

# the Secret's value never reaches the log or a reply
if grep -q 'sk-test-placeholder' serve.log ./*.rep; then fail "secret value leaked"; fi

# a clean, graceful stop (under valgrind: no error and no leak)
kill -TERM "$SERVE_PID"
set +e
wait "$SERVE_PID"
rc=$?
set -e
[ "$rc" = 0 ] || { tail -n 40 serve.log; fail "aigw serve exited with $rc"; }
ok "serve stopped cleanly"
