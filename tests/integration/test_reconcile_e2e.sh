#!/usr/bin/env bash
# aigw reconcile end to end against the test API server (DESIGN §5, issue 6
# item 4): create -> generated objects with labels and owner references,
# Programmed=True; change a model -> converge; remove a provider -> its objects
# go; missing Secret -> CredentialSecretNotFound; access policy -> CA Secret,
# Gateway listener, endpoint; bundle rotation within one resync; expired-only
# bundle -> BundleEmpty; a no-op resync makes zero writes; faults (500, 409,
# dropped watches, 410) -> same final state; two reconcilers -> only the
# leader writes, the standby takes over after SIGTERM; delete -> cascade and
# the finalizer frees the Gateway listener.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/reconcile_env.sh"

RESYNC=2s
make_objects
start_apiserver --watch-drop-after 3 # every watch connection is cut after 3 events
start_reconciler r1 --resync "$RESYNC"

policy_yaml() { # policy_yaml MODEL2_NAME WITH_ANTHROPIC(0|1) OPENAI_SECRET
  cat <<YAML
apiVersion: $AIGW_API
kind: AIRoutingPolicy
metadata: {name: team-a-models, namespace: team-a}
spec:
  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: ai-gateway}
  providers:
  - name: openai
    endpoint: https://api.openai.com/v1
    schema: OpenAI
    credentials: {type: APIKey, secretRef: {name: $3, key: api-key}}
YAML
  if [ "$2" = 1 ]; then cat <<YAML
  - name: anthropic
    endpoint: https://api.anthropic.com
    schema: Anthropic
    credentials: {type: AnthropicAPIKey, secretRef: {name: anthropic-secret, key: api-key}}
YAML
  fi
  cat <<YAML
  models:
  - name: gpt-4o
    backends: [{provider: openai, model: gpt-4o}]
    rateLimit: {tokensPerHour: 100000}
YAML
  if [ "$2" = 1 ]; then cat <<YAML
  - name: $1
    backends: [{provider: anthropic, model: claude-sonnet-4}]
YAML
  else cat <<YAML
  - name: $1
    backends: [{provider: openai, model: gpt-4o-mini}]
YAML
  fi
}
P=$ROUTING/team-a-models
programmed_gen() { echo "d['status']['observedGeneration']==d['metadata']['generation'] and $(cond Programmed True)"; }

# --- 1. create: generated objects, labels, owner references, Programmed=True
policy_yaml claude 1 openai-secret | kapply_yaml POST "$ROUTING"
kwait "$P" "$(programmed_gen)" 30
uid=$(kget "$P" | python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["uid"])')
for obj in "$EG/backends/team-a-models-openai" "$EG/backends/team-a-models-anthropic" \
           "$AIEG/aiservicebackends/team-a-models-openai" "$AIEG/backendsecuritypolicies/team-a-models-anthropic" \
           "$AIEG/aigatewayroutes/team-a-models" "$EG/backendtrafficpolicies/team-a-models" \
           "$SECRETS/team-a-models-openai-credentials"; do
  kwait "$obj" "d['metadata']['labels']['app.kubernetes.io/managed-by']=='aigw' and \
d['metadata']['labels']['aigateway.kagenti.dev/policy']=='team-a-models' and \
d['metadata']['labels']['aigateway.kagenti.dev/policy-kind']=='AIRoutingPolicy' and \
[r['uid'] for r in d['metadata']['ownerReferences'] if r.get('controller')]==['$uid']" 10
done
kwait "$P" "[p['name'] for p in d['status']['providers'] if p['ready']]==['openai','anthropic'] and len(d['status']['models'])==2" 5
ok "create: 7 generated objects labelled and owned, Programmed=True"

# --- 2. change a model -> the route converges
policy_yaml claude-opus 1 openai-secret | kapply_yaml PUT "$P"
kwait "$P" "d['metadata']['generation']==2 and $(programmed_gen)" 30
kwait "$AIEG/aigatewayroutes/team-a-models" "any(h.get('value')=='claude-opus' for r in d['spec']['rules'] for m in r['matches'] for h in m.get('headers',[])) and \
not any(h.get('value')=='claude' for r in d['spec']['rules'] for m in r['matches'] for h in m.get('headers',[]))" 10
ok "change a model: route updated"

# --- 3. remove a provider -> its objects are deleted
policy_yaml gpt-4o-mini 0 openai-secret | kapply_yaml PUT "$P"
kwait "$P" "d['metadata']['generation']==3 and $(programmed_gen)" 30
for obj in "$EG/backends/team-a-models-anthropic" "$AIEG/aiservicebackends/team-a-models-anthropic" \
           "$AIEG/backendsecuritypolicies/team-a-models-anthropic" "$SECRETS/team-a-models-anthropic-credentials"; do
  kwait "$obj" "d is None" 10
done
kget "$EG/backends/team-a-models-openai" >/dev/null || fail "openai Backend must stay"
ok "remove a provider: its 4 objects deleted, the rest kept"

# --- 4. missing Secret -> CredentialSecretNotFound, then the Secret appears -> converges
policy_yaml gpt-4o-mini 0 openai-later | kapply_yaml PUT "$P"
kwait "$P" "d['status']['observedGeneration']==4 and $(cond ProvidersConfigured False CredentialSecretNotFound) and \
$(cond Programmed False CredentialSecretNotFound) and d['status']['providers'][0]['ready'] is False and \
'openai-later' in d['status']['providers'][0]['error']" 30
kwait /api/v1/namespaces/team-a/events "any(e['reason']=='CredentialSecretNotFound' and e['involvedObject']['name']=='team-a-models' for e in d['items'])" 10
kapply_yaml POST "$SECRETS" <<'YAML'
apiVersion: v1
kind: Secret
metadata: {name: openai-later, namespace: team-a}
data: {api-key: c2stbGF0ZXI=}
YAML
kwait "$P" "$(programmed_gen)" 30
ok "missing Secret: CredentialSecretNotFound with providers[].error and an Event; recovers when created"

# --- 5. access policy: CA Secret, server cert, Gateway listener, endpoint
A=$ACCESS/team-a-mtls
kapply_yaml POST "$ACCESS" <"$AIGW_ROOT/examples/access-policy.yaml"
kwait "$A" "$(programmed_gen) and d['status']['endpoint'].startswith('https://envoy-team-a-ai-gateway-6c2d9f1e.envoy-gateway-system.svc') and \
d['status']['bundle']['certificates']==1 and 'aigateway.kagenti.dev/gateway-listeners' in d['metadata']['finalizers']" 30
kwait "$GATEWAY" "d['spec']['listeners'][0]['tls']['certificateRefs'][0]['name']=='team-a-mtls-mtls-server'" 10
kwait "$SECRETS/team-a-mtls-mtls-ca" "'ca.crt' in d['data']" 10
kwait "$SECRETS/team-a-mtls-mtls-server" "d['type']=='kubernetes.io/tls'" 10
kwait "$AIEG/aigatewayroutes/team-a-models" "d['spec']['parentRefs'][0].get('sectionName')=='https'" 10
ok "access policy: Programmed, endpoint, CA and server Secrets, Gateway certificateRefs, routes on the HTTPS listener"

# --- 5b. what aigw must not do: race loser, name conflict, no HTTPS listener, foreign manager
D=$ROUTING/team-a-dup
kapply_yaml POST "$ROUTING" <<YAML
apiVersion: $AIGW_API
kind: AIRoutingPolicy
metadata: {name: team-a-dup, namespace: team-a}
spec:
  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: ai-gateway}
  providers:
  - {name: openai, endpoint: https://api.openai.com/v1, schema: OpenAI}
  models:
  - name: gpt-4o
    backends: [{provider: openai}]
YAML
kwait "$D" "$(cond Accepted False Conflicted) and 'team-a-models' in [c for c in d['status']['conditions'] if c['type']=='Accepted'][0]['message']" 20
kget "$EG/backends/team-a-dup-openai" >/dev/null 2>&1 && fail "the race loser must not write objects"
$KAPI send DELETE "$D" - </dev/null || fail "delete team-a-dup"
kapply_yaml POST "$EG/backends" <<'YAML'
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: other-openai, namespace: team-a}
spec:
  endpoints: [{fqdn: {hostname: example.com, port: 443}}]
YAML
kapply_yaml POST "$ROUTING" <<YAML
apiVersion: $AIGW_API
kind: AIRoutingPolicy
metadata: {name: other, namespace: team-a}
spec:
  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: ai-gateway}
  providers:
  - {name: openai, endpoint: https://api.openai.com/v1, schema: OpenAI}
  models:
  - name: other-model
    backends: [{provider: openai}]
YAML
kwait "$ROUTING/other" "$(cond ProvidersConfigured False NameConflict) and $(cond Programmed False NameConflict) and \
'not managed by aigw' in d['status']['providers'][0]['error']" 20
kwait "$EG/backends/other-openai" "d['spec']['endpoints'][0]['fqdn']['hostname']=='example.com' and 'labels' not in d['metadata']" 5
$KAPI send DELETE "$ROUTING/other" - </dev/null || fail "delete other"
kapply_yaml POST "$ACCESS" <<YAML
apiVersion: $AIGW_API
kind: AIAccessPolicy
metadata: {name: plain-mtls, namespace: team-a}
spec:
  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: plain-gw}
  mtls: {trustDomain: localtest.me}
YAML
kwait "$ACCESS/plain-mtls" "$(cond MTLSActive False ListenerNotHTTPS) and 'HTTPS' in [c for c in d['status']['conditions'] if c['type']=='MTLSActive'][0]['message']" 20
kwait /apis/gateway.networking.k8s.io/v1/namespaces/team-a/gateways/plain-gw "d['spec']['listeners'][0]['protocol']=='HTTP' and 'tls' not in d['spec']['listeners'][0]" 5
$KAPI apply /apis/gateway.networking.k8s.io/v1/namespaces/team-a/gateways/helm-gw helm - <<'YAML' || fail "helm apply"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: helm-gw, namespace: team-a}
spec:
  gatewayClassName: envoy-gateway
  listeners:
  - {name: https, protocol: HTTPS, port: 8443, tls: {mode: Terminate, certificateRefs: [{kind: Secret, name: helm-cert}]}}
YAML
kapply_yaml POST "$ACCESS" <<YAML
apiVersion: $AIGW_API
kind: AIAccessPolicy
metadata: {name: helm-mtls, namespace: team-a}
spec:
  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: helm-gw}
  mtls: {trustDomain: localtest.me}
YAML
kwait "$ACCESS/helm-mtls" "$(cond MTLSActive False ApplyFailed) and 'helm' in [c for c in d['status']['conditions'] if c['type']=='MTLSActive'][0]['message']" 20
kwait /apis/gateway.networking.k8s.io/v1/namespaces/team-a/gateways/helm-gw "d['spec']['listeners'][0]['tls']['certificateRefs'][0]['name']=='helm-cert'" 5
for a in plain-mtls helm-mtls; do $KAPI send DELETE "$ACCESS/$a" - </dev/null || fail "delete $a"; kwait "$ACCESS/$a" "d is None" 20; done
ok "race loser Conflicted (no objects), foreign Backend NameConflict (untouched), ListenerNotHTTPS, Helm-owned listener ApplyFailed naming helm"

# --- 6. a no-op resync makes zero writes
sleep 1
$KAPI raw POST /_test/reset-counters >/dev/null
sleep 5 # more than two resync periods
w=$(writes_no_leases)
assert_eq "$w" 0 "writes during no-op resyncs (Leases excluded)"
reconciles=$(metric 'aigw_reconcile_total{kind="AIRoutingPolicy",result="success"}' "$METRICS_r1")
[ "${reconciles%.*}" -ge 3 ] || fail "resyncs did not reconcile (aigw_reconcile_total=$reconciles)"
ok "no-op resync: 0 write requests over 2+ resyncs"

# metrics of DESIGN §8, valid exposition format
curl -fsS "http://127.0.0.1:$METRICS_r1/metrics" >"$TMP/metrics.txt" || fail "metrics"
for m in aigw_reconcile_total aigw_reconcile_duration_seconds_bucket aigw_kube_requests_total \
         aigw_leader aigw_build_info; do
  grep -q "^$m" "$TMP/metrics.txt" || fail "metric $m missing"
done
grep -q '^aigw_kube_requests_total{verb="apply",code="200"}' "$TMP/metrics.txt" || fail "no apply counted"
if command -v promtool >/dev/null; then
  promtool check metrics <"$TMP/metrics.txt" || fail "promtool check metrics"
fi
ok "metrics present and valid"

# --- 7. bundle rotated -> CA Secret updated; expired-only bundle -> BundleEmpty
old_ca=$(kget "$SECRETS/team-a-mtls-mtls-ca" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["ca.crt"])')
python3 - "$AIGW_SHARED/testdata/spiffe-bundles/spire/ca2.spiffe" >"$TMP/rotated.json" <<'PY'
import json, sys
print(json.dumps({"data": {"bundle.spiffe": open(sys.argv[1]).read()}}))
PY
$KAPI merge "$BUNDLE" "$(cat "$TMP/rotated.json")" || fail "bundle update"
kwait "$SECRETS/team-a-mtls-mtls-ca" "d['data']['ca.crt']!='$old_ca'" 10
kwait "$A" "$(cond BundleReady True Loaded) and $(cond Programmed True)" 10
python3 - "$AIGW_SHARED/testdata/spiffe-bundles/go-spiffe/spiffebundle_valid_1.json" >"$TMP/expired.json" <<'PY'
import json, sys
print(json.dumps({"data": {"bundle.spiffe": open(sys.argv[1]).read()}}))
PY
$KAPI merge "$BUNDLE" "$(cat "$TMP/expired.json")" || fail "bundle update"
kwait "$A" "$(cond BundleReady False BundleEmpty) and $(cond Programmed False BundleEmpty) and d['status']['bundle']['certificates']==0 and d['status']['bundle']['expired']==1" 10
kwait /api/v1/namespaces/team-a/events "any(e['reason']=='BundleEmpty' for e in d['items'])" 10
$KAPI merge "$BUNDLE" "$(cat "$TMP/rotated.json")" || fail "bundle update"
kwait "$A" "$(cond Programmed True)" 10
ok "bundle rotation updates the CA Secret; an expired-only bundle gives BundleEmpty (and an Event)"

# --- 8. faults: 500s, 409s, dropped watches, 410 -> same final state
$KAPI raw POST /_test/faults '{"error_rate": 0.2, "conflict_rate": 0.2, "expire_next_resumes": 3, "seed": 7}' >/dev/null
# the test's own requests meet the faults too: retry them (bounded)
for i in $(seq 1 30); do
  policy_yaml claude 1 openai-secret | $KAPI send PUT "$P" - 2>/dev/null && break
  [ "$i" -lt 30 ] || fail "could not update the policy under faults"
  sleep 0.2
done
sleep 4
$KAPI raw POST /_test/faults '{"error_rate": 0, "conflict_rate": 0}' >/dev/null
gen=$(kget "$P" | python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["generation"])')
kwait "$P" "d['status']['observedGeneration']==$gen and $(cond Programmed True)" 40
for obj in "$EG/backends/team-a-models-anthropic" "$AIEG/aiservicebackends/team-a-models-anthropic" \
           "$AIEG/backendsecuritypolicies/team-a-models-anthropic" "$SECRETS/team-a-models-anthropic-credentials"; do
  kwait "$obj" "[r['uid'] for r in d['metadata']['ownerReferences'] if r.get('controller')]==['$uid']" 20
done
kwait "$AIEG/aigatewayroutes/team-a-models" "any(h.get('value')=='claude' for r in d['spec']['rules'] for m in r['matches'] for h in m.get('headers',[]))" 20
$KAPI raw POST /_test/faults '{"expire_next_resumes": 0}' >/dev/null
faults=$($KAPI raw GET /_test/counters | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("faults_500",0), d.get("faults_409",0), d.get("faults_watch_drop",0))')
set -- $faults
[ "$1" -gt 0 ] && [ "$2" -gt 0 ] && [ "$3" -gt 0 ] || fail "faults were not exercised: 500=$1 409=$2 drops=$3"
ok "faults (500: $1, 409: $2, watch drops: $3): converged to the expected state"

# --- 9. two reconcilers: only the leader writes; the standby takes over after SIGTERM
start_reconciler r2 --resync "$RESYNC"
assert_eq "$(metric aigw_leader "$METRICS_r1")" 1 "r1 leads"
assert_eq "$(metric aigw_leader "$METRICS_r2")" 0 "r2 stands by"
seq0=$($KAPI raw GET /_test/log | python3 -c 'import json,sys; l=json.load(sys.stdin)["items"]; print(l[-1]["seq"] if l else 0)')
policy_yaml claude-3 1 openai-secret | kapply_yaml PUT "$P"
kwait "$P" "d['status']['observedGeneration']==d['metadata']['generation'] and $(cond Programmed True)" 20
sleep 3
r2_writes=$($KAPI raw GET /_test/log | python3 -c '
import json, sys
n = 0
for e in json.load(sys.stdin)["items"]:
    if e["seq"] > '"$seq0"' and "(r2)" in e.get("userAgent", "") and e["verb"] in ("CREATE","UPDATE","PATCH","APPLY","DELETE"):
        n += 1
print(n)')
assert_eq "$r2_writes" 0 "writes by the standby"
t0=$(date +%s)
kill -TERM "$PID_r1"
for _ in $(seq 1 200); do kill -0 "$PID_r1" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PID_r1" 2>/dev/null && fail "r1 did not stop on SIGTERM"
wait "$PID_r1" || fail "r1 exited with an error after SIGTERM"
kwait /apis/coordination.k8s.io/v1/namespaces/default/leases/aigw-reconciler "d['spec'].get('holderIdentity')=='r2'" 20
took=$(( $(date +%s) - t0 ))
[ "$took" -le 20 ] || fail "takeover took ${took}s"
for _ in $(seq 1 50); do [ "$(metric aigw_leader "$METRICS_r2")" = 1 ] && break; sleep 0.1; done
assert_eq "$(metric aigw_leader "$METRICS_r2")" 1 "r2 leads"
policy_yaml claude 1 openai-secret | kapply_yaml PUT "$P"
kwait "$P" "d['status']['observedGeneration']==d['metadata']['generation'] and $(cond Programmed True)" 20
grep -q '"leader: released lease"' "$TMP/r1.log" || fail "r1 did not release the Lease"
ok "two reconcilers: standby wrote nothing, took over ${took}s after SIGTERM (lease released), reconciles"

# --- 10. delete: cascade removes everything; the finalizer frees the Gateway listener
$KAPI send DELETE "$A" - </dev/null || fail "delete access policy"
kwait "$A" "d is None" 20
# the Gateway no longer names the server certificate Secret, and aigw-gateway owns nothing
kwait "$GATEWAY" "not any(r.get('name') for r in d['spec']['listeners'][0].get('tls',{}).get('certificateRefs',[])) and \
not any(m['manager']=='aigw-gateway' for m in d['metadata'].get('managedFields',[]))" 10
$KAPI send DELETE "$P" - </dev/null || fail "delete routing policy"
kwait "$P" "d is None" 10
for obj in "$EG/backends/team-a-models-openai" "$AIEG/aigatewayroutes/team-a-models" \
           "$EG/backendtrafficpolicies/team-a-models" "$SECRETS/team-a-models-openai-credentials" \
           "$SECRETS/team-a-mtls-mtls-ca" "$EG/clienttrafficpolicies/team-a-mtls"; do
  kwait "$obj" "d is None" 20
done
ok "delete: generated objects removed, Gateway certificateRefs released by the finalizer"

# --- 11. the standby-turned-leader stops cleanly too (exit 0; under ASan/valgrind: no leak)
kill -TERM "$PID_r2"
for _ in $(seq 1 300); do kill -0 "$PID_r2" 2>/dev/null || break; sleep 0.1; done
wait "$PID_r2" || fail "r2 exited with an error after SIGTERM: $(tail -20 "$TMP/r2.log")"
kwait /apis/coordination.k8s.io/v1/namespaces/default/leases/aigw-reconciler "not d['spec'].get('holderIdentity')" 5
ok "r2 stopped cleanly and released the Lease"
