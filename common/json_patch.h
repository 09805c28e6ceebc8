/*
 * json_patch: RFC 6902 JSON Patch, built and applied. Pure: no I/O, no globals.
 *
 * Building: a json_patch_builder keeps a working copy of the target document
 * and applies every operation to it as the operation is recorded, so a helper
 * always knows whether an array or map already exists ("add the whole array
 * when absent, else append with /-") and the recorded patch is known to apply
 * to the original document. When done, `ops` is the patch and `doc` the
 * patched document.
 *
 * Paths are JSON Pointers (RFC 6901). Helpers that take a key or a token list
 * escape it ("~" -> "~0", "/" -> "~1"); functions that take a `path` take it
 * already escaped.
 *
 * Ownership: functions taking a `json_t *value` steal the reference, also on
 * failure. A builder owns `ops` and `doc`; take them with json_incref() before
 * json_patch_builder_free() to keep them. Returned strings are malloc'ed; the
 * caller frees. Every function returns 0 on success and -1 on failure; a
 * builder remembers its first failure in `err` and refuses further operations.
 */
#ifndef AIGW_COMMON_JSON_PATCH_H
#define AIGW_COMMON_JSON_PATCH_H

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

typedef struct {
    json_t *ops; /* the patch: an array of operations */
    json_t *doc; /* the working document, every recorded op applied */
    int failed;
    char err[256];
} json_patch_builder;

/* Starts a patch against a deep copy of doc. -1 on allocation failure. */
int json_patch_builder_init(json_patch_builder *b, const json_t *doc);
void json_patch_builder_free(json_patch_builder *b);

/* The raw operations, for an already-escaped path. */
int json_patch_add(json_patch_builder *b, const char *path, json_t *value);
int json_patch_replace(json_patch_builder *b, const char *path, json_t *value);
int json_patch_remove(json_patch_builder *b, const char *path);
int json_patch_test(json_patch_builder *b, const char *path, json_t *value);

/*
 * Sets object member `key` of the object at `obj_path`: when that object is
 * absent, adds it whole ({key: value}); else adds obj_path/escaped(key)
 * (replacing an existing member).
 */
int json_patch_set_member(json_patch_builder *b, const char *obj_path, const char *key,
                          json_t *value);

/*
 * Sets the value at a path given as unescaped tokens, creating every missing
 * object on the way with one `add` of the whole missing subtree.
 */
int json_patch_set_tokens(json_patch_builder *b, const char *const *tokens, size_t n,
                          json_t *value);

/*
 * Appends to the array at `array_path`: when absent, adds [value]; else adds
 * array_path/-.
 */
int json_patch_append(json_patch_builder *b, const char *array_path, json_t *value);

/*
 * Inserts into the array at `array_path` at `index` (0..size): when absent
 * (index must be 0), adds [value]; else adds array_path/index.
 */
int json_patch_insert(json_patch_builder *b, const char *array_path, size_t index, json_t *value);

#endif
