"""Injected faults, the request log and the counters."""

import time
import unittest

import faults as faultsmod
import harness

RESET = {k: v for k, v in faultsmod.DEFAULTS.items()}


class FaultsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.k = harness.kube()
        cls.ns = harness.make_namespace(cls.k, "faults")
        cls.cm = "/api/v1/namespaces/%s/configmaps" % cls.ns
        cls.k.ok("POST", cls.cm, {"metadata": {"name": "base"}})

    def tearDown(self):
        self.k.control("POST", "/_test/faults", RESET)

    def set(self, **kw):
        return self.k.control("POST", "/_test/faults", kw)

    def test_next_500(self):
        self.set(fail_next_500=2, verbs=["GET"])
        codes = [self.k.get(self.cm + "/base")[0] for _ in range(3)]
        self.assertEqual(codes, [500, 500, 200])
        st, _, doc = self.k.get(self.cm + "/base")
        self.assertEqual(st, 200)

    def test_500_status_body(self):
        self.set(fail_next_500=1)
        st, _, doc = self.k.get(self.cm)
        self.assertEqual(st, 500)
        self.assertEqual(doc["reason"], "InternalError")

    def test_throttle_has_retry_after(self):
        self.set(throttle_next=1, retry_after=3)
        st, hdrs, doc = self.k.get(self.cm)
        self.assertEqual(st, 429)
        self.assertEqual(hdrs["retry-after"], "3")
        self.assertEqual(doc["reason"], "TooManyRequests")
        self.assertEqual(doc["details"]["retryAfterSeconds"], 3)
        self.assertEqual(self.k.get(self.cm)[0], 200)

    def test_conflicts_only_on_writes(self):
        self.set(conflict_next=1)
        self.assertEqual(self.k.get(self.cm + "/base")[0], 200)
        st, _, doc = self.k.patch(self.cm + "/base", {"data": {"a": "1"}})
        self.assertEqual(st, 409)
        self.assertEqual(doc["reason"], "Conflict")
        self.assertEqual(self.k.patch(self.cm + "/base", {"data": {"a": "1"}})[0], 200)

    def test_rates_are_deterministic_with_seed(self):
        def run():
            self.set(seed=42, error_rate=0.5, verbs=["GET"])
            out = [self.k.get(self.cm + "/base")[0] for _ in range(20)]
            self.set(error_rate=0)
            return out
        a, b = run(), run()
        self.assertEqual(a, b)
        self.assertIn(500, a)
        self.assertIn(200, a)

    def test_latency(self):
        self.set(latency_ms=300)
        t0 = time.monotonic()
        self.k.get(self.cm)
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)

    def test_watch_dropped_after_n_events(self):
        rv = self.k.ok("GET", self.cm)["metadata"]["resourceVersion"]
        for i in range(5):
            self.k.ok("POST", self.cm, {"metadata": {"name": "drop%d" % i}})
        self.set(watch_drop_after=2)
        w = self.k.watch(self.cm + "?watch=1&resourceVersion=" + rv)
        evs = w.take(10)
        w.close()
        self.assertEqual(len(evs), 2)
        counters = self.k.control("GET", "/_test/counters")
        self.assertGreaterEqual(counters["faults_watch_drop"], 1)
        # Resuming from the last event continues where the drop happened.
        w = self.k.watch(self.cm + "?watch=1&resourceVersion=" +
                         evs[-1]["object"]["metadata"]["resourceVersion"])
        nxt = w.take(2)
        w.close()
        self.assertEqual([e["object"]["metadata"]["name"] for e in nxt], ["drop2", "drop3"])

    def test_expire_next_resume(self):
        rv = self.k.ok("GET", self.cm)["metadata"]["resourceVersion"]
        self.set(expire_next_resumes=1)
        w = self.k.watch(self.cm + "?watch=1&resourceVersion=" + rv)
        ev = w.next()
        w.close()
        self.assertEqual(ev["type"], "ERROR")
        self.assertEqual(ev["object"]["code"], 410)
        self.assertEqual(ev["object"]["reason"], "Expired")
        w = self.k.watch(self.cm + "?watch=1&timeoutSeconds=1&resourceVersion=" + rv)
        self.assertEqual(w.take(1), [])
        w.close()

    def test_bad_fault_config(self):
        st, _, doc = self.k.request("POST", "/_test/faults", {"nonsense": 1}, token=False)
        self.assertEqual(st, 400)
        st, _, doc = self.k.request("POST", "/_test/faults", {"error_rate": 2}, token=False)
        self.assertEqual(st, 400)

    def test_counters_and_log(self):
        self.k.control("POST", "/_test/reset-counters")
        self.k.get(self.cm + "/base")
        self.k.get(self.cm)
        self.k.post(self.cm, {"metadata": {"name": harness.unique("cnt")}})
        self.k.patch(self.cm + "/base", {"data": {"c": "1"}})
        self.k.apply(self.cm + "/applied", {"apiVersion": "v1", "kind": "ConfigMap",
                                            "metadata": {"name": "applied"}}, "m")
        self.k.put(self.cm + "/base", self.k.ok("GET", self.cm + "/base"))
        self.k.delete(self.cm + "/applied")
        c = self.k.control("GET", "/_test/counters")
        self.assertEqual((c["GET"], c["LIST"], c["CREATE"], c["PATCH"], c["APPLY"],
                          c["UPDATE"], c["DELETE"]), (2, 1, 1, 1, 1, 1, 1))
        self.assertEqual(c["writes"], 5)
        self.assertEqual(c["by_resource"]["configmaps"]["GET"], 2)
        log = self.k.control("GET", "/_test/log")["items"]
        self.assertEqual([e["verb"] for e in log],
                         ["GET", "LIST", "CREATE", "PATCH", "APPLY", "GET", "UPDATE", "DELETE"])
        self.assertEqual(log[4]["fieldManager"], "m")
        self.assertEqual(log[0]["code"], 200)
        since = log[-2]["seq"]
        self.assertEqual(len(self.k.control("GET", "/_test/log?since=%d" % since)["items"]), 1)


if __name__ == "__main__":
    unittest.main()
