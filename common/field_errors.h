/*
 * field_errors: an accumulating list of Kubernetes-style field errors, and the
 * one place that renders them the way the API server does:
 *
 *   spec.models[2].name: Duplicate value: "gpt-4o"
 *   spec.providers[0].endpoint: Invalid value: "ftp://x": scheme must be http or https
 *   spec.models[1].backends[0].provider: Not found: "azure"
 *   spec.targetRef: Required value
 *
 * Ownership: the list owns copies of every string it is given; free it with
 * field_errors_free(). Allocation failure while adding sets `oom` and drops the
 * entry; callers check field_errors_oom() once at the end.
 */
#ifndef AIGW_COMMON_FIELD_ERRORS_H
#define AIGW_COMMON_FIELD_ERRORS_H

#include <jansson.h>
#include <stddef.h>

typedef enum {
    FIELD_REQUIRED,      /* "Required value" */
    FIELD_INVALID,       /* "Invalid value: <v>: <detail>" */
    FIELD_DUPLICATE,     /* "Duplicate value: <v>" */
    FIELD_NOT_FOUND,     /* "Not found: <v>" */
    FIELD_NOT_SUPPORTED, /* "Unsupported value: <v>: supported values: <detail>" */
    FIELD_FORBIDDEN,     /* "Forbidden: <detail>" */
    FIELD_TOO_LONG,      /* "Too long: <detail>" */
    FIELD_TOO_MANY,      /* "Too many: <v>: <detail>" */
} field_error_type;

typedef struct {
    field_error_type type;
    char *path;   /* "spec.models[2].name" */
    char *value;  /* the offending value as JSON text ("\"gpt-4o\"", "12"), or NULL */
    char *detail; /* free text, or NULL */
} field_error;

typedef struct {
    field_error *items;
    size_t len;
    size_t cap;
    int oom;
} field_errors;

void field_errors_init(field_errors *errs);
void field_errors_free(field_errors *errs);

/*
 * Adds an error. `value` is a plain string that will be quoted ("x" -> "\"x\""),
 * or NULL. `detail_fmt` is printf-style, or NULL.
 */
void field_errors_add(field_errors *errs, field_error_type type, const char *path,
                      const char *value, const char *detail_fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Like field_errors_add, but the value is a number, rendered unquoted. */
void field_errors_add_int(field_errors *errs, field_error_type type, const char *path,
                          long long value, const char *detail_fmt, ...)
    __attribute__((format(printf, 5, 6)));

int field_errors_oom(const field_errors *errs);

/* The message without the path: "Duplicate value: \"gpt-4o\"". Caller frees. */
char *field_error_message(const field_error *e);

/* "<path>: <message>". Caller frees. */
char *field_error_format(const field_error *e);

/* The metav1.StatusCause reason: "FieldValueInvalid", "FieldValueRequired", ... */
const char *field_error_cause_reason(field_error_type type);

/* All errors joined with ", " as the API server does in status.message. Caller frees. */
char *field_errors_join(const field_errors *errs);

/* details.causes: [{reason, message, field}, ...]. New reference, NULL on OOM. */
json_t *field_errors_causes(const field_errors *errs);

/* printf into a fresh string; NULL on allocation failure. Caller frees. */
char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
