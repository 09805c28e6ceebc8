/* Tests for reconciler/apply: content hash, decisions, staleness, policy races. */
#include "reconciler/apply.h"
#include "tests/unit/unit.h"

#include <stdlib.h>
#include <string.h>

static json_t *obj(const char *text)
{
    json_error_t e;
    json_t *o = json_loads(text, 0, &e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    return o;
}

#define OWNED_BY(uid)                                                                              \
    "\"ownerReferences\":[{\"apiVersion\":\"aigateway.kagenti.dev/v1alpha1\",\"kind\":"            \
    "\"AIRoutingPolicy\",\"name\":\"p\",\"uid\":\"" uid "\",\"controller\":true}]"

static void test_hash_stable(void)
{
    json_t *a = obj("{\"kind\":\"Backend\",\"metadata\":{\"name\":\"p-x\"},\"spec\":{\"b\":1,"
                    "\"a\":[1,2]}}");
    json_t *b = obj("{\"spec\":{\"a\":[1,2],\"b\":1},\"metadata\":{\"name\":\"p-x\"},\"kind\":"
                    "\"Backend\"}");
    json_t *c = obj("{\"kind\":\"Backend\",\"metadata\":{\"name\":\"p-x\"},\"spec\":{\"b\":1,"
                    "\"a\":[2,1]}}");
    char *ha = apply_content_hash(a), *hb = apply_content_hash(b), *hc = apply_content_hash(c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ha);
    CU_ASSERT_EQUAL(strlen(ha), 64);
    CU_ASSERT_STRING_EQUAL(ha, hb);
    CU_ASSERT_STRING_NOT_EQUAL(ha, hc);
    /* stamping does not change the hash of the stamped object */
    json_t *sa = apply_stamp(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sa);
    const char *ann = json_string_value(json_object_get(
        json_object_get(json_object_get(sa, "metadata"), "annotations"), APPLY_HASH_ANNOTATION));
    CU_ASSERT_STRING_EQUAL(ann, ha);
    char *hsa = apply_content_hash(sa);
    CU_ASSERT_STRING_EQUAL(hsa, ha);
    /* the input is untouched */
    CU_ASSERT_PTR_NULL(json_object_get(json_object_get(a, "metadata"), "annotations"));
    json_t *nometa = obj("{\"kind\":\"X\"}");
    CU_ASSERT_PTR_NULL(apply_stamp(nometa));
    free(ha);
    free(hb);
    free(hc);
    free(hsa);
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(sa);
    json_decref(nometa);
}

static void test_decide(void)
{
    json_t *want = obj("{\"kind\":\"Backend\",\"metadata\":{\"name\":\"p-x\"," OWNED_BY(
        "u1") "},\"spec\":{\"x\":1}}");
    json_t *stamped = apply_stamp(want);
    CU_ASSERT_PTR_NOT_NULL_FATAL(stamped);
    char why[256];
    CU_ASSERT_EQUAL(apply_decide(stamped, NULL, "u1", why, sizeof why), APPLY_CREATE);

    /* live = what we applied (plus server fields) -> skip */
    json_t *live = json_deep_copy(stamped);
    json_object_set_new(json_object_get(live, "metadata"), "resourceVersion", json_string("9"));
    json_object_set_new(live, "status", json_object());
    CU_ASSERT_EQUAL(apply_decide(stamped, live, "u1", why, sizeof why), APPLY_SKIP);

    /* content changed -> update */
    json_t *want2 = json_deep_copy(want);
    json_object_set_new(json_object_get(want2, "spec"), "x", json_integer(2));
    json_t *stamped2 = apply_stamp(want2);
    CU_ASSERT_EQUAL(apply_decide(stamped2, live, "u1", why, sizeof why), APPLY_UPDATE);

    /* live without hash (created by an older aigw) -> update */
    json_t *live_nohash = json_deep_copy(live);
    json_object_del(json_object_get(live_nohash, "metadata"), "annotations");
    CU_ASSERT_EQUAL(apply_decide(stamped, live_nohash, "u1", why, sizeof why), APPLY_UPDATE);

    /* owned by another policy -> conflict naming it */
    CU_ASSERT_EQUAL(apply_decide(stamped, live, "u2", why, sizeof why), APPLY_CONFLICT);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "controlled by AIRoutingPolicy p"));

    /* no owner at all -> conflict */
    json_t *foreign = obj("{\"kind\":\"Backend\",\"metadata\":{\"name\":\"p-x\"}}");
    CU_ASSERT_EQUAL(apply_decide(stamped, foreign, "u1", why, sizeof why), APPLY_CONFLICT);
    CU_ASSERT_STRING_EQUAL(why, "Backend p-x exists and is not managed by aigw");

    /* a non-controller owner reference does not make it ours */
    json_t *weak = obj("{\"kind\":\"Backend\",\"metadata\":{\"name\":\"p-x\",\"ownerReferences\":"
                       "[{\"uid\":\"u1\",\"kind\":\"AIRoutingPolicy\",\"name\":\"p\"}]}}");
    CU_ASSERT_FALSE(apply_owned_by(weak, "u1"));
    CU_ASSERT_EQUAL(apply_decide(stamped, weak, "u1", why, sizeof why), APPLY_CONFLICT);
    CU_ASSERT_FALSE(apply_owned_by(live, NULL));

    json_decref(want);
    json_decref(stamped);
    json_decref(live);
    json_decref(want2);
    json_decref(stamped2);
    json_decref(live_nohash);
    json_decref(foreign);
    json_decref(weak);
}

static void test_stale(void)
{
    json_t *desired = obj("[{\"kind\":\"Backend\",\"metadata\":{\"name\":\"p-a\"}},"
                          "{\"kind\":\"AIServiceBackend\",\"metadata\":{\"name\":\"p-b\"}}]");
    json_t *keep = obj("{\"kind\":\"Backend\",\"metadata\":{\"name\":\"p-a\"," OWNED_BY("u1") "}}");
    json_t *gone = obj("{\"kind\":\"Backend\",\"metadata\":{\"name\":\"p-b\"," OWNED_BY("u1") "}}");
    json_t *other =
        obj("{\"kind\":\"Backend\",\"metadata\":{\"name\":\"p-c\"," OWNED_BY("u2") "}}");
    json_t *unowned = obj("{\"kind\":\"Backend\",\"metadata\":{\"name\":\"p-d\"}}");
    CU_ASSERT_FALSE(apply_is_stale(keep, "u1", desired));
    CU_ASSERT_TRUE(apply_is_stale(gone, "u1", desired)); /* same name, other kind */
    CU_ASSERT_FALSE(apply_is_stale(other, "u1", desired));
    CU_ASSERT_FALSE(apply_is_stale(unowned, "u1", desired));
    json_t *empty = json_array();
    CU_ASSERT_TRUE(apply_is_stale(keep, "u1", empty));
    json_decref(desired);
    json_decref(keep);
    json_decref(gone);
    json_decref(other);
    json_decref(unowned);
    json_decref(empty);
}

static json_t *routing(const char *name, const char *uid, const char *created, const char *gw,
                       const char *model)
{
    json_t *o = json_pack("{s:s, s:{s:s, s:s, s:s, s:s}, s:{s:{s:s}, s:[{s:s}]}}", "kind",
                          "AIRoutingPolicy", "metadata", "name", name, "namespace", "team", "uid",
                          uid, "creationTimestamp", created, "spec", "targetRef", "name", gw,
                          "models", "name", model);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    return o;
}

static void test_conflicts(void)
{
    json_t *a = routing("a", "ua", "2026-11-01T00:00:00Z", "gw", "gpt-4o");
    json_t *b = routing("b", "ub", "2026-11-02T00:00:00Z", "gw", "gpt-4o");
    json_t *c = routing("c", "uc", "2026-11-01T00:00:00Z", "gw", "gpt-4o"); /* same time as a */
    json_t *d = routing("d", "ud", "2026-10-01T00:00:00Z", "other-gw", "gpt-4o");
    json_t *e = routing("e", "ue", "2026-10-01T00:00:00Z", "gw", "claude");
    json_t *all = json_array();
    json_array_append(all, a);
    json_array_append(all, b);
    json_array_append(all, c);
    json_array_append(all, d);
    json_array_append(all, e);
    apply_routing_clash_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    CU_ASSERT_TRUE(apply_older(a, b));
    CU_ASSERT_TRUE(apply_older(a, c)); /* tie on time: name */
    CU_ASSERT_FALSE(apply_older(b, a));
    CU_ASSERT_PTR_NULL(apply_conflict_winner(a, all, apply_routing_clash, &ctx));
    CU_ASSERT_PTR_EQUAL(apply_conflict_winner(b, all, apply_routing_clash, &ctx), a);
    CU_ASSERT_STRING_EQUAL(ctx.model, "gpt-4o");
    CU_ASSERT_PTR_EQUAL(apply_conflict_winner(c, all, apply_routing_clash, &ctx), a);
    CU_ASSERT_PTR_NULL(apply_conflict_winner(d, all, apply_routing_clash, &ctx));
    CU_ASSERT_PTR_NULL(apply_conflict_winner(e, all, apply_routing_clash, &ctx));
    /* the winner being deleted frees the name */
    json_object_set_new(json_object_get(a, "metadata"), "deletionTimestamp",
                        json_string("2026-11-03T00:00:00Z"));
    CU_ASSERT_PTR_EQUAL(apply_conflict_winner(b, all, apply_routing_clash, &ctx), c);
    /* access policies: same gateway is enough */
    CU_ASSERT_TRUE(apply_access_clash(b, e, NULL));
    CU_ASSERT_FALSE(apply_access_clash(b, d, NULL));
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(d);
    json_decref(e);
    json_decref(all);
}

UNIT_SUITE(apply, UNIT_CASE(test_hash_stable), UNIT_CASE(test_decide), UNIT_CASE(test_stale),
           UNIT_CASE(test_conflicts));
