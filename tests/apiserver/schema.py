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


# --- compiled schemas ---------------------------------------------------------
#
# The functions above walk the raw schema dicts, re-reading every keyword of every
# node for every write. The same four walks below run over _Node objects: the
# keywords of a schema node are read once, its properties are compiled lazily (on
# first use) and kept, so a write costs one attribute read per keyword. The
# results are identical to the walks above (test_schema_compiled.py compares them);
# a node that is not a dict (never in a structural schema) falls back to them.

_compiled = {}      # id(schema dict) -> (schema dict, _Node); the dict keeps its id


class _Node:
    __slots__ = ("node", "props", "pc", "ap", "apc", "preserves", "keep_all",
                 "keep_unknown", "itc", "defaults", "nullable", "type", "int_or_string",
                 "has_enum", "enum", "max_len", "min_len", "has_pattern", "pattern",
                 "pattern_src", "minimum", "excl_min", "maximum", "excl_max", "required",
                 "max_props", "max_items", "min_items", "map_keys", "pytype")

    def __init__(self, node):
        self.node = node
        props = node.get("properties")
        self.props = props or {}
        self.pc = {}
        ap = node.get("additionalProperties")
        self.ap = ap
        self.preserves = bool(_preserves(node))
        self.keep_all = bool(self.preserves and not props or isinstance(ap, dict) or ap is True)
        self.keep_unknown = self.keep_all or self.preserves
        self.apc = compile_node(ap) if isinstance(ap, dict) else None
        it = items(node)
        self.itc = compile_node(it) if it is not None else None
        self.defaults = [(k, sub["default"]) for k, sub in self.props.items()
                         if isinstance(sub, dict) and "default" in sub]
        self.nullable = node.get("nullable")
        self.type = node.get("type")
        self.pytype = _TYPES.get(self.type) if self.type not in ("integer", "number") \
            else None
        self.int_or_string = node.get("x-kubernetes-int-or-string")
        self.has_enum = "enum" in node
        self.enum = node.get("enum")
        self.max_len = node.get("maxLength") if "maxLength" in node else None
        self.min_len = node.get("minLength") if "minLength" in node else None
        self.has_pattern = "pattern" in node
        self.pattern_src = node.get("pattern")
        self.pattern = None
        if self.has_pattern:
            try:
                self.pattern = re.compile(self.pattern_src)
            except re.error:
                self.pattern = None
        self.minimum = node["minimum"] if "minimum" in node else _NONE
        self.excl_min = node.get("exclusiveMinimum")
        self.maximum = node["maximum"] if "maximum" in node else _NONE
        self.excl_max = node.get("exclusiveMaximum")
        self.required = node.get("required") or []
        self.max_props = node["maxProperties"] if "maxProperties" in node else _NONE
        self.max_items = node["maxItems"] if "maxItems" in node else _NONE
        self.min_items = node["minItems"] if "minItems" in node else _NONE
        lk = list_keys(node)
        self.map_keys = lk[1] if lk and lk[0] == "map" and lk[1] else None

    def child(self, name):
        """compiled child(node, name): a _Node, a raw non-dict schema, or None."""
        c = self.pc.get(name)
        if c is not None:
            return c
        p = self.props.get(name)
        if p is not None:
            c = self.pc[name] = compile_node(p)
            return c
        return self.apc


_NONE = object()


def compile_node(node):
    """The _Node of a schema dict (cached); other values are returned as they are."""
    if not isinstance(node, dict):
        return node
    hit = _compiled.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    c = _Node(node)
    _compiled[id(node)] = (node, c)
    return c


def fast_prune(value, node, top=False):
    """prune() over the compiled schema."""
    if node is None:
        return value
    c = compile_node(node)
    if c.__class__ is not _Node:
        return prune(value, node, top)
    return _prune_c(value, c, top)


def _prune_c(value, c, top):
    if isinstance(value, dict):
        out = {}
        keep_unknown = c.keep_unknown
        for k, v in value.items():
            if top and k in _META_KEEP:
                out[k] = v
                continue
            sub = c.child(k)
            if sub is not None:
                if not isinstance(v, (dict, list)):
                    out[k] = v
                elif sub.__class__ is _Node:
                    out[k] = _prune_c(v, sub, False)
                else:
                    out[k] = prune(v, sub)
            elif keep_unknown:
                out[k] = v
        return out
    if isinstance(value, list):
        it = c.itc
        if it is None:
            return value
        return [_prune_c(v, it, False) if isinstance(v, (dict, list)) else v for v in value]
    return value


def fast_unknown_fields(value, node):
    """unknown_fields() over the compiled schema."""
    out = []
    if node is None:
        return out
    c = compile_node(node)
    if c.__class__ is not _Node:
        return unknown_fields(value, node)
    _unknown_c(value, c, "", True, out)
    return out


def _unknown_c(value, c, path, top, out):
    if isinstance(value, dict):
        keep_unknown = c.keep_unknown
        for k, v in value.items():
            if top and k in _META_KEEP:
                continue
            sub = c.child(k)
            if sub is not None:
                if isinstance(v, (dict, list)):
                    p = path + "." + k if path else k
                    if sub.__class__ is _Node:
                        _unknown_c(v, sub, p, False, out)
                    else:
                        unknown_fields(v, sub, p, False, out)
            elif not keep_unknown:
                out.append(path + "." + k if path else k)
    elif isinstance(value, list):
        it = c.itc
        if it is not None:
            for n, v in enumerate(value):
                if isinstance(v, (dict, list)):
                    _unknown_c(v, it, "%s[%d]" % (path, n), False, out)


def fast_default(value, node):
    """default() over the compiled schema (in place; returns value)."""
    if node is None:
        return value
    c = compile_node(node)
    if c.__class__ is not _Node:
        return default(value, node)
    _default_c(value, c)
    return value


def _default_c(value, c):
    if isinstance(value, dict):
        for k, d in c.defaults:
            if k not in value:
                value[k] = json.loads(json.dumps(d))
        for k, v in value.items():
            if isinstance(v, (dict, list)):
                sub = c.child(k)
                if sub is not None:
                    if sub.__class__ is _Node:
                        _default_c(v, sub)
                    else:
                        default(v, sub)
    elif isinstance(value, list):
        it = c.itc
        if it is not None:
            for v in value:
                if isinstance(v, (dict, list)):
                    _default_c(v, it)


def fast_validate(value, node, path, out):
    """validate() over the compiled schema."""
    if node is None:
        return
    c = compile_node(node)
    if c.__class__ is not _Node:
        validate(value, node, path, out)
        return
    _validate_c(value, c, path, out)


def _validate_c(value, c, path, out):
    if value is None:
        if c.nullable:
            return
        t = c.type
        if t and not c.preserves:
            out.append((path, "FieldValueTypeInvalid", "Invalid value: \"null\": %s in body "
                        "must be of type %s: \"null\"" % (path, t)))
        return
    if c.int_or_string:
        if not isinstance(value, (int, str)) or isinstance(value, bool):
            out.append((path, "FieldValueTypeInvalid", "Invalid value: %s: %s in body must be "
                        "of type integer or string: %s" % (_fmt(value), path, _fmt(value))))
        return
    t = c.type
    if t:
        py = c.pytype
        if not (isinstance(value, py) if py is not None else _type_ok(value, t)):
            got = {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
                type(value), "number" if isinstance(value, float) else "integer")
            out.append((path, "FieldValueTypeInvalid", "Invalid value: \"%s\": %s in body "
                        "must be of type %s: \"%s\"" % (got, path, t, got)))
            return
    if c.has_enum and value not in c.enum:
        out.append((path, "FieldValueNotSupported", "Unsupported value: %s: supported values: %s"
                    % (_fmt(value), ", ".join(_fmt(e) for e in c.enum))))
    if isinstance(value, str):
        if c.max_len is not None and len(value) > c.max_len:
            out.append((path, "FieldValueTooLong", "Too long: may not be more than %d bytes"
                        % c.max_len))
        if c.min_len is not None and len(value) < c.min_len:
            out.append((path, "FieldValueInvalid", "Invalid value: %s: %s in body should be at "
                        "least %d chars long" % (_fmt(value), path, c.min_len)))
        if c.pattern is not None and not c.pattern.search(value):
            out.append((path, "FieldValueInvalid", "Invalid value: %s: %s in body should "
                        "match '%s'" % (_fmt(value), path, c.pattern_src)))
        return
    if isinstance(value, dict):
        for r in c.required:
            if r not in value:
                out.append((path + "." + r if path else r, "FieldValueRequired",
                            "Required value"))
        if c.max_props is not _NONE and len(value) > c.max_props:
            out.append((path, "FieldValueTooMany", "Too many: %d: must have at most %d items"
                        % (len(value), c.max_props)))
        for k, v in value.items():
            if not path and k in _META_KEEP:
                continue
            sub = c.child(k)
            if sub is not None:
                if sub.__class__ is _Node:
                    _validate_c(v, sub, path + "." + k if path else k, out)
                else:
                    validate(v, sub, path + "." + k if path else k, out)
        return
    if isinstance(value, list):
        if c.max_items is not _NONE and len(value) > c.max_items:
            out.append((path, "FieldValueTooMany", "Too many: %d: must have at most %d items"
                        % (len(value), c.max_items)))
        if c.min_items is not _NONE and len(value) < c.min_items:
            out.append((path, "FieldValueInvalid", "Invalid value: %d: %s in body should have "
                        "at least %d items" % (len(value), path, c.min_items)))
        keys = c.map_keys
        if keys:
            seen = set()
            for n, v in enumerate(value):
                if isinstance(v, dict):
                    key = tuple(json.dumps(v.get(k)) for k in keys)
                    if key in seen:
                        out.append(("%s[%d]" % (path, n), "FieldValueDuplicate",
                                    "Duplicate value: %s" % json.dumps(
                                        {k: v.get(k) for k in keys}, separators=(",", ":"))))
                    seen.add(key)
        it = c.itc
        if it is not None:
            for n, v in enumerate(value):
                _validate_c(v, it, "%s[%d]" % (path, n), out)
        return
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if c.minimum is not _NONE and (value < c.minimum or
                                       c.excl_min and value == c.minimum):
            out.append((path, "FieldValueInvalid", "Invalid value: %s: %s in body should be "
                        "greater than or equal to %s" % (_fmt(value), path, c.minimum)))
        if c.maximum is not _NONE and (value > c.maximum or
                                       c.excl_max and value == c.maximum):
            out.append((path, "FieldValueInvalid", "Invalid value: %s: %s in body should be "
                        "less than or equal to %s" % (_fmt(value), path, c.maximum)))


def prune_default(value, node, unknown=None):
    """fast_prune(value, node, top=True) then fast_default on the result, in one
    walk; when `unknown` is a list, the paths fast_unknown_fields(value, node)
    reports are appended to it (in another order: callers sort them)."""
    if node is None:
        return value
    c = compile_node(node)
    if c.__class__ is not _Node:
        if unknown is not None:
            unknown.extend(unknown_fields(value, node))
        return default(prune(value, node, True), node)
    return _pd_c(value, c, True, "", unknown)


def _pd_c(value, c, top, path, unknown):
    if isinstance(value, dict):
        out = {}
        keep_unknown = c.keep_unknown
        for k, v in value.items():
            if top and k in _META_KEEP:
                # Kept as it is, defaulted in place as default() would.
                out[k] = v
                if isinstance(v, (dict, list)):
                    sub = c.child(k)
                    if sub is not None:
                        if sub.__class__ is _Node:
                            _default_c(v, sub)
                        else:
                            default(v, sub)
                continue
            sub = c.child(k)
            if sub is not None:
                if not isinstance(v, (dict, list)):
                    out[k] = v
                elif sub.__class__ is _Node:
                    out[k] = _pd_c(v, sub, False, (path + "." + k if path else k)
                                   if unknown is not None else "", unknown)
                else:
                    if unknown is not None:
                        unknown_fields(v, sub, path + "." + k if path else k, False, unknown)
                    out[k] = default(prune(v, sub), sub)
            elif keep_unknown:
                out[k] = v
            elif unknown is not None:
                unknown.append(path + "." + k if path else k)
        for k, d in c.defaults:
            if k not in out:
                v = out[k] = json.loads(json.dumps(d))
                if isinstance(v, (dict, list)):
                    sub = c.child(k)
                    if sub.__class__ is _Node:
                        _default_c(v, sub)
                    else:
                        default(v, sub)
        return out
    if isinstance(value, list):
        it = c.itc
        if it is None:
            return value
        if unknown is None:
            return [_pd_c(v, it, False, "", None) if isinstance(v, (dict, list)) else v
                    for v in value]
        return [_pd_c(v, it, False, "%s[%d]" % (path, n), unknown)
                if isinstance(v, (dict, list)) else v for n, v in enumerate(value)]
    return value
