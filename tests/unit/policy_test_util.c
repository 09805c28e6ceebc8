/* policy_test_util: fixtures for the policy tests (see policy_test_util.h). */
#include "tests/unit/policy_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Walks one segment "name" or "name[3]"; creates missing objects when `create`. */
static json_t *step(json_t *cur, const char *seg, size_t len, int create)
{
    char key[128];
    const char *br = memchr(seg, '[', len);
    size_t klen = br ? (size_t)(br - seg) : len;
    if (klen >= sizeof key) {
        return NULL;
    }
    memcpy(key, seg, klen);
    key[klen] = '\0';
    json_t *next = json_object_get(cur, key);
    if (next == NULL && create && br == NULL) {
        next = json_object();
        json_object_set_new(cur, key, next);
    }
    if (br != NULL) {
        next = json_array_get(next, strtoul(br + 1, NULL, 10));
    }
    return next;
}

static int apply(json_t *root, const policy_mutation *m)
{
    json_t *cur = root;
    const char *p = m->path;
    for (;;) {
        size_t n = strcspn(p, ".");
        if (p[n] == '\0') {
            /* last segment: set or delete */
            const char *br = memchr(p, '[', n);
            json_t *value = NULL;
            if (m->value != NULL) {
                json_error_t e;
                value = json_loads(m->value, JSON_DECODE_ANY, &e);
                if (value == NULL) {
                    fprintf(stderr, "bad test value %s: %s\n", m->value, e.text);
                    return -1;
                }
            }
            if (br != NULL) {
                char key[128];
                size_t klen = (size_t)(br - p);
                memcpy(key, p, klen);
                key[klen] = '\0';
                json_t *arr = json_object_get(cur, key);
                size_t idx = strtoul(br + 1, NULL, 10);
                if (value == NULL) {
                    return json_array_remove(arr, idx);
                }
                if (idx == json_array_size(arr)) {
                    return json_array_append_new(arr, value);
                }
                return json_array_set_new(arr, idx, value);
            }
            if (value == NULL) {
                json_object_del(cur, p);
                return 0;
            }
            return json_object_set_new(cur, p, value);
        }
        cur = step(cur, p, n, 1);
        if (cur == NULL) {
            fprintf(stderr, "bad test path %s\n", m->path);
            return -1;
        }
        p += n + 1;
    }
}

json_t *policy_test_build(const char *base, const policy_mutation *muts, size_t n)
{
    json_error_t e;
    json_t *root = json_loads(base, 0, &e);
    if (root == NULL) {
        fprintf(stderr, "bad base: %s\n", e.text);
        return NULL;
    }
    for (size_t i = 0; i < n && muts[i].path != NULL; i++) {
        if (apply(root, &muts[i]) != 0) {
            json_decref(root);
            return NULL;
        }
    }
    return root;
}

int policy_test_has_error(const field_errors *errs, const char *want)
{
    for (size_t i = 0; i < errs->len; i++) {
        char *s = field_error_format(&errs->items[i]);
        int eq = s != NULL && strcmp(s, want) == 0;
        free(s);
        if (eq) {
            return 1;
        }
    }
    return 0;
}

int policy_test_has_warning(const policy_warnings *w, const char *needle)
{
    for (size_t i = 0; i < w->len; i++) {
        if (strstr(w->items[i], needle) != NULL) {
            return 1;
        }
    }
    return 0;
}

void policy_test_dump(const char *label, const field_errors *errs, const policy_warnings *w)
{
    fprintf(stderr, "\n-- %s: %zu error(s)\n", label, errs->len);
    for (size_t i = 0; i < errs->len; i++) {
        char *s = field_error_format(&errs->items[i]);
        fprintf(stderr, "   %s\n", s ? s : "?");
        free(s);
    }
    for (size_t i = 0; w != NULL && i < w->len; i++) {
        fprintf(stderr, "   warning: %s\n", w->items[i]);
    }
}
