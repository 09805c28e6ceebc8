#!/usr/bin/env python3
"""Steps of test_certgen.sh that talk to the test API server directly.

usage: certgen_steps.py KUBECONFIG STEP [ARGS]
"""
import base64
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ["AIGW_ROOT"], "tests", "apiserver"))
import harness  # noqa: E402

NS = "aigw-system"
SECRET = "/api/v1/namespaces/%s/secrets/aigw-webhook-tls" % NS
VWC = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/aigw-validating"
MWC = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/aigw-mutating"


def fail(msg):
    print("FAIL:", msg, file=sys.stderr)
    sys.exit(1)


def webhook(name, path):
    return {"name": name, "admissionReviewVersions": ["v1"], "sideEffects": "None",
            "clientConfig": {"service": {"name": "aigw-webhook", "namespace": NS, "path": path}},
            "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"],
                       "resources": ["pods"]}]}


def secret_pem(k, key):
    return base64.b64decode(k.ok("GET", SECRET)["data"][key]).decode()


def openssl_text(pem):
    return subprocess.run(["openssl", "x509", "-noout", "-text", "-enddate", "-serial"],
                          input=pem, capture_output=True, text=True, check=True).stdout


def main():
    k = harness.Kube(*harness._read_kubeconfig(sys.argv[1]))
    step = sys.argv[2]
    if step == "setup":
        k.ok("POST", "/api/v1/namespaces", {"metadata": {"name": NS}})
        k.ok("POST", VWC.rsplit("/", 1)[0], {"metadata": {"name": "aigw-validating"},
             "webhooks": [webhook("validate.aigateway.kagenti.dev", "/validate"),
                          webhook("validate2.aigateway.kagenti.dev", "/validate")]})
        k.ok("POST", MWC.rsplit("/", 1)[0], {"metadata": {"name": "aigw-mutating"},
             "webhooks": [webhook("inject.aigateway.kagenti.dev", "/mutate-pods"),
                          webhook("inject2.aigateway.kagenti.dev", "/mutate-pods")]})
    elif step == "check-created":
        s = k.ok("GET", SECRET)
        if s["type"] != "kubernetes.io/tls":
            fail("type %s" % s["type"])
        for key in ("ca.crt", "ca.key", "tls.crt", "tls.key"):
            if key not in s["data"]:
                fail("missing " + key)
        leaf = openssl_text(secret_pem(k, "tls.crt"))
        for name in ("DNS:aigw-webhook,", "DNS:aigw-webhook.aigw-system,",
                     "DNS:aigw-webhook.aigw-system.svc,", "DNS:aigw-webhook.aigw-system.svc.cluster.local"):
            if name not in leaf:
                fail("SAN %s missing in\n%s" % (name, leaf))
        ca = openssl_text(secret_pem(k, "ca.crt"))
        if "CA:TRUE" not in ca or "prime256v1" not in ca:
            fail("ca.crt is not an ECDSA P-256 CA")
        with tempfile.TemporaryDirectory() as d:
            open(d + "/ca", "w").write(secret_pem(k, "ca.crt"))
            open(d + "/leaf", "w").write(secret_pem(k, "tls.crt"))
            subprocess.run(["openssl", "verify", "-CAfile", d + "/ca", d + "/leaf"], check=True,
                           capture_output=True)
        print(s["metadata"]["resourceVersion"])
    elif step == "rv":
        print(k.ok("GET", SECRET)["metadata"]["resourceVersion"])
    elif step == "field":
        print(k.ok("GET", SECRET)["data"][sys.argv[3]])
    elif step == "expire-leaf":
        # Re-sign the serving certificate with the same CA for 10 days only.
        s = k.ok("GET", SECRET)
        with tempfile.TemporaryDirectory() as d:
            for key in ("ca.crt", "ca.key"):
                open(os.path.join(d, key), "wb").write(base64.b64decode(s["data"][key]))
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-keyout", d + "/k", "-out", d + "/c",
                            "-days", "10", "-subj", "/CN=aigw-webhook.aigw-system.svc",
                            "-CA", d + "/ca.crt", "-CAkey", d + "/ca.key", "-addext",
                            "subjectAltName=DNS:aigw-webhook,DNS:aigw-webhook.aigw-system,"
                            "DNS:aigw-webhook.aigw-system.svc,DNS:aigw-webhook.aigw-system.svc.cluster.local"],
                           check=True, capture_output=True)
            s["data"]["tls.crt"] = base64.b64encode(open(d + "/c", "rb").read()).decode()
            s["data"]["tls.key"] = base64.b64encode(open(d + "/k", "rb").read()).decode()
        k.ok("PUT", SECRET, s)
    elif step == "leaf-days":
        out = openssl_text(secret_pem(k, "tls.crt"))
        end = [l for l in out.splitlines() if l.startswith("notAfter=")][0][len("notAfter="):]
        days = (subprocess.run(["date", "-d", end, "+%s"], capture_output=True, text=True,
                               check=True).stdout.strip())
        import time
        print(int((int(days) - time.time()) / 86400))
    elif step == "corrupt-ca":
        s = k.ok("GET", SECRET)
        s["data"]["ca.crt"] = base64.b64encode(b"not a certificate").decode()
        k.ok("PUT", SECRET, s)
    elif step == "check-bundles":
        want = k.ok("GET", SECRET)["data"]["ca.crt"]
        for path in (VWC, MWC):
            hooks = k.ok("GET", path)["webhooks"]
            got = [h["clientConfig"].get("caBundle") for h in hooks]
            if got != [want] * len(hooks) or len(hooks) != 2:
                fail("%s caBundles %s" % (path, got))
    elif step == "writes":
        print(k.control("GET", "/_test/counters")["writes"])
    elif step == "faults":
        k.control("POST", "/_test/faults", json.loads(sys.argv[3]))
    else:
        fail("unknown step " + step)


if __name__ == "__main__":
    main()
