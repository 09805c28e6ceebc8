/*
 * field_errors: accumulation and Kubernetes-style rendering of field errors.
 * Message wording follows k8s.io/apimachinery/pkg/util/validation/field, so
 * users see the same text they know from built-in kinds.
 */
#include "common/field_errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void field_errors_init(field_errors *errs)
{
    memset(errs, 0, sizeof *errs);
}

void field_errors_free(field_errors *errs)
{
    for (size_t i = 0; i < errs->len; i++) {
        free(errs->items[i].path);
        free(errs->items[i].value);
        free(errs->items[i].detail);
    }
    free(errs->items);
    memset(errs, 0, sizeof *errs);
}

int field_errors_oom(const field_errors *errs)
{
    return errs->oom;
}

static char *vstr_printf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static char *vstr_printf(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (s != NULL) {
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    }
    return s;
}

char *str_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vstr_printf(fmt, ap);
    va_end(ap);
    return s;
}

/* JSON-quotes a string the way Go's %q does for printable text. */
static char *quote_value(const char *value)
{
    json_t *s = json_string(value);
    if (s == NULL) {
        /* not valid UTF-8: show it escaped byte by byte instead */
        s = json_stringn_nocheck(value, strlen(value));
    }
    if (s == NULL) {
        return NULL;
    }
    char *out = json_dumps(s, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
    json_decref(s);
    return out;
}

static void add_entry(field_errors *errs, field_error_type type, const char *path, char *value,
                      const char *detail_fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void add_entry(field_errors *errs, field_error_type type, const char *path, char *value,
                      const char *detail_fmt, va_list ap)
{
    char *detail = NULL;
    if (detail_fmt != NULL) {
        detail = vstr_printf(detail_fmt, ap);
        if (detail == NULL) {
            goto oom;
        }
    }
    if (errs->len == errs->cap) {
        size_t ncap = errs->cap ? errs->cap * 2 : 8;
        field_error *n = realloc(errs->items, ncap * sizeof *n);
        if (n == NULL) {
            goto oom;
        }
        errs->items = n;
        errs->cap = ncap;
    }
    char *p = strdup(path ? path : "");
    if (p == NULL) {
        goto oom;
    }
    errs->items[errs->len++] = (field_error){type, p, value, detail};
    return;
oom:
    free(value);
    free(detail);
    errs->oom = 1;
}

void field_errors_add(field_errors *errs, field_error_type type, const char *path,
                      const char *value, const char *detail_fmt, ...)
{
    char *quoted = NULL;
    if (value != NULL && (quoted = quote_value(value)) == NULL) {
        errs->oom = 1;
        return;
    }
    va_list ap;
    va_start(ap, detail_fmt);
    add_entry(errs, type, path, quoted, detail_fmt, ap);
    va_end(ap);
}

void field_errors_add_int(field_errors *errs, field_error_type type, const char *path,
                          long long value, const char *detail_fmt, ...)
{
    char *v = str_printf("%lld", value);
    if (v == NULL) {
        errs->oom = 1;
        return;
    }
    va_list ap;
    va_start(ap, detail_fmt);
    add_entry(errs, type, path, v, detail_fmt, ap);
    va_end(ap);
}

char *field_error_message(const field_error *e)
{
    const char *v = e->value ? e->value : "null";
    const char *d = e->detail;
    switch (e->type) {
    case FIELD_REQUIRED:
        return d ? str_printf("Required value: %s", d) : strdup("Required value");
    case FIELD_INVALID:
        return d ? str_printf("Invalid value: %s: %s", v, d) : str_printf("Invalid value: %s", v);
    case FIELD_DUPLICATE:
        return str_printf("Duplicate value: %s", v);
    case FIELD_NOT_FOUND:
        return d ? str_printf("Not found: %s: %s", v, d) : str_printf("Not found: %s", v);
    case FIELD_NOT_SUPPORTED:
        return d ? str_printf("Unsupported value: %s: supported values: %s", v, d)
                 : str_printf("Unsupported value: %s", v);
    case FIELD_FORBIDDEN:
        return str_printf("Forbidden: %s", d ? d : "");
    case FIELD_TOO_LONG:
        return str_printf("Too long: %s", d ? d : "");
    case FIELD_TOO_MANY:
        return d ? str_printf("Too many: %s: %s", v, d) : str_printf("Too many: %s", v);
    }
    return NULL;
}

char *field_error_format(const field_error *e)
{
    char *m = field_error_message(e);
    if (m == NULL) {
        return NULL;
    }
    char *s = e->path && e->path[0] ? str_printf("%s: %s", e->path, m) : strdup(m);
    free(m);
    return s;
}

const char *field_error_cause_reason(field_error_type type)
{
    switch (type) {
    case FIELD_REQUIRED:
        return "FieldValueRequired";
    case FIELD_INVALID:
        return "FieldValueInvalid";
    case FIELD_DUPLICATE:
        return "FieldValueDuplicate";
    case FIELD_NOT_FOUND:
        return "FieldValueNotFound";
    case FIELD_NOT_SUPPORTED:
        return "FieldValueNotSupported";
    case FIELD_FORBIDDEN:
        return "FieldValueForbidden";
    case FIELD_TOO_LONG:
        return "FieldValueTooLong";
    case FIELD_TOO_MANY:
        return "FieldValueTooMany";
    }
    return "FieldValueInvalid";
}

char *field_errors_join(const field_errors *errs)
{
    size_t total = 1;
    char **parts = calloc(errs->len ? errs->len : 1, sizeof *parts);
    if (parts == NULL) {
        return NULL;
    }
    char *out = NULL;
    for (size_t i = 0; i < errs->len; i++) {
        parts[i] = field_error_format(&errs->items[i]);
        if (parts[i] == NULL) {
            goto done;
        }
        total += strlen(parts[i]) + 2;
    }
    out = malloc(total);
    if (out == NULL) {
        goto done;
    }
    size_t pos = 0;
    for (size_t i = 0; i < errs->len; i++) {
        size_t n = strlen(parts[i]);
        if (i > 0) {
            memcpy(out + pos, ", ", 2);
            pos += 2;
        }
        memcpy(out + pos, parts[i], n);
        pos += n;
    }
    out[pos] = '\0';
done:
    for (size_t i = 0; i < errs->len; i++) {
        free(parts[i]);
    }
    free(parts);
    return out;
}

json_t *field_errors_causes(const field_errors *errs)
{
    json_t *arr = json_array();
    if (arr == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < errs->len; i++) {
        const field_error *e = &errs->items[i];
        char *m = field_error_message(e);
        json_t *c = m ? json_pack("{s:s, s:s, s:s}", "reason", field_error_cause_reason(e->type),
                                  "message", m, "field", e->path)
                      : NULL;
        free(m);
        if (c == NULL || json_array_append_new(arr, c) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}
