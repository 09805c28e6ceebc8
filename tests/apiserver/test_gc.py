"""Deletion: finalizers, ownerReference cascade (background, foreground, orphan),
namespace termination, propagationPolicy."""

import time
import unittest

import harness


def wait_until(fn, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    return fn()


class GcTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.k = harness.kube()
        cls.ns = harness.make_namespace(cls.k, "gc")
        cls.cm = "/api/v1/namespaces/%s/configmaps" % cls.ns

    def mk(self, name, owner=None, finalizers=None):
        meta = {"name": name}
        if owner:
            meta["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap",
                                        "name": owner["metadata"]["name"],
                                        "uid": owner["metadata"]["uid"], "controller": True,
                                        "blockOwnerDeletion": True}]
        if finalizers:
            meta["finalizers"] = finalizers
        return self.k.ok("POST", self.cm, {"metadata": meta})

    def gone(self, name):
        return self.k.get(self.cm + "/" + name)[0] == 404

    def test_finalizer_keeps_object(self):
        self.mk("fin", finalizers=["example.com/hold"])
        st, _, obj = self.k.delete(self.cm + "/fin")
        self.assertEqual(st, 200)
        self.assertEqual(obj["kind"], "ConfigMap")
        self.assertIn("deletionTimestamp", obj["metadata"])
        self.assertFalse(self.gone("fin"))
        # Deleting again changes nothing.
        again = self.k.ok("DELETE", self.cm + "/fin")
        self.assertEqual(again["metadata"]["resourceVersion"], obj["metadata"]["resourceVersion"])
        self.k.ok("PATCH", self.cm + "/fin", {"metadata": {"finalizers": None}},
                  ctype="application/merge-patch+json")
        self.assertTrue(self.gone("fin"))

    def test_background_cascade_is_recursive(self):
        root = self.mk("root")
        child = self.mk("child", owner=root)
        self.mk("grandchild", owner=child)
        self.k.ok("DELETE", self.cm + "/root", {"propagationPolicy": "Background"})
        self.assertTrue(self.gone("root"))
        self.assertTrue(wait_until(lambda: self.gone("child") and self.gone("grandchild")))

    def test_dependent_with_another_live_owner_survives(self):
        a = self.mk("owner-a")
        b = self.mk("owner-b")
        dep = {"metadata": {"name": "shared", "ownerReferences": [
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner-a",
             "uid": a["metadata"]["uid"]},
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner-b",
             "uid": b["metadata"]["uid"]}]}}
        self.k.ok("POST", self.cm, dep)
        self.k.ok("DELETE", self.cm + "/owner-a")
        refs = wait_until(lambda: len(self.k.ok("GET", self.cm + "/shared")["metadata"][
            "ownerReferences"]) == 1 and self.k.ok("GET", self.cm + "/shared"))
        self.assertEqual([r["name"] for r in refs["metadata"]["ownerReferences"]], ["owner-b"])

    def test_foreground(self):
        root = self.mk("fg")
        self.mk("fg-child", owner=root)
        st, _, obj = self.k.delete(self.cm + "/fg?propagationPolicy=Foreground")
        self.assertEqual(st, 200)
        self.assertIn("foregroundDeletion", obj["metadata"]["finalizers"])
        self.assertTrue(wait_until(lambda: self.gone("fg-child") and self.gone("fg")))

    def test_orphan(self):
        root = self.mk("orph")
        self.mk("orph-child", owner=root)
        self.k.ok("DELETE", self.cm + "/orph", {"propagationPolicy": "Orphan"})
        self.assertTrue(wait_until(lambda: self.gone("orph")))
        child = self.k.ok("GET", self.cm + "/orph-child")
        self.assertNotIn("ownerReferences", child["metadata"])

    def test_owner_reference_validation(self):
        st, _, doc = self.k.post(self.cm, {"metadata": {"name": "badref", "ownerReferences": [
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "x"}]}})
        self.assertEqual(st, 422)
        self.assertEqual(doc["details"]["causes"][0]["field"], "metadata.ownerReferences.uid")
        refs = [{"apiVersion": "v1", "kind": "ConfigMap", "name": n, "uid": n,
                 "controller": True} for n in ("a", "b")]
        st, _, doc = self.k.post(self.cm, {"metadata": {"name": "tworefs",
                                                        "ownerReferences": refs}})
        self.assertEqual(st, 422)
        self.assertIn("Only one reference can have Controller set to true", doc["message"])

    def test_bad_propagation_policy(self):
        self.mk("badpol")
        st, _, _ = self.k.delete(self.cm + "/badpol", {"propagationPolicy": "Sometimes"})
        self.assertEqual(st, 422)

    def test_namespace_deletion(self):
        ns = harness.make_namespace(self.k, "gone")
        cm = "/api/v1/namespaces/%s/configmaps" % ns
        self.k.ok("POST", cm, {"metadata": {"name": "x"}})
        self.k.ok("POST", "/api/v1/namespaces/%s/secrets" % ns, {"metadata": {"name": "y"}})
        st, _, obj = self.k.delete("/api/v1/namespaces/" + ns)
        self.assertEqual(st, 200)
        self.assertEqual(obj["status"]["phase"], "Terminating")
        self.assertTrue(wait_until(lambda: self.k.get("/api/v1/namespaces/" + ns)[0] == 404))
        self.assertEqual(self.k.get(cm + "/x")[0], 404)
        self.assertEqual(self.k.get("/api/v1/namespaces/%s/secrets/y" % ns)[0], 404)

    def test_create_in_terminating_namespace_forbidden(self):
        ns = harness.make_namespace(self.k, "term")
        cm = "/api/v1/namespaces/%s/configmaps" % ns
        self.k.ok("POST", cm, {"metadata": {"name": "held", "finalizers": ["x.io/hold"]}})
        self.k.ok("DELETE", "/api/v1/namespaces/" + ns)
        st, _, doc = self.k.post(cm, {"metadata": {"name": "new"}})
        self.assertEqual(st, 403)
        self.assertIn("because it is being terminated", doc["message"])
        self.k.ok("PATCH", cm + "/held", {"metadata": {"finalizers": None}},
                  ctype="application/merge-patch+json")
        self.assertTrue(wait_until(lambda: self.k.get("/api/v1/namespaces/" + ns)[0] == 404))

    def test_delete_collection(self):
        ns = harness.make_namespace(self.k, "dc")
        cm = "/api/v1/namespaces/%s/configmaps" % ns
        for n, env in (("a", "x"), ("b", "x"), ("c", "y")):
            self.k.ok("POST", cm, {"metadata": {"name": n, "labels": {"env": env}}})
        self.k.ok("DELETE", cm + "?labelSelector=env%3Dx")
        left = [o["metadata"]["name"] for o in self.k.ok("GET", cm)["items"]]
        self.assertEqual(left, ["c"])


if __name__ == "__main__":
    unittest.main()
