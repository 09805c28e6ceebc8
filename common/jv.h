/*
 * jv: the admission hot path's JSON. A strict RFC 8259 parser into a
 * read-only tree held in one arena per document, and a text writer. Pure: no
 * I/O, no globals.
 *
 * Why not jansson here: an AdmissionReview is parsed, read once and dropped.
 * jansson builds a hash table per object and a malloc per value and string,
 * which made parsing, planning and rendering a 3 KB pod cost ~250 us. A jv
 * document is one or two allocations; lookups scan members in order (objects
 * in a Pod are small). jansson stays for everything long-lived or edited.
 *
 * What the parser accepts is what jansson's json_loadb() accepts (checked by
 * tests/fuzz/fuzz_jv.c): valid UTF-8 only, no "\u0000", no lone surrogates,
 * integers that fit in a long long, reals that do not overflow, nesting up to
 * JV_MAX_DEPTH (jansson: 2048). Unlike jansson, a NUL byte after the value is
 * an error, not the end of the input. A repeated key is kept; jv_get() returns the last one, as
 * jansson does. Every value remembers its source text (raw, raw_len; the
 * document keeps its own copy of the input), so a sub-tree can be handed to
 * jansson unchanged (jv_to_json).
 *
 * Ownership: a jv_doc owns every node and string of its tree; pointers into
 * it live until jv_doc_free(). A jbuf owns its text until jbuf_take().
 */
#ifndef AIGW_COMMON_JV_H
#define AIGW_COMMON_JV_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define JV_MAX_DEPTH 512

typedef enum { JV_NULL, JV_FALSE, JV_TRUE, JV_NUMBER, JV_STRING, JV_ARRAY, JV_OBJECT } jv_type;

typedef struct jv jv;
struct jv {
    const char *key; /* member name (decoded, NUL-terminated) inside an object, else NULL */
    const char *s;   /* JV_STRING: decoded, NUL-terminated; JV_NUMBER: its text */
    jv *child;       /* first element or member */
    jv *next;        /* next sibling */
    const char *raw; /* this value's text in the parsed input */
    size_t raw_len;
    size_t n;       /* JV_STRING: byte length; JV_ARRAY/JV_OBJECT: number of children */
    size_t key_len; /* byte length of key */
    jv_type type;
    int is_int; /* JV_NUMBER without fraction or exponent */
};

typedef struct jv_chunk jv_chunk;
typedef struct {
    jv *root;
    jv_chunk *chunks;
} jv_doc;

/*
 * Parses text (not NUL-terminated) as one JSON value. 0, or -1 with
 * "<problem> at byte N" in err (also on allocation failure: "out of memory").
 * On failure doc holds nothing to free.
 */
int jv_parse(jv_doc *doc, const char *text, size_t len, char *err, size_t errlen);
void jv_doc_free(jv_doc *doc);

/* Object member (the last one of that name), NULL when v is not an object or has none. */
const jv *jv_get(const jv *v, const char *key);

/* The string, NULL unless v is a string. */
const char *jv_str(const jv *v);

/* Children of an array or object, 0 for anything else. */
size_t jv_size(const jv *v);

/* First element/member, NULL when none or not a container; continue with ->next. */
const jv *jv_first(const jv *v);

/* The i-th element of an array, NULL when out of range. */
const jv *jv_at(const jv *v, size_t i);

int jv_is(const jv *v, jv_type t);
int jv_is_true(const jv *v);

/* An integer's value, 0 when v is not an integer. */
long long jv_int(const jv *v);

/* Resolves an RFC 6901 pointer ("" is v itself). NULL when absent or malformed. */
const jv *jv_pointer(const jv *v, const char *path);

/*
 * doc := a jansson value as the webhook would read it (written, then parsed).
 * For the CLI and tests that hold jansson values. 0, or -1 with the reason in
 * err as jv_parse() gives it ("out of memory" when writing failed).
 */
int jv_from_json(jv_doc *doc, const json_t *v, char *err, size_t errlen);

/* A jansson copy of v (parsed from its source text). NULL on allocation failure or v NULL. */
json_t *jv_to_json(const jv *v);

/*
 * Length of the valid UTF-8 sequence at p (n > 0 bytes left), 0 when it is not
 * one (overlong forms, surrogates and code points past U+10FFFF are not).
 */
size_t jv_utf8_len(const unsigned char *p, size_t n);

/* Iterates a container: for (const jv *e = jv_first(a); e != NULL; e = e->next). */
#define jv_foreach(container, e) for (const jv *e = jv_first(container); e != NULL; e = e->next)

/* ---- writing ------------------------------------------------------------------------------ */

/* A growing text buffer. Any failed allocation sets `failed`; later writes do nothing. */
typedef struct {
    char *p;
    size_t len, cap;
    int failed;
} jbuf;

void jbuf_init(jbuf *b);
void jbuf_free(jbuf *b);

/* The text (NUL-terminated, length in *len); the buffer is empty after. NULL if it failed. */
char *jbuf_take(jbuf *b, size_t *len);

void jbuf_put(jbuf *b, const char *s, size_t n);
void jbuf_puts(jbuf *b, const char *s);
void jbuf_putc(jbuf *b, char c);
void jbuf_int(jbuf *b, long long v);

/* s (valid UTF-8) as a quoted JSON string. */
void jbuf_str(jbuf *b, const char *s);
void jbuf_strn(jbuf *b, const char *s, size_t n);

/* A jansson value, compact, members in insertion order (as json_dumps(JSON_COMPACT)). */
void jbuf_json(jbuf *b, const json_t *v);

/* A jv value, compact, members in document order. */
void jbuf_jv(jbuf *b, const jv *v);

/* The standard base64 (RFC 4648, padded) of data. */
void jbuf_base64(jbuf *b, const void *data, size_t n);

#endif
