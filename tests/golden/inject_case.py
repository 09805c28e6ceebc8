#!/usr/bin/env python3
"""Runs one injector golden case through `aigw inject`, both ways.

  inject_case.py AIGW CASE.in.yaml OUTDIR [--check CONFORMANCE_RUN]

Writes into OUTDIR:
  <case>.out.yaml       `aigw inject -f CASE.in.yaml ARGS` (the patched pod)
  <case>.patch.json     the JSON Patch of `aigw inject --review` (the /mutate-pods reply)
  <case>.warnings.txt   what `aigw inject` printed on stderr (warnings, skip reason)
  <case>.req.json / <case>.resp.json   the AdmissionReview pair

ARGS come from CASE.args (one line, paths relative to the repository root);
without --objects the case uses tests/data/inject/cluster.

With --check it also verifies, and exits 1 on any finding:
  - the patch applied with python-jsonpatch gives exactly <case>.out.yaml;
  - the reply's warnings are the CLI's warnings;
  - `check-pod-patch REQ RESP` passes;
  - a dryRun request gets the same reply;
  - reinvocation: the patched pod admitted again gets an allowed reply without a patch.
"""
import base64
import copy
import json
import os
import shlex
import subprocess
import sys

import jsonpatch
import yaml

DEFAULT_OBJECTS = "tests/data/inject/cluster"


def run(cmd, stdin=None):
    p = subprocess.run(cmd, input=stdin, capture_output=True, check=False)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def case_args(case_in):
    args_file = case_in[: -len(".in.yaml")] + ".args"
    args = []
    if os.path.exists(args_file):
        with open(args_file, encoding="utf-8") as f:
            args = shlex.split(f.read())
    if "--objects" not in args:
        args += ["--objects", DEFAULT_OBJECTS]
    return args


def review_args(args):
    """The CLI args without the pod-only ones (--namespace, -o)."""
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ("--namespace", "-n", "-o", "--output"):
            skip = True
            continue
        out.append(a)
    return out


def make_review(pod, ns, uid, dry_run=False):
    req = {
        "uid": uid,
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
        "requestResource": {"group": "", "version": "v1", "resource": "pods"},
        "namespace": ns,
        "operation": "CREATE",
        "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller"},
        "object": pod,
        "oldObject": None,
        "dryRun": dry_run,
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
    }
    name = pod.get("metadata", {}).get("name")
    if name:
        req["name"] = name
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req}


def reply(aigw, review, args, path):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(review, f, indent=2)
    rc, out, err = run([aigw, "inject", "--review", "-f", path] + review_args(args))
    if rc != 0:
        raise SystemExit(f"aigw inject --review {path} failed ({rc}): {err}")
    return json.loads(out)


def decoded_patch(resp):
    raw = resp.get("response", {}).get("patch")
    return json.loads(base64.b64decode(raw)) if raw else []


def main(argv):
    if len(argv) not in (3, 5):
        sys.stderr.write(__doc__)
        return 2
    aigw, case_in, outdir = argv[0], argv[1], argv[2]
    conformance = argv[4] if len(argv) == 5 and argv[3] == "--check" else None
    name = os.path.basename(case_in)[: -len(".in.yaml")]
    base = os.path.join(outdir, name)
    args = case_args(case_in)

    rc, out, err = run([aigw, "inject", "-f", case_in] + args)
    if rc != 0:
        raise SystemExit(f"{name}: aigw inject failed ({rc}): {err}")
    with open(base + ".out.yaml", "w", encoding="utf-8") as f:
        f.write(out)
    with open(base + ".warnings.txt", "w", encoding="utf-8") as f:
        f.write(err)

    with open(case_in, encoding="utf-8") as f:
        pod = yaml.safe_load(f)
    ns = pod.get("metadata", {}).get("namespace") or "default"
    if "--namespace" in args:
        ns = args[args.index("--namespace") + 1]
    review = make_review(pod, ns, f"golden-{name}")
    resp = reply(aigw, review, args, base + ".req.json")
    with open(base + ".resp.json", "w", encoding="utf-8") as f:
        json.dump(resp, f, indent=2)
    patch = decoded_patch(resp)
    with open(base + ".patch.json", "w", encoding="utf-8") as f:
        json.dump(patch, f, indent=2)
        f.write("\n")
    if conformance is None:
        return 0

    problems = []
    patched = jsonpatch.apply_patch(copy.deepcopy(pod), patch)
    if patched != yaml.safe_load(out):
        problems.append("the patch applied by python-jsonpatch differs from `aigw inject` output")
    cli_warnings = [l[len("Warning: "):] for l in err.splitlines() if l.startswith("Warning: ")]
    if resp["response"].get("warnings", []) != cli_warnings:
        problems.append(f"reply warnings {resp['response'].get('warnings')} != CLI {cli_warnings}")
    if resp["response"].get("allowed") is not True:
        problems.append("the reply does not allow the pod")
    rc, cout, _ = run([conformance, "check-pod-patch", base + ".req.json", base + ".resp.json"])
    if rc != 0:
        problems.append("check-pod-patch: " + cout.strip().replace("\n", " | "))
    dry = reply(aigw, make_review(pod, ns, f"golden-{name}", True), args, base + ".dry.json")
    if dry != resp:
        problems.append("a dryRun request gets another reply")
    again = make_review(patched, ns, f"golden-{name}-again")
    resp2 = reply(aigw, again, args, base + ".req2.json")
    with open(base + ".resp2.json", "w", encoding="utf-8") as f:
        json.dump(resp2, f)
    if decoded_patch(resp2):
        problems.append("reinvocation: the patched pod gets another patch")
    r2 = resp2.get("response", {})
    if resp2.get("kind") != "AdmissionReview" or r2.get("uid") != f"golden-{name}-again" \
            or r2.get("allowed") is not True or "patchType" in r2:
        problems.append(f"reinvocation: malformed reply {resp2}")
    for p in problems:
        print(f"{name}: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
