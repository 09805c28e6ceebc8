"""watch: events, resume, initial state, selectors, bookmarks, timeouts, 410 Expired."""

import time
import unittest

import harness


class WatchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.k = harness.kube()
        cls.ns = harness.make_namespace(cls.k, "watch")
        cls.cm = "/api/v1/namespaces/%s/configmaps" % cls.ns

    def test_events_from_resource_version(self):
        k = self.k
        rv = k.ok("GET", self.cm)["metadata"]["resourceVersion"]
        k.ok("POST", self.cm, {"metadata": {"name": "w1"}, "data": {"a": "1"}})
        k.ok("PATCH", self.cm + "/w1", {"data": {"a": "2"}},
             ctype="application/merge-patch+json")
        k.ok("DELETE", self.cm + "/w1")
        w = k.watch(self.cm + "?watch=1&resourceVersion=" + rv)
        self.assertEqual(w.status, 200)
        evs = w.take(3)
        w.close()
        self.assertEqual([e["type"] for e in evs], ["ADDED", "MODIFIED", "DELETED"])
        self.assertEqual(evs[1]["object"]["data"], {"a": "2"})
        self.assertEqual(evs[0]["object"]["kind"], "ConfigMap")
        rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in evs]
        self.assertEqual(rvs, sorted(set(rvs)))
        self.assertGreater(rvs[0], int(rv))

    def test_live_events_and_resume(self):
        k = self.k
        w = k.watch(self.cm + "?watch=true&resourceVersion=" +
                    k.ok("GET", self.cm)["metadata"]["resourceVersion"])
        k.ok("POST", self.cm, {"metadata": {"name": "live1"}})
        k.ok("POST", self.cm, {"metadata": {"name": "live2"}})
        evs = w.take(1)
        w.close()
        self.assertEqual(evs[0]["object"]["metadata"]["name"], "live1")
        # Resume from the last seen resourceVersion: nothing lost, nothing repeated.
        w = k.watch(self.cm + "?watch=1&resourceVersion=" +
                    evs[0]["object"]["metadata"]["resourceVersion"])
        ev = w.take(1)[0]
        w.close()
        self.assertEqual((ev["type"], ev["object"]["metadata"]["name"]), ("ADDED", "live2"))

    def test_initial_state_without_resource_version(self):
        ns = harness.make_namespace(self.k, "winit")
        cm = "/api/v1/namespaces/%s/configmaps" % ns
        for n in ("a", "b"):
            self.k.ok("POST", cm, {"metadata": {"name": n}})
        w = self.k.watch(cm + "?watch=1")
        evs = w.take(2)
        w.close()
        self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in evs],
                         [("ADDED", "a"), ("ADDED", "b")])

    def test_watch_path_and_name(self):
        k = self.k
        rv = k.ok("GET", self.cm)["metadata"]["resourceVersion"]
        k.ok("POST", self.cm, {"metadata": {"name": "other"}})
        k.ok("POST", self.cm, {"metadata": {"name": "mine"}})
        w = k.watch("/api/v1/watch/namespaces/%s/configmaps/mine?resourceVersion=%s"
                    % (self.ns, rv))
        ev = w.take(1)[0]
        w.close()
        self.assertEqual(ev["object"]["metadata"]["name"], "mine")

    def test_label_selector_transitions(self):
        k = self.k
        rv = k.ok("GET", self.cm)["metadata"]["resourceVersion"]
        k.ok("POST", self.cm, {"metadata": {"name": "sel", "labels": {"x": "no"}}})
        k.ok("PATCH", self.cm + "/sel", {"metadata": {"labels": {"x": "yes"}}},
             ctype="application/merge-patch+json")
        k.ok("PATCH", self.cm + "/sel", {"data": {"d": "1"}},
             ctype="application/merge-patch+json")
        k.ok("PATCH", self.cm + "/sel", {"metadata": {"labels": {"x": "no"}}},
             ctype="application/merge-patch+json")
        w = k.watch(self.cm + "?watch=1&labelSelector=x%3Dyes&timeoutSeconds=2&"
                    "resourceVersion=" + rv)
        evs = w.take(10)
        w.close()
        self.assertEqual([e["type"] for e in evs], ["ADDED", "MODIFIED", "DELETED"])

    def test_timeout_ends_stream(self):
        t0 = time.monotonic()
        w = self.k.watch(self.cm + "?watch=1&timeoutSeconds=1&resourceVersion=" +
                         self.k.ok("GET", self.cm)["metadata"]["resourceVersion"])
        self.assertEqual(w.take(1), [])
        w.close()
        self.assertLess(time.monotonic() - t0, 5)

    def test_bookmarks(self):
        rv = self.k.ok("GET", self.cm)["metadata"]["resourceVersion"]
        self.k.control("POST", "/_test/bookmark-interval", {"seconds": 0.2})
        try:
            w = self.k.watch(self.cm + "?watch=1&allowWatchBookmarks=true&timeoutSeconds=3&"
                             "resourceVersion=" + rv)
            # A write elsewhere moves the global revision; the bookmark carries it.
            other = self.k.ok("POST", "/api/v1/namespaces/%s/secrets" % self.ns,
                              {"metadata": {"name": harness.unique("bm")}})
            bm = None
            for _ in range(50):
                ev = w.next()
                if ev is None:
                    break
                if ev["type"] == "BOOKMARK" and int(ev["object"]["metadata"][
                        "resourceVersion"]) >= int(other["metadata"]["resourceVersion"]):
                    bm = ev
                    break
            w.close()
        finally:
            self.k.control("POST", "/_test/bookmark-interval", {"seconds": 1})
        self.assertIsNotNone(bm)
        self.assertEqual(bm["object"]["kind"], "ConfigMap")
        self.assertEqual(list(bm["object"]["metadata"]), ["resourceVersion"])

    def test_custom_resource_watch(self):
        harness.ensure_crds(self.k)
        path = "/apis/test.example.com/v1/namespaces/%s/widgets" % self.ns
        rv = self.k.ok("GET", path)["metadata"]["resourceVersion"]
        self.k.ok("POST", path, {"apiVersion": "test.example.com/v1", "kind": "Widget",
                                 "metadata": {"name": "ww"}, "spec": {}})
        w = self.k.watch(path + "?watch=1&resourceVersion=" + rv)
        ev = w.take(1)[0]
        w.close()
        self.assertEqual(ev["object"]["apiVersion"], "test.example.com/v1")


class HistoryTest(unittest.TestCase):
    """Compaction makes old resourceVersions and continue tokens expire."""

    @classmethod
    def setUpClass(cls):
        cls.k = harness.kube()
        cls.ns = harness.make_namespace(cls.k, "hist")
        cls.cm = "/api/v1/namespaces/%s/configmaps" % cls.ns

    def test_too_old_resource_version(self):
        k = self.k
        old = k.ok("POST", self.cm, {"metadata": {"name": "h1"}})["metadata"]["resourceVersion"]
        k.ok("PATCH", self.cm + "/h1", {"data": {"a": "1"}},
             ctype="application/merge-patch+json")
        k.control("POST", "/_test/compact")
        w = k.watch(self.cm + "?watch=1&resourceVersion=" + old)
        self.assertEqual(w.status, 200)
        ev = w.next()
        self.assertIsNone(w.next())
        w.close()
        self.assertEqual(ev["type"], "ERROR")
        st = ev["object"]
        self.assertEqual((st["kind"], st["code"], st["reason"]), ("Status", 410, "Expired"))
        self.assertRegex(st["message"], r"^too old resource version: %s \(\d+\)$" % old)
        # A list at the current revision then a watch from it works again.
        rv = k.ok("GET", self.cm)["metadata"]["resourceVersion"]
        w = k.watch(self.cm + "?watch=1&resourceVersion=" + rv)
        k.ok("DELETE", self.cm + "/h1")
        self.assertEqual(w.take(1)[0]["type"], "DELETED")
        w.close()

    def test_continue_token_expires(self):
        k = self.k
        for n in ("p1", "p2", "p3"):
            k.ok("POST", self.cm, {"metadata": {"name": n}})
        tok = k.ok("GET", self.cm + "?limit=1")["metadata"]["continue"]
        k.ok("PATCH", self.cm + "/p2", {"data": {"x": "y"}},
             ctype="application/merge-patch+json")
        k.control("POST", "/_test/compact")
        st, _, doc = k.get(self.cm + "?limit=1&continue=" + tok)
        self.assertEqual(st, 410)
        self.assertEqual(doc["reason"], "Expired")
        self.assertIn("The provided continue parameter is too old", doc["message"])


if __name__ == "__main__":
    unittest.main()
