/*
 * validate_handler: POST /validate. Dispatches AIRoutingPolicy and
 * AIAccessPolicy requests to policy_validate_object (the same pipeline as
 * `aigw validate`), and turns the result into the admission response:
 * errors -> 422 Invalid with every error in status.message and
 * details.causes; advice and lookups that could not run -> warnings.
 *
 * CREATE and UPDATE are validated alike (UPDATE ratchets the cross-object
 * checks); DELETE and CONNECT are admitted. dryRun requests go through the
 * same code: validation has no side effects at all, so there is nothing to
 * skip. All lookups of one request share ctx->lookup_budget_ms.
 */
#include "policy/validate.h"
#include "webhook/handlers.h"

#include <string.h>
#include <time.h>

#define DEFAULT_BUDGET_MS 2000

static void copy_warnings(admission_response *resp, const policy_warnings *w)
{
    for (size_t i = 0; i < w->len; i++) {
        admission_response_warn(resp, "%s", w->items[i]);
    }
}

/*
 * The object to validate as a jansson copy (policy validation works on
 * jansson), with metadata.namespace filled from the request when the object
 * lacks it (lookups happen in the policy's namespace). New reference; NULL on
 * allocation failure.
 */
static json_t *with_namespace(const jv *object, const char *ns)
{
    json_t *copy = jv_to_json(object);
    json_t *md = json_object_get(copy, "metadata");
    if (copy == NULL || ns == NULL || ns[0] == '\0' || !json_is_object(md) ||
        json_string_value(json_object_get(md, "namespace")) != NULL) {
        return copy;
    }
    if (json_object_set_new(md, "namespace", json_string(ns)) != 0) {
        json_decref(copy);
        return NULL;
    }
    return copy;
}

static int is_checked_operation(const char *op)
{
    return op != NULL && (strcmp(op, "CREATE") == 0 || strcmp(op, "UPDATE") == 0);
}

void webhook_handle_validate(const webhook_context *ctx, const admission_request *req,
                             admission_response *resp)
{
    resp->allowed = 1;
    policy_kind kind = policy_kind_from(req->group, req->kind);
    if (kind == POLICY_KIND_UNKNOWN) {
        admission_response_warn(resp, "aigw validates only %s kinds; %s/%s was admitted unchecked",
                                POLICY_GROUP, req->group ? req->group : "",
                                req->kind ? req->kind : "");
        return;
    }
    if (!is_checked_operation(req->operation) || req->object == NULL) {
        return;
    }
    json_t *obj = with_namespace(req->object, req->ns);
    json_t *old = strcmp(req->operation, "UPDATE") == 0 ? jv_to_json(req->old_object) : NULL;
    if (obj == NULL ||
        (req->old_object != NULL && old == NULL && strcmp(req->operation, "UPDATE") == 0)) {
        json_decref(obj);
        json_decref(old);
        admission_response_deny(resp, 500, "InternalError", "out of memory while validating");
        return;
    }
    if (policy_kind_of(obj) != kind) {
        json_decref(obj);
        json_decref(old);
        admission_response_deny(resp, 400, "BadRequest",
                                "request.object does not match request.kind");
        return;
    }
    policy_lookup lk = {NULL, 0, (int64_t)time(NULL)};
    if (ctx != NULL && ctx->objects != NULL) {
        int64_t budget = ctx->lookup_budget_ms > 0 ? ctx->lookup_budget_ms : DEFAULT_BUDGET_MS;
        lk.src = ctx->objects;
        lk.deadline_ms = objsrc_now_ms() + budget;
    } else {
        admission_response_warn(resp, "no object source configured: Secret, trust bundle and "
                                      "conflicting-policy checks were skipped");
    }
    field_errors errs;
    policy_warnings warns;
    field_errors_init(&errs);
    policy_warnings_init(&warns);
    int rc = policy_validate_object(obj, old, &lk, &errs, &warns);
    if (rc < 0) {
        admission_response_deny(resp, 500, "InternalError", "out of memory while validating");
    } else if (errs.len > 0) {
        const char *name = jv_str(jv_get(jv_get(req->object, "metadata"), "name"));
        admission_response_deny_invalid(resp, req->kind, name ? name : (req->name ? req->name : ""),
                                        &errs);
        copy_warnings(resp, &warns);
    } else {
        copy_warnings(resp, &warns);
    }
    json_decref(obj);
    json_decref(old);
    policy_warnings_free(&warns);
    field_errors_free(&errs);
}
