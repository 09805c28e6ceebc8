#!/usr/bin/env bash
# Fidelity proof with the real client (issue 3, item 4): the real kubectl, from
# hack/install-k8s-tools.sh, against hack/test-apiserver through the kubeconfig
# the server writes: create -f, get -o json, get -w (bounded, with a change made
# meanwhile), apply --server-side (and a conflict between field managers),
# patch --subresource=status and delete, for a Secret, a ConfigMap and an
# AIRoutingPolicy (after creating its CRD from charts/aigw/crds/ when present).
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$here/lib.sh"

bin=$("$AIGW_ROOT/hack/install-k8s-tools.sh") || fail "install-k8s-tools.sh"
KUBECTL=$bin/kubectl
[ -x "$KUBECTL" ] || fail "kubectl not installed"

export HOME=$TMP KUBECACHEDIR=$TMP/kube-cache
export KUBECONFIG=$TMP/kubeconfig
"$AIGW_ROOT/hack/test-apiserver" --listen 127.0.0.1:0 --kubeconfig-out "$KUBECONFIG" \
  >"$TMP/apiserver.out" 2>"$TMP/apiserver.err" &
track_pid $!
for _ in $(seq 1 100); do [ -s "$KUBECONFIG" ] && break; sleep 0.1; done
[ -s "$KUBECONFIG" ] || { cat "$TMP/apiserver.err" >&2; fail "test-apiserver did not start"; }

k() { "$KUBECTL" --request-timeout=20s "$@"; }

# py FILE EXPR: evaluates EXPR on the JSON document d of FILE.
py() { json_get "$1" "$2"; }

server_version=$(k version -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["serverVersion"]["gitVersion"])')
assert_eq "$server_version" "v1.33.0" "kubectl version sees the server"
ok "kubectl version: server $server_version"

ns=fidelity
# Typed generators send protobuf bodies.
k create namespace "$ns" >/dev/null || fail "create namespace"
assert_eq "$(k get namespace "$ns" -o jsonpath='{.status.phase}')" "Active" "namespace phase"

k create configmap generated -n "$ns" --from-literal=a=b >/dev/null || fail "create configmap (protobuf)"
assert_eq "$(k get configmap generated -n "$ns" -o jsonpath='{.data.a}')" "b" "generated configmap"
k create secret generic generated -n "$ns" --from-literal=k=v >/dev/null || fail "create secret (protobuf)"
assert_eq "$(k get secret generated -n "$ns" -o jsonpath='{.type} {.data.k}')" "Opaque dg==" "generated secret"
ok "typed generators (protobuf bodies): create namespace, configmap, secret"

# --- the CRD --------------------------------------------------------------
crd=$AIGW_ROOT/charts/aigw/crds/aigateway.kagenti.dev_airoutingpolicies.yaml
if [ ! -f "$crd" ]; then
  crd=$TMP/airoutingpolicies-crd.yaml
  cat >"$crd" <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: airoutingpolicies.aigateway.kagenti.dev
spec:
  group: aigateway.kagenti.dev
  names: {kind: AIRoutingPolicy, listKind: AIRoutingPolicyList, plural: airoutingpolicies,
          singular: airoutingpolicy, shortNames: [airp]}
  scope: Namespaced
  versions:
    - name: v1alpha1
      served: true
      storage: true
      subresources: {status: {}}
      additionalPrinterColumns:
        - {name: Programmed, type: string, jsonPath: '.status.conditions[?(@.type=="Programmed")].status'}
        - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
YAML
  ok "using a minimal AIRoutingPolicy CRD (charts/aigw/crds/ not present)"
fi
out=$(k create -f "$crd") || fail "create CRD"
assert_eq "$out" "customresourcedefinition.apiextensions.k8s.io/airoutingpolicies.aigateway.kagenti.dev created" "create CRD output"
k wait --for=condition=Established --timeout=10s crd/airoutingpolicies.aigateway.kagenti.dev >/dev/null \
  || fail "CRD not Established"
ok "CRD created and Established"

# --- manifests ------------------------------------------------------------
cat >"$TMP/secret.yaml" <<YAML
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: $ns, labels: {app: fidelity}}
type: Opaque
data: {api-key: c2VjcmV0LTE=}
YAML
cat >"$TMP/configmap.yaml" <<YAML
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: $ns, labels: {app: fidelity}}
data: {mode: one}
YAML
cat >"$TMP/policy.yaml" <<YAML
apiVersion: aigateway.kagenti.dev/v1alpha1
kind: AIRoutingPolicy
metadata: {name: team-models, namespace: $ns, labels: {app: fidelity}}
spec:
  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: ai-gateway}
  providers:
    - name: openai
      endpoint: https://api.openai.com/v1
      schema: OpenAI
      credentials: {type: APIKey, secretRef: {name: creds, key: api-key}}
  models:
    - name: gpt-4o
      backends: [{provider: openai, model: gpt-4o}]
YAML

# watch_objects KIND NAME OUT: starts a bounded `kubectl get -w -o json`.
watch_objects() {
  timeout 15 "$KUBECTL" --request-timeout=14s get "$1" "$2" -n "$ns" -w -o json >"$3" 2>"$3.err" &
  track_pid $!
  watch_pid=$!
}
# wait_json OUT EXPR: waits (bounded) until some object streamed into OUT satisfies
# EXPR (python on `o`).
wait_json() {
  local f=$1 expr=$2
  for _ in $(seq 1 100); do
    if python3 - "$f" "$expr" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
dec, i, objs = json.JSONDecoder(), 0, []
while True:
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    try:
        o, i = dec.raw_decode(text, i)
    except ValueError:
        break
    objs.append(o)
sys.exit(0 if any(eval(sys.argv[2], {}, {"o": o}) for o in objs) else 1)
PY
    then return 0; fi
    sleep 0.1
  done
  return 1
}

# check_kind KIND NAME FILE PLURAL DATA_EXPR NEW_FILE NEW_EXPR
run_kind() {
  local kind=$1 name=$2 file=$3 plural=$4
  # create -f
  out=$(k create -f "$file") || fail "$kind: create -f"
  case $out in *"/$name created") ;; *) fail "$kind: create output: $out" ;; esac
  ok "$kind: create -f -> $out"

  # get -o json
  k get "$plural" "$name" -n "$ns" -o json >"$TMP/$name.json" || fail "$kind: get -o json"
  assert_eq "$(py "$TMP/$name.json" 'd["kind"]')" "$kind" "$kind: kind"
  assert_eq "$(py "$TMP/$name.json" 'd["metadata"]["name"]')" "$name" "$kind: name"
  py "$TMP/$name.json" 'd["metadata"]["uid"] and int(d["metadata"]["resourceVersion"])' >/dev/null \
    || fail "$kind: uid/resourceVersion"
  ok "$kind: get -o json (uid $(py "$TMP/$name.json" 'd["metadata"]["uid"]'))"

  # get -w, with a change made meanwhile
  watch_objects "$plural" "$name" "$TMP/$name.watch"
  wait_json "$TMP/$name.watch" 'o["metadata"]["name"] == "'"$name"'"' \
    || fail "$kind: get -w printed no initial object: $(cat "$TMP/$name.watch.err")"
  k label "$plural" "$name" -n "$ns" watched=yes >/dev/null || fail "$kind: label"
  wait_json "$TMP/$name.watch" 'o["metadata"].get("labels", {}).get("watched") == "yes"' \
    || fail "$kind: get -w did not show the change"
  kill "$watch_pid" 2>/dev/null || true
  wait "$watch_pid" 2>/dev/null || true
  ok "$kind: get -w saw the object and the label change"

  # apply --server-side (takes over from kubectl-create with --force-conflicts as
  # users do), then a second manager conflicts without --force-conflicts.
  out=$(k apply --server-side --force-conflicts -f "$5" 2>&1) || fail "$kind: apply --server-side: $out"
  case $out in *"/$name serverside-applied") ;; *) fail "$kind: apply output: $out" ;; esac
  k get "$plural" "$name" -n "$ns" -o json --show-managed-fields >"$TMP/$name.json"
  py "$TMP/$name.json" "$6" | grep -qx True || fail "$kind: applied value missing"
  py "$TMP/$name.json" '[e["manager"] for e in d["metadata"]["managedFields"] if e["operation"] == "Apply"]' \
    | grep -q "'kubectl'" || fail "$kind: no Apply entry for kubectl"
  ok "$kind: apply --server-side -> $out"
  if out=$(k apply --server-side --field-manager=other-team -f "$7" 2>&1); then
    fail "$kind: conflicting apply succeeded: $out"
  fi
  case $out in
    *'Apply failed with 1 conflict: conflict with "kubectl"'*) ;;
    *) fail "$kind: conflict message: $out" ;;
  esac
  ok "$kind: second manager conflicts: $(echo "$out" | head -n1)"
  out=$(k apply --server-side --field-manager=other-team --force-conflicts -f "$7" 2>&1) \
    || fail "$kind: forced apply: $out"
  k get "$plural" "$name" -n "$ns" -o json >"$TMP/$name.json"
  py "$TMP/$name.json" "$8" | grep -qx True || fail "$kind: forced value missing"
  ok "$kind: --force-conflicts takes the field"
}

sed 's/c2VjcmV0LTE=/c2VjcmV0LTI=/' "$TMP/secret.yaml" >"$TMP/secret2.yaml"
sed 's/c2VjcmV0LTE=/c2VjcmV0LTM=/' "$TMP/secret.yaml" >"$TMP/secret3.yaml"
run_kind Secret creds "$TMP/secret.yaml" secrets "$TMP/secret2.yaml" \
  'd["data"]["api-key"] == "c2VjcmV0LTI="' "$TMP/secret3.yaml" 'd["data"]["api-key"] == "c2VjcmV0LTM="'

sed 's/mode: one/mode: two/' "$TMP/configmap.yaml" >"$TMP/configmap2.yaml"
sed 's/mode: one/mode: three/' "$TMP/configmap.yaml" >"$TMP/configmap3.yaml"
run_kind ConfigMap settings "$TMP/configmap.yaml" configmaps "$TMP/configmap2.yaml" \
  'd["data"]["mode"] == "two"' "$TMP/configmap3.yaml" 'd["data"]["mode"] == "three"'

# Server dry run, diff and replace (PUT) on the ConfigMap.
sed 's/mode: one/mode: four/' "$TMP/configmap.yaml" >"$TMP/configmap4.yaml"
out=$(k apply --server-side --force-conflicts --dry-run=server -f "$TMP/configmap4.yaml") || fail "dry run"
case $out in *"(server dry run)") ;; *) fail "dry run output: $out" ;; esac
assert_eq "$(k get configmap settings -n "$ns" -o jsonpath='{.data.mode}')" "three" "dry run stored nothing"
rc=0; k diff --server-side --force-conflicts -f "$TMP/configmap4.yaml" >"$TMP/diff.out" 2>&1 || rc=$?
assert_eq "$rc" "1" "kubectl diff exit status (differences)"
grep -q '^+  mode: four' "$TMP/diff.out" || fail "diff output: $(cat "$TMP/diff.out")"
k replace -f "$TMP/configmap4.yaml" >/dev/null || fail "replace"
assert_eq "$(k get configmap settings -n "$ns" -o jsonpath='{.data.mode}')" "four" "replace stored"
ok "ConfigMap: apply --dry-run=server, diff --server-side, replace"

sed 's/model: gpt-4o}/model: gpt-4o-2024}/' "$TMP/policy.yaml" >"$TMP/policy2.yaml"
sed 's/model: gpt-4o}/model: gpt-4o-mini}/' "$TMP/policy.yaml" >"$TMP/policy3.yaml"
run_kind AIRoutingPolicy team-models "$TMP/policy.yaml" airoutingpolicies "$TMP/policy2.yaml" \
  'd["spec"]["models"][0]["backends"][0]["model"] == "gpt-4o-2024"' "$TMP/policy3.yaml" \
  'd["spec"]["models"][0]["backends"][0]["model"] == "gpt-4o-mini"'

# --- get -w in kubectl's default table output (server-side Table) ---------
timeout 15 "$KUBECTL" --request-timeout=14s get airoutingpolicies -n "$ns" -w >"$TMP/table.watch" 2>&1 &
track_pid $!
table_pid=$!
for _ in $(seq 1 100); do grep -q '^team-models' "$TMP/table.watch" && break; sleep 0.1; done
k label airp team-models -n "$ns" table=yes >/dev/null || fail "label for table watch"
for _ in $(seq 1 100); do [ "$(grep -c '^team-models' "$TMP/table.watch")" -ge 2 ] && break; sleep 0.1; done
kill "$table_pid" 2>/dev/null || true
wait "$table_pid" 2>/dev/null || true
[ "$(grep -c '^NAME' "$TMP/table.watch")" = 1 ] || fail "table watch header: $(cat "$TMP/table.watch")"
[ "$(grep -c '^team-models' "$TMP/table.watch")" -ge 2 ] || fail "table watch rows: $(cat "$TMP/table.watch")"
ok "get -w (table): one header, a row for the object and one for the change"

# --- patch --subresource=status (AIRoutingPolicy has the status subresource) ---
gen_before=$(k get airp team-models -n "$ns" -o jsonpath='{.metadata.generation}')
out=$(k patch airp team-models -n "$ns" --subresource=status --type=merge -p \
  '{"spec":{"targetRef":{"name":"ignored"}},"status":{"observedGeneration":'"$gen_before"',"conditions":[{"type":"Programmed","status":"True","reason":"Programmed","message":"ok","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}') \
  || fail "patch --subresource=status"
assert_eq "$out" "airoutingpolicy.aigateway.kagenti.dev/team-models patched" "status patch output"
k get airp team-models -n "$ns" -o json >"$TMP/policy.json"
assert_eq "$(py "$TMP/policy.json" 'd["status"]["conditions"][0]["status"]')" "True" "status written"
assert_eq "$(py "$TMP/policy.json" 'd["spec"]["targetRef"]["name"]')" "ai-gateway" "status patch ignores spec"
assert_eq "$(py "$TMP/policy.json" 'd["metadata"]["generation"]')" "$gen_before" "status patch keeps generation"
cols=$(k get airp -n "$ns" --no-headers | awk '{print $1, $2}')
assert_eq "$cols" "team-models True" "printer column Programmed"
ok "AIRoutingPolicy: patch --subresource=status (spec ignored, generation $gen_before kept, printer column True)"

# A status write to a kind without the subresource is refused like the real server.
if out=$(k patch configmap settings -n "$ns" --subresource=status --type=merge -p '{"data":{"x":"y"}}' 2>&1); then
  fail "status patch of a ConfigMap succeeded: $out"
fi
ok "ConfigMap: patch --subresource=status refused ($(echo "$out" | head -n1))"

# --- delete ---------------------------------------------------------------
for ref in secret/creds configmap/settings airoutingpolicy/team-models; do
  out=$(k delete "$ref" -n "$ns") || fail "delete $ref"
  case $out in *'" deleted'*) ;; *) fail "delete $ref output: $out" ;; esac
  if k get "$ref" -n "$ns" >/dev/null 2>"$TMP/get.err"; then fail "$ref still present"; fi
  grep -q 'NotFound' "$TMP/get.err" || fail "$ref: get after delete: $(cat "$TMP/get.err")"
  ok "delete $ref -> $out"
done

# Deleting the CRD removes the kind from discovery.
k delete -f "$crd" >/dev/null || fail "delete CRD"
if k get airoutingpolicies -n "$ns" >/dev/null 2>"$TMP/get.err"; then fail "kind still served"; fi
ok "CRD deleted: $(head -n1 "$TMP/get.err")"
