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

UNIT_SUITE(apply, UNIT_CASE(test_hash_stable), UNIT_CASE(test_decide), UNIT_CASE(test_stale));
