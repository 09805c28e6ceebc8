/*
 * handlers: what /validate and /mutate-pods do with a parsed request.
 * The HTTP layer (webhook/server) parses the envelope, calls one of these,
 * renders the reply. Handlers never fail: every outcome is expressed in the
 * response (allowed/denied, warnings, patch).
 */
#ifndef AIGW_WEBHOOK_HANDLERS_H
#define AIGW_WEBHOOK_HANDLERS_H

#include "common/object_source.h"
#include "webhook/admission.h"

#include <stdint.h>

struct inject_runtime; /* injector/runtime.h */

/* Shared, read-mostly state the handlers use. Owned by the serve command. */
typedef struct {
    object_source *objects;          /* lookups; NULL = none configured */
    struct inject_runtime *injector; /* NULL = injection not configured */
    int64_t lookup_budget_ms;        /* per-request budget for lookups (2000) */
} webhook_context;

/* POST /validate: AIRoutingPolicy and AIAccessPolicy CREATE/UPDATE. */
void webhook_handle_validate(const webhook_context *ctx, const admission_request *req,
                             admission_response *resp);

/* POST /mutate-pods: Pod CREATE. Never denies. */
void webhook_handle_mutate_pods(const webhook_context *ctx, const admission_request *req,
                                admission_response *resp);

#endif
