/*
 * Tests for reconciler/objname, reconciler/intent and reconciler/envoy:
 * names and hashing, label hashing, the placeholder uid, route splitting by
 * failover profile, credential resolution, the renewal decision, certificate
 * reuse, and properties every rendered object must have.
 */
#include "common/cert_gen.h"
#include "policy/policy.h"
#include "common/object_source.h"
#include "reconciler/desired.h"
#include "reconciler/envoy/render.h"
#include "reconciler/intent.h"
#include "reconciler/objname.h"
#include "tests/unit/unit.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ objname */

static int is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

static void test_shorten(void)
{
    char *s = objname_join("team-a", "openai");
    CU_ASSERT_STRING_EQUAL(s, "team-a-openai");
    free(s);

    char base[301];
    memset(base, 'a', 300);
    base[300] = '\0';
    char *a = objname_join(base, "openai");
    char *b = objname_join(base, "openai");
    char *c = objname_join(base, "azure");
    CU_ASSERT_EQUAL(strlen(a), OBJNAME_MAX);
    CU_ASSERT_STRING_EQUAL(a, b); /* stable */
    CU_ASSERT_STRING_NOT_EQUAL(a, c);
    CU_ASSERT_EQUAL(a[OBJNAME_MAX - OBJNAME_HASH_HEX - 1], '-');
    CU_ASSERT(is_hex(a + OBJNAME_MAX - OBJNAME_HASH_HEX, OBJNAME_HASH_HEX));
    CU_ASSERT_EQUAL(strncmp(a, base, 200), 0);
    free(a);
    free(b);
    free(c);

    /* A cut that lands on '-' or '.' is trimmed so no "--" appears. */
    char dashy[80];
    memset(dashy, 'b', sizeof dashy);
    memcpy(dashy + 49, "-.-", 3); /* positions 49..51: the cut at 52 */
    dashy[79] = '\0';
    char *d = objname_shorten(dashy, 63);
    CU_ASSERT_PTR_NULL(strstr(d, "--"));
    CU_ASSERT_PTR_NULL(strstr(d, ".-"));
    CU_ASSERT_EQUAL(strlen(d), 49 + 1 + OBJNAME_HASH_HEX);
    free(d);

    /* Exactly at the limit: unchanged. */
    char exact[OBJNAME_MAX + 1];
    memset(exact, 'c', OBJNAME_MAX);
    exact[OBJNAME_MAX] = '\0';
    char *e = objname_shorten(exact, OBJNAME_MAX);
    CU_ASSERT_STRING_EQUAL(e, exact);
    free(e);
}

static void test_label_value(void)
{
    char v63[64], v64[65];
    memset(v63, 'x', 63);
    v63[63] = '\0';
    memset(v64, 'x', 64);
    v64[64] = '\0';
    char *a = objname_label_value(v63);
    char *b = objname_label_value(v64);
    CU_ASSERT_STRING_EQUAL(a, v63);
    CU_ASSERT_EQUAL(strlen(b), 63);
    CU_ASSERT(is_hex(b + 53, 10));
    CU_ASSERT_EQUAL(b[52], '-');
    free(a);
    free(b);

    json_t *labels = objname_labels(v64, "AIRoutingPolicy");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(labels, OBJNAME_LABEL_MANAGED_BY)),
                           "aigw");
    CU_ASSERT_EQUAL(strlen(json_string_value(json_object_get(labels, OBJNAME_LABEL_POLICY))), 63);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(labels, OBJNAME_LABEL_POLICY_KIND)),
                           "AIRoutingPolicy");
    json_decref(labels);

    char *sel = objname_selector("p", "AIAccessPolicy");
    CU_ASSERT_STRING_EQUAL(sel, "app.kubernetes.io/managed-by=aigw,aigateway.kagenti.dev/"
                                "policy=p,aigateway.kagenti.dev/policy-kind=AIAccessPolicy");
    free(sel);
}

static void test_placeholder_uid(void)
{
    char a[37], b[37], c[37];
    objname_placeholder_uid("team-a", "AIRoutingPolicy", "p", a);
    objname_placeholder_uid("team-a", "AIRoutingPolicy", "p", b);
    objname_placeholder_uid("team-a", "AIAccessPolicy", "p", c);
    CU_ASSERT_STRING_EQUAL(a, b);
    CU_ASSERT_STRING_NOT_EQUAL(a, c);
    CU_ASSERT_EQUAL(strlen(a), 36);
    CU_ASSERT(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
    CU_ASSERT_EQUAL(a[14], '8');
    CU_ASSERT_PTR_NOT_NULL(strchr("89ab", a[19]));
}

/* ------------------------------------------------------------------ renewal */

static void test_renewal_decision(void)
{
    const time_t day = 86400, nb = 1000000000, na = nb + 90 * day;
    CU_ASSERT_EQUAL(intent_cert_needs_renewal(nb, na, nb), 0);
    CU_ASSERT_EQUAL(intent_cert_needs_renewal(nb, na, nb + 59 * day), 0);
    CU_ASSERT_EQUAL(intent_cert_needs_renewal(nb, na, nb + 60 * day - 1), 0);
    CU_ASSERT_EQUAL(intent_cert_needs_renewal(nb, na, nb + 60 * day), 1);
    CU_ASSERT_EQUAL(intent_cert_needs_renewal(nb, na, na - 1), 1);
    CU_ASSERT_EQUAL(intent_cert_needs_renewal(nb, na, na), 1);      /* expired */
    CU_ASSERT_EQUAL(intent_cert_needs_renewal(nb, na, nb - 10), 1); /* not yet valid */
    CU_ASSERT_EQUAL(intent_cert_needs_renewal(na, nb, nb), 1);      /* inverted */
}

/* ------------------------------------------------------------- routing intent */

static json_t *routing_json(size_t n_models, int alternate_profiles, const char *cred_key)
{
    json_t *p = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:{s:{s:s, s:s, s:s}, s:{s:[i,i,s], s:i}, "
                          "s:[{s:s, s:s, s:s, s:{s:s, s:{s:s, s:s}}}], s:[]}}",
                          "apiVersion", "aigateway.kagenti.dev/v1alpha1", "kind", "AIRoutingPolicy",
                          "metadata", "name", "p", "namespace", "team-a", "uid", "u-1", "spec",
                          "targetRef", "group", "gateway.networking.k8s.io", "kind", "Gateway",
                          "name", "gw", "defaultFailover", "retryOn", 503, 502, "connect-failure",
                          "maxRetries", 2, "providers", "name", "openai", "endpoint",
                          "https://api.openai.com/v1", "schema", "OpenAI", "credentials", "type",
                          "APIKey", "secretRef", "name", "s", "key", cred_key, "models");
    json_t *models = json_object_get(json_object_get(p, "spec"), "models");
    for (size_t i = 0; i < n_models; i++) {
        char name[32];
        snprintf(name, sizeof name, "m-%02zu", i);
        json_t *m = json_pack("{s:s, s:[{s:s, s:s}]}", "name", name, "backends", "provider",
                              "openai", "model", "upstream");
        if (alternate_profiles && i % 2 == 1) {
            json_object_set_new(m, "failover",
                                json_pack("{s:[i], s:i}", "retryOn", 429, "maxRetries", 1));
        }
        if (i % 3 == 0) {
            json_object_set_new(m, "rateLimit", json_pack("{s:i}", "tokensPerHour", 1000));
        }
        json_array_append_new(models, m);
    }
    return p;
}

static json_t *secrets_with(const char *key, const char *b64)
{
    return json_pack("[{s:s, s:s, s:{s:s, s:s}, s:{s:s}}]", "apiVersion", "v1", "kind", "Secret",
                     "metadata", "name", "s", "namespace", "team-a", "data", key, b64);
}

typedef struct {
    json_t *json;
    policy_routing pol;
    intent_routing in;
} routing_fixture;

static int routing_setup(routing_fixture *f, json_t *policy, const json_t *secrets)
{
    field_errors errs;
    field_errors_init(&errs);
    f->json = policy;
    int rc = policy_routing_parse(policy, &f->pol, &errs);
    field_errors_free(&errs);
    if (rc != 0) {
        return -1;
    }
    intent_routing_input in = {&f->pol, NULL, secrets, NULL, 0};
    char err[256];
    return intent_routing_build(&in, &f->in, err, sizeof err);
}

static void routing_teardown(routing_fixture *f)
{
    intent_routing_free(&f->in);
    policy_routing_free(&f->pol);
    json_decref(f->json);
}

static void test_route_split_forty(void)
{
    routing_fixture f;
    json_t *secrets = secrets_with("apiKey", "c2stMQ==");
    CU_ASSERT_EQUAL_FATAL(routing_setup(&f, routing_json(40, 0, "apiKey"), secrets), 0);
    CU_ASSERT_EQUAL_FATAL(f.in.n_routes, 3);
    CU_ASSERT_STRING_EQUAL(f.in.routes[0].name, "p");
    CU_ASSERT_STRING_EQUAL(f.in.routes[1].name, "p-2");
    CU_ASSERT_STRING_EQUAL(f.in.routes[2].name, "p-3");
    CU_ASSERT_EQUAL(f.in.routes[0].n_models, 15);
    CU_ASSERT_EQUAL(f.in.routes[1].n_models, 15);
    CU_ASSERT_EQUAL(f.in.routes[2].n_models, 10);
    CU_ASSERT_STRING_EQUAL(f.in.routes[1].models[0].name, "m-15");
    CU_ASSERT(f.in.routes[0].models[0].rate_limited);
    CU_ASSERT(!f.in.routes[0].models[1].rate_limited);
    /* default failover: statuses, the trigger, and retriable-status-codes added */
    const intent_retry *r = &f.in.routes[0].retry;
    CU_ASSERT(r->present);
    CU_ASSERT_EQUAL(r->num_retries, 2);
    CU_ASSERT_EQUAL(r->n_status_codes, 2);
    CU_ASSERT_EQUAL_FATAL(r->n_triggers, 2);
    CU_ASSERT_STRING_EQUAL(r->triggers[0], "connect-failure");
    CU_ASSERT_STRING_EQUAL(r->triggers[1], "retriable-status-codes");
    /* key already "apiKey": no derived Secret */
    CU_ASSERT_PTR_NULL(f.in.providers[0].derived_secret);
    CU_ASSERT_STRING_EQUAL(f.in.providers[0].secret_name, "s");
    CU_ASSERT_PTR_NULL(f.in.providers[0].error);
    CU_ASSERT_STRING_EQUAL(f.in.providers[0].prefix, "/v1");
    routing_teardown(&f);
    json_decref(secrets);
}

static void test_route_split_profiles(void)
{
    routing_fixture f;
    json_t *secrets = secrets_with("apiKey", "c2stMQ==");
    /* 34 models alternating two profiles: 17 each -> 15 + 2 per profile. */
    CU_ASSERT_EQUAL_FATAL(routing_setup(&f, routing_json(34, 1, "apiKey"), secrets), 0);
    CU_ASSERT_EQUAL_FATAL(f.in.n_routes, 4);
    CU_ASSERT_EQUAL(f.in.routes[0].n_models, 15);
    CU_ASSERT_EQUAL(f.in.routes[1].n_models, 2);
    CU_ASSERT_EQUAL(f.in.routes[2].n_models, 15);
    CU_ASSERT_EQUAL(f.in.routes[3].n_models, 2);
    CU_ASSERT_STRING_EQUAL(f.in.routes[0].models[1].name, "m-02");
    CU_ASSERT_STRING_EQUAL(f.in.routes[2].models[0].name, "m-01");
    CU_ASSERT_EQUAL(f.in.routes[0].retry.num_retries, 2);
    CU_ASSERT_EQUAL(f.in.routes[2].retry.num_retries, 1);
    for (size_t i = 0; i < f.in.n_routes; i++) {
        CU_ASSERT(f.in.routes[i].n_models <= INTENT_MAX_MODELS_PER_ROUTE);
    }
    routing_teardown(&f);
    json_decref(secrets);
}

static void test_credentials(void)
{
    routing_fixture f;
    json_t *secrets = secrets_with("api-key", "c2stMQ==");
    CU_ASSERT_EQUAL_FATAL(routing_setup(&f, routing_json(1, 0, "api-key"), secrets), 0);
    const intent_provider *p = &f.in.providers[0];
    CU_ASSERT_STRING_EQUAL(p->derived_secret, "p-openai-credentials");
    CU_ASSERT_STRING_EQUAL(p->secret_name, "p-openai-credentials");
    CU_ASSERT_STRING_EQUAL(p->derived_key, "apiKey");
    CU_ASSERT_STRING_EQUAL(p->derived_value_b64, "c2stMQ==");
    routing_teardown(&f);
    json_decref(secrets);

    /* stringData is encoded */
    secrets =
        json_pack("[{s:{s:s}, s:{s:s}}]", "metadata", "name", "s", "stringData", "api-key", "sk-1");
    CU_ASSERT_EQUAL_FATAL(routing_setup(&f, routing_json(1, 0, "api-key"), secrets), 0);
    CU_ASSERT_STRING_EQUAL(f.in.providers[0].derived_value_b64, "c2stMQ==");
    routing_teardown(&f);
    json_decref(secrets);

    /* missing Secret and missing key */
    CU_ASSERT_EQUAL_FATAL(routing_setup(&f, routing_json(1, 0, "api-key"), NULL), 0);
    CU_ASSERT_STRING_EQUAL(f.in.providers[0].error_reason, "CredentialSecretNotFound");
    CU_ASSERT_PTR_NULL(f.in.providers[0].derived_value_b64);
    routing_teardown(&f);
    secrets = secrets_with("other", "eA==");
    CU_ASSERT_EQUAL_FATAL(routing_setup(&f, routing_json(1, 0, "api-key"), secrets), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(f.in.providers[0].error, "has no key \"api-key\""));
    routing_teardown(&f);
    json_decref(secrets);
}

/* Every object: labels, controller ownerReference, namespace, name <= 253. */
static void check_common(const json_t *objs, const char *kind, const char *uid)
{
    size_t i;
    const json_t *o;
    json_array_foreach(objs, i, o)
    {
        const json_t *meta = json_object_get(o, "metadata");
        const json_t *labels = json_object_get(meta, "labels");
        const json_t *owner = json_array_get(json_object_get(meta, "ownerReferences"), 0);
        CU_ASSERT(strlen(json_string_value(json_object_get(meta, "name"))) <= OBJNAME_MAX);
        CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(meta, "namespace")), "team-a");
        CU_ASSERT_STRING_EQUAL(
            json_string_value(json_object_get(labels, OBJNAME_LABEL_POLICY_KIND)), kind);
        CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(owner, "uid")), uid);
        CU_ASSERT(json_is_true(json_object_get(owner, "controller")));
        CU_ASSERT(json_is_true(json_object_get(owner, "blockOwnerDeletion")));
        CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(owner, "kind")), kind);
    }
}

static void test_render_routing(void)
{
    routing_fixture f;
    json_t *secrets = secrets_with("api-key", "c2stMQ==");
    CU_ASSERT_EQUAL_FATAL(routing_setup(&f, routing_json(16, 0, "api-key"), secrets), 0);
    json_t *a = NULL, *b = NULL;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(envoy_render_routing(&f.in, &a, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(envoy_render_routing(&f.in, &b, err, sizeof err), 0);
    char *ta = json_dumps(a, 0), *tb = json_dumps(b, 0);
    CU_ASSERT_STRING_EQUAL(ta, tb); /* deterministic */
    free(ta);
    free(tb);
    /* Secret, Backend, AIServiceBackend, BSP, 2 routes, 2 BTPs */
    static const char *const kinds[] = {
        "Secret",         "Backend",        "AIServiceBackend",     "BackendSecurityPolicy",
        "AIGatewayRoute", "AIGatewayRoute", "BackendTrafficPolicy", "BackendTrafficPolicy"};
    CU_ASSERT_EQUAL_FATAL(json_array_size(a), 8);
    for (size_t i = 0; i < 8; i++) {
        CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(a, i), "kind")),
                               kinds[i]);
    }
    check_common(a, "AIRoutingPolicy", "u-1");
    /* the route: whole Gateway (no access policy), header match, llmRequestCosts */
    const json_t *route = json_object_get(json_array_get(a, 4), "spec");
    const json_t *parent = json_array_get(json_object_get(route, "parentRefs"), 0);
    CU_ASSERT_PTR_NULL(json_object_get(parent, "sectionName"));
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(parent, "name")), "gw");
    CU_ASSERT_EQUAL(json_array_size(json_object_get(route, "rules")), 15);
    const json_t *hdr = json_array_get(
        json_object_get(
            json_array_get(
                json_object_get(json_array_get(json_object_get(route, "rules"), 0), "matches"), 0),
            "headers"),
        0);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(hdr, "name")), "x-ai-eg-model");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(hdr, "value")), "m-00");
    CU_ASSERT_EQUAL(json_array_size(json_object_get(route, "llmRequestCosts")), 1);
    /* BTP targets the HTTPRoute of the same name, one rate-limit rule per limited model */
    const json_t *btp = json_object_get(json_array_get(a, 6), "spec");
    const json_t *target = json_array_get(json_object_get(btp, "targetRefs"), 0);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(target, "kind")), "HTTPRoute");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(target, "name")), "p");
    const json_t *rules =
        json_object_get(json_object_get(json_object_get(btp, "rateLimit"), "global"), "rules");
    CU_ASSERT_EQUAL(json_array_size(rules), 5); /* m-00, 03, 06, 09, 12 */
    const json_t *cost = json_object_get(json_array_get(rules, 0), "cost");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(cost, "request"), "number")),
                    0);
    CU_ASSERT_STRING_EQUAL(
        json_string_value(json_object_get(
            json_object_get(json_object_get(cost, "response"), "metadata"), "namespace")),
        "io.envoy.ai_gateway");
    CU_ASSERT_EQUAL(json_integer_value(
                        json_object_get(json_object_get(btp, "retry"), "numAttemptsPerPriority")),
                    1);
    json_decref(a);
    json_decref(b);
    routing_teardown(&f);
    json_decref(secrets);
}

/* -------------------------------------------------------------- access intent */

typedef struct {
    json_t *json;
    policy_access pol;
    json_t *gateway, *service;
    intent_access_input in;
} access_fixture;

static void access_setup(access_fixture *f)
{
    memset(f, 0, sizeof *f);
    f->json = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:{s:{s:s, s:s, s:s}, s:{s:s}}}",
                        "apiVersion", "aigateway.kagenti.dev/v1alpha1", "kind", "AIAccessPolicy",
                        "metadata", "name", "a", "namespace", "team-a", "uid", "u-2", "spec",
                        "targetRef", "group", "gateway.networking.k8s.io", "kind", "Gateway",
                        "name", "gw", "mtls", "trustDomain", "example.org");
    field_errors errs;
    field_errors_init(&errs);
    CU_ASSERT_EQUAL(policy_access_parse(f->json, &f->pol, &errs), 0);
    field_errors_free(&errs);
    f->gateway = json_pack("{s:{s:s, s:[{s:s, s:s, s:i}, {s:s, s:s, s:i}]}}", "spec",
                           "gatewayClassName", "eg", "listeners", "name", "web", "protocol", "HTTP",
                           "port", 80, "name", "tls", "protocol", "HTTPS", "port", 8443);
    f->service =
        json_pack("{s:{s:s, s:s}, s:{s:s, s:[{s:i}]}}", "metadata", "name", "envoy-x", "namespace",
                  "egs", "spec", "clusterIP", "10.0.0.9", "ports", "port", 8443);
    f->in.policy = &f->pol;
    f->in.gateway = f->gateway;
    f->in.envoy_service = f->service;
    f->in.bundle.state = INTENT_BUNDLE_READY;
    f->in.bundle.ca_pem = "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n";
    f->in.now = time(NULL);
}

static void access_teardown(access_fixture *f)
{
    policy_access_free(&f->pol);
    json_decref(f->json);
    json_decref(f->gateway);
    json_decref(f->service);
}

static json_t *tls_secret(const char *cert, const char *key)
{
    return json_pack("{s:{s:s, s:s}}", "stringData", "tls.crt", cert, "tls.key", key);
}

static void test_access_certs(void)
{
    access_fixture f;
    access_setup(&f);
    intent_access a;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(intent_access_build(&f.in, &a, err, sizeof err), 0);
    CU_ASSERT_EQUAL(a.issuer_action, INTENT_CERT_ISSUE);
    CU_ASSERT_EQUAL(a.server_action, INTENT_CERT_ISSUE);
    CU_ASSERT_STRING_EQUAL(a.endpoint, "https://envoy-x.egs.svc:8443");
    CU_ASSERT_EQUAL(a.n_https_listeners, 1);
    CU_ASSERT_EQUAL(a.n_san_dns, 4);
    CU_ASSERT_STRING_EQUAL(a.san_dns[3], "envoy-x.egs.svc.cluster.local");
    CU_ASSERT_EQUAL_FATAL(a.n_san_ips, 1);
    CU_ASSERT_STRING_EQUAL(a.san_ips[0], "10.0.0.9");
    CU_ASSERT_EQUAL_FATAL(intent_access_issue_certs(&a, err, sizeof err), 0);

    /* The issued pair, fed back as existing Secrets, is reused. */
    json_t *issuer = tls_secret(a.issuer.cert_pem, a.issuer.key_pem);
    json_t *server = tls_secret(a.server.cert_pem, a.server.key_pem);
    f.in.existing_issuer = issuer;
    f.in.existing_server = server;
    intent_access b;
    CU_ASSERT_EQUAL_FATAL(intent_access_build(&f.in, &b, err, sizeof err), 0);
    CU_ASSERT_EQUAL(b.issuer_action, INTENT_CERT_REUSE);
    CU_ASSERT_EQUAL(b.server_action, INTENT_CERT_REUSE);
    CU_ASSERT_STRING_EQUAL(b.server.cert_pem, a.server.cert_pem);
    intent_access_free(&b);

    /* 61 days later the 90-day leaf is renewed, the issuer kept. */
    f.in.now += 61 * 86400;
    CU_ASSERT_EQUAL_FATAL(intent_access_build(&f.in, &b, err, sizeof err), 0);
    CU_ASSERT_EQUAL(b.issuer_action, INTENT_CERT_REUSE);
    CU_ASSERT_EQUAL(b.server_action, INTENT_CERT_ISSUE);
    CU_ASSERT_STRING_EQUAL(b.server_reason, "renewal due");
    intent_access_free(&b);
    f.in.now -= 61 * 86400;

    /* A new Service address changes the SANs: reissue. */
    json_object_set_new(json_object_get(f.service, "spec"), "clusterIP", json_string("10.0.0.10"));
    CU_ASSERT_EQUAL_FATAL(intent_access_build(&f.in, &b, err, sizeof err), 0);
    CU_ASSERT_EQUAL(b.server_action, INTENT_CERT_ISSUE);
    CU_ASSERT_STRING_EQUAL(b.server_reason, "SANs changed");
    intent_access_free(&b);

    /* An issuer Secret whose key does not match: a new issuer, and a new leaf. */
    json_t *bad = tls_secret(a.issuer.cert_pem, a.server.key_pem);
    f.in.existing_issuer = bad;
    CU_ASSERT_EQUAL_FATAL(intent_access_build(&f.in, &b, err, sizeof err), 0);
    CU_ASSERT_EQUAL(b.issuer_action, INTENT_CERT_ISSUE);
    CU_ASSERT_EQUAL(b.server_action, INTENT_CERT_ISSUE);
    CU_ASSERT_STRING_EQUAL(b.server_reason, "new issuer");
    intent_access_free(&b);

    /* The Gateway apply configuration carries the live resourceVersion. */
    json_object_set_new(f.gateway, "metadata", json_pack("{s:s}", "resourceVersion", "42"));
    CU_ASSERT_EQUAL_FATAL(intent_access_build(&f.in, &b, err, sizeof err), 0);
    json_t *gw42 = NULL;
    CU_ASSERT_EQUAL_FATAL(envoy_render_gateway_apply(&b, &gw42, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(
        json_string_value(json_object_get(json_object_get(gw42, "metadata"), "resourceVersion")),
        "42");
    json_decref(gw42);
    intent_access_free(&b);

    /* Render: every object labelled and owned; Gateway apply names the server Secret. */
    json_t *objs = NULL, *gw = NULL;
    CU_ASSERT_EQUAL_FATAL(envoy_render_access(&a, &objs, err, sizeof err), 0);
    CU_ASSERT_EQUAL(json_array_size(objs), 5);
    check_common(objs, "AIAccessPolicy", "u-2");
    CU_ASSERT_EQUAL_FATAL(envoy_render_gateway_apply(&a, &gw, err, sizeof err), 0);
    const json_t *l = json_array_get(json_object_get(json_object_get(gw, "spec"), "listeners"), 0);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(l, "name")), "tls");
    CU_ASSERT_STRING_EQUAL(
        json_string_value(json_object_get(
            json_array_get(json_object_get(json_object_get(l, "tls"), "certificateRefs"), 0),
            "name")),
        "a-mtls-server");
    CU_ASSERT_EQUAL(json_array_size(json_object_get(json_object_get(gw, "spec"), "listeners")), 1);
    json_decref(objs);
    json_decref(gw);
    json_decref(issuer);
    json_decref(server);
    json_decref(bad);
    intent_access_free(&a);
    access_teardown(&f);
}

/* helper.conf's health port: the injector's default, or what the reconciler was told. */
static const char *helper_conf_of(const json_t *objs)
{
    size_t i;
    json_t *o;
    json_array_foreach(objs, i, o)
    {
        const char *c =
            json_string_value(json_object_get(json_object_get(o, "data"), "helper.conf"));
        if (c != NULL) {
            return c;
        }
    }
    return NULL;
}

static void test_helper_health_port(void)
{
    access_fixture f;
    access_setup(&f);
    char err[256];
    for (int port = 0; port <= 18091; port += 18091) {
        f.in.helper_health_port = port;
        intent_access a;
        json_t *objs = NULL;
        CU_ASSERT_EQUAL_FATAL(intent_access_build(&f.in, &a, err, sizeof err), 0);
        CU_ASSERT_EQUAL_FATAL(intent_access_issue_certs(&a, err, sizeof err), 0);
        CU_ASSERT_EQUAL_FATAL(envoy_render_access(&a, &objs, err, sizeof err), 0);
        const char *conf = helper_conf_of(objs);
        CU_ASSERT_PTR_NOT_NULL_FATAL(conf);
        CU_ASSERT_PTR_NOT_NULL(strstr(conf, port ? "bind_port = 18091\n" : "bind_port = 17081\n"));
        json_decref(objs);
        intent_access_free(&a);
    }
    access_teardown(&f);
    int out = 0;
    CU_ASSERT_EQUAL(intent_helper_port_parse("18091", &out, err, sizeof err), 0);
    CU_ASSERT_EQUAL(out, 18091);
    CU_ASSERT_EQUAL(intent_helper_port_parse("8081", &out, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "AuthBridge"));
    CU_ASSERT_EQUAL(intent_helper_port_parse("0", &out, err, sizeof err), -1);
    CU_ASSERT_EQUAL(intent_helper_port_parse("65536", &out, err, sizeof err), -1);
    CU_ASSERT_EQUAL(intent_helper_port_parse("80x", &out, err, sizeof err), -1);
}

static void test_access_bundle_states(void)
{
    access_fixture f;
    access_setup(&f);
    intent_access a;
    char err[256];
    /* Bundle gone, previous client CA Secret kept. */
    json_t *prev = json_pack("{s:{s:s}}", "data", "ca.crt", "UFJFVg==");
    f.in.bundle.state = INTENT_BUNDLE_EMPTY;
    f.in.bundle.ca_pem = NULL;
    f.in.existing_client_ca = prev;
    CU_ASSERT_EQUAL_FATAL(intent_access_build(&f.in, &a, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(a.client_ca_pem, "PREV");
    CU_ASSERT_EQUAL(a.bundle_state, INTENT_BUNDLE_EMPTY);
    intent_access_free(&a);
    /* No previous one: A-mtls-ca fails closed with the gateway's own CA. */
    f.in.existing_client_ca = NULL;
    CU_ASSERT_EQUAL_FATAL(intent_access_build(&f.in, &a, err, sizeof err), 0);
    CU_ASSERT_PTR_NULL(a.client_ca_pem);
    CU_ASSERT_EQUAL_FATAL(intent_access_issue_certs(&a, err, sizeof err), 0);
    json_t *objs = NULL;
    CU_ASSERT_EQUAL_FATAL(envoy_render_access(&a, &objs, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(json_array_size(objs), 5);
    const json_t *ca_secret = json_array_get(objs, 0);
    const json_t *issuer_secret = json_array_get(objs, 1);
    CU_ASSERT_STRING_EQUAL(
        json_string_value(json_object_get(json_object_get(ca_secret, "metadata"), "name")),
        "a-mtls-ca");
    CU_ASSERT_STRING_EQUAL(
        json_string_value(json_object_get(json_object_get(ca_secret, "data"), "ca.crt")),
        json_string_value(json_object_get(json_object_get(issuer_secret, "data"), "tls.crt")));
    json_decref(objs);
    intent_access_free(&a);
    /* Without an HTTPS listener: no Gateway apply configuration, and a note. */
    json_array_remove(json_object_get(json_object_get(f.gateway, "spec"), "listeners"), 1);
    CU_ASSERT_EQUAL_FATAL(intent_access_build(&f.in, &a, err, sizeof err), 0);
    json_t *gw = (json_t *)1;
    CU_ASSERT_EQUAL(envoy_render_gateway_apply(&a, &gw, err, sizeof err), 0);
    CU_ASSERT_PTR_NULL(gw);
    CU_ASSERT_PTR_NULL(a.endpoint);
    int listener_note = 0;
    for (size_t i = 0; i < a.notes.len; i++) {
        listener_note |= strstr(a.notes.items[i], "ListenerNotHTTPS") != NULL;
    }
    CU_ASSERT(listener_note);
    intent_access_free(&a);
    json_decref(prev);
    access_teardown(&f);
}

/* ------------------------------------------------------------------ desired */

static void test_desired_status(void)
{
    /* Two providers: one whose Secret exists, one whose Secret is missing. */
    json_t *pol = routing_json(17, 0, "apiKey");
    json_t *providers = json_object_get(json_object_get(pol, "spec"), "providers");
    json_array_append_new(providers, json_pack("{s:s, s:s, s:s, s:{s:s, s:{s:s, s:s}}}", "name",
                                               "other", "endpoint", "https://llm.example.com",
                                               "schema", "OpenAI", "credentials", "type", "APIKey",
                                               "secretRef", "name", "gone", "key", "apiKey"));
    json_t *objs =
        json_pack("[{s:s, s:s, s:{s:s, s:s}, s:{s:s}}]", "apiVersion", "v1", "kind", "Secret",
                  "metadata", "name", "s", "namespace", "team-a", "data", "apiKey", "eA==");
    char err[256];
    object_source *src = object_source_mem_new(objs, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    desired_options opt = {NULL, time(NULL), NULL, 0, 0};
    desired_state d;
    field_errors errs;
    field_errors_init(&errs);
    int rc = desired_build(src, pol, &opt, &d, &errs, err, sizeof err);
    if (rc != 0) {
        for (size_t i = 0; i < errs.len; i++) {
            char *line = field_error_format(&errs.items[i]);
            fprintf(stderr, "%s\n", line);
            free(line);
        }
        fprintf(stderr, "err: %s\n", err);
    }
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(d.kind, POLICY_KIND_ROUTING);
    CU_ASSERT_EQUAL(d.gateway_found, 0);
    CU_ASSERT_EQUAL_FATAL(json_array_size(d.providers), 2);
    CU_ASSERT(json_is_true(json_object_get(json_array_get(d.providers, 0), "ready")));
    const json_t *bad = json_array_get(d.providers, 1);
    CU_ASSERT(json_is_false(json_object_get(bad, "ready")));
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(bad, "reason")),
                           "CredentialSecretNotFound");
    CU_ASSERT_EQUAL_FATAL(json_array_size(d.models), 17);
    CU_ASSERT_STRING_EQUAL(
        json_string_value(json_object_get(json_array_get(d.models, 16), "route")), "p-2");
    CU_ASSERT(json_array_size(d.notes) >= 1);
    desired_free(&d);
    field_errors_free(&errs);

    /* An invalid policy: 1 and field errors, nothing rendered. */
    json_object_set_new(json_array_get(providers, 0), "endpoint", json_string("ftp://x"));
    field_errors_init(&errs);
    CU_ASSERT_EQUAL(desired_build(src, pol, &opt, &d, &errs, err, sizeof err), 1);
    CU_ASSERT(errs.len >= 1);
    CU_ASSERT_PTR_NULL(d.objects);
    desired_free(&d);
    field_errors_free(&errs);
    object_source_free(src);
    json_decref(objs);
    json_decref(pol);
}

UNIT_SUITE(render, UNIT_CASE(test_shorten), UNIT_CASE(test_label_value),
           UNIT_CASE(test_placeholder_uid), UNIT_CASE(test_renewal_decision),
           UNIT_CASE(test_route_split_forty), UNIT_CASE(test_route_split_profiles),
           UNIT_CASE(test_credentials), UNIT_CASE(test_render_routing),
           UNIT_CASE(test_access_certs), UNIT_CASE(test_helper_health_port),
           UNIT_CASE(test_access_bundle_states), UNIT_CASE(test_desired_status))
