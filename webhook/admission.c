/*
 * admission: the AdmissionReview admission.k8s.io/v1 envelope (see
 * admission.h). Parsing checks every field a handler may read, with the type
 * the API server sends, so handlers can trust the borrowed pointers; anything
 * else is refused with one line naming the field. Rendering builds the whole
 * reply here, so no handler can produce a reply the API server would reject.
 */
#include "webhook/admission.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADMISSION_API_VERSION "admission.k8s.io/v1"
#define ADMISSION_KIND "AdmissionReview"

/* ---- parsing ---------------------------------------------------------------------------- */

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        /* One line, whatever the input was. */
        for (char *p = err; *p != '\0'; p++) {
            if ((unsigned char)*p < 0x20) {
                *p = ' ';
            }
        }
    }
    return -1;
}

static const char *type_name(const jv *v)
{
    switch (v->type) {
    case JV_OBJECT:
        return "object";
    case JV_ARRAY:
        return "array";
    case JV_STRING:
        return "string";
    case JV_NUMBER:
        return "number";
    case JV_TRUE:
    case JV_FALSE:
        return "boolean";
    case JV_NULL:
    default:
        return "null";
    }
}

/*
 * An optional string member: absent or null gives NULL; another type is an
 * error. `required` also refuses absent, null and "".
 */
static int get_string(const jv *obj, const char *parent, const char *key, int required,
                      const char **out, char *err, size_t errlen)
{
    const jv *v = jv_get(obj, key);
    *out = NULL;
    if (v == NULL || v->type == JV_NULL) {
        if (required) {
            return fail(err, errlen, "%s.%s is missing", parent, key);
        }
        return 0;
    }
    if (v->type != JV_STRING) {
        return fail(err, errlen, "%s.%s must be a string, got %s", parent, key, type_name(v));
    }
    *out = v->s;
    if (required && (*out)[0] == '\0') {
        return fail(err, errlen, "%s.%s is empty", parent, key);
    }
    return 0;
}

/* An optional object member: absent or null gives NULL; another type is an error. */
static int get_object(const jv *obj, const char *parent, const char *key, int required,
                      const jv **out, char *err, size_t errlen)
{
    const jv *v = jv_get(obj, key);
    *out = NULL;
    if (v == NULL || v->type == JV_NULL) {
        if (required) {
            return fail(err, errlen, "%s.%s is missing", parent, key);
        }
        return 0;
    }
    if (v->type != JV_OBJECT) {
        return fail(err, errlen, "%s.%s must be an object, got %s", parent, key, type_name(v));
    }
    *out = v;
    return 0;
}

static int check_envelope(const jv *root, admission_request *req, char *err, size_t errlen)
{
    const char *kind = NULL;
    if (root->type != JV_OBJECT) {
        return fail(err, errlen, "request body is a JSON %s, not an AdmissionReview object",
                    type_name(root));
    }
    if (get_string(root, "AdmissionReview", "kind", 1, &kind, err, errlen) != 0 ||
        get_string(root, "AdmissionReview", "apiVersion", 1, &req->api_version, err, errlen) != 0) {
        return -1;
    }
    if (kind == NULL || req->api_version == NULL) {
        return fail(err, errlen, "AdmissionReview.kind and apiVersion are required");
    }
    if (strcmp(kind, ADMISSION_KIND) != 0) {
        return fail(err, errlen, "kind must be \"" ADMISSION_KIND "\", got \"%.64s\"", kind);
    }
    if (strcmp(req->api_version, ADMISSION_API_VERSION) != 0) {
        return fail(err, errlen,
                    "unsupported apiVersion \"%.64s\": only " ADMISSION_API_VERSION " is served",
                    req->api_version);
    }
    return 0;
}

static int check_operation(const char *op, char *err, size_t errlen)
{
    static const char *const ops[] = {"CREATE", "UPDATE", "DELETE", "CONNECT"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (strcmp(op, ops[i]) == 0) {
            return 0;
        }
    }
    return fail(err, errlen,
                "request.operation \"%.32s\" is not one of CREATE, UPDATE, DELETE, CONNECT", op);
}

static int check_request(const jv *request, admission_request *req, char *err, size_t errlen)
{
    const char *p = "request";
    const jv *kind = NULL, *resource = NULL;
    if (get_string(request, p, "uid", 1, &req->uid, err, errlen) != 0 ||
        get_object(request, p, "kind", 1, &kind, err, errlen) != 0 ||
        get_string(kind, "request.kind", "group", 0, &req->group, err, errlen) != 0 ||
        get_string(kind, "request.kind", "version", 1, &req->version, err, errlen) != 0 ||
        get_string(kind, "request.kind", "kind", 1, &req->kind, err, errlen) != 0 ||
        get_object(request, p, "resource", 0, &resource, err, errlen) != 0 ||
        get_string(request, p, "operation", 1, &req->operation, err, errlen) != 0 ||
        get_string(request, p, "subResource", 0, &req->sub_resource, err, errlen) != 0 ||
        get_string(request, p, "name", 0, &req->name, err, errlen) != 0 ||
        get_string(request, p, "namespace", 0, &req->ns, err, errlen) != 0 ||
        get_object(request, p, "object", 0, &req->object, err, errlen) != 0 ||
        get_object(request, p, "oldObject", 0, &req->old_object, err, errlen) != 0) {
        return -1;
    }
    if (req->group == NULL) {
        req->group = "";
    }
    if (resource != NULL &&
        get_string(resource, "request.resource", "resource", 0, &req->resource, err, errlen) != 0) {
        return -1;
    }
    if (req->operation == NULL || check_operation(req->operation, err, errlen) != 0) {
        return -1;
    }
    /* Empty strings mean "not set" for these, as in the Go types. */
    if (req->sub_resource != NULL && req->sub_resource[0] == '\0') {
        req->sub_resource = NULL;
    }
    const jv *dry = jv_get(request, "dryRun");
    if (dry != NULL && dry->type != JV_NULL) {
        if (dry->type != JV_TRUE && dry->type != JV_FALSE) {
            return fail(err, errlen, "request.dryRun must be a boolean, got %s", type_name(dry));
        }
        req->dry_run = dry->type == JV_TRUE;
    }
    return 0;
}

int admission_request_parse(const char *body, size_t len, admission_request *req, char *err,
                            size_t errlen)
{
    memset(req, 0, sizeof *req);
    if (body == NULL || len == 0) {
        return fail(err, errlen, "request body is empty");
    }
    char why[160];
    if (jv_parse(&req->doc, body, len, why, sizeof why) != 0) {
        memset(req, 0, sizeof *req);
        if (strcmp(why, "out of memory") == 0) {
            req->oom = 1;
            return fail(err, errlen, "out of memory");
        }
        return fail(err, errlen, "request body is not valid JSON: %s", why);
    }
    const jv *request = NULL;
    if (check_envelope(req->doc.root, req, err, errlen) != 0 ||
        get_object(req->doc.root, "AdmissionReview", "request", 1, &request, err, errlen) != 0 ||
        check_request(request, req, err, errlen) != 0) {
        jv_doc_free(&req->doc);
        memset(req, 0, sizeof *req);
        return -1;
    }
    return 0;
}

void admission_request_free(admission_request *req)
{
    if (req != NULL) {
        jv_doc_free(&req->doc);
        memset(req, 0, sizeof *req);
    }
}

/* ---- building the response ---------------------------------------------------------------- */

void admission_response_init(admission_response *resp)
{
    memset(resp, 0, sizeof *resp);
    resp->allowed = 1;
}

void admission_response_free(admission_response *resp)
{
    if (resp == NULL) {
        return;
    }
    free(resp->reason);
    free(resp->message);
    free(resp->details_group);
    free(resp->details_kind);
    free(resp->details_name);
    json_decref(resp->causes);
    for (size_t i = 0; i < resp->n_warnings; i++) {
        free(resp->warnings[i]);
    }
    free(resp->warnings);
    free(resp->patch);
    memset(resp, 0, sizeof *resp);
}

/*
 * Copies text as valid UTF-8 of at most `max` bytes, never cutting a character.
 * Broken sequences become a space; so do control characters when `controls`
 * is set (ASCII controls, DEL and C1). Caller frees; NULL on allocation failure.
 */
static char *sanitize_text(const char *text, size_t max, int controls)
{
    size_t n = strlen(text);
    char *out = malloc((n < max ? n : max) + 1);
    if (out == NULL) {
        return NULL;
    }
    const unsigned char *p = (const unsigned char *)text;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t l = jv_utf8_len(p + i, n - i);
        int is_c1 = l == 2 && p[i] == 0xC2 && p[i + 1] <= 0x9F;
        if (l == 0 || (controls && (is_c1 || (l == 1 && (p[i] < 0x20 || p[i] == 0x7F))))) {
            if (o + 1 > max) {
                break;
            }
            out[o++] = ' ';
            i += l == 0 ? 1 : l;
            continue;
        }
        if (o + l > max) {
            break;
        }
        memcpy(out + o, p + i, l);
        o += l;
        i += l;
    }
    out[o] = '\0';
    return out;
}

char *admission_sanitize_warning(const char *text)
{
    return sanitize_text(text, ADMISSION_WARNING_MAX, 1);
}

void admission_response_warn(admission_response *resp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *raw = NULL;
    int n = vasprintf(&raw, fmt, ap);
    va_end(ap);
    if (n < 0 || raw == NULL) {
        resp->oom = 1;
        return;
    }
    char *clean = admission_sanitize_warning(raw);
    free(raw);
    if (clean == NULL) {
        resp->oom = 1;
        return;
    }
    for (size_t i = 0; i < resp->n_warnings; i++) {
        if (strcmp(resp->warnings[i], clean) == 0) {
            free(clean); /* the same advice twice helps nobody */
            return;
        }
    }
    char **grown = realloc(resp->warnings, (resp->n_warnings + 1) * sizeof *grown);
    if (grown == NULL) {
        free(clean);
        resp->oom = 1;
        return;
    }
    resp->warnings = grown;
    resp->warnings[resp->n_warnings++] = clean;
}

static void replace_string(admission_response *resp, char **slot, const char *value)
{
    free(*slot);
    *slot = NULL;
    if (value != NULL) {
        *slot = strdup(value);
        if (*slot == NULL) {
            resp->oom = 1;
        }
    }
}

void admission_response_deny(admission_response *resp, int code, const char *reason,
                             const char *message)
{
    resp->allowed = 0;
    resp->code = code;
    replace_string(resp, &resp->reason, reason);
    replace_string(resp, &resp->message, message);
}

void admission_response_deny_invalid(admission_response *resp, const char *kind, const char *name,
                                     const field_errors *errs)
{
    char *joined = field_errors_join(errs);
    char *msg = NULL;
    if (joined == NULL) {
        resp->oom = 1;
    } else if (joined[0] != '\0') {
        msg = str_printf("%s \"%s\" is invalid: %s", kind, name ? name : "", joined);
    } else {
        msg = str_printf("%s \"%s\" is invalid", kind, name ? name : "");
    }
    if (msg == NULL) {
        resp->oom = 1;
    }
    admission_response_deny(resp, 422, "Invalid", msg);
    replace_string(resp, &resp->details_kind, kind);
    replace_string(resp, &resp->details_name, name);
    free(resp->details_group);
    resp->details_group = NULL;
    char *dot = resp->details_kind != NULL ? strchr(resp->details_kind, '.') : NULL;
    if (dot != NULL) {
        replace_string(resp, &resp->details_group, dot + 1);
        *dot = '\0';
    }
    json_decref(resp->causes);
    resp->causes = field_errors_causes(errs);
    if (resp->causes == NULL || field_errors_oom(errs)) {
        resp->oom = 1;
    }
    free(msg);
    free(joined);
}

void admission_response_set_patch(admission_response *resp, char *patch, size_t len)
{
    free(resp->patch);
    resp->patch = patch;
    resp->patch_len = patch != NULL ? len : 0;
}

/* ---- rendering -------------------------------------------------------------------------- */

/* A JSON string of text made valid UTF-8 first (handlers may echo raw input). */
static void put_text(jbuf *b, const char *text)
{
    char *clean = sanitize_text(text, strlen(text), 0);
    if (clean == NULL) {
        b->failed = 1;
        return;
    }
    jbuf_str(b, clean);
    free(clean);
}

/* ,"key":"text" */
static void member_text(jbuf *b, const char *key, const char *text)
{
    jbuf_putc(b, ',');
    jbuf_str(b, key);
    jbuf_putc(b, ':');
    put_text(b, text);
}

static void render_status(jbuf *b, const admission_response *resp)
{
    jbuf_puts(b, resp->allowed ? ",\"status\":{\"status\":\"Success\""
                               : ",\"status\":{\"status\":\"Failure\"");
    if (resp->message != NULL) {
        member_text(b, "message", resp->message);
    }
    if (resp->reason != NULL) {
        member_text(b, "reason", resp->reason);
    }
    if (resp->causes != NULL || resp->details_kind != NULL || resp->details_name != NULL ||
        resp->details_group != NULL) {
        jbuf_puts(b, ",\"details\":{");
        size_t mark = b->len;
        if (resp->details_name != NULL) {
            member_text(b, "name", resp->details_name);
        }
        if (resp->details_group != NULL) {
            member_text(b, "group", resp->details_group);
        }
        if (resp->details_kind != NULL) {
            member_text(b, "kind", resp->details_kind);
        }
        if (resp->causes != NULL) {
            jbuf_puts(b, ",\"causes\":");
            jbuf_json(b, resp->causes);
        }
        /* Drop the comma that opened the first member. */
        if (!b->failed && b->len > mark) {
            memmove(b->p + mark, b->p + mark + 1, b->len - mark - 1);
            b->len--;
        }
        jbuf_putc(b, '}');
    }
    jbuf_puts(b, ",\"code\":");
    jbuf_int(b, resp->code);
    jbuf_putc(b, '}');
}

static void render_warnings(jbuf *b, const admission_response *resp)
{
    size_t shown = resp->n_warnings;
    if (shown > ADMISSION_MAX_WARNINGS) {
        shown = ADMISSION_MAX_WARNINGS - 1;
    }
    jbuf_puts(b, ",\"warnings\":[");
    for (size_t i = 0; i < shown; i++) {
        /* Warnings went through admission_sanitize_warning: valid UTF-8 by construction. */
        if (i > 0) {
            jbuf_putc(b, ',');
        }
        jbuf_str(b, resp->warnings[i]);
    }
    if (shown < resp->n_warnings) {
        char note[64];
        snprintf(note, sizeof note, "%zu more warnings not shown", resp->n_warnings - shown);
        jbuf_putc(b, ',');
        jbuf_str(b, note);
    }
    jbuf_putc(b, ']');
}

/* The patch is only sent when non-empty and only for operations that may mutate. */
static int patch_applies(const admission_request *req, const admission_response *resp)
{
    if (resp->patch == NULL || resp->patch_len <= 2) {
        return 0; /* none, or "[]" */
    }
    if (!resp->allowed || req->operation == NULL) {
        return 0;
    }
    return strcmp(req->operation, "CREATE") == 0 || strcmp(req->operation, "UPDATE") == 0;
}

char *admission_review_render(const admission_request *req, const admission_response *resp,
                              size_t *len_out)
{
    if (req == NULL || req->uid == NULL || resp == NULL || resp->oom) {
        return NULL;
    }
    jbuf b;
    jbuf_init(&b);
    jbuf_puts(&b, "{\"apiVersion\":");
    jbuf_str(&b, req->api_version ? req->api_version : ADMISSION_API_VERSION);
    jbuf_puts(&b, ",\"kind\":\"" ADMISSION_KIND "\",\"response\":{\"uid\":");
    jbuf_str(&b, req->uid);
    jbuf_puts(&b, resp->allowed ? ",\"allowed\":true" : ",\"allowed\":false");
    if (resp->code != 0) {
        render_status(&b, resp);
    }
    if (resp->n_warnings > 0) {
        render_warnings(&b, resp);
    }
    if (patch_applies(req, resp)) {
        jbuf_puts(&b, ",\"patchType\":\"JSONPatch\",\"patch\":\"");
        jbuf_base64(&b, resp->patch, resp->patch_len);
        jbuf_putc(&b, '"');
    }
    jbuf_puts(&b, "}}");
    size_t len = 0;
    char *out = jbuf_take(&b, &len);
    if (out != NULL && len_out != NULL) {
        *len_out = len;
    }
    return out;
}
