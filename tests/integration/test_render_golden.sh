#!/usr/bin/env bash
# aigw render against the golden files of tests/data/render/, and every
# rendered object of every case through ../shared/tools/conformance (schema,
# CEL, unknown fields). Also: key reuse and renewal, determinism, the v1 List
# of -o json, invalid policies (exit 1, errors on stderr, nothing on stdout),
# and the examples/ deployment.
. "$AIGW_ROOT/tests/integration/lib.sh"
. "$AIGW_ROOT/tests/golden/render_lib.sh"

data=$AIGW_ROOT/tests/data/render
mask=$AIGW_ROOT/tests/golden/render_mask.py
conformance=$AIGW_SHARED/tools/conformance/run
export TMPDIR=$TMP

# 1. Golden files (key material masked) and JSON for the conformance check.
n=0
mkdir -p json
for yaml in "$data"/*.yaml; do
  case $yaml in *.out.yaml) continue ;; esac
  name=$(basename "$yaml" .yaml)
  render_case "$yaml" "$name.raw.yaml" || fail "$name: aigw render exited $?"
  python3 "$mask" <"$name.raw.yaml" >"$name.masked.yaml"
  diff -u "$data/$name.out.yaml" "$name.masked.yaml" >"$name.diff" ||
    { cat "$name.diff"; fail "$name: output differs from $name.out.yaml (make golden to update)"; }
  render_case "$yaml" "json/$name.json" json || fail "$name: aigw render -o json exited $?"
  n=$((n + 1))
done
[ "$n" -ge 20 ] || fail "only $n golden cases"
ok "$n golden cases match"

# 2. Every object of every case passes check-crs.
objects=$(python3 -c '
import json, sys
print(sum(len(json.load(open(f))["items"]) for f in sys.argv[1:]))' json/*.json)
"$conformance" check-crs json/*.json >crs.out 2>&1 || { cat crs.out; fail "check-crs found problems"; }
tail -n 1 crs.out | grep -q "^$objects passed, 0 failed" || { cat crs.out; fail "check-crs: want $objects passed"; }
ok "check-crs: $objects objects OK"
# The YAML output too (kubectl reads it with YAML 1.1 scalar rules).
"$conformance" check-crs ./*.raw.yaml >crs-yaml.out 2>&1 || { cat crs-yaml.out; fail "check-crs (YAML) found problems"; }
tail -n 1 crs-yaml.out | grep -q "^$objects passed, 0 failed" || { cat crs-yaml.out; fail "check-crs (YAML): want $objects passed"; }
ok "check-crs: the YAML output reads back to the same $objects valid objects"

# 3. -o json is a v1 List whose items equal the YAML documents.
python3 - json/forty-models.json forty-models.raw.yaml <<'EOF' || fail "-o json is not the List of the YAML objects"
import json, sys, yaml
lst = json.load(open(sys.argv[1]))
assert lst["apiVersion"] == "v1" and lst["kind"] == "List", lst.keys()
docs = [d for d in yaml.safe_load_all(open(sys.argv[2])) if d]
assert docs == lst["items"], "items differ"
kinds = [o["kind"] for o in lst["items"]]
assert kinds.count("AIGatewayRoute") == 3 and kinds.count("BackendTrafficPolicy") == 3, kinds
rules = [len(o["spec"]["rules"]) for o in lst["items"] if o["kind"] == "AIGatewayRoute"]
assert rules == [15, 15, 10], rules
EOF
ok "-o json is a v1 List; 40 models make routes of 15, 15, 10"

# 4. Deterministic: the same inputs give byte-identical output (keys reused).
render_case "$data/access-mtls-reuse.yaml" reuse1.json json
objs=$RENDER_OBJECTS
"$AIGW" render -f "$data/access-mtls-reuse.yaml" --objects "$objs" -o json >reuse2.json
cmp -s reuse1.json reuse2.json || fail "two renders of the same inputs differ"
"$AIGW" render -f "$data/mixed-failover.yaml" --objects "$data/_default.objects" >m1.yaml
"$AIGW" render -f "$data/mixed-failover.yaml" --objects "$data/_default.objects" >m2.yaml
cmp -s m1.yaml m2.yaml || fail "mixed-failover renders differ"
ok "byte-identical output for identical inputs"

# 5. Existing issuer and server Secrets are reused as they are; a leaf past
#    two thirds of its life is reissued by the same issuer.
python3 - reuse1.json "$objs/generated-secrets.yaml" <<'EOF' || fail "existing Secrets were not reused"
import json, sys, yaml
out = {o["metadata"]["name"]: o for o in json.load(open(sys.argv[1]))["items"]}
inp = {d["metadata"]["name"]: d for d in yaml.safe_load_all(open(sys.argv[2])) if d}
for n in ("team-a-mtls-gateway-issuer", "team-a-mtls-mtls-server"):
    assert out[n]["data"]["tls.crt"] == inp[n]["data"]["tls.crt"], n
    assert out[n]["data"]["tls.key"] == inp[n]["data"]["tls.key"], n
EOF
render_case "$data/access-mtls-renewal.yaml" renew.json json
python3 - renew.json "$RENDER_OBJECTS/generated-secrets.yaml" <<'EOF' || fail "renewal"
import base64, json, sys, yaml
out = {o["metadata"]["name"]: o for o in json.load(open(sys.argv[1]))["items"]}
inp = {d["metadata"]["name"]: d for d in yaml.safe_load_all(open(sys.argv[2])) if d}
iss, srv = "team-a-mtls-gateway-issuer", "team-a-mtls-mtls-server"
assert out[iss]["data"]["tls.crt"] == inp[iss]["data"]["tls.crt"], "issuer changed"
assert out[srv]["data"]["tls.crt"] != inp[srv]["data"]["tls.crt"], "leaf not renewed"
open("issuer.pem", "wb").write(base64.b64decode(out[iss]["data"]["tls.crt"]))
open("leaf.pem", "wb").write(base64.b64decode(out[srv]["data"]["tls.crt"]))
assert out["team-a-mtls-gateway-ca"]["data"]["ca.crt"] == base64.b64decode(inp[iss]["data"]["tls.crt"]).decode()
EOF
openssl verify -CAfile issuer.pem leaf.pem >/dev/null || fail "renewed leaf does not verify against the issuer"
openssl x509 -in leaf.pem -noout -ext subjectAltName | grep -q "IP Address:203.0.113.10" ||
  fail "renewed leaf lacks the load balancer address"
ok "issuer and leaf reused; leaf renewed at 2/3 of its life, signed by the same issuer"

# 6. Generated keys (no existing Secrets): a valid CA and a leaf it signed.
"$AIGW" render -f "$data/access-mtls.yaml" --objects "$data/_mtls.objects" -o json >gen.json
python3 - gen.json <<'EOF'
import base64, json, sys
out = {o["metadata"]["name"]: o for o in json.load(open(sys.argv[1]))["items"]}
open("gen-issuer.pem", "wb").write(base64.b64decode(out["team-a-mtls-gateway-issuer"]["data"]["tls.crt"]))
open("gen-leaf.pem", "wb").write(base64.b64decode(out["team-a-mtls-mtls-server"]["data"]["tls.crt"]))
EOF
openssl verify -CAfile gen-issuer.pem gen-leaf.pem >/dev/null || fail "generated leaf does not verify"
openssl x509 -in gen-leaf.pem -noout -text | grep -q "Public-Key: (256 bit)" || fail "leaf is not P-256"
ok "generated issuer and server certificate verify"

# 7. Invalid policy: exit 1, field errors on stderr, nothing on stdout.
cat >bad.yaml <<'EOF'
apiVersion: aigateway.kagenti.dev/v1alpha1
kind: AIRoutingPolicy
metadata: {name: bad, namespace: team-a}
spec:
  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: ai-gateway}
  providers:
  - {name: p, endpoint: "ftp://x", schema: OpenAI}
  models:
  - name: m
    backends: [{provider: nope}]
EOF
rc=0
$AIGW_WRAP "$AIGW" render -f bad.yaml >bad.out 2>bad.err || rc=$?
assert_eq "$rc" 1 "exit status for an invalid policy"
[ ! -s bad.out ] || fail "stdout not empty for an invalid policy"
grep -q 'spec.providers\[0\].endpoint' bad.err || { cat bad.err; fail "endpoint error missing"; }
grep -q 'spec.models\[0\].backends\[0\].provider' bad.err || { cat bad.err; fail "provider error missing"; }
rc=0
$AIGW_WRAP "$AIGW" render >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 2 "exit status without -f"
ok "invalid policy: exit 1 with field errors; usage: exit 2"

# 8. The examples (done-when of issue 6).
$AIGW_WRAP "$AIGW" render -f "$AIGW_ROOT/examples/full-deployment.yaml" \
  --objects "$AIGW_ROOT/examples/cluster/" -o json >example.json
"$conformance" check-crs - <example.json >example.out 2>&1 || { cat example.out; fail "examples: check-crs"; }
grep -q " 0 failed" example.out || fail "examples: failures"
ok "examples/full-deployment.yaml: $(tail -n 1 example.out)"
