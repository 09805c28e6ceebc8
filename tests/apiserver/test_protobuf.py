"""Protobuf request bodies of the core kinds kubectl's typed generators send."""

import unittest

import harness
import kprotobuf


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(num, value):
    if isinstance(value, int):
        return _varint(num << 3) + _varint(value)
    if isinstance(value, str):
        value = value.encode()
    return _varint(num << 3 | 2) + _varint(len(value)) + value


def entry(num, k, v):
    return field(num, field(1, k) + field(2, v))


def envelope(kind, raw):
    return kprotobuf.MAGIC + field(1, field(1, "v1") + field(2, kind)) + field(2, raw)


class ProtobufTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.k = harness.kube()
        cls.ns = harness.make_namespace(cls.k, "proto")

    def test_decode_configmap(self):
        meta = field(1, "pb") + field(2, "") + entry(11, "app", "x") + field(14, "f.io/x")
        raw = field(1, meta) + entry(2, "a", "b") + entry(3, "bin", b"\x00\x01") + field(4, 1)
        obj = kprotobuf.decode(envelope("ConfigMap", raw))
        self.assertEqual(obj, {"apiVersion": "v1", "kind": "ConfigMap",
                               "metadata": {"name": "pb", "labels": {"app": "x"},
                                            "finalizers": ["f.io/x"]},
                               "data": {"a": "b"}, "binaryData": {"bin": "AAE="},
                               "immutable": True})

    def test_decode_errors(self):
        with self.assertRaises(kprotobuf.ProtoError):
            kprotobuf.decode(b"nope")
        with self.assertRaises(kprotobuf.ProtoError):
            kprotobuf.decode(envelope("Pod", field(1, field(1, "p"))))
        with self.assertRaises(kprotobuf.ProtoError):
            kprotobuf.decode(kprotobuf.MAGIC + b"\x0a\xff")

    def test_create_secret_over_http(self):
        raw = field(1, field(1, "pbs")) + entry(2, "k", b"v") + field(3, "Opaque")
        st, _, doc = self.k.post("/api/v1/namespaces/%s/secrets" % self.ns,
                                 envelope("Secret", raw),
                                 ctype="application/vnd.kubernetes.protobuf")
        self.assertEqual(st, 201, doc)
        self.assertEqual(doc["data"], {"k": "dg=="})
        st, _, doc = self.k.post("/api/v1/namespaces/%s/pods" % self.ns,
                                 envelope("Pod", field(1, field(1, "p"))),
                                 ctype="application/vnd.kubernetes.protobuf")
        self.assertEqual(st, 415)


if __name__ == "__main__":
    unittest.main()
