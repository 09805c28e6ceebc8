# Shared set-up of the reconciler integration tests (sourced after lib.sh):
# an --objects folder with the upstream and aigw CRDs and a small cluster
# (team-a namespace, Gateway with one HTTPS listener, Envoy Service, Secrets,
# SPIRE bundle), the test API server on a free port, and helpers.
OBJS=$TMP/objs
KC=$TMP/kubeconfig
KAPI="python3 $AIGW_ROOT/tests/integration/reconcile_kapi.py $KC"
AIGW_API=aigateway.kagenti.dev/v1alpha1
ROUTING=/apis/$AIGW_API/namespaces/team-a/airoutingpolicies
ACCESS=/apis/$AIGW_API/namespaces/team-a/aiaccesspolicies
AIEG=/apis/aigateway.envoyproxy.io/v1beta1/namespaces/team-a
EG=/apis/gateway.envoyproxy.io/v1alpha1/namespaces/team-a
SECRETS=/api/v1/namespaces/team-a/secrets
GATEWAY=/apis/gateway.networking.k8s.io/v1/namespaces/team-a/gateways/ai-gateway
BUNDLE=/api/v1/namespaces/spire-system/configmaps/spire-bundle

make_objects() {
  mkdir -p "$OBJS"
  cp "$AIGW_SHARED"/schemas/crds/*.yaml "$OBJS"/
  cp "$AIGW_ROOT"/charts/aigw/crds/*.yaml "$OBJS"/
  cp "$AIGW_ROOT"/examples/cluster/namespaces.yaml "$AIGW_ROOT"/examples/cluster/secrets.yaml \
     "$AIGW_ROOT"/examples/cluster/envoy-service.yaml "$AIGW_ROOT"/examples/cluster/spire-bundle.yaml \
     "$OBJS"/
  cat >"$OBJS/gateway.yaml" <<'YAML'
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ai-gateway, namespace: team-a}
spec:
  gatewayClassName: envoy-gateway
  listeners:
  - {name: https, protocol: HTTPS, port: 8443, tls: {mode: Terminate}}
YAML
  cat >"$OBJS/gateways-more.yaml" <<'YAML'
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: plain-gw, namespace: team-a}
spec:
  gatewayClassName: envoy-gateway
  listeners:
  - {name: http, protocol: HTTP, port: 8080}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: helm-gw, namespace: team-a}
spec:
  gatewayClassName: envoy-gateway
  listeners:
  - {name: https, protocol: HTTPS, port: 8443, tls: {mode: Terminate}}
YAML
}

# start_apiserver [extra flags]: starts the test API server, waits for its kubeconfig.
start_apiserver() {
  rm -f "$KC"
  "$AIGW_ROOT"/hack/test-apiserver --listen 127.0.0.1:0 --kubeconfig-out "$KC" \
    --objects "$OBJS" --bookmark-interval 1 "$@" >"$TMP/apiserver.log" 2>&1 &
  APISERVER_PID=$!
  track_pid "$APISERVER_PID"
  for _ in $(seq 1 100); do [ -s "$KC" ] && break; sleep 0.1; done
  [ -s "$KC" ] || fail "test API server did not start: $(cat "$TMP/apiserver.log")"
}

# start_reconciler NAME [flags]: starts `aigw reconcile` as identity NAME; sets
# PID_<NAME> and METRICS_<NAME> (the metrics port).
start_reconciler() {
  local name=$1; shift
  local port; port=$(free_port)
  $AIGW_WRAP "$AIGW" reconcile --kubeconfig "$KC" --lease-namespace default \
    --identity "$name" --metrics-listen "127.0.0.1:$port" "$@" >"$TMP/$name.log" 2>&1 &
  local pid=$!
  track_pid "$pid"
  eval "PID_$name=$pid; METRICS_$name=$port"
  wait_http "http://127.0.0.1:$port/readyz" 300 || fail "$name not ready: $(tail -5 "$TMP/$name.log")"
}

# metric NAME PORT SERIES: prints the value of one sample line ("aigw_leader" ...).
metric() {
  curl -fsS --max-time 2 "http://127.0.0.1:$2/metrics" | awk -v s="$1" '$1 == s {print $2}'
}

kwait() { $KAPI wait "$@" || fail "wait $1: $2"; }
kget() { $KAPI get "$1"; }
kapply_yaml() { $KAPI send "$1" "$2" - || fail "$1 $2"; }

# True-condition check expression for kwait: cond TYPE STATUS [REASON]
cond() {
  local r=${3:-}
  if [ -n "$r" ]; then
    echo "any(c['type']=='$1' and c['status']=='$2' and c['reason']=='$r' for c in d['status']['conditions'])"
  else
    echo "any(c['type']=='$1' and c['status']=='$2' for c in d['status']['conditions'])"
  fi
}

# writes_since_reset: write requests (excluding Leases) since the last counter reset.
writes_no_leases() {
  $KAPI raw GET /_test/counters | python3 -c '
import json, sys
d = json.load(sys.stdin)
n = 0
for res, verbs in d["by_resource"].items():
    if res.startswith("leases."):
        continue
    n += sum(v for k, v in verbs.items() if k in ("CREATE", "UPDATE", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION"))
print(n)'
}
