"""The field manager's shortcuts agree with the plain definitions: _Resolver (indexed,
memoized value_at) with value_at, record_update through it with the per-path
_changed, and the FieldsV1 cache with decoding. Runs in-process (no server)."""

import json
import random
import unittest

import fieldmanager as fm


def rand_obj(rng, depth=0):
    out = {}
    for n in range(rng.randint(1, 4)):
        r = rng.random()
        k = "f%d" % rng.randint(0, 5)
        if depth < 3 and r < 0.3:
            out[k] = rand_obj(rng, depth + 1)
        elif depth < 3 and r < 0.6:
            items = []
            for _ in range(rng.randint(0, 5)):
                it = rand_obj(rng, depth + 1) if rng.random() < 0.7 else {}
                c = rng.random()
                if c < 0.7:
                    it["name"] = rng.choice(["a", "b", "c", 1, 1.0, True, None])
                elif c < 0.8:
                    it["name"] = {"x": rng.randint(0, 1)}     # unhashable key value
                items.append(it if rng.random() < 0.95 else "scalar")
            out[rng.choice(["items", "conditions", k])] = items
        elif r < 0.65:
            out[k] = {}
        else:
            out[k] = rng.choice([1, "s", None, True, [1, 2], 2.5])
    return out


def mutate(rng, obj):
    o = json.loads(json.dumps(obj))

    def walk(v):
        if isinstance(v, dict):
            for k in list(v):
                r = rng.random()
                if r < 0.1:
                    del v[k]
                elif r < 0.2:
                    v[k] = rng.choice([0, "t", {}, [3]])
                else:
                    walk(v[k])
            if rng.random() < 0.1:
                v["new%d" % rng.randint(0, 3)] = "n"
        elif isinstance(v, list):
            if v and rng.random() < 0.2:
                v.pop(rng.randrange(len(v)))
            if rng.random() < 0.2:
                v.append({"name": rng.choice(["a", "d"]), "z": 1})
            for x in v:
                walk(x)
    walk(o)
    return o


class FastFieldManagerTest(unittest.TestCase):
    def test_resolver_matches_value_at(self):
        rng = random.Random(7)
        for _ in range(400):
            a = rand_obj(rng)
            b = mutate(rng, a)
            paths = fm.all_paths(a) | fm.all_paths(b) | fm.leaf_paths(a) | fm.leaf_paths(b)
            ra, rb = fm._Resolver(a), fm._Resolver(b)
            for p in sorted(paths, key=repr):
                for obj, r in ((a, ra), (b, rb)):
                    ok1, v1 = fm.value_at(obj, p)
                    ok2, v2 = r.get(p)
                    self.assertEqual(ok1, ok2, p)
                    self.assertIs(v1, v2, p)
                self.assertEqual(fm._changed(a, b, p), fm._changed_r(ra, rb, p), p)

    def test_changed_leaves_matches_per_leaf_check(self):
        rng = random.Random(5)
        for n in range(600):
            a = rand_obj(rng)
            b = mutate(rng, a) if n % 3 else json.loads(json.dumps(a))
            if n % 5 == 0:      # shared subtrees, as after a shallow copy
                b = dict(b, **{k: v for k, v in a.items() if rng.random() < 0.5})
            ra, rb = fm._Resolver(b), fm._Resolver(a)
            want = {p for p in fm.leaf_paths(b) if fm._changed(a, b, p)}
            got = set()
            fm._changed_leaves(b, (), None, rb, ra, got)
            self.assertEqual(want, got)

    def test_record_update_matches_plain_definition(self):
        rng = random.Random(11)
        for n in range(300):
            old = {"metadata": {"name": "x"}, "spec": rand_obj(rng)}
            new = {"metadata": {"name": "x"}, "spec": mutate(rng, old["spec"])}
            before, after = fm.strip_untracked(old), fm.strip_untracked(new)
            want_changed = {p for p in fm.leaf_paths(after) if fm._changed(before, after, p)}
            want_removed = {p for p in fm.leaf_paths(before) if not fm.value_at(after, p)[0]}
            mf = fm.record_update(None, old, "a", "", "v1", "t0")
            old["metadata"]["managedFields"] = mf
            got = fm.record_update(old, new, "b", "", "v1", "t1")
            mine = [e for e in got if e["manager"] == "b"]
            if want_changed:
                self.assertEqual(len(mine), 1)
                self.assertTrue(want_changed <= fm.from_fields_v1(mine[0]["fieldsV1"]))
            else:
                self.assertEqual(mine, [])
            # Manager a lost exactly the changed and removed fields (of those that exist).
            a_before = fm.from_fields_v1(mf[0]["fieldsV1"]) if mf else set()
            a_after = [e for e in got if e["manager"] == "a"]
            a_after = fm.from_fields_v1(a_after[0]["fieldsV1"]) if a_after else set()
            existing = fm.all_paths(after)
            self.assertEqual(a_after, (a_before - want_changed - want_removed) & existing)

    def test_fields_v1_cache_round_trip(self):
        rng = random.Random(3)
        for _ in range(300):
            o = rand_obj(rng)
            paths = sorted(fm.all_paths(o) | fm.leaf_paths(o), key=repr)
            sub = {p for p in paths if rng.random() < 0.6}
            if not sub:
                continue
            e = fm.Entry("m", "Update", "v1", "t", set(sub))
            tree = e.to_json()["fieldsV1"]
            self.assertEqual(fm.from_fields_v1(json.loads(json.dumps(tree))), sub)
            self.assertEqual(set(fm._fields_of(tree)), sub)
            # A decoded copy (another id) is decoded, not taken from the cache.
            copy = json.loads(json.dumps(tree))
            self.assertEqual(set(fm._fields_of(copy)), sub)


if __name__ == "__main__":
    unittest.main()
