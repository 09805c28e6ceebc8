#!/usr/bin/env python3
"""CPU cost of the test API server per write request, by kind of write.

Starts hack/test-apiserver with the reconciler benchmark's objects (the CRDs of
../shared/schemas and charts/aigw), then over one keep-alive TLS connection:
N creates of AIRoutingPolicies of 10 models, N server-side applies of them by a
second manager (force), N merge patches of their status subresource (conditions,
providers, models), with `watchers` watches of the resource open meanwhile.
Reports the server process's CPU (utime+stime from /proc/PID/stat) per request.

  python3 tests/apiserver/bench_writes.py [-n 500] [--watchers 2] [--rounds 3]
"""

import argparse
import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.path.abspath(os.path.join(ROOT, "..", "shared"))
API = "aigateway.kagenti.dev/v1alpha1"
BASE = "/apis/%s/namespaces/team-a/airoutingpolicies" % API


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def policy(i):
    models = [{"name": "m%d-%d" % (i, m), "backends": [{"provider": "openai",
                                                         "model": "gpt-4o"}],
               "rateLimit": {"tokensPerHour": 100000}} for m in range(1, 11)]
    return {"apiVersion": API, "kind": "AIRoutingPolicy",
            "metadata": {"name": "p%d" % i, "namespace": "team-a"},
            "spec": {"targetRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway",
                                   "name": "ai-gateway"},
                     "providers": [{"name": "openai", "endpoint": "https://api.openai.com/v1",
                                    "schema": "OpenAI",
                                    "credentials": {"type": "APIKey", "secretRef": {
                                        "name": "openai-secret", "key": "api-key"}}}],
                     "models": models}}


def status(i):
    t = "2025-01-01T00:00:00Z"
    return {"status": {
        "observedGeneration": 1,
        "conditions": [{"type": c, "status": "True", "reason": "Ok", "message": "fine",
                        "observedGeneration": 1, "lastTransitionTime": t}
                       for c in ("Accepted", "ProvidersConfigured", "RoutingActive",
                                 "Programmed")],
        "providers": [{"name": "openai", "ready": True}],
        "models": [{"name": "m%d-%d" % (i, m), "ready": True} for m in range(1, 11)]}}


class Client:
    def __init__(self, kc):
        cfg = yaml.safe_load(open(kc))
        cl = cfg["clusters"][0]["cluster"]
        self.token = cfg["users"][0]["user"]["token"]
        host = cl["server"].split("//")[1]
        self.host, port = host.rsplit(":", 1)
        self.port = int(port)
        import base64
        ca = base64.b64decode(cl["certificate-authority-data"]).decode()
        self.ctx = ssl.create_default_context(cadata=ca)
        self.ctx.check_hostname = False
        self.conn = self.connect()

    def connect(self):
        return http.client.HTTPSConnection(self.host, self.port, context=self.ctx)

    def req(self, method, path, body=None, ctype="application/json", ok=(200, 201)):
        h = {"Authorization": "Bearer " + self.token, "Content-Type": ctype,
             "Accept": "application/json"}
        data = json.dumps(body).encode() if body is not None else None
        self.conn.request(method, path, body=data, headers=h)
        r = self.conn.getresponse()
        out = r.read()
        if r.status not in ok:
            raise SystemExit("%s %s: %d %s" % (method, path, r.status, out[:500]))
        return out


def watcher(cl, stop):
    conn = cl.connect()
    conn.request("GET", BASE + "?watch=1&allowWatchBookmarks=true",
                 headers={"Authorization": "Bearer " + cl.token})
    r = conn.getresponse()
    while not stop.is_set():
        if not r.fp.readline():
            break


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=500)
    ap.add_argument("--watchers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3,
                    help="repeat on new objects; the least CPU of the rounds is reported")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-writes.")
    objs = os.path.join(tmp, "objs")
    os.makedirs(objs)
    for d in (os.path.join(SHARED, "schemas", "crds"), os.path.join(ROOT, "charts/aigw/crds")):
        for f in os.listdir(d):
            if f.endswith(".yaml"):
                shutil.copy(os.path.join(d, f), objs)
    for f in ("namespaces.yaml", "secrets.yaml"):
        shutil.copy(os.path.join(ROOT, "examples/cluster", f), objs)
    kc = os.path.join(tmp, "kc")
    srv = subprocess.Popen([os.path.join(ROOT, "hack/test-apiserver"), "--listen",
                            "127.0.0.1:0", "--kubeconfig-out", kc, "--objects", objs],
                           stdout=subprocess.PIPE)
    try:
        srv.stdout.readline()
        cl = Client(kc)
        stop = threading.Event()
        for _ in range(a.watchers):
            threading.Thread(target=watcher, args=(cl, stop), daemon=True).start()
        time.sleep(0.5)
        n = a.n
        phases = [
            ("create", lambda i: cl.req("POST", BASE, policy(i))),
            ("apply", lambda i: cl.req(
                "PATCH", BASE + "/p%d?fieldManager=bench&force=true" % i,
                dict(policy(i), spec=dict(policy(i)["spec"], models=[
                    dict(m, rateLimit={"tokensPerHour": 200000})
                    for m in policy(i)["spec"]["models"]])),
                "application/apply-patch+yaml")),
            ("status", lambda i: cl.req("PATCH", BASE + "/p%d/status" % i, status(i),
                                        "application/merge-patch+json")),
            ("get", lambda i: cl.req("GET", BASE + "/p%d" % i)),
        ]
        best = {}
        for r in range(a.rounds):
            for name, fn in phases:
                c0, t0 = cpu_seconds(srv.pid), time.monotonic()
                for i in range(r * n + 1, (r + 1) * n + 1):
                    fn(i)
                time.sleep(0.3)      # watchers catch up
                c1, t1 = cpu_seconds(srv.pid), time.monotonic()
                cpu, wall = (c1 - c0) * 1000 / n, (t1 - t0 - 0.3) * 1000 / n
                if name not in best or cpu < best[name][0]:
                    best[name] = (cpu, wall)
        for name, _ in phases:
            print("%-7s %5d requests  server CPU %6.3f ms/request  wall %6.3f ms/request"
                  % (name, n, best[name][0], best[name][1]), flush=True)
        stop.set()
    finally:
        srv.terminate()
        srv.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
