"""Admission webhooks called by the server: mutating then validating, denial
messages, warnings, failurePolicy, selectors, service mapping."""

import base64
import http.server
import json
import os
import ssl
import subprocess
import tempfile
import threading
import unittest

import harness


def make_cert(tmp):
    def run(*a):
        subprocess.run(["openssl"] + list(a), cwd=tmp, check=True, capture_output=True)
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=hook-ca",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "tls.key", "-out", "tls.csr", "-subj", "/CN=hook")
    with open(os.path.join(tmp, "ext"), "w", encoding="utf-8") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:hook.webhooks.svc\n")
    run("x509", "-req", "-in", "tls.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "tls.crt", "-days", "1", "-extfile", "ext")
    with open(os.path.join(tmp, "ca.crt"), "rb") as f:
        return f.read()


class Hook(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen = []

    def log_message(self, *a):
        pass

    def do_POST(self):
        review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        req = review["request"]
        Hook.seen.append((self.path, req["operation"], req["name"], req["object"],
                          req["oldObject"]))
        resp = {"uid": req["uid"], "allowed": True}
        obj = req["object"] or {}
        if self.path == "/mutate":
            resp["patchType"] = "JSONPatch"
            resp["patch"] = base64.b64encode(json.dumps([
                {"op": "add", "path": "/metadata/labels", "value": dict(
                    (obj.get("metadata") or {}).get("labels") or {}, mutated="yes")}]).encode()
            ).decode()
        elif self.path == "/validate":
            if (obj.get("data") or {}).get("deny") == "yes":
                resp = {"uid": req["uid"], "allowed": False,
                        "status": {"code": 422, "reason": "Invalid",
                                   "message": "data.deny: must not be yes"}}
            resp["warnings"] = ["checked by hook"]
        elif self.path == "/denydelete" and req["operation"] == "DELETE":
            resp = {"uid": req["uid"], "allowed": False, "status": {"message": "kept"}}
        elif self.path == "/baduid":
            resp["uid"] = "wrong"
        out = json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                          "response": resp}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


class AdmissionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hook.")
        cls.ca = make_cert(cls.tmp)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(cls.tmp, "tls.crt"), os.path.join(cls.tmp, "tls.key"))
        cls.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
        cls.srv.socket = ctx.wrap_socket(cls.srv.socket, server_side=True)
        cls.port = cls.srv.server_address[1]
        cls.thread = threading.Thread(target=cls.srv.serve_forever, daemon=True)
        cls.thread.start()
        cls.k = harness.kube()
        cls.ns = harness.make_namespace(cls.k, "adm")
        cls.k.ok("PATCH", "/api/v1/namespaces/" + cls.ns, {"metadata": {"labels": {
            "hooked": "yes"}}}, ctype="application/merge-patch+json")
        cls.cm = "/api/v1/namespaces/%s/configmaps" % cls.ns
        cls.names = []

    @classmethod
    def tearDownClass(cls):
        cls.srv.shutdown()
        cls.srv.server_close()
        subprocess.run(["rm", "-rf", cls.tmp], check=False)

    def tearDown(self):
        for kind, name in self.names:
            self.k.delete("/apis/admissionregistration.k8s.io/v1/%s/%s" % (kind, name))
        self.names = []
        Hook.seen.clear()

    def webhook(self, kind, path, failure="Fail", url=None, extra=None):
        name = harness.unique("hook")
        wh = {"name": "%s.example.com" % name, "admissionReviewVersions": ["v1"],
              "sideEffects": "None", "failurePolicy": failure, "timeoutSeconds": 5,
              "clientConfig": {"url": url or "https://127.0.0.1:%d%s" % (self.port, path),
                               "caBundle": base64.b64encode(self.ca).decode()},
              "namespaceSelector": {"matchLabels": {"hooked": "yes"}},
              "rules": [{"operations": ["CREATE", "UPDATE", "DELETE"], "apiGroups": [""],
                         "apiVersions": ["v1"], "resources": ["configmaps"]}]}
        wh.update(extra or {})
        self.k.ok("POST", "/apis/admissionregistration.k8s.io/v1/" + kind,
                  {"metadata": {"name": name}, "webhooks": [wh]})
        self.names.append((kind, name))
        return wh["name"]

    def test_mutating_then_validating(self):
        self.webhook("mutatingwebhookconfigurations", "/mutate")
        vname = self.webhook("validatingwebhookconfigurations", "/validate")
        st, hdrs, obj = self.k.post(self.cm, {"metadata": {"name": "ok1"}, "data": {"a": "1"}})
        self.assertEqual(st, 201, obj)
        self.assertEqual(obj["metadata"]["labels"], {"mutated": "yes"})
        self.assertIn('299 - "checked by hook"', hdrs.get("warning", ""))
        paths = [s[0] for s in Hook.seen]
        self.assertEqual(paths, ["/mutate", "/validate"])
        self.assertEqual(Hook.seen[1][3]["metadata"]["labels"], {"mutated": "yes"})
        st, _, doc = self.k.post(self.cm, {"metadata": {"name": "no1"}, "data": {"deny": "yes"}})
        self.assertEqual(st, 422)
        self.assertEqual(doc["message"], 'admission webhook "%s" denied the request: '
                         'data.deny: must not be yes' % vname)
        self.assertEqual(self.k.get(self.cm + "/no1")[0], 404)
        # Updates carry the old object; patches are admitted on their result.
        Hook.seen.clear()
        st, _, doc = self.k.patch(self.cm + "/ok1", {"data": {"deny": "yes"}})
        self.assertEqual(st, 422)
        self.assertEqual(Hook.seen[-1][1], "UPDATE")
        self.assertEqual(Hook.seen[-1][4]["data"], {"a": "1"})
        self.assertNotIn("deny", self.k.ok("GET", self.cm + "/ok1")["data"])
        st, _, doc = self.k.apply(self.cm + "/ok2", {"apiVersion": "v1", "kind": "ConfigMap",
                                                    "metadata": {"name": "ok2"}}, "m")
        self.assertEqual(st, 201)
        self.assertEqual(doc["metadata"]["labels"], {"mutated": "yes"})

    def test_selectors_skip(self):
        self.webhook("validatingwebhookconfigurations", "/validate",
                     extra={"objectSelector": {"matchLabels": {"check": "me"}}})
        st, _, _ = self.k.post(self.cm, {"metadata": {"name": "sk1"}, "data": {"deny": "yes"}})
        self.assertEqual(st, 201)
        other = harness.make_namespace(self.k, "unhooked")
        st, _, _ = self.k.post("/api/v1/namespaces/%s/configmaps" % other,
                               {"metadata": {"name": "sk2", "labels": {"check": "me"}},
                                "data": {"deny": "yes"}})
        self.assertEqual(st, 201)
        self.assertEqual(Hook.seen, [])

    def test_failure_policy(self):
        dead = "https://127.0.0.1:1/validate"
        name = self.webhook("validatingwebhookconfigurations", "", url=dead)
        st, _, doc = self.k.post(self.cm, {"metadata": {"name": "fp1"}})
        self.assertEqual(st, 500)
        self.assertTrue(doc["message"].startswith(
            'Internal error occurred: failed calling webhook "%s": failed to call webhook: '
            % name), doc["message"])
        self.tearDown()
        self.webhook("validatingwebhookconfigurations", "", url=dead, failure="Ignore")
        self.assertEqual(self.k.post(self.cm, {"metadata": {"name": "fp2"}})[0], 201)
        self.tearDown()
        self.webhook("validatingwebhookconfigurations", "/baduid")
        self.assertEqual(self.k.post(self.cm, {"metadata": {"name": "fp3"}})[0], 500)

    def test_delete(self):
        self.k.ok("POST", self.cm, {"metadata": {"name": "del1"}})
        name = self.webhook("validatingwebhookconfigurations", "/denydelete")
        st, _, doc = self.k.delete(self.cm + "/del1")
        self.assertEqual(st, 400)
        self.assertEqual(doc["message"], 'admission webhook "%s" denied the request: kept'
                         % name)
        self.assertEqual(self.k.get(self.cm + "/del1")[0], 200)

    def test_service_reference(self):
        proc, kc, tmp = harness.start_server(
            ["--webhook-service", "webhooks/hook=127.0.0.1:%d" % self.port])
        try:
            k = harness.Kube(*harness._read_kubeconfig(kc))
            k.ok("POST", "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
                 {"metadata": {"name": "svc"}, "webhooks": [{
                     "name": "svc.example.com", "admissionReviewVersions": ["v1"],
                     "sideEffects": "None",
                     "clientConfig": {"service": {"namespace": "webhooks", "name": "hook",
                                                  "path": "/validate", "port": 443},
                                      "caBundle": base64.b64encode(self.ca).decode()},
                     "rules": [{"operations": ["CREATE"], "apiGroups": ["*"],
                                "apiVersions": ["*"], "resources": ["*"]}]}]})
            st, _, doc = k.post("/api/v1/namespaces/default/configmaps",
                                {"metadata": {"name": "s1"}, "data": {"deny": "yes"}})
            self.assertEqual(st, 422, doc)
            self.assertIn('"svc.example.com" denied the request', doc["message"])
            k.close()
        finally:
            harness.stop_server(proc)
            subprocess.run(["rm", "-rf", tmp], check=False)


if __name__ == "__main__":
    unittest.main()
