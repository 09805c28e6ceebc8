/*
 * json_patch: RFC 6902 JSON Patch, built and applied. Pure: no I/O, no globals.
 *
 * Applying works on jansson documents (the CLI, tests). Building writes the
 * patch as text for the admission hot path (see json_patch_builder below).
 *
 * Paths are JSON Pointers (RFC 6901). Helpers that take a key or a token list
 * escape it ("~" -> "~0", "/" -> "~1"); functions that take a `path` take it
 * already escaped.
 *
 * Ownership: a builder borrows its document and owns its text until
 * json_patch_builder_take(). Returned strings are malloc'ed; the caller frees. Every function
 * returns 0 on success and -1 on failure; a builder remembers its first failure in `err` and
 * refuses further operations.
 */
#ifndef AIGW_COMMON_JSON_PATCH_H
#define AIGW_COMMON_JSON_PATCH_H

#include "common/jv.h"

#include <jansson.h>
#include <stddef.h>

/* "a/b~c" -> "a~1b~0c". NULL on allocation failure. */
char *json_pointer_escape(const char *token);

/* base + "/" + escaped token ("" base is the root). NULL on allocation failure. */
char *json_pointer_join(const char *base, const char *token);

/* base + "/" + index. NULL on allocation failure. */
char *json_pointer_join_index(const char *base, size_t index);

/*
 * Resolves a pointer in doc. Returns the borrowed value, or NULL when the
 * pointer does not parse or names nothing.
 */
json_t *json_pointer_get(const json_t *doc, const char *path);

/*
 * Applies a patch to a copy of doc. On success returns 0 and sets *out to the
 * new document (new reference). On failure returns -1, sets *out to NULL and
 * writes "patch[i]: <problem>" to err. Supports add, remove, replace, move,
 * copy and test.
 */
int json_patch_apply(const json_t *doc, const json_t *patch, json_t **out, char *err,
                     size_t errlen);

/*
 * Building, for the admission hot path: the patch is written as text while it
 * is recorded, against the original document (a jv tree). The builder knows
 * whether an array or object exists at a path from that document and from the
 * containers its own earlier operations created, so helpers can "add the
 * whole array when absent, else append with /-". It does not track index
 * shifts: record operations on list members before inserting into the list.
 *
 * Values are JSON text (value, len), copied into the patch as they are.
 */
typedef struct {
    char *path;
    jv_type type;
    size_t count; /* elements, for an array */
} json_patch_created;

typedef struct {
    const jv *doc; /* the document the patch applies to (borrowed) */
    jbuf ops;      /* "[op,op,..." */
    size_t n_ops;
    json_patch_created *created; /* containers added or grown by recorded ops */
    size_t n_created, cap_created;
    int failed;
    char err[256];
} json_patch_builder;

/* Starts an empty patch against doc. -1 on allocation failure. */
int json_patch_builder_init(json_patch_builder *b, const jv *doc);
void json_patch_builder_free(json_patch_builder *b);

/* The patch text ("[...]", malloc'ed, length in *len); NULL when the builder failed. */
char *json_patch_builder_take(json_patch_builder *b, size_t *len);

/* add, for an already-escaped path. */
int json_patch_add(json_patch_builder *b, const char *path, const char *value, size_t len);

/*
 * Sets object member `key` of the object at `obj_path`: when that object is
 * absent, adds it whole ({key: value}); else adds obj_path/escaped(key)
 * (replacing an existing member).
 */
int json_patch_set_member(json_patch_builder *b, const char *obj_path, const char *key,
                          const char *value, size_t len);

/*
 * Sets the value at a path given as unescaped tokens, creating every missing
 * object on the way with one `add` of the whole missing subtree.
 */
int json_patch_set_tokens(json_patch_builder *b, const char *const *tokens, size_t n,
                          const char *value, size_t len);

/*
 * Appends to the array at `array_path`: when absent, adds [value]; else adds
 * array_path/-.
 */
int json_patch_append(json_patch_builder *b, const char *array_path, const char *value, size_t len);

/*
 * Inserts into the array at `array_path` at `index` (0..size): when absent
 * (index must be 0), adds [value]; else adds array_path/index.
 */
int json_patch_insert(json_patch_builder *b, const char *array_path, size_t index,
                      const char *value, size_t len);

#endif
