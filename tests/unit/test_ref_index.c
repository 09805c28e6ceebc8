/* Tests for reconciler/ref_index: references of policies and event -> policy keys. */
#include "reconciler/ref_index.h"
#include "tests/unit/unit.h"

#include <string.h>

static json_t *load(const char *text)
{
    json_error_t e;
    json_t *o = json_loads(text, 0, &e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    return o;
}

static const char *ROUTING =
    "{\"apiVersion\":\"aigateway.kagenti.dev/v1alpha1\",\"kind\":\"AIRoutingPolicy\","
    "\"metadata\":{\"name\":\"r\",\"namespace\":\"team\"},\"spec\":{\"targetRef\":{\"name\":"
    "\"gw\"},\"providers\":[{\"name\":\"openai\",\"credentials\":{\"type\":\"APIKey\","
    "\"secretRef\":{\"name\":\"openai-key\",\"key\":\"k\"}}},{\"name\":\"az\",\"credentials\":{"
    "\"type\":\"AzureCredentials\",\"clientSecretRef\":{\"name\":\"az-secret\"}}},"
    "{\"name\":\"plain\"}]}}";
static const char *ACCESS =
    "{\"apiVersion\":\"aigateway.kagenti.dev/v1alpha1\",\"kind\":\"AIAccessPolicy\","
    "\"metadata\":{\"name\":\"a\",\"namespace\":\"team\"},\"spec\":{\"targetRef\":{\"name\":"
    "\"gw\"},\"mtls\":{\"trustDomain\":\"x.io\"}}}";

static void check_keys(json_t *keys, const char *const *want, size_t n)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(keys);
    CU_ASSERT_EQUAL(json_array_size(keys), n);
    for (size_t i = 0; i < n && i < json_array_size(keys); i++) {
        CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(keys, i)), want[i]);
    }
    json_decref(keys);
}

static void test_split(void)
{
    char k[64], ns[64], n[64];
    CU_ASSERT_EQUAL(policy_key_split("AIRoutingPolicy/team/r", k, ns, n, sizeof k), 0);
    CU_ASSERT_STRING_EQUAL(k, "AIRoutingPolicy");
    CU_ASSERT_STRING_EQUAL(ns, "team");
    CU_ASSERT_STRING_EQUAL(n, "r");
    CU_ASSERT_EQUAL(policy_key_split("a/b", k, ns, n, sizeof k), -1);
    CU_ASSERT_EQUAL(policy_key_split("a//c", k, ns, n, sizeof k), -1);
    CU_ASSERT_EQUAL(policy_key_split("a/b/c/d", k, ns, n, sizeof k), -1);
    CU_ASSERT_EQUAL(policy_key_split("a/b/", k, ns, n, sizeof k), -1);
    CU_ASSERT_EQUAL(policy_key_split("a/b/cccccc", k, ns, n, 4), -1);
}

static void test_refs_of(void)
{
    json_t *r = load(ROUTING), *a = load(ACCESS);
    const char *want_r[] = {"Gateway/team/gw", "Secret/team/az-secret", "Secret/team/openai-key"};
    check_keys(ref_index_refs_of(r), want_r, 3);
    const char *want_a[] = {"ConfigMap/spire-system/spire-bundle", "Gateway/team/gw"};
    check_keys(ref_index_refs_of(a), want_a, 2);
    json_t *notpolicy = load("{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{}}");
    CU_ASSERT_PTR_NULL(ref_index_refs_of(notpolicy));
    json_decref(notpolicy);
    json_decref(r);
    json_decref(a);
}

static void test_keys_for(void)
{
    ref_index *ix = ref_index_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(ix);
    json_t *r = load(ROUTING), *a = load(ACCESS);
    json_object_set_new(json_object_get(r, "spec"), "models",
                        json_pack("[{s:s}]", "name", "gpt-4o"));
    CU_ASSERT_EQUAL(ref_index_put(ix, r), 0);
    CU_ASSERT_EQUAL(ref_index_put(ix, a), 0);
    CU_ASSERT_EQUAL(ref_index_put(ix, r), 0); /* replace, no duplicate */
    const char *all[] = {"AIAccessPolicy/team/a", "AIRoutingPolicy/team/r"};
    check_keys(ref_index_all_keys(ix), all, 2);

    json_t *secret = load("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"openai-key\","
                          "\"namespace\":\"team\"}}");
    const char *want_secret[] = {"AIRoutingPolicy/team/r"};
    check_keys(ref_index_keys_for(ix, secret), want_secret, 1);

    json_t *other_ns = load("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"openai-key\","
                            "\"namespace\":\"elsewhere\"}}");
    check_keys(ref_index_keys_for(ix, other_ns), NULL, 0);

    json_t *bundle = load("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"spire-bundle\","
                          "\"namespace\":\"spire-system\"}}");
    const char *want_bundle[] = {"AIAccessPolicy/team/a"};
    check_keys(ref_index_keys_for(ix, bundle), want_bundle, 1);

    json_t *gw = load("{\"kind\":\"Gateway\",\"metadata\":{\"name\":\"gw\",\"namespace\":"
                      "\"team\"}}");
    check_keys(ref_index_keys_for(ix, gw), all, 2);

    json_t *svc = load("{\"kind\":\"Service\",\"metadata\":{\"name\":\"envoy-team-gw-1234\","
                       "\"namespace\":\"envoy-gateway-system\",\"labels\":{"
                       "\"gateway.envoyproxy.io/owning-gateway-name\":\"gw\","
                       "\"gateway.envoyproxy.io/owning-gateway-namespace\":\"team\"}}}");
    check_keys(ref_index_keys_for(ix, svc), all, 2);

    json_t *gen = load("{\"kind\":\"Backend\",\"metadata\":{\"name\":\"r-openai\",\"namespace\":"
                       "\"team\",\"ownerReferences\":[{\"kind\":\"AIRoutingPolicy\",\"name\":"
                       "\"r\",\"controller\":true}]}}");
    const char *want_gen[] = {"AIRoutingPolicy/team/r"};
    check_keys(ref_index_keys_for(ix, gen), want_gen, 1);

    /*
     * a routing policy event: itself plus the routing policies naming one of
     * its models on its Gateway (a race), not every policy on the Gateway
     */
    json_t *r2 = load(ROUTING);
    json_object_set_new(json_object_get(r2, "metadata"), "name", json_string("r2"));
    json_object_set_new(json_object_get(r2, "spec"), "models",
                        json_pack("[{s:s}]", "name", "gpt-4o"));
    const char *want_r2[] = {"AIRoutingPolicy/team/r", "AIRoutingPolicy/team/r2"};
    check_keys(ref_index_keys_for(ix, r2), want_r2, 2);
    json_t *r3 = load(ROUTING);
    json_object_set_new(json_object_get(r3, "metadata"), "name", json_string("r3"));
    json_object_set_new(json_object_get(r3, "spec"), "models",
                        json_pack("[{s:s}]", "name", "another-model"));
    const char *want_r3[] = {"AIRoutingPolicy/team/r3"};
    check_keys(ref_index_keys_for(ix, r3), want_r3, 1);
    json_decref(r3);
    /* an access policy event: every policy on its Gateway (routes follow its listeners) */
    check_keys(ref_index_keys_for(ix, a), all, 2);

    /* a policy moved to another Gateway still wakes the old Gateway's policies */
    json_t *moved = load(ACCESS);
    json_object_set_new(json_object_get(json_object_get(moved, "spec"), "targetRef"), "name",
                        json_string("gw2"));
    check_keys(ref_index_keys_for(ix, moved), all, 2);

    ref_index_remove(ix, "AIRoutingPolicy/team/r");
    check_keys(ref_index_keys_for(ix, secret), NULL, 0);
    const char *left[] = {"AIAccessPolicy/team/a"};
    check_keys(ref_index_all_keys(ix), left, 1);

    json_decref(r);
    json_decref(a);
    json_decref(secret);
    json_decref(other_ns);
    json_decref(bundle);
    json_decref(gw);
    json_decref(svc);
    json_decref(gen);
    json_decref(r2);
    json_decref(moved);
    ref_index_free(ix);
}

static json_t *routing_at(const char *name, const char *created, const char *gw, const char *m1,
                          const char *m2)
{
    json_t *o =
        json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:{s:{s:s}, s:[{s:s}, {s:s}]}}", "apiVersion",
                  "aigateway.kagenti.dev/v1alpha1", "kind", "AIRoutingPolicy", "metadata", "name",
                  name, "namespace", "team", "creationTimestamp", created, "spec", "targetRef",
                  "name", gw, "models", "name", m1, "name", m2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    return o;
}

static void test_conflict(void)
{
    ref_index *ix = ref_index_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(ix);
    json_t *a = routing_at("a", "2026-11-01T00:00:00Z", "gw", "gpt-4o", "x");
    json_t *b = routing_at("b", "2026-11-02T00:00:00Z", "gw", "y", "gpt-4o");
    json_t *c = routing_at("c", "2026-11-01T00:00:00Z", "gw", "gpt-4o", "z"); /* same time as a */
    json_t *d = routing_at("d", "2026-10-01T00:00:00Z", "other", "gpt-4o", "w");
    json_t *e = routing_at("e", "2026-10-01T00:00:00Z", "gw", "claude", "v");
    json_t *all[] = {a, b, c, d, e};
    for (size_t i = 0; i < 5; i++) {
        CU_ASSERT_EQUAL(ref_index_put(ix, all[i]), 0);
    }
    char w[64], m[64];
    CU_ASSERT_EQUAL(ref_index_conflict(ix, a, w, sizeof w, m, sizeof m), 0);
    CU_ASSERT_EQUAL(ref_index_conflict(ix, b, w, sizeof w, m, sizeof m), 1);
    CU_ASSERT_STRING_EQUAL(w, "a");
    CU_ASSERT_STRING_EQUAL(m, "gpt-4o");
    CU_ASSERT_EQUAL(ref_index_conflict(ix, c, w, sizeof w, m, sizeof m),
                    1); /* name breaks the tie */
    CU_ASSERT_STRING_EQUAL(w, "a");
    CU_ASSERT_EQUAL(ref_index_conflict(ix, d, w, sizeof w, m, sizeof m), 0); /* other Gateway */
    CU_ASSERT_EQUAL(ref_index_conflict(ix, e, w, sizeof w, m, sizeof m), 0); /* no shared model */
    /* the winner is being deleted: the next oldest wins */
    json_object_set_new(json_object_get(a, "metadata"), "deletionTimestamp",
                        json_string("2026-11-03T00:00:00Z"));
    CU_ASSERT_EQUAL(ref_index_put(ix, a), 0);
    CU_ASSERT_EQUAL(ref_index_conflict(ix, b, w, sizeof w, m, sizeof m), 1);
    CU_ASSERT_STRING_EQUAL(w, "c");
    ref_index_remove(ix, "AIRoutingPolicy/team/c");
    CU_ASSERT_EQUAL(ref_index_conflict(ix, b, w, sizeof w, m, sizeof m), 0);

    /* access policies: one Gateway is the claim */
    json_t *x = load(ACCESS);
    json_t *y = load(ACCESS);
    json_object_set_new(json_object_get(x, "metadata"), "creationTimestamp",
                        json_string("2026-01-01T00:00:00Z"));
    json_object_set_new(json_object_get(y, "metadata"), "creationTimestamp",
                        json_string("2026-02-01T00:00:00Z"));
    json_object_set_new(json_object_get(y, "metadata"), "name", json_string("a2"));
    CU_ASSERT_FALSE(ref_index_gateway_has(ix, KIND_ACCESS, "team", "gw"));
    ref_index_put(ix, x);
    ref_index_put(ix, y);
    CU_ASSERT_TRUE(ref_index_gateway_has(ix, KIND_ACCESS, "team", "gw"));
    CU_ASSERT_FALSE(ref_index_gateway_has(ix, KIND_ACCESS, "team", "other"));
    CU_ASSERT_EQUAL(ref_index_conflict(ix, y, w, sizeof w, m, sizeof m), 1);
    CU_ASSERT_STRING_EQUAL(w, "a");
    CU_ASSERT_EQUAL(ref_index_conflict(ix, x, w, sizeof w, m, sizeof m), 0);
    /* the Gateway keeps an access policy until the last one goes or is being deleted */
    ref_index_remove(ix, "AIAccessPolicy/team/a");
    CU_ASSERT_TRUE(ref_index_gateway_has(ix, KIND_ACCESS, "team", "gw"));
    json_object_set_new(json_object_get(y, "metadata"), "deletionTimestamp",
                        json_string("2026-11-03T00:00:00Z"));
    ref_index_put(ix, y);
    CU_ASSERT_FALSE(ref_index_gateway_has(ix, KIND_ACCESS, "team", "gw"));

    /* a policy that drops a model stops claiming it (the index follows updates) */
    json_t *b2 = routing_at("b", "2026-11-02T00:00:00Z", "gw", "y", "q");
    json_t *f = routing_at("f", "2026-11-05T00:00:00Z", "gw", "q", "gpt-4o");
    CU_ASSERT_EQUAL(ref_index_put(ix, f), 0);
    CU_ASSERT_EQUAL(ref_index_conflict(ix, f, w, sizeof w, m, sizeof m), 1);
    CU_ASSERT_STRING_EQUAL(w, "b");
    CU_ASSERT_STRING_EQUAL(m, "gpt-4o");
    CU_ASSERT_EQUAL(ref_index_put(ix, b2), 0);
    CU_ASSERT_EQUAL(ref_index_conflict(ix, f, w, sizeof w, m, sizeof m), 1);
    CU_ASSERT_STRING_EQUAL(m, "q");
    ref_index_remove(ix, "AIRoutingPolicy/team/b");
    CU_ASSERT_EQUAL(ref_index_conflict(ix, f, w, sizeof w, m, sizeof m), 0);
    json_decref(b2);
    json_decref(f);
    for (size_t i = 0; i < 5; i++) {
        json_decref(all[i]);
    }
    json_decref(x);
    json_decref(y);
    ref_index_free(ix);
}

UNIT_SUITE(ref_index, UNIT_CASE(test_split), UNIT_CASE(test_refs_of), UNIT_CASE(test_keys_for),
           UNIT_CASE(test_conflict));
