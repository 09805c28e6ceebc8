"""test-apiserver: a faithful, in-memory stand-in for kube-apiserver for tests.

Usage: hack/test-apiserver --listen 127.0.0.1:PORT --kubeconfig-out FILE
           [--objects DIR] [--token T] [--git-version v1.33.0]
           [--bookmark-interval SECONDS] [--watch-history N] [--seed N]
           [--latency-ms N] [--error-rate R] [--throttle-rate R] [--retry-after S]
           [--conflict-rate R] [--watch-drop-after N] [--expire-next-resumes N]

Runs in the foreground until SIGTERM or SIGINT. PORT 0 picks a free port; the
kubeconfig (written once the server listens) carries the real address, the CA
(certificate-authority-data) and the bearer token. See docs/test-apiserver.md.
"""

import argparse
import base64
import gc
import json
import os
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading

import admission
import faults as faultsmod
import httpapi
import kstatus
import resources
import store as storemod
import yamlio


def _die(msg):
    print("test-apiserver: " + msg, file=sys.stderr)
    sys.exit(2)


def make_certs(workdir):
    """A CA and a serving certificate for 127.0.0.1 and localhost, made with openssl."""
    def run(*args):
        r = subprocess.run(["openssl"] + list(args), cwd=workdir, capture_output=True,
                           text=True, check=False)
        if r.returncode != 0:
            _die("openssl %s failed: %s" % (args[0], r.stderr.strip()))
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=test-apiserver-ca",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "tls.key", "-out", "tls.csr", "-subj", "/CN=test-apiserver")
    with open(os.path.join(workdir, "ext.cnf"), "w", encoding="utf-8") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "tls.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "tls.crt", "-days", "2", "-extfile", "ext.cnf")
    return (os.path.join(workdir, "ca.crt"), os.path.join(workdir, "tls.crt"),
            os.path.join(workdir, "tls.key"))


def kubeconfig_text(server_url, ca_pem, token):
    ca = base64.b64encode(ca_pem).decode()
    return ("apiVersion: v1\nkind: Config\n"
            "clusters:\n- name: test-apiserver\n  cluster:\n"
            "    server: %s\n    certificate-authority-data: %s\n"
            "users:\n- name: test-admin\n  user:\n    token: %s\n"
            "contexts:\n- name: test-apiserver\n  context:\n"
            "    cluster: test-apiserver\n    user: test-admin\n    namespace: default\n"
            "current-context: test-apiserver\n") % (server_url, ca, token)


def write_atomic(path, text, mode=0o600):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".kubeconfig.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError:
        os.unlink(tmp)
        raise


def _files(root):
    out = []
    for d, _, names in os.walk(root):
        for n in names:
            if n.endswith((".yaml", ".yml", ".json")):
                out.append(os.path.join(d, n))
    return sorted(out)


def _docs(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        docs = yamlio.load_all(text)
    except ValueError as e:
        _die("%s: %s" % (path, e))
    out = []
    for d in docs:
        if isinstance(d, dict) and d.get("kind") == "List" or \
                (isinstance(d, dict) and str(d.get("kind", "")).endswith("List")
                 and isinstance(d.get("items"), list)):
            out.extend(d["items"])
        elif isinstance(d, dict):
            out.append(d)
        else:
            _die("%s: a document is not an object" % path)
    return out


def preload(store, registry, root):
    """Creates every object below root: CRDs first, then namespaces, then the rest.
    Namespaces the objects name are created when missing."""
    objs = []
    for path in _files(root):
        for d in _docs(path):
            objs.append((path, d))
    def rank(item):
        k = item[1].get("kind")
        return 0 if k == "CustomResourceDefinition" else 1 if k == "Namespace" else 2
    objs.sort(key=rank)
    nsres = registry.get("", "namespaces")
    count = 0
    for path, d in objs:
        api = d.get("apiVersion", "")
        group, _, version = api.rpartition("/")
        res = registry.by_kind(group, d.get("kind", ""))
        if res is None or version not in res.versions:
            _die("%s: no resource serves %s %s (is its CRD in the directory?)"
                 % (path, api, d.get("kind")))
        ns = ""
        if res.namespaced:
            ns = (d.get("metadata") or {}).get("namespace") or "default"
            try:
                store.get(nsres, "", ns)
            except kstatus.ApiError:
                store.create(nsres, "v1", "", {"metadata": {"name": ns}}, "test-apiserver")
        meta = d.get("metadata")
        if isinstance(meta, dict):
            # Objects saved from a cluster (kubectl get -o yaml) carry server fields.
            d = dict(d, metadata={k: v for k, v in meta.items()
                                  if k not in ("resourceVersion", "uid", "creationTimestamp",
                                               "managedFields", "generation")})
        try:
            store.create(res, version, ns, d, "test-apiserver")
        except kstatus.ApiError as e:
            _die("%s: %s %s: %s" % (path, d.get("kind"), (d.get("metadata") or {}).get("name"),
                                   e.message))
        count += 1
    return count


def parse_args(argv):
    p = argparse.ArgumentParser(prog="test-apiserver", description=__doc__.split("\n")[0])
    p.add_argument("--listen", required=True, help="127.0.0.1:PORT (PORT 0: any free port)")
    p.add_argument("--kubeconfig-out", required=True)
    p.add_argument("--objects", help="directory of YAML/JSON objects to preload")
    p.add_argument("--token", default=None, help="bearer token (default: random)")
    p.add_argument("--git-version", default="v1.33.0")
    p.add_argument("--bookmark-interval", type=float, default=1.0)
    p.add_argument("--watch-history", type=int, default=20000,
                   help="events kept per resource for watch resume and paginated lists")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--latency-ms", type=float, default=0)
    p.add_argument("--error-rate", type=float, default=0)
    p.add_argument("--throttle-rate", type=float, default=0)
    p.add_argument("--retry-after", type=int, default=1)
    p.add_argument("--conflict-rate", type=float, default=0)
    p.add_argument("--watch-drop-after", type=int, default=0)
    p.add_argument("--expire-next-resumes", type=int, default=0)
    p.add_argument("--webhook-service", action="append", default=[],
                   metavar="NAMESPACE/NAME=HOST:PORT",
                   help="where admission webhooks with clientConfig.service are called")
    return p.parse_args(argv)


def main(argv):
    a = parse_args(argv)
    if not yamlio.available():
        _die("python3-yaml is required (hack/install-deps.sh)")
    host, _, port = a.listen.rpartition(":")
    if host not in ("127.0.0.1", "localhost", "::1") or not port.isdigit():
        _die("--listen must be 127.0.0.1:PORT (loopback only)")
    stop = threading.Event()

    def on_signal(signum, frame):  # pylint: disable=unused-argument
        stop.set()
    # Installed before anything is created, so a stop during start-up still cleans up.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    workdir = tempfile.mkdtemp(prefix="test-apiserver.")
    try:
        return _run(a, host, int(port), workdir, stop)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _install_profiler(path):
    """TEST_APISERVER_PROFILE=FILE: every request handler thread runs under its own
    cProfile (CPU time of that thread); the merged stats are written to FILE (pstats
    format) when the server stops."""
    import cProfile
    import time
    profiles = []
    lock = threading.Lock()
    local = threading.local()
    orig = httpapi.Handler._dispatch

    def dispatch(self, method):
        p = getattr(local, "prof", None)
        if p is None:
            p = local.prof = cProfile.Profile(time.thread_time)
            with lock:
                profiles.append(p)
        p.enable()
        try:
            orig(self, method)
        finally:
            p.disable()
    httpapi.Handler._dispatch = dispatch

    def dump():
        import pstats
        with lock:
            ps = list(profiles)
        if ps:
            st = pstats.Stats(ps[0])
            for p in ps[1:]:
                st.add(p)
            st.dump_stats(path)
        t = os.times()
        print("test-apiserver: profile written to %s; process CPU %.2fs user %.2fs system"
              % (path, t.user, t.system), file=sys.stderr, flush=True)
    return dump


def _run(a, host, port, workdir, stop):
    prof_dump = _install_profiler(os.environ["TEST_APISERVER_PROFILE"]) \
        if os.environ.get("TEST_APISERVER_PROFILE") else None
    ca, crt, key = make_certs(workdir)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    ctx.set_alpn_protocols(["http/1.1"])
    token = a.token or secrets.token_hex(24)
    registry = resources.Registry()
    store = storemod.Store(registry, a.watch_history)
    flt = faultsmod.Faults()
    try:
        flt.configure({"seed": a.seed, "latency_ms": a.latency_ms, "error_rate": a.error_rate,
                       "throttle_rate": a.throttle_rate, "retry_after": a.retry_after,
                       "conflict_rate": a.conflict_rate,
                       "watch_drop_after": a.watch_drop_after,
                       "expire_next_resumes": a.expire_next_resumes})
    except ValueError as e:
        _die(str(e))
    nsres = registry.get("", "namespaces")
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        store.create(nsres, "v1", "", {"metadata": {"name": ns}}, "test-apiserver")
    loaded = preload(store, registry, a.objects) if a.objects else 0
    # Objects are JSON trees (no reference cycles): the cyclic collector only costs
    # CPU, on every few hundred allocations, walking young containers and ever more
    # stored objects. Start-up state (schemas, preloaded objects) is frozen out of
    # its scans and collections are made rarer.
    gc.collect()
    gc.freeze()
    gc.set_threshold(20000, 20, 20)
    cfg = httpapi.Config(token, a.git_version, a.bookmark_interval, "")
    services = {}
    for spec in a.webhook_service:
        key, _, addr = spec.partition("=")
        h, _, p = addr.rpartition(":")
        if "/" not in key or not h or not p.isdigit():
            _die("--webhook-service wants NAMESPACE/NAME=HOST:PORT, got %r" % spec)
        services[key] = (h, int(p))
    adm = admission.Admission(store, services)
    try:
        srv = httpapi.ApiServer(("127.0.0.1" if host == "localhost" else host, port), ctx,
                                store, registry, flt, cfg, adm)
    except OSError as e:
        _die("cannot listen on %s: %s" % (a.listen, e))
    real_port = srv.server_address[1]
    cfg.server_address = "%s:%d" % (srv.server_address[0], real_port)
    url = "https://%s:%d" % (srv.server_address[0], real_port)
    with open(ca, "rb") as f:
        ca_pem = f.read()
    try:
        write_atomic(a.kubeconfig_out, kubeconfig_text(url, ca_pem, token))
    except OSError as e:
        _die("cannot write %s: %s" % (a.kubeconfig_out, e))

    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2},
                         name="serve", daemon=True)
    t.start()
    print(json.dumps({"listening": url, "kubeconfig": os.path.abspath(a.kubeconfig_out),
                      "objects": loaded}), flush=True)
    while not stop.wait(0.5):
        pass
    store.stop()
    srv.shutdown()
    srv.server_close()
    t.join(5)
    if prof_dump is not None:
        prof_dump()
    print("test-apiserver: stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
