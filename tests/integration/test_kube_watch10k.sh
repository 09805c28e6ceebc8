# Done-when for the kube client: a reflector follows 10,000 events (creates,
# updates, deletes of ConfigMaps made by a concurrent writer) while the server
# drops the watch every 1,000 events and answers one resume with 410 Gone. It
# must end with exactly the server's objects (names + resourceVersions), with
# handler calls that form a consistent history (no add of a present object, no
# update or delete of an absent one, resourceVersions only moving forward).
. "$AIGW_ROOT/tests/integration/lib.sh"
. "$AIGW_ROOT/tests/integration/kube_lib.sh"

EVENTS=10000
start_apiserver --watch-history 100000
faults '{"watch_drop_after": 1000, "expire_next_resumes": 1}'

kt reflect v1 ConfigMap default --until-name zz-done --timeout 240 --verify --out store.json \
  >reflect.out 2>reflect.err &
rpid=$!
track_pid $rpid
# the reflector must have listed before the writer starts, so every write is an event
for _ in $(seq 1 100); do
  [ "$(counters | python3 -c 'import json,sys; print(json.load(sys.stdin)["WATCH"])')" -ge 1 ] && break
  sleep 0.1
done

# writer: the last write (event 10,001) creates the marker the reflector waits for
"$AIGW_TOOLS/kubetest" --kubeconfig "$KC" --qps -1 churn default "$EVENTS" --names 200 \
  --seed 4242 --marker zz-done >churn.out || fail "writer failed: $(cat churn.out)"
wait $rpid || fail "reflector failed: $(cat reflect.out reflect.err)"
w=$(cat churn.out)
r=$(cat reflect.out)
c=$(counters)
echo "writer: $w"
echo "reflector: $r"
echo "server: $c"

assert_eq "$(jf "$r" 'd["timed_out"]')" "False" "reflector saw the marker"
assert_eq "$(jf "$c" 'd["faults_watch_drop"] >= 9, d["faults_410"]')" "(True, 1)" \
  "server dropped the watch every 1000 events and expired one resume"
assert_eq "$(jf "$r" 'd["stats"]["relists_410"] >= 1, d["stats"]["lists"] >= 2')" "(True, True)" \
  "the 410 led to a relist"
assert_eq "$(jf "$r" 'd["stats"]["watches"] >= 11')" "True" "every drop was resumed"

# exactly the server's final objects, compared by the reflector...
assert_eq "$(jf "$r" 'd["matches_server"], d["model_matches_store"], d["violations"]')" \
  "(True, True, 0)" "store equals the server and the handler history"
# ... and independently, from the server's own list
curl -fsS --cacert "$API_CA" -H "Authorization: Bearer $API_TOKEN" \
  "$API_SERVER/api/v1/namespaces/default/configmaps" >server.json
python3 - store.json server.json <<'EOF' || fail "store differs from the server's list"
import json, sys
store = json.load(open(sys.argv[1]))
items = json.load(open(sys.argv[2]))["items"]
server = {"%s/%s" % (o["metadata"]["namespace"], o["metadata"]["name"]): o["metadata"]["resourceVersion"]
          for o in items}
if store != server:
    missing = sorted(set(server) - set(store))[:5]
    extra = sorted(set(store) - set(server))[:5]
    stale = sorted(k for k in set(store) & set(server) if store[k] != server[k])[:5]
    print("missing", missing, "extra", extra, "stale", stale)
    sys.exit(1)
print("store == server: %d objects" % len(store))
EOF

# handler calls: adds - deletes is the final count; nothing is counted twice
created=$(jf "$w" 'd["created"] + 1')
updated=$(jf "$w" 'd["updated"]')
deleted=$(jf "$w" 'd["deleted"]')
assert_eq "$(jf "$r" 'd["adds"] - d["deletes"] == d["objects"] == d["server_objects"]')" "True" \
  "adds - deletes = final objects"
assert_eq "$(jf "$r" "d['adds'] <= $created and d['updates'] <= $updated and d['deletes'] <= $deleted")" \
  "True" "no more handler calls than writes"
events=$(jf "$r" 'd["stats"]["events"]')
if [ "$events" -eq $((EVENTS + 1)) ]; then
  # every write arrived as an event (the relist fell between writes): exact counts
  assert_eq "$(jf "$r" 'd["adds"], d["updates"], d["deletes"]')" "($created, $updated, $deleted)" \
    "one handler call per write"
else
  # the relist folded the writes it skipped into one diff; what arrived as events is exact
  assert_eq "$(jf "$r" "d['adds'] + d['updates'] + d['deletes'] >= d['stats']['events']")" "True" \
    "every received event had its effect"
fi
ok "10k events: $(jf "$r" 'd["objects"]') objects, $(jf "$r" 'd["stats"]["watches"]') watches, $events events"
