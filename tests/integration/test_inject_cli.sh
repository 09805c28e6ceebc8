#!/usr/bin/env bash
# aigw inject as a user runs it: the examples (agent.yaml gets both sidecars,
# the volumes and the env vars; the same pod in team-b and the opted-out pod
# are printed unchanged), stdin, JSON output, several documents, and the exit
# codes for bad input and bad flags.
source "$AIGW_ROOT/tests/integration/lib.sh"
cd "$AIGW_ROOT"
ex=examples/pods
objs=examples/cluster/

$AIGW_WRAP "$AIGW" inject -f $ex/agent.yaml --objects $objs -o json >"$TMP/agent.json" 2>"$TMP/agent.err"
python3 - "$TMP/agent.json" <<'PY' || fail "agent.yaml was not injected as expected"
import json, sys
p = json.load(open(sys.argv[1]))
s = p["spec"]
init = [(c["name"], c.get("restartPolicy")) for c in s["initContainers"]]
assert init == [("aigw-spiffe-helper", "Always"), ("aigw-egress", "Always")], init
assert [v["name"] for v in s["volumes"]] == ["spire-agent-socket", "svid-output", "aigw-gateway-ca"]
env = {e["name"]: e.get("value") for e in s["containers"][0]["env"]}
assert env["OPENAI_BASE_URL"] == "http://127.0.0.1:17080/v1", env
assert env["AIGW_GATEWAY_URL"].startswith("https://envoy-team-a-ai-gateway-"), env
assert env["LOG_LEVEL"] == "info"
assert "aigateway.kagenti.dev/status" in p["metadata"]["annotations"]
PY
[ ! -s "$TMP/agent.err" ] || fail "unexpected stderr: $(cat "$TMP/agent.err")"
ok "examples/pods/agent.yaml: two native sidecars, three volumes, env vars"

# unchanged: compares the printed pod with the input, as parsed YAML
same() {
  python3 -c 'import sys, yaml; a = yaml.safe_load(open(sys.argv[1])); b = yaml.safe_load(open(sys.argv[2])); sys.exit(0 if a == b else 1)' "$1" "$2"
}
for f in agent-team-b agent-opt-out; do
  $AIGW_WRAP "$AIGW" inject -f $ex/$f.yaml --objects $objs >"$TMP/$f.out" 2>"$TMP/$f.err"
  same $ex/$f.yaml "$TMP/$f.out" || fail "$f.yaml changed"
  grep -q '^aigw inject: not injected: ' "$TMP/$f.err" || fail "$f.yaml: no skip reason on stderr"
done
ok "team-b and opted-out pods printed unchanged, the reason on stderr"

# stdin, several documents in, several out (YAML stream)
cat $ex/agent.yaml <(echo ---) $ex/agent-team-b.yaml |
  $AIGW_WRAP "$AIGW" inject -f - --objects $objs >"$TMP/multi.yaml" 2>/dev/null
n=$(python3 -c 'import sys, yaml; print(len([d for d in yaml.safe_load_all(open(sys.argv[1])) if d]))' "$TMP/multi.yaml")
assert_eq "$n" 2 "documents printed for two pods"
$AIGW_WRAP "$AIGW" inject -f - --objects $objs -o json <"$TMP/multi.yaml" >"$TMP/multi.json" 2>/dev/null
assert_eq "$(json_get "$TMP/multi.json" 'd["kind"] + str(len(d["items"]))')" "List2" "JSON output of two pods"
ok "stdin, multi-document YAML, JSON List"

# exit codes
set +e
$AIGW_WRAP "$AIGW" inject -f examples/cluster/namespaces.yaml 2>"$TMP/e1"; rc1=$?
$AIGW_WRAP "$AIGW" inject -f $ex/agent.yaml -o xml 2>"$TMP/e2"; rc2=$?
$AIGW_WRAP "$AIGW" inject -f "$TMP/nope.yaml" 2>"$TMP/e3"; rc3=$?
$AIGW_WRAP "$AIGW" inject -f $ex/agent.yaml --objects "$TMP/missing-dir" 2>"$TMP/e4"; rc4=$?
$AIGW_WRAP "$AIGW" inject --review -f $ex/agent.yaml 2>"$TMP/e5"; rc5=$?
$AIGW_WRAP "$AIGW" inject -f $ex/agent.yaml --native-sidecars maybe 2>"$TMP/e6"; rc6=$?
set -e
assert_eq "$rc1" 1 "a Namespace is not a Pod"
grep -q 'expected a v1 Pod' "$TMP/e1" || fail "no 'expected a v1 Pod' message"
assert_eq "$rc2" 2 "-o xml"
assert_eq "$rc3" 2 "missing file"
assert_eq "$rc4" 2 "missing --objects dir"
assert_eq "$rc5" 1 "--review with a pod instead of an AdmissionReview"
assert_eq "$rc6" 2 "--native-sidecars maybe"
ok "exit codes: 1 bad input, 2 usage or I/O"

# --native-sidecars false and a custom config through the CLI
$AIGW_WRAP "$AIGW" inject -f $ex/agent.yaml --objects $objs --native-sidecars false -o json >"$TMP/reg.json"
assert_eq "$(json_get "$TMP/reg.json" '",".join(c["name"] for c in d["spec"]["containers"])')" \
  "aigw-spiffe-helper,aigw-egress,agent" "regular sidecars first"
printf 'images:\n  egress: mirror.internal/ghostunnel:v1.8.4\n' >"$TMP/cfg.yaml"
$AIGW_WRAP "$AIGW" inject -f $ex/agent.yaml --objects $objs --config "$TMP/cfg.yaml" -o json >"$TMP/cfg.json"
assert_eq "$(json_get "$TMP/cfg.json" 'd["spec"]["initContainers"][1]["image"]')" \
  "mirror.internal/ghostunnel:v1.8.4" "image from --config"
printf 'images:\n  egres: x\n' >"$TMP/bad.yaml"
set +e
$AIGW_WRAP "$AIGW" inject -f $ex/agent.yaml --config "$TMP/bad.yaml" 2>"$TMP/e7"; rc7=$?
set -e
assert_eq "$rc7" 2 "a bad --config"
grep -q 'images.egres: unknown key' "$TMP/e7" || fail "bad config message: $(cat "$TMP/e7")"
ok "--native-sidecars and --config"
