/*
 * fuzz_reconcile_objects: the reconciler's readers of live objects, fed with
 * arbitrary JSON as the API server might return it: Lease parsing and the
 * leader decision, policy references and event -> key mapping, owner-uid
 * indexing, content hash / apply decision / staleness, the policy race rule
 * (ref_index_conflict),
 * and building a status on top of an arbitrary live status.
 */
#include "reconciler/apply.h"
#include "reconciler/conditions.h"
#include "reconciler/leader.h"
#include "reconciler/owned_index.h"
#include "reconciler/ref_index.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t e;
    json_t *obj = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &e);
    if (!obj) {
        return 0;
    }
    lease_record rec;
    if (leader_lease_parse(obj, &rec) == 0) {
        (void)leader_decide(&rec, "me", 0, 20000, 15000);
    }
    json_t *built = leader_lease_build(json_is_object(obj) ? obj : NULL, "ns", "lease", "me",
                                       LEADER_ACQUIRE, false, 15, "2026-01-01T00:00:00.000000Z");
    json_decref(built);

    json_t *refs = ref_index_refs_of(obj);
    json_decref(refs);
    ref_index *ix = ref_index_new();
    if (ix) {
        (void)ref_index_put(ix, obj);
        json_t *keys = ref_index_keys_for(ix, obj);
        json_decref(keys);
        char w[64], m[64];
        (void)ref_index_conflict(ix, obj, w, sizeof w, m, sizeof m);
        ref_index_free(ix);
    }
    owned_index *oi = owned_index_new();
    if (oi) {
        (void)owned_index_put(oi, obj);
        json_t *l = owned_index_list(oi, "uid");
        json_decref(l);
        owned_index_remove(oi, obj);
        owned_index_free(oi);
    }

    json_t *stamped = apply_stamp(obj);
    if (stamped) {
        char why[256];
        (void)apply_decide(stamped, obj, "uid", why, sizeof why);
        json_decref(stamped);
    }
    json_t *desired = json_array();
    (void)apply_is_stale(obj, "uid", desired);
    json_decref(desired);

    status_builder b;
    if (status_builder_init(&b, STATUS_KIND_ROUTING, json_object_get(obj, "status"), 1, 0) == 0) {
        status_builder_condition(&b, COND_ACCEPTED, true, REASON_ACCEPTED, "ok");
        json_t *st = status_builder_finish(&b);
        (void)status_equal(st, json_object_get(obj, "status"));
        json_decref(st);
    }
    json_decref(obj);
    return 0;
}
