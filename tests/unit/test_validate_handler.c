/*
 * Tests of webhook/validate_handler.c: dispatch by kind, denial as 422
 * Invalid with details.causes, warnings, dryRun, DELETE, missing object
 * source, lookups through the context's source and budget.
 */
#include "common/object_source.h"
#include "tests/unit/policy_test_util.h"
#include "tests/unit/unit.h"
#include "webhook/admission.h"
#include "webhook/handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Wraps obj (and old) into an AdmissionReview and runs the handler; returns the reply. */
static json_t *review(const webhook_context *ctx, const char *group, const char *kind,
                      const char *op, json_t *obj, json_t *old, int dry_run)
{
    json_t *rv =
        json_pack("{s:s, s:s, s:{s:s, s:{s:s, s:s, s:s}, s:s, s:s, s:s, s:b}}", "apiVersion",
                  "admission.k8s.io/v1", "kind", "AdmissionReview", "request", "uid", "uid-1",
                  "kind", "group", group, "version", "v1alpha1", "kind", kind, "operation", op,
                  "name", "team-a", "namespace", "team-a", "dryRun", dry_run);
    json_t *reqj = json_object_get(rv, "request");
    if (obj != NULL) {
        json_object_set(reqj, "object", obj);
    }
    if (old != NULL) {
        json_object_set(reqj, "oldObject", old);
    }
    char *body = json_dumps(rv, 0);
    json_decref(rv);
    admission_request req;
    char err[256];
    int rc = admission_request_parse(body, strlen(body), &req, err, sizeof err);
    free(body);
    if (rc != 0) {
        fprintf(stderr, "parse: %s\n", err);
    }
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    admission_response resp;
    admission_response_init(&resp);
    webhook_handle_validate(ctx, &req, &resp);
    size_t len = 0;
    char *out = admission_review_render(&req, &resp, &len);
    json_t *reply = json_loadb(out, len, 0, NULL);
    free(out);
    admission_response_free(&resp);
    admission_request_free(&req);
    CU_ASSERT_PTR_NOT_NULL_FATAL(reply);
    return reply;
}

static json_t *response(json_t *reply)
{
    return json_object_get(reply, "response");
}

static int has_warning(json_t *reply, const char *needle)
{
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(response(reply), "warnings"), i, w)
    {
        if (strstr(json_string_value(w), needle) != NULL) {
            return 1;
        }
    }
    return 0;
}

static void test_denied_with_causes(void)
{
    policy_mutation m[] = {{"spec.models[1].name", "\"gpt-4o\""},
                           {"spec.models[1].backends[0].provider", "\"azure2\""},
                           {"spec.providers[0].endpoint", "\"ftp://x\""}};
    json_t *obj = policy_test_build(ROUTING_BASE, m, 3);
    webhook_context ctx = {NULL, NULL, 2000};
    json_t *reply =
        review(&ctx, "aigateway.kagenti.dev", "AIRoutingPolicy", "CREATE", obj, NULL, 0);
    json_t *r = response(reply);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r, "uid")), "uid-1");
    CU_ASSERT(json_is_false(json_object_get(r, "allowed")));
    json_t *st = json_object_get(r, "status");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(st, "code")), 422);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(st, "reason")), "Invalid");
    const char *msg = json_string_value(json_object_get(st, "message"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "AIRoutingPolicy \"team-a\" is invalid: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "spec.models[1].name: Duplicate value: \"gpt-4o\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "spec.models[1].backends[0].provider: Not found: "
                                       "\"azure2\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "spec.providers[0].endpoint: Invalid value: \"ftp://x\": "
                                       "scheme must be http or https"));
    json_t *causes = json_object_get(json_object_get(st, "details"), "causes");
    CU_ASSERT_EQUAL(json_array_size(causes), 3);
    int seen = 0;
    size_t i;
    json_t *c;
    json_array_foreach(causes, i, c)
    {
        const char *f = json_string_value(json_object_get(c, "field"));
        if (f != NULL && strcmp(f, "spec.models[1].backends[0].provider") == 0) {
            seen = 1;
            CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(c, "reason")),
                                   "FieldValueNotFound");
        }
    }
    CU_ASSERT(seen);
    /* no object source: the reply says the cross-object checks were skipped */
    CU_ASSERT(has_warning(reply, "no object source configured"));
    json_decref(reply);
    json_decref(obj);
}

static void test_allowed_cases(void)
{
    webhook_context none = {NULL, NULL, 2000};
    json_t *obj = policy_test_build(ACCESS_BASE, NULL, 0);
    /* valid CREATE, dryRun alike */
    for (int dry = 0; dry <= 1; dry++) {
        json_t *reply =
            review(&none, "aigateway.kagenti.dev", "AIAccessPolicy", "CREATE", obj, NULL, dry);
        CU_ASSERT(json_is_true(json_object_get(response(reply), "allowed")));
        json_decref(reply);
    }
    /* another kind: allowed with a warning */
    json_t *pod = json_pack("{s:s, s:s}", "apiVersion", "v1", "kind", "Pod");
    json_t *reply = review(&none, "", "Pod", "CREATE", pod, NULL, 0);
    CU_ASSERT(json_is_true(json_object_get(response(reply), "allowed")));
    CU_ASSERT(has_warning(reply, "aigw validates only aigateway.kagenti.dev kinds"));
    json_decref(reply);
    json_decref(pod);
    /* DELETE of an invalid object: allowed */
    policy_mutation bad[] = {{"spec.mtls", DEL}};
    json_t *invalid = policy_test_build(ACCESS_BASE, bad, 1);
    reply = review(&none, "aigateway.kagenti.dev", "AIAccessPolicy", "DELETE", NULL, invalid, 0);
    CU_ASSERT(json_is_true(json_object_get(response(reply), "allowed")));
    json_decref(reply);
    /* UPDATE validated like CREATE */
    reply = review(&none, "aigateway.kagenti.dev", "AIAccessPolicy", "UPDATE", invalid, obj, 0);
    CU_ASSERT(json_is_false(json_object_get(response(reply), "allowed")));
    json_decref(reply);
    /* request.kind and the object disagree */
    reply = review(&none, "aigateway.kagenti.dev", "AIRoutingPolicy", "CREATE", obj, NULL, 0);
    CU_ASSERT(json_is_false(json_object_get(response(reply), "allowed")));
    CU_ASSERT_EQUAL(
        json_integer_value(json_object_get(json_object_get(response(reply), "status"), "code")),
        400);
    json_decref(reply);
    json_decref(invalid);
    json_decref(obj);
}

static void test_lookups_through_context(void)
{
    /* no Secrets, no bundle: the Secret check denies, the bundle only warns */
    json_t *objs = json_array();
    char err[256];
    object_source *src = object_source_mem_new(objs, err, sizeof err);
    json_decref(objs);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    webhook_context ctx = {src, NULL, 2000};
    json_t *obj = policy_test_build(ROUTING_BASE, NULL, 0);
    /* the namespace comes from the request when the object lacks it */
    json_object_del(json_object_get(obj, "metadata"), "namespace");
    json_t *reply =
        review(&ctx, "aigateway.kagenti.dev", "AIRoutingPolicy", "CREATE", obj, NULL, 0);
    const char *msg =
        json_string_value(json_object_get(json_object_get(response(reply), "status"), "message"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "spec.providers[0].credentials.secretRef.name: Not found: "
                                       "\"openai-secret\""));
    json_decref(reply);
    json_t *access = policy_test_build(ACCESS_BASE, NULL, 0);
    reply = review(&ctx, "aigateway.kagenti.dev", "AIAccessPolicy", "CREATE", access, NULL, 0);
    CU_ASSERT(json_is_true(json_object_get(response(reply), "allowed")));
    CU_ASSERT(has_warning(reply, "does not exist yet"));
    CU_ASSERT_FALSE(has_warning(reply, "no object source"));
    json_decref(reply);
    json_decref(access);
    json_decref(obj);
    object_source_free(src);
}

UNIT_SUITE(validate_handler, UNIT_CASE(test_denied_with_causes), UNIT_CASE(test_allowed_cases),
           UNIT_CASE(test_lookups_through_context));
