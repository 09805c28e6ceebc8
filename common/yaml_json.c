/*
 * yaml_json: YAML <-> jansson with libyaml.
 *
 * Loading walks libyaml's event stream with a small recursive descent (depth
 * bounded, so hostile input cannot exhaust the stack) and resolves plain
 * scalars the way go-yaml v2 does when kubectl / sigs.k8s.io/yaml turns YAML
 * into JSON: null, booleans (y/yes/on/true ...), ints (decimal, 0x, 0o, 0b,
 * leading-0 octal, '_' separators), floats; timestamps stay strings; quoted
 * scalars are strings. Map keys become strings the way sigs.k8s.io/yaml does it
 * (`on:` is the key "true"). Duplicate keys, aliases, anchors' uses and merge
 * keys are refused with "<source>:<line>: <problem>".
 *
 * Dumping emits block YAML through libyaml's emitter, quoting every string
 * that would read back as something else.
 */
#include "common/yaml_json.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YJ_MAX_DEPTH 200

typedef struct {
    yaml_parser_t parser;
    const char *source;
    char *err;
    size_t errlen;
    int failed;
} yj_loader;

static void yj_fail(yj_loader *ld, size_t line0, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void yj_fail(yj_loader *ld, size_t line0, const char *fmt, ...)
{
    if (ld->failed) {
        return;
    }
    ld->failed = 1;
    if (ld->err == NULL || ld->errlen == 0) {
        return;
    }
    int n = snprintf(ld->err, ld->errlen, "%s:%zu: ", ld->source, line0 + 1);
    if (n < 0 || (size_t)n >= ld->errlen) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static int yj_next(yj_loader *ld, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&ld->parser, ev)) {
        const char *problem = ld->parser.problem ? ld->parser.problem : "invalid YAML";
        size_t line = ld->parser.problem_mark.line;
        if (ld->parser.error == YAML_MEMORY_ERROR) {
            yj_fail(ld, line, "out of memory");
        } else if (ld->parser.context != NULL) {
            yj_fail(ld, line, "%s %s", ld->parser.context, problem);
        } else {
            yj_fail(ld, line, "%s", problem);
        }
        return -1;
    }
    return 0;
}

/* ---- scalar resolution (go-yaml v2) ---- */

static int str_in(const char *s, const char *const *list)
{
    for (; *list != NULL; list++) {
        if (strcmp(s, *list) == 0) {
            return 1;
        }
    }
    return 0;
}

static const char *const yj_true[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                      "True", "TRUE", "on",  "On",  "ON",  NULL};
static const char *const yj_false[] = {"n",     "N",     "no",  "No",  "NO",  "false",
                                       "False", "FALSE", "off", "Off", "OFF", NULL};
static const char *const yj_null[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const yj_special_float[] = {".nan",  ".NaN",  ".NAN",  ".inf",  ".Inf",
                                               ".INF",  "+.inf", "+.Inf", "+.INF", "-.inf",
                                               "-.Inf", "-.INF", NULL};

/* Digits of `s` in `base`, all of them, at least one; value into *out. 0 on overflow/garbage. */
static int parse_unsigned(const char *s, int base, unsigned long long *out)
{
    if (*s == '\0' || *s == '+' || *s == '-' || isspace((unsigned char)*s)) {
        return 0;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, base);
    if (errno != 0 || end == NULL || *end != '\0') {
        return 0;
    }
    *out = v;
    return 1;
}

/*
 * Go's strconv.ParseInt(s, 0, 64) after go-yaml removed '_': optional sign,
 * then 0x / 0o / 0b / leading-0 octal / decimal. Returns 1 for int64 (in *iv),
 * 2 for a positive value that only fits uint64 (in *uv), 0 for not an int.
 */
static int resolve_int(const char *in, long long *iv, unsigned long long *uv)
{
    const char *s = in;
    int neg = 0;
    if (*s == '+' || *s == '-') {
        neg = *s == '-';
        s++;
    }
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    } else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
        base = 8;
        s += 2;
    } else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
        base = 2;
        s += 2;
    } else if (s[0] == '0' && s[1] != '\0') {
        base = 8;
        s += 1;
    }
    for (const char *p = s; *p; p++) {
        int c = (unsigned char)*p;
        int ok = base == 16 ? isxdigit(c) : (c >= '0' && c < '0' + (base == 10 ? 10 : base));
        if (!ok) {
            return 0;
        }
    }
    unsigned long long v = 0;
    if (!parse_unsigned(s, base, &v)) {
        return 0;
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1ULL) {
            return 0;
        }
        *iv = v == (unsigned long long)LLONG_MAX + 1ULL ? LLONG_MIN : -(long long)v;
        return 1;
    }
    if (v <= (unsigned long long)LLONG_MAX) {
        *iv = (long long)v;
        return 1;
    }
    *uv = v;
    return 2;
}

static int is_dig(char c)
{
    return c >= '0' && c <= '9';
}

/* go-yaml's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static int is_yaml_float(const char *s)
{
    if (*s == '+' || *s == '-') {
        s++;
    }
    if (*s == '.') {
        s++;
        if (!is_dig(*s)) {
            return 0;
        }
        while (is_dig(*s)) {
            s++;
        }
    } else {
        if (!is_dig(*s)) {
            return 0;
        }
        while (is_dig(*s)) {
            s++;
        }
        if (*s == '.') {
            s++;
            while (is_dig(*s)) {
                s++;
            }
        }
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-') {
            s++;
        }
        if (!is_dig(*s)) {
            return 0;
        }
        while (is_dig(*s)) {
            s++;
        }
    }
    return *s == '\0';
}

typedef enum { YJ_STR, YJ_NULL, YJ_BOOL, YJ_INT, YJ_UINT, YJ_FLOAT, YJ_UNSUPPORTED } yj_kind;

typedef struct {
    yj_kind kind;
    int b;
    long long i;
    unsigned long long u;
    double f;
} yj_scalar;

/* Resolves a plain scalar. */
static yj_scalar resolve_plain(const char *s)
{
    yj_scalar r = {YJ_STR, 0, 0, 0, 0};
    if (str_in(s, yj_null)) {
        r.kind = YJ_NULL;
        return r;
    }
    if (str_in(s, yj_true)) {
        r.kind = YJ_BOOL;
        r.b = 1;
        return r;
    }
    if (str_in(s, yj_false)) {
        r.kind = YJ_BOOL;
        return r;
    }
    if (str_in(s, yj_special_float)) {
        r.kind = YJ_UNSUPPORTED; /* NaN/Inf: JSON cannot carry them */
        return r;
    }
    /* Only strings that start like a number are tried as one (go-yaml's hint table). */
    if (strchr("+-.0123456789", s[0]) == NULL) {
        return r;
    }
    size_t n = strlen(s);
    char *plain = malloc(n + 1);
    if (plain == NULL) {
        return r; /* treated as string; the caller's allocation will fail too */
    }
    size_t j = 0;
    for (size_t k = 0; k < n; k++) {
        if (s[k] != '_') {
            plain[j++] = s[k];
        }
    }
    plain[j] = '\0';
    int ik = resolve_int(plain, &r.i, &r.u);
    if (ik == 1) {
        r.kind = YJ_INT;
    } else if (ik == 2) {
        r.kind = YJ_UINT;
    } else if (is_yaml_float(plain)) {
        errno = 0;
        double d = strtod(plain, NULL);
        if (isfinite(d)) {
            r.kind = YJ_FLOAT;
            r.f = d;
        } else {
            r.kind = YJ_UNSUPPORTED;
        }
    }
    free(plain);
    return r;
}

/* A libyaml scalar event to JSON. Quoted and !!str scalars are strings. */
static json_t *scalar_to_json(yj_loader *ld, const yaml_event_t *ev)
{
    const char *value = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;
    int quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE &&
                 ev->data.scalar.style != YAML_ANY_SCALAR_STYLE;
    if (tag != NULL && strcmp(tag, "!") == 0) {
        quoted = 1; /* the non-specific "!" tag means string */
        tag = NULL;
    }
    int force_str = tag != NULL && (strcmp(tag, YAML_STR_TAG) == 0 ||
                                    strcmp(tag, "tag:yaml.org,2002:binary") == 0);
    if (tag != NULL && !force_str && strncmp(tag, "tag:yaml.org,2002:", 18) != 0) {
        yj_fail(ld, ev->start_mark.line, "unsupported tag %s", tag);
        return NULL;
    }
    if (memchr(value, '\0', len) != NULL) {
        yj_fail(ld, ev->start_mark.line, "NUL character in scalar");
        return NULL;
    }
    if (force_str || (quoted && tag == NULL)) {
        json_t *s = json_stringn(value, len);
        if (s == NULL) {
            yj_fail(ld, ev->start_mark.line, "invalid UTF-8 or out of memory");
        }
        return s;
    }
    yj_scalar r = resolve_plain(value);
    json_t *out = NULL;
    switch (r.kind) {
    case YJ_NULL:
        out = json_null();
        break;
    case YJ_BOOL:
        out = json_boolean(r.b);
        break;
    case YJ_INT:
        out = json_integer(r.i);
        break;
    case YJ_UINT:
        out = json_real((double)r.u);
        break;
    case YJ_FLOAT:
        out = json_real(r.f);
        break;
    case YJ_UNSUPPORTED:
        yj_fail(ld, ev->start_mark.line, "unsupported value %s (JSON has no NaN or Inf)", value);
        return NULL;
    case YJ_STR:
        out = json_stringn(value, len);
        break;
    }
    if (out == NULL) {
        yj_fail(ld, ev->start_mark.line, "invalid UTF-8 or out of memory");
    }
    return out;
}

/* sigs.k8s.io/yaml turns non-string keys into strings: 1 -> "1", on -> "true". */
static char *key_to_string(yj_loader *ld, const yaml_event_t *ev)
{
    const char *value = (const char *)ev->data.scalar.value;
    int plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ||
                ev->data.scalar.style == YAML_ANY_SCALAR_STYLE;
    const char *tag = (const char *)ev->data.scalar.tag;
    if (memchr(value, '\0', ev->data.scalar.length) != NULL) {
        yj_fail(ld, ev->start_mark.line, "NUL character in key");
        return NULL;
    }
    if (plain && tag == NULL) {
        if (strcmp(value, "<<") == 0) {
            yj_fail(ld, ev->start_mark.line, "merge keys (<<) are not supported");
            return NULL;
        }
        yj_scalar r = resolve_plain(value);
        char buf[64];
        switch (r.kind) {
        case YJ_NULL:
            return strdup("null");
        case YJ_BOOL:
            return strdup(r.b ? "true" : "false");
        case YJ_INT:
            snprintf(buf, sizeof buf, "%lld", r.i);
            return strdup(buf);
        case YJ_UINT:
            snprintf(buf, sizeof buf, "%llu", r.u);
            return strdup(buf);
        case YJ_FLOAT:
            snprintf(buf, sizeof buf, "%.17g", r.f);
            return strdup(buf);
        case YJ_UNSUPPORTED:
            yj_fail(ld, ev->start_mark.line, "unsupported key %s", value);
            return NULL;
        case YJ_STR:
            break;
        }
    }
    return strdup(value);
}

static json_t *parse_node(yj_loader *ld, yaml_event_t *ev, int depth);

static json_t *parse_sequence(yj_loader *ld, int depth)
{
    json_t *arr = json_array();
    if (arr == NULL) {
        yj_fail(ld, 0, "out of memory");
        return NULL;
    }
    for (;;) {
        yaml_event_t ev;
        if (yj_next(ld, &ev) != 0) {
            json_decref(arr);
            return NULL;
        }
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return arr;
        }
        json_t *item = parse_node(ld, &ev, depth + 1);
        size_t line = ev.start_mark.line;
        yaml_event_delete(&ev);
        if (item == NULL) {
            json_decref(arr);
            return NULL;
        }
        if (json_array_append_new(arr, item) != 0) {
            yj_fail(ld, line, "out of memory");
            json_decref(arr);
            return NULL;
        }
    }
}

static json_t *parse_mapping(yj_loader *ld, int depth)
{
    json_t *obj = json_object();
    if (obj == NULL) {
        yj_fail(ld, 0, "out of memory");
        return NULL;
    }
    for (;;) {
        yaml_event_t kev;
        if (yj_next(ld, &kev) != 0) {
            json_decref(obj);
            return NULL;
        }
        if (kev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&kev);
            return obj;
        }
        size_t kline = kev.start_mark.line;
        char *key = NULL;
        if (kev.type == YAML_SCALAR_EVENT) {
            key = key_to_string(ld, &kev);
            if (key == NULL) {
                yj_fail(ld, kline, "out of memory");
            }
        } else if (kev.type == YAML_ALIAS_EVENT) {
            yj_fail(ld, kline, "aliases are not supported");
        } else {
            yj_fail(ld, kline, "mapping keys must be scalars");
        }
        yaml_event_delete(&kev);
        if (key == NULL) {
            json_decref(obj);
            return NULL;
        }
        if (json_object_get(obj, key) != NULL) {
            yj_fail(ld, kline, "duplicate key \"%s\"", key);
            free(key);
            json_decref(obj);
            return NULL;
        }
        yaml_event_t vev;
        if (yj_next(ld, &vev) != 0) {
            free(key);
            json_decref(obj);
            return NULL;
        }
        json_t *val = parse_node(ld, &vev, depth + 1);
        yaml_event_delete(&vev);
        if (val == NULL || json_object_set_new(obj, key, val) != 0) {
            yj_fail(ld, kline, "invalid key \"%s\" or out of memory", key);
            free(key);
            json_decref(obj);
            return NULL;
        }
        free(key);
    }
}

/* Converts the node starting with `ev` (not consumed by this function). */
static json_t *parse_node(yj_loader *ld, yaml_event_t *ev, int depth)
{
    if (depth > YJ_MAX_DEPTH) {
        yj_fail(ld, ev->start_mark.line, "nesting deeper than %d levels", YJ_MAX_DEPTH);
        return NULL;
    }
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        yj_fail(ld, ev->start_mark.line, "aliases are not supported");
        return NULL;
    case YAML_SCALAR_EVENT:
        return scalar_to_json(ld, ev);
    case YAML_SEQUENCE_START_EVENT:
        return parse_sequence(ld, depth);
    case YAML_MAPPING_START_EVENT:
        return parse_mapping(ld, depth);
    default:
        yj_fail(ld, ev->start_mark.line, "unexpected YAML event");
        return NULL;
    }
}

/* A document is empty when it holds nothing or only a null. */
static int parse_document(yj_loader *ld, json_t *docs, json_t *lines)
{
    yaml_event_t ev;
    if (yj_next(ld, &ev) != 0) {
        return -1;
    }
    size_t line = ev.start_mark.line + 1;
    json_t *root = parse_node(ld, &ev, 0);
    yaml_event_delete(&ev);
    if (root == NULL) {
        return -1;
    }
    yaml_event_t end;
    if (yj_next(ld, &end) != 0) {
        json_decref(root);
        return -1;
    }
    int is_end = end.type == YAML_DOCUMENT_END_EVENT;
    yaml_event_delete(&end);
    if (!is_end) {
        yj_fail(ld, 0, "unexpected YAML event after document");
        json_decref(root);
        return -1;
    }
    if (json_is_null(root)) {
        json_decref(root);
        return 0;
    }
    if (json_array_append_new(docs, root) != 0 ||
        (lines != NULL && json_array_append_new(lines, json_integer((json_int_t)line)) != 0)) {
        yj_fail(ld, 0, "out of memory");
        return -1;
    }
    return 0;
}

int yaml_json_load(const char *buf, size_t len, const char *source_name, json_t **docs_out,
                   char *err, size_t errlen)
{
    return yaml_json_load_lines(buf, len, source_name, docs_out, NULL, err, errlen);
}

int yaml_json_load_lines(const char *buf, size_t len, const char *source_name, json_t **docs_out,
                         json_t **lines_out, char *err, size_t errlen)
{
    *docs_out = NULL;
    if (lines_out != NULL) {
        *lines_out = NULL;
    }
    yj_loader ld = {.source = source_name ? source_name : "<input>", .err = err, .errlen = errlen};
    if (err != NULL && errlen > 0) {
        err[0] = '\0';
    }
    if (!yaml_parser_initialize(&ld.parser)) {
        yj_fail(&ld, 0, "out of memory");
        return -1;
    }
    yaml_parser_set_input_string(&ld.parser, (const unsigned char *)buf, len);
    json_t *docs = json_array();
    json_t *lines = lines_out != NULL ? json_array() : NULL;
    if (docs == NULL || (lines_out != NULL && lines == NULL)) {
        yj_fail(&ld, 0, "out of memory");
        yaml_parser_delete(&ld.parser);
        json_decref(docs);
        json_decref(lines);
        return -1;
    }
    int rc = 0;
    for (;;) {
        yaml_event_t ev;
        if (yj_next(&ld, &ev) != 0) {
            rc = -1;
            break;
        }
        yaml_event_type_t t = ev.type;
        yaml_event_delete(&ev);
        if (t == YAML_STREAM_END_EVENT) {
            break;
        }
        if (t == YAML_DOCUMENT_START_EVENT && parse_document(&ld, docs, lines) != 0) {
            rc = -1;
            break;
        }
    }
    yaml_parser_delete(&ld.parser);
    if (rc != 0) {
        json_decref(docs);
        json_decref(lines);
        return -1;
    }
    *docs_out = docs;
    if (lines_out != NULL) {
        *lines_out = lines;
    }
    return 0;
}

int yaml_json_load_file(const char *path, json_t **docs_out, char *err, size_t errlen)
{
    *docs_out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 8192, len = 0;
    char *buf = malloc(cap);
    int rc = 0;
    if (buf == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        fclose(f);
        return -1;
    }
    for (;;) {
        if (len == cap) {
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                snprintf(err, errlen, "%s: out of memory", path);
                rc = -1;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            break;
        }
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        rc = -1;
    }
    fclose(f);
    if (rc == 0) {
        rc = yaml_json_load(buf, len, path, docs_out, err, errlen);
    }
    free(buf);
    return rc;
}

/* ---- dump ---- */

typedef struct {
    char *buf;
    size_t len;
    size_t cap;
    int oom;
} yj_out;

static int yj_write(void *data, unsigned char *buffer, size_t size)
{
    yj_out *o = data;
    if (o->len + size + 1 > o->cap) {
        size_t ncap = o->cap ? o->cap : 1024;
        while (ncap < o->len + size + 1) {
            ncap *= 2;
        }
        char *nb = realloc(o->buf, ncap);
        if (nb == NULL) {
            o->oom = 1;
            return 0;
        }
        o->buf = nb;
        o->cap = ncap;
    }
    memcpy(o->buf + o->len, buffer, size);
    o->len += size;
    o->buf[o->len] = '\0';
    return 1;
}

/*
 * YAML 1.1 readers other than go-yaml (PyYAML, Ruby) read dates and
 * sexagesimal numbers ("2026-11-28", "1:20") as non-strings; quote them too.
 */
static int looks_like_yaml11_special(const char *s)
{
    if (isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
        isdigit((unsigned char)s[2]) && isdigit((unsigned char)s[3]) && s[4] == '-') {
        return 1;
    }
    int colon = 0;
    const char *p = s;
    if (*p == '+' || *p == '-') {
        p++;
    }
    if (!isdigit((unsigned char)*p)) {
        return 0;
    }
    for (; *p; p++) {
        if (*p == ':') {
            colon = 1;
        } else if (!isdigit((unsigned char)*p) && *p != '.' && *p != '_') {
            return 0;
        }
    }
    return colon;
}

/* 1 when `s` as a plain scalar would read back as the same string. */
static int plain_is_string(const char *s)
{
    if (strcmp(s, "<<") == 0 || looks_like_yaml11_special(s)) {
        return 0;
    }
    yj_scalar r = resolve_plain(s);
    return r.kind == YJ_STR;
}

static int emit_scalar(yaml_emitter_t *em, const char *text, size_t len, yaml_scalar_style_t style,
                       int plain_ok)
{
    yaml_event_t ev;
    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)len, plain_ok,
                                      !plain_ok || style != YAML_PLAIN_SCALAR_STYLE, style)) {
        return -1;
    }
    return yaml_emitter_emit(em, &ev) ? 0 : -1;
}

static int emit_string(yaml_emitter_t *em, const char *s, size_t len)
{
    if (len > INT_MAX) {
        return -1;
    }
    if (memchr(s, '\0', len) != NULL) {
        /* libyaml takes (ptr, len) but some paths are C-string based; refuse. */
        return -1;
    }
    if (memchr(s, '\n', len) != NULL) {
        return emit_scalar(em, s, len, YAML_LITERAL_SCALAR_STYLE, 0);
    }
    if (plain_is_string(s)) {
        return emit_scalar(em, s, len, YAML_ANY_SCALAR_STYLE, 1);
    }
    return emit_scalar(em, s, len, YAML_DOUBLE_QUOTED_SCALAR_STYLE, 0);
}

static void format_real(double d, char *buf, size_t len)
{
    snprintf(buf, len, "%.15g", d);
    if (strtod(buf, NULL) != d) {
        snprintf(buf, len, "%.17g", d);
    }
    size_t n = strlen(buf);
    if (strpbrk(buf, ".eEn") == NULL && n + 3 <= len) {
        memcpy(buf + n, ".0", 3);
    }
}

static int emit_value(yaml_emitter_t *em, const json_t *v, int depth)
{
    yaml_event_t ev;
    char num[64];
    if (depth > YJ_MAX_DEPTH) {
        return -1;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        int empty = json_object_size(v) == 0;
        if (!yaml_mapping_start_event_initialize(
                &ev, NULL, NULL, 1, empty ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE) ||
            !yaml_emitter_emit(em, &ev)) {
            return -1;
        }
        const char *key;
        const json_t *val;
        json_object_foreach((json_t *)v, key, val)
        {
            if (emit_string(em, key, strlen(key)) != 0 || emit_value(em, val, depth + 1) != 0) {
                return -1;
            }
        }
        if (!yaml_mapping_end_event_initialize(&ev) || !yaml_emitter_emit(em, &ev)) {
            return -1;
        }
        return 0;
    }
    case JSON_ARRAY: {
        int empty = json_array_size(v) == 0;
        if (!yaml_sequence_start_event_initialize(
                &ev, NULL, NULL, 1, empty ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE) ||
            !yaml_emitter_emit(em, &ev)) {
            return -1;
        }
        size_t i;
        const json_t *item;
        json_array_foreach(v, i, item)
        {
            if (emit_value(em, item, depth + 1) != 0) {
                return -1;
            }
        }
        if (!yaml_sequence_end_event_initialize(&ev) || !yaml_emitter_emit(em, &ev)) {
            return -1;
        }
        return 0;
    }
    case JSON_STRING:
        return emit_string(em, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return emit_scalar(em, num, strlen(num), YAML_PLAIN_SCALAR_STYLE, 1);
    case JSON_REAL:
        format_real(json_real_value(v), num, sizeof num);
        return emit_scalar(em, num, strlen(num), YAML_PLAIN_SCALAR_STYLE, 1);
    case JSON_TRUE:
        return emit_scalar(em, "true", 4, YAML_PLAIN_SCALAR_STYLE, 1);
    case JSON_FALSE:
        return emit_scalar(em, "false", 5, YAML_PLAIN_SCALAR_STYLE, 1);
    case JSON_NULL:
        return emit_scalar(em, "null", 4, YAML_PLAIN_SCALAR_STYLE, 1);
    }
    return -1;
}

static char *dump_docs(const json_t *const *docs, size_t n)
{
    yaml_emitter_t em;
    yj_out out = {0};
    if (!yaml_emitter_initialize(&em)) {
        return NULL;
    }
    yaml_emitter_set_output(&em, yj_write, &out);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_width(&em, -1);
    yaml_emitter_set_indent(&em, 2);
    yaml_event_t ev;
    int ok =
        yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) && yaml_emitter_emit(&em, &ev);
    for (size_t i = 0; ok && i < n; i++) {
        ok = yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, i == 0) &&
             yaml_emitter_emit(&em, &ev) && emit_value(&em, docs[i], 0) == 0 &&
             yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&em, &ev);
    }
    ok = ok && yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&em, &ev) &&
         yaml_emitter_flush(&em);
    yaml_emitter_delete(&em);
    if (!ok || out.oom) {
        free(out.buf);
        return NULL;
    }
    if (out.buf == NULL) {
        return strdup("");
    }
    return out.buf;
}

char *yaml_json_dump(const json_t *value)
{
    if (value == NULL) {
        return NULL;
    }
    return dump_docs(&value, 1);
}

char *yaml_json_dump_all(const json_t *docs)
{
    if (!json_is_array(docs)) {
        return NULL;
    }
    size_t n = json_array_size(docs);
    if (n == 0) {
        return strdup("");
    }
    const json_t **items = calloc(n, sizeof(const json_t *));
    if (items == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        items[i] = json_array_get(docs, i);
    }
    char *s = dump_docs(items, n);
    free(items);
    return s;
}
