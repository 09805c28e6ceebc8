"""metav1.Status values and the ApiError exception every handler raises.

The messages, reasons and codes are the ones kube-apiserver sends, so clients
that decode errors (client-go, kubectl, aigw's kube client) see the same thing
they would see from a real cluster.
"""


class ApiError(Exception):
    """An error answered as a metav1.Status with HTTP code `code`."""

    def __init__(self, code, reason, message, details=None, headers=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self):
        return status_object(self.code, self.reason, self.message, self.details)


def status_object(code, reason, message, details=None, metadata=None):
    st = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": metadata or {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        st["details"] = details
    if not reason:
        del st["reason"]
    return st


def success_status(details):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Success", "details": details}


def qualified(resource, group):
    """configmaps / airoutingpolicies.aigateway.kagenti.dev, as Kubernetes prints it."""
    return resource + "." + group if group else resource


def _details(name, resource, group, **extra):
    d = {}
    if name:
        d["name"] = name
    if group:
        d["group"] = group
    d["kind"] = resource
    d.update(extra)
    return d


def not_found(resource, group, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (qualified(resource, group), name),
                    _details(name, resource, group))


def not_found_path():
    return ApiError(404, "NotFound", "the server could not find the requested resource",
                    {})


def already_exists(resource, group, name):
    return ApiError(409, "AlreadyExists",
                    '%s "%s" already exists' % (qualified(resource, group), name),
                    _details(name, resource, group))


def conflict(resource, group, name, why=None):
    why = why or ("the object has been modified; please apply your changes to the "
                  "latest version and try again")
    return ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": %s'
                    % (qualified(resource, group), name, why), _details(name, resource, group))


def apply_conflict(conflicts):
    """conflicts: list of (manager_text, path_text) as the field manager reports them."""
    causes = [{"type": "FieldManagerConflict", "message": "conflict with %s" % m,
               "field": p} for m, p in conflicts]
    if len(conflicts) == 1:
        msg = "Apply failed with 1 conflict: conflict with %s: %s" % conflicts[0]
    else:
        by = {}
        order = []
        for m, p in conflicts:
            if m not in by:
                by[m] = []
                order.append(m)
            by[m].append(p)
        parts = []
        for m in order:
            parts.append("conflicts with %s:\n%s" % (m, "\n".join("- " + p for p in by[m])))
        msg = "Apply failed with %d conflicts: %s" % (len(conflicts), "\n".join(parts))
    return ApiError(409, "Conflict", msg, {"causes": causes})


def gone_expired(message):
    return ApiError(410, "Expired", message)


def invalid(kind, group, name, causes):
    """causes: list of (field, cause_type, message) with cause_type like FieldValueInvalid."""
    texts = ["%s: %s" % (f, m) for f, _, m in causes]
    if len(texts) == 1:
        summary = texts[0]
    else:
        summary = "[" + ", ".join(texts) + "]"
    d = {"name": name, "group": group, "kind": kind,
         "causes": [{"reason": t, "message": m, "field": f} for f, t, m in causes]}
    if not group:
        del d["group"]
    qkind = kind + "." + group if group else kind
    return ApiError(422, "Invalid", '%s "%s" is invalid: %s' % (qkind, name, summary), d)


def bad_request(message):
    return ApiError(400, "BadRequest", message)


def method_not_allowed():
    return ApiError(405, "MethodNotAllowed",
                    "the server does not allow this method on the requested resource", {})


def unsupported_media_type(media, accepted):
    return ApiError(415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types "
                    "include: " + ", ".join(accepted), {})


def not_acceptable():
    return ApiError(406, "NotAcceptable",
                    "only the following media types are accepted: application/json, "
                    "application/yaml, application/json;stream=watch", {})


def unauthorized():
    return ApiError(401, "Unauthorized", "Unauthorized")


def forbidden(resource, group, name, why):
    return ApiError(403, "Forbidden", '%s "%s" is forbidden: %s'
                    % (qualified(resource, group), name, why),
                    _details(name, resource, group))


def internal_error(message):
    return ApiError(500, "InternalError", "Internal error occurred: " + message,
                    {"causes": [{"message": message}]})


def too_many_requests(retry_after):
    return ApiError(429, "TooManyRequests",
                    "The server has received too many requests and has asked us to try again "
                    "later", {"retryAfterSeconds": retry_after},
                    {"Retry-After": str(retry_after)})
