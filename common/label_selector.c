/*
 * label_selector: a small hand-written scanner over the selector text. Each
 * requirement is parsed and evaluated in one pass; there is no AST to free.
 */
#include "common/label_selector.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char *p;
    char *err;
    size_t errlen;
} sel_scan;

static void skip_ws(sel_scan *s)
{
    while (*s->p == ' ' || *s->p == '\t') {
        s->p++;
    }
}

/* Label keys and values: alphanumerics, '-', '_', '.', and '/' in keys. */
static int is_word_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.' || c == '/';
}

/* Copies one word into buf (max buflen-1). Returns its length, -1 when too long. */
static int scan_word(sel_scan *s, char *buf, size_t buflen)
{
    skip_ws(s);
    size_t n = 0;
    while (is_word_char(*s->p)) {
        if (n + 1 >= buflen) {
            snprintf(s->err, s->errlen, "label selector: word too long");
            return -1;
        }
        buf[n++] = *s->p++;
    }
    buf[n] = '\0';
    return (int)n;
}

static const char *label_value(const json_t *labels, const char *key)
{
    const json_t *v = labels != NULL ? json_object_get(labels, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* "(a, b, c)": sets *found when `have` is one of them. */
static int scan_set(sel_scan *s, const char *have, int *found)
{
    *found = 0;
    skip_ws(s);
    if (*s->p != '(') {
        snprintf(s->err, s->errlen, "label selector: expected '(' after in/notin");
        return -1;
    }
    s->p++;
    for (;;) {
        char val[256];
        if (scan_word(s, val, sizeof val) < 0) {
            return -1;
        }
        if (have != NULL && strcmp(have, val) == 0) {
            *found = 1;
        }
        skip_ws(s);
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p == ')') {
            s->p++;
            return 0;
        }
        snprintf(s->err, s->errlen, "label selector: expected ',' or ')' in value set");
        return -1;
    }
}

/* One requirement; *ok is whether it holds. */
static int scan_requirement(sel_scan *s, const json_t *labels, int *ok)
{
    char key[320];
    skip_ws(s);
    int negated = 0;
    if (*s->p == '!') {
        negated = 1;
        s->p++;
    }
    if (scan_word(s, key, sizeof key) <= 0) {
        snprintf(s->err, s->errlen, "label selector: expected a key near \"%.20s\"", s->p);
        return -1;
    }
    const char *have = label_value(labels, key);
    skip_ws(s);
    if (negated || *s->p == ',' || *s->p == '\0') {
        *ok = negated ? have == NULL : have != NULL;
        return 0;
    }
    char val[256];
    if (s->p[0] == '!' && s->p[1] == '=') {
        s->p += 2;
        if (scan_word(s, val, sizeof val) < 0) {
            return -1;
        }
        *ok = have == NULL || strcmp(have, val) != 0;
        return 0;
    }
    if (s->p[0] == '=') {
        s->p += s->p[1] == '=' ? 2 : 1;
        if (scan_word(s, val, sizeof val) < 0) {
            return -1;
        }
        *ok = have != NULL && strcmp(have, val) == 0;
        return 0;
    }
    char op[16];
    if (scan_word(s, op, sizeof op) < 0) {
        return -1;
    }
    int found = 0;
    if (strcmp(op, "in") == 0 || strcmp(op, "notin") == 0) {
        if (scan_set(s, have, &found) != 0) {
            return -1;
        }
        *ok = strcmp(op, "in") == 0 ? found : !found;
        return 0;
    }
    snprintf(s->err, s->errlen, "label selector: unsupported operator near \"%.20s\"", op);
    return -1;
}

int label_selector_match(const char *selector, const json_t *labels, int *match, char *err,
                         size_t errlen)
{
    char dummy[8];
    sel_scan s = {selector != NULL ? selector : "", err != NULL ? err : dummy,
                  err != NULL ? errlen : sizeof dummy};
    *match = 1;
    skip_ws(&s);
    if (*s.p == '\0') {
        return 0;
    }
    for (;;) {
        int ok = 0;
        if (scan_requirement(&s, labels, &ok) != 0) {
            *match = 0;
            return -1;
        }
        if (!ok) {
            *match = 0;
        }
        skip_ws(&s);
        if (*s.p == '\0') {
            return 0;
        }
        if (*s.p != ',') {
            snprintf(s.err, s.errlen, "label selector: unexpected \"%.20s\"", s.p);
            *match = 0;
            return -1;
        }
        s.p++;
    }
}
