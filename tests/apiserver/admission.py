"""Calls to admission webhooks, as kube-apiserver makes them.

Every Mutating/ValidatingWebhookConfiguration stored in the server is honoured
for CREATE, UPDATE (also patch and apply) and DELETE of matching objects:
rules (operations, apiGroups, apiVersions, resources with subresources, scope),
namespaceSelector, objectSelector, failurePolicy, timeoutSeconds. Mutating
webhooks run first (in name order; JSONPatch responses applied), then
validating ones. clientConfig.url is called directly; clientConfig.service is
called at the address given by --webhook-service NAMESPACE/NAME=HOST:PORT, with
the TLS name NAME.NAMESPACE.svc verified against caBundle. matchConditions
(CEL) and reinvocation are not supported.
"""

import base64
import http.client
import json
import socket
import ssl
import urllib.parse
import uuid

import kstatus
import patching

WEBHOOK_KINDS = (("admissionregistration.k8s.io", "validatingwebhookconfigurations"),
                 ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"))


def _selector_match(sel, labels):
    if not sel:
        return True
    labels = labels or {}
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        k, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(k) not in vals:
            return False
        if op == "NotIn" and k in labels and labels[k] in vals:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


def _rule_match(rule, op, res, version, sub):
    def has(lst, v):
        return "*" in lst or v in lst
    if not has(rule.get("operations") or [], op):
        return False
    if not has(rule.get("apiGroups") or [], res.group):
        return False
    if not has(rule.get("apiVersions") or [], version):
        return False
    want = res.plural + ("/" + sub if sub else "")
    ok = False
    for r in rule.get("resources") or []:
        if r == want or r == "*/*" or (r == "*" and not sub) or \
                (r.startswith("*/") and sub and r[2:] == sub) or \
                (r.endswith("/*") and r[:-2] == res.plural and sub):
            ok = True
    if not ok:
        return False
    scope = rule.get("scope") or "*"
    return scope == "*" or (scope == "Namespaced") == res.namespaced


class _SvcConnection(http.client.HTTPSConnection):
    """HTTPS to a fixed address, verifying the certificate for another name."""

    def __init__(self, addr, server_name, context, timeout):
        super().__init__(addr[0], addr[1], context=context, timeout=timeout)
        self._addr = addr
        self._server_name = server_name
        self._ctx = context

    def connect(self):
        sock = socket.create_connection(self._addr, self.timeout)
        self.sock = self._ctx.wrap_socket(sock, server_hostname=self._server_name)


class Admission:
    def __init__(self, store, service_map):
        self.store = store
        self.service_map = service_map      # "ns/name" -> (host, port)

    def _configs(self, kind):
        with self.store.lock:
            items = list(self.store.objects.get(("admissionregistration.k8s.io", kind),
                                                {}).values())
        return sorted(items, key=lambda o: o["metadata"]["name"])

    def active(self):
        return bool(self._configs("validatingwebhookconfigurations") or
                    self._configs("mutatingwebhookconfigurations"))

    def _ns_labels(self, ns):
        if not ns:
            return {}
        with self.store.lock:
            o = self.store.objects.get(("", "namespaces"), {}).get(("", ns))
        return ((o or {}).get("metadata") or {}).get("labels") or {}

    def _matching(self, kind, op, res, version, sub, ns, obj, old):
        out = []
        for cfg in self._configs(kind):
            for wh in cfg.get("webhooks") or []:
                if not any(_rule_match(r, op, res, version, sub) for r in wh.get("rules") or []):
                    continue
                if res.namespaced or res.key == ("", "namespaces"):
                    labels = self._ns_labels(ns) if res.namespaced else \
                        ((obj or old or {}).get("metadata") or {}).get("labels")
                    if not _selector_match(wh.get("namespaceSelector"), labels):
                        continue
                osel = wh.get("objectSelector")
                if osel and not any(_selector_match(osel, ((o or {}).get("metadata") or {})
                                                    .get("labels")) for o in (obj, old) if o):
                    continue
                out.append(wh)
        return out

    def review(self, op, res, version, sub, ns, name, obj, old, dry_run, options, warnings):
        """Runs the matching webhooks; returns the (possibly mutated) object or raises."""
        if res.key in WEBHOOK_KINDS:
            return obj
        for wh in self._matching("mutatingwebhookconfigurations", op, res, version, sub, ns,
                                 obj, old):
            resp = self._call(wh, op, res, version, sub, ns, name, obj, old, dry_run, options)
            if resp is None:
                continue
            warnings.extend(resp.get("warnings") or [])
            self._check_allowed(wh, resp)
            if resp.get("patch") and obj is not None:
                try:
                    ops = json.loads(base64.b64decode(resp["patch"]))
                    obj = patching.json_patch(obj, ops)
                except (ValueError, kstatus.ApiError) as e:
                    raise kstatus.internal_error(
                        'failed calling webhook "%s": the server rejected the JSON patch: %s'
                        % (wh.get("name"), getattr(e, "message", e))) from None
        for wh in self._matching("validatingwebhookconfigurations", op, res, version, sub, ns,
                                 obj, old):
            resp = self._call(wh, op, res, version, sub, ns, name, obj, old, dry_run, options)
            if resp is None:
                continue
            warnings.extend(resp.get("warnings") or [])
            self._check_allowed(wh, resp)
        return obj

    @staticmethod
    def _check_allowed(wh, resp):
        if resp.get("allowed"):
            return
        st = dict(resp.get("status") or {})
        code = st.get("code") or 400
        code = code if code >= 400 else 400
        denied = 'admission webhook "%s" denied the request' % wh.get("name")
        if st.get("message"):
            msg = "%s: %s" % (denied, st["message"])
        elif st.get("reason"):
            msg = "%s: %s" % (denied, st["reason"])
        else:
            msg = denied + " without explanation"
        raise kstatus.ApiError(code, st.get("reason", ""), msg, st.get("details"))

    def _call(self, wh, op, res, version, sub, ns, name, obj, old, dry_run, options):
        uid = str(uuid.uuid4())
        gvk = {"group": res.group, "version": version, "kind": res.kind}
        gvr = {"group": res.group, "version": version, "resource": res.plural}
        review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
            "uid": uid, "kind": gvk, "resource": gvr, "requestKind": gvk,
            "requestResource": gvr, "name": name, "namespace": ns, "operation": op,
            "userInfo": {"username": "test-admin",
                         "groups": ["system:masters", "system:authenticated"]},
            "object": obj, "oldObject": old, "dryRun": bool(dry_run), "options": options}}
        if sub:
            review["request"]["subResource"] = sub
            review["request"]["requestSubResource"] = sub
        try:
            body = self._post(wh, json.dumps(review).encode())
            doc = json.loads(body)
            resp = doc.get("response") or {}
            if resp.get("uid") != uid:
                raise ValueError("expected response.uid=%q, got %q" % (uid, resp.get("uid")))
            return resp
        except (OSError, ValueError, ssl.SSLError, http.client.HTTPException) as e:
            if (wh.get("failurePolicy") or "Fail") == "Ignore":
                return None
            raise kstatus.internal_error('failed calling webhook "%s": failed to call webhook: '
                                         '%s' % (wh.get("name"), e)) from None

    def _post(self, wh, body):
        cc = wh.get("clientConfig") or {}
        ctx = ssl.create_default_context()
        if cc.get("caBundle"):
            ctx = ssl.create_default_context(cadata=base64.b64decode(cc["caBundle"]).decode())
        timeout = wh.get("timeoutSeconds") or 10
        if cc.get("url"):
            u = urllib.parse.urlsplit(cc["url"])
            if u.scheme != "https":
                raise ValueError("webhook URL must use https")
            conn = http.client.HTTPSConnection(u.hostname, u.port or 443, context=ctx,
                                               timeout=timeout)
            path = u.path or "/"
            if u.query:
                path += "?" + u.query
        else:
            svc = cc.get("service") or {}
            key = "%s/%s" % (svc.get("namespace"), svc.get("name"))
            addr = self.service_map.get(key)
            if addr is None:
                raise ValueError('service "%s" has no address (use --webhook-service %s='
                                 'HOST:PORT)' % (key, key))
            conn = _SvcConnection(addr, "%s.%s.svc" % (svc.get("name"), svc.get("namespace")),
                                  ctx, timeout)
            path = svc.get("path") or "/"
        try:
            conn.request("POST", path, body=body,
                         headers={"Content-Type": "application/json",
                                  "Accept": "application/json"})
            r = conn.getresponse()
            data = r.read()
            if r.status != 200:
                raise ValueError("the server responded with HTTP %d" % r.status)
            return data
        finally:
            conn.close()
