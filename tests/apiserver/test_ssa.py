"""Server-side apply: managers, conflicts, force, field removal, associative lists."""

import unittest

import harness


class ApplyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.k = harness.kube()
        cls.ns = harness.make_namespace(cls.k, "ssa")
        harness.ensure_crds(cls.k)
        cls.w = "/apis/test.example.com/v1/namespaces/%s/widgets" % cls.ns

    def widget(self, name, spec):
        return {"apiVersion": "test.example.com/v1", "kind": "Widget",
                "metadata": {"name": name}, "spec": spec}

    def managers(self, obj):
        return {(e["manager"], e["operation"], e.get("subresource", "")): e["fieldsV1"]
                for e in obj["metadata"].get("managedFields", [])}

    def test_apply_creates_then_merges(self):
        path = self.w + "/a1"
        st, _, obj = self.k.apply(path, self.widget("a1", {"x": 1}), "mgr-a")
        self.assertEqual(st, 201)
        self.assertEqual(obj["metadata"]["generation"], 1)
        self.assertEqual(self.managers(obj), {("mgr-a", "Apply", ""): {"f:spec": {"f:x": {}}}})
        st, _, obj = self.k.apply(path, self.widget("a1", {"y": 2}), "mgr-b")
        self.assertEqual(st, 200)
        self.assertEqual(obj["spec"], {"x": 1, "y": 2})
        self.assertEqual(obj["metadata"]["generation"], 2)
        mg = self.managers(obj)
        self.assertEqual(mg[("mgr-b", "Apply", "")], {"f:spec": {"f:y": {}}})

    def test_apply_is_idempotent(self):
        path = self.w + "/idem"
        a = self.k.ok("PATCH", path + "?fieldManager=m", self.widget("idem", {"x": 1}),
                      ctype="application/apply-patch+yaml")
        b = self.k.ok("PATCH", path + "?fieldManager=m", self.widget("idem", {"x": 1}),
                      ctype="application/apply-patch+yaml")
        self.assertEqual(a["metadata"]["resourceVersion"], b["metadata"]["resourceVersion"])

    def test_yaml_body(self):
        body = ("apiVersion: test.example.com/v1\nkind: Widget\nmetadata:\n  name: yml\n"
                "spec:\n  when: 2024-01-01T00:00:00Z\n")
        st, _, obj = self.k.patch(self.w + "/yml?fieldManager=m", body, "apply")
        self.assertEqual(st, 201)
        self.assertEqual(obj["spec"]["when"], "2024-01-01T00:00:00Z")

    def test_conflict_without_force(self):
        path = self.w + "/c1"
        spec = {"listeners": [{"name": "https", "tls": {"mode": "Terminate"}, "port": 443}]}
        self.k.ok("PATCH", path + "?fieldManager=helm", self.widget("c1", spec),
                  ctype="application/apply-patch+yaml")
        spec2 = {"listeners": [{"name": "https", "tls": {"mode": "Passthrough"}}]}
        st, _, doc = self.k.apply(path, self.widget("c1", spec2), "aigw")
        self.assertEqual(st, 409)
        self.assertEqual(doc["reason"], "Conflict")
        self.assertEqual(doc["message"], 'Apply failed with 1 conflict: conflict with "helm": '
                         '.spec.listeners[name="https"].tls.mode')
        self.assertEqual(doc["details"]["causes"], [{
            "type": "FieldManagerConflict", "message": 'conflict with "helm"',
            "field": '.spec.listeners[name="https"].tls.mode'}])
        # Same value: shared ownership, no conflict.
        same = {"listeners": [{"name": "https", "port": 443}]}
        st, _, obj = self.k.apply(path, self.widget("c1", same), "aigw")
        self.assertEqual(st, 200)
        # Force takes the field over.
        st, _, obj = self.k.apply(path, self.widget("c1", spec2), "aigw", force=True)
        self.assertEqual(st, 200)
        self.assertEqual(obj["spec"]["listeners"], [{"name": "https", "port": 443,
                                                     "tls": {"mode": "Passthrough"}}])
        mg = self.managers(obj)
        helm = mg[("helm", "Apply", "")]
        lst = helm["f:spec"]["f:listeners"]['k:{"name":"https"}']
        self.assertNotIn("f:tls", lst)
        self.assertIn("f:port", lst)
        aigw = mg[("aigw", "Apply", "")]["f:spec"]["f:listeners"]['k:{"name":"https"}']
        self.assertEqual(aigw, {".": {}, "f:name": {}, "f:tls": {"f:mode": {}}})

    def test_conflict_with_update_manager_names_it(self):
        path = self.w + "/c2"
        self.k.ok("POST", self.w, self.widget("c2", {"replicas": 1}))
        st, _, doc = self.k.apply(path, self.widget("c2", {"replicas": 3}), "aigw")
        self.assertEqual(st, 409)
        self.assertRegex(doc["message"], r'^Apply failed with 1 conflict: conflict with '
                         r'"harness" using test.example.com/v1 at \S+Z: \.spec\.replicas$')

    def test_removed_fields_are_deleted_unless_owned_by_others(self):
        path = self.w + "/rm"
        self.k.ok("PATCH", path + "?fieldManager=a", self.widget("rm", {"x": 1, "y": 2, "z": 3}),
                  ctype="application/apply-patch+yaml")
        self.k.ok("PATCH", path + "?fieldManager=b", self.widget("rm", {"z": 3}),
                  ctype="application/apply-patch+yaml")
        obj = self.k.ok("PATCH", path + "?fieldManager=a", self.widget("rm", {"x": 1}),
                        ctype="application/apply-patch+yaml")
        self.assertEqual(obj["spec"], {"x": 1, "z": 3})

    def test_associative_list_items_merge_and_drop(self):
        path = self.w + "/assoc"
        self.k.ok("PATCH", path + "?fieldManager=a", self.widget(
            "assoc", {"items": [{"name": "one", "v": 1}, {"name": "two", "v": 2}]}),
            ctype="application/apply-patch+yaml")
        self.k.ok("PATCH", path + "?fieldManager=b", self.widget(
            "assoc", {"items": [{"name": "three", "v": 3}]}),
            ctype="application/apply-patch+yaml")
        obj = self.k.ok("PATCH", path + "?fieldManager=a", self.widget(
            "assoc", {"items": [{"name": "two", "v": 22}]}),
            ctype="application/apply-patch+yaml")
        self.assertEqual(obj["spec"]["items"], [{"name": "two", "v": 22},
                                                {"name": "three", "v": 3}])

    def test_atomic_list_replaced(self):
        path = self.w + "/atomic"
        self.k.ok("PATCH", path + "?fieldManager=a", self.widget("atomic", {"args": [1, 2]}),
                  ctype="application/apply-patch+yaml")
        obj = self.k.ok("PATCH", path + "?fieldManager=a", self.widget("atomic", {"args": [3]}),
                        ctype="application/apply-patch+yaml")
        self.assertEqual(obj["spec"]["args"], [3])
        self.assertEqual(self.managers(obj)[("a", "Apply", "")], {"f:spec": {"f:args": {}}})

    def test_field_manager_required(self):
        st, _, doc = self.k.patch(self.w + "/nofm", self.widget("nofm", {}), "apply")
        self.assertEqual(st, 422)
        self.assertEqual(doc["message"], 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: '
                         'Required value: is required for apply patch')

    def test_force_only_for_apply(self):
        self.k.ok("POST", self.w, self.widget("frc", {}))
        st, _, _ = self.k.patch(self.w + "/frc?force=true", {"spec": {"a": 1}})
        self.assertEqual(st, 422)

    def test_apply_status_subresource(self):
        path = self.w + "/st"
        obj = self.k.ok("PATCH", path + "?fieldManager=ctl", dict(
            self.widget("st", {"x": 1}), status={"ignored": True}),
            ctype="application/apply-patch+yaml")
        self.assertNotIn("status", obj)
        obj = self.k.ok("PATCH", path + "/status?fieldManager=ctl", dict(
            self.widget("st", {"x": 99}), status={"conditions": [
                {"type": "Ready", "status": "True"}]}),
            ctype="application/apply-patch+yaml")
        self.assertEqual(obj["spec"], {"x": 1})
        self.assertEqual(obj["status"]["conditions"][0]["type"], "Ready")
        self.assertEqual(obj["metadata"]["generation"], 1)
        mg = self.managers(obj)
        self.assertEqual(mg[("ctl", "Apply", "status")],
                         {"f:status": {"f:conditions": {'k:{"type":"Ready"}': {
                             ".": {}, "f:status": {}, "f:type": {}}}}})
        self.assertEqual(mg[("ctl", "Apply", "")], {"f:spec": {"f:x": {}}})

    def test_apply_labels_on_builtin(self):
        cm = "/api/v1/namespaces/%s/configmaps/lab" % self.ns
        obj = self.k.ok("PATCH", cm + "?fieldManager=aigw", {
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "lab", "labels": {"app.kubernetes.io/managed-by": "aigw"}},
            "data": {"k": "v"}}, ctype="application/apply-patch+yaml")
        self.assertEqual(self.managers(obj)[("aigw", "Apply", "")], {
            "f:data": {"f:k": {}},
            "f:metadata": {"f:labels": {"f:app.kubernetes.io/managed-by": {}}}})

    def test_apply_name_mismatch(self):
        st, _, doc = self.k.apply(self.w + "/one", self.widget("two", {}), "m")
        self.assertEqual(st, 400)


if __name__ == "__main__":
    unittest.main()
