"""The object store: one global resourceVersion counter (like etcd's revision),
objects per resource, a bounded per-resource event history for watches and
consistent paginated lists, and the write semantics of kube-apiserver's generic
registry: create/update/patch/apply/delete, optimistic concurrency, generation,
the status subresource, finalizers, ownerReference garbage collection and
namespace termination.

Stored objects are never mutated: every write stores a new dict, so readers may
serialize what they got without holding the lock.
"""

import base64
import bisect
import collections
import datetime
import itertools
import json
import random
import string
import threading
import uuid

import fieldmanager
import kstatus
import patching
import schema
import kselectors
import validation
from kstatus import ApiError

# Kinds whose DELETE answers the deleted object rather than a Status.
_RETURNS_OBJECT = {("", "pods")}


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Retry(Exception):
    """The object changed between a dry run and its commit; the write is redone."""


class Event:
    __slots__ = ("rv", "type", "obj", "prev")

    def __init__(self, rv, etype, obj, prev):
        self.rv = rv
        self.type = etype
        self.obj = obj
        self.prev = prev


class History:
    """Events of one resource, oldest first; keeps at least `cap` of them."""

    def __init__(self, cap):
        self.cap = cap
        self.rvs = []
        self.events = []
        self.floor = 0      # events with rv <= floor are gone

    def append(self, ev):
        self.rvs.append(ev.rv)
        self.events.append(ev)
        if len(self.events) > 2 * self.cap:
            cut = len(self.events) - self.cap
            self.floor = self.rvs[cut - 1]
            del self.rvs[:cut]
            del self.events[:cut]

    def since(self, rv):
        return self.events[bisect.bisect_right(self.rvs, rv):]

    def compact(self, rv):
        cut = bisect.bisect_right(self.rvs, rv)
        del self.rvs[:cut]
        del self.events[:cut]
        self.floor = max(self.floor, rv)


def _key_str(key):
    ns, name = key
    return ns + "/" + name if ns else name


def _meta(obj):
    return obj.get("metadata") or {}


class Store:
    def __init__(self, registry, history_size=20000):
        self.registry = registry
        self.history_size = history_size
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        # Watchers of a resource wait on its own condition (all share self.lock), so
        # a write wakes the watchers of its resource only.
        self.watch_conds = {}      # (group, plural) -> Condition
        self.gc_cond = threading.Condition(self.lock)       # the GC thread waits here
        self.rv = 1
        self.encoded_cache = {}    # id(obj) -> [obj, JSON bytes or None]
        self.objects = {}          # (group, plural) -> {(ns, name): obj}
        self.histories = {}        # (group, plural) -> History
        self.last_write = {}       # (group, plural) -> rv of the last change
        self.compacted = 0
        self.owner_index = {}      # owner uid -> {((group, plural), key)}
        self.uid_index = {}        # uid -> ((group, plural), key)
        self.gc_queue = collections.deque()
        self.stopping = False
        self.rng = random.Random()
        self._gc_thread = threading.Thread(target=self._gc_loop, name="gc", daemon=True)
        self._gc_thread.start()

    # --- plumbing -------------------------------------------------------
    def stop(self):
        with self.cond:
            self.stopping = True
            self.cond.notify_all()
            for c in self.watch_conds.values():
                c.notify_all()
            self.gc_cond.notify_all()

    def current_rv(self):
        with self.lock:
            return self.rv

    def _bucket(self, res):
        return self.objects.setdefault(res.key, {})

    def _history(self, res_key):
        h = self.histories.get(res_key)
        if h is None:
            h = self.histories[res_key] = History(self.history_size)
            h.floor = self.compacted
        return h

    def _index(self, res_key, key, old, new):
        if old is not None:
            m = _meta(old)
            self.uid_index.pop(m.get("uid"), None)
            for ref in m.get("ownerReferences") or []:
                s = self.owner_index.get(ref.get("uid"))
                if s is not None:
                    s.discard((res_key, key))
                    if not s:
                        del self.owner_index[ref.get("uid")]
        if new is not None:
            m = _meta(new)
            self.uid_index[m.get("uid")] = (res_key, key)
            for ref in m.get("ownerReferences") or []:
                self.owner_index.setdefault(ref.get("uid"), set()).add((res_key, key))

    def _commit(self, res_key, key, old, new, etype):
        """Stores `new` (or removes the object when etype is DELETED) at a new revision."""
        self.rv += 1
        rv = self.rv
        bucket = self.objects.setdefault(res_key, {})
        if etype == "DELETED":
            gone = dict(old)
            gone["metadata"] = dict(_meta(old), resourceVersion=str(rv))
            bucket.pop(key, None)
            self._index(res_key, key, old, None)
            ev = Event(rv, "DELETED", gone, old)
            result = gone
            uid = _meta(old).get("uid")
            if uid and uid in self.owner_index:
                self.gc_queue.append(("owner-gone", uid))
                self.gc_cond.notify()
        else:
            new["metadata"]["resourceVersion"] = str(rv)
            bucket[key] = new
            self._index(res_key, key, old, new)
            ev = Event(rv, etype, new, old)
            result = new
        self._history(res_key).append(ev)
        self.last_write[res_key] = rv
        c = self.watch_conds.get(res_key)
        if c is not None:
            c.notify_all()
        self._remember_committed(result)
        return result

    def _watch_cond(self, res_key):
        c = self.watch_conds.get(res_key)
        if c is None:
            c = self.watch_conds[res_key] = threading.Condition(self.lock)
        return c

    # --- encoded objects ------------------------------------------------
    # Stored objects are never modified, so the JSON of a recently committed object
    # is made once and shared by the write's response, every watcher's event and
    # GETs. Keyed by id; the entry keeps the object alive so the id is not reused.
    _ENCODED_MAX = 4096

    def _remember_committed(self, obj):
        enc = self.encoded_cache
        enc[id(obj)] = [obj, None]
        if len(enc) > self._ENCODED_MAX:
            for k in list(itertools.islice(enc, len(enc) - self._ENCODED_MAX)):
                del enc[k]

    def encode(self, obj):
        """The compact JSON (bytes) of obj, shared when obj is a committed object."""
        e = self.encoded_cache.get(id(obj))
        if e is None or e[0] is not obj:
            return json.dumps(obj, separators=(",", ":")).encode()
        data = e[1]
        if data is None:
            data = e[1] = json.dumps(obj, separators=(",", ":")).encode()
        return data

    # --- reads ----------------------------------------------------------
    def get(self, res, ns, name):
        with self.lock:
            obj = self._bucket(res).get((ns, name))
        if obj is None:
            raise kstatus.not_found(res.plural, res.group, name)
        return obj

    def _matching(self, res, objs, ns, lreqs, freqs):
        out = []
        for key in sorted(objs, key=_key_str):
            if ns and key[0] != ns:
                continue
            o = objs[key]
            if lreqs and not kselectors.labels_match(lreqs, _meta(o).get("labels")):
                continue
            if freqs and not kselectors.fields_match(freqs, o):
                continue
            out.append((key, o))
        return out

    def _state_at(self, res, rv):
        """The objects of res as they were at revision rv (None when too old)."""
        h = self._history(res.key)
        if rv < h.floor:
            return None
        state = dict(self._bucket(res))
        for ev in reversed(h.since(rv)):
            key = (_meta(ev.obj).get("namespace", ""), _meta(ev.obj).get("name"))
            if ev.type == "ADDED":
                state.pop(key, None)
            else:
                state[key] = ev.prev
        return state

    def list(self, res, ns, lreqs, freqs, limit=0, cont=None, rv_exact=None):
        """(items, list rv, continue token, remaining count or None)."""
        with self.lock:
            start = None
            if cont:
                list_rv, start = _decode_continue(cont)
                if list_rv >= self.last_write.get(res.key, 0):
                    objs = self._bucket(res)
                else:
                    objs = self._state_at(res, list_rv)
                    if objs is None:
                        raise kstatus.gone_expired(
                            "The provided continue parameter is too old to display a "
                            "consistent list result. You can start a new list without the "
                            "continue parameter, or use the continue token in this response "
                            "to retrieve the remainder of the results. Continuing with the "
                            "provided token results in an inconsistent list - objects that "
                            "were created, modified, or deleted between the time the first "
                            "chunk was returned and now may show up in the list.")
            elif rv_exact is not None:
                list_rv = rv_exact
                objs = self._state_at(res, rv_exact)
                if objs is None:
                    raise kstatus.gone_expired("too old resource version: %d (%d)"
                                               % (rv_exact, self._history(res.key).floor + 1))
            else:
                list_rv = self.rv
                objs = self._bucket(res)
            if ns or lreqs or freqs or start is not None:
                items = self._matching(res, objs, ns, lreqs, freqs)
            else:
                items = [(k, objs[k]) for k in sorted(objs, key=_key_str)]
        if start is not None:
            # Items are in key order ("ns/name", as etcd keys): resume after start.
            keys = [_key_str(k) for k, _ in items]
            items = items[bisect.bisect_right(keys, start):]
        token, remaining = "", None
        if limit and len(items) > limit:
            last = items[limit - 1][0]
            token = _encode_continue(list_rv, _key_str(last))
            if not lreqs and not freqs:
                remaining = len(items) - limit
            items = items[:limit]
        return [o for _, o in items], list_rv, token, remaining

    # --- watch ----------------------------------------------------------
    def watch_check(self, res, from_rv):
        """Raises 410 Expired when events after from_rv are no longer kept."""
        with self.lock:
            h = self._history(res.key)
            if from_rv < h.floor:
                raise kstatus.gone_expired("too old resource version: %d (%d)"
                                           % (from_rv, h.floor + 1))

    def watch_wait(self, res, cursor, timeout):
        """Events of res after cursor, waiting up to timeout seconds for one.
        Raises 410 Expired when the watcher fell behind the kept history."""
        with self.lock:
            h = self._history(res.key)
            if cursor < h.floor:
                raise kstatus.gone_expired("too old resource version: %d (%d)"
                                           % (cursor, h.floor + 1))
            evs = h.since(cursor)
            if not evs and not self.stopping and timeout > 0:
                self._watch_cond(res.key).wait(timeout)
                h = self._history(res.key)
                if cursor < h.floor:
                    raise kstatus.gone_expired("too old resource version: %d (%d)"
                                               % (cursor, h.floor + 1))
                evs = h.since(cursor)
            return list(evs), self.rv

    def compact(self, rv=None):
        """Forgets history up to rv (default: now), like etcd compaction."""
        with self.cond:
            rv = self.rv if rv is None else rv
            self.compacted = max(self.compacted, rv)
            for h in self.histories.values():
                h.compact(rv)
            self.cond.notify_all()
            for c in self.watch_conds.values():
                c.notify_all()
            return rv

    # --- write helpers ---------------------------------------------------
    def _require_namespace(self, res, ns, name):
        if not res.namespaced:
            return
        nsobj = self.objects.get(("", "namespaces"), {}).get(("", ns))
        if nsobj is None:
            raise kstatus.not_found("namespaces", "", ns)
        if _meta(nsobj).get("deletionTimestamp"):
            raise kstatus.forbidden(res.plural, res.group, name,
                                    "unable to create new content in namespace %s because it "
                                    "is being terminated" % ns)

    def _check_type(self, res, version, obj, name_in_url=None, ns=""):
        if not isinstance(obj, dict):
            raise kstatus.bad_request("the body of the request is not a JSON object")
        api = obj.get("apiVersion")
        kind = obj.get("kind")
        if api and api not in [res.api_version(v) for v in res.versions]:
            raise kstatus.bad_request("the API version in the data (%s) does not match the "
                                      "expected API version (%s)"
                                      % (api, res.api_version(version)))
        if kind and kind != res.kind:
            raise kstatus.bad_request("the kind in the data (%s) does not match the expected "
                                      "kind (%s)" % (kind, res.kind))
        meta = obj.get("metadata")
        if meta is not None and not isinstance(meta, dict):
            raise kstatus.bad_request("metadata must be an object")
        meta = meta or {}
        if res.namespaced and meta.get("namespace") and ns and meta["namespace"] != ns:
            raise kstatus.bad_request("the namespace of the provided object does not match the "
                                      "namespace sent on the request")
        if name_in_url is not None and meta.get("name") and meta["name"] != name_in_url:
            raise kstatus.bad_request("the name of the object (%s) does not match the name on "
                                      "the URL (%s)" % (meta["name"], name_in_url))

    def _validate(self, res, version, obj, fv=None):
        """Prunes and defaults a custom resource by its schema, then validates;
        returns the object to store or raises 422 Invalid. fv: (fieldValidation
        mode, list collecting warnings) -- unknown fields fail the write under
        Strict (400) and are reported as warnings under Warn."""
        sch = schema.root_for(res, version)
        if sch is not None:
            # Pruning and defaulting in one walk that also finds the unknown fields.
            report = fv is not None and fv[0] in ("Strict", "Warn")
            unknown = [] if report else None
            pruned = schema.prune_default(obj, sch, unknown)
            if report:
                unknown.sort()
                if unknown and fv[0] == "Strict":
                    raise kstatus.bad_request(
                        "%s in version \"%s\" cannot be handled as a %s: strict decoding "
                        "error: %s" % (res.kind, version, res.kind,
                                       ", ".join('unknown field "%s"' % u for u in unknown)))
                fv[1].extend('unknown field "%s"' % u for u in unknown)
            obj = pruned
        causes = validation.metadata_causes(res, obj) + validation.data_key_causes(res, obj)
        if sch is not None:
            schema.fast_validate(obj, sch, "", causes)
        if res.key == ("apiextensions.k8s.io", "customresourcedefinitions"):
            causes.extend(_crd_causes(obj))
        if causes:
            raise kstatus.invalid(res.kind, res.group, _meta(obj).get("name", ""), causes)
        return obj

    def _normalize(self, res, obj):
        """Type-specific decoding checks and defaulting the real registry does on every
        write."""
        problem = validation.decode_problem(res, obj)
        if problem:
            raise kstatus.bad_request(problem)
        if res.key == ("", "secrets"):
            sd = obj.pop("stringData", None)
            if sd:
                data = dict(obj.get("data") or {})
                for k, v in sd.items():
                    data[k] = base64.b64encode(str(v).encode()).decode()
                obj["data"] = data
            obj.setdefault("type", "Opaque")
        if res.key == ("", "services"):
            spec = obj.setdefault("spec", {})
            spec.setdefault("type", "ClusterIP")
            spec.setdefault("sessionAffinity", "None")

    def _content(self, res, obj):
        """The part of an object whose change bumps metadata.generation."""
        return {k: v for k, v in obj.items()
                if k not in ("metadata", "apiVersion", "kind")
                and not (k == "status" and res.status)}

    def _prepare_create(self, res, version, ns, obj):
        obj = fieldmanager.jcopy(obj)
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + "".join(
                self.rng.choice(string.ascii_lowercase + string.digits) for _ in range(5))
        obj["apiVersion"] = res.api_version(version)
        obj["kind"] = res.kind
        if res.namespaced:
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        for k in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds",
                  "selfLink", "managedFields"):
            meta.pop(k, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_rfc3339()
        if res.generation:
            meta["generation"] = 1
        else:
            meta.pop("generation", None)
        if res.status:
            obj.pop("status", None)
        self._normalize(res, obj)
        self._defaults_on_create(res, obj)
        return obj

    def _defaults_on_create(self, res, obj):
        if res.key == ("", "namespaces"):
            obj["spec"] = {"finalizers": ["kubernetes"]}
            obj["status"] = {"phase": "Active"}
            obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = \
                obj["metadata"]["name"]
        elif res.key == ("", "pods"):
            obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
        elif res.key == ("", "services"):
            obj["status"] = {"loadBalancer": {}}
        elif res.key == ("apiextensions.k8s.io", "customresourcedefinitions"):
            obj["status"] = _crd_status(obj)

    def _after_write(self, res, old, new):
        """Registry side effects of a committed write (CRDs)."""
        if res.key == ("apiextensions.k8s.io", "customresourcedefinitions"):
            self.registry.register_crd(new)

    # --- create ---------------------------------------------------------
    def create(self, res, version, ns, obj, manager, dry_run=False, fv=None):
        self._check_type(res, version, obj, ns=ns)
        if _meta(obj).get("resourceVersion"):
            # etcd3's store refuses it with a plain error, which the server answers as 500.
            raise kstatus.internal_error("resourceVersion should not be set on objects to be "
                                         "created")
        with self.lock:
            new = self._prepare_create(res, version, ns, obj)
            new = self._validate(res, version, new, fv)
            name = new["metadata"]["name"]
            self._require_namespace(res, ns, name)
            key = (ns if res.namespaced else "", name)
            if key in self._bucket(res):
                raise kstatus.already_exists(res.plural, res.group, name)
            new["metadata"]["managedFields"] = fieldmanager.record_update(
                None, new, manager, "", new["apiVersion"], new["metadata"]["creationTimestamp"],
                schema.root_for(res, version))
            if not new["metadata"]["managedFields"]:
                del new["metadata"]["managedFields"]
            if dry_run:
                return new
            out = self._commit(res.key, key, None, new, "ADDED")
            self._after_write(res, None, out)
            return out

    # --- update (PUT and every patch type end here) ----------------------
    def _merge_update(self, res, version, old, new, subresource):
        """Applies status-subresource and server-owned-metadata rules to a proposed new
        object; returns the object to store."""
        om = _meta(old)
        if subresource == "status":
            # Only the status of the proposed object is kept: copy just that.
            status = fieldmanager.jcopy(new.get("status"))
            new = fieldmanager.jcopy(old)
            nm = new["metadata"]
            if status is None:
                new.pop("status", None)
            else:
                new["status"] = status
        else:
            new = fieldmanager.jcopy(new)
            new["apiVersion"] = res.api_version(version)
            new["kind"] = res.kind
            nm = new.setdefault("metadata", {})
            if res.status:
                if "status" in old:
                    new["status"] = fieldmanager.jcopy(old["status"])
                else:
                    new.pop("status", None)
        for k in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                  "name", "namespace"):
            if k in om:
                nm[k] = om[k]
            else:
                nm.pop(k, None)
        nm.pop("managedFields", None)
        nm.pop("selfLink", None)
        if res.generation:
            gen = om.get("generation", 1)
            if self._content(res, old) != self._content(res, new):
                gen += 1
            nm["generation"] = gen
        else:
            nm.pop("generation", None)
        self._normalize(res, new)
        if res.key == ("", "namespaces") and subresource != "status":
            new["spec"] = fieldmanager.jcopy(old.get("spec") or {})
        if res.key == ("apiextensions.k8s.io", "customresourcedefinitions") and \
                subresource != "status" and new.get("spec") != old.get("spec"):
            new["status"] = _crd_status(new)
        return new

    def _store_update(self, res, key, old, new, dry_run):
        if new == old:
            return old
        if dry_run:
            return new
        meta = new["metadata"]
        if meta.get("deletionTimestamp") and not meta.get("finalizers") and \
                res.key != ("", "namespaces"):
            out = self._commit(res.key, key, old, new, "DELETED")
            self._after_delete(res, old)
            return out
        out = self._commit(res.key, key, old, new, "MODIFIED")
        self._after_write(res, old, out)
        return out

    def _check_rv(self, res, name, old, proposed_rv, required):
        if proposed_rv in (None, ""):
            if required:
                raise kstatus.invalid(res.kind, res.group, name, [
                    ("metadata.resourceVersion", "FieldValueInvalid",
                     "Invalid value: 0x0: must be specified for an update")])
            return
        if str(proposed_rv) != _meta(old).get("resourceVersion"):
            raise kstatus.conflict(res.plural, res.group, name)

    def update(self, res, version, ns, name, obj, manager, subresource="", dry_run=False,
               fv=None):
        self._check_type(res, version, obj, name_in_url=name, ns=ns)
        key = (ns if res.namespaced else "", name)
        with self.lock:
            old = self._bucket(res).get(key)
            if old is None:
                raise kstatus.not_found(res.plural, res.group, name)
            self._check_rv(res, name, old, _meta(obj).get("resourceVersion"),
                           required=not res.unconditional_update)
            new = self._merge_update(res, version, old, obj, subresource)
            new["metadata"]["resourceVersion"] = _meta(old).get("resourceVersion")
            new = self._validate(res, version, new, fv)
            mf = fieldmanager.record_update(old, new, manager, subresource, new["apiVersion"],
                                            now_rfc3339(), schema.root_for(res, version))
            self._set_mf(new, mf)
            if self._same(old, new):
                return old
            return self._store_update(res, key, old, new, dry_run)

    @staticmethod
    def _set_mf(obj, mf):
        if mf:
            obj["metadata"]["managedFields"] = mf
        else:
            obj["metadata"].pop("managedFields", None)

    @staticmethod
    def _same(old, new):
        """True when a write changes nothing but managedFields timestamps (a no-op)."""
        def norm(o):
            m = dict(_meta(o))
            mf = m.pop("managedFields", None) or []
            m["managedFields"] = [dict(e, time="") for e in mf]
            return dict(o, metadata=m)
        return norm(old) == norm(new)

    def patch(self, res, version, ns, name, ptype, body, manager, force=False,
              subresource="", dry_run=False, fv=None):
        key = (ns if res.namespaced else "", name)
        with self.lock:
            old = self._bucket(res).get(key)
            if ptype == "apply":
                return self._apply(res, version, ns, name, key, old, body, manager, force,
                                   subresource, dry_run, fv)
            if old is None:
                raise kstatus.not_found(res.plural, res.group, name)
            if ptype == "merge":
                if not isinstance(body, dict):
                    raise kstatus.bad_request("json: cannot unmarshal into Go value of type "
                                              "map[string]interface {}")
                proposed = patching.merge_patch(old, body)
            elif ptype == "strategic":
                if not isinstance(body, dict):
                    raise kstatus.bad_request("json: cannot unmarshal into Go value of type "
                                              "map[string]interface {}")
                proposed = patching.strategic_merge_patch(old, body)
            else:
                proposed = patching.json_patch(old, body)
            if not isinstance(proposed, dict):
                raise kstatus.bad_request("the patched object is not a JSON object")
            self._check_type(res, version, proposed, name_in_url=name, ns=ns)
            self._check_rv(res, name, old, _meta(proposed).get("resourceVersion"), False)
            new = self._merge_update(res, version, old, proposed, subresource)
            new["metadata"]["resourceVersion"] = _meta(old).get("resourceVersion")
            new = self._validate(res, version, new, fv)
            mf = fieldmanager.record_update(old, new, manager, subresource, new["apiVersion"],
                                            now_rfc3339(), schema.root_for(res, version))
            self._set_mf(new, mf)
            if self._same(old, new):
                return old, False
            return self._store_update(res, key, old, new, dry_run), False

    def _apply(self, res, version, ns, name, key, old, body, manager, force, subresource,
               dry_run, fv=None):
        if not isinstance(body, dict):
            raise kstatus.bad_request("error decoding YAML: the apply configuration is not "
                                      "an object")
        if not body.get("apiVersion") or not body.get("kind"):
            raise kstatus.bad_request("invalid object type: %s"
                                      % ("apiVersion not set" if not body.get("apiVersion")
                                         else "Object 'Kind' is missing"))
        self._check_type(res, version, body, name_in_url=name, ns=ns)
        if not _meta(body).get("name"):
            body = dict(body, metadata=dict(_meta(body), name=name))
        # Shallow: below the top level, apply copies what it keeps (drop_nulls,
        # _prepare_create), and only the top level and metadata are changed here.
        applied = dict(body)
        applied["metadata"] = dict(_meta(applied))
        applied["metadata"].pop("managedFields", None)
        if res.namespaced:
            applied["metadata"]["namespace"] = ns
        scope = None
        if subresource == "status":
            scope = ("only", "status")
        elif res.status:
            applied.pop("status", None)
            scope = ("not", "status")
        now = now_rfc3339()
        if old is None:
            if subresource == "status":
                raise kstatus.not_found(res.plural, res.group, name)
            self._require_namespace(res, ns, name)
            new = self._prepare_create(res, version, ns, applied)
            new = self._validate(res, version, new, fv)
            merged, mf = fieldmanager.apply(None, fieldmanager.strip_untracked(applied),
                                            manager, force, "", new["apiVersion"], now, scope,
                                            schema.root_for(res, version))
            self._set_mf(new, fieldmanager.refinish(mf, new, schema.root_for(res, version)))
            if dry_run:
                return new, True
            out = self._commit(res.key, key, None, new, "ADDED")
            self._after_write(res, None, out)
            return out, True
        self._check_rv(res, name, old, _meta(applied).get("resourceVersion"), False)
        applied["metadata"].pop("resourceVersion", None)
        try:
            merged, mf = fieldmanager.apply(old, applied, manager, force, subresource,
                                            res.api_version(version), now, scope,
                                            schema.root_for(res, version))
        except fieldmanager.ApplyConflict as e:
            raise kstatus.apply_conflict(e.conflicts) from None
        new = self._merge_update(res, version, old, merged, subresource)
        new["metadata"]["resourceVersion"] = _meta(old).get("resourceVersion")
        new = self._validate(res, version, new, fv)
        self._set_mf(new, fieldmanager.refinish(mf, new, schema.root_for(res, version)))
        if self._same(old, new):
            return old, False
        return self._store_update(res, key, old, new, dry_run), False

    # --- commit of an admitted write -------------------------------------
    def commit_prepared(self, res, ns, name, expected_rv, new, created):
        """Stores `new`, computed by a dry run of the same write and then admitted,
        if the object is still at expected_rv (absent when created). Raises Retry
        when it changed meanwhile."""
        key = (ns if res.namespaced else "", name)
        with self.lock:
            cur = self._bucket(res).get(key)
            if created:
                if cur is not None:
                    raise kstatus.already_exists(res.plural, res.group, name)
                self._require_namespace(res, ns, name)
                new = fieldmanager.jcopy(new)
                new["metadata"].pop("resourceVersion", None)
                out = self._commit(res.key, key, None, new, "ADDED")
                self._after_write(res, None, out)
                return out
            if cur is None:
                raise kstatus.not_found(res.plural, res.group, name)
            if _meta(cur).get("resourceVersion") != expected_rv:
                raise Retry()
            if new is cur:
                return cur
            return self._store_update(res, key, cur, fieldmanager.jcopy(new), False)

    # --- delete ---------------------------------------------------------
    def delete(self, res, ns, name, options, dry_run=False):
        """Returns (http code, body)."""
        key = (ns if res.namespaced else "", name)
        options = options or {}
        with self.lock:
            old = self._bucket(res).get(key)
            if old is None:
                raise kstatus.not_found(res.plural, res.group, name)
            pre = options.get("preconditions") or {}
            m = _meta(old)
            if pre.get("uid") and pre["uid"] != m.get("uid"):
                raise kstatus.conflict(res.plural, res.group, name,
                                       "Precondition failed: UID in precondition: %s, UID in "
                                       "object meta: %s" % (pre["uid"], m.get("uid")))
            if pre.get("resourceVersion") and pre["resourceVersion"] != m.get("resourceVersion"):
                raise kstatus.conflict(res.plural, res.group, name,
                                       "Precondition failed: ResourceVersion in precondition: "
                                       "%s, ResourceVersion in object meta: %s"
                                       % (pre["resourceVersion"], m.get("resourceVersion")))
            policy = options.get("propagationPolicy")
            if not policy and options.get("orphanDependents") is True:
                policy = "Orphan"
            policy = policy or "Background"
            if policy not in ("Background", "Foreground", "Orphan"):
                raise kstatus.invalid("DeleteOptions", "meta.k8s.io", "", [
                    ("propagationPolicy", "FieldValueNotSupported",
                     'Unsupported value: "%s": supported values: "Foreground", "Background", '
                     '"Orphan", "nil"' % policy)])
            finalizers = list(m.get("finalizers") or [])
            if policy == "Foreground" and "foregroundDeletion" not in finalizers:
                finalizers.append("foregroundDeletion")
            if policy == "Orphan" and "orphan" not in finalizers:
                finalizers.append("orphan")
            is_ns = res.key == ("", "namespaces")
            if finalizers or is_ns:
                if m.get("deletionTimestamp") and finalizers == list(m.get("finalizers") or []):
                    return 200, old
                new = fieldmanager.jcopy(old)
                nm = new["metadata"]
                nm.setdefault("deletionTimestamp", now_rfc3339())
                nm.setdefault("deletionGracePeriodSeconds", 0)
                if finalizers:
                    nm["finalizers"] = finalizers
                if is_ns:
                    new["status"] = {"phase": "Terminating"}
                if res.generation:
                    nm["generation"] = nm.get("generation", 1) + 1
                if dry_run:
                    return 200, new
                out = self._commit(res.key, key, old, new, "MODIFIED")
                self.gc_queue.append(("deleting", res.key, key))
                self.gc_cond.notify()
                return 200, out
            if dry_run:
                return 200, old
            out = self._commit(res.key, key, old, None, "DELETED")
            self._after_delete(res, old)
        if res.key in _RETURNS_OBJECT:
            return 200, out
        return 200, kstatus.success_status(
            {"name": name, "group": res.group, "kind": res.plural, "uid": m.get("uid")})

    def delete_collection(self, res, ns, lreqs, freqs, options, dry_run=False):
        items, _, _, _ = self.list(res, ns, lreqs, freqs)
        for o in items:
            try:
                self.delete(res, _meta(o).get("namespace", ""), _meta(o)["name"], options,
                            dry_run)
            except ApiError as e:
                if e.code != 404:
                    raise
        return items

    def _after_delete(self, res, old):
        if res.key == ("apiextensions.k8s.io", "customresourcedefinitions"):
            gone = self.registry.unregister_crd(old)
            if gone is not None:
                for key, obj in list(self.objects.get(gone.key, {}).items()):
                    self._commit(gone.key, key, obj, None, "DELETED")

    # --- garbage collection and namespace termination --------------------
    def _gc_loop(self):
        with self.gc_cond:
            pending = []
            while not self.stopping:
                while self.gc_queue:
                    item = self.gc_queue.popleft()
                    try:
                        if not self._gc_item(item):
                            pending.append(item)
                    except ApiError:
                        pending.append(item)
                self.gc_cond.wait(0.05 if pending else 1.0)
                self.gc_queue.extend(pending)
                pending = []

    def _gc_item(self, item):
        """Processes one GC work item; False to retry it later."""
        if item[0] == "owner-gone":
            uid = item[1]
            for res_key, key in sorted(self.owner_index.get(uid, ())):
                obj = self.objects.get(res_key, {}).get(key)
                if obj is None:
                    continue
                refs = _meta(obj).get("ownerReferences") or []
                alive = [r for r in refs if r.get("uid") != uid and r.get("uid") in self.uid_index]
                if alive:
                    new = fieldmanager.jcopy(obj)
                    new["metadata"]["ownerReferences"] = [r for r in refs if r.get("uid") != uid]
                    self._commit(res_key, key, obj, new, "MODIFIED")
                else:
                    self._gc_delete(res_key, key, obj)
            return True
        _, res_key, key = item
        obj = self.objects.get(res_key, {}).get(key)
        if obj is None or not _meta(obj).get("deletionTimestamp"):
            return True
        fins = list(_meta(obj).get("finalizers") or [])
        uid = _meta(obj).get("uid")
        if "orphan" in fins:
            for dk in sorted(self.owner_index.get(uid, ())):
                dep = self.objects.get(dk[0], {}).get(dk[1])
                if dep is not None:
                    new = fieldmanager.jcopy(dep)
                    new["metadata"]["ownerReferences"] = [
                        r for r in _meta(dep).get("ownerReferences") or [] if r.get("uid") != uid]
                    if not new["metadata"]["ownerReferences"]:
                        del new["metadata"]["ownerReferences"]
                    self._commit(dk[0], dk[1], dep, new, "MODIFIED")
            fins.remove("orphan")
            self._set_finalizers(res_key, key, obj, fins)
            return True
        if "foregroundDeletion" in fins:
            deps = sorted(self.owner_index.get(uid, ()))
            if deps:
                for dk in deps:
                    dep = self.objects.get(dk[0], {}).get(dk[1])
                    if dep is not None and not _meta(dep).get("deletionTimestamp"):
                        self._gc_delete(dk[0], dk[1], dep)
                return False
            fins.remove("foregroundDeletion")
            self._set_finalizers(res_key, key, obj, fins)
            return True
        if res_key == ("", "namespaces"):
            ns = key[1]
            remaining = 0
            for rk, bucket in list(self.objects.items()):
                if rk == ("", "namespaces"):
                    continue
                for k, o in list(bucket.items()):
                    if k[0] == ns:
                        remaining += 1
                        if not _meta(o).get("deletionTimestamp"):
                            self._gc_delete(rk, k, o)
            if remaining:
                return False
            new = fieldmanager.jcopy(obj)
            new["spec"] = {}
            if not _meta(new).get("finalizers"):
                self._commit(res_key, key, obj, new, "DELETED")
            else:
                self._commit(res_key, key, obj, new, "MODIFIED")
            return True
        return True

    def _set_finalizers(self, res_key, key, obj, fins):
        new = fieldmanager.jcopy(obj)
        if fins:
            new["metadata"]["finalizers"] = fins
            self._commit(res_key, key, obj, new, "MODIFIED")
        else:
            new["metadata"].pop("finalizers", None)
            if res_key == ("", "namespaces"):
                self.gc_queue.append(("deleting", res_key, key))
                self._commit(res_key, key, obj, new, "MODIFIED")
            else:
                self._commit(res_key, key, obj, new, "DELETED")
                res = self.registry.get(*res_key)
                if res is not None:
                    self._after_delete(res, obj)
        return True

    def _gc_delete(self, res_key, key, obj):
        """Deletes a dependent in the background, honouring its finalizers."""
        if _meta(obj).get("finalizers"):
            if not _meta(obj).get("deletionTimestamp"):
                new = fieldmanager.jcopy(obj)
                new["metadata"]["deletionTimestamp"] = now_rfc3339()
                new["metadata"]["deletionGracePeriodSeconds"] = 0
                self._commit(res_key, key, obj, new, "MODIFIED")
                self.gc_queue.append(("deleting", res_key, key))
            return
        self._commit(res_key, key, obj, None, "DELETED")
        res = self.registry.get(*res_key)
        if res is not None:
            self._after_delete(res, obj)


def _encode_continue(rv, start):
    tok = {"v": "meta.k8s.io/v1", "rv": rv, "start": start + "\x00"}
    return base64.urlsafe_b64encode(json.dumps(tok, separators=(",", ":")).encode()).decode()


def _decode_continue(tok):
    try:
        pad = "=" * (-len(tok) % 4)
        d = json.loads(base64.urlsafe_b64decode(tok + pad))
        if d.get("v") != "meta.k8s.io/v1" or not isinstance(d.get("rv"), int):
            raise ValueError("bad version")
        start = d["start"]
        if start.endswith("\x00"):
            start = start[:-1]
        return d["rv"], start
    except (ValueError, KeyError, TypeError, AttributeError):
        raise kstatus.bad_request("continue key is not valid: incorrect encoded start "
                                  "resourceVersion (version meta.k8s.io/v1)") from None


def _crd_causes(crd):
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    out = []
    if not spec.get("group"):
        out.append(("spec.group", "FieldValueRequired", "Required value"))
    if not names.get("plural"):
        out.append(("spec.names.plural", "FieldValueRequired", "Required value"))
    if not names.get("kind"):
        out.append(("spec.names.kind", "FieldValueRequired", "Required value"))
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        out.append(("spec.scope", "FieldValueNotSupported",
                    'Unsupported value: "%s": supported values: "Cluster", "Namespaced"'
                    % spec.get("scope", "")))
    versions = spec.get("versions") or []
    if not versions:
        out.append(("spec.versions", "FieldValueInvalid", "Invalid value: must have exactly "
                    "one version marked as storage version"))
    elif sum(1 for v in versions if v.get("storage")) != 1:
        out.append(("spec.versions", "FieldValueInvalid", "Invalid value: must have exactly "
                    "one version marked as storage version"))
    name = (crd.get("metadata") or {}).get("name")
    if names.get("plural") and spec.get("group") and name != \
            "%s.%s" % (names["plural"], spec["group"]):
        out.append(("metadata.name", "FieldValueInvalid",
                    'Invalid value: "%s": must be spec.names.plural+"."+spec.group' % name))
    return out


def _crd_status(crd):
    spec = crd.get("spec") or {}
    names = dict(spec.get("names") or {})
    names.setdefault("singular", (names.get("kind") or "").lower())
    names.setdefault("listKind", (names.get("kind") or "") + "List")
    t = now_rfc3339()
    return {
        "acceptedNames": names,
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
             "message": "no conflicts found", "lastTransitionTime": t},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
             "message": "the initial names have been accepted", "lastTransitionTime": t}],
        "storedVersions": [v["name"] for v in spec.get("versions") or [] if v.get("storage")]}
