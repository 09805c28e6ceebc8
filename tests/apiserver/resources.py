"""The resource registry: built-in kinds, kinds registered by CRDs, discovery.

A Resource says how a kind is served: group, version(s), plural, kind, scope,
verbs, whether it has a status subresource and whether spec writes bump
metadata.generation. Discovery documents (/api, /apis, APIResourceList) and the
small OpenAPI v3 documents kubectl reads before it sends fieldValidation are
built from the registry, so a CRD created at run time shows up everywhere.
"""

import hashlib
import threading

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


class Resource:
    def __init__(self, group, versions, plural, kind, singular, namespaced,
                 short_names=(), status=False, generation=False, builtin=True,
                 categories=(), printer_columns=None, schemas=None):
        self.group = group
        self.versions = list(versions)      # served versions, preferred first
        self.plural = plural
        self.kind = kind
        self.singular = singular
        self.namespaced = namespaced
        self.short_names = list(short_names)
        self.status = status
        self.generation = generation
        self.builtin = builtin
        self.categories = list(categories)
        # PUT without metadata.resourceVersion is allowed for most built-ins; not for
        # Leases (leader election relies on it) and custom resources.
        self.unconditional_update = builtin and plural != "leases"
        self.printer_columns = printer_columns or {}   # version -> additionalPrinterColumns
        self.schemas = schemas or {}                   # version -> openAPIV3Schema

    @property
    def key(self):
        return (self.group, self.plural)

    def api_version(self, version):
        return self.group + "/" + version if self.group else version

    def list_kind(self):
        return self.kind + "List"


def _b(group, version, plural, kind, namespaced, short=(), status=False, generation=False,
       singular=None):
    r = Resource(group, [version], plural, kind, singular or kind.lower(), namespaced,
                 short, status, generation)
    if (group, plural) in _ALL_CATEGORY:
        r.categories = ["all"]
    return r


# Kinds `kubectl get all` shows (the "all" category).
_ALL_CATEGORY = {("", "pods"), ("", "services"), ("apps", "deployments"),
                 ("apps", "statefulsets"), ("apps", "daemonsets"), ("apps", "replicasets"),
                 ("batch", "jobs"), ("batch", "cronjobs")}


BUILTINS = [
    _b("", "v1", "namespaces", "Namespace", False, ["ns"], status=True),
    _b("", "v1", "secrets", "Secret", True),
    _b("", "v1", "configmaps", "ConfigMap", True, ["cm"]),
    _b("", "v1", "services", "Service", True, ["svc"], status=True),
    _b("", "v1", "pods", "Pod", True, ["po"], status=True, generation=True),
    _b("", "v1", "events", "Event", True, ["ev"]),
    _b("", "v1", "serviceaccounts", "ServiceAccount", True, ["sa"]),
    _b("", "v1", "endpoints", "Endpoints", True, ["ep"], singular="endpoints"),
    _b("events.k8s.io", "v1", "events", "Event", True, ["ev"]),
    _b("coordination.k8s.io", "v1", "leases", "Lease", True),
    _b("apps", "v1", "deployments", "Deployment", True, ["deploy"], status=True,
       generation=True),
    _b("apps", "v1", "statefulsets", "StatefulSet", True, ["sts"], status=True,
       generation=True),
    _b("apps", "v1", "daemonsets", "DaemonSet", True, ["ds"], status=True, generation=True),
    _b("apps", "v1", "replicasets", "ReplicaSet", True, ["rs"], status=True, generation=True),
    _b("batch", "v1", "jobs", "Job", True, status=True, generation=True),
    _b("batch", "v1", "cronjobs", "CronJob", True, ["cj"], status=True, generation=True),
    _b("", "v1", "nodes", "Node", False, ["no"], status=True),
    _b("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, ["pvc"],
       status=True),
    _b("", "v1", "resourcequotas", "ResourceQuota", True, ["quota"], status=True),
    _b("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True, ["netpol"],
       generation=True),
    _b("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ["pdb"],
       status=True, generation=True),
    _b("rbac.authorization.k8s.io", "v1", "roles", "Role", True),
    _b("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True),
    _b("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
    _b("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False),
    _b("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations",
       "ValidatingWebhookConfiguration", False, generation=True),
    _b("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations",
       "MutatingWebhookConfiguration", False, generation=True),
    _b("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
       False, ["crd", "crds"], status=True, generation=True),
]


def _hash(text):
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Registry:
    """Thread-safe map of served resources. Built-ins are fixed; CRDs come and go."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by_key = {}
        for r in BUILTINS:
            self._by_key[r.key] = r

    def all(self):
        with self._lock:
            return list(self._by_key.values())

    def get(self, group, plural):
        with self._lock:
            return self._by_key.get((group, plural))

    def lookup(self, group, version, plural):
        """The resource served at group/version/plural, or None."""
        r = self.get(group, plural)
        if r is None or version not in r.versions:
            return None
        return r

    def by_kind(self, group, kind):
        with self._lock:
            for r in self._by_key.values():
                if r.group == group and r.kind == kind:
                    return r
        return None

    # --- CRDs -----------------------------------------------------------
    def register_crd(self, crd):
        """Registers (or re-registers) the kind a CustomResourceDefinition declares."""
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        versions = [v for v in (spec.get("versions") or []) if v.get("served", True)]
        # The storage version first (as kube-apiserver's preferred version), then the rest.
        versions.sort(key=lambda v: 0 if v.get("storage") else 1)
        if not versions or not names.get("plural") or not names.get("kind"):
            return None
        status = any(((v.get("subresources") or {}).get("status") is not None)
                     for v in versions) or \
            ((spec.get("subresources") or {}).get("status") is not None)
        cols = {v["name"]: v.get("additionalPrinterColumns") or [] for v in versions}
        schemas = {v["name"]: ((v.get("schema") or {}).get("openAPIV3Schema") or {})
                   for v in versions}
        r = Resource(spec.get("group", ""), [v["name"] for v in versions], names["plural"],
                     names["kind"], names.get("singular") or names["kind"].lower(),
                     spec.get("scope", "Namespaced") == "Namespaced",
                     names.get("shortNames") or [], status=status, generation=True,
                     builtin=False, categories=names.get("categories") or [],
                     printer_columns=cols, schemas=schemas)
        with self._lock:
            self._by_key[r.key] = r
        return r

    def unregister_crd(self, crd):
        spec = crd.get("spec") or {}
        key = (spec.get("group", ""), (spec.get("names") or {}).get("plural"))
        with self._lock:
            r = self._by_key.get(key)
            if r is not None and not r.builtin:
                del self._by_key[key]
                return r
        return None

    # --- discovery ------------------------------------------------------
    def group_versions(self):
        """{group: [versions, preferred first]} over every served resource."""
        out = {}
        for r in self.all():
            vs = out.setdefault(r.group, [])
            for v in r.versions:
                if v not in vs:
                    vs.append(v)
        return out

    def api_versions(self, server_address):
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                "serverAddress": server_address}]}

    def api_group(self, group):
        vs = self.group_versions().get(group)
        if not vs or not group:
            return None
        gvs = [{"groupVersion": group + "/" + v, "version": v} for v in vs]
        return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": gvs,
                "preferredVersion": gvs[0]}

    def api_group_list(self):
        groups = []
        for g in sorted(k for k in self.group_versions() if k):
            ag = self.api_group(g)
            del ag["kind"]
            del ag["apiVersion"]
            groups.append(ag)
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def resource_list(self, group, version):
        rs = [r for r in self.all() if r.group == group and version in r.versions]
        if not rs:
            return None
        out = []
        for r in sorted(rs, key=lambda x: x.plural):
            e = {"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
                 "kind": r.kind, "verbs": list(VERBS),
                 "storageVersionHash": _hash(r.api_version(version) + r.kind)}
            if r.short_names:
                e["shortNames"] = list(r.short_names)
            if r.categories:
                e["categories"] = list(r.categories)
            out.append(e)
            if r.status:
                out.append({"name": r.plural + "/status", "singularName": "",
                            "namespaced": r.namespaced, "kind": r.kind,
                            "verbs": ["get", "patch", "update"]})
        gv = group + "/" + version if group else version
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
                "resources": out}

    # --- OpenAPI v3 (only what clients probe) ----------------------------
    @staticmethod
    def _openapi_key(group, version):
        return "api/" + version if not group else "apis/%s/%s" % (group, version)

    def openapi_v3_root(self):
        paths = {}
        for g, vs in self.group_versions().items():
            for v in vs:
                doc_hash = _hash(repr(self._gv_resources(g, v)))
                paths[self._openapi_key(g, v)] = {
                    "serverRelativeURL": "/openapi/v3/%s?hash=%s"
                    % (self._openapi_key(g, v), doc_hash)}
        return {"paths": paths}

    def _gv_resources(self, group, version):
        return sorted((r.plural, r.kind, r.namespaced, r.status)
                      for r in self.all() if r.group == group and version in r.versions)

    def openapi_v3_doc(self, key):
        """The OpenAPI v3 document of one group-version: one path per resource with
        its operations tagged x-kubernetes-group-version-kind and the query parameters
        the server honours (kubectl checks fieldValidation on PATCH), plus the CRD
        schemas. Returns None for an unknown group-version."""
        parts = key.split("/")
        if len(parts) == 2 and parts[0] == "api":
            group, version = "", parts[1]
        elif len(parts) == 3 and parts[0] == "apis":
            group, version = parts[1], parts[2]
        else:
            return None
        rs = [r for r in self.all() if r.group == group and version in r.versions]
        if not rs:
            return None
        params = [{"name": n, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
                  for n in ("dryRun", "fieldManager", "fieldValidation", "force", "pretty")]
        paths = {}
        schemas = {}
        prefix = "/api/" + version if not group else "/apis/%s/%s" % (group, version)
        for r in rs:
            gvk = {"group": group, "version": version, "kind": r.kind}
            base = prefix + ("/namespaces/{namespace}/" if r.namespaced else "/") + r.plural
            op = {"x-kubernetes-group-version-kind": gvk, "parameters": params,
                  "responses": {"200": {"description": "OK"}}}
            paths[base + "/{name}"] = {
                "get": dict(op, operationId="read" + r.kind),
                "put": dict(op, operationId="replace" + r.kind),
                "patch": dict(op, operationId="patch" + r.kind),
                "delete": dict(op, operationId="delete" + r.kind)}
            paths[base] = {"get": dict(op, operationId="list" + r.kind),
                           "post": dict(op, operationId="create" + r.kind)}
            if r.status:
                paths[base + "/{name}/status"] = {
                    "patch": dict(op, operationId="patch" + r.kind + "Status")}
            name = ".".join(reversed(group.split("."))) + "." + version + "." + r.kind \
                if group else "io.k8s.api.core." + version + "." + r.kind
            sch = dict(r.schemas.get(version) or {"type": "object"})
            sch["x-kubernetes-group-version-kind"] = [gvk]
            schemas[name] = sch
        return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "unversioned"},
                "paths": paths, "components": {"schemas": schemas}}
