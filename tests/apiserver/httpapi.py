"""HTTP(S) front end: routing, authentication, content negotiation, watch streams,
Table output and the /_test/ control endpoints.

One thread per connection (ThreadingHTTPServer), HTTP/1.1 keep-alive, TLS
handshake done in the connection's thread so a slow client never blocks accept.
"""

import datetime
import email.utils
import http.server
import json
import socket
import ssl
import sys
import time
import urllib.parse

import faults as faultsmod
import kprotobuf
import kselectors
import store as storemod
import kstatus
import yamlio
from kstatus import ApiError

MAX_BODY = 3 * 1024 * 1024
PATCH_TYPES = {
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/json-patch+json": "json",
    "application/apply-patch+yaml": "apply",
}
CR_PATCH_TYPES = ["application/json-patch+json", "application/merge-patch+json",
                  "application/apply-patch+yaml"]
ALL_PATCH_TYPES = CR_PATCH_TYPES + ["application/strategic-merge-patch+json"]


class Config:
    def __init__(self, token, git_version, bookmark_interval, server_address):
        self.token = token
        self.git_version = git_version
        self.bookmark_interval = bookmark_interval
        self.server_address = server_address


class ApiServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, ssl_ctx, store, registry, faults, config, admission=None):
        self.ssl_ctx = ssl_ctx
        self.admission = admission
        self.store = store
        self.registry = registry
        self.faults = faults
        self.config = config
        super().__init__(addr, Handler)

    def finish_request(self, request, client_address):
        request.settimeout(30)
        # Responses are written whole; without this, Nagle + delayed ACK add 40 ms.
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            conn = self.ssl_ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        conn.settimeout(None)
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        # Client disconnects are routine; anything else is already answered as 500.
        pass


def _age(ts):
    try:
        t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc)
    except (TypeError, ValueError):
        return "<unknown>"
    s = int((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds())
    s = max(s, 0)
    if s < 120:
        return "%ds" % s
    m = s // 60
    if m < 10:
        return "%dm%ds" % (m, s % 60) if s % 60 else "%dm" % m
    if m < 180:
        return "%dm" % m
    h = m // 60
    if h < 48:
        return "%dh" % h
    return "%dd" % (h // 24)


def _jsonpath(obj, path):
    """The value at a simple JSONPath (.a.b, .a[0], .a[?(@.k=="v")].b), or None."""
    cur = [obj]
    path = path.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1]
    i = 0
    while i < len(path) and cur:
        if path[i] == ".":
            j = i + 1
            while j < len(path) and path[j] not in ".[":
                j += 1
            name = path[i + 1:j]
            cur = [c.get(name) for c in cur if isinstance(c, dict) and name in c]
            i = j
        elif path[i] == "[":
            j = path.index("]", i)
            inner = path[i + 1:j]
            if inner.startswith("?(@.") and "==" in inner:
                k, v = inner[4:-1].split("==", 1)
                v = v.strip().strip("'\"")
                cur = [x for c in cur if isinstance(c, list) for x in c
                       if isinstance(x, dict) and str(x.get(k.strip())) == v]
            elif inner.lstrip("-").isdigit():
                n = int(inner)
                cur = [c[n] for c in cur if isinstance(c, list) and -len(c) <= n < len(c)]
            elif inner == "*":
                cur = [x for c in cur if isinstance(c, list) for x in c]
            i = j + 1
        else:
            return None
    if not cur:
        return None
    return cur[0] if len(cur) == 1 else cur


class _Headers(dict):
    """Request headers keyed by lower-cased name; get/[]/in ignore case, and a repeated
    header yields its first value, as email.message.Message (the stdlib's headers) does."""
    __slots__ = ()

    def get(self, name, default=None):
        return dict.get(self, name.lower(), default)

    def __getitem__(self, name):
        return dict.get(self, name.lower())

    def __contains__(self, name):
        return dict.__contains__(self, name.lower())


_MAX_LINE = 65536
_MAX_HEADERS = 100
_date = (0, "")


def _http_date():
    """The Date header value, formatted once a second."""
    global _date
    now = int(time.time())
    d = _date
    if d[0] != now:
        d = _date = (now, email.utils.formatdate(now, usegmt=True))
    return d[1]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "test-apiserver"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def parse_request(self):
        """The stdlib's parse_request, without its email.feedparser header parsing (the
        bulk of its per-request CPU): headers are read line by line into a _Headers.
        Request lines that are not "METHOD TARGET HTTP/1.x" go the stdlib way."""
        requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = requestline.split()
        if len(words) != 3 or words[2] not in ("HTTP/1.1", "HTTP/1.0"):
            return super().parse_request()
        command, path, version = words
        self.requestline = requestline
        self.command, self.request_version = command, version
        if path.startswith("//"):
            path = "/" + path.lstrip("/")  # as the stdlib: not a network path
        self.path = path
        headers = _Headers()
        readline = self.rfile.readline
        last = None
        for _ in range(_MAX_HEADERS + 1):
            line = readline(_MAX_LINE + 1)
            if len(line) > _MAX_LINE:
                self.close_connection = True
                self.send_error(431, "Line too long")
                return False
            if line in (b"\r\n", b"\n", b""):
                break
            if line[0] in (32, 9):
                # Obsolete line folding: a continuation of the previous header.
                if last is not None:
                    headers[last] = (dict.get(headers, last) + " " +
                                     line.strip().decode("iso-8859-1")).strip()
                continue
            k, sep, v = line.partition(b":")
            if not sep:
                continue
            last = k.strip().decode("iso-8859-1").lower()
            if last in headers:
                last = None
                continue
            dict.__setitem__(headers, last, v.strip().decode("iso-8859-1"))
        else:
            self.close_connection = True
            self.send_error(431, "Too many headers")
            return False
        self.headers = headers
        conntype = headers.get("connection", "").lower()
        if conntype == "close":
            self.close_connection = True
        elif conntype == "keep-alive" or version == "HTTP/1.1":
            self.close_connection = False
        else:
            self.close_connection = True
        if version == "HTTP/1.1" and \
                headers.get("expect", "").lower() == "100-continue":
            if not self.handle_expect_100():
                return False
        return True

    # --- entry points -----------------------------------------------------
    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _dispatch(self, method):
        self.method = method
        self.entry = None
        self.warnings = []
        self.streaming = False
        u = urllib.parse.urlsplit(self.path)
        self.url_path = u.path
        self.query_string = u.query
        self.query = {k: v for k, v in urllib.parse.parse_qsl(u.query, keep_blank_values=True)
                      } if u.query else {}
        try:
            body = self._read_body()
            if self.url_path.startswith("/_test/"):
                self._control(method, body)
                return
            if self.url_path in ("/healthz", "/livez", "/readyz"):
                self._send_text(200, "ok")
                return
            self._authenticate()
            self._route(method, body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout):
            self.close_connection = True
        except ApiError as e:
            if self.streaming:
                self.close_connection = True
            else:
                self._send_status_error(e)
        except Exception as e:  # noqa: BLE001 - every failure is answered, never dropped
            print("test-apiserver: %s %s: %s: %s" % (method, self.path, type(e).__name__, e),
                  file=sys.stderr, flush=True)
            if self.streaming:
                # A watch stream already started: end it like a dropped connection.
                self.close_connection = True
            else:
                self._send_status_error(kstatus.internal_error("%s: %s" % (type(e).__name__,
                                                                          e)))

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if te == "chunked":
            parts, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise ApiError(413, "RequestEntityTooLarge", "Request entity too large")
                parts.append(self.rfile.read(size))
                self.rfile.readline(8)
            return b"".join(parts)
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            self.close_connection = True
            raise ApiError(413, "RequestEntityTooLarge", "Request entity too large: limit is "
                           "3145728")
        return self.rfile.read(n) if n else b""

    def _authenticate(self):
        auth = self.headers.get("Authorization") or ""
        if not auth.startswith("Bearer ") or auth[7:].strip() != self.server.config.token:
            self.entry = {"verb": "UNAUTHORIZED"}
            raise kstatus.unauthorized()

    # --- responses ----------------------------------------------------------
    def _head(self, code, ctype, length, headers=None):
        """The response status line and headers, as one bytes (what send_response and
        send_header would write, built without their per-header writes)."""
        phrase = self.responses[code][0] if code in self.responses else ""
        h = ["HTTP/1.1 %d %s\r\nServer: test-apiserver\r\nDate: %s\r\nContent-Type: %s\r\n"
             % (code, phrase, _http_date(), ctype)]
        if length is None:
            h.append("Transfer-Encoding: chunked\r\n")
        else:
            h.append("Content-Length: %d\r\n" % length)
        h.append("Cache-Control: no-cache, private\r\n")
        if headers:
            for k, v in headers.items():
                if k.lower() == "connection":
                    if v.lower() == "close":
                        self.close_connection = True
                    continue
                h.append("%s: %s\r\n" % (k, v))
        for w in getattr(self, "warnings", None) or ():
            h.append('Warning: 299 - "%s"\r\n' % w.replace('"', '\\"'))
        if self.close_connection:
            h.append("Connection: close\r\n")
        h.append("\r\n")
        return "".join(h).encode("iso-8859-1", "replace")

    def _send_bytes(self, code, data, ctype="application/json", headers=None):
        # Headers and body in one write (one TLS record, one segment when small).
        self.wfile.write(self._head(code, ctype, len(data), headers) + data)
        self._log(code)

    def _send_json(self, code, obj, headers=None):
        self._send_bytes(code, json.dumps(obj, separators=(",", ":")).encode(),
                         headers=headers)

    def _send_text(self, code, text):
        self._send_bytes(code, text.encode(), "text/plain; charset=utf-8")

    def _send_status_error(self, e):
        self._send_json(e.code, e.status(), e.headers)

    def _log(self, code):
        e = self.entry
        if e is None:
            return
        self.entry = None
        e["code"] = code
        self.server.faults.record(e)

    def _begin_log(self, verb, res=None, ns="", name="", sub=""):
        self.entry = {
            "time": time.time(), "method": self.method, "path": self.url_path,
            "query": self.query_string, "verb": verb,
            "resource": kstatus.qualified(res.plural, res.group) if res else "",
            "namespace": ns, "name": name, "subresource": sub,
            "fieldManager": self.query.get("fieldManager", ""),
            "userAgent": self.headers.get("User-Agent", ""),
            "contentType": self.headers.get("Content-Type", ""),
            "accept": self.headers.get("Accept", "")}

    # --- control endpoints --------------------------------------------------
    def _control(self, method, body):
        host = self.client_address[0]
        if host not in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
            raise kstatus.forbidden("", "", self.url_path, "only loopback may use /_test/")
        f = self.server.faults
        p = self.url_path
        if p == "/_test/counters" and method == "GET":
            self._send_json(200, f.counters_json())
        elif p == "/_test/log" and method == "GET":
            try:
                since = int(self.query.get("since", "0"))
            except ValueError:
                raise kstatus.bad_request("since must be an integer") from None
            self._send_json(200, {"items": f.log_json(since)})
        elif p == "/_test/reset-counters" and method == "POST":
            f.reset_counters()
            self._send_json(200, {"ok": True})
        elif p == "/_test/faults" and method == "GET":
            self._send_json(200, f.snapshot())
        elif p == "/_test/faults" and method == "POST":
            try:
                changes = json.loads(body or b"{}")
                if not isinstance(changes, dict):
                    raise ValueError("body must be a JSON object")
                self._send_json(200, f.configure(changes))
            except ValueError as e:
                raise kstatus.bad_request(str(e)) from None
        elif p == "/_test/compact" and method == "POST":
            self._send_json(200, {"compactedResourceVersion":
                                  str(self.server.store.compact())})
        elif p == "/_test/bookmark-interval" and method == "POST":
            try:
                self.server.config.bookmark_interval = float(json.loads(body)["seconds"])
            except (ValueError, KeyError, TypeError):
                raise kstatus.bad_request('body must be {"seconds": N}') from None
            self._send_json(200, {"seconds": self.server.config.bookmark_interval})
        elif p == "/_test/resourceversion" and method == "GET":
            self._send_json(200, {"resourceVersion": str(self.server.store.current_rv())})
        else:
            raise kstatus.not_found_path()

    # --- routing ------------------------------------------------------------
    def _route(self, method, body):
        parts = [urllib.parse.unquote(s) for s in self.url_path.strip("/").split("/") if s]
        reg = self.server.registry
        if method == "GET" and self._route_discovery(parts, reg):
            return
        if len(parts) >= 3 and parts[0] == "api" and parts[1] == "v1":
            group, version, rest = "", "v1", parts[2:]
        elif len(parts) >= 4 and parts[0] == "apis":
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            self._begin_log("DISCOVERY")
            if method != "GET":
                raise kstatus.method_not_allowed()
            raise kstatus.not_found_path()
        watch_path = False
        if rest and rest[0] == "watch":
            watch_path = True
            rest = rest[1:]
        ns = ""
        if len(rest) >= 3 and rest[0] == "namespaces" and \
                not (len(rest) == 3 and rest[2] in ("status", "finalize")):
            ns, rest = rest[1], rest[2:]
        if not rest or len(rest) > 3:
            raise kstatus.not_found_path()
        res = reg.lookup(group, version, rest[0])
        if res is None:
            self._begin_log("GET")
            raise kstatus.not_found_path()
        if ns and not res.namespaced:
            raise kstatus.not_found_path()
        name = rest[1] if len(rest) > 1 else ""
        sub = rest[2] if len(rest) > 2 else ""
        if sub and not (sub == "status" and res.status):
            raise kstatus.not_found_path()
        self._resource(method, body, res, version, ns, name, sub, watch_path)

    def _route_discovery(self, parts, reg):
        cfg = self.server.config
        doc = None
        if parts == ["version"]:
            doc = _version_doc(cfg.git_version)
        elif parts == ["api"]:
            doc = reg.api_versions(cfg.server_address)
        elif parts == ["apis"]:
            doc = reg.api_group_list()
        elif parts == ["api", "v1"]:
            doc = reg.resource_list("", "v1")
        elif len(parts) == 2 and parts[0] == "apis":
            doc = reg.api_group(parts[1])
            if doc is None:
                self._begin_log("DISCOVERY")
                raise kstatus.not_found_path()
        elif len(parts) == 3 and parts[0] == "apis":
            doc = reg.resource_list(parts[1], parts[2])
            if doc is None:
                self._begin_log("DISCOVERY")
                raise kstatus.not_found_path()
        elif parts == ["openapi", "v3"]:
            doc = reg.openapi_v3_root()
        elif len(parts) >= 3 and parts[:2] == ["openapi", "v3"]:
            doc = reg.openapi_v3_doc("/".join(parts[2:]))
            if doc is None:
                self._begin_log("DISCOVERY")
                raise kstatus.not_found_path()
        elif parts[:2] == ["openapi", "v2"]:
            self._begin_log("DISCOVERY")
            raise kstatus.not_found_path()
        else:
            return False
        self._begin_log("DISCOVERY")
        self._send_json(200, doc)
        return True

    # --- resources ----------------------------------------------------------
    def _verb(self, method, name, watch_path):
        watch = watch_path or self.query.get("watch") in ("1", "true", "True")
        if method == "GET":
            if watch:
                return "WATCH"
            return "GET" if name else "LIST"
        if method == "POST":
            return "CREATE"
        if method == "PUT":
            return "UPDATE"
        if method == "PATCH":
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            return "APPLY" if ctype == "application/apply-patch+yaml" else "PATCH"
        if method == "DELETE":
            return "DELETE" if name else "DELETECOLLECTION"
        return method

    def _manager(self):
        m = self.query.get("fieldManager")
        if m:
            if len(m) > 128:
                raise kstatus.invalid("PatchOptions", "meta.k8s.io", "", [
                    ("fieldManager", "FieldValueInvalid", "Invalid value: %s: may not be longer "
                     "than 128 characters" % json.dumps(m))])
            return m
        ua = self.headers.get("User-Agent") or ""
        return ua.split("/")[0][:128] or "unknown"

    def _resource(self, method, body, res, version, ns, name, sub, watch_path):
        verb = self._verb(method, name, watch_path)
        if verb == "WATCH" and name:
            # /watch/.../name (or ...?watch=1 on a named path) watches one object.
            self.query["fieldSelector"] = ",".join(
                x for x in (self.query.get("fieldSelector"), "metadata.name=" + name) if x)
            name = ""
        self._begin_log(verb, res, ns, name, sub)
        latency, fault = self.server.faults.decide(verb)
        faultsmod.sleep(latency)
        if fault == "500":
            self.entry["fault"] = "500"
            raise kstatus.internal_error("injected fault")
        if fault == "429":
            self.entry["fault"] = "429"
            raise kstatus.too_many_requests(int(self.server.faults.snapshot()["retry_after"]))
        if fault == "409":
            self.entry["fault"] = "409"
            raise kstatus.conflict(res.plural, res.group, name or "")
        store = self.server.store
        dry = self.query.get("dryRun") == "All"
        if self.query.get("dryRun") not in (None, "", "All"):
            raise kstatus.bad_request('unsupported dry run value: "%s"' % self.query["dryRun"])
        if verb == "WATCH":
            if method != "GET" or sub:
                raise kstatus.method_not_allowed()
            self._watch(res, version, ns)
        elif verb == "LIST":
            if sub:
                raise kstatus.method_not_allowed()
            self._list(res, version, ns)
        elif verb == "GET":
            obj = store.get(res, ns if res.namespaced else "", name)
            self._send_object(200, res, version, obj, single=True)
        elif verb == "CREATE":
            if name or sub:
                raise kstatus.method_not_allowed()
            if res.namespaced and not ns:
                raise kstatus.not_found_path()
            obj = self._decode_body(body)
            fv = self._fv()
            out, _ = self._write("CreateOptions", res, version, ns,
                                 (obj.get("metadata") or {}).get("name") or "", sub, dry,
                                 lambda d: (store.create(res, version, ns, obj, self._manager(),
                                                         d, fv), True))
            self._send_object(201, res, version, out)
        elif verb == "UPDATE":
            if not name:
                raise kstatus.method_not_allowed()
            obj = self._decode_body(body)
            fv = self._fv()
            out, _ = self._write("UpdateOptions", res, version, ns, name, sub, dry,
                                 lambda d: (store.update(res, version, ns, name, obj,
                                                         self._manager(), sub, d, fv), False))
            self._send_object(200, res, version, out)
        elif verb in ("PATCH", "APPLY"):
            if not name:
                raise kstatus.method_not_allowed()
            self._patch(res, version, ns, name, sub, body, dry)
        elif verb == "DELETE":
            if sub:
                raise kstatus.method_not_allowed()
            opts = self._delete_options(body)
            adm = self.server.admission
            if adm is not None and adm.active():
                try:
                    old = store.get(res, ns if res.namespaced else "", name)
                except ApiError:
                    old = None
                if old is not None:
                    adm.review("DELETE", res, version, sub, ns, name, None, old, dry,
                               dict(opts, kind="DeleteOptions", apiVersion="meta.k8s.io/v1"),
                               self.warnings)
            code, out = store.delete(res, ns, name, opts, dry)
            if out.get("kind") == "Status":
                self._send_json(code, out)
            else:
                self._send_object(code, res, version, out)
        elif verb == "DELETECOLLECTION":
            lreqs = kselectors.parse_label_selector(self.query.get("labelSelector", ""))
            freqs = kselectors.parse_field_selector(self.query.get("fieldSelector", ""), res)
            items = store.delete_collection(res, ns, lreqs, freqs, self._delete_options(body),
                                            dry)
            self._send_json(200, self._list_doc(res, version, items, store.current_rv(), "",
                                                None))
        else:
            raise kstatus.method_not_allowed()

    def _fv(self):
        """(fieldValidation mode, warnings list); the default is Warn, as on a real server."""
        mode = self.query.get("fieldValidation") or "Warn"
        if mode not in ("Strict", "Warn", "Ignore"):
            raise kstatus.bad_request('fieldValidation must be one of "Ignore", "Warn", or '
                                      '"Strict", got "%s"' % mode)
        self.warnings = []
        return (mode, self.warnings)

    def _decode_body(self, body):
        ctype = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip()
        if ctype == "application/vnd.kubernetes.protobuf":
            try:
                return kprotobuf.decode(body)
            except (kprotobuf.ProtoError, UnicodeDecodeError) as e:
                raise kstatus.unsupported_media_type(ctype, ["application/json",
                                                             "application/yaml"]) from e
        if ctype not in ("application/json", "application/yaml", "*/*", ""):
            raise kstatus.unsupported_media_type(ctype, ["application/json", "application/yaml"])
        try:
            text = body.decode("utf-8")
            obj = json.loads(text) if ctype == "application/json" else yamlio.load_one(text)
        except (UnicodeDecodeError, ValueError) as e:
            raise kstatus.bad_request("Object 'Kind' is missing in '%s': %s"
                                      % (body[:200].decode("utf-8", "replace"), e)) from None
        if not isinstance(obj, dict):
            raise kstatus.bad_request("Object 'Kind' is missing in '%s'"
                                      % body[:200].decode("utf-8", "replace"))
        return obj

    def _delete_options(self, body):
        opts = {}
        if body and body.strip():
            try:
                opts = json.loads(body)
            except ValueError as e:
                raise kstatus.bad_request("invalid DeleteOptions: %s" % e) from None
            if not isinstance(opts, dict):
                raise kstatus.bad_request("invalid DeleteOptions")
        if self.query.get("propagationPolicy"):
            opts["propagationPolicy"] = self.query["propagationPolicy"]
        if self.query.get("orphanDependents") in ("true", "1"):
            opts["orphanDependents"] = True
        return opts

    def _patch(self, res, version, ns, name, sub, body, dry):
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        ptype = PATCH_TYPES.get(ctype)
        if ptype is None or (ptype == "strategic" and not res.builtin):
            raise kstatus.unsupported_media_type(
                ctype, ALL_PATCH_TYPES if res.builtin else CR_PATCH_TYPES)
        force = self.query.get("force") in ("true", "1")
        if ptype == "apply":
            if not self.query.get("fieldManager"):
                raise kstatus.invalid("PatchOptions", "meta.k8s.io", "", [
                    ("fieldManager", "FieldValueRequired", "Required value: is required for "
                     "apply patch")])
        elif "force" in self.query:
            raise kstatus.invalid("PatchOptions", "meta.k8s.io", "", [
                ("force", "FieldValueForbidden", "Forbidden: may not be specified for non-apply "
                 "patch")])
        try:
            text = body.decode("utf-8")
            doc = yamlio.load_one(text) if ptype == "apply" else json.loads(text)
        except (UnicodeDecodeError, ValueError) as e:
            if ptype == "apply":
                raise kstatus.bad_request("error decoding YAML: %s" % e) from None
            raise kstatus.bad_request("error decoding patch: %s" % e) from None
        fv = self._fv()
        out, created = self._write(
            "PatchOptions", res, version, ns, name, sub, dry,
            lambda d: self.server.store.patch(res, version, ns if res.namespaced else "", name,
                                              ptype, doc, self._manager(), force, sub, d, fv))
        self._send_object(201 if created else 200, res, version, out)

    def _write(self, options_kind, res, version, ns, name, sub, dry, run):
        """run(dry_run) -> (object, created). When admission webhooks are configured:
        a dry run, the webhooks on its result, then the commit of the admitted object
        (redone when the object changed meanwhile, as the real server retries)."""
        adm = self.server.admission
        if adm is None or not adm.active():
            return run(dry)
        store = self.server.store
        options = {"kind": options_kind, "apiVersion": "meta.k8s.io/v1",
                   "fieldManager": self.query.get("fieldManager") or self._manager()}
        for _ in range(5):
            old = None
            if name:
                try:
                    old = store.get(res, ns if res.namespaced else "", name)
                except ApiError:
                    old = None
            prospective, created = run(True)
            final = adm.review("CREATE" if created else "UPDATE", res, version, sub, ns,
                               prospective["metadata"].get("name", name), prospective,
                               None if created else old, dry, options, self.warnings)
            if dry:
                return final, created
            try:
                return store.commit_prepared(
                    res, ns, final["metadata"]["name"],
                    None if created else (old or {}).get("metadata", {}).get("resourceVersion"),
                    final, created), created
            except storemod.Retry:
                continue
        raise kstatus.conflict(res.plural, res.group, name)

    # --- output ---------------------------------------------------------------
    def _wants_table(self):
        return "as=Table" in (self.headers.get("Accept") or "")

    def _versioned(self, res, version, obj):
        want = res.api_version(version)
        if obj.get("apiVersion") != want:
            obj = dict(obj, apiVersion=want)
        return obj

    def _send_object(self, code, res, version, obj, single=False):
        obj = self._versioned(res, version, obj)
        if single and self._wants_table():
            self._send_json(code, self._table(res, version, [obj], obj["metadata"].get(
                "resourceVersion", ""), "", True))
        else:
            self._send_bytes(code, self.server.store.encode(obj))

    def _list_doc(self, res, version, items, rv, token, remaining):
        strip = res.builtin
        out = []
        for o in items:
            if strip:
                o = {k: v for k, v in o.items() if k not in ("apiVersion", "kind")}
            else:
                o = self._versioned(res, version, o)
            out.append(o)
        meta = {"resourceVersion": str(rv)}
        if token:
            meta["continue"] = token
        if remaining is not None:
            meta["remainingItemCount"] = remaining
        return {"kind": res.list_kind(), "apiVersion": res.api_version(version),
                "metadata": meta, "items": out}

    def _list(self, res, version, ns):
        q = self.query
        lreqs = kselectors.parse_label_selector(q.get("labelSelector", ""))
        freqs = kselectors.parse_field_selector(q.get("fieldSelector", ""), res)
        try:
            limit = int(q.get("limit") or 0)
        except ValueError:
            raise kstatus.bad_request("limit must be an integer") from None
        rv_exact = None
        if q.get("resourceVersionMatch") == "Exact":
            try:
                rv_exact = int(q.get("resourceVersion", ""))
            except ValueError:
                raise kstatus.bad_request("resourceVersionMatch=Exact needs a resourceVersion") \
                    from None
        items, rv, token, remaining = self.server.store.list(
            res, ns, lreqs, freqs, max(limit, 0), q.get("continue") or None, rv_exact)
        if self._wants_table():
            self._send_json(200, self._table(res, version, items, str(rv), token, True))
        else:
            self._send_json(200, self._list_doc(res, version, items, rv, token, remaining))

    def _columns(self, res, version):
        cols = [{"name": "Name", "type": "string", "format": "name", "priority": 0,
                 "description": "Name must be unique within a namespace."}]
        extra = res.printer_columns.get(version) or []
        for c in extra:
            cols.append({"name": c.get("name", ""), "type": c.get("type", "string"),
                         "format": c.get("format", ""), "priority": c.get("priority", 0),
                         "description": c.get("description", "")})
        if not extra:
            cols.append({"name": "Age", "type": "string", "format": "", "priority": 0,
                         "description": "CreationTimestamp is a timestamp representing the "
                         "server time when this object was created."})
        return cols, extra

    def _table(self, res, version, items, rv, token, headers):
        cols, extra = self._columns(res, version)
        include = self.query.get("includeObject", "Metadata")
        rows = []
        for o in items:
            o = self._versioned(res, version, o)
            m = o.get("metadata") or {}
            cells = [m.get("name", "")]
            for c in extra:
                v = _jsonpath(o, c.get("jsonPath", ""))
                if c.get("type") == "date" and isinstance(v, str):
                    v = _age(v)
                cells.append(v)
            if not extra:
                cells.append(_age(m.get("creationTimestamp")))
            row = {"cells": cells}
            if include == "Object":
                row["object"] = o
            elif include != "None":
                row["object"] = {"kind": "PartialObjectMetadata",
                                 "apiVersion": "meta.k8s.io/v1", "metadata": m}
            rows.append(row)
        meta = {"resourceVersion": rv}
        if token:
            meta["continue"] = token
        return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
                "columnDefinitions": cols if headers else [], "rows": rows}

    # --- watch ----------------------------------------------------------------
    def _watch(self, res, version, ns):
        q = self.query
        store = self.server.store
        faults = self.server.faults
        lreqs = kselectors.parse_label_selector(q.get("labelSelector", ""))
        freqs = kselectors.parse_field_selector(q.get("fieldSelector", ""), res)
        try:
            timeout = float(q["timeoutSeconds"]) if q.get("timeoutSeconds") else 0.0
        except ValueError:
            raise kstatus.bad_request("timeoutSeconds must be a number") from None
        bookmarks = q.get("allowWatchBookmarks") in ("true", "1")
        rv_param = q.get("resourceVersion", "")
        table = self._wants_table()
        initial = []
        error = None
        send_initial = q.get("sendInitialEvents") in ("true", "1")
        if send_initial and (not bookmarks or q.get("resourceVersionMatch") != "NotOlderThan"):
            raise kstatus.invalid("ListOptions", "meta.k8s.io", "", [
                ("sendInitialEvents", "FieldValueForbidden", "Forbidden: sendInitialEvents "
                 "requires setting allowWatchBookmarks=true and "
                 "resourceVersionMatch=NotOlderThan")])
        if send_initial:
            # WatchList: the current state as ADDED events, then a bookmark that marks
            # the end of the initial events (client-go's streaming list).
            items, list_rv, _, _ = store.list(res, ns, lreqs, freqs)
            cursor = list_rv
            initial = items
        elif rv_param in ("", "0"):
            items, list_rv, _, _ = store.list(res, ns, lreqs, freqs)
            cursor = list_rv
            initial = items
        else:
            try:
                cursor = int(rv_param)
            except ValueError:
                raise kstatus.bad_request('invalid resource version "%s"' % rv_param) from None
            if faults.take_expire_resume():
                self.entry["fault"] = "410"
                error = kstatus.gone_expired("too old resource version: %d (%d)"
                                            % (cursor, store.current_rv()))
            else:
                try:
                    store.watch_check(res, cursor)
                except ApiError as e:
                    error = e
        self.streaming = True
        self.wfile.write(self._head(200, "application/json", None))
        self._log(200)
        w = _WatchWriter(self, res, version, table, faults.watch_drop_after())
        if error is not None:
            w.send("ERROR", error.status())
            w.end()
            return
        for o in initial:
            if not w.send("ADDED", o):
                return
        if send_initial:
            bm = {"kind": res.kind, "apiVersion": res.api_version(version),
                  "metadata": {"resourceVersion": str(cursor),
                               "annotations": {"k8s.io/initial-events-end": "true"}}}
            if not w.send("BOOKMARK", bm, raw=True):
                return
        start = time.monotonic()
        deadline = start + timeout if timeout > 0 else None
        next_bookmark = start + self.server.config.bookmark_interval
        while not store.stopping:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                break
            wait = min(1.0, max(0.0, next_bookmark - now) if bookmarks else 1.0)
            if deadline is not None:
                wait = min(wait, deadline - now)
            try:
                evs, global_rv = store.watch_wait(res, cursor, wait)
            except ApiError as e:
                w.send("ERROR", e.status())
                break
            for ev in evs:
                cursor = ev.rv
                etype, obj = _filter_event(ev, ns, lreqs, freqs)
                if etype and not w.send(etype, obj):
                    return
            cursor = max(cursor, global_rv)
            if bookmarks and time.monotonic() >= next_bookmark:
                bm = {"kind": res.kind, "apiVersion": res.api_version(version),
                      "metadata": {"resourceVersion": str(cursor)}}
                if not w.send("BOOKMARK", bm, raw=True):
                    return
                next_bookmark = time.monotonic() + self.server.config.bookmark_interval
        w.end()


def _filter_event(ev, ns, lreqs, freqs):
    """The (type, object) a watcher with these filters sees for ev, or (None, None)."""
    def matches(o):
        if o is None:
            return False
        m = o.get("metadata") or {}
        if ns and m.get("namespace") != ns:
            return False
        if lreqs and not kselectors.labels_match(lreqs, m.get("labels")):
            return False
        if freqs and not kselectors.fields_match(freqs, o):
            return False
        return True
    if not ns and not lreqs and not freqs:
        return ev.type, ev.obj
    now = matches(ev.obj)
    if ev.type == "ADDED":
        return ("ADDED", ev.obj) if now else (None, None)
    if ev.type == "DELETED":
        return ("DELETED", ev.obj) if now else (None, None)
    before = matches(ev.prev)
    if now and before:
        return "MODIFIED", ev.obj
    if now:
        return "ADDED", ev.obj
    if before:
        return "DELETED", ev.obj
    return None, None


class _WatchWriter:
    """Writes watch events as chunks; closes the connection abruptly when the
    watch_drop_after fault is reached (no terminating chunk, as a dropped TCP link)."""

    def __init__(self, handler, res, version, table, drop_after):
        self.h = handler
        self.res = res
        self.version = version
        self.table = table
        self.drop_after = drop_after
        self.sent = 0
        self.first = True

    def _chunk(self, data):
        self.h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.h.wfile.flush()

    def send(self, etype, obj, raw=False):
        if etype not in ("ERROR", "BOOKMARK"):
            obj = self.h._versioned(self.res, self.version, obj)
            if self.table:
                obj = self.h._table(self.res, self.version, [obj],
                                    obj["metadata"].get("resourceVersion", ""), "", self.first)
                self.first = False
        if self.table or etype in ("ERROR", "BOOKMARK"):
            data = json.dumps({"type": etype, "object": obj}, separators=(",", ":")).encode()
        else:
            # The object's JSON is made once per committed object, not once per watcher.
            data = b'{"type":"%s","object":%s}' % (etype.encode(),
                                                    self.h.server.store.encode(obj))
        try:
            self._chunk(data + b"\n")
        except (OSError, ssl.SSLError):
            self.h.close_connection = True
            return False
        if etype in ("ERROR", "BOOKMARK") or raw:
            return True
        self.sent += 1
        if self.drop_after and self.sent >= self.drop_after:
            self.h.server.faults.count_drop()
            self.h.close_connection = True
            try:
                self.h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return False
        return True

    def end(self):
        try:
            self.h.wfile.write(b"0\r\n\r\n")
            self.h.wfile.flush()
        except (OSError, ssl.SSLError):
            self.h.close_connection = True


def _version_doc(git_version):
    v = git_version.lstrip("v").split("-")[0].split("+")[0].split(".")
    major = v[0] if v else "1"
    minor = v[1] if len(v) > 1 else "0"
    return {"major": major, "minor": minor, "emulationMajor": major, "emulationMinor": minor,
            "minCompatibilityMajor": major,
            "minCompatibilityMinor": str(max(int(minor) - 1, 0)) if minor.isdigit() else minor,
            "gitVersion": git_version, "gitCommit": "0" * 40, "gitTreeState": "clean",
            "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.24.0", "compiler": "gc",
            "platform": "linux/amd64"}
