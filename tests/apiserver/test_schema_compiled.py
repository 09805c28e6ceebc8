"""The compiled schema walks (schema.fast_*, schema.prune_default) give exactly
what the plain walks give, on the real CRDs (../shared/schemas/crds,
charts/aigw/crds) with random valid and invalid objects generated from each
schema. Runs in-process (no server needed)."""

import copy
import glob
import json
import os
import random
import unittest

import schema
import yamlio

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SHARED = os.environ.get("AIGW_SHARED") or os.path.join(ROOT, "..", "shared")


def crd_schemas():
    files = sorted(glob.glob(os.path.join(SHARED, "schemas", "crds", "*.yaml")) +
                   glob.glob(os.path.join(ROOT, "charts", "aigw", "crds", "*.yaml")))
    out = []
    for f in files:
        with open(f) as fh:
            for doc in yamlio.load_all(fh.read()):
                if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
                    continue
                for v in doc["spec"]["versions"]:
                    s = (v.get("schema") or {}).get("openAPIV3Schema")
                    if s:
                        out.append(("%s/%s" % (doc["metadata"]["name"], v["name"]), s))
    return out


WEIRD = [None, True, 0, -1, 1.5, "", "x" * 300, [], {}, {"a": 1}, [1, "a"], 2 ** 40, "Z"]


def gen(node, rng, depth, bad):
    """A value for node: mostly valid, sometimes (bad) wrong."""
    if not isinstance(node, dict):
        return rng.choice(WEIRD)
    if bad and rng.random() < 0.08:
        return rng.choice(WEIRD)
    if "default" in node and rng.random() < 0.1:
        return copy.deepcopy(node["default"])
    if "enum" in node and node["enum"] and rng.random() < 0.9:
        return rng.choice(node["enum"])
    t = node.get("type")
    if node.get("x-kubernetes-int-or-string"):
        return rng.choice([rng.randint(0, 100), "%d%%" % rng.randint(0, 100)])
    if t == "object" or (t is None and "properties" in node):
        out = {}
        props = node.get("properties") or {}
        req = set(node.get("required") or [])
        for k, sub in props.items():
            if depth > 7:
                break
            if k in req and not (bad and rng.random() < 0.1) or rng.random() < 0.5:
                out[k] = gen(sub, rng, depth + 1, bad)
        ap = node.get("additionalProperties")
        if isinstance(ap, dict):
            for n in range(rng.randint(0, 3)):
                out["k%d" % n] = gen(ap, rng, depth + 1, bad)
        if bad and rng.random() < 0.2 or rng.random() < 0.05:
            out["unknownField%d" % rng.randint(0, 9)] = {"x": [1, {"y": 2}]}
        return out
    if t == "array":
        it = node.get("items")
        n = rng.randint(0, 4)
        if bad and rng.random() < 0.1:
            n = rng.randint(0, 40)
        out = [gen(it, rng, depth + 1, bad) for _ in range(n)]
        if out and bad and rng.random() < 0.2:
            out.append(copy.deepcopy(out[0]))   # duplicate list-map key
        return out
    if t == "string":
        if node.get("format") == "date-time":
            return "2025-01-01T00:00:00Z"
        n = rng.choice([0, 1, 5, 20, 70, 300]) if bad else rng.randint(1, 12)
        return "".join(rng.choice("abcXYZ-_.:/09 ") for _ in range(n))
    if t == "integer":
        lo = node.get("minimum", -5)
        hi = node.get("maximum", 2 ** 33)
        if bad:
            return rng.choice([lo - 1, hi + 1, lo, hi, 1.0, 2.5])
        return rng.randint(int(lo), int(min(hi, lo + 1000)))
    if t == "number":
        return rng.choice([0, 0.5, -3.25, 10 ** 6])
    if t == "boolean":
        return rng.random() < 0.5
    return rng.choice(WEIRD)


class CompiledSchemaTest(unittest.TestCase):
    def compare(self, name, sch, obj):
        msg = "%s: %s" % (name, json.dumps(obj)[:300])
        self.assertEqual(sorted(schema.unknown_fields(obj, sch)),
                         sorted(schema.fast_unknown_fields(obj, sch)), msg)
        p1 = schema.prune(copy.deepcopy(obj), sch, top=True)
        p2 = schema.fast_prune(copy.deepcopy(obj), sch, top=True)
        self.assertEqual(json.dumps(p1), json.dumps(p2), msg)
        schema.default(p1, sch)
        schema.fast_default(p2, sch)
        self.assertEqual(json.dumps(p1), json.dumps(p2), msg)
        # The one-walk prune + default + unknown fields.
        unknown = []
        p3 = schema.prune_default(copy.deepcopy(obj), sch, unknown)
        self.assertEqual(json.dumps(p1), json.dumps(p3), msg)
        self.assertEqual(sorted(schema.unknown_fields(obj, sch)), sorted(unknown), msg)
        self.assertEqual(json.dumps(p1), json.dumps(schema.prune_default(
            copy.deepcopy(obj), sch)), msg)
        c1, c2 = [], []
        schema.validate(p1, sch, "", c1)
        schema.fast_validate(p2, sch, "", c2)
        self.assertEqual(c1, c2, msg)
        # Validation without pruning first (unknown and wrongly typed fields kept).
        c1, c2 = [], []
        schema.validate(obj, sch, "", c1)
        schema.fast_validate(obj, sch, "", c2)
        self.assertEqual(c1, c2, msg)
        return c1

    def test_real_crds_random_objects(self):
        schemas = crd_schemas()
        self.assertGreater(len(schemas), 10)
        rng = random.Random(1234)
        invalid = valid = 0
        for name, sch in schemas:
            for n in range(60):
                obj = gen(sch, rng, 0, bad=n % 2 == 1)
                if not isinstance(obj, dict):
                    continue
                obj.update({"apiVersion": "x/v1", "kind": "X",
                            "metadata": {"name": "n", "labels": {"a": "b"}}})
                if self.compare(name, sch, obj):
                    invalid += 1
                else:
                    valid += 1
        # Both kinds of object were exercised.
        self.assertGreater(valid, 50)
        self.assertGreater(invalid, 50)

    def test_handwritten_edge_cases(self):
        sch = {"type": "object", "properties": {
            "spec": {"type": "object", "required": ["a"], "maxProperties": 3, "properties": {
                "a": {"type": "string", "pattern": "^[a-z]+$", "minLength": 2},
                "bad": {"type": "string", "pattern": "([unclosed"},
                "n": {"type": "integer", "minimum": 1, "exclusiveMinimum": True,
                      "maximum": 5, "exclusiveMaximum": True},
                "f": {"type": "number"}, "nul": {"type": "string", "nullable": True},
                "ios": {"x-kubernetes-int-or-string": True},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "m": {"type": "object", "additionalProperties": {"type": "integer"}},
                "any": {"type": "object", "additionalProperties": True},
                "l": {"type": "array", "x-kubernetes-list-type": "map",
                      "x-kubernetes-list-map-keys": ["name"], "minItems": 1, "maxItems": 2,
                      "items": {"type": "object", "properties": {
                          "name": {"type": "string"},
                          "d": {"type": "string", "default": "dd"}}}}}}}}
        objs = [
            {"spec": {"a": "ok"}},
            {"spec": {"a": "NO", "bad": "x", "n": 1, "f": True, "nul": None, "ios": 1.5,
                      "free": {"z": {"q": 1}}, "m": {"x": "s", "y": 2}, "any": {"w": [1]},
                      "l": [{"name": "a"}, {"name": "a", "zz": 1}, {"name": "b"}],
                      "extra": 1}},
            {"spec": None}, {"spec": []}, {"spec": {"n": 5, "l": [], "a": 3}},
            {"spec": {"n": 3.0, "f": 1, "l": [None, 1, {"name": {"x": 1}}], "ios": "7"}},
        ]
        for o in objs:
            o["metadata"] = {"name": "x"}
            self.compare("edge", sch, o)


if __name__ == "__main__":
    unittest.main()
