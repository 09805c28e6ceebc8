/*
 * fuzz_json_patch: libFuzzer target over the RFC 6902 applier and the
 * pointer helpers. Input: a JSON document, a NUL byte, a JSON Patch. The
 * applier must never crash; when the patch applies and is all `add`s, the
 * text builder replaying them must give a patch with the same result; jv and
 * jansson pointers must resolve the patch's paths alike.
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
        jv_doc jdoc;
        int have_jv = jv_from_json(&jdoc, doc, NULL, 0) == 0;
        if (json_patch_apply(doc, patch, &out, err, sizeof err) == 0 && have_jv) {
            /* The text builder replaying the same `add`s gives a patch with the same result. */
            json_patch_builder b;
            if (json_patch_builder_init(&b, jdoc.root) == 0) {
                size_t i;
                json_t *op;
                json_array_foreach(patch, i, op)
                {
                    const char *kind = json_string_value(json_object_get(op, "op"));
                    const char *path = json_string_value(json_object_get(op, "path"));
                    char *value = json_dumps(json_object_get(op, "value"), JSON_ENCODE_ANY);
                    if (kind != NULL && path != NULL && value != NULL && strcmp(kind, "add") == 0) {
                        json_patch_add(&b, path, value, strlen(value));
                    } else {
                        b.failed = 1; /* only add is replayed */
                    }
                    free(value);
                }
                size_t len = 0;
                char *ops = json_patch_builder_take(&b, &len);
                json_t *replay = ops != NULL ? json_loadb(ops, len, 0, NULL) : NULL;
                json_t *out2 = NULL;
                if (ops != NULL &&
                    (replay == NULL || json_patch_apply(doc, replay, &out2, err, sizeof err) != 0 ||
                     !json_equal(out, out2))) {
                    abort();
                }
                json_decref(out2);
                json_decref(replay);
                free(ops);
                json_patch_builder_free(&b);
            }
        }
        json_decref(out);
        /* pointer helpers over the patch's paths; jv and jansson resolve alike */
        size_t i;
        json_t *op;
        json_array_foreach(patch, i, op)
        {
            const char *path = json_string_value(json_object_get(op, "path"));
            if (path != NULL) {
                json_t *hit = json_pointer_get(doc, path);
                if (have_jv && (hit == NULL) != (jv_pointer(jdoc.root, path) == NULL)) {
                    abort();
                }
                char *esc = json_pointer_escape(path);
                free(esc);
            }
        }
        if (have_jv) {
            jv_doc_free(&jdoc);
        }
    }
    json_decref(doc);
    json_decref(patch);
    return 0;
}
