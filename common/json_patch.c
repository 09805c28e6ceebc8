/*
 * json_patch: RFC 6902 JSON Patch operations over jansson documents, the
 * RFC 6901 pointers they address, and the builder the injector uses to record
 * a patch while applying it to a working copy (see json_patch.h).
 */
#include "common/json_patch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One parsed pointer: unescaped tokens. */
typedef struct {
    char **tok;
    size_t n;
} pointer;

static void pointer_free(pointer *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->tok[i]);
    }
    free(p->tok);
    p->tok = NULL;
    p->n = 0;
}

static char *unescape_token(const char *s, size_t len)
{
    char *out = malloc(len + 1);
    if (out == NULL) {
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '~') {
            if (i + 1 < len && (s[i + 1] == '0' || s[i + 1] == '1')) {
                out[o++] = s[i + 1] == '0' ? '~' : '/';
                i++;
                continue;
            }
            free(out);
            return NULL;
        }
        out[o++] = s[i];
    }
    out[o] = '\0';
    return out;
}

/* 0, or -1 when the pointer is malformed or memory ran out. */
static int pointer_parse(const char *path, pointer *p)
{
    p->tok = NULL;
    p->n = 0;
    if (path == NULL || (path[0] != '\0' && path[0] != '/')) {
        return -1;
    }
    size_t count = 0;
    for (const char *c = path; *c; c++) {
        count += *c == '/';
    }
    if (count == 0) {
        return 0;
    }
    p->tok = calloc(count, sizeof *p->tok);
    if (p->tok == NULL) {
        return -1;
    }
    const char *start = path + 1;
    for (;;) {
        const char *end = strchr(start, '/');
        size_t len = end ? (size_t)(end - start) : strlen(start);
        char *t = unescape_token(start, len);
        if (t == NULL) {
            pointer_free(p);
            return -1;
        }
        p->tok[p->n++] = t;
        if (end == NULL) {
            break;
        }
        start = end + 1;
    }
    return 0;
}

/* Array index token: digits without leading zeros. -1 when not an index. */
static int parse_index(const char *t, size_t *out)
{
    if (t[0] == '\0' || (t[0] == '0' && t[1] != '\0')) {
        return -1;
    }
    size_t v = 0;
    for (const char *c = t; *c; c++) {
        if (*c < '0' || *c > '9') {
            return -1;
        }
        if (v > (((size_t)-1) - 9) / 10) {
            return -1;
        }
        v = v * 10 + (size_t)(*c - '0');
    }
    *out = v;
    return 0;
}

static json_t *walk(json_t *cur, char *const *tok, size_t n)
{
    for (size_t i = 0; cur != NULL && i < n; i++) {
        if (json_is_object(cur)) {
            cur = json_object_get(cur, tok[i]);
        } else if (json_is_array(cur)) {
            size_t idx;
            cur = parse_index(tok[i], &idx) == 0 ? json_array_get(cur, idx) : NULL;
        } else {
            cur = NULL;
        }
    }
    return cur;
}

json_t *json_pointer_get(const json_t *doc, const char *path)
{
    pointer p;
    if (pointer_parse(path, &p) != 0) {
        return NULL;
    }
    /* jansson's getters take non-const values; nothing is modified here. */
    json_t *v = walk((json_t *)doc, p.tok, p.n);
    pointer_free(&p);
    return v;
}

/* Writes token escaped ("~" -> "~0", "/" -> "~1") at out; returns the length written. */
static size_t escape_into(char *out, const char *token)
{
    size_t o = 0;
    for (const char *c = token; *c; c++) {
        if (*c == '~' || *c == '/') {
            out[o++] = '~';
            out[o++] = *c == '~' ? '0' : '1';
        } else {
            out[o++] = *c;
        }
    }
    return o;
}

/* Length of token once escaped. */
static size_t escaped_len(const char *token)
{
    size_t n = 0;
    for (const char *c = token; *c; c++) {
        n += *c == '~' || *c == '/' ? 2 : 1;
    }
    return n;
}

char *json_pointer_escape(const char *token)
{
    char *out = malloc(escaped_len(token) + 1);
    if (out != NULL) {
        out[escape_into(out, token)] = '\0';
    }
    return out;
}

char *json_pointer_join(const char *base, const char *token)
{
    size_t nb = strlen(base);
    char *out = malloc(nb + escaped_len(token) + 2);
    if (out == NULL) {
        return NULL;
    }
    memcpy(out, base, nb);
    out[nb] = '/';
    out[nb + 1 + escape_into(out + nb + 1, token)] = '\0';
    return out;
}

char *json_pointer_join_index(const char *base, size_t index)
{
    char num[24];
    char *q = num + sizeof num;
    *--q = '\0';
    do {
        *--q = (char)('0' + index % 10);
        index /= 10;
    } while (index != 0);
    return json_pointer_join(base, q);
}

/* ---------------------------------------------------------------- applying */

static int failf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int failf(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Adds value (stolen) at p in *docp. */
static int op_add(json_t **docp, const pointer *p, json_t *value, char *err, size_t errlen)
{
    if (p->n == 0) {
        json_decref(*docp);
        *docp = value;
        return 0;
    }
    json_t *parent = walk(*docp, p->tok, p->n - 1);
    const char *last = p->tok[p->n - 1];
    if (json_is_object(parent)) {
        if (json_object_set_new(parent, last, value) != 0) {
            return failf(err, errlen, "out of memory");
        }
        return 0;
    }
    if (json_is_array(parent)) {
        size_t idx, size = json_array_size(parent);
        if (strcmp(last, "-") == 0) {
            idx = size;
        } else if (parse_index(last, &idx) != 0 || idx > size) {
            json_decref(value);
            return failf(err, errlen, "array index %s out of range (size %zu)", last, size);
        }
        if (json_array_insert_new(parent, idx, value) != 0) {
            return failf(err, errlen, "out of memory");
        }
        return 0;
    }
    json_decref(value);
    return failf(err, errlen, "parent of the target does not exist or is not a container");
}

static int op_remove(json_t **docp, const pointer *p, char *err, size_t errlen)
{
    if (p->n == 0) {
        return failf(err, errlen, "cannot remove the whole document");
    }
    json_t *parent = walk(*docp, p->tok, p->n - 1);
    const char *last = p->tok[p->n - 1];
    if (json_is_object(parent) && json_object_get(parent, last) != NULL) {
        json_object_del(parent, last);
        return 0;
    }
    size_t idx;
    if (json_is_array(parent) && parse_index(last, &idx) == 0 && idx < json_array_size(parent)) {
        json_array_remove(parent, idx);
        return 0;
    }
    return failf(err, errlen, "target does not exist");
}

static int op_replace(json_t **docp, const pointer *p, json_t *value, char *err, size_t errlen)
{
    if (walk(*docp, p->tok, p->n) == NULL) {
        json_decref(value);
        return failf(err, errlen, "target does not exist");
    }
    if (p->n == 0) {
        json_decref(*docp);
        *docp = value;
        return 0;
    }
    json_t *parent = walk(*docp, p->tok, p->n - 1);
    const char *last = p->tok[p->n - 1];
    int rc;
    if (json_is_object(parent)) {
        rc = json_object_set_new(parent, last, value);
    } else {
        size_t idx = 0;
        (void)parse_index(last, &idx);
        rc = json_array_set_new(parent, idx, value);
    }
    return rc == 0 ? 0 : failf(err, errlen, "out of memory");
}

/* 1 when pointer a is a proper prefix of pointer b. */
static int is_proper_prefix(const pointer *a, const pointer *b)
{
    if (a->n >= b->n) {
        return 0;
    }
    for (size_t i = 0; i < a->n; i++) {
        if (strcmp(a->tok[i], b->tok[i]) != 0) {
            return 0;
        }
    }
    return 1;
}

static int apply_one(json_t **docp, const json_t *op, char *err, size_t errlen)
{
    if (!json_is_object(op)) {
        return failf(err, errlen, "operation is not an object");
    }
    const char *kind = json_string_value(json_object_get(op, "op"));
    const char *path = json_string_value(json_object_get(op, "path"));
    json_t *value = json_object_get(op, "value");
    if (kind == NULL || path == NULL) {
        return failf(err, errlen, "operation needs string members op and path");
    }
    pointer p;
    if (pointer_parse(path, &p) != 0) {
        return failf(err, errlen, "invalid path \"%s\"", path);
    }
    int rc;
    int needs_value =
        strcmp(kind, "add") == 0 || strcmp(kind, "replace") == 0 || strcmp(kind, "test") == 0;
    if (needs_value && value == NULL) {
        rc = failf(err, errlen, "\"%s\" needs a value", kind);
    } else if (strcmp(kind, "add") == 0) {
        json_t *copy = json_deep_copy(value);
        rc = copy ? op_add(docp, &p, copy, err, errlen) : failf(err, errlen, "out of memory");
    } else if (strcmp(kind, "remove") == 0) {
        rc = op_remove(docp, &p, err, errlen);
    } else if (strcmp(kind, "replace") == 0) {
        json_t *copy = json_deep_copy(value);
        rc = copy ? op_replace(docp, &p, copy, err, errlen) : failf(err, errlen, "out of memory");
    } else if (strcmp(kind, "test") == 0) {
        json_t *cur = walk(*docp, p.tok, p.n);
        rc = cur != NULL && json_equal(cur, value) ? 0 : failf(err, errlen, "test failed");
    } else if (strcmp(kind, "move") == 0 || strcmp(kind, "copy") == 0) {
        const char *from = json_string_value(json_object_get(op, "from"));
        pointer f;
        if (from == NULL || pointer_parse(from, &f) != 0) {
            pointer_free(&p);
            return failf(err, errlen, "\"%s\" needs a valid from", kind);
        }
        json_t *src = walk(*docp, f.tok, f.n);
        int is_move = kind[0] == 'm';
        if (src == NULL) {
            rc = failf(err, errlen, "from \"%s\" does not exist", from);
        } else if (is_move && is_proper_prefix(&f, &p)) {
            rc = failf(err, errlen, "cannot move a value into one of its children");
        } else {
            json_t *val = is_move ? json_incref(src) : json_deep_copy(src);
            if (val == NULL) {
                rc = failf(err, errlen, "out of memory");
            } else if (is_move && (rc = op_remove(docp, &f, err, errlen)) != 0) {
                json_decref(val);
            } else {
                rc = op_add(docp, &p, val, err, errlen);
            }
        }
        pointer_free(&f);
    } else {
        rc = failf(err, errlen, "unknown op \"%s\"", kind);
    }
    pointer_free(&p);
    return rc;
}

int json_patch_apply(const json_t *doc, const json_t *patch, json_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!json_is_array(patch)) {
        return failf(err, errlen, "patch is not an array");
    }
    json_t *work = json_deep_copy(doc);
    if (work == NULL) {
        return failf(err, errlen, "out of memory");
    }
    char why[200];
    for (size_t i = 0; i < json_array_size(patch); i++) {
        why[0] = '\0';
        if (apply_one(&work, json_array_get(patch, i), why, sizeof why) != 0) {
            json_decref(work);
            return failf(err, errlen, "patch[%zu]: %s", i, why);
        }
    }
    *out = work;
    return 0;
}

/* ---------------------------------------------------------------- building */

int json_patch_builder_init(json_patch_builder *b, const jv *doc)
{
    memset(b, 0, sizeof *b);
    b->doc = doc;
    jbuf_init(&b->ops);
    jbuf_putc(&b->ops, '[');
    return b->ops.failed ? -1 : 0;
}

void json_patch_builder_free(json_patch_builder *b)
{
    jbuf_free(&b->ops);
    for (size_t i = 0; i < b->n_created; i++) {
        free(b->created[i].path);
    }
    free(b->created);
    memset(b, 0, sizeof *b);
}

char *json_patch_builder_take(json_patch_builder *b, size_t *len)
{
    if (b->failed) {
        return NULL;
    }
    jbuf_putc(&b->ops, ']');
    char *text = jbuf_take(&b->ops, len);
    if (text == NULL) {
        b->failed = 1;
        snprintf(b->err, sizeof b->err, "out of memory");
    }
    return text;
}

static int oom(json_patch_builder *b)
{
    if (!b->failed) {
        snprintf(b->err, sizeof b->err, "out of memory");
    }
    b->failed = 1;
    return -1;
}

/* The entry for a container this patch created or grew at path, NULL when none. */
static json_patch_created *entry_at(const json_patch_builder *b, const char *path)
{
    for (size_t i = b->n_created; i > 0; i--) {
        if (strcmp(b->created[i - 1].path, path) == 0) {
            return &b->created[i - 1];
        }
    }
    return NULL;
}

/* What is at path after the recorded ops: the latest container created there, else the document's.
 */
static int kind_at(const json_patch_builder *b, const char *path)
{
    const json_patch_created *e = entry_at(b, path);
    if (e != NULL) {
        return e->type;
    }
    const jv *v = jv_pointer(b->doc, path);
    return v == NULL ? -1 : (int)v->type;
}

/* Elements of the array at path after the recorded ops. */
static size_t array_len(const json_patch_builder *b, const char *path)
{
    const json_patch_created *e = entry_at(b, path);
    return e != NULL ? e->count : jv_size(jv_pointer(b->doc, path));
}

static void remember(json_patch_builder *b, const char *path, jv_type type, size_t count)
{
    json_patch_created *e = entry_at(b, path);
    if (e != NULL) {
        e->type = type;
        e->count = count;
        return;
    }
    if (b->n_created == b->cap_created) {
        size_t cap = b->cap_created == 0 ? 8 : b->cap_created * 2;
        void *grown = realloc(b->created, cap * sizeof *b->created);
        if (grown == NULL) {
            oom(b);
            return;
        }
        b->created = grown;
        b->cap_created = cap;
    }
    char *copy = strdup(path);
    if (copy == NULL) {
        oom(b);
        return;
    }
    b->created[b->n_created].path = copy;
    b->created[b->n_created].type = type;
    b->created[b->n_created].count = count;
    b->n_created++;
}

/* Appends {"op":kind,"path":path,"value":<pre><value><post>}. */
static int record(json_patch_builder *b, const char *kind, const char *path, const char *pre,
                  const char *value, size_t len, const char *post)
{
    if (b->failed) {
        return -1;
    }
    jbuf *o = &b->ops;
    if (b->n_ops++ > 0) {
        jbuf_putc(o, ',');
    }
    jbuf_puts(o, "{\"op\":\"");
    jbuf_puts(o, kind);
    jbuf_puts(o, "\",\"path\":");
    jbuf_str(o, path);
    if (value != NULL) {
        jbuf_puts(o, ",\"value\":");
        jbuf_puts(o, pre);
        jbuf_put(o, value, len);
        jbuf_puts(o, post);
    }
    jbuf_putc(o, '}');
    return o->failed ? oom(b) : 0;
}

int json_patch_add(json_patch_builder *b, const char *path, const char *value, size_t len)
{
    return record(b, "add", path, "", value, len, "");
}

int json_patch_set_member(json_patch_builder *b, const char *obj_path, const char *key,
                          const char *value, size_t len)
{
    if (kind_at(b, obj_path) == JV_OBJECT) {
        char *path = json_pointer_join(obj_path, key);
        if (path == NULL) {
            return oom(b);
        }
        int rc = record(b, "add", path, "", value, len, "");
        free(path);
        return rc;
    }
    jbuf pre;
    jbuf_init(&pre);
    jbuf_putc(&pre, '{');
    jbuf_str(&pre, key);
    jbuf_putc(&pre, ':');
    char *head = jbuf_take(&pre, NULL);
    if (head == NULL) {
        return oom(b);
    }
    int rc = record(b, "add", obj_path, head, value, len, "}");
    free(head);
    remember(b, obj_path, JV_OBJECT, 0);
    return b->failed ? -1 : rc;
}

int json_patch_set_tokens(json_patch_builder *b, const char *const *tokens, size_t n,
                          const char *value, size_t len)
{
    if (n == 0) {
        return record(b, "replace", "", "", value, len, "");
    }
    /* The deepest existing object along the tokens. */
    char *path = strdup("");
    if (path == NULL) {
        return oom(b);
    }
    size_t depth = 0;
    while (depth + 1 < n) {
        char *next = json_pointer_join(path, tokens[depth]);
        if (next == NULL) {
            free(path);
            return oom(b);
        }
        if (kind_at(b, next) != JV_OBJECT) {
            free(next);
            break;
        }
        free(path);
        path = next;
        depth++;
    }
    char *target = json_pointer_join(path, tokens[depth]);
    free(path);
    if (target == NULL) {
        return oom(b);
    }
    /* The value wrapped in the missing objects tokens[depth+1 .. n-1]. */
    jbuf pre, post;
    jbuf_init(&pre);
    jbuf_init(&post);
    for (size_t i = depth + 1; i < n; i++) {
        jbuf_putc(&pre, '{');
        jbuf_str(&pre, tokens[i]);
        jbuf_putc(&pre, ':');
        jbuf_putc(&post, '}');
    }
    char *head = jbuf_take(&pre, NULL);
    char *tail = jbuf_take(&post, NULL);
    int rc =
        head == NULL || tail == NULL ? oom(b) : record(b, "add", target, head, value, len, tail);
    if (rc == 0 && depth + 1 < n) {
        remember(b, target, JV_OBJECT, 0);
    }
    free(head);
    free(tail);
    free(target);
    return b->failed ? -1 : rc;
}

int json_patch_append(json_patch_builder *b, const char *array_path, const char *value, size_t len)
{
    if (kind_at(b, array_path) == JV_ARRAY) {
        size_t n = array_len(b, array_path);
        char *path = json_pointer_join(array_path, "-");
        if (path == NULL) {
            return oom(b);
        }
        int rc = record(b, "add", path, "", value, len, "");
        free(path);
        remember(b, array_path, JV_ARRAY, n + 1);
        return b->failed ? -1 : rc;
    }
    int rc = record(b, "add", array_path, "[", value, len, "]");
    remember(b, array_path, JV_ARRAY, 1);
    return b->failed ? -1 : rc;
}

int json_patch_insert(json_patch_builder *b, const char *array_path, size_t index,
                      const char *value, size_t len)
{
    if (kind_at(b, array_path) == JV_ARRAY) {
        size_t n = array_len(b, array_path);
        if (index > n) {
            b->failed = 1;
            snprintf(b->err, sizeof b->err, "insert at %s/%zu: the array has %zu elements",
                     array_path, index, n);
            return -1;
        }
        char *path = json_pointer_join_index(array_path, index);
        if (path == NULL) {
            return oom(b);
        }
        int rc = record(b, "add", path, "", value, len, "");
        free(path);
        remember(b, array_path, JV_ARRAY, n + 1);
        return b->failed ? -1 : rc;
    }
    if (index != 0) {
        b->failed = 1;
        snprintf(b->err, sizeof b->err, "insert at %zu into absent array %s", index, array_path);
        return -1;
    }
    int rc = record(b, "add", array_path, "[", value, len, "]");
    remember(b, array_path, JV_ARRAY, 1);
    return b->failed ? -1 : rc;
}
