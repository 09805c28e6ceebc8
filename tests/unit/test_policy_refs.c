/*
 * Tests of the cross-object admission rules (policy/refs.c) over an
 * in-memory object source: Secrets, models already served on the Gateway,
 * a second AIAccessPolicy, serverCertRef pairs, bundle health, lookup
 * failures and timeouts, and ratcheting on UPDATE.
 */
#include "common/cert_gen.h"
#include "common/object_source.h"
#include "policy/validate.h"
#include "tests/unit/policy_test_util.h"
#include "tests/unit/unit.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOW_2026 1795824000LL
#define END_OF_TIME 253402300799LL

static char *b64(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n / 3 * 4 + 8);
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
    return out;
}

static json_t *secret(const char *ns, const char *name, const char *key, const char *value)
{
    char *v = b64(value);
    json_t *s = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s}}", "apiVersion", "v1", "kind", "Secret",
                          "metadata", "name", name, "namespace", ns, "data", key, v);
    free(v);
    return s;
}

static json_t *config_map(const char *ns, const char *name, const char *key, const char *value)
{
    return json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
                     "metadata", "name", name, "namespace", ns, "data", key, value);
}

static char *sample(const char *file)
{
    char rel[256];
    snprintf(rel, sizeof rel, "testdata/spiffe-bundles/%s", file);
    return unit_read_file(unit_shared_path(rel), NULL);
}

/* The default objects: both credential Secrets and a healthy bundle. */
static json_t *base_objects(void)
{
    char *bundle = sample("spire/ca.spiffe");
    CU_ASSERT_PTR_NOT_NULL_FATAL(bundle);
    json_t *objs = json_pack("[o, o, o]", secret("team-a", "openai-secret", "api-key", "sk-1"),
                             secret("team-a", "azure-secret", "api-key", "az-1"),
                             config_map("spire-system", "spire-bundle", "bundle.spiffe", bundle));
    free(bundle);
    return objs;
}

/* Removes objects of `kind` named `name` from the array. */
static void drop(json_t *objs, const char *kind, const char *name)
{
    for (size_t i = json_array_size(objs); i-- > 0;) {
        const json_t *o = json_array_get(objs, i);
        if (strcmp(json_string_value(json_object_get(o, "kind")), kind) == 0 &&
            strcmp(json_string_value(json_object_get(json_object_get(o, "metadata"), "name")),
                   name) == 0) {
            json_array_remove(objs, i);
        }
    }
}

typedef struct {
    field_errors errs;
    policy_warnings warns;
} result;

static void result_free(result *r)
{
    field_errors_free(&r->errs);
    policy_warnings_free(&r->warns);
}

/* Validates obj (and old, for UPDATE) against objs at time now. Steals objs. */
static void check(json_t *objs, const json_t *obj, const json_t *old, int64_t now, result *r)
{
    char err[256];
    object_source *src = object_source_mem_new(objs, err, sizeof err);
    json_decref(objs);
    if (src == NULL) {
        fprintf(stderr, "mem source: %s\n", err);
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    policy_lookup lk = {src, objsrc_now_ms() + 2000, now};
    field_errors_init(&r->errs);
    policy_warnings_init(&r->warns);
    int rc = policy_validate_object(obj, old, &lk, &r->errs, &r->warns);
    CU_ASSERT(rc > 0);
    object_source_free(src);
}

static void expect_only(result *r, const char *want)
{
    int ok = r->errs.len == 1 && policy_test_has_error(&r->errs, want);
    if (!ok) {
        fprintf(stderr, "\nwant: %s", want);
        policy_test_dump("got", &r->errs, &r->warns);
    }
    CU_ASSERT(ok);
}

static void expect_clean(result *r)
{
    if (r->errs.len != 0) {
        policy_test_dump("want no error", &r->errs, &r->warns);
    }
    CU_ASSERT_EQUAL(r->errs.len, 0);
}

/* ---------------------------------------------------------------- Secrets */

static void test_secrets(void)
{
    json_t *obj = policy_test_build(ROUTING_BASE, NULL, 0);
    result r;

    check(base_objects(), obj, NULL, NOW_2026, &r);
    expect_clean(&r);
    CU_ASSERT_EQUAL(r.warns.len, 0);
    result_free(&r);

    json_t *objs = base_objects();
    drop(objs, "Secret", "azure-secret");
    check(objs, obj, NULL, NOW_2026, &r);
    expect_only(&r, "spec.providers[1].credentials.secretRef.name: Not found: \"azure-secret\"");
    result_free(&r);

    objs = base_objects();
    drop(objs, "Secret", "openai-secret");
    json_array_append_new(objs, secret("team-a", "openai-secret", "apiKey", "sk"));
    check(objs, obj, NULL, NOW_2026, &r);
    expect_only(&r, "spec.providers[0].credentials.secretRef.key: Not found: \"api-key\"");
    /* the value is never echoed */
    char *joined = field_errors_join(&r.errs);
    CU_ASSERT_PTR_NULL(strstr(joined, "sk"));
    free(joined);
    result_free(&r);

    objs = base_objects();
    drop(objs, "Secret", "openai-secret");
    json_array_append_new(objs, secret("team-a", "openai-secret", "api-key", ""));
    check(objs, obj, NULL, NOW_2026, &r);
    expect_only(&r, "spec.providers[0].credentials.secretRef.key: Invalid value: \"api-key\": "
                    "Secret \"openai-secret\" holds an empty value under this key");
    result_free(&r);

    /* a Secret of the same name in another namespace does not count */
    objs = base_objects();
    drop(objs, "Secret", "openai-secret");
    json_array_append_new(objs, secret("team-b", "openai-secret", "api-key", "sk"));
    check(objs, obj, NULL, NOW_2026, &r);
    expect_only(&r, "spec.providers[0].credentials.secretRef.name: Not found: \"openai-secret\"");
    result_free(&r);

    /* stringData (offline files) counts */
    objs = base_objects();
    drop(objs, "Secret", "openai-secret");
    json_array_append_new(objs, json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s}}", "apiVersion", "v1",
                                          "kind", "Secret", "metadata", "name", "openai-secret",
                                          "namespace", "team-a", "stringData", "api-key", "sk"));
    check(objs, obj, NULL, NOW_2026, &r);
    expect_clean(&r);
    result_free(&r);

    /* every credential Secret field: AWS credentialsSecretRef, Azure clientSecretRef */
    policy_mutation m[] = {
        {"spec.providers[1].credentials",
         "{\"type\":\"AzureCredentials\",\"tenantId\":\"t\",\"clientId\":\"c\","
         "\"clientSecretRef\":{\"name\":\"azure-sp\",\"key\":\"client-secret\"}}"}};
    json_t *az = policy_test_build(ROUTING_BASE, m, 1);
    check(base_objects(), az, NULL, NOW_2026, &r);
    expect_only(&r, "spec.providers[1].credentials.clientSecretRef.name: Not found: \"azure-sp\"");
    result_free(&r);
    json_decref(az);
    json_decref(obj);
}

/* ------------------------------------------------- models on the Gateway */

static json_t *other_routing(const char *name, const char *ns, const char *gateway,
                             const char *model)
{
    policy_mutation m[] = {
        {"metadata", "{}"}, {"spec.targetRef.name", "\"x\""}, {"spec.models[0].name", "\"x\""}};
    json_t *o = policy_test_build(ROUTING_BASE, m, 3);
    json_object_set_new(json_object_get(o, "metadata"), "name", json_string(name));
    json_object_set_new(json_object_get(o, "metadata"), "namespace", json_string(ns));
    json_object_set_new(json_object_get(json_object_get(o, "spec"), "targetRef"), "name",
                        json_string(gateway));
    json_object_set_new(json_array_get(json_object_get(json_object_get(o, "spec"), "models"), 0),
                        "name", json_string(model));
    json_array_remove(json_object_get(json_object_get(o, "spec"), "models"), 1);
    return o;
}

static void test_models_on_gateway(void)
{
    json_t *obj = policy_test_build(ROUTING_BASE, NULL, 0);
    result r;
    json_t *objs = base_objects();
    json_array_append_new(objs, other_routing("team-b", "team-a", "ai-gateway", "gpt-4o"));
    check(objs, obj, NULL, NOW_2026, &r);
    expect_only(&r, "spec.models[0].name: Invalid value: \"gpt-4o\": already served on Gateway "
                    "\"ai-gateway\" by AIRoutingPolicy \"team-b\"");
    result_free(&r);

    const struct {
        const char *name, *ns, *gw, *model;
    } harmless[] = {
        {"team-b", "team-a", "other-gateway", "gpt-4o"}, /* another Gateway */
        {"team-b", "team-b", "ai-gateway", "gpt-4o"},    /* another namespace's Gateway */
        {"team-a", "team-a", "ai-gateway", "gpt-4o"},    /* itself */
        {"team-b", "team-a", "ai-gateway", "llama-3"},   /* another model */
    };
    for (size_t i = 0; i < sizeof harmless / sizeof harmless[0]; i++) {
        objs = base_objects();
        json_array_append_new(objs, other_routing(harmless[i].name, harmless[i].ns, harmless[i].gw,
                                                  harmless[i].model));
        check(objs, obj, NULL, NOW_2026, &r);
        expect_clean(&r);
        result_free(&r);
    }

    /* a policy being deleted no longer serves its models */
    objs = base_objects();
    json_t *dying = other_routing("team-b", "team-a", "ai-gateway", "gpt-4o");
    json_object_set_new(json_object_get(dying, "metadata"), "deletionTimestamp",
                        json_string("2026-11-28T10:00:00Z"));
    json_array_append_new(objs, dying);
    check(objs, obj, NULL, NOW_2026, &r);
    expect_clean(&r);
    result_free(&r);
    json_decref(obj);
}

/* ------------------------------------------------------ AIAccessPolicy */

static void test_second_access_policy(void)
{
    json_t *obj = policy_test_build(ACCESS_BASE, NULL, 0);
    result r;
    policy_mutation m[] = {{"metadata.name", "\"other\""}};
    json_t *objs = base_objects();
    json_array_append_new(objs, policy_test_build(ACCESS_BASE, m, 1));
    check(objs, obj, NULL, NOW_2026, &r);
    expect_only(&r, "spec.targetRef.name: Invalid value: \"ai-gateway\": Gateway already has "
                    "AIAccessPolicy \"other\"");
    result_free(&r);

    policy_mutation m2[] = {{"metadata.name", "\"other\""}, {"spec.targetRef.name", "\"gw-2\""}};
    objs = base_objects();
    json_array_append_new(objs, policy_test_build(ACCESS_BASE, m2, 2));
    check(objs, obj, NULL, NOW_2026, &r);
    expect_clean(&r);
    CU_ASSERT_EQUAL(r.warns.len, 0);
    result_free(&r);
    json_decref(obj);
}

static json_t *tls_secret(const char *name, const cert_pair *leaf, const char *key_pem,
                          const char *ca_pem)
{
    char *c = b64(leaf->cert_pem), *k = b64(key_pem);
    json_t *s = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}}", "apiVersion", "v1", "kind",
                          "Secret", "metadata", "name", name, "namespace", "team-a", "data",
                          "tls.crt", c, "tls.key", k);
    if (ca_pem != NULL) {
        char *a = b64(ca_pem);
        json_object_set_new(json_object_get(s, "data"), "ca.crt", json_string(a));
        free(a);
    }
    free(c);
    free(k);
    return s;
}

static void test_server_cert(void)
{
    char err[256];
    cert_pair ca, leaf, other;
    CU_ASSERT_EQUAL_FATAL(cert_gen_ca("test-ca", 30, &ca, err, sizeof err), 0);
    const char *dns[] = {"gw.team-a.svc"};
    cert_leaf_spec spec = {NULL, dns, 1, NULL, 0, 1};
    CU_ASSERT_EQUAL_FATAL(cert_gen_leaf(&ca, &spec, &leaf, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(cert_gen_leaf(&ca, &spec, &other, err, sizeof err), 0);
    policy_mutation m[] = {{"spec.mtls.serverCertRef", "{\"name\":\"gw-cert\"}"}};
    json_t *obj = policy_test_build(ACCESS_BASE, m, 1);
    int64_t now = (int64_t)time(NULL);
    result r;

    check(base_objects(), obj, NULL, now, &r);
    expect_only(&r, "spec.mtls.serverCertRef.name: Not found: \"gw-cert\"");
    result_free(&r);

    json_t *objs = base_objects();
    json_array_append_new(objs, tls_secret("gw-cert", &leaf, leaf.key_pem, ca.cert_pem));
    check(objs, obj, NULL, now, &r);
    expect_clean(&r);
    result_free(&r);

    objs = base_objects();
    json_array_append_new(objs, tls_secret("gw-cert", &leaf, other.key_pem, ca.cert_pem));
    check(objs, obj, NULL, now, &r);
    expect_only(&r, "spec.mtls.serverCertRef.name: Invalid value: \"gw-cert\": tls.key does not "
                    "match the certificate in tls.crt");
    CU_ASSERT_PTR_NULL(strstr(r.errs.items[0].detail, "PRIVATE"));
    result_free(&r);

    objs = base_objects();
    json_array_append_new(objs, tls_secret("gw-cert", &leaf, leaf.key_pem, NULL));
    check(objs, obj, NULL, now, &r);
    expect_only(&r, "spec.mtls.serverCertRef.name: Invalid value: \"gw-cert\": Secret must hold "
                    "ca.crt, the CA agents trust for this certificate");
    result_free(&r);

    objs = base_objects();
    json_array_append_new(objs, tls_secret("gw-cert", &leaf, leaf.key_pem, ca.cert_pem));
    check(objs, obj, NULL, now + 10 * 86400, &r);
    expect_only(&r, "spec.mtls.serverCertRef.name: Invalid value: \"gw-cert\": the certificate in "
                    "tls.crt has expired");
    result_free(&r);

    objs = base_objects();
    json_array_append_new(objs, secret("team-a", "gw-cert", "tls.crt", "not a cert"));
    check(objs, obj, NULL, now, &r);
    expect_only(&r, "spec.mtls.serverCertRef.name: Invalid value: \"gw-cert\": Secret must hold "
                    "non-empty tls.crt and tls.key");
    result_free(&r);

    json_decref(obj);
    cert_pair_free(&ca);
    cert_pair_free(&leaf);
    cert_pair_free(&other);
}

/* Replaces the bundle ConfigMap's data with key -> value (NULL: no ConfigMap). */
static json_t *with_bundle(const char *key, const char *value)
{
    json_t *objs = base_objects();
    drop(objs, "ConfigMap", "spire-bundle");
    if (key != NULL) {
        json_array_append_new(objs, config_map("spire-system", "spire-bundle", key, value));
    }
    return objs;
}

static void test_bundle_health(void)
{
    json_t *obj = policy_test_build(ACCESS_BASE, NULL, 0);
    result r;
    const char *bp = "spec.mtls.trustBundleConfigMap: Invalid value: \"spire-system/spire-bundle\"";
    char want[512];

    check(base_objects(), obj, NULL, NOW_2026, &r);
    expect_clean(&r);
    CU_ASSERT_EQUAL(r.warns.len, 0);
    result_free(&r);

    check(with_bundle(NULL, NULL), obj, NULL, NOW_2026, &r);
    expect_clean(&r);
    CU_ASSERT(policy_test_has_warning(&r.warns, "trust bundle ConfigMap spire-system/spire-bundle "
                                                "does not exist yet"));
    result_free(&r);

    check(with_bundle("bundle.crt", "x"), obj, NULL, NOW_2026, &r);
    snprintf(want, sizeof want, "%s: key \"bundle.spiffe\" not found in the ConfigMap", bp);
    expect_only(&r, want);
    result_free(&r);

    check(with_bundle("bundle.spiffe", "{\"spiffe_sequence\":1}"), obj, NULL, NOW_2026, &r);
    snprintf(want, sizeof want,
             "%s: the bundle does not parse: a SPIFFE bundle must have a \"keys\" array", bp);
    expect_only(&r, want);
    result_free(&r);

    char *expired = sample("go-spiffe/spiffebundle_valid_1.json");
    check(with_bundle("bundle.spiffe", expired), obj, NULL, NOW_2026, &r);
    snprintf(want, sizeof want, "%s: no CA certificate valid now (1 expired)", bp);
    expect_only(&r, want);
    result_free(&r);

    char *v1 = sample("go-spiffe/certs.pem");
    check(with_bundle("bundle.spiffe", v1), obj, NULL, NOW_2026, &r);
    snprintf(want, sizeof want, "%s: no CA certificate valid now (2 not a CA)", bp);
    expect_only(&r, want);
    result_free(&r);
    free(v1);

    check(with_bundle("bundle.spiffe", ""), obj, NULL, NOW_2026, &r);
    snprintf(want, sizeof want, "%s: no X.509 CA certificate in the bundle", bp);
    expect_only(&r, want);
    result_free(&r);

    /* a live bundle: one valid CA, one expired -> admitted with a warning */
    char *valid = sample("spire/ca.spiffe");
    json_t *a = json_loads(valid, 0, NULL), *b = json_loads(expired, 0, NULL);
    json_array_extend(json_object_get(a, "keys"), json_object_get(b, "keys"));
    char *mixed = json_dumps(a, 0);
    check(with_bundle("bundle.spiffe", mixed), obj, NULL, NOW_2026, &r);
    expect_clean(&r);
    CU_ASSERT(policy_test_has_warning(&r.warns, "holds 1 expired CA certificate(s)"));
    result_free(&r);
    free(mixed);
    json_decref(a);
    json_decref(b);

    /* a CA about to expire */
    check(base_objects(), obj, NULL, END_OF_TIME - 3600, &r);
    expect_clean(&r);
    CU_ASSERT(policy_test_has_warning(&r.warns, "has a CA expiring within 24h "
                                                "(9999-12-31T23:59:59Z)"));
    result_free(&r);

    /* PEM under another key, and binaryData */
    char *pem = sample("spire/ca.pem");
    policy_mutation m[] = {{"spec.mtls.trustBundleConfigMap.key", "\"bundle.crt\""}};
    json_t *pem_obj = policy_test_build(ACCESS_BASE, m, 1);
    check(with_bundle("bundle.crt", pem), pem_obj, NULL, NOW_2026, &r);
    expect_clean(&r);
    result_free(&r);
    json_t *objs = with_bundle(NULL, NULL);
    char *enc = b64(pem);
    json_array_append_new(objs,
                          json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s}}", "apiVersion", "v1", "kind",
                                    "ConfigMap", "metadata", "name", "spire-bundle", "namespace",
                                    "spire-system", "binaryData", "bundle.crt", enc));
    check(objs, pem_obj, NULL, NOW_2026, &r);
    expect_clean(&r);
    result_free(&r);
    free(enc);
    json_decref(pem_obj);
    free(pem);
    free(valid);
    free(expired);
    json_decref(obj);
}

/* ------------------------------------------------ failures and timeouts */

static objsrc_status failing_get(object_source *src, const char *api_version, const char *kind,
                                 const char *ns, const char *name, int64_t deadline_ms,
                                 json_t **out, char *err, size_t errlen)
{
    (void)src, (void)api_version, (void)kind, (void)ns, (void)name, (void)deadline_ms;
    *out = NULL;
    snprintf(err, errlen, "connection refused");
    return OBJSRC_ERROR;
}

static objsrc_status failing_list(object_source *src, const char *api_version, const char *kind,
                                  const char *ns, const char *sel, int64_t deadline_ms,
                                  json_t **items, char *err, size_t errlen)
{
    (void)src, (void)api_version, (void)kind, (void)ns, (void)sel, (void)deadline_ms;
    *items = NULL;
    snprintf(err, errlen, "connection refused");
    return OBJSRC_ERROR;
}

static void failing_destroy(object_source *src)
{
    (void)src;
}

static void test_lookup_failures(void)
{
    static const object_source_ops ops = {failing_get, failing_list, failing_destroy};
    object_source failing = {&ops, "failing"};
    json_t *routing = policy_test_build(ROUTING_BASE, NULL, 0);
    json_t *access = policy_test_build(ACCESS_BASE, NULL, 0);
    result r;
    policy_lookup lk = {&failing, 0, NOW_2026};
    field_errors_init(&r.errs);
    policy_warnings_init(&r.warns);
    CU_ASSERT_EQUAL(policy_validate_object(routing, NULL, &lk, &r.errs, &r.warns),
                    POLICY_KIND_ROUTING);
    expect_clean(&r);
    CU_ASSERT(policy_test_has_warning(&r.warns, "spec.providers[0].credentials.secretRef: Secret "
                                                "\"openai-secret\" could not be checked (lookup "
                                                "failed: connection refused)"));
    CU_ASSERT(policy_test_has_warning(&r.warns, "other AIRoutingPolicies on the Gateway could not "
                                                "be checked"));
    result_free(&r);

    field_errors_init(&r.errs);
    policy_warnings_init(&r.warns);
    CU_ASSERT_EQUAL(policy_validate_object(access, NULL, &lk, &r.errs, &r.warns),
                    POLICY_KIND_ACCESS);
    expect_clean(&r);
    CU_ASSERT(policy_test_has_warning(&r.warns, "trust bundle ConfigMap spire-system/spire-bundle "
                                                "could not be checked"));
    result_free(&r);

    /* the budget is already spent: nothing is looked up, every check warns */
    char err[256];
    json_t *objs = base_objects();
    drop(objs, "Secret", "openai-secret");
    object_source *src = object_source_mem_new(objs, err, sizeof err);
    json_decref(objs);
    policy_lookup spent = {src, 1, NOW_2026};
    field_errors_init(&r.errs);
    policy_warnings_init(&r.warns);
    policy_validate_object(routing, NULL, &spent, &r.errs, &r.warns);
    expect_clean(&r);
    CU_ASSERT(policy_test_has_warning(&r.warns, "could not be checked (timed out: lookup budget "
                                                "exhausted)"));
    result_free(&r);
    object_source_free(src);
    json_decref(routing);
    json_decref(access);
}

/* ------------------------------------------------------------ ratcheting */

static void test_ratcheting(void)
{
    json_t *old = policy_test_build(ROUTING_BASE, NULL, 0);
    json_t *objs;
    result r;

    /* the Secret vanished since CREATE; an UPDATE that does not touch it passes */
    policy_mutation rl[] = {{"spec.models[0].rateLimit.tokensPerHour", "5"}};
    json_t *upd = policy_test_build(ROUTING_BASE, rl, 1);
    objs = base_objects();
    drop(objs, "Secret", "openai-secret");
    check(objs, upd, old, NOW_2026, &r);
    expect_clean(&r);
    result_free(&r);
    /* ... but the same object on CREATE is refused */
    objs = base_objects();
    drop(objs, "Secret", "openai-secret");
    check(objs, upd, NULL, NOW_2026, &r);
    expect_only(&r, "spec.providers[0].credentials.secretRef.name: Not found: \"openai-secret\"");
    result_free(&r);
    json_decref(upd);

    /* changing the reference re-runs the check */
    policy_mutation ref[] = {{"spec.providers[0].credentials.secretRef.name", "\"new-secret\""}};
    upd = policy_test_build(ROUTING_BASE, ref, 1);
    check(base_objects(), upd, old, NOW_2026, &r);
    expect_only(&r, "spec.providers[0].credentials.secretRef.name: Not found: \"new-secret\"");
    result_free(&r);
    json_decref(upd);

    /* a model already served elsewhere before this UPDATE is not re-checked; a new one is */
    policy_mutation add[] = {{"spec.models[2]", "{\"name\":\"llama-3\",\"backends\":[{"
                                                "\"provider\":\"openai\"}]}"}};
    upd = policy_test_build(ROUTING_BASE, add, 1);
    objs = base_objects();
    json_array_append_new(objs, other_routing("team-b", "team-a", "ai-gateway", "gpt-4o"));
    json_array_append_new(objs, other_routing("team-c", "team-a", "ai-gateway", "llama-3"));
    check(objs, upd, old, NOW_2026, &r);
    expect_only(&r, "spec.models[2].name: Invalid value: \"llama-3\": already served on Gateway "
                    "\"ai-gateway\" by AIRoutingPolicy \"team-c\"");
    result_free(&r);
    json_decref(upd);

    /* metadata-only UPDATE of an object that is invalid now: admitted */
    policy_mutation bad[] = {{"spec.providers[0].endpoint", "\"ftp://x\""}};
    json_t *bad_old = policy_test_build(ROUTING_BASE, bad, 1);
    policy_mutation bad_meta[] = {{"spec.providers[0].endpoint", "\"ftp://x\""},
                                  {"metadata.finalizers", "[\"aigateway.kagenti.dev/cleanup\"]"},
                                  {"status", "{\"observedGeneration\":4}"}};
    json_t *bad_new = policy_test_build(ROUTING_BASE, bad_meta, 3);
    check(base_objects(), bad_new, bad_old, NOW_2026, &r);
    expect_clean(&r);
    result_free(&r);
    /* and on CREATE the same object is refused */
    check(base_objects(), bad_new, NULL, NOW_2026, &r);
    expect_only(&r, "spec.providers[0].endpoint: Invalid value: \"ftp://x\": scheme must be http "
                    "or https");
    result_free(&r);

    /* deletionTimestamp: nothing blocks it */
    policy_mutation dying[] = {{"spec.providers[0].endpoint", "\"ftp://x\""},
                               {"metadata.deletionTimestamp", "\"2026-11-28T00:00:00Z\""}};
    json_t *del = policy_test_build(ROUTING_BASE, dying, 2);
    check(base_objects(), del, bad_old, NOW_2026, &r);
    expect_clean(&r);
    result_free(&r);
    check(base_objects(), del, NULL, NOW_2026, &r);
    expect_clean(&r);
    result_free(&r);
    json_decref(del);
    json_decref(bad_old);
    json_decref(bad_new);

    /* access policy: bundle went bad after CREATE; an UPDATE not touching the bundle ref passes */
    char *expired = sample("go-spiffe/spiffebundle_valid_1.json");
    json_t *aold = policy_test_build(ACCESS_BASE, NULL, 0);
    policy_mutation td[] = {{"spec.mtls.trustDomain", "\"example.org\""}};
    json_t *anew = policy_test_build(ACCESS_BASE, td, 1);
    check(with_bundle("bundle.spiffe", expired), anew, aold, NOW_2026, &r);
    expect_clean(&r);
    result_free(&r);
    policy_mutation ns[] = {{"spec.mtls.trustBundleConfigMap.name", "\"spire-bundle\""},
                            {"spec.mtls.trustBundleConfigMap.key", "\"bundle.spiffe\""},
                            {"spec.mtls.trustBundleConfigMap.namespace", "\"spire-system\""}};
    json_t *same_ref = policy_test_build(ACCESS_BASE, ns, 3);
    /* spelling out the defaults is not a change of the bundle reference */
    check(with_bundle("bundle.spiffe", expired), same_ref, aold, NOW_2026, &r);
    expect_clean(&r);
    result_free(&r);
    policy_mutation other_cm[] = {{"spec.mtls.trustBundleConfigMap.name", "\"other-bundle\""}};
    json_t *moved = policy_test_build(ACCESS_BASE, other_cm, 1);
    check(base_objects(), moved, aold, NOW_2026, &r);
    expect_clean(&r);
    CU_ASSERT(policy_test_has_warning(&r.warns, "spire-system/other-bundle does not exist yet"));
    result_free(&r);
    json_decref(moved);
    json_decref(same_ref);
    json_decref(anew);
    json_decref(aold);
    free(expired);
    json_decref(old);
}

UNIT_SUITE(policy_refs, UNIT_CASE(test_secrets), UNIT_CASE(test_models_on_gateway),
           UNIT_CASE(test_second_access_policy), UNIT_CASE(test_server_cert),
           UNIT_CASE(test_bundle_health), UNIT_CASE(test_lookup_failures),
           UNIT_CASE(test_ratcheting));
