#!/usr/bin/env bash
# The policy CRDs and the examples, checked offline by the shared conformance
# tool (check-crs): the CRD files as CustomResourceDefinition objects, the
# example policies and the example cluster objects against them, and bad
# policies (derived from the examples, one defect each) that must FAIL with
# the expected message, so the schema's rules are known to bite.
source "$AIGW_ROOT/tests/integration/lib.sh"

conf="$AIGW_SHARED/tools/conformance/run"
crds="$AIGW_ROOT/charts/aigw/crds"
ex="$AIGW_ROOT/examples"

# 1. The CRDs themselves, strictly (a NOTE about an unsupported CEL function
#    would mean a rule the checker, and maybe the cluster, cannot evaluate).
"$conf" check-crs --strict "$crds"/*.yaml >crds.out 2>&1 || { cat crds.out; fail "CRD files do not pass check-crs"; }
grep -q '^OK CustomResourceDefinition/airoutingpolicies.aigateway.kagenti.dev$' crds.out || fail "routing CRD not checked"
grep -q '^OK CustomResourceDefinition/aiaccesspolicies.aigateway.kagenti.dev$' crds.out || fail "access CRD not checked"
ok "CRD files are valid CustomResourceDefinitions"

# 2. The example policies, strictly: no WARN, no NOTE.
"$conf" check-crs --strict --crds "$crds" "$ex"/*.yaml >examples.out 2>&1 || { cat examples.out; fail "examples do not pass check-crs"; }
n=$(grep -c '^OK ' examples.out)
[ "$n" -ge 4 ] || { cat examples.out; fail "expected at least 4 example objects, got $n"; }
for o in AIRoutingPolicy/team-a-models AIAccessPolicy/team-a-mtls AIRoutingPolicy/team-a-platform; do
  grep -q "^OK $o\$" examples.out || fail "$o missing from check-crs output"
done
ok "examples/*.yaml: $n objects valid"

# 3. The --objects cluster folder. Its AIAccessPolicy carries a status, which
#    check-crs drops with a WARN; anything else must be clean.
"$conf" check-crs --crds "$crds" "$ex"/cluster/*.yaml >cluster.out 2>&1 || { cat cluster.out; fail "examples/cluster does not pass check-crs"; }
if grep -E '^\s+(WARN|NOTE)' cluster.out | grep -v 'WARN status: ignored on create'; then
  fail "unexpected WARN/NOTE in examples/cluster"
fi
for o in Namespace/team-a Namespace/team-b Gateway/ai-gateway Secret/openai-secret \
  Secret/azure-openai-secret Secret/anthropic-secret Secret/aws-bedrock-credentials \
  ConfigMap/spire-bundle AIAccessPolicy/team-a-mtls; do
  grep -q "^OK $o\$" cluster.out || fail "$o missing from examples/cluster"
done
grep -q '^OK Service/envoy-team-a-ai-gateway-' cluster.out || fail "Envoy Service missing from examples/cluster"
ok "examples/cluster: $(grep -c '^OK ' cluster.out) objects valid"

# 4. The cluster folder holds what the examples reference: every Secret a
#    policy names, the Gateway, the bundle key, the inject label, the endpoint,
#    and no private key anywhere under examples/.
python3 - "$ex" <<'PY' || fail "examples/cluster is not consistent with the examples"
import base64, glob, json, subprocess, sys, yaml
ex = sys.argv[1]
def load(pattern):
    out = []
    for f in sorted(glob.glob(pattern)):
        out += [d for d in yaml.safe_load_all(open(f)) if d]
    return out
cluster = load(ex + "/cluster/*.yaml")
policies = load(ex + "/*.yaml")
objs = {(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): o for o in cluster}
errors = []
for p in policies:
    ns, spec = p["metadata"]["namespace"], p["spec"]
    if ("Gateway", ns, spec["targetRef"]["name"]) not in objs:
        errors.append("%s: Gateway %s/%s not in cluster/" % (p["metadata"]["name"], ns, spec["targetRef"]["name"]))
    for prov in spec.get("providers", []):
        c = prov.get("credentials", {})
        for ref in ("secretRef", "clientSecretRef", "credentialsSecretRef"):
            if ref in c:
                s = objs.get(("Secret", ns, c[ref]["name"]))
                if s is None or c[ref]["key"] not in s.get("data", {}):
                    errors.append("provider %s: Secret %s key %s not in cluster/" % (prov["name"], c[ref]["name"], c[ref]["key"]))
                else:
                    value = base64.b64decode(s["data"][c[ref]["key"]]).decode()
                    if "example" not in value or "not-a-real" not in value:
                        errors.append("Secret %s: value is not an obvious placeholder" % c[ref]["name"])
    if p["kind"] == "AIAccessPolicy":
        b = spec["mtls"]["trustBundleConfigMap"]
        cm = objs.get(("ConfigMap", b["namespace"], b["name"]))
        if cm is None or b["key"] not in cm.get("data", {}):
            errors.append("trust bundle %s/%s key %s not in cluster/" % (b["namespace"], b["name"], b["key"]))
        else:
            doc = json.loads(cm["data"][b["key"]])
            svids = [k for k in doc["keys"] if k.get("use") == "x509-svid"]
            if len(svids) != 1:
                errors.append("bundle: want one x509-svid key")
            else:
                der = base64.b64decode(svids[0]["x5c"][0], validate=True)
                txt = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-text", "-checkend", str(5 * 365 * 86400)],
                                     input=der, capture_output=True)
                if txt.returncode != 0:
                    errors.append("bundle CA does not parse or expires within 5 years")
                if b"CA:TRUE" not in txt.stdout:
                    errors.append("bundle certificate is not a CA")
        live = objs.get(("AIAccessPolicy", ns, p["metadata"]["name"]))
        if live is None:
            errors.append("AIAccessPolicy %s not in cluster/" % p["metadata"]["name"])
        else:
            if live["spec"] != spec:
                errors.append("cluster/ AIAccessPolicy spec differs from %s's" % p["metadata"]["name"])
            svc = [o for o in cluster if o["kind"] == "Service"
                   and o["metadata"].get("labels", {}).get("gateway.envoyproxy.io/owning-gateway-name") == spec["targetRef"]["name"]
                   and o["metadata"]["labels"].get("gateway.envoyproxy.io/owning-gateway-namespace") == ns]
            want = "https://%s.%s.svc:8443" % (svc[0]["metadata"]["name"], svc[0]["metadata"]["namespace"]) if svc else "?"
            if live.get("status", {}).get("endpoint") != want:
                errors.append("status.endpoint %r, want %r" % (live.get("status", {}).get("endpoint"), want))
ns_labels = {o["metadata"]["name"]: o["metadata"].get("labels", {}) for o in cluster if o["kind"] == "Namespace"}
if ns_labels.get("team-a", {}).get("aigateway.kagenti.dev/inject") != "enabled":
    errors.append("Namespace team-a lacks the inject label")
if "aigateway.kagenti.dev/inject" in ns_labels.get("team-b", {"x": 1}):
    errors.append("Namespace team-b must exist without the inject label")
for f in glob.glob(ex + "/**/*", recursive=True):
    if f.endswith((".yaml", ".yml", ".json")) and "PRIVATE KEY" in open(f).read():
        errors.append(f + ": holds a private key")
for e in errors:
    print("ERROR", e)
sys.exit(1 if errors else 0)
PY
ok "examples/cluster holds every object the examples reference"

# 5. Bad policies must FAIL, each with its expected message.
python3 - "$ex" <<'PY'
import copy, sys, yaml
ex = sys.argv[1]
rp = yaml.safe_load(open(ex + "/routing-policy.yaml"))
ap = yaml.safe_load(open(ex + "/access-policy.yaml"))
cases = []
def case(name, base, mutate, expect):
    o = copy.deepcopy(base)
    o["metadata"]["name"] = name
    mutate(o["spec"])
    cases.append((o, expect))
prov = lambda s: s["providers"][0]
be = lambda s: s["models"][0]["backends"][0]
case("weight-negative", rp, lambda s: be(s).update(weight=-1),
     "spec.models[0].backends[0].weight: Invalid value: -1: must be >= 0")
case("priority-negative", rp, lambda s: be(s).update(priority=-1),
     "spec.models[0].backends[0].priority: Invalid value: -1: must be >= 0")
case("schema-unknown", rp, lambda s: prov(s).update(schema="Gemini"),
     'spec.providers[0].schema: Unsupported value: "Gemini"')
case("targetref-missing", rp, lambda s: s.pop("targetRef"), "spec.targetRef: Required value")
case("targetref-kind", rp, lambda s: s["targetRef"].update(group="", kind="Service"),
     "spec.targetRef: targetRef must refer to a Gateway API Gateway")
case("azure-no-version", rp, lambda s: prov(s).update(schema="AzureOpenAI",
     credentials={"type": "AzureAPIKey", "secretRef": {"name": "a", "key": "k"}}),
     "spec.providers[0].version: version (the Azure OpenAI api-version")
case("bedrock-apikey", rp, lambda s: prov(s).update(schema="AWSBedrock"),
     "spec.providers[0].credentials: schemas AWSBedrock and AWSAnthropic require credentials of type AWSCredentials")
case("aws-no-region", rp, lambda s: prov(s).update(schema="AWSBedrock", credentials={"type": "AWSCredentials"}),
     "spec.providers[0].credentials.region: credential type AWSCredentials requires region")
case("apikey-no-secretref", rp, lambda s: prov(s)["credentials"].pop("secretRef"),
     "spec.providers[0].credentials.secretRef: secretRef is required")
case("gcp-incomplete", rp, lambda s: prov(s).update(schema="GCPVertexAI",
     credentials={"type": "GCPCredentials", "region": "us-central1"}),
     "credential type GCPCredentials requires projectName, region and credentialsSecretRef")
case("credentials-extra-field", rp, lambda s: prov(s)["credentials"].update(region="us-east-1"),
     "region and credentialsSecretRef are only used by credential types AWSCredentials and GCPCredentials")
case("anthropic-no-credentials", rp, lambda s: (prov(s).update(schema="Anthropic"), prov(s).pop("credentials")),
     "schema Anthropic requires credentials of type AnthropicAPIKey")
case("retryon-bad", rp, lambda s: s["defaultFailover"].update(retryOn=[503, 99, "sometimes"]),
     "spec.defaultFailover.retryOn[1]: must be an HTTP status code 100-599")
case("retryon-bad-trigger", rp, lambda s: s["models"][0]["failover"].update(retryOn=["sometimes"]),
     "spec.models[0].failover.retryOn[0]: must be an HTTP status code 100-599")
case("max-retries-11", rp, lambda s: s["defaultFailover"].update(maxRetries=11),
     "spec.defaultFailover.maxRetries: Invalid value: 11: must be <= 10")
case("duration-malformed", rp, lambda s: s["defaultFailover"]["backoff"].update(baseInterval="1.5s"),
     'spec.defaultFailover.backoff.baseInterval: Invalid value: "1.5s"')
case("backoff-order", rp, lambda s: s["defaultFailover"]["backoff"].update(baseInterval="3s", maxInterval="2s"),
     "spec.defaultFailover.backoff.maxInterval: maxInterval must not be shorter than baseInterval")
case("tokens-zero", rp, lambda s: s["models"][0]["rateLimit"].update(tokensPerHour=0),
     "spec.models[0].rateLimit.tokensPerHour: Invalid value: 0: must be >= 1")
case("count-mode-unknown", rp, lambda s: s["models"][0]["rateLimit"].update(tokenCountMode="AllTokens"),
     'spec.models[0].rateLimit.tokenCountMode: Unsupported value: "AllTokens"')
case("all-weights-zero", rp, lambda s: be(s).update(weight=0),
     "spec.models[0].backends: at every priority at least one backend must have a weight greater than 0")
case("backend-unknown-provider", rp, lambda s: s["models"][0]["backends"].append({"provider": "azure"}),
     "spec.models: every backends[].provider must name an entry of spec.providers; models with an unknown provider: gpt-4o")
case("provider-duplicate", rp, lambda s: s["providers"].append(copy.deepcopy(prov(s))),
     'spec.providers[1]: Duplicate value: {"name":"openai"}')
case("model-duplicate", rp, lambda s: s["models"].append(copy.deepcopy(s["models"][0])),
     'spec.models[1]: Duplicate value: {"name":"gpt-4o"}')
case("provider-name-upper", rp, lambda s: prov(s).update(name="OpenAI"),
     'spec.providers[0].name: Invalid value: "OpenAI"')
case("endpoint-scheme", rp, lambda s: prov(s).update(endpoint="ftp://files.example.com"),
     'spec.providers[0].endpoint: Invalid value: "ftp://files.example.com"')
case("trust-domain-uri", ap, lambda s: s["mtls"].update(trustDomain="spiffe://localtest.me"),
     'spec.mtls.trustDomain: Invalid value: "spiffe://localtest.me"')
case("mtls-missing", ap, lambda s: s.pop("mtls"), "spec.mtls: Required value")
case("access-targetref-kind", ap, lambda s: s["targetRef"].update(kind="HTTPRoute"),
     "spec.targetRef: targetRef must refer to a Gateway API Gateway")
with open("bad.yaml", "w") as f:
    yaml.safe_dump_all([o for o, _ in cases], f)
with open("bad.expect", "w") as f:
    for o, e in cases:
        f.write("%s/%s\t%s\n" % (o["kind"], o["metadata"]["name"], e))
PY
rc=0
"$conf" check-crs --crds "$crds" bad.yaml >bad.out 2>&1 || rc=$?
assert_eq "$rc" 1 "check-crs exit status on bad policies"
python3 - <<'PY' || fail "bad policies were not rejected as expected"
blocks, cur = {}, None
for line in open("bad.out"):
    line = line.rstrip("\n")
    if line.startswith(("OK ", "FAIL ")):
        status, rest = line.split(" ", 1)
        obj = rest.split(":", 1)[0]
        cur = blocks.setdefault(obj, {"status": status, "text": ""})
        cur["text"] += rest + "\n"
    elif line.startswith("    ") and cur is not None:
        cur["text"] += line.strip() + "\n"
bad = 0
n = 0
for line in open("bad.expect"):
    n += 1
    obj, expect = line.rstrip("\n").split("\t", 1)
    b = blocks.get(obj)
    if b is None:
        print("ERROR %s: not in check-crs output" % obj); bad += 1
    elif b["status"] != "FAIL":
        print("ERROR %s: passed, should fail with %r" % (obj, expect)); bad += 1
    elif expect not in b["text"]:
        print("ERROR %s: failed without %r:\n%s" % (obj, expect, b["text"])); bad += 1
print("%d bad policies, %d rejected as expected" % (n, n - bad))
raise SystemExit(1 if bad else 0)
PY
ok "$(wc -l <bad.expect) bad policies rejected with the expected messages"

# 6. Defaults: a minimal policy (no group/kind, no protocol, priority, weight,
#    tokenCountMode, bundle location) is valid, since the schema defaults them
#    before its CEL rules run (targetRef group/kind, weights per priority).
cat >minimal.yaml <<'YAML'
apiVersion: aigateway.kagenti.dev/v1alpha1
kind: AIRoutingPolicy
metadata: {name: minimal, namespace: team-a}
spec:
  targetRef: {name: ai-gateway}
  providers:
    - {name: local, endpoint: "http://vllm.models.svc.cluster.local:8000/v1", schema: OpenAI}
  models:
    - name: llama
      backends: [{provider: local}]
      rateLimit: {tokensPerHour: 1000}
---
apiVersion: aigateway.kagenti.dev/v1alpha1
kind: AIAccessPolicy
metadata: {name: minimal, namespace: team-a}
spec:
  targetRef: {name: ai-gateway}
  mtls: {trustDomain: example.org}
YAML
"$conf" check-crs --strict --crds "$crds" minimal.yaml >minimal.out 2>&1 || { cat minimal.out; fail "minimal policies rejected: schema defaults missing"; }
ok "minimal policies valid through schema defaults"
