"""Object metadata validation with kube-apiserver's messages (422 Invalid causes)."""

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
