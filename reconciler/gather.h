/*
 * gather: reads, through an object source, every cluster object a policy's
 * intent depends on, into the plain input structs of intent.h. The only I/O
 * between a parsed policy and its intent; shared by `aigw render` (directory
 * source) and the reconcile loop (API server source).
 *
 *   AIRoutingPolicy: the credential Secrets it names, the target Gateway, and
 *     whether an AIAccessPolicy targets that Gateway (listed in the source,
 *     plus `extra_policies`, e.g. the other documents of a rendered file).
 *   AIAccessPolicy: the Gateway, the Envoy Service Envoy Gateway made for it
 *     (found by the labels gateway.envoyproxy.io/owning-gateway-name and
 *     -namespace), the trust bundle ConfigMap (parsed with spiffe_bundle at
 *     `now`), the serverCertRef Secret, and the Secrets aigw generated before.
 *
 * A missing object is not an error (the intent records what it means); an
 * I/O error or timeout is: -1 with err. Ownership: the gather struct owns the
 * objects it read; free with gather_*_free() (also after a failure). The
 * input struct inside borrows from it and from the policy.
 */
#ifndef AIGW_RECONCILER_GATHER_H
#define AIGW_RECONCILER_GATHER_H

#include "common/object_source.h"
#include "common/spiffe_bundle.h"
#include "reconciler/intent.h"

typedef struct {
    intent_routing_input in;
    json_t *secrets; /* array */
    json_t *gateway;
} gather_routing;

int gather_routing_inputs(object_source *src, const policy_routing *p, const json_t *extra_policies,
                          int64_t deadline_ms, gather_routing *out, char *err, size_t errlen);
void gather_routing_free(gather_routing *g);

typedef struct {
    intent_access_input in;
    json_t *gateway, *service, *bundle_cm, *server_cert, *issuer, *server, *client_ca;
    spiffe_bundle bundle;
    int bundle_parsed;
    char bundle_err[256];
} gather_access;

int gather_access_inputs(object_source *src, const policy_access *p, time_t now,
                         int64_t deadline_ms, gather_access *out, char *err, size_t errlen);
void gather_access_free(gather_access *g);

#endif
