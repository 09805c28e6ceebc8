"""CRUD, errors as metav1.Status, authentication, patch types, validation."""

import unittest

import harness

CM = "/api/v1/namespaces/%s/configmaps"


class CrudTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.k = harness.kube()
        cls.ns = harness.make_namespace(cls.k, "crud")
        harness.ensure_crds(cls.k)

    def cm(self, name, data=None, labels=None):
        obj = {"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": name}, "data": data or {"a": "1"}}
        if labels:
            obj["metadata"]["labels"] = labels
        return obj

    def test_create_get_update_delete(self):
        k, ns = self.k, self.ns
        st, _, created = k.post(CM % ns, self.cm("c1"))
        self.assertEqual(st, 201)
        m = created["metadata"]
        self.assertEqual(m["namespace"], ns)
        self.assertRegex(m["uid"], r"^[0-9a-f-]{36}$")
        self.assertRegex(m["creationTimestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertNotIn("generation", m)
        self.assertEqual(m["managedFields"][0]["manager"], "harness")
        self.assertEqual(m["managedFields"][0]["operation"], "Update")
        rv1 = int(m["resourceVersion"])
        got = k.ok("GET", CM % ns + "/c1")
        self.assertEqual(got, created)
        got["data"]["b"] = "2"
        st, _, upd = k.put(CM % ns + "/c1", got)
        self.assertEqual(st, 200)
        self.assertGreater(int(upd["metadata"]["resourceVersion"]), rv1)
        self.assertEqual(upd["data"], {"a": "1", "b": "2"})
        self.assertEqual(upd["metadata"]["uid"], m["uid"])
        st, _, doc = k.delete(CM % ns + "/c1")
        self.assertEqual(st, 200)
        self.assertEqual(doc["kind"], "Status")
        self.assertEqual(doc["status"], "Success")
        self.assertEqual(doc["details"], {"name": "c1", "group": "", "kind": "configmaps",
                                          "uid": m["uid"]})
        st, _, doc = k.get(CM % ns + "/c1")
        self.assertEqual(st, 404)

    def test_resource_version_is_global_and_increasing(self):
        k, ns = self.k, self.ns
        a = k.ok("POST", CM % ns, self.cm("rv-a"))
        b = k.ok("POST", "/api/v1/namespaces/%s/secrets" % ns,
                 {"metadata": {"name": "rv-b"}, "data": {"k": "dg=="}})
        c = k.ok("POST", CM % ns, self.cm("rv-c"))
        rvs = [int(x["metadata"]["resourceVersion"]) for x in (a, b, c)]
        self.assertEqual(rvs, sorted(set(rvs)))
        lst = k.ok("GET", CM % ns)
        self.assertGreaterEqual(int(lst["metadata"]["resourceVersion"]), rvs[-1])

    def test_not_found_status(self):
        st, _, doc = self.k.get(CM % self.ns + "/missing")
        self.assertEqual(st, 404)
        self.assertEqual(doc, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                               "status": "Failure", "message": 'configmaps "missing" not found',
                               "reason": "NotFound", "code": 404,
                               "details": {"name": "missing", "kind": "configmaps"}})
        st, _, doc = self.k.get("/apis/test.example.com/v1/namespaces/%s/widgets/nope"
                                % self.ns)
        self.assertEqual(st, 404)
        self.assertEqual(doc["message"], 'widgets.test.example.com "nope" not found')
        self.assertEqual(doc["details"]["group"], "test.example.com")

    def test_unknown_resource_is_404(self):
        st, _, doc = self.k.get("/api/v1/namespaces/default/nothings")
        self.assertEqual(st, 404)
        self.assertEqual(doc["message"], "the server could not find the requested resource")

    def test_already_exists(self):
        self.k.ok("POST", CM % self.ns, self.cm("dup"))
        st, _, doc = self.k.post(CM % self.ns, self.cm("dup"))
        self.assertEqual(st, 409)
        self.assertEqual(doc["reason"], "AlreadyExists")
        self.assertEqual(doc["message"], 'configmaps "dup" already exists')

    def test_stale_update_conflicts(self):
        k, ns = self.k, self.ns
        obj = k.ok("POST", CM % ns, self.cm("stale"))
        fresh = dict(obj, data={"a": "2"})
        k.ok("PUT", CM % ns + "/stale", fresh)
        st, _, doc = k.put(CM % ns + "/stale", dict(obj, data={"a": "3"}))
        self.assertEqual(st, 409)
        self.assertEqual(doc["reason"], "Conflict")
        self.assertEqual(doc["message"], 'Operation cannot be fulfilled on configmaps "stale": '
                         'the object has been modified; please apply your changes to the '
                         'latest version and try again')
        self.assertEqual(k.ok("GET", CM % ns + "/stale")["data"], {"a": "2"})

    def test_invalid_name(self):
        st, _, doc = self.k.post(CM % self.ns, self.cm("Bad_Name"))
        self.assertEqual(st, 422)
        self.assertEqual(doc["reason"], "Invalid")
        self.assertTrue(doc["message"].startswith(
            'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a '
            'lowercase RFC 1123 subdomain'), doc["message"])
        self.assertEqual(doc["details"]["kind"], "ConfigMap")
        self.assertEqual(doc["details"]["causes"][0]["field"], "metadata.name")
        self.assertEqual(doc["details"]["causes"][0]["reason"], "FieldValueInvalid")

    def test_missing_name_and_generate_name(self):
        st, _, doc = self.k.post(CM % self.ns, {"metadata": {}, "data": {}})
        self.assertEqual(st, 422)
        self.assertEqual(doc["details"]["causes"][0]["reason"], "FieldValueRequired")
        obj = self.k.ok("POST", CM % self.ns, {"metadata": {"generateName": "gen-"}})
        self.assertRegex(obj["metadata"]["name"], r"^gen-[a-z0-9]{5}$")

    def test_invalid_label(self):
        st, _, doc = self.k.post(CM % self.ns, self.cm("lbl", labels={"a": "not valid!"}))
        self.assertEqual(st, 422)
        self.assertEqual(doc["details"]["causes"][0]["field"], "metadata.labels")

    def test_namespace_mismatch_is_bad_request(self):
        obj = self.cm("mism")
        obj["metadata"]["namespace"] = "other"
        st, _, doc = self.k.post(CM % self.ns, obj)
        self.assertEqual(st, 400)
        self.assertEqual(doc["reason"], "BadRequest")

    def test_missing_namespace(self):
        st, _, doc = self.k.post(CM % "no-such-ns", self.cm("x"))
        self.assertEqual(st, 404)
        self.assertEqual(doc["message"], 'namespaces "no-such-ns" not found')

    def test_method_not_allowed(self):
        st, _, doc = self.k.post(CM % self.ns + "/named", self.cm("named"))
        self.assertEqual(st, 405)
        self.assertEqual(doc["reason"], "MethodNotAllowed")

    def test_unauthorized(self):
        for tok in (False, "wrong"):
            st, _, doc = self.k.get(CM % self.ns, token=tok)
            self.assertEqual(st, 401)
            self.assertEqual(doc["reason"], "Unauthorized")
            self.assertEqual(doc["message"], "Unauthorized")

    def test_unsupported_patch_type(self):
        self.k.ok("POST", CM % self.ns, self.cm("pt"))
        st, _, doc = self.k.patch(CM % self.ns + "/pt", {"data": {}}, "application/json")
        self.assertEqual(st, 415)
        self.assertEqual(doc["reason"], "UnsupportedMediaType")
        w = "/apis/test.example.com/v1/namespaces/%s/widgets" % self.ns
        self.k.ok("POST", w, {"apiVersion": "test.example.com/v1", "kind": "Widget",
                              "metadata": {"name": "smp"}, "spec": {"a": 1}})
        st, _, doc = self.k.patch(w + "/smp", {"spec": {"a": 2}}, "strategic")
        self.assertEqual(st, 415)

    def test_merge_patch(self):
        self.k.ok("POST", CM % self.ns, self.cm("mp", {"a": "1", "b": "2"}))
        out = self.k.ok("PATCH", CM % self.ns + "/mp", {"data": {"a": None, "c": "3"}},
                        ctype="application/merge-patch+json")
        self.assertEqual(out["data"], {"b": "2", "c": "3"})
        self.assertIn("harness", [e["manager"] for e in out["metadata"]["managedFields"]])

    def test_json_patch(self):
        self.k.ok("POST", CM % self.ns, self.cm("jp", {"a": "1", "b": "2"}, {"k": "v"}))
        out = self.k.ok("PATCH", CM % self.ns + "/jp",
                        [{"op": "test", "path": "/data/a", "value": "1"},
                         {"op": "add", "path": "/metadata/labels/x~1y", "value": "2"},
                         {"op": "remove", "path": "/data/a"}],
                        ctype="application/json-patch+json")
        self.assertEqual(out["data"], {"b": "2"})
        self.assertEqual(out["metadata"]["labels"], {"k": "v", "x/y": "2"})
        st, _, doc = self.k.patch(CM % self.ns + "/jp",
                                  [{"op": "test", "path": "/data/b", "value": "x"}], "json")
        self.assertEqual(st, 422)
        st, _, doc = self.k.patch(CM % self.ns + "/jp",
                                  [{"op": "remove", "path": "/data/zzz"}], "json")
        self.assertEqual(st, 422)
        st, _, _ = self.k.patch(CM % self.ns + "/missing", [], "json")
        self.assertEqual(st, 404)

    def test_patch_with_stale_resource_version_conflicts(self):
        obj = self.k.ok("POST", CM % self.ns, self.cm("prv"))
        self.k.ok("PATCH", CM % self.ns + "/prv", {"data": {"x": "y"}},
                  ctype="application/merge-patch+json")
        st, _, doc = self.k.patch(CM % self.ns + "/prv", {"metadata": {
            "resourceVersion": obj["metadata"]["resourceVersion"]}, "data": {"z": "1"}})
        self.assertEqual(st, 409)
        self.assertEqual(doc["reason"], "Conflict")

    def test_strategic_merge_patch_merges_named_lists(self):
        pod = {"metadata": {"name": "p1"},
               "spec": {"containers": [{"name": "a", "image": "x"},
                                       {"name": "b", "image": "y"}]}}
        self.k.ok("POST", "/api/v1/namespaces/%s/pods" % self.ns, pod)
        out = self.k.ok("PATCH", "/api/v1/namespaces/%s/pods/p1" % self.ns,
                        {"spec": {"containers": [{"name": "b", "image": "z"},
                                                 {"name": "c", "image": "w"}]}},
                        ctype="application/strategic-merge-patch+json")
        self.assertEqual([(c["name"], c["image"]) for c in out["spec"]["containers"]],
                         [("a", "x"), ("b", "z"), ("c", "w")])
        out = self.k.ok("PATCH", "/api/v1/namespaces/%s/pods/p1" % self.ns,
                        {"spec": {"containers": [{"name": "a", "$patch": "delete"}]}},
                        ctype="application/strategic-merge-patch+json")
        self.assertEqual([c["name"] for c in out["spec"]["containers"]], ["b", "c"])
        self.assertEqual(out["status"]["phase"], "Pending")

    def test_cluster_scoped(self):
        name = harness.unique("vwc")
        path = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"
        obj = self.k.ok("POST", path, {"metadata": {"name": name}, "webhooks": []})
        self.assertNotIn("namespace", obj["metadata"])
        self.assertEqual(obj["metadata"]["generation"], 1)
        self.assertEqual(self.k.ok("GET", path + "/" + name)["metadata"]["uid"],
                         obj["metadata"]["uid"])
        st, _, _ = self.k.get("/apis/admissionregistration.k8s.io/v1/namespaces/default/"
                              "validatingwebhookconfigurations/" + name)
        self.assertEqual(st, 404)
        self.k.ok("DELETE", path + "/" + name)

    def test_secret_string_data(self):
        s = self.k.ok("POST", "/api/v1/namespaces/%s/secrets" % self.ns,
                      {"metadata": {"name": "sd"}, "stringData": {"k": "v"}})
        self.assertEqual(s["data"], {"k": "dg=="})
        self.assertEqual(s["type"], "Opaque")
        self.assertNotIn("stringData", s)

    def test_data_decoding_and_keys(self):
        st, _, doc = self.k.post(CM % self.ns, {"metadata": {"name": "num"}, "data": {"a": 1}})
        self.assertEqual(st, 400)
        self.assertEqual(doc["message"], 'ConfigMap in version "v1" cannot be handled as a '
                         'ConfigMap: json: cannot unmarshal number into Go struct field '
                         'ConfigMap.data of type string')
        st, _, doc = self.k.post("/api/v1/namespaces/%s/secrets" % self.ns,
                                 {"metadata": {"name": "b64"}, "data": {"k": "not base64!"}})
        self.assertEqual(st, 400)
        self.assertIn("illegal base64 data at input byte 3", doc["message"])
        st, _, doc = self.k.post(CM % self.ns, {"metadata": {"name": "key"},
                                                "data": {"a b": "x"}})
        self.assertEqual(st, 422)
        self.assertEqual(doc["details"]["causes"][0]["field"], "data[a b]")

    def test_create_with_resource_version_fails(self):
        obj = self.cm("withrv")
        obj["metadata"]["resourceVersion"] = "5"
        st, _, doc = self.k.post(CM % self.ns, obj)
        self.assertEqual(st, 500)
        self.assertEqual(doc["message"], "Internal error occurred: resourceVersion should not be "
                         "set on objects to be created")

    def test_dry_run_does_not_store(self):
        st, _, doc = self.k.post(CM % self.ns + "?dryRun=All", self.cm("dry"))
        self.assertEqual(st, 201)
        self.assertEqual(doc["metadata"]["name"], "dry")
        self.assertEqual(self.k.get(CM % self.ns + "/dry")[0], 404)

    def test_yaml_body(self):
        st, _, doc = self.k.post(CM % self.ns, "metadata:\n  name: yml\ndata:\n  a: '1'\n",
                                 ctype="application/yaml")
        self.assertEqual(st, 201)
        self.assertEqual(doc["data"], {"a": "1"})

    def test_delete_preconditions(self):
        obj = self.k.ok("POST", CM % self.ns, self.cm("pre"))
        st, _, doc = self.k.delete(CM % self.ns + "/pre",
                                   {"preconditions": {"uid": "not-the-uid"}})
        self.assertEqual(st, 409)
        self.assertIn("Precondition failed: UID in precondition", doc["message"])
        self.k.ok("DELETE", CM % self.ns + "/pre",
                  {"preconditions": {"uid": obj["metadata"]["uid"]}})

    def test_custom_resource_put_requires_resource_version(self):
        w = "/apis/test.example.com/v1/namespaces/%s/widgets" % self.ns
        obj = self.k.ok("POST", w, {"apiVersion": "test.example.com/v1", "kind": "Widget",
                                    "metadata": {"name": "norv"}, "spec": {}})
        del obj["metadata"]["resourceVersion"]
        st, _, doc = self.k.put(w + "/norv", obj)
        self.assertEqual(st, 422)
        self.assertIn("must be specified for an update", doc["message"])

    def test_lease_put_requires_resource_version(self):
        path = "/apis/coordination.k8s.io/v1/namespaces/%s/leases" % self.ns
        lease = self.k.ok("POST", path, {"metadata": {"name": "leader"},
                                         "spec": {"holderIdentity": "a",
                                                  "leaseDurationSeconds": 15}})
        stale = dict(lease)
        lease["spec"]["holderIdentity"] = "b"
        self.k.ok("PUT", path + "/leader", lease)
        stale["spec"] = {"holderIdentity": "c"}
        self.assertEqual(self.k.put(path + "/leader", stale)[0], 409)
        del stale["metadata"]["resourceVersion"]
        self.assertEqual(self.k.put(path + "/leader", stale)[0], 422)
        cm = self.k.ok("POST", CM % self.ns, self.cm("uncond"))
        del cm["metadata"]["resourceVersion"]
        cm["data"] = {"z": "1"}
        self.assertEqual(self.k.put(CM % self.ns + "/uncond", cm)[0], 200)

    def test_wrong_kind_is_bad_request(self):
        st, _, doc = self.k.post(CM % self.ns, {"apiVersion": "v1", "kind": "Secret",
                                                "metadata": {"name": "wk"}})
        self.assertEqual(st, 400)


if __name__ == "__main__":
    unittest.main()
