"""list: label and field selectors, limit/continue pagination, consistency, 410."""

import unittest

import harness


class ListTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.k = harness.kube()
        cls.ns = harness.make_namespace(cls.k, "list")
        cls.cm = "/api/v1/namespaces/%s/configmaps" % cls.ns
        for i, (env, tier) in enumerate([("prod", "web"), ("prod", "db"), ("dev", "web"),
                                         ("dev", None), ("qa", "db")]):
            labels = {"env": env}
            if tier:
                labels["tier"] = tier
            cls.k.ok("POST", cls.cm, {"metadata": {"name": "o%d" % i, "labels": labels}})

    def names(self, query):
        doc = self.k.ok("GET", self.cm + "?" + query)
        return [o["metadata"]["name"] for o in doc["items"]]

    def test_list_document(self):
        doc = self.k.ok("GET", self.cm)
        self.assertEqual(doc["kind"], "ConfigMapList")
        self.assertEqual(doc["apiVersion"], "v1")
        self.assertTrue(doc["metadata"]["resourceVersion"].isdigit())
        self.assertEqual([o["metadata"]["name"] for o in doc["items"]],
                         ["o0", "o1", "o2", "o3", "o4"])
        self.assertNotIn("kind", doc["items"][0])

    def test_label_selectors(self):
        cases = {
            "labelSelector=env%3Dprod": ["o0", "o1"],
            "labelSelector=env%3D%3Dprod": ["o0", "o1"],
            "labelSelector=env!%3Dprod": ["o2", "o3", "o4"],
            "labelSelector=env+in+(dev,qa)": ["o2", "o3", "o4"],
            "labelSelector=env+notin+(dev,qa)": ["o0", "o1"],
            "labelSelector=tier": ["o0", "o1", "o2", "o4"],
            "labelSelector=!tier": ["o3"],
            "labelSelector=env%3Dprod,tier%3Ddb": ["o1"],
            "labelSelector=tier+notin+(web)": ["o1", "o3", "o4"],
        }
        for q, want in cases.items():
            self.assertEqual(self.names(q), want, q)

    def test_bad_selector(self):
        st, _, doc = self.k.get(self.cm + "?labelSelector=a%3D%3D%3Db")
        self.assertEqual(st, 400)
        st, _, doc = self.k.get(self.cm + "?fieldSelector=spec.x%3D1")
        self.assertEqual(st, 400)
        self.assertEqual(doc["message"], "field label not supported: spec.x")

    def test_field_selectors(self):
        self.assertEqual(self.names("fieldSelector=metadata.name%3Do3"), ["o3"])
        self.assertEqual(self.names("fieldSelector=metadata.name!%3Do3"),
                         ["o0", "o1", "o2", "o4"])
        all_ns = self.k.ok("GET", "/api/v1/configmaps?fieldSelector=metadata.namespace%3D"
                           + self.ns)
        self.assertEqual(len(all_ns["items"]), 5)
        self.assertTrue(all(o["metadata"]["namespace"] == self.ns for o in all_ns["items"]))

    def test_pagination_is_consistent(self):
        p1 = self.k.ok("GET", self.cm + "?limit=2")
        self.assertEqual([o["metadata"]["name"] for o in p1["items"]], ["o0", "o1"])
        self.assertEqual(p1["metadata"]["remainingItemCount"], 3)
        tok = p1["metadata"]["continue"]
        # Writes after the first page do not show in later pages.
        self.k.ok("POST", self.cm, {"metadata": {"name": "o2a"}})
        self.k.ok("DELETE", self.cm + "/o3")
        p2 = self.k.ok("GET", self.cm + "?limit=2&continue=" + tok)
        self.assertEqual([o["metadata"]["name"] for o in p2["items"]], ["o2", "o3"])
        self.assertEqual(p2["metadata"]["resourceVersion"], p1["metadata"]["resourceVersion"])
        p3 = self.k.ok("GET", self.cm + "?limit=2&continue=" + p2["metadata"]["continue"])
        self.assertEqual([o["metadata"]["name"] for o in p3["items"]], ["o4"])
        self.assertNotIn("continue", p3["metadata"])
        # Restore for the other tests.
        self.k.ok("DELETE", self.cm + "/o2a")
        self.k.ok("POST", self.cm, {"metadata": {"name": "o3", "labels": {"env": "dev"}}})

    def test_pagination_with_selector(self):
        p1 = self.k.ok("GET", self.cm + "?limit=1&labelSelector=tier")
        names = [o["metadata"]["name"] for o in p1["items"]]
        tok = p1["metadata"]["continue"]
        self.assertNotIn("remainingItemCount", p1["metadata"])
        while tok:
            p = self.k.ok("GET", self.cm + "?limit=1&labelSelector=tier&continue=" + tok)
            names += [o["metadata"]["name"] for o in p["items"]]
            tok = p["metadata"].get("continue")
            self.assertLess(len(names), 10)
        self.assertEqual(names, ["o0", "o1", "o2", "o4"])

    def test_bad_continue(self):
        st, _, doc = self.k.get(self.cm + "?limit=1&continue=garbage")
        self.assertEqual(st, 400)
        self.assertEqual(doc["reason"], "BadRequest")


if __name__ == "__main__":
    unittest.main()
