#!/usr/bin/env bash
# aigw reconcile at scale under faults (issue 8 item 4): 100 AIRoutingPolicies,
# 10% of write requests failing with 500, every watch connection cut after 100
# events, 410 on resumed watches -> exactly the expected objects (names,
# labels, owner uids), every policy Programmed for its generation; then 10
# updates under the same faults converge; then a resync with no change makes
# zero writes.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/reconcile_env.sh"

N=100
make_objects
start_apiserver --watch-drop-after 100
$KAPI raw POST /_test/faults '{"error_rate": 0.1, "verbs": ["CREATE", "UPDATE", "PATCH", "APPLY", "DELETE"], "expire_next_resumes": 5, "seed": 11}' >/dev/null
start_reconciler r1 --resync 3s --workers 4

gen_policies() { # gen_policies SUFFIX: N policies, two models each, unique model names
  for i in $(seq 1 "$N"); do cat <<YAML
---
apiVersion: $AIGW_API
kind: AIRoutingPolicy
metadata: {name: p$i, namespace: team-a}
spec:
  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: ai-gateway}
  providers:
  - name: openai
    endpoint: https://api.openai.com/v1
    schema: OpenAI
    credentials: {type: APIKey, secretRef: {name: openai-secret, key: api-key}}
  models:
  - name: m$i-a$1
    backends: [{provider: openai, model: gpt-4o}]
    rateLimit: {tokensPerHour: $((1000 * i))}
  - name: m$i-b
    backends: [{provider: openai, model: gpt-4o-mini}]
YAML
  done
}
gen_policies "" >"$TMP/policies.yaml"
t0=$(date +%s)
$KAPI create-many "$ROUTING" "$TMP/policies.yaml" || fail "creating policies"
all_programmed="len(d)==$N and all(p.get('status',{}).get('observedGeneration')==p['metadata']['generation'] and \
any(c['type']=='Programmed' and c['status']=='True' for c in p['status']['conditions']) for p in d)"
$KAPI wait-list "$ROUTING" "$all_programmed" 90 || fail "not every policy became Programmed"
ok "$N policies Programmed under faults in $(( $(date +%s) - t0 ))s"

check_exact() { # every generated kind holds exactly the expected names, owned by the right uid
  python3 - "$KC" "$AIGW_ROOT/tests/integration/reconcile_kapi.py" "$N" "$1" <<'PY'
import importlib.util, sys
spec = importlib.util.spec_from_file_location("kapi", sys.argv[2])
kapi = importlib.util.module_from_spec(spec); spec.loader.exec_module(kapi)
kc = kapi.client(sys.argv[1]); n = int(sys.argv[3]); suffix = sys.argv[4]
def items(path):
    code, obj = kapi.request(kc, "GET", path)
    assert code == 200, (path, code, obj)
    return obj["items"]
uids = {p["metadata"]["name"]: p["metadata"]["uid"]
        for p in items("/apis/aigateway.kagenti.dev/v1alpha1/namespaces/team-a/airoutingpolicies")}
assert len(uids) == n, len(uids)
kinds = {
  "/apis/gateway.envoyproxy.io/v1alpha1/namespaces/team-a/backends": "-openai",
  "/apis/aigateway.envoyproxy.io/v1beta1/namespaces/team-a/aiservicebackends": "-openai",
  "/apis/aigateway.envoyproxy.io/v1beta1/namespaces/team-a/backendsecuritypolicies": "-openai",
  "/apis/aigateway.envoyproxy.io/v1beta1/namespaces/team-a/aigatewayroutes": "",
  "/apis/gateway.envoyproxy.io/v1alpha1/namespaces/team-a/backendtrafficpolicies": "",
  "/api/v1/namespaces/team-a/secrets?labelSelector=app.kubernetes.io%2Fmanaged-by%3Daigw": "-openai-credentials",
}
total = 0
for path, sfx in kinds.items():
    got = {}
    for o in items(path):
        m = o["metadata"]
        refs = [r["uid"] for r in m.get("ownerReferences", []) if r.get("controller")]
        got[m["name"]] = (refs, m["labels"].get("aigateway.kagenti.dev/policy"))
    want = {"p%d%s" % (i, sfx): ([uids["p%d" % i]], "p%d" % i) for i in range(1, n + 1)}
    assert got == want, (path, sorted(set(got) ^ set(want))[:10],
                         [k for k in want if k in got and got[k] != want[k]][:5])
    total += len(got)
routes = items("/apis/aigateway.envoyproxy.io/v1beta1/namespaces/team-a/aigatewayroutes")
values = sorted(h["value"] for r in routes for rule in r["spec"]["rules"]
                for m in rule["matches"] for h in m.get("headers", []))
want = sorted(["m%d-a%s" % (i, suffix) for i in range(1, n + 1)] + ["m%d-b" % i for i in range(1, n + 1)])
assert values == want, (values[:5], want[:5])
print(total)
PY
}
total=$(check_exact "") || fail "generated objects differ from the expected set"
ok "exactly $total generated objects, names, labels and owner uids as expected"

# 10 updates (a model renamed) under the same faults
for i in $(seq 1 10); do
  for attempt in $(seq 1 20); do
    $KAPI merge "$ROUTING/p$i" "{\"spec\":{\"models\":[{\"name\":\"m$i-a2\",\"backends\":[{\"provider\":\"openai\",\"model\":\"gpt-4o\"}],\"rateLimit\":{\"tokensPerHour\":$((1000 * i))}},{\"name\":\"m$i-b\",\"backends\":[{\"provider\":\"openai\",\"model\":\"gpt-4o-mini\"}]}]}}" 2>/dev/null && break
    [ "$attempt" -lt 20 ] || fail "update p$i"
    sleep 0.1
  done
done
$KAPI wait-list "$ROUTING" "$all_programmed and sum(1 for p in d if p['metadata']['generation']==2)==10" 60 ||
  fail "updates did not converge"
python3 - "$KC" "$AIGW_ROOT/tests/integration/reconcile_kapi.py" <<'PY' || fail "renamed models not routed"
import importlib.util, sys
spec = importlib.util.spec_from_file_location("kapi", sys.argv[2])
kapi = importlib.util.module_from_spec(spec); spec.loader.exec_module(kapi)
kc = kapi.client(sys.argv[1])
code, obj = kapi.request(kc, "GET", "/apis/aigateway.envoyproxy.io/v1beta1/namespaces/team-a/aigatewayroutes")
values = {h["value"] for r in obj["items"] for rule in r["spec"]["rules"] for m in rule["matches"] for h in m.get("headers", [])}
for i in range(1, 11):
    assert "m%d-a2" % i in values and "m%d-a" % i not in values, i
assert len(values) == 200, len(values)
PY
ok "10 updates under faults converged"

# faults off; a resync with no change writes nothing
$KAPI raw POST /_test/faults '{"error_rate": 0, "expire_next_resumes": 0}' >/dev/null
counters=$($KAPI raw GET /_test/counters | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("faults_500",0), d.get("faults_watch_drop",0), d.get("faults_410",0))')
set -- $counters
[ "$1" -gt 0 ] || fail "no write failed: the fault injection did not work"
sleep 2
$KAPI raw POST /_test/reset-counters >/dev/null
sleep 7 # two resyncs of 3 s
assert_eq "$(writes_no_leases)" 0 "writes during a no-op resync of $N policies"
ok "faults seen (500: $1, watch drops: $2, 410: $3); no-op resync of $N policies: 0 writes"

# a clean stop (exit 0; under ASan/valgrind: no leak) that releases the Lease
kill -TERM "$PID_r1"
for _ in $(seq 1 300); do kill -0 "$PID_r1" 2>/dev/null || break; sleep 0.1; done
wait "$PID_r1" || fail "r1 exited with an error after SIGTERM: $(tail -20 "$TMP/r1.log")"
ok "clean stop"
