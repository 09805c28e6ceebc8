"""JSON merge patch (RFC 7386), a strategic merge patch subset and JSON Patch (RFC 6902).

Strategic merge here is merge patch plus: lists whose items are objects with a
merge key (`name`, or `type` for `conditions`) merge item by item, and an item
`{"$patch": "delete", "name": ...}` removes that item; `$patch: replace` on a
map replaces it. Other lists are replaced, as for a merge patch.
"""


from kstatus import ApiError


def _jcopy(v):
    if isinstance(v, dict):
        return {k: _jcopy(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_jcopy(x) for x in v]
    return v


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return _jcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def list_merge_key(field_name, items):
    """The key that makes a list of objects associative, or None for an atomic list."""
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    if field_name == "conditions" and all("type" in i for i in items):
        return "type"
    if all("name" in i for i in items):
        return "name"
    return None


def strategic_merge_patch(target, patch, field_name=None):
    if not isinstance(patch, dict):
        return _jcopy(patch)
    if patch.get("$patch") == "replace":
        p = dict(patch)
        del p["$patch"]
        return _jcopy(p)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if k.startswith("$") or k.startswith("$setElementOrder/") or k.startswith("$retainKeys"):
            continue
        if v is None:
            out.pop(k, None)
        elif isinstance(v, list) and isinstance(out.get(k), list):
            out[k] = _merge_list(k, out[k], v)
        elif isinstance(v, list):
            out[k] = [dict((a, b) for a, b in i.items() if a != "$patch")
                      if isinstance(i, dict) else i for i in v
                      if not (isinstance(i, dict) and i.get("$patch") == "delete")]
        else:
            out[k] = strategic_merge_patch(out.get(k), v, k)
    return out


def _merge_list(field, current, patch):
    key = list_merge_key(field, [i for i in patch if isinstance(i, dict)] or None)
    if key is None or list_merge_key(field, current or [{key: ""}]) != key:
        return _jcopy(patch)
    out = [dict(i) for i in current]
    for item in patch:
        idx = next((n for n, c in enumerate(out) if c.get(key) == item.get(key)), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                del out[idx]
            continue
        if idx is None:
            out.append(strategic_merge_patch({}, item, None))
        else:
            out[idx] = strategic_merge_patch(out[idx], item, None)
    return out


# --- JSON Patch ------------------------------------------------------------

def _invalid(msg):
    return ApiError(422, "Invalid", msg, {})


def _unescape(tok):
    return tok.replace("~1", "/").replace("~0", "~")


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise _invalid("json patch: invalid pointer %r" % path)
    return [_unescape(t) for t in path[1:].split("/")]


def _parent(doc, toks, path):
    cur = doc
    for t in toks[:-1]:
        if isinstance(cur, dict) and t in cur:
            cur = cur[t]
        elif isinstance(cur, list) and t.isdigit() and int(t) < len(cur):
            cur = cur[int(t)]
        else:
            raise _invalid("jsonpatch: doc is missing path: \"%s\": missing value" % path)
    return cur


def _get(doc, path):
    toks = _pointer(path)
    if not toks:
        return doc
    p = _parent(doc, toks, path)
    last = toks[-1]
    if isinstance(p, dict) and last in p:
        return p[last]
    if isinstance(p, list) and last.isdigit() and int(last) < len(p):
        return p[int(last)]
    raise _invalid("jsonpatch: doc is missing path: \"%s\": missing value" % path)


def _add(doc, path, value):
    toks = _pointer(path)
    if not toks:
        return value
    p = _parent(doc, toks, path)
    last = toks[-1]
    if isinstance(p, dict):
        p[last] = value
    elif isinstance(p, list):
        if last == "-":
            p.append(value)
        elif last.isdigit() and int(last) <= len(p):
            p.insert(int(last), value)
        else:
            raise _invalid("jsonpatch: add operation: index out of bounds: %s" % path)
    else:
        raise _invalid("jsonpatch: add operation does not apply: doc is missing path: "
                       "\"%s\"" % path)
    return doc


def _remove(doc, path):
    toks = _pointer(path)
    p = _parent(doc, toks, path)
    last = toks[-1] if toks else ""
    if isinstance(p, dict) and last in p:
        return p.pop(last)
    if isinstance(p, list) and last.isdigit() and int(last) < len(p):
        return p.pop(int(last))
    raise _invalid("jsonpatch: remove operation does not apply: doc is missing path: "
                   "\"%s\": missing value" % path)


def json_patch(doc, ops):
    if not isinstance(ops, list):
        raise ApiError(400, "BadRequest", "json: cannot unmarshal object into Go value of type "
                       "jsonpatch.Patch")
    doc = _jcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise _invalid("jsonpatch: invalid operation %r" % (op,))
        kind, path = op["op"], op["path"]
        if kind == "add":
            doc = _add(doc, path, _jcopy(op.get("value")))
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "replace":
            _get(doc, path)
            if _pointer(path):
                _remove(doc, path)
            doc = _add(doc, path, _jcopy(op.get("value")))
        elif kind == "move":
            val = _remove(doc, op.get("from", ""))
            doc = _add(doc, path, val)
        elif kind == "copy":
            doc = _add(doc, path, _jcopy(_get(doc, op.get("from", ""))))
        elif kind == "test":
            if _get(doc, path) != op.get("value"):
                raise _invalid("the server rejected our request due to an error in our "
                               "request: testing value %s failed" % path)
        else:
            raise _invalid("Unexpected kind: %s" % kind)
    return doc
