#!/usr/bin/env bash
# make demo: the whole product on one machine, no cluster needed.
#   1. aigw serve (HTTPS webhook, throwaway certificate) with examples/cluster/
#      as its object source: a valid policy admitted, an invalid one denied with
#      every field error, an agent pod injected (patch summarised);
#   2. the test API server with the example cluster loaded and aigw reconcile
#      against it: the example policies become Envoy objects and report
#      conditions;
#   3. the offline commands.
# Loopback only, free ports; every process is stopped by its pid on exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export AIGW=${AIGW:-$root/aigw}
export AIGW_ROOT=$root
export AIGW_SHARED=$(cd "$root/../shared" && pwd)
export AIGW_TMP=$(mktemp -d "${TMPDIR:-/tmp}/aigw-demo.XXXXXX")
cd "$AIGW_TMP"
# shellcheck source=tests/integration/lib.sh
. "$root/tests/integration/lib.sh"
# shellcheck source=tests/integration/reconcile_env.sh
. "$root/tests/integration/reconcile_env.sh"
trap 'stop_all; rm -rf "$AIGW_TMP"; echo; echo "demo: every process it started is stopped."' EXIT

if [ -t 1 ]; then bold=$'\033[1m' dim=$'\033[2m' plain=$'\033[0m'; else bold="" dim="" plain=""; fi
title() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
note() { printf '%s%s%s\n' "$dim" "$*" "$plain"; }
show() { python3 "$root/hack/demo_show.py" "$@"; }
t0=$(date +%s)

# --- 1. the admission webhook -------------------------------------------------
port=$(free_port); mport=$(free_port)
title "aigw serve: HTTPS webhook on 127.0.0.1:$port, object source examples/cluster/"
"$AIGW" serve --dev-self-signed --dev-ca-out "$TMP/ca.pem" --listen "127.0.0.1:$port" \
  --metrics-listen "127.0.0.1:$mport" --objects "$root/examples/cluster" 2>"$TMP/serve.log" &
track_pid $!
wait_http "http://127.0.0.1:$mport/readyz" 100 || { cat "$TMP/serve.log"; fail "aigw serve not ready"; }
note "ready; the API server would call POST /validate and POST /mutate-pods like this:"
post() { # post PATH REVIEW -> reply file
  curl -sS --fail --cacert "$TMP/ca.pem" -H 'Content-Type: application/json' \
    --data-binary "@$2" -o "$TMP/reply.json" "https://127.0.0.1:$port$1"
  show reply "$2" "$TMP/reply.json"
}

title "A valid AIRoutingPolicy is admitted (examples/routing-policy.yaml)"
show review AIRoutingPolicy "$root/examples/routing-policy.yaml" team-a >"$TMP/valid.json"
post /validate "$TMP/valid.json"

title "An invalid one is denied, every problem at once"
cat >"$TMP/bad-policy.yaml" <<'YAML'
apiVersion: aigateway.kagenti.dev/v1alpha1
kind: AIRoutingPolicy
metadata: {name: broken, namespace: team-a}
spec:
  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: ai-gateway}
  providers:
  - {name: openai, endpoint: "ftp://api.openai.com", schema: OpenAI,
     credentials: {type: APIKey, secretRef: {name: openai-secret, key: no-such-key}}}
  models:
  - {name: gpt-4o, backends: [{provider: openai, model: gpt-4o}]}
  - {name: gpt-4o, backends: [{provider: azure, model: gpt-4o}]}
YAML
show review AIRoutingPolicy "$TMP/bad-policy.yaml" team-a >"$TMP/invalid.json"
post /validate "$TMP/invalid.json"

title "An agent pod is wired to the gateway (examples/pods/agent.yaml, namespace team-a)"
show review Pod "$root/examples/pods/agent.yaml" team-a >"$TMP/pod.json"
post /mutate-pods "$TMP/pod.json"
note "the same pod in team-b (not opted in) is admitted unchanged:"
show review Pod "$root/examples/pods/agent.yaml" team-b >"$TMP/pod-b.json"
post /mutate-pods "$TMP/pod-b.json"

# --- 2. the reconciler --------------------------------------------------------
title "aigw reconcile against the test API server (example cluster loaded)"
make_objects
start_apiserver
start_reconciler demo --resync 30s --log-level warn
note "test API server kubeconfig: $KC; creating the two example policies..."
kapply_yaml POST "$ROUTING" <"$root/examples/routing-policy.yaml" >/dev/null
kapply_yaml POST "$ACCESS" <"$root/examples/access-policy.yaml" >/dev/null
programmed="d is not None and d.get('status',{}).get('observedGeneration')==d['metadata']['generation'] and \
any(c['type']=='Programmed' for c in d['status'].get('conditions',[]))"
name_of() { python3 -c 'import sys,yaml; print(yaml.safe_load(open(sys.argv[1]))["metadata"]["name"])' "$1"; }
kwait "$ROUTING/$(name_of "$root/examples/routing-policy.yaml")" "$programmed" 60
kwait "$ACCESS/$(name_of "$root/examples/access-policy.yaml")" "$programmed and bool(d['status'].get('endpoint'))" 60

title "Generated objects (labels app.kubernetes.io/managed-by=aigw, owned by their policy)"
show objects "$KC"

title "Policy status: conditions and the endpoint agents are pointed at"
show status "$KC"

# --- 3. offline commands ------------------------------------------------------
title "Offline, for CI pipelines: aigw validate -f examples/ --objects examples/cluster/"
"$AIGW" validate -f "$root/examples/" --objects "$root/examples/cluster/" | sed 's/^/  /'
"$AIGW" validate -f "$TMP/bad-policy.yaml" --objects "$root/examples/cluster/" | sed 's/^/  /' || true
note "aigw render -f examples/routing-policy.yaml prints what the reconciler would apply:"
"$AIGW" render -f "$root/examples/routing-policy.yaml" --objects "$root/examples/cluster/" 2>/dev/null |
  awk '/^kind:/ {k=$2} /^  name:/ && k {print "  " k "/" $2; k=""}'

title "Done in $(( $(date +%s) - t0 ))s; metrics excerpt from the webhook"
curl -sS "http://127.0.0.1:$mport/metrics" | grep -E '^aigw_admission_requests_total' | sed 's/^/  /'
