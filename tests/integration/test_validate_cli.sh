#!/usr/bin/env bash
# aigw validate offline: output format, exit codes, directories, multi-document
# files and kind: List, --objects lookups, and every shipped example.
source "$(dirname "$0")/lib.sh"

run() { set +e; out=$($AIGW_WRAP "$AIGW" validate "$@" 2>err.txt); rc=$?; set -e; }

mkdir -p in/nested objs
cat >in/bad.yaml <<'YAML'
apiVersion: aigateway.kagenti.dev/v1alpha1
kind: AIRoutingPolicy
metadata: {name: bad, namespace: team-a}
spec:
  targetRef: {name: ai-gateway}
  providers:
  - {name: openai, endpoint: "ftp://x", schema: OpenAI}
  models:
  - name: gpt-4o
    backends: [{provider: openai}]
  - name: gpt-4o
    backends: [{provider: azure}]
YAML
run -f in/bad.yaml
assert_eq "$rc" 1 "invalid policy exit status"
echo "$out" | grep -cxF 'AIRoutingPolicy/bad: spec.providers[0].endpoint: Invalid value: "ftp://x": scheme must be http or https' >/dev/null || fail "endpoint error missing: $out"
echo "$out" | grep -cxF 'AIRoutingPolicy/bad: spec.models[1].name: Duplicate value: "gpt-4o"' >/dev/null || fail "duplicate error missing: $out"
echo "$out" | grep -cxF 'AIRoutingPolicy/bad: spec.models[1].backends[0].provider: Not found: "azure"' >/dev/null || fail "not found error missing: $out"
[ "$(echo "$out" | grep -c 'AIRoutingPolicy/bad: spec\.')" = 3 ] || fail "expected exactly 3 errors: $out"
if echo "$out" | grep -q ': valid$'; then fail "invalid object printed as valid"; fi
ok "three errors, exit 1"

# multi-document file with a List, a non-policy object, and warnings
cat >in/nested/good.yaml <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: not-counted}
data: {a: b}
---
apiVersion: v1
kind: List
items:
- apiVersion: aigateway.kagenti.dev/v1alpha1
  kind: AIAccessPolicy
  metadata: {name: mtls, namespace: team-a}
  spec:
    targetRef: {name: ai-gateway}
    mtls: {trustDomain: example.org}
- apiVersion: aigateway.kagenti.dev/v1alpha1
  kind: AIRoutingPolicy
  metadata: {name: local, namespace: team-a}
  spec:
    targetRef: {name: ai-gateway}
    providers:
    - {name: vllm, endpoint: "http://vllm.example.com:8000/v1", schema: OpenAI}
    - {name: spare, endpoint: "https://spare.example.com", schema: OpenAI}
    models:
    - name: llama
      backends: [{provider: vllm}]
YAML
echo '{"apiVersion":"aigateway.kagenti.dev/v1alpha1","kind":"AIAccessPolicy","metadata":{"name":"json-one","namespace":"team-b"},"spec":{"targetRef":{"name":"gw"},"mtls":{"trustDomain":"td"}}}' >in/nested/one.json
echo 'not: [valid' >in/nested/skipped.txt
run -f in/nested
assert_eq "$rc" 0 "valid directory exit status"
echo "$out" | grep -cxF 'AIAccessPolicy/mtls: valid' >/dev/null || fail "List item not validated: $out"
echo "$out" | grep -cxF 'AIAccessPolicy/json-one: valid' >/dev/null || fail "json file not validated: $out"
echo "$out" | grep -cxF 'AIRoutingPolicy/local: valid' >/dev/null || fail "routing not valid: $out"
echo "$out" | grep -cF 'AIRoutingPolicy/local: warning: provider "spare" is not used by any model' >/dev/null || fail "unused warning missing: $out"
echo "$out" | grep -cF 'AIRoutingPolicy/local: warning: spec.providers[0].endpoint: http:// endpoint vllm.example.com leaves the cluster' >/dev/null || fail "http warning missing: $out"
if echo "$out" | grep -q 'not-counted'; then fail "ConfigMap was counted"; fi
[ "$(echo "$out" | grep -c ': valid$')" = 3 ] || fail "expected 3 valid objects: $out"
ok "directory, List, JSON, warnings, exit 0"

# stdin
set +e; out=$($AIGW_WRAP "$AIGW" validate -f - <in/nested/one.json 2>err.txt); rc=$?; set -e
assert_eq "$rc" 0 "stdin exit status"
assert_eq "$out" "AIAccessPolicy/json-one: valid" "stdin output"
set +e; out=$($AIGW_WRAP "$AIGW" validate -f - <in/bad.yaml 2>err.txt); rc=$?; set -e
assert_eq "$rc" 1 "stdin invalid exit status"

# mixed: one bad file and one good directory -> 1
run -f in/nested -f in/bad.yaml
assert_eq "$rc" 1 "mixed exit status"

# --objects: a Secret lookup fails, then succeeds once the Secret exists
cat >in/secret-user.yaml <<'YAML'
apiVersion: aigateway.kagenti.dev/v1alpha1
kind: AIRoutingPolicy
metadata: {name: keyed, namespace: team-a}
spec:
  targetRef: {name: ai-gateway}
  providers:
  - name: openai
    endpoint: https://api.openai.com/v1
    schema: OpenAI
    credentials: {type: APIKey, secretRef: {name: openai-secret, key: api-key}}
  models:
  - {name: gpt-4o, backends: [{provider: openai}]}
YAML
cat >objs/gw.yaml <<'YAML'
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ai-gateway, namespace: team-a}
spec: {gatewayClassName: eg, listeners: [{name: https, port: 443, protocol: HTTPS}]}
YAML
run -f in/secret-user.yaml --objects objs
assert_eq "$rc" 1 "missing secret exit status"
echo "$out" | grep -cxF 'AIRoutingPolicy/keyed: spec.providers[0].credentials.secretRef.name: Not found: "openai-secret"' >/dev/null || fail "secret not found error missing: $out"
cat >objs/secret.yaml <<'YAML'
apiVersion: v1
kind: Secret
metadata: {name: openai-secret, namespace: team-a}
stringData: {api-key: sk-placeholder-value}
YAML
run -f in/secret-user.yaml --objects objs
assert_eq "$rc" 0 "present secret exit status"
if echo "$out" | grep -q 'sk-placeholder-value'; then fail "secret value echoed"; fi
ok "--objects Secret lookups"

# with --objects, the -f files serve as objects too: a Secret shipped beside the
# policy is found, and two policies of one change set serving one model clash
mkdir -p set empty
cp in/secret-user.yaml set/
sed 's/name: keyed/name: keyed-too/' in/secret-user.yaml >set/second.yaml
cat >set/secret.yaml <<'YAML'
apiVersion: v1
kind: Secret
metadata: {name: openai-secret, namespace: team-a}
data: {api-key: c2stcGxhY2Vob2xkZXI=}
YAML
run -f set
assert_eq "$rc" 0 "without --objects no cross-object check runs"
run -f set --objects empty
assert_eq "$rc" 1 "model served twice in one change set"
echo "$out" | grep -cxF 'AIRoutingPolicy/keyed: spec.models[0].name: Invalid value: "gpt-4o": already served on Gateway "ai-gateway" by AIRoutingPolicy "keyed-too"' >/dev/null || fail "clash not reported on keyed: $out"
echo "$out" | grep -cxF 'AIRoutingPolicy/keyed-too: spec.models[0].name: Invalid value: "gpt-4o": already served on Gateway "ai-gateway" by AIRoutingPolicy "keyed"' >/dev/null || fail "clash not reported on keyed-too: $out"
if echo "$out" | grep -q 'secretRef'; then fail "the Secret in the -f files was not used: $out"; fi
ok "-f objects serve as --objects"

# usage and I/O errors -> 2
run
assert_eq "$rc" 2 "no -f"
run -f
assert_eq "$rc" 2 "-f without value"
run --bogus
assert_eq "$rc" 2 "unknown flag"
run -f does-not-exist.yaml
assert_eq "$rc" 2 "missing file"
grep -q 'does-not-exist.yaml' err.txt || fail "missing file not named"
printf 'a: [b\n' >broken.yaml
run -f broken.yaml
assert_eq "$rc" 2 "broken YAML"
grep -q 'broken.yaml' err.txt || fail "broken file not named"
run -f in/nested --objects does-not-exist
assert_eq "$rc" 2 "missing --objects dir"
run --help
assert_eq "$rc" 0 "--help"
ok "usage errors exit 2"

# every shipped example is valid against the shipped --objects folder
if [ -d "$AIGW_ROOT/examples" ]; then
  run -f "$AIGW_ROOT/examples/" --objects "$AIGW_ROOT/examples/cluster/"
  echo "$out"
  assert_eq "$rc" 0 "examples exit status"
  [ -n "$out" ] || fail "no example policy found"
  if echo "$out" | grep -v ': valid$' | grep -v ': warning: ' | grep -q .; then fail "an example is not valid: $out"; fi
  ok "examples valid"
else
  fail "examples/ is missing (crds branch not merged)"
fi
