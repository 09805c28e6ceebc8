"""status subresource semantics and metadata.generation; discovery documents."""

import unittest

import harness


class StatusTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.k = harness.kube()
        cls.ns = harness.make_namespace(cls.k, "status")
        harness.ensure_crds(cls.k)
        cls.w = "/apis/test.example.com/v1/namespaces/%s/widgets" % cls.ns
        cls.g = "/apis/test.example.com/v1/gadgets"

    def test_status_subresource(self):
        k = self.k
        obj = k.ok("POST", self.w, {"apiVersion": "test.example.com/v1", "kind": "Widget",
                                    "metadata": {"name": "s1"}, "spec": {"a": 1},
                                    "status": {"dropped": True}})
        self.assertNotIn("status", obj)
        self.assertEqual(obj["metadata"]["generation"], 1)
        # Writes to /status change only status, and do not bump generation.
        obj["status"] = {"phase": "Ready"}
        obj["spec"] = {"a": 2}
        st_obj = k.ok("PUT", self.w + "/s1/status", obj)
        self.assertEqual(st_obj["status"], {"phase": "Ready"})
        self.assertEqual(st_obj["spec"], {"a": 1})
        self.assertEqual(st_obj["metadata"]["generation"], 1)
        # Writes to the main resource ignore status; spec changes bump generation.
        st_obj["status"] = {"phase": "Hacked"}
        st_obj["spec"] = {"a": 3}
        main = k.ok("PUT", self.w + "/s1", st_obj)
        self.assertEqual(main["status"], {"phase": "Ready"})
        self.assertEqual(main["spec"], {"a": 3})
        self.assertEqual(main["metadata"]["generation"], 2)
        # Metadata changes do not bump generation.
        lab = k.ok("PATCH", self.w + "/s1", {"metadata": {"labels": {"x": "y"}}},
                   ctype="application/merge-patch+json")
        self.assertEqual(lab["metadata"]["generation"], 2)
        self.assertGreater(int(lab["metadata"]["resourceVersion"]),
                           int(main["metadata"]["resourceVersion"]))
        # Merge patch of status through the subresource.
        p = k.ok("PATCH", self.w + "/s1/status", {"status": {"observedGeneration": 2}},
                 ctype="application/merge-patch+json")
        self.assertEqual(p["status"], {"phase": "Ready", "observedGeneration": 2})
        self.assertEqual(p["metadata"]["generation"], 2)
        self.assertIn(("harness", "status"), [(e["manager"], e.get("subresource", ""))
                                             for e in p["metadata"]["managedFields"]])
        # GET of /status returns the object.
        self.assertEqual(k.ok("GET", self.w + "/s1/status")["metadata"]["name"], "s1")

    def test_no_op_write_keeps_resource_version(self):
        obj = self.k.ok("POST", self.w, {"apiVersion": "test.example.com/v1", "kind": "Widget",
                                         "metadata": {"name": "noop"}, "spec": {"a": 1}})
        again = self.k.ok("PUT", self.w + "/noop", obj)
        self.assertEqual(again["metadata"]["resourceVersion"],
                         obj["metadata"]["resourceVersion"])

    def test_without_status_subresource(self):
        obj = self.k.ok("POST", self.g, {"apiVersion": "test.example.com/v1", "kind": "Gadget",
                                         "metadata": {"name": harness.unique("g")},
                                         "spec": {"a": 1}, "status": {"kept": True}})
        self.assertEqual(obj["status"], {"kept": True})
        self.assertNotIn("namespace", obj["metadata"])
        name = obj["metadata"]["name"]
        st, _, _ = self.k.get(self.g + "/" + name + "/status")
        self.assertEqual(st, 404)
        obj["status"] = {"kept": False}
        upd = self.k.ok("PUT", self.g + "/" + name, obj)
        self.assertEqual(upd["status"], {"kept": False})
        self.assertEqual(upd["metadata"]["generation"], 2)

    def test_builtin_status(self):
        svc = "/api/v1/namespaces/%s/services" % self.ns
        obj = self.k.ok("POST", svc, {"metadata": {"name": "svc1"},
                                      "spec": {"ports": [{"port": 80}]},
                                      "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}})
        self.assertEqual(obj["status"], {"loadBalancer": {}})
        obj = self.k.ok("PATCH", svc + "/svc1/status",
                        {"status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}},
                        ctype="application/merge-patch+json")
        self.assertEqual(obj["status"]["loadBalancer"]["ingress"][0]["ip"], "1.2.3.4")
        ns = self.k.ok("GET", "/api/v1/namespaces/" + self.ns)
        self.assertEqual(ns["status"], {"phase": "Active"})
        self.assertEqual(ns["metadata"]["labels"]["kubernetes.io/metadata.name"], self.ns)


class DiscoveryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.k = harness.kube()
        harness.ensure_crds(cls.k)

    def test_version(self):
        v = self.k.ok("GET", "/version")
        self.assertEqual((v["major"], v["minor"]), ("1", "33"))
        self.assertEqual(v["gitVersion"], "v1.33.0")

    def test_core(self):
        self.assertEqual(self.k.ok("GET", "/api")["versions"], ["v1"])
        rl = self.k.ok("GET", "/api/v1")
        self.assertEqual(rl["kind"], "APIResourceList")
        by = {r["name"]: r for r in rl["resources"]}
        for name in ("namespaces", "secrets", "configmaps", "services", "pods", "events"):
            self.assertIn(name, by)
        self.assertEqual(by["configmaps"]["shortNames"], ["cm"])
        self.assertTrue(by["configmaps"]["namespaced"])
        self.assertFalse(by["namespaces"]["namespaced"])
        self.assertIn("watch", by["configmaps"]["verbs"])
        self.assertEqual(by["pods/status"]["verbs"], ["get", "patch", "update"])

    def test_groups(self):
        gl = self.k.ok("GET", "/apis")
        names = [g["name"] for g in gl["groups"]]
        for g in ("events.k8s.io", "coordination.k8s.io", "admissionregistration.k8s.io",
                  "apiextensions.k8s.io", "test.example.com"):
            self.assertIn(g, names)
        g = self.k.ok("GET", "/apis/coordination.k8s.io")
        self.assertEqual(g["preferredVersion"]["groupVersion"], "coordination.k8s.io/v1")
        rl = self.k.ok("GET", "/apis/test.example.com/v1")
        by = {r["name"]: r for r in rl["resources"]}
        self.assertEqual(by["widgets"]["kind"], "Widget")
        self.assertEqual(by["widgets"]["singularName"], "widget")
        self.assertEqual(by["widgets"]["shortNames"], ["wd"])
        self.assertIn("widgets/status", by)
        self.assertNotIn("gadgets/status", by)
        self.assertFalse(by["gadgets"]["namespaced"])
        self.assertEqual(self.k.get("/apis/nope.example.com/v1")[0], 404)

    def test_crd_lifecycle_in_discovery(self):
        crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
               "metadata": {"name": "temps.tmp.example.com"},
               "spec": {"group": "tmp.example.com", "scope": "Namespaced",
                        "names": {"plural": "temps", "kind": "Temp"},
                        "versions": [{"name": "v1", "served": True, "storage": True,
                                      "schema": {"openAPIV3Schema": {"type": "object"}}}]}}
        path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
        out = self.k.ok("POST", path, crd)
        conds = {c["type"]: c["status"] for c in out["status"]["conditions"]}
        self.assertEqual(conds, {"Established": "True", "NamesAccepted": "True"})
        self.k.ok("POST", "/apis/tmp.example.com/v1/namespaces/default/temps",
                  {"apiVersion": "tmp.example.com/v1", "kind": "Temp",
                   "metadata": {"name": "t1"}})
        self.k.ok("DELETE", path + "/temps.tmp.example.com")
        self.assertEqual(self.k.get("/apis/tmp.example.com/v1")[0], 404)
        self.assertEqual(self.k.get("/apis/tmp.example.com/v1/namespaces/default/temps/t1")[0],
                         404)

    def test_invalid_crd(self):
        st, _, doc = self.k.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                                 {"metadata": {"name": "wrong.example.com"},
                                  "spec": {"group": "example.com", "scope": "Namespaced",
                                           "names": {"plural": "things", "kind": "Thing"},
                                           "versions": [{"name": "v1", "served": True,
                                                         "storage": True}]}})
        self.assertEqual(st, 422)
        self.assertIn("must be spec.names.plural", doc["message"])

    def test_openapi_v3_advertises_field_validation(self):
        root = self.k.ok("GET", "/openapi/v3")
        url = root["paths"]["apis/test.example.com/v1"]["serverRelativeURL"]
        doc = self.k.ok("GET", url)
        p = doc["paths"]["/apis/test.example.com/v1/namespaces/{namespace}/widgets/{name}"]
        self.assertEqual(p["patch"]["x-kubernetes-group-version-kind"]["kind"], "Widget")
        self.assertIn("fieldValidation", [x["name"] for x in p["patch"]["parameters"]])
        self.assertEqual(self.k.get("/openapi/v2")[0], 404)


if __name__ == "__main__":
    unittest.main()
