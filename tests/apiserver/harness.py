"""Test harness: a client for the test API server and, when no server is given,
one started for the test run.

Environment: TEST_APISERVER_KUBECONFIG names the kubeconfig of a running server
(tests/integration/test_apiserver_unit.sh starts one). Without it, the first
use starts hack/test-apiserver on a free port and stops it at exit.
"""

import atexit
import base64
import http.client
import json
import os
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.parse

import yamlio

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
_server = {}


class Kube:
    """A tiny client: one keep-alive HTTPS connection, JSON in and out."""

    def __init__(self, url, ca_pem, token):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.ctx = ssl.create_default_context(cadata=ca_pem.decode())
        self.token = token
        self.url = url
        self.conn = None

    def _connect(self, timeout=30):
        return http.client.HTTPSConnection(self.host, self.port, context=self.ctx,
                                           timeout=timeout)

    def request(self, method, path, body=None, ctype="application/json", headers=None,
                token=True):
        """(status, headers dict, decoded JSON or raw text)."""
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            if isinstance(data, str):
                data = data.encode()
        h = {"Accept": "application/json", "User-Agent": "harness/1.0"}
        if data is not None:
            h["Content-Type"] = ctype
        if token:
            h["Authorization"] = "Bearer " + (self.token if token is True else token)
        h.update(headers or {})
        for attempt in range(2):
            if self.conn is None:
                self.conn = self._connect()
            try:
                self.conn.request(method, path, body=data, headers=h)
                r = self.conn.getresponse()
                raw = r.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = raw.decode("utf-8", "replace")
        return r.status, hdrs, doc

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body, **kw):
        return self.request("PUT", path, body, **kw)

    def delete(self, path, body=None, **kw):
        return self.request("DELETE", path, body, **kw)

    def patch(self, path, body, kind="merge", **kw):
        ctype = {"merge": "application/merge-patch+json",
                 "strategic": "application/strategic-merge-patch+json",
                 "json": "application/json-patch+json",
                 "apply": "application/apply-patch+yaml"}.get(kind, kind)
        return self.request("PATCH", path, body, ctype=ctype, **kw)

    def apply(self, path, obj, manager, force=False):
        q = "?fieldManager=" + urllib.parse.quote(manager) + ("&force=true" if force else "")
        return self.patch(path + q, obj, "apply")

    def ok(self, method, path, body=None, **kw):
        """Like request, but fails unless the status is 2xx; returns the document."""
        st, _, doc = self.request(method, path, body, **kw)
        if not 200 <= st < 300:
            raise AssertionError("%s %s -> %d %s" % (method, path, st, doc))
        return doc

    def control(self, method, path, body=None):
        return self.request(method, path, body, token=False)[2]

    def watch(self, path, timeout=10.0):
        """A Watch over path (which must carry watch=1 or be a /watch/ path)."""
        return Watch(self, path, timeout)


class Watch:
    def __init__(self, kube, path, timeout):
        self.conn = kube._connect(timeout)
        self.conn.request("GET", path, headers={"Authorization": "Bearer " + kube.token,
                                                "Accept": "application/json"})
        self.resp = self.conn.getresponse()
        self.status = self.resp.status

    def next(self):
        """The next event as a dict, or None at the end of the stream (or a drop)."""
        try:
            line = self.resp.readline()
        except (http.client.HTTPException, OSError):
            return None
        if not line:
            return None
        return json.loads(line)

    def take(self, n, skip_bookmarks=True):
        out = []
        while len(out) < n:
            ev = self.next()
            if ev is None:
                break
            if skip_bookmarks and ev["type"] == "BOOKMARK":
                continue
            out.append(ev)
        return out

    def close(self):
        self.conn.close()


def _read_kubeconfig(path):
    with open(path, encoding="utf-8") as f:
        kc = yamlio.load_one(f.read())
    cluster = kc["clusters"][0]["cluster"]
    return (cluster["server"], base64.b64decode(cluster["certificate-authority-data"]),
            kc["users"][0]["user"]["token"])


def start_server(extra_args=(), timeout=20.0):
    """Starts hack/test-apiserver; returns (process, kubeconfig path, tempdir)."""
    tmp = tempfile.mkdtemp(prefix="apiserver-test.")
    kc = os.path.join(tmp, "kubeconfig")
    proc = subprocess.Popen([os.path.join(ROOT, "hack", "test-apiserver"), "--listen",
                             "127.0.0.1:0", "--kubeconfig-out", kc] + list(extra_args),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while not os.path.exists(kc):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("test-apiserver did not start: %s"
                               % proc.stderr.read().decode(errors="replace"))
        time.sleep(0.05)
    return proc, kc, tmp


def stop_server(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stderr:
        proc.stderr.close()


def kube():
    """A client for the shared server of this test run."""
    kc = os.environ.get("TEST_APISERVER_KUBECONFIG")
    if not kc:
        if "kc" not in _server:
            proc, path, _ = start_server()
            _server["proc"], _server["kc"] = proc, path
            atexit.register(stop_server, proc)
        kc = _server["kc"]
    k = Kube(*_read_kubeconfig(kc))
    _clients.append(k)
    return k


_clients = []


@atexit.register
def _close_clients():
    for k in _clients:
        k.close()


_seq = [0]


def unique(prefix):
    """A name no other test uses (tests share one server)."""
    _seq[0] += 1
    return "%s-%d-%d" % (prefix, os.getpid() % 10000, _seq[0])


def make_namespace(k, prefix="t"):
    name = unique(prefix)
    k.ok("POST", "/api/v1/namespaces", {"metadata": {"name": name}})
    return name


WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.test.example.com"},
    "spec": {
        "group": "test.example.com",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget",
                  "shortNames": ["wd"]},
        "scope": "Namespaced",
        "versions": [{
            "name": "v1", "served": True, "storage": True,
            "subresources": {"status": {}},
            "schema": {"openAPIV3Schema": {"type": "object",
                                           "x-kubernetes-preserve-unknown-fields": True}}}]}}

GADGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "gadgets.test.example.com"},
    "spec": {
        "group": "test.example.com",
        "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
        "scope": "Cluster",
        "versions": [{
            "name": "v1", "served": True, "storage": True,
            "schema": {"openAPIV3Schema": {"type": "object",
                                           "x-kubernetes-preserve-unknown-fields": True}}}]}}


def ensure_crds(k):
    for crd in (WIDGET_CRD, GADGET_CRD):
        st, _, doc = k.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
        if st not in (201, 409):
            raise AssertionError("CRD create failed: %d %s" % (st, doc))
