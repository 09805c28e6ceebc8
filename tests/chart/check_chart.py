#!/usr/bin/env python3
"""Checks the chart's rendered manifests against the contract of DESIGN §6-§7.

Usage: check_chart.py MODE RENDERED.yaml RELEASE_NAMESPACE
MODE is certgen (default values) or cert-manager (certManager.enabled=true).
Prints one line per failed expectation and exits 1 when there is any; prints
the number of checks otherwise.
"""
import sys

import yaml

failures = []
checks = 0


def expect(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)


def find(docs, kind, name=None, component=None):
    out = []
    for d in docs:
        if d.get("kind") != kind:
            continue
        m = d["metadata"]
        if name is not None and m["name"] != name:
            continue
        if component is not None and m.get("labels", {}).get("app.kubernetes.io/component") != component:
            continue
        out.append(d)
    return out


def one(docs, kind, **kw):
    found = find(docs, kind, **kw)
    expect(len(found) == 1, "exactly one %s %s, found %d" % (kind, kw, len(found)))
    return found[0] if found else {}


def flag(args, name):
    """The value after NAME in an argument list (flags are rendered as two tokens)."""
    for i, a in enumerate(args[:-1]):
        if a == name:
            return args[i + 1]
    return None


def hardened(pod, where):
    psc = pod.get("securityContext", {})
    expect(psc.get("runAsNonRoot") is True, where + ": pod runAsNonRoot")
    expect(psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", where + ": pod seccomp RuntimeDefault")
    for c in pod.get("containers", []):
        sc = c.get("securityContext", {})
        at = "%s container %s" % (where, c["name"])
        expect(sc.get("readOnlyRootFilesystem") is True, at + ": readOnlyRootFilesystem")
        expect(sc.get("allowPrivilegeEscalation") is False, at + ": allowPrivilegeEscalation false")
        expect(sc.get("capabilities", {}).get("drop") == ["ALL"], at + ": drop ALL")
        expect(sc.get("runAsNonRoot") is True, at + ": runAsNonRoot")
        expect(sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", at + ": seccomp RuntimeDefault")
        res = c.get("resources", {})
        expect("requests" in res and "memory" in res.get("limits", {}), at + ": requests and a memory limit")


def deployment(docs, component, replicas, args_prefix, ns):
    d = one(docs, "Deployment", component=component)
    spec = d.get("spec", {})
    pod = spec.get("template", {}).get("spec", {})
    where = "Deployment " + d.get("metadata", {}).get("name", "?")
    expect(spec.get("replicas") == replicas, "%s: replicas %s" % (where, replicas))
    hardened(pod, where)
    aa = pod.get("affinity", {}).get("podAntiAffinity", {})
    expect(bool(aa), where + ": pod anti-affinity")
    c = pod.get("containers", [{}])[0]
    args = c.get("args", [])
    expect(args[:len(args_prefix)] == args_prefix, "%s: args start %s, got %s" % (where, args_prefix, args))
    expect("--kubeconfig" not in " ".join(args), where + ": in-cluster config, no --kubeconfig")
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        g = c.get(probe, {}).get("httpGet", {})
        expect(g.get("path") == path and g.get("port") == "metrics", "%s: %s on %s of the metrics port" % (where, probe, path))
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    expect(ports.get("metrics") == 8080, where + ": metrics port 8080")
    expect(d["metadata"].get("namespace") == ns, where + ": in the release namespace")
    pdb = one(docs, "PodDisruptionBudget", component=component)
    expect(pdb.get("spec", {}).get("minAvailable") == 1, where + ": PDB minAvailable 1")
    expect(pdb.get("spec", {}).get("selector", {}).get("matchLabels") == spec.get("selector", {}).get("matchLabels"),
           where + ": PDB selects the Deployment's pods")
    return d, pod, c


def main(argv):
    mode, path, ns = argv
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    excluded = {"kube-system", "kube-public", "kube-node-lease", ns}

    # serve
    d, pod, c = deployment(docs, "webhook", 2, ["serve", "--listen", ":9443", "--tls-cert", "/tls/tls.crt",
                                                 "--tls-key", "/tls/tls.key", "--metrics-listen", ":8080",
                                                 "--injector-config", "/etc/aigw/injector.yaml"], ns)
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    tls_secret = vols.get("tls", {}).get("secret", {}).get("secretName")
    expect(tls_secret is not None, "serve mounts the TLS Secret")
    file_mode = vols.get("tls", {}).get("secret", {}).get("defaultMode", 0o644)
    psc = pod.get("securityContext", {})
    readable = file_mode & 0o004 or (file_mode & 0o040 and psc.get("fsGroup") is not None) or psc.get("runAsUser") == 0
    expect(bool(readable), "the non-root serve user can read the TLS key (defaultMode %o, fsGroup %s)" % (file_mode, psc.get("fsGroup")))
    cm_name = vols.get("injector-config", {}).get("configMap", {}).get("name")
    cm = one(docs, "ConfigMap", name=cm_name)
    expect("injector.yaml" in cm.get("data", {}), "injector ConfigMap holds injector.yaml")
    icfg = yaml.safe_load(cm.get("data", {}).get("injector.yaml", "")) or {}
    expect(isinstance(icfg, dict), "injector.yaml is a YAML map")
    expect(icfg.get("ownNamespace") == ns, "injector.yaml: ownNamespace is the release namespace")
    expect(icfg.get("nativeSidecars") in ("auto", "true", "false"), "injector.yaml: nativeSidecars set")
    expect(any(p["name"] == "https" and p["containerPort"] == 9443 for p in c.get("ports", [])), "serve listens on 9443")

    # reconcile
    deployment(docs, "reconciler", 2, ["reconcile", "--lease-namespace", ns, "--metrics-listen", ":8080"], ns)

    # Service 443 -> 9443
    svc = one(docs, "Service", name=d["metadata"]["name"])
    ports = svc.get("spec", {}).get("ports", [])
    expect(len(ports) == 1 and ports[0]["port"] == 443 and ports[0]["targetPort"] == "https", "webhook Service 443 -> https (9443)")
    expect(svc.get("spec", {}).get("selector") == d["spec"]["selector"]["matchLabels"], "webhook Service selects the serve pods")

    # webhook configurations
    vwc = one(docs, "ValidatingWebhookConfiguration")
    mwc = one(docs, "MutatingWebhookConfiguration")
    for cfg in (vwc, mwc):
        for w in cfg.get("webhooks", []):
            at = "%s %s" % (cfg["kind"], w["name"])
            expect(w.get("sideEffects") == "None", at + ": sideEffects None")
            expect(w.get("admissionReviewVersions") == ["v1"], at + ": admissionReviewVersions [v1]")
            s = w.get("clientConfig", {}).get("service", {})
            expect(s.get("name") == svc["metadata"]["name"] and s.get("namespace") == ns and s.get("port") == 443,
                   at + ": calls the webhook Service on 443")
            sel = w.get("namespaceSelector", {}).get("matchExpressions", [])
            notin = [e for e in sel if e["key"] == "kubernetes.io/metadata.name" and e["operator"] == "NotIn"]
            expect(len(notin) == 1 and excluded <= set(notin[0]["values"]), at + ": excludes %s" % sorted(excluded))
            expect("caBundle" not in w.get("clientConfig", {}),
                   at + ": the chart never writes caBundle itself")
    (vw,) = vwc.get("webhooks", [{}])
    expect(vw.get("failurePolicy") == "Fail" and vw.get("timeoutSeconds") == 5, "validating: Fail, 5 s")
    expect(vw.get("clientConfig", {}).get("service", {}).get("path") == "/validate", "validating: path /validate")
    expect(vw.get("rules") == [{"apiGroups": ["aigateway.kagenti.dev"], "apiVersions": ["v1alpha1"],
                                "operations": ["CREATE", "UPDATE"],
                                "resources": ["airoutingpolicies", "aiaccesspolicies"], "scope": "Namespaced"}],
           "validating: only the two policies, CREATE and UPDATE")
    (mw,) = mwc.get("webhooks", [{}])
    expect(mw.get("failurePolicy") == "Fail" and mw.get("timeoutSeconds") == 3, "mutating: Fail by default, 3 s")
    expect(mw.get("reinvocationPolicy") == "IfNeeded", "mutating: reinvocationPolicy IfNeeded")
    expect(mw.get("clientConfig", {}).get("service", {}).get("path") == "/mutate-pods", "mutating: path /mutate-pods")
    expect(mw.get("rules") == [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"],
                                "resources": ["pods"], "scope": "Namespaced"}], "mutating: pods CREATE only")
    expect({"key": "aigateway.kagenti.dev/inject", "operator": "In", "values": ["enabled"]}
           in mw.get("namespaceSelector", {}).get("matchExpressions", []), "mutating: opt-in namespace label")
    expect(mw.get("objectSelector", {}).get("matchExpressions") ==
           [{"key": "aigateway.kagenti.dev/inject", "operator": "NotIn", "values": ["disabled"]}],
           "mutating: objectSelector skips opted-out pods")

    # exactly one caBundle writer
    jobs = find(docs, "Job", component="certgen")
    certgen_objs = [x for x in docs if x["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "certgen"]
    inject = [cfg["metadata"].get("annotations", {}).get("cert-manager.io/inject-ca-from") for cfg in (vwc, mwc)]
    if mode == "certgen":
        expect(inject == [None, None], "certgen mode: no cert-manager annotation")
        expect(not find(docs, "Certificate") and not find(docs, "Issuer"), "certgen mode: no cert-manager objects")
        byverb = {}
        for j in jobs:
            args = j["spec"]["template"]["spec"]["containers"][0]["args"]
            byverb[args[1]] = (j, args)
            hardened(j["spec"]["template"]["spec"], "Job " + j["metadata"]["name"])
        expect(sorted(byverb) == ["create", "patch"], "certgen: one create and one patch Job, got %s" % sorted(byverb))
        if "create" in byverb and "patch" in byverb:
            cj, cargs = byverb["create"]
            pj, pargs = byverb["patch"]
            expect(cj["metadata"]["annotations"].get("helm.sh/hook") == "pre-install,pre-upgrade", "create Job: pre-install,pre-upgrade hook")
            expect(pj["metadata"]["annotations"].get("helm.sh/hook") == "post-install,post-upgrade", "patch Job: post-install,post-upgrade hook")
            expect(flag(cargs, "--secret-name") == tls_secret and flag(pargs, "--secret-name") == tls_secret,
                   "certgen Jobs write and read the Secret serve mounts")
            expect(flag(cargs, "--namespace") == ns and flag(pargs, "--namespace") == ns, "certgen: release namespace")
            expect(flag(cargs, "--service-name") == svc["metadata"]["name"], "certgen create: SANs of the webhook Service")
            expect(flag(pargs, "--validating-webhook") == vwc["metadata"]["name"] and
                   flag(pargs, "--mutating-webhook") == mwc["metadata"]["name"], "certgen patch: both configurations by name")
            job_weight = min(int(j["metadata"]["annotations"].get("helm.sh/hook-weight", "0")) for j in jobs)
            sa_name = cj["spec"]["template"]["spec"].get("serviceAccountName")
            for x in certgen_objs:
                if x["kind"] == "Job":
                    continue
                a = x["metadata"].get("annotations", {})
                at = "%s %s" % (x["kind"], x["metadata"]["name"])
                expect(set(a.get("helm.sh/hook", "").split(",")) == {"pre-install", "pre-upgrade", "post-install", "post-upgrade"},
                       at + ": a hook for every certgen Job event")
                expect(int(a.get("helm.sh/hook-weight", "0")) < job_weight, at + ": hook weight below the Jobs'")
            expect(any(x["kind"] == "ServiceAccount" and x["metadata"]["name"] == sa_name for x in certgen_objs),
                   "certgen Jobs run as the certgen hook ServiceAccount")
    else:
        want = "%s/%s" % (ns, "?")
        certs = find(docs, "Certificate")
        serving = [x for x in certs if x["spec"].get("secretName") == tls_secret]
        expect(len(serving) == 1, "cert-manager mode: one Certificate for the Secret serve mounts")
        if serving:
            want = "%s/%s" % (ns, serving[0]["metadata"]["name"])
            names = set(serving[0]["spec"].get("dnsNames", []))
            sname = svc["metadata"]["name"]
            expect({sname, "%s.%s" % (sname, ns), "%s.%s.svc" % (sname, ns), "%s.%s.svc.cluster.local" % (sname, ns)} <= names,
                   "serving Certificate covers the Service's DNS names")
        expect(inject == [want, want], "both configurations: cert-manager.io/inject-ca-from %s, got %s" % (want, inject))
        expect(not certgen_objs, "cert-manager mode: no certgen Jobs, ServiceAccount or RBAC (one caBundle writer)")
        expect(find(docs, "Issuer"), "cert-manager mode: an Issuer")

    for f in failures:
        print("CHART:", f)
    print("chart (%s): %d checks, %d failed" % (mode, checks, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
