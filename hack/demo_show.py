#!/usr/bin/env python3
"""Formatting for hack/demo.sh: builds AdmissionReviews and prints replies,
generated objects and conditions readably.

  demo_show.py review KIND FILE NS        -> an AdmissionReview CREATE around the YAML object
  demo_show.py reply REQ REPLY            -> verdict, errors one per line, patch summary
  demo_show.py objects KUBECONFIG         -> generated objects by kind
  demo_show.py status KUBECONFIG          -> the policies' conditions and endpoint
"""
import base64
import json
import os
import sys

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))

GROUPS = {"AIRoutingPolicy": ("aigateway.kagenti.dev", "v1alpha1", "airoutingpolicies"),
          "AIAccessPolicy": ("aigateway.kagenti.dev", "v1alpha1", "aiaccesspolicies"),
          "Pod": ("", "v1", "pods")}


def review(kind, path, ns):
    obj = [d for d in yaml.safe_load_all(open(path)) if d and d.get("kind") == kind][0]
    group, version, resource = GROUPS[kind]
    gvk = {"group": group, "version": version, "kind": kind}
    gvr = {"group": group, "version": version, "resource": resource}
    req = {"uid": "demo-%s" % kind.lower(), "kind": gvk, "resource": gvr, "requestKind": gvk,
           "requestResource": gvr, "name": obj["metadata"].get("name", ""), "namespace": ns,
           "operation": "CREATE", "userInfo": {"username": "demo"}, "object": obj, "dryRun": False}
    print(json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req}))


def reply(req_path, rep_path):
    req = json.load(open(req_path))["request"]
    r = json.load(open(rep_path))["response"]
    meta = req["object"]["metadata"]
    print("  %s %s %s/%s -> %s" % (req["operation"], req["kind"]["kind"], req["namespace"],
                                   meta.get("name") or meta.get("generateName", "") + "*",
                                   "ALLOWED" if r["allowed"] else "DENIED (%d %s)" % (
                                       r["status"]["code"], r["status"]["reason"])))
    for c in r.get("status", {}).get("details", {}).get("causes", []):
        print("    error:   %s: %s" % (c["field"], c["message"]))
    for w in r.get("warnings", []):
        print("    warning: " + w)
    if "patch" not in r:
        return
    ops = json.loads(base64.b64decode(r["patch"]))
    print("    patch: %d JSON Patch operations" % len(ops))
    for op in ops:
        v = op.get("value")
        path = op["path"]
        if path.endswith("/initContainers") or path.endswith("/containers") or "/initContainers/" in path or "/containers/" in path and path.count("/") == 3:
            items = v if isinstance(v, list) else [v]
            for c in items:
                if isinstance(c, dict) and "image" in c:
                    print("      + container %-20s %s%s" % (c["name"], c["image"],
                          " (native sidecar)" if c.get("restartPolicy") == "Always" else ""))
                    continue
        if path.endswith("/volumes") or "/volumes/" in path:
            for vol in (v if isinstance(v, list) else [v]):
                if isinstance(vol, dict) and "name" in vol:
                    src = [k for k in vol if k != "name"]
                    print("      + volume    %-20s %s" % (vol["name"], ",".join(src)))
            continue
        if "/env" in path:
            for e in (v if isinstance(v, list) else [v]):
                if isinstance(e, dict) and "name" in e:
                    print("      + env       %-20s %s  (%s)" % (e["name"], e.get("value", "<from field>"), path.split("/env")[0]))
            continue
        if path.endswith("/annotations") and isinstance(v, dict):
            for key in v:
                print("      + annotation %s" % key)
        elif "/annotations/" in path:
            print("      + annotation %s" % (path.rsplit("/", 1)[-1].replace("~1", "/")))


def kapi():
    import reconcile_kapi
    return reconcile_kapi


def objects(kc_path):
    k = kapi()
    kc = k.client(kc_path)
    paths = [("Backend", "/apis/gateway.envoyproxy.io/v1alpha1/namespaces/team-a/backends"),
             ("AIServiceBackend", "/apis/aigateway.envoyproxy.io/v1beta1/namespaces/team-a/aiservicebackends"),
             ("BackendSecurityPolicy", "/apis/aigateway.envoyproxy.io/v1beta1/namespaces/team-a/backendsecuritypolicies"),
             ("AIGatewayRoute", "/apis/aigateway.envoyproxy.io/v1beta1/namespaces/team-a/aigatewayroutes"),
             ("BackendTrafficPolicy", "/apis/gateway.envoyproxy.io/v1alpha1/namespaces/team-a/backendtrafficpolicies"),
             ("ClientTrafficPolicy", "/apis/gateway.envoyproxy.io/v1alpha1/namespaces/team-a/clienttrafficpolicies"),
             ("Secret", "/api/v1/namespaces/team-a/secrets?labelSelector=app.kubernetes.io%2Fmanaged-by%3Daigw"),
             ("ConfigMap", "/api/v1/namespaces/team-a/configmaps?labelSelector=app.kubernetes.io%2Fmanaged-by%3Daigw")]
    for kind, path in paths:
        code, lst = k.request(kc, "GET", path)
        for o in (lst.get("items", []) if code == 200 else []):
            m = o["metadata"]
            if m.get("labels", {}).get("app.kubernetes.io/managed-by") != "aigw":
                continue
            owner = [r["kind"] + "/" + r["name"] for r in m.get("ownerReferences", []) if r.get("controller")]
            print("  %-22s %-34s owner %s" % (kind, m["name"], owner[0] if owner else "-"))
    code, gw = k.request(kc, "GET", "/apis/gateway.networking.k8s.io/v1/namespaces/team-a/gateways/ai-gateway")
    for l in gw["spec"]["listeners"]:
        refs = [r["name"] for r in l.get("tls", {}).get("certificateRefs", []) if r.get("name")]
        print("  %-22s %-34s listener %s (%s) serves %s" % ("Gateway", "ai-gateway", l["name"], l["protocol"], ",".join(refs) or "-"))


def status(kc_path):
    k = kapi()
    kc = k.client(kc_path)
    for res in ("airoutingpolicies", "aiaccesspolicies"):
        code, lst = k.request(kc, "GET", "/apis/aigateway.kagenti.dev/v1alpha1/namespaces/team-a/" + res)
        for p in lst.get("items", []):
            st = p.get("status", {})
            print("  %s/%s (generation %s, observed %s)" % (p["kind"], p["metadata"]["name"],
                  p["metadata"].get("generation"), st.get("observedGeneration")))
            for c in st.get("conditions", []):
                print("    %-20s %-6s %-22s %s" % (c["type"], c["status"], c["reason"], c.get("message", "")[:70]))
            if st.get("endpoint"):
                print("    endpoint: %s" % st["endpoint"])
            if st.get("bundle"):
                print("    bundle:   %s" % json.dumps(st["bundle"]))


if __name__ == "__main__":
    cmd = sys.argv[1]
    {"review": lambda: review(sys.argv[2], sys.argv[3], sys.argv[4]),
     "reply": lambda: reply(sys.argv[2], sys.argv[3]),
     "objects": lambda: objects(sys.argv[2]),
     "status": lambda: status(sys.argv[2])}[cmd]()
