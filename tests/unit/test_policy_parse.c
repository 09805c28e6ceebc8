/*
 * Tests of policy/parse.c, policy/endpoint.c and policy/policy_tables.c:
 * the parsed structs, the CRD defaults, endpoints, durations and the tables
 * the renderer shares.
 */
#include "policy/policy.h"
#include "tests/unit/policy_test_util.h"
#include "tests/unit/unit.h"

#include <string.h>

static void test_routing_fields_and_defaults(void)
{
    json_t *obj = policy_test_build(ROUTING_BASE, NULL, 0);
    policy_routing p;
    field_errors errs;
    field_errors_init(&errs);
    CU_ASSERT_EQUAL(policy_routing_parse(obj, &p, &errs), 0);
    CU_ASSERT_STRING_EQUAL(p.meta.name, "team-a");
    CU_ASSERT_STRING_EQUAL(p.meta.ns, "team-a");
    CU_ASSERT_PTR_NULL(p.meta.deletion);
    CU_ASSERT_STRING_EQUAL(p.target_ref.group, "gateway.networking.k8s.io");
    CU_ASSERT_STRING_EQUAL(p.target_ref.kind, "Gateway");
    CU_ASSERT_STRING_EQUAL(p.target_ref.name, "ai-gateway");
    CU_ASSERT_EQUAL_FATAL(p.n_providers, 2);
    const policy_provider *o = &p.providers[0];
    CU_ASSERT_EQUAL(o->schema, POLICY_SCHEMA_OPENAI);
    CU_ASSERT_EQUAL(o->protocol, POLICY_PROTOCOL_HTTP);
    CU_ASSERT_STRING_EQUAL(o->version, "");
    CU_ASSERT(o->endpoint_ok);
    CU_ASSERT_EQUAL(o->endpoint.https, 1);
    CU_ASSERT_STRING_EQUAL(o->endpoint.host, "api.openai.com");
    CU_ASSERT_EQUAL(o->endpoint.port, 443);
    CU_ASSERT_EQUAL(o->endpoint.port_explicit, 0);
    CU_ASSERT_STRING_EQUAL(o->endpoint.path, "/v1");
    CU_ASSERT_EQUAL(o->credentials.type, POLICY_CRED_API_KEY);
    CU_ASSERT_STRING_EQUAL(o->credentials.secret_ref.name, "openai-secret");
    CU_ASSERT_STRING_EQUAL(policy_cred_effective_key(&o->credentials), "api-key");
    const char *field = NULL;
    CU_ASSERT_PTR_EQUAL(policy_cred_secret_ref(&o->credentials, &field),
                        &o->credentials.secret_ref);
    CU_ASSERT_STRING_EQUAL(field, "secretRef");
    CU_ASSERT_STRING_EQUAL(p.providers[1].version, "2024-06-01");
    CU_ASSERT_EQUAL(p.providers[1].credentials.type, POLICY_CRED_AZURE_API_KEY);
    CU_ASSERT_EQUAL_FATAL(p.n_models, 2);
    const policy_model *m = &p.models[0];
    CU_ASSERT_EQUAL_FATAL(m->n_backends, 2);
    CU_ASSERT_EQUAL(m->backends[0].priority, 0);
    CU_ASSERT_EQUAL(m->backends[0].weight, 1);
    CU_ASSERT_EQUAL(m->backends[1].priority, 1);
    CU_ASSERT_EQUAL(m->rate_limit.tokens_per_hour, 100000);
    CU_ASSERT_EQUAL(m->rate_limit.mode, POLICY_TOKENS_TOTAL);
    CU_ASSERT_EQUAL(m->failover.n_retry_on, 1);
    CU_ASSERT_EQUAL(m->failover.retry_on[0].status, 429);
    CU_ASSERT_PTR_EQUAL(policy_model_failover(&p, m), &m->failover);
    const policy_model *mini = &p.models[1];
    CU_ASSERT_PTR_NULL(mini->backends[0].model);
    CU_ASSERT_FALSE(mini->rate_limit.present);
    CU_ASSERT_PTR_EQUAL(policy_model_failover(&p, mini), &p.default_failover);
    const policy_failover *d = &p.default_failover;
    CU_ASSERT_EQUAL(d->n_retry_on, 3);
    CU_ASSERT_STRING_EQUAL(d->retry_on[2].trigger, "connect-failure");
    CU_ASSERT_EQUAL(d->base_interval_ms, 100);
    CU_ASSERT_EQUAL(d->max_interval_ms, 2000);
    CU_ASSERT_EQUAL(d->max_retries, 2);
    policy_routing_free(&p);
    field_errors_free(&errs);
    json_decref(obj);
}

static void test_access_defaults(void)
{
    json_t *obj = policy_test_build(ACCESS_BASE, NULL, 0);
    policy_access p;
    field_errors errs;
    field_errors_init(&errs);
    CU_ASSERT_EQUAL(policy_access_parse(obj, &p, &errs), 0);
    CU_ASSERT_STRING_EQUAL(p.trust_domain, "localtest.me");
    CU_ASSERT_STRING_EQUAL(p.bundle.ns, "spire-system");
    CU_ASSERT_STRING_EQUAL(p.bundle.name, "spire-bundle");
    CU_ASSERT_STRING_EQUAL(p.bundle.key, "bundle.spiffe");
    CU_ASSERT_FALSE(p.has_server_cert_ref);
    CU_ASSERT_STRING_EQUAL(p.target_ref.kind, "Gateway");
    policy_access_free(&p);
    json_decref(obj);

    policy_mutation m[] = {{"spec.mtls.trustBundleConfigMap", "{\"key\":\"bundle.crt\"}"},
                           {"spec.mtls.serverCertRef", "{\"name\":\"c\"}"},
                           {"metadata.uid", "\"u-1\""}};
    obj = policy_test_build(ACCESS_BASE, m, 3);
    CU_ASSERT_EQUAL(policy_access_parse(obj, &p, &errs), 0);
    CU_ASSERT_STRING_EQUAL(p.bundle.ns, "spire-system");
    CU_ASSERT_STRING_EQUAL(p.bundle.key, "bundle.crt");
    CU_ASSERT_STRING_EQUAL(p.server_cert_name, "c");
    CU_ASSERT_STRING_EQUAL(p.meta.uid, "u-1");
    CU_ASSERT_EQUAL(errs.len, 0);
    policy_access_free(&p);
    field_errors_free(&errs);
    json_decref(obj);
}

static void test_parse_reports_and_continues(void)
{
    policy_mutation m[] = {{"spec.providers[0].bogus", "1"},
                           {"spec.models[0].backends[0].weight", "\"x\""},
                           {"spec.models[1].rateLimit.tokenCountMode", "\"Words\""}};
    json_t *obj = policy_test_build(ROUTING_BASE, m, 3);
    policy_routing p;
    field_errors errs;
    field_errors_init(&errs);
    CU_ASSERT_EQUAL(policy_routing_parse(obj, &p, &errs), 1);
    CU_ASSERT_EQUAL(errs.len, 3);
    /* the rest is still there */
    CU_ASSERT_EQUAL(p.n_models, 2);
    CU_ASSERT_EQUAL(p.models[0].backends[0].weight, 1);
    CU_ASSERT_EQUAL(p.models[1].rate_limit.mode, POLICY_TOKENS_INVALID);
    policy_routing_free(&p);
    field_errors_free(&errs);
    json_decref(obj);

    field_errors_init(&errs);
    json_t *arr = json_array();
    CU_ASSERT_EQUAL(policy_routing_parse(arr, &p, &errs), 1);
    CU_ASSERT(policy_test_has_error(&errs, "Invalid value: \"array\": must be of type object"));
    policy_routing_free(&p);
    json_decref(arr);
    field_errors_free(&errs);
}

static void test_endpoints(void)
{
    policy_endpoint ep;
    char err[128];
    CU_ASSERT_EQUAL(policy_endpoint_parse("http://Vllm.Models.svc:8000/v1/", &ep, err, sizeof err),
                    0);
    CU_ASSERT_EQUAL(ep.https, 0);
    CU_ASSERT_STRING_EQUAL(ep.host, "vllm.models.svc");
    CU_ASSERT_EQUAL(ep.port, 8000);
    CU_ASSERT_EQUAL(ep.port_explicit, 1);
    CU_ASSERT_STRING_EQUAL(ep.path, "/v1");
    CU_ASSERT_EQUAL(ep.host_is_ip, 0);
    policy_endpoint_free(&ep);
    CU_ASSERT_EQUAL(policy_endpoint_parse("https://[2001:db8::1]", &ep, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(ep.host, "2001:db8::1");
    CU_ASSERT_EQUAL(ep.host_is_ip, 6);
    CU_ASSERT_EQUAL(ep.port, 443);
    CU_ASSERT_STRING_EQUAL(ep.path, "");
    policy_endpoint_free(&ep);
    CU_ASSERT_EQUAL(policy_endpoint_parse("http://10.0.0.1", &ep, err, sizeof err), 0);
    CU_ASSERT_EQUAL(ep.host_is_ip, 4);
    CU_ASSERT_EQUAL(ep.port, 80);
    policy_endpoint_free(&ep);
    const char *bad[] = {
        "",
        "x",
        "https://a.-b.c",
        "https://1.2.3.4.5",
        "https://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
        "https://a b.com",
        "https://[::1",
        "https://a..b",
        "https://-a.b",
        "https://a.b:",
        "https://[zz::1]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL(policy_endpoint_parse(bad[i], &ep, err, sizeof err), -1);
        CU_ASSERT_PTR_NULL(ep.host);
    }
}

static void test_durations(void)
{
    CU_ASSERT_EQUAL(policy_duration_parse_ms("100ms"), 100);
    CU_ASSERT_EQUAL(policy_duration_parse_ms("2s"), 2000);
    CU_ASSERT_EQUAL(policy_duration_parse_ms("1m30s"), 90000);
    CU_ASSERT_EQUAL(policy_duration_parse_ms("1h1m1s1ms"), 3661001);
    CU_ASSERT_EQUAL(policy_duration_parse_ms("0s"), 0);
    CU_ASSERT_EQUAL(policy_duration_parse_ms("1h1m1s1ms1ms"), -1);
    CU_ASSERT_EQUAL(policy_duration_parse_ms("123456s"), -1);
    CU_ASSERT_EQUAL(policy_duration_parse_ms("s"), -1);
    CU_ASSERT_EQUAL(policy_duration_parse_ms("1"), -1);
    CU_ASSERT_EQUAL(policy_duration_parse_ms("1.5s"), -1);
    CU_ASSERT_EQUAL(policy_duration_parse_ms(""), -1);
    CU_ASSERT_EQUAL(policy_duration_parse_ms(NULL), -1);
}

static void test_tables(void)
{
    CU_ASSERT_STRING_EQUAL(policy_cred_secret_key(POLICY_CRED_API_KEY), "apiKey");
    CU_ASSERT_STRING_EQUAL(policy_cred_secret_key(POLICY_CRED_AZURE_API_KEY), "apiKey");
    CU_ASSERT_STRING_EQUAL(policy_cred_secret_key(POLICY_CRED_ANTHROPIC_API_KEY), "apiKey");
    CU_ASSERT_STRING_EQUAL(policy_cred_secret_key(POLICY_CRED_AZURE), "client-secret");
    CU_ASSERT_STRING_EQUAL(policy_cred_secret_key(POLICY_CRED_AWS), "credentials");
    CU_ASSERT_STRING_EQUAL(policy_cred_secret_key(POLICY_CRED_GCP), "service_account.json");
    CU_ASSERT_PTR_NULL(policy_cred_secret_key(POLICY_CRED_NONE));
    CU_ASSERT(policy_schema_allows_cred(POLICY_SCHEMA_OPENAI, POLICY_CRED_NONE));
    CU_ASSERT(policy_schema_allows_cred(POLICY_SCHEMA_COHERE, POLICY_CRED_API_KEY));
    CU_ASSERT_FALSE(policy_schema_allows_cred(POLICY_SCHEMA_AZURE_OPENAI, POLICY_CRED_NONE));
    CU_ASSERT(policy_schema_allows_cred(POLICY_SCHEMA_AZURE_OPENAI, POLICY_CRED_AZURE));
    CU_ASSERT(policy_schema_allows_cred(POLICY_SCHEMA_AWS_ANTHROPIC, POLICY_CRED_AWS));
    CU_ASSERT_FALSE(policy_schema_allows_cred(POLICY_SCHEMA_AWS_BEDROCK, POLICY_CRED_NONE));
    CU_ASSERT(policy_schema_allows_cred(POLICY_SCHEMA_GCP_ANTHROPIC, POLICY_CRED_GCP));
    CU_ASSERT(policy_schema_allows_cred(POLICY_SCHEMA_ANTHROPIC, POLICY_CRED_ANTHROPIC_API_KEY));
    CU_ASSERT_FALSE(policy_schema_allows_cred(POLICY_SCHEMA_INVALID, POLICY_CRED_NONE));
    CU_ASSERT(policy_schema_info_of(POLICY_SCHEMA_OPENAI)->uses_path_prefix);
    CU_ASSERT_FALSE(policy_schema_info_of(POLICY_SCHEMA_COHERE)->uses_path_prefix);
    CU_ASSERT(policy_schema_info_of(POLICY_SCHEMA_AZURE_OPENAI)->requires_version);
    for (int s = 0; s < POLICY_SCHEMA_COUNT; s++) {
        CU_ASSERT_EQUAL(policy_schema_from_name(policy_schema_name((policy_schema)s)), s);
    }
    for (int t = 1; t < POLICY_CRED_COUNT; t++) {
        CU_ASSERT_EQUAL(policy_cred_type_from_name(policy_cred_type_name((policy_cred_type)t)), t);
    }
    CU_ASSERT_EQUAL(policy_schema_from_name("openai"), POLICY_SCHEMA_INVALID);
    CU_ASSERT_EQUAL(policy_kind_from("aigateway.kagenti.dev", "AIAccessPolicy"),
                    POLICY_KIND_ACCESS);
    CU_ASSERT_EQUAL(policy_kind_from("", "AIAccessPolicy"), POLICY_KIND_UNKNOWN);
}

UNIT_SUITE(policy_parse, UNIT_CASE(test_routing_fields_and_defaults),
           UNIT_CASE(test_access_defaults), UNIT_CASE(test_parse_reports_and_continues),
           UNIT_CASE(test_endpoints), UNIT_CASE(test_durations), UNIT_CASE(test_tables));
