# The kube client against hack/test-apiserver: every request type, every
# injectable fault (latency + timeout, 500s, 429 + Retry-After, 409 on writes,
# dropped watches, 410 on resume), the client-side QPS limit, the object
# source over the API server, and in-cluster configuration with token rotation.
. "$AIGW_ROOT/tests/integration/lib.sh"
. "$AIGW_ROOT/tests/integration/kube_lib.sh"

start_apiserver

# --- discovery and version ---------------------------------------------------
out=$(kt version)
assert_eq "$(jf "$out" 'd["version"]["major"]')" "1" "version major"
out=$(kt resolve v1 Secret)
assert_eq "$(jf "$out" 'd["resource"], d["namespaced"]')" "('secrets', True)" "built-in kind"

cat >crd.yaml <<'EOF'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
EOF
out=$(ktq create crd.yaml) || fail "create CRD: $out"
out=$(kt resolve example.com/v1 Widget)
assert_eq "$(jf "$out" 'd["resource"], d["namespaced"], d["observed"].get("discovery 200")')" \
  "('widgets', True, 1)" "CRD kind found by discovery"
out=$(kt resolve example.com/v1 Gadget) && fail "unknown kind resolved"
assert_eq "$(jf "$out" 'd["error"]["code"]')" "404" "unknown kind is 404"
ok "discovery"

# --- create / get / list / update / status / patch / apply / delete ----------
cat >cm.yaml <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata: {name: cm-main, namespace: default, labels: {app: demo}}
data: {a: "1"}
EOF
out=$(kt create cm.yaml) || fail "create: $out"
out=$(kt create cm.yaml) && fail "second create succeeded"
assert_eq "$(jf "$out" 'd["error"]["code"], d["error"]["reason"]')" "(409, 'AlreadyExists')" "create twice"
out=$(kt get v1 ConfigMap default cm-main)
assert_eq "$(jf "$out" 'd["object"]["data"]["a"]')" "1" "get"
out=$(kt get v1 ConfigMap default nope) && fail "get of a missing object"
assert_eq "$(jf "$out" 'd["error"]["code"], d["error"]["reason"]')" "(404, 'NotFound')" "get missing"

for i in $(seq 1 23); do
  printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: page-%02d, namespace: default, labels: {set: paged, parity: p%d}}\n' \
    "$i" $((i % 2))
done >pages.yaml
out=$(ktq create-all pages.yaml) || fail "create pages: $out"
out=$(kt list v1 ConfigMap default --selector set=paged --limit 5)
assert_eq "$(jf "$out" 'd["count"], d["observed"]["list 200"], d["kind"]')" "(23, 5, 'ConfigMapList')" \
  "paginated list follows continue"
out=$(kt list v1 ConfigMap default --selector 'set=paged,parity in (p0)')
assert_eq "$(jf "$out" 'd["count"]')" "11" "label selector"
out=$(kt list v1 ConfigMap - --field-selector metadata.name=page-07)
assert_eq "$(jf "$out" 'd["names"]')" "['default/page-07']" "field selector, all namespaces"
ok "create/get/list"

# update with a stale resourceVersion is a reported Conflict
out=$(kt get v1 ConfigMap default cm-main)
python3 -c 'import json,sys; d=json.loads(sys.argv[1])["object"]; d["data"]["a"]="2"; print(json.dumps(d))' "$out" >upd.json
out=$(kt update upd.json) || fail "update: $out"
out=$(kt update upd.json) && fail "stale update succeeded"
assert_eq "$(jf "$out" 'd["error"]["code"], d["error"]["reason"], d["observed"]')" \
  "(409, 'Conflict', {'update 409': 1})" "stale update is a Conflict, not retried"

# merge patch
out=$(kt patch v1 ConfigMap default cm-main '{"data":{"b":"3"}}')
assert_eq "$(jf "$out" 'd["object"]["data"]')" "{'a': '2', 'b': '3'}" "merge patch"

# server-side apply: create, take over with force, conflict without force
cat >ssa.yaml <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata: {name: cm-ssa, namespace: default}
data: {owner: first}
EOF
out=$(kt apply ssa.yaml --manager first) || fail "apply create: $out"
sed 's/owner: first/owner: second/' ssa.yaml >ssa2.yaml
out=$(kt apply ssa2.yaml --manager second) && fail "conflicting apply without force succeeded"
assert_eq "$(jf "$out" 'd["error"]["code"], d["error"]["reason"]')" "(409, 'Conflict')" "apply conflict"
out=$(kt apply ssa2.yaml --manager second --force)
assert_eq "$(jf "$out" 'd["object"]["data"]["owner"]')" "second" "forced apply"

# status subresource on the CRD: update-status, patch --status, apply --status
cat >w.yaml <<'EOF'
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: default}
spec: {size: 1}
EOF
out=$(kt create w.yaml)
gen=$(jf "$out" 'd["object"]["metadata"]["generation"]')
python3 -c 'import json,sys; d=json.loads(sys.argv[1])["object"]; d["status"]={"phase":"Ready"}; d["spec"]["size"]=99; print(json.dumps(d))' "$out" >ws.json
out=$(kt update-status ws.json)
assert_eq "$(jf "$out" 'd["object"]["status"]["phase"], d["object"]["spec"]["size"], d["object"]["metadata"]["generation"]')" \
  "('Ready', 1, $gen)" "status update ignores spec, keeps generation"
out=$(kt patch example.com/v1 Widget default w1 '{"status":{"phase":"Patched"}}' --status)
assert_eq "$(jf "$out" 'd["object"]["status"]["phase"]')" "Patched" "status merge patch"
cat >wsa.yaml <<'EOF'
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: default}
status: {phase: Applied}
EOF
out=$(kt apply wsa.yaml --manager aigw --force --status)
assert_eq "$(jf "$out" 'd["object"]["status"]["phase"]')" "Applied" "status apply"

# delete with propagationPolicy; a second delete is 404
out=$(kt delete example.com/v1 Widget default w1 --propagation Foreground) || fail "delete: $out"
out=$(kt delete example.com/v1 Widget default w1 --propagation Background) && fail "second delete succeeded"
assert_eq "$(jf "$out" 'd["error"]["code"]')" "404" "delete missing"
ok "update/patch/apply/status/delete"

# --- watch -------------------------------------------------------------------
rv=$(jf "$(ktq list v1 ConfigMap default)" 'd["resourceVersion"]')
kt watch-count v1 ConfigMap default 3 --rv "$rv" --timeout 20 >watch.out &
wpid=$!
track_pid $wpid
sleep 0.5
ktq patch v1 ConfigMap default page-01 '{"data":{"x":"1"}}' >/dev/null
ktq delete v1 ConfigMap default page-02 >/dev/null
ktq patch v1 ConfigMap default cm-main '{"data":{"c":"1"}}' >/dev/null
wait $wpid || fail "watch-count failed: $(cat watch.out)"
out=$(cat watch.out)
assert_eq "$(jf "$out" 'd["total"], d["modified"], d["deleted"]')" "(3, 2, 1)" "watch events"
ok "watch"

# --- faults ------------------------------------------------------------------
# latency beyond the per-request timeout: a timeout error; retried when allowed
faults '{"latency_ms": 1200}'
out=$(kt --timeout-ms 300 --max-retries -1 get v1 ConfigMap default cm-main) && fail "timeout not reported"
assert_eq "$(jf "$out" 'd["error"]["timed_out"], d["error"]["transport"], d["error"]["code"]')" \
  "(True, True, 0)" "timeout is a transport error"
out=$(kt --timeout-ms 300 --max-retries 2 --backoff-ms 10 get v1 ConfigMap default cm-main) && fail "timeout not reported"
assert_eq "$(jf "$out" 'd["observed"]')" "{'get 0': 3}" "timed-out GET retried twice"
out=$(kt --timeout-ms 5000 get v1 ConfigMap default cm-main)
assert_eq "$(jf "$out" 'd["object"]["metadata"]["name"]')" "cm-main" "latency within the timeout"
faults '{"latency_ms": 0}'
# objsrc with a budget shorter than the latency: OBJSRC_TIMEOUT
faults '{"latency_ms": 2000}'
out=$(kt objsrc-get v1 ConfigMap default cm-main --budget-ms 300)
# (timeout, not the answer that comes after 2 s; elapsed time is not asserted: under
# valgrind a TLS handshake alone may outlast the budget)
assert_eq "$(jf "$out" 'd["status"]')" "timeout" "object source deadline"
faults '{"latency_ms": 0}'
out=$(kt objsrc-get v1 ConfigMap default cm-main --budget-ms 2000)
assert_eq "$(jf "$out" 'd["status"], d["object"]["metadata"]["name"]')" "('ok', 'cm-main')" "object source get"
out=$(kt objsrc-get v1 Secret default nope)
assert_eq "$(jf "$out" 'd["status"]')" "not_found" "object source not found"
ok "latency and timeouts"

# 500s: idempotent requests retried; a create is not
faults '{"fail_next_500": 2}'
out=$(kt --backoff-ms 10 get v1 ConfigMap default cm-main)
assert_eq "$(jf "$out" 'sorted(d["observed"].items())')" "[('get 200', 1), ('get 500', 2)]" "GET retried over 500s"
faults '{"fail_next_500": 1}'
sed 's/cm-main/cm-500/' cm.yaml >cm500.yaml
out=$(kt --backoff-ms 10 create cm500.yaml) && fail "create over a 500 succeeded"
assert_eq "$(jf "$out" 'd["error"]["code"], d["error"]["reason"], d["observed"]')" \
  "(500, 'InternalError', {'create 500': 1})" "create not retried on 500"
faults '{"fail_next_500": 9}'
out=$(kt --backoff-ms 5 --max-retries 3 get v1 ConfigMap default cm-main) && fail "retries not bounded"
assert_eq "$(jf "$out" 'd["error"]["code"], d["observed"]')" "(500, {'get 500': 4})" "retries bounded"
faults '{"fail_next_500": 0}'
ok "500s"

# 429 with Retry-After: honoured (waits ~1 s each), for every verb
faults '{"throttle_next": 2, "retry_after": 1}'
out=$(kt --backoff-ms 10 gets 1 v1 ConfigMap default cm-main)
assert_eq "$(jf "$out" 'd["ok"], d["elapsed_ms"] >= 1900, sorted(d["observed"].items())')" \
  "(1, True, [('get 200', 1), ('get 429', 2)])" "429 Retry-After honoured"
faults '{"throttle_next": 1, "retry_after": 1}'
out=$(kt create cm500.yaml)
assert_eq "$(jf "$out" 'sorted(d["observed"].items())')" "[('create 201', 1), ('create 429', 1)]" "create retried on 429"
faults '{"throttle_next": 1, "retry_after": 1}'
out=$(kt watch-count v1 ConfigMap default 1 --timeout 10)
assert_eq "$(jf "$out" 'd["total"], sorted(d["observed"].items())')" \
  "(1, [('watch 200', 1), ('watch 429', 1)])" "watch retried on 429 before its stream starts"
ok "429"

# 409 on writes: reported for patch/update, retried for forced apply
faults '{"conflict_next": 1}'
out=$(kt patch v1 ConfigMap default cm-main '{"data":{"d":"1"}}') && fail "409 patch succeeded"
assert_eq "$(jf "$out" 'd["error"]["code"], d["observed"]')" "(409, {'patch 409': 1})" "409 reported on patch"
faults '{"conflict_next": 2}'
out=$(kt --backoff-ms 10 apply ssa2.yaml --manager second --force)
assert_eq "$(jf "$out" 'sorted(d["observed"].items())')" "[('apply 200', 1), ('apply 409', 2)]" "forced apply retried over 409"
ok "409"

# a dropped watch ends the stream (not an error); the caller resumes
faults '{"watch_drop_after": 2}'
rv=$(jf "$(ktq list v1 ConfigMap default)" 'd["resourceVersion"]')
for i in 03 04 05; do ktq patch v1 ConfigMap default "page-$i" '{"data":{"y":"1"}}' >/dev/null; done
out=$(kt watch-count v1 ConfigMap default 5 --rv "$rv" --timeout 10)
assert_eq "$(jf "$out" 'd["total"]')" "2" "watch dropped after 2 events"
faults '{"watch_drop_after": 0, "expire_next_resumes": 1}'
out=$(kt watch-count v1 ConfigMap default 5 --rv "$rv" --timeout 10)
assert_eq "$(jf "$out" 'd["errors"], d["total"]')" "(1, 1)" "410 on resume arrives as an ERROR event"
# the reflector copes with both at once and ends with the server's objects
faults '{"watch_drop_after": 3, "expire_next_resumes": 1}'
watches=$(jf "$(counters)" 'd["WATCH"]')
kt reflect v1 ConfigMap default --until-name marker-1 --timeout 120 --verify >reflect.out &
rpid=$!
track_pid $rpid
# write only once the reflector watches, so the writes reach it as events
for _ in $(seq 1 300); do
  [ "$(jf "$(counters)" "d['WATCH'] - $watches")" -ge 1 ] && break
  sleep 0.1
done
ktq --qps -1 churn default 60 --names 10 --marker marker-1 >/dev/null || fail "churn"
wait $rpid || fail "reflect failed: $(cat reflect.out)"
out=$(cat reflect.out)
assert_eq "$(jf "$out" 'd["timed_out"], d["matches_server"], d["model_matches_store"], d["violations"]')" \
  "(False, True, True, 0)" "reflector converged"
assert_eq "$(jf "$out" 'd["stats"]["relists_410"] >= 1, d["stats"]["watches"] >= 3')" "(True, True)" \
  "reflector relisted and resumed"
faults '{"watch_drop_after": 0, "expire_next_resumes": 0}'
ok "watch faults"

# --- client-side QPS limit ------------------------------------------------------
out=$(ktq --qps 5 --burst 1 gets 11 v1 ConfigMap default cm-main)
slow=$(jf "$out" 'd["elapsed_ms"]')
out=$(ktq --qps -1 gets 11 v1 ConfigMap default cm-main)
fast=$(jf "$out" 'd["elapsed_ms"]')
[ "$slow" -ge 1800 ] || fail "qps 5: 11 GETs took ${slow} ms, want >= 1800"
[ "$fast" -lt 1500 ] || fail "no limit: 11 GETs took ${fast} ms"
# one client shared by 8 threads
out=$(kt --qps -1 gets-parallel 8 10 v1 ConfigMap default cm-main)
assert_eq "$(jf "$out" 'd["threads"], d["ok"], d["observed"]')" "(8, 80, {'get 200': 80})" \
  "8 threads share one client"
ok "qps limit (${slow} ms limited, ${fast} ms unlimited)"

# --- in-cluster configuration, token re-read when it changes --------------------
mkdir -p sa
cp "$API_CA" sa/ca.crt
echo "kube-test" >sa/namespace
echo "wrong-token" >sa/token
port=${API_SERVER##*:}
before=$(jf "$(counters)" 'd["requests"]')
(
  unset KUBECONFIG
  KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=$port \
    $AIGW_WRAP "$AIGW_TOOLS/kubetest" --sa-dir "$TMP/sa" gets 20 v1 Namespace - default \
    --pause-ms 150 --tolerate >incluster.out
) &
ipid=$!
track_pid $ipid
# rotate once the client has been refused twice with the old token
for _ in $(seq 1 300); do
  [ "$(jf "$(counters)" "d['requests'] - $before")" -ge 2 ] && break
  sleep 0.1
done
printf '%s\n' "$API_TOKEN" >sa/token.new && mv sa/token.new sa/token
wait $ipid || fail "in-cluster kubetest failed"
out=$(cat incluster.out)
assert_eq "$(jf "$out" 'd["failed"] > 0, d["ok"] > 0, d["ok"] + d["failed"]')" "(True, True, 20)" \
  "rotated token picked up"
assert_eq "$(jf "$out" '"get 401" in d["observed"]')" "True" "401 before rotation"
ok "in-cluster config and token rotation"

echo "kube client: all checks passed"
