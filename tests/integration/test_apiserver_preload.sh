#!/usr/bin/env bash
# hack/test-apiserver as other tests use it: --objects preloading (CRDs first,
# multi-document YAML, kind: List, JSON, missing namespaces created), the
# kubeconfig's CA and token working with curl (OpenSSL, as aigw's libcurl),
# errors that name the bad file, --git-version, and a clean stop on SIGTERM.
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$here/lib.sh"

objs=$TMP/objects
mkdir -p "$objs/crds" "$objs/app"
cp "$AIGW_SHARED"/schemas/crds/gateway.networking.k8s.io_gateways.yaml "$objs/crds/"
cp "$AIGW_SHARED"/schemas/crds/aigateway.envoyproxy.io_aigatewayroutes.yaml "$objs/crds/"
# Objects sort before the CRDs by name: preloading must still create CRDs first.
cat >"$objs/app/0-gateway.yaml" <<'YAML'
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ai-gateway, namespace: team-a}
spec:
  gatewayClassName: eg
  listeners:
    - {name: https, protocol: HTTPS, port: 443}
---
apiVersion: v1
kind: Secret
metadata: {name: openai, namespace: team-a}
stringData: {api-key: not-a-real-key}
YAML
cat >"$objs/app/list.yml" <<'YAML'
apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: one, namespace: team-b}, data: {a: "1"}}
  - apiVersion: v1
    kind: ConfigMap
    # saved from a cluster: the server fields are dropped when preloading
    metadata: {name: two, namespace: team-b, resourceVersion: "42", uid: 0e4c, creationTimestamp: "2020-01-01T00:00:00Z"}
    data: {a: "2"}
YAML
echo '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "from-json"}}' >"$objs/app/ns.json"

start() {  # start KUBECONFIG_OUT ARGS...: starts the server, waits for the kubeconfig
  local kc=$1; shift
  "$AIGW_ROOT/hack/test-apiserver" --listen 127.0.0.1:0 --kubeconfig-out "$kc" "$@" \
    >"$kc.out" 2>"$kc.err" &
  server_pid=$!
  track_pid "$server_pid"
  for _ in $(seq 1 150); do [ -s "$kc" ] && return 0; kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  cat "$kc.err" >&2
  fail "test-apiserver did not start"
}

start "$TMP/kc" --objects "$objs" --token secret-token --git-version v1.29.4
assert_eq "$(json_get "$TMP/kc.out" 'd["objects"]')" "7" "objects preloaded"
url=$(json_get "$TMP/kc.out" 'd["listening"]')
python3 - "$TMP/kc" "$TMP/ca.crt" <<'PY'
import base64, sys, yaml
kc = yaml.safe_load(open(sys.argv[1]))
open(sys.argv[2], "wb").write(base64.b64decode(kc["clusters"][0]["cluster"]["certificate-authority-data"]))
assert kc["users"][0]["user"]["token"] == "secret-token"
assert kc["current-context"] == kc["contexts"][0]["name"]
PY
ok "kubeconfig: CA data, token, current context"

get() { curl -sS --cacert "$TMP/ca.crt" -H "Authorization: Bearer secret-token" "$url$1"; }
get /version >"$TMP/version.json" || fail "GET /version with the kubeconfig's CA"
assert_eq "$(json_get "$TMP/version.json" 'd["major"] + "." + d["minor"]')" "1.29" "--git-version"
ok "TLS verified by curl with the CA; /version says 1.29"
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$TMP/ca.crt" "$url/api/v1/namespaces")
assert_eq "$code" "401" "no token"
# The certificate is for 127.0.0.1 and localhost.
port=${url##*:}
curl -sS -o /dev/null --cacert "$TMP/ca.crt" -H "Authorization: Bearer secret-token" \
  "https://localhost:$port/healthz" || fail "localhost SAN"
ok "401 without the token; localhost SAN"

get /apis/gateway.networking.k8s.io/v1/namespaces/team-a/gateways/ai-gateway >"$TMP/gw.json"
assert_eq "$(json_get "$TMP/gw.json" 'd["spec"]["listeners"][0]["name"]')" "https" "gateway preloaded"
get /api/v1/namespaces/team-a/secrets/openai >"$TMP/secret.json"
assert_eq "$(json_get "$TMP/secret.json" 'sorted(d["data"])')" "['api-key']" "stringData folded into data"
get /api/v1/namespaces/team-b/configmaps >"$TMP/cms.json"
assert_eq "$(json_get "$TMP/cms.json" '[o["metadata"]["name"] for o in d["items"]]')" "['one', 'two']" "kind: List"
get /api/v1/namespaces/from-json >"$TMP/ns.json"
assert_eq "$(json_get "$TMP/ns.json" 'd["status"]["phase"]')" "Active" "JSON file"
get /apis/aigateway.envoyproxy.io/v1beta1 >"$TMP/disc.json"
assert_eq "$(json_get "$TMP/disc.json" '[r["name"] for r in d["resources"]]')" "['aigatewayroutes', 'aigatewayroutes/status']" "CRD discovery"
ok "preloaded: Gateway (CRD first), Secret, List items, JSON namespace, discovery of CRD kinds"

# SIGTERM stops it cleanly, with open watch streams.
curl -sS -N --cacert "$TMP/ca.crt" -H "Authorization: Bearer secret-token" \
  "$url/api/v1/configmaps?watch=1" >"$TMP/watch.out" 2>/dev/null &
watch_pid=$!
track_pid "$watch_pid"
sleep 0.5
kill -TERM "$server_pid"
rc=0
for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$server_pid" 2>/dev/null && fail "server still running 10 s after SIGTERM"
wait "$server_pid" || rc=$?
assert_eq "$rc" "0" "exit status after SIGTERM"
grep -q "stopped" "$TMP/kc.err" || fail "no stop message"
grep -q '"name":"one"' "$TMP/watch.out" || fail "watch saw no initial events"
ok "SIGTERM: exit 0 with a watch open"

# Bad input is reported with the file name, and the server does not start.
mkdir -p "$TMP/bad"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n' >"$TMP/bad/broken.yaml"
rc=0
"$AIGW_ROOT/hack/test-apiserver" --listen 127.0.0.1:0 --kubeconfig-out "$TMP/bad.kc" \
  --objects "$TMP/bad" >/dev/null 2>"$TMP/bad.err" || rc=$?
assert_eq "$rc" "2" "exit status for a broken file"
grep -q "broken.yaml" "$TMP/bad.err" || fail "error does not name the file: $(cat "$TMP/bad.err")"
[ ! -e "$TMP/bad.kc" ] || fail "kubeconfig written despite the error"
printf 'apiVersion: example.com/v1\nkind: Unknown\nmetadata: {name: x}\n' >"$TMP/bad/broken.yaml"
rc=0
"$AIGW_ROOT/hack/test-apiserver" --listen 127.0.0.1:0 --kubeconfig-out "$TMP/bad.kc" \
  --objects "$TMP/bad" >/dev/null 2>"$TMP/bad.err" || rc=$?
assert_eq "$rc" "2" "exit status for an unknown kind"
grep -q "no resource serves example.com/v1 Unknown" "$TMP/bad.err" || fail "unknown kind: $(cat "$TMP/bad.err")"
rc=0
"$AIGW_ROOT/hack/test-apiserver" --listen 0.0.0.0:0 --kubeconfig-out "$TMP/bad.kc" >/dev/null 2>&1 || rc=$?
assert_eq "$rc" "2" "non-loopback --listen refused"
ok "errors: broken YAML and unknown kinds name the file; non-loopback refused"
