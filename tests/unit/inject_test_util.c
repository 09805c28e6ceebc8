/* inject_test_util: see inject_test_util.h. */
#include "tests/unit/inject_test_util.h"

#include "common/json_patch.h"

#include <stdlib.h>
#include <string.h>

json_t *test_patch_json(const inject_result *r)
{
    if (r->patch == NULL) {
        return json_array();
    }
    return json_loadb(r->patch, r->patch_len, 0, NULL);
}

size_t test_patch_ops(const inject_result *r)
{
    json_t *p = test_patch_json(r);
    size_t n = json_array_size(p);
    json_decref(p);
    return n;
}

int test_runtime_plan(inject_runtime *rt, const json_t *pod, const char *ns, inject_result *r)
{
    jv_doc doc;
    if (jv_from_json(&doc, pod, NULL, 0) != 0) {
        return -1;
    }
    int rc = inject_runtime_plan(rt, doc.root, ns, r);
    jv_doc_free(&doc);
    return rc;
}

int test_apply_result(const json_t *pod, const inject_result *r, json_t **out, char *err,
                      size_t errlen)
{
    json_t *patch = test_patch_json(r);
    int rc = patch != NULL ? json_patch_apply(pod, patch, out, err, errlen) : -1;
    json_decref(patch);
    return rc;
}
