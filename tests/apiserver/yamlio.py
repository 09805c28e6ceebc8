"""YAML decoding the way Kubernetes does it (YAML to JSON values; timestamps stay
strings). Needs python3-yaml (hack/install-deps.sh installs it)."""

import json

try:
    import yaml
except ImportError:  # pragma: no cover - reported by the caller
    yaml = None

if yaml is not None:
    _Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class KubeLoader(_Base):  # pylint: disable=too-many-ancestors
        """SafeLoader without the timestamp resolver (sigs.k8s.io/yaml keeps strings)."""

    KubeLoader.yaml_implicit_resolvers = {
        k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
        for k, v in _Base.yaml_implicit_resolvers.copy().items()}


def available():
    return yaml is not None


def _jsonable(v):
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    if isinstance(v, (bytes, bytearray)):
        return v.decode("utf-8", "replace")
    return v


def load_one(text):
    """One document from JSON or YAML text. Raises ValueError."""
    t = text.lstrip()
    if t.startswith("{") or t.startswith("["):
        try:
            return json.loads(text)
        except ValueError:
            pass
    if yaml is None:
        raise ValueError("YAML support needs python3-yaml")
    try:
        return _jsonable(yaml.load(text, Loader=KubeLoader))
    except yaml.YAMLError as e:
        raise ValueError(str(e)) from None


def load_all(text):
    """Every non-empty document of a JSON or multi-document YAML text."""
    t = text.lstrip()
    if t.startswith("{") or t.startswith("["):
        try:
            return [json.loads(text)]
        except ValueError:
            pass
    if yaml is None:
        raise ValueError("YAML support needs python3-yaml")
    try:
        return [_jsonable(d) for d in yaml.load_all(text, Loader=KubeLoader) if d is not None]
    except yaml.YAMLError as e:
        raise ValueError(str(e)) from None
