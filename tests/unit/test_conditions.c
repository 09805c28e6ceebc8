/* Tests for reconciler/conditions: transitions, Programmed, ordering, status equality. */
#include "reconciler/conditions.h"
#include "tests/unit/unit.h"

#include <stdlib.h>
#include <string.h>

#define T0 1796000000 /* 2026-11-30T00:53:20Z */

static const char *cond_field(const json_t *status, const char *type, const char *field)
{
    return json_string_value(json_object_get(status_find_condition(status, type), field));
}

static json_t *build_routing_ok(const json_t *live, int64_t gen, time_t now)
{
    status_builder b;
    CU_ASSERT_EQUAL_FATAL(status_builder_init(&b, STATUS_KIND_ROUTING, live, gen, now), 0);
    status_builder_condition(&b, COND_ROUTING_ACTIVE, true, REASON_ROUTING_ACTIVE, "2 routes");
    status_builder_condition(&b, COND_ACCEPTED, true, REASON_ACCEPTED, NULL);
    status_builder_condition(&b, COND_GATEWAY_BOUND, true, REASON_GATEWAY_BOUND, "gateway %s",
                             "ai-gateway");
    status_builder_condition(&b, COND_PROVIDERS_CONFIGURED, true, REASON_PROVIDERS_CONFIGURED,
                             "1 provider");
    json_t *prov = json_array();
    json_array_append_new(prov, status_item_new("openai", true, NULL));
    status_builder_field(&b, "providers", prov);
    return status_builder_finish(&b);
}

static void test_time_and_reason(void)
{
    char buf[32];
    cond_format_time(0, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "1970-01-01T00:00:00Z");
    cond_format_time(1800000000, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "2027-01-15T08:00:00Z");
    CU_ASSERT_TRUE(cond_reason_valid("CredentialSecretNotFound"));
    CU_ASSERT_TRUE(cond_reason_valid("A"));
    CU_ASSERT_TRUE(cond_reason_valid("A_b:c,d1"));
    CU_ASSERT_FALSE(cond_reason_valid(""));
    CU_ASSERT_FALSE(cond_reason_valid("1abc"));
    CU_ASSERT_FALSE(cond_reason_valid("has space"));
    CU_ASSERT_FALSE(cond_reason_valid("Trailing:"));
    CU_ASSERT_FALSE(cond_reason_valid(NULL));
}

static void test_all_true_programmed(void)
{
    json_t *s = build_routing_ok(NULL, 3, T0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(s, "observedGeneration")), 3);
    json_t *conds = json_object_get(s, "conditions");
    CU_ASSERT_EQUAL_FATAL(json_array_size(conds), 5);
    /* canonical order regardless of call order */
    const char *want[] = {"Accepted", "GatewayBound", "ProvidersConfigured", "RoutingActive",
                          "Programmed"};
    for (size_t i = 0; i < 5; i++) {
        CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(conds, i), "type")),
                               want[i]);
        CU_ASSERT_EQUAL(
            json_integer_value(json_object_get(json_array_get(conds, i), "observedGeneration")), 3);
    }
    CU_ASSERT_STRING_EQUAL(cond_field(s, "Programmed", "status"), "True");
    CU_ASSERT_STRING_EQUAL(cond_field(s, "Programmed", "reason"), "Programmed");
    CU_ASSERT_STRING_EQUAL(cond_field(s, "GatewayBound", "message"), "gateway ai-gateway");
    CU_ASSERT_STRING_EQUAL(cond_field(s, "Accepted", "message"), "");
    CU_ASSERT_STRING_EQUAL(cond_field(s, "Accepted", "lastTransitionTime"), "2026-11-30T00:53:20Z");
    json_t *p0 = json_array_get(json_object_get(s, "providers"), 0);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(p0, "name")), "openai");
    CU_ASSERT_TRUE(json_is_true(json_object_get(p0, "ready")));
    CU_ASSERT_PTR_NULL(json_object_get(p0, "error"));
    json_decref(s);
}

static void test_transition_time_kept(void)
{
    json_t *s1 = build_routing_ok(NULL, 1, T0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s1);
    /* same findings an hour later: identical status, no write needed */
    json_t *s2 = build_routing_ok(s1, 1, T0 + 3600);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s2);
    CU_ASSERT_TRUE(status_equal(s1, s2));
    /* a provider fails: that condition and Programmed transition, others keep their time */
    status_builder b;
    CU_ASSERT_EQUAL_FATAL(status_builder_init(&b, STATUS_KIND_ROUTING, s2, 2, T0 + 7200), 0);
    status_builder_condition(&b, COND_ACCEPTED, true, REASON_ACCEPTED, NULL);
    status_builder_condition(&b, COND_GATEWAY_BOUND, true, REASON_GATEWAY_BOUND, "gateway %s",
                             "ai-gateway");
    status_builder_condition(&b, COND_PROVIDERS_CONFIGURED, false,
                             REASON_CREDENTIAL_SECRET_NOT_FOUND,
                             "provider openai: Secret default/openai-secret not found");
    status_builder_condition(&b, COND_ROUTING_ACTIVE, true, REASON_ROUTING_ACTIVE, "2 routes");
    CU_ASSERT_EQUAL(status_builder_get(&b, COND_PROVIDERS_CONFIGURED), 0);
    CU_ASSERT_EQUAL(status_builder_get(&b, COND_ACCEPTED), 1);
    CU_ASSERT_EQUAL(status_builder_get(&b, COND_MTLS_ACTIVE), -1);
    json_t *s3 = status_builder_finish(&b);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s3);
    CU_ASSERT_FALSE(status_equal(s2, s3));
    CU_ASSERT_STRING_EQUAL(cond_field(s3, "Accepted", "lastTransitionTime"),
                           "2026-11-30T00:53:20Z");
    CU_ASSERT_STRING_EQUAL(cond_field(s3, "ProvidersConfigured", "lastTransitionTime"),
                           "2026-11-30T02:53:20Z");
    CU_ASSERT_STRING_EQUAL(cond_field(s3, "Programmed", "status"), "False");
    CU_ASSERT_STRING_EQUAL(cond_field(s3, "Programmed", "reason"), "CredentialSecretNotFound");
    CU_ASSERT_STRING_EQUAL(cond_field(s3, "Programmed", "message"),
                           "provider openai: Secret default/openai-secret not found");
    CU_ASSERT_STRING_EQUAL(cond_field(s3, "Programmed", "lastTransitionTime"),
                           "2026-11-30T02:53:20Z");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(s3, "observedGeneration")), 2);
    json_decref(s1);
    json_decref(s2);
    json_decref(s3);
}

static void test_first_failing_wins(void)
{
    status_builder b;
    CU_ASSERT_EQUAL_FATAL(status_builder_init(&b, STATUS_KIND_ACCESS, NULL, 1, T0), 0);
    status_builder_condition(&b, COND_MTLS_ACTIVE, false, REASON_LISTENER_NOT_HTTPS, "add one");
    status_builder_condition(&b, COND_BUNDLE_READY, false, REASON_BUNDLE_EMPTY, "no valid CA");
    status_builder_condition(&b, COND_ACCEPTED, true, REASON_ACCEPTED, NULL);
    status_builder_condition(&b, COND_GATEWAY_BOUND, true, REASON_GATEWAY_BOUND, NULL);
    status_builder_field(&b, "bundle", status_bundle_new(2, 2, NULL));
    status_builder_field(&b, "endpoint", json_string("https://envoy.ns.svc:8443"));
    json_t *s = status_builder_finish(&b);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(cond_field(s, "Programmed", "reason"), "BundleEmpty");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(
                               json_array_get(json_object_get(s, "conditions"), 2), "type")),
                           "BundleReady");
    json_t *bundle = json_object_get(s, "bundle");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(bundle, "certificates")), 2);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(bundle, "expired")), 2);
    CU_ASSERT_PTR_NULL(json_object_get(bundle, "nextExpiry"));
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(s, "endpoint")),
                           "https://envoy.ns.svc:8443");
    /* routing-only conditions are not part of an access policy's status */
    CU_ASSERT_PTR_NULL(status_find_condition(s, "ProvidersConfigured"));
    json_decref(s);
}

static void test_invalid_spec_only_accepted(void)
{
    json_t *old = build_routing_ok(NULL, 1, T0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(old);
    status_builder b;
    CU_ASSERT_EQUAL_FATAL(status_builder_init(&b, STATUS_KIND_ROUTING, old, 2, T0 + 10), 0);
    status_builder_condition(&b, COND_ACCEPTED, false, REASON_INVALID_SPEC, "%s",
                             "spec.models[0].name: Required value");
    json_t *s = status_builder_finish(&b);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(s, "conditions")), 2);
    CU_ASSERT_STRING_EQUAL(cond_field(s, "Accepted", "status"), "False");
    CU_ASSERT_STRING_EQUAL(cond_field(s, "Programmed", "reason"), "InvalidSpec");
    CU_ASSERT_PTR_NULL(json_object_get(s, "providers"));
    json_decref(old);
    json_decref(s);
}

static void test_bad_reason_and_long_message(void)
{
    status_builder b;
    CU_ASSERT_EQUAL_FATAL(status_builder_init(&b, STATUS_KIND_ROUTING, NULL, 1, T0), 0);
    CU_ASSERT_EQUAL(status_builder_condition(&b, COND_ACCEPTED, true, "bad reason", NULL), -1);
    CU_ASSERT_PTR_NULL(status_builder_finish(&b));

    CU_ASSERT_EQUAL_FATAL(status_builder_init(&b, STATUS_KIND_ROUTING, NULL, 1, T0), 0);
    char *big = malloc(40000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    memset(big, 'x', 39999);
    big[39999] = '\0';
    CU_ASSERT_EQUAL(
        status_builder_condition(&b, COND_ACCEPTED, false, REASON_INVALID_SPEC, "%s", big), 0);
    free(big);
    json_t *s = status_builder_finish(&b);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(strlen(cond_field(s, "Accepted", "message")), COND_MESSAGE_MAX);
    json_decref(s);
}

static void test_status_equal(void)
{
    json_t *a = json_object();
    json_t *n = json_null();
    CU_ASSERT_TRUE(status_equal(NULL, a));
    CU_ASSERT_TRUE(status_equal(n, NULL));
    json_t *s = build_routing_ok(NULL, 1, T0);
    CU_ASSERT_FALSE(status_equal(NULL, s));
    CU_ASSERT_FALSE(status_equal(s, a));
    json_t *s2 = json_deep_copy(s);
    json_object_set_new(s2, "observedGeneration", json_integer(2));
    CU_ASSERT_FALSE(status_equal(s, s2));
    json_decref(a);
    json_decref(n);
    json_decref(s);
    json_decref(s2);
}

UNIT_SUITE(conditions, UNIT_CASE(test_time_and_reason), UNIT_CASE(test_all_true_programmed),
           UNIT_CASE(test_transition_time_kept), UNIT_CASE(test_first_failing_wins),
           UNIT_CASE(test_invalid_spec_only_accepted), UNIT_CASE(test_bad_reason_and_long_message),
           UNIT_CASE(test_status_equal));
