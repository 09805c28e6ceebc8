#!/usr/bin/env python3
"""Least-privilege check of the chart's rendered RBAC.

Usage: check_rbac.py RENDERED.yaml RELEASE_NAMESPACE BUNDLE_NAMESPACE...

Each Role/ClusterRole belongs to one component (label
app.kubernetes.io/component). A rule fails the check when it grants "*"
anywhere, or any (apiGroup, resource, verb) the component does not need, or
when a grant that must be narrow is not: certgen's Secret access only in the
release namespace and (except create) only by name, its webhook-configuration
access only by name; leases only in the release namespace; the webhook's
ConfigMap reads only in the bundle namespaces. Every binding must bind a
component's role to that component's own ServiceAccount. Prints one line per
finding; exit status 1 when there is any.
"""
import sys

import yaml

READ = {"get", "list", "watch"}
WRITE_ENVOY = READ | {"create", "patch", "delete"}
POLICIES = ("airoutingpolicies", "aiaccesspolicies")

# component -> {(apiGroup, resource): allowed verbs}. Anything absent is denied.
NEEDS = {
    "webhook": {
        ("", "secrets"): {"get"},
        ("", "services"): {"get"},
        ("", "namespaces"): READ,
        ("", "configmaps"): {"get"},
        ("gateway.networking.k8s.io", "gateways"): {"get"},
        **{("aigateway.kagenti.dev", r): READ for r in POLICIES},
    },
    "reconciler": {
        **{("aigateway.kagenti.dev", r): READ | {"patch"} for r in POLICIES},
        **{("aigateway.kagenti.dev", r + "/status"): {"get", "patch", "update"} for r in POLICIES},
        **{("aigateway.kagenti.dev", r + "/finalizers"): {"update"} for r in POLICIES},
        ("gateway.networking.k8s.io", "gateways"): READ | {"patch"},
        **{("aigateway.envoyproxy.io", r): WRITE_ENVOY
           for r in ("aigatewayroutes", "aiservicebackends", "backendsecuritypolicies")},
        **{("gateway.envoyproxy.io", r): WRITE_ENVOY
           for r in ("backends", "backendtrafficpolicies", "clienttrafficpolicies")},
        ("", "secrets"): WRITE_ENVOY,
        ("", "configmaps"): WRITE_ENVOY,
        ("", "services"): READ,
        ("", "events"): {"create", "patch"},
        ("events.k8s.io", "events"): {"create", "patch"},
        ("coordination.k8s.io", "leases"): {"get", "create", "update"},
    },
    "certgen": {
        ("", "secrets"): {"create", "get", "update"},
        ("admissionregistration.k8s.io", "validatingwebhookconfigurations"): {"get", "patch"},
        ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"): {"get", "patch"},
    },
}


def check(docs, release_ns, bundle_ns):
    errors = []
    roles = {}
    sas = {}
    for d in docs:
        kind, meta = d.get("kind"), d.get("metadata", {})
        comp = meta.get("labels", {}).get("app.kubernetes.io/component")
        if kind == "ServiceAccount":
            sas[(meta.get("namespace"), meta["name"])] = comp
        if kind not in ("Role", "ClusterRole"):
            continue
        where = "%s %s%s" % (kind, meta.get("namespace", "") + "/" if kind == "Role" else "", meta["name"])
        roles[(kind, meta.get("namespace") if kind == "Role" else None, meta["name"])] = comp
        if comp not in NEEDS:
            errors.append("%s: unknown component %r" % (where, comp))
            continue
        if d.get("aggregationRule"):
            errors.append("%s: aggregationRule grants what other roles grant" % where)
        for i, rule in enumerate(d.get("rules") or []):
            at = "%s rules[%d]" % (where, i)
            if rule.get("nonResourceURLs"):
                errors.append("%s: nonResourceURLs %s" % (at, rule["nonResourceURLs"]))
            for field in ("apiGroups", "resources", "verbs", "resourceNames"):
                if "*" in (rule.get(field) or []) or any("*" in str(x) for x in rule.get(field) or []):
                    errors.append("%s: %s grants *" % (at, field))
            names = rule.get("resourceNames") or []
            for g in rule.get("apiGroups") or []:
                for r in rule.get("resources") or []:
                    allowed = NEEDS[comp].get((g, r))
                    for v in rule.get("verbs") or []:
                        if allowed is None or v not in allowed:
                            errors.append("%s: component %s does not need %s on %s" % (at, comp, v, (g or "core") + "/" + r))
                    if comp == "certgen":
                        if kind != "Role" and r == "secrets":
                            errors.append("%s: certgen Secret access must be a Role" % at)
                        if r == "secrets" and meta.get("namespace") != release_ns:
                            errors.append("%s: certgen Secret access outside the release namespace" % at)
                        if set(rule.get("verbs") or []) - {"create"} and not names:
                            errors.append("%s: certgen %s on %s not limited by resourceNames" % (at, rule["verbs"], r))
                        if "create" in (rule.get("verbs") or []) and names:
                            errors.append("%s: create cannot be limited by resourceNames" % at)
                    if r == "leases" and (kind != "Role" or meta.get("namespace") != release_ns):
                        errors.append("%s: leases outside the release namespace" % at)
                    if comp == "webhook" and r == "configmaps" and (kind != "Role" or meta.get("namespace") not in bundle_ns):
                        errors.append("%s: webhook reads ConfigMaps outside the bundle namespaces" % at)
    for d in docs:
        kind, meta = d.get("kind"), d.get("metadata", {})
        if kind not in ("RoleBinding", "ClusterRoleBinding"):
            continue
        where = "%s %s" % (kind, meta["name"])
        ref = d["roleRef"]
        key = (ref["kind"], meta.get("namespace") if ref["kind"] == "Role" else None, ref["name"])
        comp = roles.get(key)
        if comp is None:
            errors.append("%s: binds %s %s that the chart does not define" % (where, ref["kind"], ref["name"]))
            continue
        for s in d.get("subjects") or []:
            if s.get("kind") != "ServiceAccount":
                errors.append("%s: subject %s %s" % (where, s.get("kind"), s.get("name")))
            elif sas.get((s.get("namespace"), s.get("name"))) != comp:
                errors.append("%s: gives %s's role to ServiceAccount %s/%s of another component"
                              % (where, comp, s.get("namespace"), s.get("name")))
    return errors, len(roles)


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[0]) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    errors, n = check(docs, argv[1], set(argv[2:]))
    for e in errors:
        print("RBAC:", e)
    if n == 0:
        print("RBAC: no Role or ClusterRole in", argv[0])
        return 1
    print("rbac: %d roles checked, %d findings" % (n, len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
