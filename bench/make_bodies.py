#!/usr/bin/env python3
"""Writes the AdmissionReview request bodies `make bench` posts.

small   a bare single-container pod, as `kubectl run` makes it
medium  a Deployment-generated pod (generateName, ownerReferences, 2 containers,
        probes, env, service-account volume), the common case in a cluster
large   a ~60 KB pod (many env vars and annotations), the heavy tail
policy  an AIRoutingPolicy CREATE for /validate

Usage: make_bodies.py OUTDIR
"""
import json
import os
import sys
import uuid


def review(obj, kind, group, version, resource, op="CREATE", name=""):
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": str(uuid.UUID(int=0x1234)),
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": resource},
            "requestKind": {"group": group, "version": version, "kind": kind},
            "requestResource": {"group": group, "version": version, "resource": resource},
            "name": name,
            "namespace": "team-a",
            "operation": op,
            "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller",
                         "uid": "6f1e7b0c-7c1b-4b43-9d2a-0f0b4b8f4b8e",
                         "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system",
                                    "system:authenticated"]},
            "object": obj,
            "oldObject": None,
            "dryRun": False,
            "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"},
        },
    }


def container(name, image, env):
    return {
        "name": name,
        "image": image,
        "ports": [{"containerPort": 8000, "name": "http", "protocol": "TCP"}],
        "env": env,
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                      "limits": {"cpu": "500m", "memory": "512Mi"}},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8000, "scheme": "HTTP"},
                           "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1,
                           "failureThreshold": 3},
        "volumeMounts": [{"name": "kube-api-access-x7k2p", "readOnly": True,
                          "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}],
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
    }


def pod(generated, containers, annotations):
    meta = {"namespace": "team-a", "labels": {"app": "research-agent",
                                              "pod-template-hash": "7d9f8b6c5d"},
            "annotations": annotations}
    if generated:
        meta["generateName"] = "research-agent-7d9f8b6c5d-"
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                    "name": "research-agent-7d9f8b6c5d",
                                    "uid": "0b7f3f0e-2f4c-4b9a-9a43-1c5d3e7f8a90",
                                    "controller": True, "blockOwnerDeletion": True}]
    else:
        meta["name"] = "research-agent"
    return {
        "apiVersion": "v1", "kind": "Pod", "metadata": meta,
        "spec": {
            "containers": containers,
            "volumes": [{"name": "kube-api-access-x7k2p", "projected": {"defaultMode": 420, "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
                    "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]}}],
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst", "serviceAccountName": "research-agent",
            "serviceAccount": "research-agent", "securityContext": {},
            "schedulerName": "default-scheduler", "enableServiceLinks": True,
            "preemptionPolicy": "PreemptLowerPriority", "priority": 0,
            "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                             "effect": "NoExecute", "tolerationSeconds": 300}],
        },
    }


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    small = pod(False, [{"name": "agent", "image": "ghcr.io/example/agent:1.0",
                         "resources": {}}], {})
    env = [{"name": "LOG_LEVEL", "value": "info"}, {"name": "MODEL", "value": "gpt-4o"}]
    medium = pod(True, [container("agent", "ghcr.io/example/agent:1.4.2", env),
                        container("tools", "ghcr.io/example/tools:0.9", env)],
                 {"kubectl.kubernetes.io/restartedAt": "2026-11-20T10:00:00Z"})
    big_env = [{"name": "VAR_%04d" % i, "value": "x" * 40} for i in range(700)]
    large = pod(True, [container("agent", "ghcr.io/example/agent:1.4.2", big_env)],
                {"example.com/note-%03d" % i: "y" * 60 for i in range(150)})
    policy = {
        "apiVersion": "aigateway.kagenti.dev/v1alpha1", "kind": "AIRoutingPolicy",
        "metadata": {"name": "llm-routes", "namespace": "team-a"},
        "spec": {
            "targetRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway",
                          "name": "ai-gateway"},
            "providers": [{"name": "openai", "endpoint": "https://api.openai.com/v1",
                           "schema": "OpenAI", "protocol": "HTTP"}],
            "models": [{"name": "gpt-4o-mini-%d" % i,
                        "backends": [{"provider": "openai", "model": "gpt-4o-mini",
                                      "priority": 0, "weight": 1}],
                        "rateLimit": {"tokensPerHour": 100000, "tokenCountMode": "TotalToken"}}
                       for i in range(10)],
        },
    }
    bodies = {
        "small": review(small, "Pod", "", "v1", "pods", name="research-agent"),
        "medium": review(medium, "Pod", "", "v1", "pods"),
        "large": review(large, "Pod", "", "v1", "pods"),
        "policy": review(policy, "AIRoutingPolicy", "aigateway.kagenti.dev", "v1alpha1",
                         "airoutingpolicies", name="llm-routes"),
    }
    for name, body in bodies.items():
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump(body, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
