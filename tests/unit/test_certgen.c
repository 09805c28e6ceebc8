/* Tests for certs/certgen (pure decisions) and common/base64. */
#include "certs/certgen.h"
#include "common/base64.h"
#include "tests/unit/unit.h"

#include <stdlib.h>
#include <string.h>

static void test_base64(void)
{
    char *e = base64_encode("hello", 5);
    CU_ASSERT_STRING_EQUAL(e, "aGVsbG8=");
    size_t n = 0;
    unsigned char *d = base64_decode(e, strlen(e), &n);
    CU_ASSERT_EQUAL(n, 5);
    CU_ASSERT_STRING_EQUAL((char *)d, "hello");
    free(e);
    free(d);
    d = base64_decode("", 0, &n);
    CU_ASSERT_PTR_NOT_NULL(d);
    CU_ASSERT_EQUAL(n, 0);
    free(d);
    CU_ASSERT_PTR_NULL(base64_decode("aGVsbG8", 7, NULL));   /* unpadded */
    CU_ASSERT_PTR_NULL(base64_decode("aGV sbG8=", 9, NULL)); /* whitespace */
    CU_ASSERT_PTR_NULL(base64_decode("aG=sbG8=", 8, NULL));  /* padding inside */
    CU_ASSERT_PTR_NULL(base64_decode("aGVs\nbG8", 8, NULL)); /* newline */
}

static json_t *secret_with(json_t *data)
{
    return json_pack("{s:s, s:s, s:o}", "apiVersion", "v1", "kind", "Secret", "data", data);
}

static void test_names(void)
{
    certgen_names n;
    CU_ASSERT_EQUAL(certgen_service_names("aigw-webhook", "aigw-system", &n), 0);
    CU_ASSERT_STRING_EQUAL(n.names[0], "aigw-webhook");
    CU_ASSERT_STRING_EQUAL(n.names[3], "aigw-webhook.aigw-system.svc.cluster.local");
    CU_ASSERT_EQUAL(certgen_service_names("", "x", &n), -1);
}

static void test_decide_lifecycle(void)
{
    certgen_names names;
    certgen_service_names("aigw-webhook", "aigw-system", &names);
    char reason[160], err[256];
    time_t now = time(NULL);
    CU_ASSERT_EQUAL(certgen_decide(NULL, &names, now, reason, sizeof reason), CERTGEN_CREATE_ALL);

    json_t *data = certgen_build_data(CERTGEN_CREATE_ALL, NULL, &names, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    json_t *secret = secret_with(data);
    CU_ASSERT_EQUAL(certgen_decide(secret, &names, now, reason, sizeof reason), CERTGEN_KEEP);
    CU_ASSERT_STRING_EQUAL(reason, "valid");

    /* 340 days on, the 365-day leaf is inside the 30-day window: new leaf only. */
    time_t later = now + (time_t)340 * 86400;
    CU_ASSERT_EQUAL(certgen_decide(secret, &names, later, reason, sizeof reason),
                    CERTGEN_REISSUE_LEAF);
    json_t *renewed = certgen_build_data(CERTGEN_REISSUE_LEAF, secret, &names, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(renewed);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(renewed, "ca.crt")),
                           json_string_value(json_object_get(data, "ca.crt")));
    CU_ASSERT_STRING_NOT_EQUAL(json_string_value(json_object_get(renewed, "tls.crt")),
                               json_string_value(json_object_get(data, "tls.crt")));
    json_decref(renewed);

    /* Another Service name: the leaf no longer fits. */
    certgen_names other;
    certgen_service_names("other", "aigw-system", &other);
    CU_ASSERT_EQUAL(certgen_decide(secret, &other, now, reason, sizeof reason),
                    CERTGEN_REISSUE_LEAF);
    CU_ASSERT_STRING_EQUAL(reason, "serving certificate lacks a Service DNS name");

    /* Ten years on, the CA itself is due. */
    CU_ASSERT_EQUAL(
        certgen_decide(secret, &names, now + (time_t)3640 * 86400, reason, sizeof reason),
        CERTGEN_CREATE_ALL);

    /* Keys swapped between CA and leaf: mismatch detected. */
    json_t *d = json_object_get(secret, "data");
    json_t *tls_key = json_deep_copy(json_object_get(d, "tls.key"));
    json_object_set(d, "tls.key", json_object_get(d, "ca.key"));
    CU_ASSERT_EQUAL(certgen_decide(secret, &names, now, reason, sizeof reason),
                    CERTGEN_REISSUE_LEAF);
    CU_ASSERT_STRING_EQUAL(reason, "tls.key does not belong to tls.crt");
    json_object_set_new(d, "tls.key", tls_key);

    json_object_del(d, "ca.key");
    CU_ASSERT_EQUAL(certgen_decide(secret, &names, now, reason, sizeof reason), CERTGEN_CREATE_ALL);
    json_decref(secret);
}

static void test_ca_bundle(void)
{
    json_t *cfg = json_pack("{s:[{s:s, s:{}}, {s:s, s:{s:s}}]}", "webhooks", "name", "a",
                            "clientConfig", "name", "b", "clientConfig", "caBundle", "old");
    CU_ASSERT_EQUAL(certgen_set_ca_bundle(cfg, "PEM"), 1);
    json_t *hooks = json_object_get(cfg, "webhooks");
    for (size_t i = 0; i < 2; i++) {
        CU_ASSERT_STRING_EQUAL(
            json_string_value(json_object_get(
                json_object_get(json_array_get(hooks, i), "clientConfig"), "caBundle")),
            "UEVN");
    }
    CU_ASSERT_EQUAL(certgen_set_ca_bundle(cfg, "PEM"), 0);
    json_decref(cfg);
    json_t *none = json_object();
    CU_ASSERT_EQUAL(certgen_set_ca_bundle(none, "PEM"), -1);
    json_decref(none);
}

UNIT_SUITE(certgen, UNIT_CASE(test_base64), UNIT_CASE(test_names), UNIT_CASE(test_decide_lifecycle),
           UNIT_CASE(test_ca_bundle))
