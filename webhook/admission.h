/*
 * admission: the AdmissionReview admission.k8s.io/v1 envelope, pure.
 *
 *   body --admission_request_parse--> admission_request
 *   handler fills an admission_response
 *   admission_review_render(request, response) --> reply body
 *
 * Every reply is a complete AdmissionReview: apiVersion/kind echoed,
 * response.uid = request.uid, allowed, optional status, warnings, patch.
 *
 * Ownership: admission_request owns the parsed document (a jv tree); its string
 * and jv fields are borrowed from it and live until admission_request_free().
 * admission_response owns everything set on it; free with
 * admission_response_free().
 */
#ifndef AIGW_WEBHOOK_ADMISSION_H
#define AIGW_WEBHOOK_ADMISSION_H

#include "common/field_errors.h"
#include "common/jv.h"

#include <jansson.h>
#include <stddef.h>

typedef struct {
    jv_doc doc;              /* the whole parsed AdmissionReview (owned) */
    const char *api_version; /* "admission.k8s.io/v1" */
    const char *uid;
    const char *operation;    /* CREATE, UPDATE, DELETE, CONNECT */
    const char *group;        /* request.kind.group ("" for core) */
    const char *version;      /* request.kind.version */
    const char *kind;         /* request.kind.kind */
    const char *resource;     /* request.resource.resource */
    const char *sub_resource; /* request.subResource or NULL */
    const char *name;         /* request.name or NULL (generateName pods) */
    const char *ns;           /* request.namespace or NULL */
    const jv *object;         /* request.object or NULL */
    const jv *old_object;     /* request.oldObject or NULL */
    int dry_run;
    int oom; /* parsing failed for lack of memory (answer 500, not 400) */
} admission_request;

/*
 * Parses and checks an AdmissionReview request. Returns 0, or -1 with a
 * one-line reason in err (not JSON, not an AdmissionReview v1, no request, no
 * uid, ...). On failure *req holds nothing to free.
 */
int admission_request_parse(const char *body, size_t len, admission_request *req, char *err,
                            size_t errlen);
void admission_request_free(admission_request *req);

typedef struct {
    int allowed;
    int code;            /* status.code; 0 = no status block */
    char *reason;        /* status.reason ("Invalid", ...) or NULL */
    char *message;       /* status.message or NULL */
    json_t *causes;      /* status.details.causes (array) or NULL */
    char *details_group; /* status.details.group or NULL (set by deny_invalid) */
    char *details_kind;  /* status.details.kind or NULL (set by deny_invalid) */
    char *details_name;  /* status.details.name or NULL (set by deny_invalid) */
    char **warnings;
    size_t n_warnings;
    char *patch;      /* JSON Patch text ("[...]") or NULL for none */
    size_t patch_len; /* its length */
    int oom;          /* an allocation failed while building the response */
} admission_response;

/* Longest warning kept, in bytes; more warnings than ADMISSION_MAX_WARNINGS are summarised. */
#define ADMISSION_WARNING_MAX 256
#define ADMISSION_MAX_WARNINGS 32

/* allowed = 1, nothing else. */
void admission_response_init(admission_response *resp);
void admission_response_free(admission_response *resp);

/*
 * Adds a warning (printf-style). Control characters are replaced by spaces and
 * the text is cut to 256 bytes, as the API server would otherwise reject or
 * truncate it.
 */
void admission_response_warn(admission_response *resp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * The text as a warning: valid UTF-8, control characters as spaces, at most
 * ADMISSION_WARNING_MAX bytes (cut between characters). Caller frees; NULL on OOM.
 */
char *admission_sanitize_warning(const char *text);

/*
 * Denies with 422 Invalid the way the API server does (apierrors.NewInvalid):
 * status.message is "<kind> \"<name>\" is invalid: " followed by every error;
 * details {name, group, kind, causes}. `kind` may be qualified
 * ("AIRoutingPolicy.aigateway.kagenti.dev"): details.kind is then the part
 * before the first dot and details.group the rest.
 */
void admission_response_deny_invalid(admission_response *resp, const char *kind, const char *name,
                                     const field_errors *errs);

/* Denies with the given code, reason and message. */
void admission_response_deny(admission_response *resp, int code, const char *reason,
                             const char *message);

/* Sets the JSON Patch text (malloc'ed, owned from now on). "[]" or NULL means no patch. */
void admission_response_set_patch(admission_response *resp, char *patch, size_t len);

/*
 * The reply body, JSON: {"apiVersion","kind","response":{"uid","allowed","status"
 * (when code != 0: status, message, reason, details{name,kind,causes}, code),
 * "warnings" (when any; past ADMISSION_MAX_WARNINGS the last entry says how
 * many more), "patchType":"JSONPatch","patch":<base64> (only for a non-empty
 * patch on an allowed CREATE or UPDATE: the API server refuses patches on
 * DELETE and CONNECT)}}. Duplicate warnings are dropped when added.
 * Caller frees. NULL on allocation failure or when resp->oom is set (the
 * server then answers 500 and the webhook's failurePolicy applies).
 */
char *admission_review_render(const admission_request *req, const admission_response *resp,
                              size_t *len_out);

#endif
