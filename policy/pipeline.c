/*
 * pipeline: policy_validate_object, the one path from a JSON object to errors
 * and warnings that the webhook and `aigw validate` share: kind, the
 * deletion / metadata-only bypass, parse, pure rules, then the cross-object
 * rules (ratcheted against the old object on UPDATE).
 */
#include "policy/validate.h"

#include <string.h>

static int being_deleted(const json_t *obj)
{
    const json_t *d = json_object_get(json_object_get(obj, "metadata"), "deletionTimestamp");
    return d != NULL && !json_is_null(d);
}

/* An UPDATE that touches only metadata, finalizers or status. */
static int spec_unchanged(const json_t *obj, const json_t *old_obj)
{
    if (old_obj == NULL) {
        return 0;
    }
    const json_t *a = json_object_get(obj, "spec");
    const json_t *b = json_object_get(old_obj, "spec");
    if (a == NULL || b == NULL) {
        return a == b;
    }
    return json_equal(a, b);
}

static int run_routing(const json_t *obj, const json_t *old_obj, const policy_lookup *lk,
                       field_errors *errs, policy_warnings *warns)
{
    policy_routing p, old;
    int have_old = 0;
    if (policy_routing_parse(obj, &p, errs) < 0) {
        policy_routing_free(&p);
        return -1;
    }
    policy_routing_validate(&p, errs, warns);
    if (old_obj != NULL) {
        field_errors ignored;
        field_errors_init(&ignored);
        have_old = policy_routing_parse(old_obj, &old, &ignored) >= 0;
        field_errors_free(&ignored);
        if (!have_old) {
            policy_routing_free(&old);
        }
    }
    policy_routing_check_refs(&p, have_old ? &old : NULL, lk, errs, warns);
    if (have_old) {
        policy_routing_free(&old);
    }
    policy_routing_free(&p);
    return POLICY_KIND_ROUTING;
}

static int run_access(const json_t *obj, const json_t *old_obj, const policy_lookup *lk,
                      field_errors *errs, policy_warnings *warns)
{
    policy_access p, old;
    int have_old = 0;
    if (policy_access_parse(obj, &p, errs) < 0) {
        policy_access_free(&p);
        return -1;
    }
    policy_access_validate(&p, errs, warns);
    if (old_obj != NULL) {
        field_errors ignored;
        field_errors_init(&ignored);
        have_old = policy_access_parse(old_obj, &old, &ignored) >= 0;
        field_errors_free(&ignored);
        if (!have_old) {
            policy_access_free(&old);
        }
    }
    policy_access_check_refs(&p, have_old ? &old : NULL, lk, errs, warns);
    if (have_old) {
        policy_access_free(&old);
    }
    policy_access_free(&p);
    return POLICY_KIND_ACCESS;
}

int policy_validate_object(const json_t *obj, const json_t *old_obj, const policy_lookup *lk,
                           field_errors *errs, policy_warnings *warns)
{
    policy_kind kind = policy_kind_of(obj);
    if (kind == POLICY_KIND_UNKNOWN) {
        return POLICY_KIND_UNKNOWN;
    }
    if (being_deleted(obj) || spec_unchanged(obj, old_obj)) {
        return (int)kind;
    }
    int rc = kind == POLICY_KIND_ROUTING ? run_routing(obj, old_obj, lk, errs, warns)
                                         : run_access(obj, old_obj, lk, errs, warns);
    if (rc < 0 || field_errors_oom(errs) || warns->oom) {
        return -1;
    }
    return rc;
}
