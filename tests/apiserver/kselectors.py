"""Label and field selectors with kube-apiserver's syntax and errors.

Label selector terms: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`.
Field selectors: `metadata.name` and `metadata.namespace` with `=`, `==`, `!=`
(every resource), plus `type` for Secrets and `status.phase` for Pods/Namespaces.
"""

import re

from kstatus import bad_request

_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                  r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


def _split_terms(text):
    """Splits on commas that are not inside parentheses."""
    terms, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if cur or terms:
        terms.append("".join(cur).strip())
    return [t for t in terms if t != ""] if text.strip() else []


_SET = re.compile(r"^\s*(!?)\s*([^\s!=()]+)\s+(in|notin)\s*\((.*)\)\s*$")
_OP = re.compile(r"^\s*([^\s!=()]+)\s*(==|!=|=)\s*([^\s!=()]*)\s*$")
_EXISTS = re.compile(r"^\s*(!?)\s*([^\s!=()]+)\s*$")


def _check_key(key, text):
    if not _KEY.match(key) or len(key.split("/")[-1]) > 63:
        raise bad_request("unable to parse requirement: invalid label key \"%s\": %s"
                          % (key, "name part must consist of alphanumeric characters, '-', "
                             "'_' or '.', and must start and end with an alphanumeric "
                             "character"))


def parse_label_selector(text):
    """Returns a list of (key, op, values) or raises BadRequest."""
    reqs = []
    for term in _split_terms(text or ""):
        m = _SET.match(term)
        if m and not m.group(1):
            key = m.group(2)
            _check_key(key, text)
            vals = [v.strip() for v in m.group(4).split(",") if v.strip() != ""]
            reqs.append((key, m.group(3), set(vals)))
            continue
        m = _OP.match(term)
        if m:
            _check_key(m.group(1), text)
            op = "!=" if m.group(2) == "!=" else "="
            reqs.append((m.group(1), op, {m.group(3)}))
            continue
        m = _EXISTS.match(term)
        if m:
            _check_key(m.group(2), text)
            reqs.append((m.group(2), "!exists" if m.group(1) else "exists", set()))
            continue
        raise bad_request("unable to parse requirement: found '%s', expected: "
                          "identifier" % term)
    return reqs


def labels_match(reqs, labels):
    labels = labels or {}
    for key, op, vals in reqs:
        has = key in labels
        v = labels.get(key)
        if op == "=" and not (has and v in vals):
            return False
        if op == "!=" and has and v in vals:
            return False
        if op == "in" and not (has and v in vals):
            return False
        if op == "notin" and has and v in vals:
            return False
        if op == "exists" and not has:
            return False
        if op == "!exists" and has:
            return False
    return True


def _field_value(obj, field):
    meta = obj.get("metadata") or {}
    if field == "metadata.name":
        return meta.get("name", "")
    if field == "metadata.namespace":
        return meta.get("namespace", "")
    if field == "type":
        return obj.get("type", "")
    if field == "status.phase":
        return (obj.get("status") or {}).get("phase", "")
    if field == "spec.nodeName":
        return (obj.get("spec") or {}).get("nodeName", "")
    return None


def parse_field_selector(text, resource):
    reqs = []
    allowed = {"metadata.name", "metadata.namespace"}
    if resource.plural == "secrets" and not resource.group:
        allowed.add("type")
    if resource.plural in ("pods", "namespaces") and not resource.group:
        allowed.add("status.phase")
    if resource.plural == "pods" and not resource.group:
        allowed.add("spec.nodeName")
    for term in _split_terms(text or ""):
        m = _OP.match(term)
        if not m:
            raise bad_request("invalid selector: '%s'; can't understand '%s'" % (text, term))
        field = m.group(1)
        if field not in allowed:
            raise bad_request('field label not supported: %s' % field)
        reqs.append((field, "!=" if m.group(2) == "!=" else "=", m.group(3)))
    return reqs


def fields_match(reqs, obj):
    for field, op, val in reqs:
        v = _field_value(obj, field)
        if (op == "=") != (v == val):
            return False
    return True


def exact_name(reqs):
    """The name a field selector pins with metadata.name=X, or None."""
    for field, op, val in reqs:
        if field == "metadata.name" and op == "=":
            return val
    return None
