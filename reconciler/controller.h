/*
 * controller: the `aigw reconcile` loop (DESIGN §5).
 *
 *   watches (kube_reflector per kind, a metadata-only watch for Secrets)
 *     -> ref_index / owned_index -> work queue (de-duplicated, backoff)
 *     -> workers: reconcile one policy (reconciler/sync.c)
 *   leader election on a Lease: only the leader's workers reconcile; the
 *   standby keeps its caches warm and takes over with a full pass.
 *   resync: every policy is queued again every `resync_ms`.
 *
 * Ownership: the kube client and the metrics registry are borrowed and must
 * outlive the controller; strings in the config are copied.
 */
#ifndef AIGW_RECONCILER_CONTROLLER_H
#define AIGW_RECONCILER_CONTROLLER_H

#include "common/kube_client.h"
#include "common/metrics.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONTROLLER_DEFAULT_RESYNC_MS ((int64_t)5 * 60 * 1000)
#define CONTROLLER_DEFAULT_LEASE_NAME "aigw-reconciler"

typedef struct {
    kube_client *kc;           /* borrowed */
    metrics_registry *metrics; /* borrowed; NULL: no metrics */
    int64_t resync_ms;         /* 0: CONTROLLER_DEFAULT_RESYNC_MS */
    const char *lease_ns;      /* NULL: the client's namespace */
    const char *lease_name;    /* NULL: CONTROLLER_DEFAULT_LEASE_NAME */
    const char *identity;      /* required */
    int workers;               /* 0: 2 */
    int64_t lease_ms;          /* 0: 15 s (tests may shorten) */
    int64_t renew_deadline_ms; /* 0: 10 s */
    int64_t retry_ms;          /* 0: 2 s */
    int helper_health_port;    /* spiffe-helper health port written to helper.conf; 0: 17081 */
} controller_config;

typedef struct controller controller;

/* NULL with err on failure. */
controller *controller_new(const controller_config *cfg, char *err, size_t errlen);

/* Starts watches, leader election, workers and the resync timer. 0 or -1 with err. */
int controller_start(controller *c, char *err, size_t errlen);

/* True once every watch has listed its kind (a standby is ready too). */
bool controller_ready(controller *c);

/* True while this replica leads. */
bool controller_is_leader(controller *c);

/* Stops workers and watches and releases the Lease when held. Idempotent. */
void controller_stop(controller *c);

/* Stops and frees; NULL allowed. */
void controller_free(controller *c);

#endif
