"""Field ownership (metadata.managedFields) and server-side apply.

A field set is a Python set of paths; a path is a tuple of elements
("f", field) or ("k", '{"name":"x"}') (an item of an associative list, keyed by
the JSON of its key fields). Sets are stored in managedFields as FieldsV1
(`f:`/`k:` trees with "." marking a node that is itself a member), exactly as
kube-apiserver writes them.

Rules (a faithful subset of structured-merge-diff):
- Lists of objects keyed by `name` (`type` for `conditions`) are associative and
  merge item by item; every other list is atomic and owned as one field.
- Apply: the applier's new set is the leaf fields of its configuration. A field
  another manager owns whose value the apply would change is a conflict (409,
  cause FieldManagerConflict) unless force, which takes it over. Fields the
  applier owned before and no longer applies are removed from the object when no
  other manager owns them.
- Update (create/PUT/PATCH): the writer takes every field it changed; other
  managers lose those fields, nobody owns fields that no longer exist.
"""

import functools
import json

import schema as schemamod
from patching import list_merge_key

# Fields the server owns; never tracked (as the real field manager strips them).
_STRIPPED_META = ("name", "namespace", "uid", "resourceVersion", "generation",
                  "creationTimestamp", "managedFields", "selfLink", "deletionTimestamp",
                  "deletionGracePeriodSeconds", "generateName")


def strip_untracked(obj):
    o = dict(obj)
    o.pop("apiVersion", None)
    o.pop("kind", None)
    if isinstance(o.get("metadata"), dict):
        m = dict(o["metadata"])
        for k in _STRIPPED_META:
            m.pop(k, None)
        if m:
            o["metadata"] = m
        else:
            del o["metadata"]
    return o


def _key_of(item, keys):
    vals = tuple(item.get(k) for k in keys)
    try:
        return _key_json(keys, vals)
    except TypeError:   # an unhashable key value
        return json.dumps({k: item.get(k) for k in sorted(keys)}, separators=(",", ":"))


@functools.lru_cache(maxsize=65536)
def _key_json(keys, vals):
    return json.dumps(dict(sorted(zip(keys, vals))), separators=(",", ":"))


def list_key(field, items, sch):
    """The key fields making a list associative, or None for an atomic list. The
    schema's x-kubernetes-list-type decides when there is one (CRDs: atomic unless
    "map"); otherwise lists of objects with `name` (`type` for conditions)."""
    lk = schemamod.list_keys(sch)
    if lk is not None:
        if lk[0] == "map" and lk[1] and items and all(isinstance(i, dict) for i in items):
            return lk[1]
        return None
    k = list_merge_key(field, items)
    return (k,) if k else None


def leaf_paths(obj, prefix=(), out=None, sch=None):
    """Every owned leaf of obj: scalars, atomic lists, empty maps, list items."""
    if out is None:
        out = set()
    for k, v in obj.items():
        p = prefix + (("f", k),)
        if isinstance(v, dict):
            if v:
                leaf_paths(v, p, out, schemamod.child(sch, k))
            else:
                out.add(p)
        elif isinstance(v, list):
            lsch = schemamod.child(sch, k)
            key = list_key(k, v, lsch)
            if key is None:
                out.add(p)
            else:
                isch = schemamod.items(lsch)
                for item in v:
                    ip = p + (("k", _key_of(item, key)),)
                    out.add(ip)
                    leaf_paths(item, ip, out, isch)
        else:
            out.add(p)
    return out


@functools.lru_cache(maxsize=65536)
def _key_items(keyjson):
    return tuple(json.loads(keyjson).items())


def jcopy(v):
    """Deep copy of a JSON value (much faster than copy.deepcopy)."""
    if isinstance(v, dict):
        return {k: jcopy(x) if isinstance(x, (dict, list)) else x for k, x in v.items()}
    if isinstance(v, list):
        return [jcopy(x) if isinstance(x, (dict, list)) else x for x in v]
    return v


def all_paths(obj, prefix=(), out=None, sch=None):
    """Every path in obj, leaves and the nodes above them."""
    if out is None:
        out = set()
    for k, v in obj.items():
        p = prefix + (("f", k),)
        out.add(p)
        if isinstance(v, dict):
            all_paths(v, p, out, schemamod.child(sch, k))
        elif isinstance(v, list):
            lsch = schemamod.child(sch, k)
            key = list_key(k, v, lsch)
            if key is not None:
                isch = schemamod.items(lsch)
                for item in v:
                    ip = p + (("k", _key_of(item, key)),)
                    out.add(ip)
                    all_paths(item, ip, out, isch)
    return out


def _find_item(lst, keyjson):
    want = _key_items(keyjson)
    for n, item in enumerate(lst):
        if isinstance(item, dict) and all(item.get(k) == v for k, v in want):
            return n
    return None


def value_at(obj, path):
    """(True, value) when path exists in obj, else (False, None)."""
    cur = obj
    for kind, name in path:
        if kind == "f":
            if not isinstance(cur, dict) or name not in cur:
                return False, None
            cur = cur[name]
        else:
            if not isinstance(cur, list):
                return False, None
            n = _find_item(cur, name)
            if n is None:
                return False, None
            cur = cur[n]
    return True, cur


def remove_path(obj, path):
    """Removes path from obj (in place); empty parent maps left behind go too."""
    chain = [obj]
    cur = obj
    for kind, name in path[:-1]:
        ok, cur = value_at(cur, ((kind, name),))
        if not ok:
            return
        chain.append(cur)
    kind, name = path[-1]
    parent = chain[-1]
    if kind == "f" and isinstance(parent, dict):
        parent.pop(name, None)
    elif kind == "k" and isinstance(parent, list):
        n = _find_item(parent, name)
        if n is not None:
            del parent[n]
    # Prune maps emptied by the removal (not list items: an item keeps its key).
    for depth in range(len(path) - 1, 0, -1):
        node = chain[depth]
        kind, name = path[depth - 1]
        if isinstance(node, dict) and not node and kind == "f":
            chain[depth - 1].pop(name, None)
        else:
            break


class _Resolver:
    """value_at() over one object that is not modified meanwhile, memoized per path
    prefix, with the items of associative lists found through an index built once
    per list (the first item with a key, as _find_item)."""

    __slots__ = ("memo", "idx")

    def __init__(self, root):
        self.memo = {(): (True, root)}
        self.idx = {}

    def get(self, path):
        r = self.memo.get(path)
        if r is not None:
            return r
        ok, cur = self.get(path[:-1])
        r = _MISSING
        if ok:
            kind, name = path[-1]
            if kind == "f":
                if isinstance(cur, dict) and name in cur:
                    r = (True, cur[name])
            elif isinstance(cur, list):
                n = self._find(cur, name)
                if n is not None:
                    r = (True, cur[n])
        self.memo[path] = r
        return r

    def _find(self, lst, keyjson):
        want = _key_items(keyjson)
        names = tuple(k for k, _ in want)
        ik = (id(lst), names)
        hit = self.idx.get(ik)
        if hit is None:
            index = {}
            try:
                for n, item in enumerate(lst):
                    if isinstance(item, dict):
                        index.setdefault(tuple(item.get(k) for k in names), n)
            except TypeError:       # an unhashable key value: scan instead
                index = None
            hit = self.idx[ik] = (lst, index)
        index = hit[1]
        if index is not None:
            try:
                return index.get(tuple(v for _, v in want))
            except TypeError:
                pass
        return _find_item(lst, keyjson)


_MISSING = (False, None)


def _changed_leaves(obj, prefix, sch, rb, ra, out):
    """{p for p in leaf_paths(obj) if _changed_r(rb, ra, p)} where obj is the value
    ra resolves at prefix, skipping the subtrees whose value at the same path in
    before is equal: every leaf under them resolves (or fails to) alike in both."""
    for k, v in obj.items():
        p = prefix + (("f", k),)
        if isinstance(v, dict):
            if v:
                if ra.get(p)[1] is v:
                    ok, bv = rb.get(p)
                    if ok and bv == v:
                        continue
                _changed_leaves(v, p, schemamod.child(sch, k), rb, ra, out)
            elif _changed_r(rb, ra, p):
                out.add(p)
        elif isinstance(v, list):
            lsch = schemamod.child(sch, k)
            key = list_key(k, v, lsch)
            if key is None:
                if _changed_r(rb, ra, p):
                    out.add(p)
            else:
                if ra.get(p)[1] is v:
                    ok, bv = rb.get(p)
                    if ok and bv == v:
                        continue
                isch = schemamod.items(lsch)
                for item in v:
                    ip = p + (("k", _key_of(item, key)),)
                    if _changed_r(rb, ra, ip):
                        out.add(ip)
                    _changed_leaves_item(item, ip, isch, rb, ra, out)
        elif _changed_r(rb, ra, p):
            out.add(p)


def _changed_leaves_item(item, ip, isch, rb, ra, out):
    if ra.get(ip)[1] is item:
        ok, bv = rb.get(ip)
        if ok and bv == item:
            return
    _changed_leaves(item, ip, isch, rb, ra, out)


def _changed_r(rb, ra, path):
    """_changed() through resolvers of before and after."""
    ok1, v1 = rb.get(path)
    ok2, v2 = ra.get(path)
    if ok1 != ok2:
        return True
    if not ok1:
        return False
    if path[-1][0] == "k" or (isinstance(v1, dict) and isinstance(v2, dict) and v1 and v2):
        return False
    return v1 != v2


def _changed(before, after, path):
    ok1, v1 = value_at(before, path)
    ok2, v2 = value_at(after, path)
    if ok1 != ok2:
        return True
    if not ok1:
        return False
    if path[-1][0] == "k" or (isinstance(v1, dict) and isinstance(v2, dict) and v1 and v2):
        return False
    return v1 != v2


def ssa_merge(live, applied, field=None, sch=None):
    """live with applied merged in (associative lists by key); neither is modified."""
    if isinstance(live, dict) and isinstance(applied, dict):
        out = dict(live)
        for k, v in applied.items():
            out[k] = ssa_merge(live[k], v, k, schemamod.child(sch, k)) if k in live \
                else jcopy(v)
        return out
    if isinstance(live, list) and isinstance(applied, list):
        key = list_key(field, applied, sch)
        if key is not None and (not live or list_key(field, live, sch) == key):
            isch = schemamod.items(sch)
            out = [jcopy(i) for i in live]
            for item in applied:
                n = _find_item(out, _key_of(item, key))
                if n is None:
                    out.append(jcopy(item))
                else:
                    out[n] = ssa_merge(out[n], item, None, isch)
            return out
    return jcopy(applied)


def drop_nulls(v):
    if isinstance(v, dict):
        return {k: drop_nulls(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [drop_nulls(x) for x in v]
    return v


# --- FieldsV1 encoding ------------------------------------------------------

def _enc(el):
    return el[0] + ":" + el[1]


def _dec(s):
    kind, _, rest = s.partition(":")
    return (kind, rest)


def to_fields_v1(paths):
    root = {}
    members = set(paths)
    for p in paths:
        node = root
        for el in p:
            node = node.setdefault(el, {})
    def render(node, prefix):
        out = {}
        for el in sorted(node, key=lambda e: _enc(e)):
            child = node[el]
            p = prefix + (el,)
            sub = render(child, p)
            if child and p in members:
                sub = dict([(".", {})] + list(sub.items()))
            out[_enc(el)] = sub
        return out
    return render(root, ())


def from_fields_v1(tree, prefix=(), out=None):
    if out is None:
        out = set()
    for k, sub in (tree or {}).items():
        if k == ".":
            if prefix:
                out.add(prefix)
            continue
        p = prefix + (_dec(k),)
        if not sub:
            out.add(p)
        else:
            from_fields_v1(sub, p, out)
    return out


def path_string(path):
    s = ""
    for kind, name in path:
        if kind == "f":
            s += "." + name
        elif kind == "k":
            keys = json.loads(name)
            s += "[" + ",".join("%s=%s" % (k, json.dumps(v)) for k, v in keys.items()) + "]"
        else:
            s += "[" + name + "]"
    return s


# --- managedFields entries ---------------------------------------------------

class Entry:
    def __init__(self, manager, operation, api_version, time, fields, subresource="",
                 raw=None, raw_fields=None):
        self.manager = manager
        # The FieldsV1 this entry was parsed from and its set: reused when unchanged.
        self.raw = raw
        self.raw_fields = (raw_fields if raw_fields is not None else frozenset(fields)) \
            if raw is not None else None
        self.operation = operation
        self.api_version = api_version
        self.time = time
        self.fields = fields
        self.subresource = subresource

    def ident(self):
        return (self.manager, self.operation, self.subresource)

    def describe(self):
        s = json.dumps(self.manager)
        if self.subresource:
            s += " with subresource %s" % json.dumps(self.subresource)
        if self.operation == "Update":
            s += " using %s" % self.api_version
            if self.time:
                s += " at %s" % self.time
        return s

    def _fields_v1(self):
        if self.raw is not None and self.fields == self.raw_fields:
            return self.raw
        tree = to_fields_v1(self.fields)
        _remember(tree, frozenset(self.fields))
        return tree

    def to_json(self):
        e = {"manager": self.manager, "operation": self.operation,
             "apiVersion": self.api_version, "time": self.time, "fieldsType": "FieldsV1",
             "fieldsV1": self._fields_v1()}
        if self.subresource:
            e["subresource"] = self.subresource
        return e


# Field sets of FieldsV1 trees already decoded or encoded, by the tree's id (the
# tree is kept, so its id is not reused). Stored objects are never modified, so
# the managedFields of the object a write starts from are decoded once, not on
# every write.
_parsed = {}
_PARSED_MAX = 50000


def _remember(tree, fields):
    if len(_parsed) >= _PARSED_MAX:
        _parsed.clear()
    _parsed[id(tree)] = (tree, fields)


def _fields_of(tree):
    hit = _parsed.get(id(tree))
    if hit is not None and hit[0] is tree:
        return hit[1]
    fields = frozenset(from_fields_v1(tree))
    if tree:
        _remember(tree, fields)
    return fields


def parse_entries(obj):
    out = []
    for e in (obj.get("metadata") or {}).get("managedFields") or []:
        if not isinstance(e, dict) or not e.get("manager") and not e.get("fieldsV1"):
            continue
        raw = e.get("fieldsV1") or {}
        fields = _fields_of(raw)
        out.append(Entry(e.get("manager", ""), e.get("operation", "Update"),
                         e.get("apiVersion", ""), e.get("time", ""),
                         set(fields), e.get("subresource", ""), raw, fields))
    return out


def _finish(entries, obj, sch=None):
    """Drops fields that no longer exist and entries left empty."""
    existing = all_paths(strip_untracked(obj), sch=sch)
    out = []
    for e in entries:
        e.fields &= existing
        if e.fields:
            out.append(e)
    return [e.to_json() for e in out]


def refinish(managed, obj, sch=None):
    """managedFields list `managed` without the fields obj no longer has (after pruning)."""
    return _finish(parse_entries({"metadata": {"managedFields": managed}}), obj, sch)


def record_update(old, new, manager, subresource, api_version, now, sch=None):
    """managedFields for `new` after a non-apply write by `manager` (old may be None)."""
    entries = parse_entries(old) if old is not None else []
    before = strip_untracked(old) if old is not None else {}
    after = strip_untracked(new)
    rb, ra = _Resolver(before), _Resolver(after)
    changed = set()
    _changed_leaves(after, (), sch, rb, ra, changed)
    removed = {p for p in leaf_paths(before, sch=sch) if not ra.get(p)[0]}
    ident = (manager, "Update", subresource)
    mine = next((e for e in entries if e.ident() == ident), None)
    for e in entries:
        if e is not mine:
            e.fields -= changed | removed
    if changed:
        if mine is None:
            mine = Entry(manager, "Update", api_version, now, set(), subresource)
            entries.append(mine)
        mine.fields |= changed
        mine.time = now
        mine.api_version = api_version
    return _finish(entries, new, sch)


class ApplyConflict(Exception):
    def __init__(self, conflicts):
        super().__init__("apply conflict")
        self.conflicts = conflicts     # [(manager description, path string)]


def apply(live, applied, manager, force, subresource, api_version, now, scope=None,
          sch=None):
    """Server-side apply of `applied` (already stripped of untouchable parts) onto
    `live` (None when creating). `scope`, when set, restricts ownership to paths
    under that top-level field (the status subresource) or excludes it
    (("not", "status") for a main-resource write of a kind with status).
    Returns (merged object, managedFields list). Raises ApplyConflict."""
    applied = drop_nulls(applied)
    base = live if live is not None else {}
    entries = parse_entries(base) if live is not None else []
    tracked_applied = strip_untracked(applied)
    new_set = leaf_paths(tracked_applied, sch=sch)
    if scope is not None:
        new_set = {p for p in new_set if _in_scope(p, scope)}
    merged = ssa_merge(base, applied, None, sch)
    ident = (manager, "Apply", subresource)
    mine = next((e for e in entries if e.ident() == ident), None)
    conflicts = []
    losers = []
    rb, rm = _Resolver(base), _Resolver(merged)
    for e in entries:
        if e is mine:
            continue
        hit = sorted((p for p in new_set & e.fields if _changed_r(rb, rm, p)),
                     key=path_string)
        for p in hit:
            conflicts.append((e.describe(), path_string(p)))
        if hit:
            losers.append((e, set(hit)))
    if conflicts and not force:
        raise ApplyConflict(conflicts)
    for e, hit in losers:
        e.fields -= hit
    others = set()
    for e in entries:
        if e is not mine:
            others |= e.fields
    if mine is not None:
        dropped = mine.fields - new_set - others
        removed = set()
        # Parents of fields other managers own stay (only their unowned fields go).
        kept = {p[:n] for p in others for n in range(1, len(p))}
        # Shortest first: removing a list item removes its fields with it.
        for p in sorted(dropped, key=len):
            if p in kept or any(p[:n] in removed for n in range(1, len(p))):
                continue
            remove_path(merged, p)
            removed.add(p)
    else:
        mine = Entry(manager, "Apply", api_version, now, set(), subresource)
        entries.append(mine)
    mine.fields = set(new_set)
    mine.time = now
    mine.api_version = api_version
    return merged, _finish(entries, merged, sch)


def _in_scope(path, scope):
    if scope[0] == "not":
        return path[0] != ("f", scope[1])
    return path[0] == ("f", scope[1])
