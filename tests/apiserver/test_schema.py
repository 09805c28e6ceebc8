"""CRD structural schemas: pruning, defaulting, validation, list-map keys in apply."""

import unittest

import harness

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "routes.schema.example.com"},
    "spec": {
        "group": "schema.example.com", "scope": "Namespaced",
        "names": {"plural": "routes", "singular": "route", "kind": "Route"},
        "versions": [{
            "name": "v1", "served": True, "storage": True,
            "subresources": {"status": {}},
            "schema": {"openAPIV3Schema": {
                "type": "object",
                "required": ["spec"],
                "properties": {
                    "apiVersion": {"type": "string"}, "kind": {"type": "string"},
                    "metadata": {"type": "object"},
                    "spec": {
                        "type": "object", "required": ["target"],
                        "properties": {
                            "target": {"type": "string", "maxLength": 10,
                                       "pattern": "^[a-z-]+$"},
                            "mode": {"type": "string", "enum": ["Fast", "Safe"],
                                     "default": "Safe"},
                            "replicas": {"type": "integer", "minimum": 1, "maximum": 5},
                            "extra": {"type": "object",
                                      "x-kubernetes-preserve-unknown-fields": True},
                            "ports": {
                                "type": "array", "maxItems": 3,
                                "x-kubernetes-list-type": "map",
                                "x-kubernetes-list-map-keys": ["port", "protocol"],
                                "items": {"type": "object",
                                          "required": ["port"],
                                          "properties": {
                                              "port": {"type": "integer"},
                                              "protocol": {"type": "string",
                                                           "default": "TCP"},
                                              "label": {"type": "string"}}}},
                            "tags": {"type": "array", "items": {"type": "string"}}}},
                    "status": {"type": "object", "properties": {
                        "conditions": {"type": "array", "x-kubernetes-list-type": "map",
                                       "x-kubernetes-list-map-keys": ["type"],
                                       "items": {"type": "object", "properties": {
                                           "type": {"type": "string"},
                                           "status": {"type": "string"}}}}}}}}}}]}}


class SchemaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.k = harness.kube()
        st, _, doc = cls.k.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CRD)
        assert st in (201, 409), doc
        cls.ns = harness.make_namespace(cls.k, "schema")
        cls.path = "/apis/schema.example.com/v1/namespaces/%s/routes" % cls.ns

    def route(self, name, spec):
        return {"apiVersion": "schema.example.com/v1", "kind": "Route",
                "metadata": {"name": name}, "spec": spec}

    def test_prune_and_default(self):
        obj = self.k.ok("POST", self.path, self.route("r1", {
            "target": "a", "unknown": 1, "extra": {"free": {"x": 1}},
            "ports": [{"port": 80, "junk": True}]}))
        self.assertEqual(obj["spec"], {"target": "a", "mode": "Safe",
                                       "extra": {"free": {"x": 1}},
                                       "ports": [{"port": 80, "protocol": "TCP"}]})

    def test_field_validation(self):
        body = self.route("fv", {"target": "a", "typo": 1, "ports": [{"port": 1, "x": 2}]})
        st, _, doc = self.k.post(self.path + "?fieldValidation=Strict", body)
        self.assertEqual(st, 400)
        self.assertEqual(doc["message"], 'Route in version "v1" cannot be handled as a Route: '
                         'strict decoding error: unknown field "spec.ports[0].x", '
                         'unknown field "spec.typo"')
        st, hdrs, doc = self.k.post(self.path, body)
        self.assertEqual(st, 201)
        self.assertIn('299 - "unknown field \\"spec.typo\\""', hdrs.get("warning", ""))
        st, _, _ = self.k.post(self.path + "?fieldValidation=Bogus", body)
        self.assertEqual(st, 400)

    def test_validation_errors(self):
        st, _, doc = self.k.post(self.path, self.route("r2", {
            "target": "Bad_Target_Too_Long", "mode": "Slow", "replicas": 9,
            "ports": [{"port": 1}, {"port": 1}, {"port": 2}, {"port": 3}]}))
        self.assertEqual(st, 422)
        self.assertTrue(doc["message"].startswith('Route.schema.example.com "r2" is invalid: ['),
                        doc["message"])
        causes = {(c["field"], c["reason"]) for c in doc["details"]["causes"]}
        for want in [("spec.target", "FieldValueTooLong"), ("spec.target", "FieldValueInvalid"),
                     ("spec.mode", "FieldValueNotSupported"),
                     ("spec.replicas", "FieldValueInvalid"),
                     ("spec.ports", "FieldValueTooMany"),
                     ("spec.ports[1]", "FieldValueDuplicate")]:
            self.assertIn(want, causes)
        msgs = [c["message"] for c in doc["details"]["causes"]]
        self.assertIn('Unsupported value: "Slow": supported values: "Fast", "Safe"', msgs)
        st, _, doc = self.k.post(self.path, self.route("r3", {"replicas": "two"}))
        self.assertEqual(st, 422)
        causes = {(c["field"], c["reason"]) for c in doc["details"]["causes"]}
        self.assertIn(("spec.target", "FieldValueRequired"), causes)
        self.assertIn(("spec.replicas", "FieldValueTypeInvalid"), causes)

    def test_apply_uses_list_map_keys(self):
        p = self.path + "/r4"
        self.k.ok("PATCH", p + "?fieldManager=a", self.route("r4", {
            "target": "x", "ports": [{"port": 80, "label": "a"}], "tags": ["one"]}),
            ctype="application/apply-patch+yaml")
        obj = self.k.ok("PATCH", p + "?fieldManager=b", self.route("r4", {
            "target": "x", "ports": [{"port": 80, "protocol": "UDP", "label": "b"}]}),
            ctype="application/apply-patch+yaml")
        self.assertEqual(obj["spec"]["ports"], [{"port": 80, "protocol": "TCP", "label": "a"},
                                                {"port": 80, "protocol": "UDP", "label": "b"}])
        mf = {e["manager"]: e["fieldsV1"] for e in obj["metadata"]["managedFields"]}
        self.assertIn('k:{"port":80,"protocol":"UDP"}', mf["b"]["f:spec"]["f:ports"])
        # Lists without a list type are atomic in CRDs.
        self.assertEqual(mf["a"]["f:spec"]["f:tags"], {})
        st, _, doc = self.k.apply(p, self.route("r4", {
            "target": "x", "ports": [{"port": 80, "protocol": "UDP", "label": "c"}]}), "a")
        self.assertEqual(st, 409)
        self.assertIn('.spec.ports[port=80,protocol="UDP"].label', doc["message"])

    def test_status_conditions_keyed_by_type(self):
        p = self.path + "/r5"
        self.k.ok("POST", self.path, self.route("r5", {"target": "x"}))
        self.k.ok("PATCH", p + "/status?fieldManager=c1", dict(
            self.route("r5", {}), status={"conditions": [{"type": "A", "status": "True"}]}),
            ctype="application/apply-patch+yaml")
        obj = self.k.ok("PATCH", p + "/status?fieldManager=c2", dict(
            self.route("r5", {}), status={"conditions": [{"type": "B", "status": "False"}]}),
            ctype="application/apply-patch+yaml")
        self.assertEqual([c["type"] for c in obj["status"]["conditions"]], ["A", "B"])


if __name__ == "__main__":
    unittest.main()
