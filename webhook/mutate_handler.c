/*
 * mutate_handler: /mutate-pods. Pod CREATE only; everything else is admitted
 * untouched. The decision is the injector's (injector/inject.c, through the
 * runtime's cache); this handler only translates it into the reply: a JSON
 * Patch or none, and warnings that explain a skip. It never denies: the
 * webhook configuration's failurePolicy decides what an outage does. dryRun
 * requests get exactly the same answer (planning has no side effects).
 *
 * An allocation failure sets resp->oom: the server answers 500 and the
 * failurePolicy applies, rather than admitting a half-built patch.
 */
#include "webhook/handlers.h"

#include "injector/runtime.h"

#include <string.h>

static int is_pod_create(const admission_request *req)
{
    return req->operation != NULL && strcmp(req->operation, "CREATE") == 0 && req->kind != NULL &&
           strcmp(req->kind, "Pod") == 0 && (req->group == NULL || req->group[0] == '\0') &&
           (req->sub_resource == NULL || req->sub_resource[0] == '\0') &&
           jv_is(req->object, JV_OBJECT);
}

void webhook_handle_mutate_pods(const webhook_context *ctx, const admission_request *req,
                                admission_response *resp)
{
    resp->allowed = 1;
    if (!is_pod_create(req) || ctx == NULL || ctx->injector == NULL) {
        return;
    }
    inject_result res;
    if (inject_runtime_plan(ctx->injector, req->object, req->ns, &res) != 0) {
        resp->oom = 1;
        return;
    }
    size_t i;
    json_t *w;
    json_array_foreach(res.warnings, i, w)
    {
        admission_response_warn(resp, "%s", json_string_value(w));
    }
    if (res.outcome == INJECT_DONE && res.patch != NULL) {
        admission_response_set_patch(resp, res.patch, res.patch_len);
        res.patch = NULL;
    }
    inject_result_free(&res);
}
