/* Tests for reconciler/leader: the pure decision, Lease building, and the election over a fake
 * store. */
#include "reconciler/leader.h"
#include "common/log.h"
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lease_record rec_of(const char *holder, int secs)
{
    lease_record r;
    memset(&r, 0, sizeof r);
    r.exists = true;
    snprintf(r.holder, sizeof r.holder, "%s", holder);
    r.lease_seconds = secs;
    return r;
}

static void test_decide(void)
{
    lease_record none;
    memset(&none, 0, sizeof none);
    CU_ASSERT_EQUAL(leader_decide(&none, "a", 0, 0, 15000), LEADER_CREATE);
    CU_ASSERT_EQUAL(leader_decide(NULL, "a", 0, 0, 15000), LEADER_CREATE);
    lease_record mine = rec_of("a", 15);
    CU_ASSERT_EQUAL(leader_decide(&mine, "a", 0, 100000, 15000), LEADER_RENEW);
    lease_record other = rec_of("b", 15);
    CU_ASSERT_EQUAL(leader_decide(&other, "a", 1000, 1000, 15000), LEADER_WAIT);
    CU_ASSERT_EQUAL(leader_decide(&other, "a", 1000, 15999, 15000), LEADER_WAIT);
    CU_ASSERT_EQUAL(leader_decide(&other, "a", 1000, 16000, 15000), LEADER_ACQUIRE);
    lease_record released = rec_of("", 1);
    CU_ASSERT_EQUAL(leader_decide(&released, "a", 1000, 1000, 15000), LEADER_ACQUIRE);
    lease_record nodur = rec_of("b", 0);
    CU_ASSERT_EQUAL(leader_decide(&nodur, "a", 0, 4999, 5000), LEADER_WAIT);
    CU_ASSERT_EQUAL(leader_decide(&nodur, "a", 0, 5000, 5000), LEADER_ACQUIRE);
}

static void test_parse_and_build(void)
{
    struct timespec ts = {1800000000, 123456789};
    char now[40];
    leader_format_microtime(&ts, now, sizeof now);
    CU_ASSERT_STRING_EQUAL(now, "2027-01-15T08:00:00.123456Z");

    json_t *created =
        leader_lease_build(NULL, "ns", "aigw", "pod-a", LEADER_CREATE, false, 15, now);
    CU_ASSERT_PTR_NOT_NULL_FATAL(created);
    lease_record r;
    CU_ASSERT_EQUAL(leader_lease_parse(created, &r), 0);
    CU_ASSERT_TRUE(r.exists);
    CU_ASSERT_STRING_EQUAL(r.holder, "pod-a");
    CU_ASSERT_EQUAL(r.lease_seconds, 15);
    CU_ASSERT_EQUAL(r.transitions, 0);
    CU_ASSERT_STRING_EQUAL(r.acquire_time, now);
    CU_ASSERT_STRING_EQUAL(
        json_string_value(json_object_get(json_object_get(created, "metadata"), "namespace")),
        "ns");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(created, "apiVersion")),
                           "coordination.k8s.io/v1");

    json_object_set_new(json_object_get(created, "metadata"), "resourceVersion", json_string("7"));
    struct timespec ts2 = {1800000010, 0};
    char later[40];
    leader_format_microtime(&ts2, later, sizeof later);
    json_t *renewed =
        leader_lease_build(created, "ns", "aigw", "pod-a", LEADER_RENEW, false, 15, later);
    CU_ASSERT_EQUAL(leader_lease_parse(renewed, &r), 0);
    CU_ASSERT_STRING_EQUAL(r.acquire_time, now);
    CU_ASSERT_STRING_EQUAL(r.renew_time, later);
    CU_ASSERT_STRING_EQUAL(r.resource_version, "7");
    CU_ASSERT_EQUAL(r.transitions, 0);

    json_t *taken =
        leader_lease_build(renewed, "ns", "aigw", "pod-b", LEADER_ACQUIRE, false, 15, later);
    CU_ASSERT_EQUAL(leader_lease_parse(taken, &r), 0);
    CU_ASSERT_STRING_EQUAL(r.holder, "pod-b");
    CU_ASSERT_EQUAL(r.transitions, 1);
    CU_ASSERT_STRING_EQUAL(r.acquire_time, later);

    json_t *rel = leader_lease_build(taken, "ns", "aigw", "pod-b", LEADER_RENEW, true, 1, later);
    CU_ASSERT_EQUAL(leader_lease_parse(rel, &r), 0);
    CU_ASSERT_STRING_EQUAL(r.holder, "");
    CU_ASSERT_EQUAL(r.lease_seconds, 1);
    CU_ASSERT_EQUAL(r.transitions, 1);

    json_t *notobj = json_string("x");
    CU_ASSERT_EQUAL(leader_lease_parse(notobj, &r), -1);
    json_decref(notobj);
    json_decref(created);
    json_decref(renewed);
    json_decref(taken);
    json_decref(rel);
}

/* A fake API server holding one Lease with resourceVersion checks. */
typedef struct {
    json_t *lease;
    int rv;
    int writes;
    int fail_next; /* number of next requests to fail with an error */
} fake_store;

static int fake_get(void *ctx, const char *ns, const char *name, json_t **out, char *err,
                    size_t errlen)
{
    (void)ns;
    (void)name;
    fake_store *f = ctx;
    *out = NULL;
    if (f->fail_next > 0) {
        f->fail_next--;
        snprintf(err, errlen, "HTTP 500");
        return -1;
    }
    if (!f->lease) {
        return 1;
    }
    *out = json_deep_copy(f->lease);
    return 0;
}

static void store(fake_store *f, const json_t *lease)
{
    json_decref(f->lease);
    f->lease = json_deep_copy(lease);
    char rv[16];
    snprintf(rv, sizeof rv, "%d", ++f->rv);
    json_object_set_new(json_object_get(f->lease, "metadata"), "resourceVersion", json_string(rv));
    f->writes++;
}

static int fake_create(void *ctx, const char *ns, const json_t *lease, char *err, size_t errlen)
{
    (void)ns;
    fake_store *f = ctx;
    if (f->lease) {
        snprintf(err, errlen, "AlreadyExists");
        return 1;
    }
    store(f, lease);
    return 0;
}

static int fake_update(void *ctx, const char *ns, const char *name, const json_t *lease, char *err,
                       size_t errlen)
{
    (void)ns;
    (void)name;
    fake_store *f = ctx;
    if (f->fail_next > 0) {
        f->fail_next--;
        snprintf(err, errlen, "HTTP 500");
        return -1;
    }
    const char *want_rv =
        json_string_value(json_object_get(json_object_get(lease, "metadata"), "resourceVersion"));
    const char *have_rv = json_string_value(
        json_object_get(json_object_get(f->lease, "metadata"), "resourceVersion"));
    if (!f->lease || !want_rv || !have_rv || strcmp(want_rv, have_rv) != 0) {
        snprintf(err, errlen, "Conflict");
        return 1;
    }
    store(f, lease);
    return 0;
}

static int changes;
static void on_change(void *ctx, bool leading)
{
    (void)ctx;
    (void)leading;
    changes++;
}

static void test_election(void)
{
    fake_store f;
    memset(&f, 0, sizeof f);
    leader_io io = {fake_get, fake_create, fake_update, &f};
    leader_config ca = {.ns = "ns", .name = "aigw", .identity = "a", .on_change = on_change};
    leader_config cb = {.ns = "ns", .name = "aigw", .identity = "b"};
    leader_elector *a = leader_new(&ca, &io);
    leader_elector *b = leader_new(&cb, &io);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    changes = 0;
    log_set_level(LOG_ERROR);

    CU_ASSERT_EQUAL(leader_try_once(a, 0), 1);
    CU_ASSERT_TRUE(leader_is_leader(a));
    CU_ASSERT_EQUAL(changes, 1);
    CU_ASSERT_EQUAL(leader_try_once(b, 0), 0);
    CU_ASSERT_FALSE(leader_is_leader(b));
    /* a renews every retry period; b keeps seeing a fresh record and waits */
    for (int64_t t = 2000; t <= 30000; t += 2000) {
        CU_ASSERT_EQUAL(leader_try_once(a, t), 1);
        CU_ASSERT_EQUAL(leader_try_once(b, t + 1), 0);
    }
    CU_ASSERT_EQUAL(changes, 1);
    /* a stops renewing: b takes over only after a full lease of unchanged record */
    CU_ASSERT_EQUAL(leader_try_once(b, 40000), 0);
    CU_ASSERT_EQUAL(leader_try_once(b, 45000), 0); /* observed since 30001 */
    CU_ASSERT_EQUAL(leader_try_once(b, 45001), 1);
    CU_ASSERT_TRUE(leader_is_leader(b));
    lease_record r;
    leader_lease_parse(f.lease, &r);
    CU_ASSERT_STRING_EQUAL(r.holder, "b");
    CU_ASSERT_EQUAL(r.transitions, 1);
    /* a comes back: sees b holding, steps down */
    CU_ASSERT_EQUAL(leader_try_once(a, 46000), 0);
    CU_ASSERT_FALSE(leader_is_leader(a));
    CU_ASSERT_EQUAL(changes, 2);

    /* b releases on stop; a acquires at once */
    leader_stop(b);
    CU_ASSERT_FALSE(leader_is_leader(b));
    leader_lease_parse(f.lease, &r);
    CU_ASSERT_STRING_EQUAL(r.holder, "");
    CU_ASSERT_EQUAL(leader_try_once(a, 46001), 1);
    leader_lease_parse(f.lease, &r);
    CU_ASSERT_STRING_EQUAL(r.holder, "a");
    CU_ASSERT_EQUAL(r.transitions, 2);

    /* errors within the renew deadline keep leadership; past it, a steps down */
    f.fail_next = 100;
    CU_ASSERT_EQUAL(leader_try_once(a, 50000), -1);
    CU_ASSERT_TRUE(leader_is_leader(a));
    CU_ASSERT_EQUAL(leader_try_once(a, 56002), -1);
    CU_ASSERT_FALSE(leader_is_leader(a));
    f.fail_next = 0;

    int writes = f.writes;
    leader_free(a);
    CU_ASSERT_EQUAL(f.writes, writes); /* not leading: no release write */
    leader_free(b);
    json_decref(f.lease);
    log_set_level(LOG_INFO);
}

static void test_race_one_winner(void)
{
    fake_store f;
    memset(&f, 0, sizeof f);
    leader_io io = {fake_get, fake_create, fake_update, &f};
    /* a released lease exists; both read it before either writes */
    f.lease = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:{s:i}}", "apiVersion",
                        "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name", "aigw",
                        "namespace", "ns", "resourceVersion", "1", "spec", "leaseTransitions", 3);
    f.rv = 1;
    leader_config ca = {.ns = "ns", .name = "aigw", .identity = "a"};
    leader_config cb = {.ns = "ns", .name = "aigw", .identity = "b"};
    leader_elector *a = leader_new(&ca, &io);
    leader_elector *b = leader_new(&cb, &io);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    json_t *stale = json_deep_copy(f.lease);
    CU_ASSERT_EQUAL(leader_try_once(a, 0), 1);
    /* b writes with the stale resourceVersion: conflict */
    char now[40] = "2027-01-15T08:00:00.000000Z";
    json_t *want = leader_lease_build(stale, "ns", "aigw", "b", LEADER_ACQUIRE, false, 15, now);
    char err[64];
    CU_ASSERT_EQUAL(fake_update(&f, "ns", "aigw", want, err, sizeof err), 1);
    CU_ASSERT_EQUAL(leader_try_once(b, 0), 0);
    lease_record r;
    leader_lease_parse(f.lease, &r);
    CU_ASSERT_STRING_EQUAL(r.holder, "a");
    CU_ASSERT_EQUAL(r.transitions, 4);
    json_decref(want);
    json_decref(stale);
    leader_free(a);
    leader_free(b);
    json_decref(f.lease);
}

UNIT_SUITE(leader, UNIT_CASE(test_decide), UNIT_CASE(test_parse_and_build),
           UNIT_CASE(test_election), UNIT_CASE(test_race_one_winner));
