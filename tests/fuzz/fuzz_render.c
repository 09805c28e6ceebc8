/*
 * libFuzzer target for the renderer pipeline: the input is YAML or JSON; its
 * first document is a policy, the others are the cluster objects it may
 * reference (Secrets, Gateway, Service, bundle ConfigMap, generated Secrets).
 * desired_build parses, validates, builds the intent and renders; anything
 * may be rejected, nothing may crash or leak, and every successful render
 * must give objects that carry the controller ownerReference.
 */
#include "common/field_errors.h"
#include "common/object_source.h"
#include "common/yaml_json.h"
#include "reconciler/desired.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *docs = NULL;
    char err[512];
    if (size > 64 * 1024 ||
        yaml_json_load((const char *)data, size, "fuzz", &docs, err, sizeof err) != 0) {
        return 0;
    }
    json_t *policy = json_array_get(docs, 0);
    json_t *objects = json_array();
    for (size_t i = 1; i < json_array_size(docs); i++) {
        json_array_append(objects, json_array_get(docs, i));
    }
    object_source *src = object_source_mem_new(objects, err, sizeof err);
    if (src && policy) {
        desired_options opt = {NULL, 1800000000, "00000000-0000-8000-8000-000000000000", 0, 0};
        desired_state d;
        field_errors errs;
        field_errors_init(&errs);
        if (desired_build(src, policy, &opt, &d, &errs, err, sizeof err) == 0) {
            size_t i;
            json_t *o;
            json_array_foreach(d.objects, i, o)
            {
                json_t *owner = json_array_get(
                    json_object_get(json_object_get(o, "metadata"), "ownerReferences"), 0);
                if (!json_is_true(json_object_get(owner, "controller"))) {
                    abort();
                }
            }
        }
        desired_free(&d);
        field_errors_free(&errs);
    }
    object_source_free(src);
    json_decref(objects);
    json_decref(docs);
    return 0;
}
