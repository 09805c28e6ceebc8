"""Scale: 1,000 objects of 10 rules each applied by 4 concurrent clients, re-applied
unchanged (no writes), listed in pages and watched, within a generous bound."""

import threading
import time
import unittest

import harness

N = 1000
BOUND_SECONDS = 90


def widget(i, v):
    return {"apiVersion": "test.example.com/v1", "kind": "Widget",
            "metadata": {"name": "s%04d" % i,
                         "labels": {"app.kubernetes.io/managed-by": "aigw",
                                    "policy": "p%d" % (i % 10)}},
            "spec": {"rules": [{"name": "m%d" % j, "backendRefs": [
                {"name": "b%d" % j, "priority": j, "weight": 1}]} for j in range(10)],
                     "v": v}}


class ScaleTest(unittest.TestCase):
    def test_thousand_objects(self):
        k = harness.kube()
        harness.ensure_crds(k)
        ns = harness.make_namespace(k, "scale")
        path = "/apis/test.example.com/v1/namespaces/%s/widgets" % ns
        rv0 = k.ok("GET", path)["metadata"]["resourceVersion"]
        errors = []

        def worker(lo, hi, v):
            kk = harness.kube()
            for i in range(lo, hi):
                st, _, doc = kk.apply(path + "/s%04d" % i, widget(i, v), "aigw", force=True)
                if st not in (200, 201):
                    errors.append((i, st, doc))
            kk.close()

        def round_(v):
            ths = [threading.Thread(target=worker, args=(n * N // 4, (n + 1) * N // 4, v))
                   for n in range(4)]
            for t in ths:
                t.start()
            for t in ths:
                t.join()

        t0 = time.monotonic()
        round_(1)
        c0 = k.control("GET", "/_test/counters")["writes"]
        rv1 = k.ok("GET", path)["metadata"]["resourceVersion"]
        round_(1)       # unchanged: no new resourceVersion
        self.assertEqual(k.ok("GET", path)["metadata"]["resourceVersion"], rv1)
        round_(2)
        self.assertEqual(errors, [])
        items, tok, pages = [], "", 0
        while pages < 50:
            doc = k.ok("GET", path + "?limit=100" + ("&continue=" + tok if tok else ""))
            items += doc["items"]
            pages += 1
            tok = doc["metadata"].get("continue")
            if not tok:
                break
        self.assertEqual(len(items), N)
        self.assertTrue(all(o["metadata"]["generation"] == 2 and o["spec"]["v"] == 2
                            for o in items))
        sel = k.ok("GET", path + "?labelSelector=policy%3Dp3")["items"]
        self.assertEqual(len(sel), N // 10)
        w = k.watch(path + "?watch=1&resourceVersion=" + rv0, timeout=60)
        evs = w.take(2 * N)
        w.close()
        self.assertEqual(sum(1 for e in evs if e["type"] == "ADDED"), N)
        self.assertEqual(sum(1 for e in evs if e["type"] == "MODIFIED"), N)
        elapsed = time.monotonic() - t0
        self.assertGreaterEqual(k.control("GET", "/_test/counters")["writes"], c0 + 2 * N)
        self.assertLess(elapsed, BOUND_SECONDS)
        print("\nscale: %d objects x 3 apply rounds, paged list, watch: %.1fs" % (N, elapsed))


if __name__ == "__main__":
    unittest.main()
