"""kapi: a tiny client of the test API server for the reconciler's integration tests.

  kapi.py KUBECONFIG get PATH                      -> prints the object (exit 3 when 404)
  kapi.py KUBECONFIG send METHOD PATH FILE|-       -> POST/PUT/DELETE with a YAML/JSON body
  kapi.py KUBECONFIG merge PATH JSON               -> merge patch
  kapi.py KUBECONFIG wait PATH EXPR SECONDS        -> polls until EXPR (python, `d` = the
                                                      object or None when 404) is true
  kapi.py KUBECONFIG raw METHOD PATH [JSON]        -> /_test/ endpoints, prints the reply
  kapi.py KUBECONFIG apply PATH MANAGER FILE|-     -> server-side apply (no force)
  kapi.py KUBECONFIG create-many PATH FILE         -> POSTs every document of a multi-doc
                                                      YAML file, retrying 5xx/409/429 (20x)
  kapi.py KUBECONFIG wait-list PATH EXPR SECONDS   -> like wait, `d` = the list's items

Bounded: every request has a 10 s timeout; wait polls every 0.2 s until SECONDS.
"""
import base64
import json
import ssl
import sys
import time
import urllib.error
import urllib.request

import yaml


def client(kc_path):
    kc = yaml.safe_load(open(kc_path, encoding="utf-8"))
    cluster = kc["clusters"][0]["cluster"]
    ctx = ssl.create_default_context(
        cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
    return cluster["server"], kc["users"][0]["user"]["token"], ctx


def request(kc, method, path, body=None, ctype="application/json"):
    server, token, ctx = kc
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(server + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            text = r.read().decode()
            return r.status, (json.loads(text) if text.strip().startswith(("{", "[")) else text)
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, text


def main():
    kc = client(sys.argv[1])
    op = sys.argv[2]
    if op == "get":
        code, obj = request(kc, "GET", sys.argv[3])
        if code == 404:
            sys.exit(3)
        if code != 200:
            print(obj, file=sys.stderr)
            sys.exit(1)
        print(json.dumps(obj))
    elif op == "send":
        method, path, src = sys.argv[3], sys.argv[4], sys.argv[5]
        text = sys.stdin.read() if src == "-" else open(src, encoding="utf-8").read()
        body = yaml.safe_load(text) if text.strip() else None
        if method == "PUT" and body and not body.get("metadata", {}).get("resourceVersion"):
            # replace what is there now (optimistic concurrency on the current version)
            code, cur = request(kc, "GET", path)
            if code == 200:
                body.setdefault("metadata", {})["resourceVersion"] = \
                    cur["metadata"]["resourceVersion"]
        code, obj = request(kc, method, path, body)
        if code >= 300:
            print("%s %s: %s %s" % (method, path, code, obj), file=sys.stderr)
            sys.exit(1)
    elif op == "merge":
        code, obj = request(kc, "PATCH", sys.argv[3], json.loads(sys.argv[4]),
                            "application/merge-patch+json")
        if code >= 300:
            print("PATCH %s: %s %s" % (sys.argv[3], code, obj), file=sys.stderr)
            sys.exit(1)
    elif op == "wait":
        path, expr, secs = sys.argv[3], sys.argv[4], float(sys.argv[5])
        deadline = time.time() + secs
        last = None
        while True:
            code, obj = request(kc, "GET", path)
            d = obj if code == 200 else None
            last = d
            try:
                if eval(expr, {"d": d}):  # noqa: S307 (test-only expressions)
                    return
            except (KeyError, TypeError, IndexError, AttributeError):
                pass
            if time.time() > deadline:
                print("timeout waiting for %s: %s\nlast: %s" % (path, expr,
                      json.dumps(last)[:3000]), file=sys.stderr)
                sys.exit(1)
            time.sleep(0.2)
    elif op == "apply":
        path, manager, src = sys.argv[3], sys.argv[4], sys.argv[5]
        text = sys.stdin.read() if src == "-" else open(src, encoding="utf-8").read()
        body = json.dumps(yaml.safe_load(text)).encode()
        code, obj = request(kc, "PATCH", path + "?fieldManager=" + manager, body,
                            "application/apply-patch+yaml")
        if code >= 300:
            print("APPLY %s: %s %s" % (path, code, obj), file=sys.stderr)
            sys.exit(1)
    elif op == "create-many":
        path, src = sys.argv[3], sys.argv[4]
        for doc in yaml.safe_load_all(open(src, encoding="utf-8")):
            if not doc:
                continue
            for attempt in range(20):
                code, obj = request(kc, "POST", path, doc)
                if code < 300:
                    break
                if code not in (409, 429) and code < 500 or attempt == 19:
                    print("POST %s: %s %s" % (path, code, obj), file=sys.stderr)
                    sys.exit(1)
                time.sleep(0.1)
    elif op == "wait-list":
        path, expr, secs = sys.argv[3], sys.argv[4], float(sys.argv[5])
        deadline = time.time() + secs
        while True:
            code, obj = request(kc, "GET", path)
            d = obj.get("items") if code == 200 and isinstance(obj, dict) else None
            try:
                if d is not None and eval(expr, {"d": d}):  # noqa: S307
                    return
            except (KeyError, TypeError, IndexError, AttributeError):
                pass
            if time.time() > deadline:
                print("timeout waiting for %s: %s" % (path, expr), file=sys.stderr)
                sys.exit(1)
            time.sleep(0.5)
    elif op == "raw":
        body = json.loads(sys.argv[5]) if len(sys.argv) > 5 else None
        code, obj = request(kc, sys.argv[3], sys.argv[4], body)
        print(json.dumps(obj))
        if code >= 300:
            sys.exit(1)
    else:
        sys.exit("unknown op " + op)


if __name__ == "__main__":
    main()
