"""CRD structural schemas: pruning, defaulting, validation and list types.

What kube-apiserver does with a custom resource's openAPIV3Schema, in order:
unknown fields are pruned (kept under x-kubernetes-preserve-unknown-fields),
defaults are filled in, then the object is validated (type, required, enum,
pattern, bounds, lengths, item counts, uniqueness of list-map keys). CEL rules
(x-kubernetes-validations) are not evaluated. The list types
(x-kubernetes-list-type, -list-map-keys) also drive server-side apply.
"""

import json
import re

_META_KEEP = ("apiVersion", "kind", "metadata")


def child(node, name):
    """The schema of property `name` of an object schema (None: unknown/free-form)."""
    if not isinstance(node, dict):
        return None
    p = (node.get("properties") or {}).get(name)
    if p is not None:
        return p
    ap = node.get("additionalProperties")
    return ap if isinstance(ap, dict) else None


def items(node):
    if not isinstance(node, dict):
        return None
    it = node.get("items")
    return it if isinstance(it, dict) else None


def list_keys(node):
    """("map", keys) / ("atomic", None) from a list schema, or None when unknown."""
    if not isinstance(node, dict) or node.get("type") != "array":
        return None
    lt = node.get("x-kubernetes-list-type")
    if lt == "map":
        return ("map", tuple(node.get("x-kubernetes-list-map-keys") or ()))
    return ("atomic", None)


def _preserves(node):
    return isinstance(node, dict) and (node.get("x-kubernetes-preserve-unknown-fields")
                                       or node.get("x-kubernetes-int-or-string")
                                       or node.get("x-kubernetes-embedded-resource"))


def prune(value, node, top=False):
    """value without the fields the schema does not know (returns a new value)."""
    if node is None:
        return value
    if isinstance(value, dict):
        props = node.get("properties")
        ap = node.get("additionalProperties")
        keep_all = _preserves(node) and not props or isinstance(ap, dict) or ap is True
        out = {}
        for k, v in value.items():
            if top and k in _META_KEEP:
                out[k] = v
                continue
            sub = child(node, k)
            if sub is not None:
                out[k] = prune(v, sub)
            elif keep_all or (_preserves(node)):
                out[k] = v
        return out
    if isinstance(value, list):
        it = items(node)
        return [prune(v, it) for v in value] if it is not None else value
    return value


def unknown_fields(value, node, path="", top=True, out=None):
    """Paths of the fields prune() would drop, as strict decoding reports them."""
    if out is None:
        out = []
    if node is None:
        return out
    if isinstance(value, dict):
        props = node.get("properties")
        ap = node.get("additionalProperties")
        keep_all = _preserves(node) and not props or isinstance(ap, dict) or ap is True
        for k, v in value.items():
            if top and k in _META_KEEP:
                continue
            p = path + "." + k if path else k
            sub = child(node, k)
            if sub is not None:
                unknown_fields(v, sub, p, False, out)
            elif not (keep_all or _preserves(node)):
                out.append(p)
    elif isinstance(value, list):
        it = items(node)
        if it is not None:
            for n, v in enumerate(value):
                unknown_fields(v, it, "%s[%d]" % (path, n), False, out)
    return out


def default(value, node):
    """Fills in schema defaults (in place) and returns value."""
    if node is None:
        return value
    if isinstance(value, dict):
        for k, sub in (node.get("properties") or {}).items():
            if k not in value and isinstance(sub, dict) and "default" in sub:
                value[k] = json.loads(json.dumps(sub["default"]))
        for k, v in value.items():
            sub = child(node, k)
            if sub is not None:
                default(v, sub)
    elif isinstance(value, list):
        it = items(node)
        if it is not None:
            for v in value:
                default(v, it)
    return value


_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool}


def _type_ok(value, t):
    if t == "integer":
        return isinstance(value, int) and not isinstance(value, bool) or \
            (isinstance(value, float) and value.is_integer())
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    py = _TYPES.get(t)
    return py is None or isinstance(value, py)


def _fmt(v):
    return json.dumps(v) if isinstance(v, str) else json.dumps(v)


def validate(value, node, path, out):
    """Appends (field, reason, message) causes for value against node."""
    if node is None or value is None and node.get("nullable"):
        return
    t = node.get("type")
    if value is None:
        if t and not _preserves(node):
            out.append((path, "FieldValueTypeInvalid", "Invalid value: \"null\": %s in body "
                        "must be of type %s: \"null\"" % (path, t)))
        return
    if node.get("x-kubernetes-int-or-string"):
        if not isinstance(value, (int, str)) or isinstance(value, bool):
            out.append((path, "FieldValueTypeInvalid", "Invalid value: %s: %s in body must be "
                        "of type integer or string: %s" % (_fmt(value), path, _fmt(value))))
        return
    if t and not _type_ok(value, t):
        got = {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
            type(value), "number" if isinstance(value, float) else "integer")
        out.append((path, "FieldValueTypeInvalid", "Invalid value: \"%s\": %s in body must be "
                    "of type %s: \"%s\"" % (got, path, t, got)))
        return
    if "enum" in node and value not in node["enum"]:
        out.append((path, "FieldValueNotSupported", "Unsupported value: %s: supported values: %s"
                    % (_fmt(value), ", ".join(_fmt(e) for e in node["enum"]))))
    if isinstance(value, str):
        if "maxLength" in node and len(value) > node["maxLength"]:
            out.append((path, "FieldValueTooLong", "Too long: may not be more than %d bytes"
                        % node["maxLength"]))
        if "minLength" in node and len(value) < node["minLength"]:
            out.append((path, "FieldValueInvalid", "Invalid value: %s: %s in body should be at "
                        "least %d chars long" % (_fmt(value), path, node["minLength"])))
        if "pattern" in node:
            try:
                if not re.search(node["pattern"], value):
                    out.append((path, "FieldValueInvalid", "Invalid value: %s: %s in body should "
                                "match '%s'" % (_fmt(value), path, node["pattern"])))
            except re.error:
                pass
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in node and (value < node["minimum"] or
                                  node.get("exclusiveMinimum") and value == node["minimum"]):
            out.append((path, "FieldValueInvalid", "Invalid value: %s: %s in body should be "
                        "greater than or equal to %s" % (_fmt(value), path, node["minimum"])))
        if "maximum" in node and (value > node["maximum"] or
                                  node.get("exclusiveMaximum") and value == node["maximum"]):
            out.append((path, "FieldValueInvalid", "Invalid value: %s: %s in body should be "
                        "less than or equal to %s" % (_fmt(value), path, node["maximum"])))
    if isinstance(value, dict):
        for r in node.get("required") or []:
            if r not in value:
                out.append((path + "." + r if path else r, "FieldValueRequired",
                            "Required value"))
        if "maxProperties" in node and len(value) > node["maxProperties"]:
            out.append((path, "FieldValueTooMany", "Too many: %d: must have at most %d items"
                        % (len(value), node["maxProperties"])))
        for k, v in value.items():
            if not path and k in _META_KEEP:
                continue
            sub = child(node, k)
            if sub is not None:
                validate(v, sub, path + "." + k if path else k, out)
    if isinstance(value, list):
        if "maxItems" in node and len(value) > node["maxItems"]:
            out.append((path, "FieldValueTooMany", "Too many: %d: must have at most %d items"
                        % (len(value), node["maxItems"])))
        if "minItems" in node and len(value) < node["minItems"]:
            out.append((path, "FieldValueInvalid", "Invalid value: %d: %s in body should have "
                        "at least %d items" % (len(value), path, node["minItems"])))
        lk = list_keys(node)
        if lk and lk[0] == "map" and lk[1]:
            seen = set()
            for n, v in enumerate(value):
                if isinstance(v, dict):
                    key = tuple(json.dumps(v.get(k)) for k in lk[1])
                    if key in seen:
                        out.append(("%s[%d]" % (path, n), "FieldValueDuplicate",
                                    "Duplicate value: %s" % json.dumps(
                                        {k: v.get(k) for k in lk[1]}, separators=(",", ":"))))
                    seen.add(key)
        it = items(node)
        if it is not None:
            for n, v in enumerate(value):
                validate(v, it, "%s[%d]" % (path, n), out)


def root_for(resource, version):
    """The structural schema of a CRD kind's version, or None (built-ins, free-form)."""
    s = resource.schemas.get(version) if resource.schemas else None
    if not s or (s.get("x-kubernetes-preserve-unknown-fields") and not s.get("properties")):
        return None
    return s
