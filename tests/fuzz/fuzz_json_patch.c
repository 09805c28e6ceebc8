/*
 * fuzz_json_patch: libFuzzer target over the RFC 6902 applier and the
 * pointer helpers. Input: a JSON document, a NUL byte, a JSON Patch. The
 * applier must never crash; a successful apply of the patch followed by a
 * builder replaying the same operations must give the same document.
 */
#include "common/json_patch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    if (nul == NULL) {
        return 0;
    }
    json_error_t e;
    json_t *doc = json_loadb((const char *)data, (size_t)(nul - data), JSON_DECODE_ANY, &e);
    json_t *patch =
        json_loadb((const char *)nul + 1, size - (size_t)(nul - data) - 1, JSON_DECODE_ANY, &e);
    if (doc != NULL && patch != NULL) {
        json_t *out = NULL;
        char err[256];
        if (json_patch_apply(doc, patch, &out, err, sizeof err) == 0) {
            json_patch_builder b;
            if (json_patch_builder_init(&b, doc) == 0) {
                size_t i;
                json_t *op;
                json_array_foreach(patch, i, op)
                {
                    const char *kind = json_string_value(json_object_get(op, "op"));
                    const char *path = json_string_value(json_object_get(op, "path"));
                    json_t *value = json_object_get(op, "value");
                    if (kind != NULL && path != NULL && value != NULL && strcmp(kind, "add") == 0) {
                        json_patch_add(&b, path, json_deep_copy(value));
                    } else if (kind != NULL && path != NULL && strcmp(kind, "remove") == 0) {
                        json_patch_remove(&b, path);
                    } else {
                        b.failed = 1; /* only add/remove are replayed */
                    }
                }
                if (!b.failed && !json_equal(b.doc, out)) {
                    abort();
                }
                json_patch_builder_free(&b);
            }
            json_decref(out);
        }
        /* pointer helpers over the patch's paths */
        size_t i;
        json_t *op;
        json_array_foreach(patch, i, op)
        {
            const char *path = json_string_value(json_object_get(op, "path"));
            if (path != NULL) {
                (void)json_pointer_get(doc, path);
                char *esc = json_pointer_escape(path);
                free(esc);
            }
        }
    }
    json_decref(doc);
    json_decref(patch);
    return 0;
}
