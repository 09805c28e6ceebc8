#!/usr/bin/env bash
# docs/policies.md is generated from the CRDs and examples by
# hack/gen-policy-docs.py; this test fails when the committed page is stale,
# and checks that the staleness check itself notices a changed CRD.
source "$AIGW_ROOT/tests/integration/lib.sh"

gen="$AIGW_ROOT/hack/gen-policy-docs.py"
"$gen" --check || fail "docs/policies.md is out of date: run hack/gen-policy-docs.py"
ok "docs/policies.md matches the CRDs and examples"

# The page documents every field of both CRDs: count schema nodes and rows.
python3 - "$AIGW_ROOT" <<'PY' || fail "docs/policies.md misses fields"
import sys, yaml
root = sys.argv[1]
page = open(root + "/docs/policies.md").read()
missing = []
def walk(node, path, top=False):
    if not top:
        if "| `%s` |" % path not in page:
            missing.append(path)
        if not node.get("description"):
            missing.append(path + " (no description in the CRD)")
    if node.get("type") == "array":
        node = node.get("items", {})
        path += "[]"
    for name, child in node.get("properties", {}).items():
        walk(child, (path + "." if path else "") + name)
for f in ("aigateway.kagenti.dev_airoutingpolicies.yaml", "aigateway.kagenti.dev_aiaccesspolicies.yaml"):
    crd = yaml.safe_load(open(root + "/charts/aigw/crds/" + f))
    props = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]
    for top in ("spec", "status"):
        if not props[top].get("description"):
            missing.append(top + " (no description in the CRD)")
        walk(props[top], top, top=True)
for m in missing:
    print("missing:", m)
sys.exit(1 if missing else 0)
PY
ok "every CRD field has a description and a row in docs/policies.md"

# A changed CRD description must make --check fail (a check that cannot fail
# protects nothing).
mkdir -p copy/charts/aigw copy/docs
cp -r "$AIGW_ROOT/charts/aigw/crds" copy/charts/aigw/
cp -r "$AIGW_ROOT/examples" copy/
cp "$AIGW_ROOT/docs/policies.md" copy/docs/
"$gen" --root copy --check || fail "copy of the checkout reported stale before any change"
sed -i 's/description: Number of CA certificates in the bundle./description: Count of CA certificates./' \
  copy/charts/aigw/crds/aigateway.kagenti.dev_aiaccesspolicies.yaml
grep -q 'Count of CA certificates' copy/charts/aigw/crds/aigateway.kagenti.dev_aiaccesspolicies.yaml || fail "sed did not apply"
rc=0
"$gen" --root copy --check 2>stale.err || rc=$?
assert_eq "$rc" 1 "--check exit status after a CRD change"
grep -q '+| `status.bundle.certificates` | integer (int32) | Count of CA certificates.' stale.err || { cat stale.err; fail "diff does not show the change"; }
"$gen" --root copy && "$gen" --root copy --check || fail "regenerating did not make the copy fresh"
ok "a changed CRD makes the page stale; regenerating fixes it"
