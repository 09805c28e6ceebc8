/*
 * jv: a strict JSON parser into an arena tree, and a text writer (see jv.h).
 * The parser is recursive descent with an explicit depth limit; strings are
 * decoded into the arena once, so readers get NUL-terminated C strings.
 */
#include "common/jv.h"

#include "common/base64.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena ---------------------------------------------------------------------------------- */

struct jv_chunk {
    jv_chunk *next;
    size_t used, cap;
    _Alignas(max_align_t) unsigned char mem[];
};

static void *arena_alloc(jv_doc *doc, size_t n, size_t hint)
{
    n = (n + 7) & ~(size_t)7;
    jv_chunk *c = doc->chunks;
    if (c == NULL || c->cap - c->used < n) {
        size_t cap = c == NULL ? hint : c->cap * 2;
        if (cap < n) {
            cap = n;
        }
        jv_chunk *nc = malloc(sizeof *nc + cap);
        if (nc == NULL) {
            return NULL;
        }
        nc->next = c;
        nc->used = 0;
        nc->cap = cap;
        doc->chunks = nc;
        c = nc;
    }
    void *p = c->mem + c->used;
    c->used += n;
    return p;
}

/* A NUL-terminated copy of s[0..n) in the arena, NULL when out of memory. */
static char *arena_strndup(jv_doc *doc, const void *s, size_t n, size_t hint)
{
    char *o = arena_alloc(doc, n + 1, hint);
    if (o != NULL) {
        memcpy(o, s, n);
        o[n] = '\0';
    }
    return o;
}

void jv_doc_free(jv_doc *doc)
{
    if (doc == NULL) {
        return;
    }
    jv_chunk *c = doc->chunks;
    while (c != NULL) {
        jv_chunk *next = c->next;
        free(c);
        c = next;
    }
    doc->chunks = NULL;
    doc->root = NULL;
}

/* ---- parser --------------------------------------------------------------------------------- */

typedef struct {
    jv_doc *doc;
    const unsigned char *p, *start, *end;
    size_t hint;
    char *err;
    size_t errlen;
    int failed;
} parser;

static int perr(parser *ps, const char *what)
{
    if (!ps->failed && ps->err != NULL && ps->errlen > 0) {
        snprintf(ps->err, ps->errlen, "%s at byte %zu", what, (size_t)(ps->p - ps->start));
    }
    ps->failed = 1;
    return -1;
}

static int oom(parser *ps)
{
    if (!ps->failed && ps->err != NULL && ps->errlen > 0) {
        snprintf(ps->err, ps->errlen, "out of memory");
    }
    ps->failed = 1;
    return -1;
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\t' || *ps->p == '\r')) {
        ps->p++;
    }
}

size_t jv_utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        return n >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) {
            return 0;
        }
        if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F)) {
            return 0; /* overlong, or a surrogate */
        }
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) {
            return 0;
        }
        if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F)) {
            return 0;
        }
        return 4;
    }
    return 0;
}

static int hex4(const unsigned char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (c >= '0' && c <= '9') {
            d = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            d = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            d = c - 'A' + 10;
        } else {
            return -1;
        }
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(unsigned char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | cp >> 6);
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | cp >> 18);
    o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/*
 * A string at ps->p (on the opening quote), decoded into the arena. The
 * decoded text is never longer than the source, so one allocation of the
 * source length is enough.
 */
/* Bytes a string can copy as they are: printable ASCII other than '"' and '\\'. */
static int plain(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/*
 * Eight bytes at a time (SWAR): does the word hold a byte below 0x20, a '"'
 * or a '\\' (and, with high, one of 0x80 or above)? Exact as a yes/no.
 */
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
static int word_special(uint64_t x, int high)
{
    uint64_t q = x ^ (ONES * '"'), bs = x ^ (ONES * '\\');
    uint64_t t = ((x - ONES * 0x20) & ~x) | ((q - ONES) & ~q) | ((bs - ONES) & ~bs);
    return ((t & HIGHS) | (high ? x & HIGHS : 0)) != 0;
}

/* Length of the run of bytes at s (at most n) needing no attention. */
static size_t plain_run(const unsigned char *s, size_t n, int high)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        if (word_special(x, high)) {
            break;
        }
    }
    while (i < n && (plain(s[i]) || (!high && s[i] >= 0x80))) {
        i++;
    }
    return i;
}

/*
 * A string at ps->p (on the opening quote), decoded into the arena. The
 * decoded text is never longer than the source, so one allocation of the
 * source length is enough; runs of plain bytes are copied at once.
 */
static int parse_string(parser *ps, const char **out, size_t *out_len)
{
    const unsigned char *q = ps->p + 1, *end = ps->end;
    const unsigned char *r = q + plain_run(q, (size_t)(end - q), 1);
    if (r < end && *r == '"') {
        /* The common case: nothing to decode. */
        size_t n = (size_t)(r - q);
        char *o = arena_strndup(ps->doc, q, n, ps->hint);
        if (o == NULL) {
            return oom(ps);
        }
        *out = o;
        *out_len = n;
        ps->p = r + 1;
        return 0;
    }
    /* Find the closing quote (escapes skipped) to size the copy. */
    const unsigned char *e = r;
    while (e < end && *e != '"') {
        e += *e == '\\' ? 2 : 1;
    }
    if (e >= end) {
        ps->p = end;
        return perr(ps, "unterminated string");
    }
    unsigned char *o = arena_alloc(ps->doc, (size_t)(e - q) + 1, ps->hint);
    if (o == NULL) {
        return oom(ps);
    }
    *out = (const char *)o;
    unsigned char *o0 = o;
    while (q < e) {
        const unsigned char *run = q;
        q += plain_run(q, (size_t)(e - q), 1);
        memcpy(o, run, (size_t)(q - run));
        o += q - run;
        if (q >= e) {
            break;
        }
        unsigned c = *q;
        if (c == '\\') {
            ps->p = q;
            unsigned char x = q[1];
            q += 2;
            switch (x) {
            case '"':
            case '\\':
            case '/':
                *o++ = x;
                break;
            case 'b':
                *o++ = '\b';
                break;
            case 'f':
                *o++ = '\f';
                break;
            case 'n':
                *o++ = '\n';
                break;
            case 'r':
                *o++ = '\r';
                break;
            case 't':
                *o++ = '\t';
                break;
            case 'u': {
                unsigned cp;
                if (e - q < 4 || hex4(q, &cp) != 0) {
                    return perr(ps, "invalid \\u escape");
                }
                q += 4;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned lo;
                    if (e - q < 6 || q[0] != '\\' || q[1] != 'u' || hex4(q + 2, &lo) != 0 ||
                        lo < 0xDC00 || lo > 0xDFFF) {
                        return perr(ps, "invalid Unicode surrogate pair");
                    }
                    q += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    return perr(ps, "invalid Unicode surrogate pair");
                } else if (cp == 0) {
                    return perr(ps, "\\u0000 is not allowed in strings");
                }
                o += put_utf8(o, cp);
                break;
            }
            default:
                return perr(ps, "invalid escape");
            }
        } else if (c < 0x20) {
            ps->p = q;
            return perr(ps, "control character in string");
        } else {
            size_t l = jv_utf8_len(q, (size_t)(e - q));
            if (l == 0) {
                ps->p = q;
                return perr(ps, "invalid UTF-8 in string");
            }
            memcpy(o, q, l);
            o += l;
            q += l;
        }
    }
    *o = '\0';
    *out_len = (size_t)(o - o0);
    ps->p = e + 1;
    return 0;
}

/* One or more digits at q: the position after them, NULL when there is none. */
static const unsigned char *digits(const unsigned char *q, const unsigned char *end)
{
    if (q >= end || !(*q >= '0' && *q <= '9')) {
        return NULL;
    }
    while (q < end && *q >= '0' && *q <= '9') {
        q++;
    }
    return q;
}

static int parse_number(parser *ps, jv *v)
{
    const unsigned char *s = ps->p, *q = s;
    int is_int = 1;
    if (q < ps->end && *q == '-') {
        q++;
    }
    /* int: "0" or digits without a leading zero */
    const unsigned char *after = q < ps->end && *q == '0' ? q + 1 : digits(q, ps->end);
    if (after == NULL) {
        return perr(ps, "invalid number");
    }
    q = after;
    if (q < ps->end && *q == '.') {
        is_int = 0;
        if ((after = digits(q + 1, ps->end)) == NULL) {
            ps->p = q + 1;
            return perr(ps, "invalid number");
        }
        q = after;
    }
    if (q < ps->end && (*q == 'e' || *q == 'E')) {
        is_int = 0;
        q++;
        if (q < ps->end && (*q == '+' || *q == '-')) {
            q++;
        }
        if ((after = digits(q, ps->end)) == NULL) {
            ps->p = q;
            return perr(ps, "invalid number");
        }
        q = after;
    }
    size_t n = (size_t)(q - s);
    char *text = arena_strndup(ps->doc, s, n, ps->hint);
    if (text == NULL) {
        return oom(ps);
    }
    errno = 0;
    if (is_int) {
        (void)strtoll(text, NULL, 10);
        if (errno == ERANGE) {
            return perr(ps, "too big integer");
        }
    } else {
        double d = strtod(text, NULL);
        if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL)) {
            return perr(ps, "real number overflow");
        }
    }
    v->type = JV_NUMBER;
    v->s = text;
    v->n = n;
    v->is_int = is_int;
    ps->p = q;
    return 0;
}

static int parse_literal(parser *ps, const char *word, jv_type t, jv *v)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) {
        return perr(ps, "invalid token");
    }
    ps->p += n;
    v->type = t;
    return 0;
}

static int parse_value(parser *ps, jv *v, int depth);

static int parse_container(parser *ps, jv *v, int depth, int is_object)
{
    if (depth >= JV_MAX_DEPTH) {
        return perr(ps, "nesting too deep");
    }
    v->type = is_object ? JV_OBJECT : JV_ARRAY;
    unsigned char close = is_object ? '}' : ']';
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return 0;
    }
    jv **tail = &v->child;
    for (;;) {
        jv *c = arena_alloc(ps->doc, sizeof *c, ps->hint);
        if (c == NULL) {
            return oom(ps);
        }
        memset(c, 0, sizeof *c);
        if (is_object) {
            if (ps->p >= ps->end || *ps->p != '"') {
                return perr(ps, "expected a string key");
            }
            if (parse_string(ps, &c->key, &c->key_len) != 0) {
                return -1;
            }
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                return perr(ps, "expected ':'");
            }
            ps->p++;
            skip_ws(ps);
        }
        if (parse_value(ps, c, depth + 1) != 0) {
            return -1;
        }
        *tail = c;
        tail = &c->next;
        v->n++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            skip_ws(ps);
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return 0;
        }
        return perr(ps, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int parse_value(parser *ps, jv *v, int depth)
{
    if (ps->p >= ps->end) {
        return perr(ps, "unexpected end of input");
    }
    const unsigned char *at = ps->p;
    int rc;
    switch (*ps->p) {
    case '{':
        rc = parse_container(ps, v, depth, 1);
        break;
    case '[':
        rc = parse_container(ps, v, depth, 0);
        break;
    case '"':
        v->type = JV_STRING;
        rc = parse_string(ps, &v->s, &v->n);
        break;
    case 't':
        rc = parse_literal(ps, "true", JV_TRUE, v);
        break;
    case 'f':
        rc = parse_literal(ps, "false", JV_FALSE, v);
        break;
    case 'n':
        rc = parse_literal(ps, "null", JV_NULL, v);
        break;
    default:
        rc = parse_number(ps, v);
        break;
    }
    v->raw = (const char *)at;
    v->raw_len = (size_t)(ps->p - at);
    return rc;
}

int jv_parse(jv_doc *doc, const char *text, size_t len, char *err, size_t errlen)
{
    doc->root = NULL;
    doc->chunks = NULL;
    if (err != NULL && errlen > 0) {
        err[0] = '\0';
    }
    parser ps = {doc, NULL, NULL, NULL, 0, err, errlen, 0};
    /* The text is copied first (raw spans point into the copy, so the tree stands
     * alone); nodes and decoded strings of a pod take about 2.5 times its text. */
    ps.hint = len < 1024 ? 4096 : len * 4;
    char *copy = text == NULL || len > SIZE_MAX / 8 ? NULL : arena_alloc(doc, len + 1, ps.hint);
    jv *root = copy == NULL ? NULL : arena_alloc(doc, sizeof *root, ps.hint);
    if (root == NULL) {
        oom(&ps);
        jv_doc_free(doc);
        return -1;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    ps.p = ps.start = (const unsigned char *)copy;
    ps.end = ps.start + len;
    memset(root, 0, sizeof *root);
    skip_ws(&ps);
    if (parse_value(&ps, root, 0) != 0) {
        jv_doc_free(doc);
        return -1;
    }
    skip_ws(&ps);
    if (ps.p != ps.end) {
        perr(&ps, "end of file expected");
        jv_doc_free(doc);
        return -1;
    }
    doc->root = root;
    return 0;
}

/* ---- reading -------------------------------------------------------------------------------- */

const jv *jv_get(const jv *v, const char *key)
{
    if (v == NULL || v->type != JV_OBJECT || key == NULL) {
        return NULL;
    }
    size_t n = strlen(key);
    const jv *found = NULL;
    for (const jv *c = v->child; c != NULL; c = c->next) {
        if (c->key_len == n && memcmp(c->key, key, n) == 0) {
            found = c;
        }
    }
    return found;
}

const char *jv_str(const jv *v)
{
    return v != NULL && v->type == JV_STRING ? v->s : NULL;
}

size_t jv_size(const jv *v)
{
    return v != NULL && (v->type == JV_ARRAY || v->type == JV_OBJECT) ? v->n : 0;
}

const jv *jv_first(const jv *v)
{
    return v != NULL && (v->type == JV_ARRAY || v->type == JV_OBJECT) ? v->child : NULL;
}

const jv *jv_at(const jv *v, size_t i)
{
    const jv *c = jv_first(v);
    while (c != NULL && i > 0) {
        c = c->next;
        i--;
    }
    return c;
}

int jv_is(const jv *v, jv_type t)
{
    return v != NULL && v->type == t;
}

int jv_is_true(const jv *v)
{
    return jv_is(v, JV_TRUE);
}

long long jv_int(const jv *v)
{
    return v != NULL && v->type == JV_NUMBER && v->is_int ? strtoll(v->s, NULL, 10) : 0;
}

/* Does the escaped pointer token tok[0..n) name key? Malformed escapes match nothing. */
static int token_is(const char *tok, size_t n, const char *key)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++, k++) {
        char c = tok[i];
        if (c == '~') {
            if (i + 1 >= n || (tok[i + 1] != '0' && tok[i + 1] != '1')) {
                return 0;
            }
            c = tok[++i] == '0' ? '~' : '/';
        }
        if (key[k] != c) {
            return 0;
        }
    }
    return key[k] == '\0';
}

/* An array index token: digits without leading zeros. -1 when not one. */
static int token_index(const char *tok, size_t n, size_t *out)
{
    if (n == 0 || (tok[0] == '0' && n > 1)) {
        return -1;
    }
    size_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (tok[i] < '0' || tok[i] > '9' || v > (SIZE_MAX - 9) / 10) {
            return -1;
        }
        v = v * 10 + (size_t)(tok[i] - '0');
    }
    *out = v;
    return 0;
}

const jv *jv_pointer(const jv *v, const char *path)
{
    if (path == NULL) {
        return NULL;
    }
    const char *q = path;
    while (v != NULL && *q != '\0') {
        if (*q != '/') {
            return NULL;
        }
        const char *tok = q + 1;
        size_t n = strcspn(tok, "/");
        q = tok + n;
        if (v->type == JV_OBJECT) {
            const jv *found = NULL;
            for (const jv *c = v->child; c != NULL; c = c->next) {
                if (token_is(tok, n, c->key)) {
                    found = c; /* the last of a repeated key, as jv_get */
                }
            }
            v = found;
        } else if (v->type == JV_ARRAY) {
            size_t i;
            v = token_index(tok, n, &i) == 0 && i < v->n ? jv_at(v, i) : NULL;
        } else {
            return NULL;
        }
    }
    return v;
}

int jv_from_json(jv_doc *doc, const json_t *v, char *err, size_t errlen)
{
    doc->root = NULL;
    doc->chunks = NULL;
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text == NULL) {
        if (err != NULL && errlen > 0) {
            snprintf(err, errlen, "out of memory");
        }
        return -1;
    }
    int rc = jv_parse(doc, text, strlen(text), err, errlen);
    free(text); /* the document keeps its own copy */
    return rc;
}

json_t *jv_to_json(const jv *v)
{
    return v == NULL ? NULL : json_loadb(v->raw, v->raw_len, JSON_DECODE_ANY, NULL);
}

/* ---- writing -------------------------------------------------------------------------------- */

void jbuf_init(jbuf *b)
{
    memset(b, 0, sizeof *b);
}

void jbuf_free(jbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

char *jbuf_take(jbuf *b, size_t *len)
{
    jbuf_putc(b, '\0');
    if (b->failed) {
        jbuf_free(b);
        return NULL;
    }
    char *p = b->p;
    if (len != NULL) {
        *len = b->len - 1;
    }
    memset(b, 0, sizeof *b);
    return p;
}

static int reserve(jbuf *b, size_t n)
{
    if (b->failed) {
        return -1;
    }
    if (b->cap - b->len >= n) {
        return 0;
    }
    size_t cap = b->cap == 0 ? 1024 : b->cap;
    while (cap - b->len < n) {
        if (cap > SIZE_MAX / 2) {
            b->failed = 1;
            return -1;
        }
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (p == NULL) {
        b->failed = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void jbuf_put(jbuf *b, const char *s, size_t n)
{
    if (n > 0 && reserve(b, n) == 0) {
        memcpy(b->p + b->len, s, n);
        b->len += n;
    }
}

void jbuf_puts(jbuf *b, const char *s)
{
    jbuf_put(b, s, strlen(s));
}

void jbuf_putc(jbuf *b, char c)
{
    if (reserve(b, 1) == 0) {
        b->p[b->len++] = c;
    }
}

void jbuf_int(jbuf *b, long long v)
{
    char tmp[24];
    char *e = tmp + sizeof tmp, *q = e;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--q = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0) {
        *--q = '-';
    }
    jbuf_put(b, q, (size_t)(e - q));
}

void jbuf_strn(jbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    /* Worst case every byte becomes \u00XX. */
    if (n > (SIZE_MAX - 2) / 6 || reserve(b, n * 6 + 2) != 0) {
        b->failed = 1;
        return;
    }
    char *o = b->p + b->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        size_t run = i + plain_run((const unsigned char *)s + i, n - i, 0);
        if (run > i) {
            memcpy(o, s + i, run - i);
            o += run - i;
            i = run;
            if (i >= n) {
                break;
            }
        }
        unsigned char c = (unsigned char)s[i];
        *o++ = '\\';
        switch (c) {
        case '"':
        case '\\':
            *o++ = (char)c;
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\r':
            *o++ = 'r';
            break;
        case '\t':
            *o++ = 't';
            break;
        case '\b':
            *o++ = 'b';
            break;
        case '\f':
            *o++ = 'f';
            break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
            break;
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->p);
}

void jbuf_str(jbuf *b, const char *s)
{
    jbuf_strn(b, s, strlen(s));
}

/* true, false or null. */
static void put_atom(jbuf *b, int is_true, int is_false)
{
    if (is_true) {
        jbuf_put(b, "true", 4);
    } else if (is_false) {
        jbuf_put(b, "false", 5);
    } else {
        jbuf_put(b, "null", 4);
    }
}

void jbuf_json(jbuf *b, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        jbuf_putc(b, '{');
        const char *k;
        json_t *m;
        int first = 1;
        json_object_foreach((json_t *)v, k, m)
        {
            if (!first) {
                jbuf_putc(b, ',');
            }
            first = 0;
            jbuf_str(b, k);
            jbuf_putc(b, ':');
            jbuf_json(b, m);
        }
        jbuf_putc(b, '}');
        break;
    }
    case JSON_ARRAY: {
        jbuf_putc(b, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i > 0) {
                jbuf_putc(b, ',');
            }
            jbuf_json(b, json_array_get(v, i));
        }
        jbuf_putc(b, ']');
        break;
    }
    case JSON_STRING:
        jbuf_strn(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        jbuf_int(b, (long long)json_integer_value(v));
        break;
    case JSON_REAL: {
        char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        if (t == NULL) {
            b->failed = 1;
        } else {
            jbuf_puts(b, t);
        }
        free(t);
        break;
    }
    default:
        put_atom(b, json_is_true(v), json_is_false(v));
        break;
    }
}

void jbuf_jv(jbuf *b, const jv *v)
{
    switch (v->type) {
    case JV_OBJECT:
    case JV_ARRAY: {
        jbuf_putc(b, v->type == JV_OBJECT ? '{' : '[');
        for (const jv *c = v->child; c != NULL; c = c->next) {
            if (c != v->child) {
                jbuf_putc(b, ',');
            }
            if (v->type == JV_OBJECT) {
                jbuf_str(b, c->key);
                jbuf_putc(b, ':');
            }
            jbuf_jv(b, c);
        }
        jbuf_putc(b, v->type == JV_OBJECT ? '}' : ']');
        break;
    }
    case JV_STRING:
        jbuf_strn(b, v->s, v->n);
        break;
    case JV_NUMBER:
        jbuf_put(b, v->s, v->n);
        break;
    default:
        put_atom(b, v->type == JV_TRUE, v->type == JV_FALSE);
        break;
    }
}

void jbuf_base64(jbuf *b, const void *data, size_t n)
{
    size_t out = (n + 2) / 3 * 4;
    if (n > SIZE_MAX / 2 || reserve(b, out + 1) != 0) {
        b->failed = 1;
        return;
    }
    size_t w = base64_encode_into(b->p + b->len, data, n);
    if (w == (size_t)-1) {
        b->failed = 1;
        return;
    }
    b->len += w;
}
