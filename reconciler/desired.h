/*
 * desired: the whole pipeline from one policy object to the objects it wants,
 * as `aigw render` prints them and the reconcile loop applies them:
 *
 *   policy JSON -(policy_*_parse + validate)-> policy -(gather: object source)->
 *   inputs -(intent_*_build)-> intent -(intent_access_issue_certs)->
 *   -(envoy_render_*)-> objects + Gateway apply configuration
 *
 * Ownership: desired_state owns everything in it; free with desired_free()
 * (also after a failure). Errors: desired_build returns 0 on success, 1 when
 * the policy is invalid (the field errors are in `errs`), -1 on I/O or
 * allocation failure (err). Not pure: it reads through the object source and
 * may generate keys.
 */
#ifndef AIGW_RECONCILER_DESIRED_H
#define AIGW_RECONCILER_DESIRED_H

#include "common/field_errors.h"
#include "common/object_source.h"
#include "reconciler/intent.h"

#include <jansson.h>
#include <time.h>

typedef struct {
    policy_kind kind;
    json_t *objects;       /* array of objects to apply with field manager aigw */
    json_t *gateway_apply; /* Gateway apply configuration (field manager aigw-gateway) or NULL */
    char *endpoint;        /* AIAccessPolicy status.endpoint, NULL when unknown */
    json_t *notes;         /* array of strings: warnings and per-provider problems */
    /* For status (DESIGN §2). AIRoutingPolicy: */
    json_t *providers; /* [{name, ready, error?, reason?}] in policy order */
    json_t *models;    /* [{name, route}] in policy order: the AIGatewayRoute serving it */
    int gateway_found;
    /* AIAccessPolicy: */
    intent_bundle_state bundle_state;
    int bundle_certificates, bundle_expired;
    time_t bundle_next_expiry; /* 0 when none */
    int https_listeners;       /* HTTPS listeners of the Gateway */
    int server_cert_issued;    /* 1 when this build made a new server certificate */
} desired_state;

typedef struct {
    const json_t *extra_policies; /* other policies not (yet) in the source, or NULL */
    time_t now;
    const char *fallback_uid; /* uid when metadata.uid is absent (render); NULL = required */
    int64_t deadline_ms;      /* for object source lookups; 0 = none */
    int helper_health_port;   /* spiffe-helper health port for helper.conf; 0 = 17081 */
} desired_options;

int desired_build(object_source *src, const json_t *policy, const desired_options *opt,
                  desired_state *out, field_errors *errs, char *err, size_t errlen);
void desired_free(desired_state *d);

#endif
