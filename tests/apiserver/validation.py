"""Object metadata validation with kube-apiserver's messages (422 Invalid causes)."""

import base64
import binascii
import json
import re

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_QNAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                 "characters, '-' or '.', and must start and end with an alphanumeric character "
                 "(e.g. 'example.com', regex used for validation is "
                 "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
             "or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  "
             "or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
DNS1035_MSG = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
               "start with an alphabetic character, and end with an alphanumeric character "
               "(e.g. 'my-name',  or 'abc-123', regex used for validation is "
               "'[a-z]([-a-z0-9]*[a-z0-9])?')")


def _q(v):
    return json.dumps(v)


def name_causes(resource, name, field="metadata.name"):
    """Causes for an invalid object name of `resource` (a Resource)."""
    if resource.plural == "namespaces" and not resource.group:
        regex, msg, limit = _LABEL, LABEL_MSG, 63
    elif resource.plural == "services" and not resource.group:
        regex, msg, limit = _DNS1035, DNS1035_MSG, 63
    else:
        regex, msg, limit = _SUBDOMAIN, SUBDOMAIN_MSG, 253
    out = []
    if len(name) > limit:
        out.append((field, "FieldValueInvalid", "Invalid value: %s: must be no more than %d "
                    "characters" % (_q(name), limit)))
    if not regex.match(name):
        out.append((field, "FieldValueInvalid", "Invalid value: %s: %s" % (_q(name), msg)))
    return out


def _qualified_name_causes(key, field):
    prefix, slash, nm = key.rpartition("/")
    out = []
    if slash and (not prefix or len(prefix) > 253 or not _SUBDOMAIN.match(prefix)):
        out.append((field, "FieldValueInvalid", "Invalid value: %s: prefix part %s"
                    % (_q(key), SUBDOMAIN_MSG)))
    if not nm or len(nm) > 63 or not _QNAME.match(nm):
        out.append((field, "FieldValueInvalid", "Invalid value: %s: name part must consist of "
                    "alphanumeric characters, '-', '_' or '.', and must start and end with an "
                    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
                    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
                    % _q(key)))
    return out


def metadata_causes(resource, obj):
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return [("metadata", "FieldValueRequired", "Required value")]
    out = []
    name = meta.get("name")
    if not name:
        out.append(("metadata.name", "FieldValueRequired",
                    "Required value: name or generateName is required"))
    elif not isinstance(name, str):
        out.append(("metadata.name", "FieldValueInvalid", "Invalid value: %s" % _q(name)))
    else:
        out.extend(name_causes(resource, name))
    labels = meta.get("labels") or {}
    if not isinstance(labels, dict):
        out.append(("metadata.labels", "FieldValueInvalid", "Invalid value: must be a map"))
        labels = {}
    for k, v in labels.items():
        out.extend(_qualified_name_causes(k, "metadata.labels"))
        if not isinstance(v, str) or len(v) > 63 or not _LABEL_VALUE.match(v):
            out.append(("metadata.labels", "FieldValueInvalid", "Invalid value: %s: a valid "
                        "label must be an empty string or consist of alphanumeric characters, "
                        "'-', '_' or '.', and must start and end with an alphanumeric "
                        "character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
                        "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')" % _q(v)))
    out.extend(_owner_causes(meta.get("ownerReferences")))
    ann = meta.get("annotations") or {}
    if not isinstance(ann, dict):
        out.append(("metadata.annotations", "FieldValueInvalid", "Invalid value: must be a map"))
        ann = {}
    for k, v in ann.items():
        out.extend(_qualified_name_causes(k, "metadata.annotations"))
        if not isinstance(v, str):
            out.append(("metadata.annotations", "FieldValueInvalid",
                        "Invalid value: %s: must be a string" % _q(v)))
    return out


_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
CONFIG_KEY_MSG = ("a valid config key must consist of alphanumeric characters, '-', '_' or '.' "
                  "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation "
                  "is '[-._a-zA-Z0-9]+')")


def decode_problem(resource, obj):
    """The message of the 400 a real server gives when the body does not decode
    into the Go type (ConfigMap/Secret data), or None."""
    if resource.group or resource.plural not in ("configmaps", "secrets"):
        return None
    prefix = "%s in version \"v1\" cannot be handled as a %s: " % (resource.kind,
                                                                   resource.kind)
    for field in ("data", "binaryData", "stringData"):
        d = obj.get(field)
        if d is None:
            continue
        if not isinstance(d, dict):
            return prefix + "json: cannot unmarshal %s into Go struct field %s.%s of type " \
                "map[string]string" % (type(d).__name__, resource.kind, field)
        for v in d.values():
            if not isinstance(v, str):
                return prefix + "json: cannot unmarshal %s into Go struct field %s.%s of " \
                    "type string" % ("number" if isinstance(v, (int, float)) else
                                     type(v).__name__, resource.kind, field)
            if field != "stringData" and (resource.plural == "secrets" or
                                          field == "binaryData"):
                try:
                    base64.b64decode(v, validate=True)
                except (binascii.Error, ValueError):
                    return prefix + "illegal base64 data at input byte %d" % _bad_byte(v)
    return None


def _bad_byte(v):
    for n, ch in enumerate(v):
        if not (ch.isalnum() or ch in "+/="):
            return n
    return len(v) - (len(v) % 4)


def data_key_causes(resource, obj):
    if resource.group or resource.plural not in ("configmaps", "secrets"):
        return []
    out = []
    for field in ("data", "binaryData"):
        for k in (obj.get(field) or {}):
            if not _CONFIG_KEY.match(k) or len(k) > 253:
                out.append(("%s[%s]" % (field, k), "FieldValueInvalid",
                            "Invalid value: %s: %s" % (_q(k), CONFIG_KEY_MSG)))
    return out


def _owner_causes(refs):
    if refs is None:
        return []
    if not isinstance(refs, list):
        return [("metadata.ownerReferences", "FieldValueInvalid", "Invalid value: must be a list")]
    out = []
    controllers = []
    for r in refs:
        if not isinstance(r, dict):
            out.append(("metadata.ownerReferences", "FieldValueInvalid",
                        "Invalid value: must be an object"))
            continue
        for f, what in (("apiVersion", "version"), ("kind", "kind"), ("name", "name"),
                        ("uid", "uid")):
            if not r.get(f):
                out.append(("metadata.ownerReferences.%s" % f, "FieldValueInvalid",
                            'Invalid value: "": %s must not be empty' % what))
        if r.get("controller") is True:
            controllers.append("%s/%s" % (r.get("kind", ""), r.get("name", "")))
    if len(controllers) > 1:
        out.append(("metadata.ownerReferences", "FieldValueInvalid",
                    "Invalid value: []v1.OwnerReference: Only one reference can have Controller "
                    "set to true. Found \"true\" in references for %s" % " and ".join(controllers)))
    return out
