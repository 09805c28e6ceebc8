"""Decoding of Kubernetes protobuf request bodies for a few core kinds.

kubectl's typed generators (`kubectl create namespace|configmap|secret|
serviceaccount`) send `application/vnd.kubernetes.protobuf`: the magic
"k8s\\0", then a runtime.Unknown {typeMeta, raw} whose raw bytes are the object.
This decodes those kinds into the JSON form; answers stay JSON (those clients
also accept application/json). Other kinds get 415 like an unknown format.
"""

import base64
import datetime

MAGIC = b"k8s\x00"


class ProtoError(ValueError):
    pass


def _varint(buf, i):
    shift = result = 0
    while True:
        if i >= len(buf):
            raise ProtoError("truncated varint")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7
        if shift > 63:
            raise ProtoError("varint too long")


def fields(buf):
    """[(field number, wire type, value)]: value is int for varints, bytes otherwise."""
    out, i = [], 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(buf, i)
        elif wt == 2:
            n, i = _varint(buf, i)
            if i + n > len(buf):
                raise ProtoError("truncated field")
            v, i = buf[i:i + n], i + n
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ProtoError("unsupported wire type %d" % wt)
        out.append((num, wt, v))
    return out


def _s(v):
    return v.decode("utf-8")


def _map(entries, value_bytes=False):
    out = {}
    for e in entries:
        k, v = "", b""
        for num, _, x in fields(e):
            if num == 1:
                k = _s(x)
            elif num == 2:
                v = x
        out[k] = base64.b64encode(v).decode() if value_bytes else _s(v)
    return out


def _time(buf):
    secs = 0
    for num, _, x in fields(buf):
        if num == 1:
            secs = x
    return datetime.datetime.fromtimestamp(secs, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def _owner(buf):
    o = {}
    names = {1: "kind", 3: "name", 4: "uid", 5: "apiVersion"}
    for num, _, x in fields(buf):
        if num in names:
            o[names[num]] = _s(x)
        elif num == 6:
            o["controller"] = bool(x)
        elif num == 7:
            o["blockOwnerDeletion"] = bool(x)
    return o


def object_meta(buf):
    m, labels, ann, owners, fins = {}, [], [], [], []
    strings = {1: "name", 2: "generateName", 3: "namespace", 5: "uid", 6: "resourceVersion"}
    for num, _, x in fields(buf):
        if num in strings:
            if x:   # gogo-protobuf writes empty strings; JSON omits them
                m[strings[num]] = _s(x)
        elif num == 7:
            m["generation"] = x
        elif num == 8 and x:
            m["creationTimestamp"] = _time(x)
        elif num == 11:
            labels.append(x)
        elif num == 12:
            ann.append(x)
        elif num == 13:
            owners.append(_owner(x))
        elif num == 14:
            fins.append(_s(x))
    if labels:
        m["labels"] = _map(labels)
    if ann:
        m["annotations"] = _map(ann)
    if owners:
        m["ownerReferences"] = owners
    if fins:
        m["finalizers"] = fins
    return m


def _namespace(fs, obj):
    for num, _, x in fs:
        if num == 2:
            fins = [_s(v) for n, _, v in fields(x) if n == 1]
            if fins:
                obj["spec"] = {"finalizers": fins}


def _configmap(fs, obj):
    data, binary = [], []
    for num, _, x in fs:
        if num == 2:
            data.append(x)
        elif num == 3:
            binary.append(x)
        elif num == 4:
            obj["immutable"] = bool(x)
    if data:
        obj["data"] = _map(data)
    if binary:
        obj["binaryData"] = _map(binary, value_bytes=True)


def _secret(fs, obj):
    data, sdata = [], []
    for num, _, x in fs:
        if num == 2:
            data.append(x)
        elif num == 3 and x:
            obj["type"] = _s(x)
        elif num == 4:
            sdata.append(x)
        elif num == 5:
            obj["immutable"] = bool(x)
    if data:
        obj["data"] = _map(data, value_bytes=True)
    if sdata:
        obj["stringData"] = _map(sdata)


def _serviceaccount(fs, obj):
    for num, _, x in fs:
        if num == 4:
            obj["automountServiceAccountToken"] = bool(x)


KINDS = {"Namespace": _namespace, "ConfigMap": _configmap, "Secret": _secret,
         "ServiceAccount": _serviceaccount}


def decode(body):
    """The JSON object of a protobuf-encoded core kind. Raises ProtoError."""
    if not body.startswith(MAGIC):
        raise ProtoError("missing the k8s protobuf magic")
    api, kind, raw = "", "", b""
    for num, _, x in fields(body[4:]):
        if num == 1:
            for n, _, v in fields(x):
                if n == 1:
                    api = _s(v)
                elif n == 2:
                    kind = _s(v)
        elif num == 2:
            raw = x
    fn = KINDS.get(kind)
    if fn is None or api != "v1":
        raise ProtoError("protobuf bodies are decoded only for v1 %s" % ", ".join(sorted(KINDS)))
    obj = {"apiVersion": api, "kind": kind}
    fs = fields(raw)
    for num, _, x in fs:
        if num == 1:
            obj["metadata"] = object_meta(x)
    fn(fs, obj)
    return obj
