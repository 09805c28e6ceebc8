/*
 * controller_state: the controller's internals shared by controller.c (the
 * loop: watches, queue, leader, workers) and sync.c (what one reconcile of one
 * policy does). Not a public API: only those two files include it.
 */
#ifndef AIGW_RECONCILER_CONTROLLER_STATE_H
#define AIGW_RECONCILER_CONTROLLER_STATE_H

#include "common/kube_client.h"
#include "common/kube_watch.h"
#include "common/metrics.h"
#include "reconciler/controller.h"
#include "reconciler/leader.h"
#include "reconciler/owned_index.h"
#include "reconciler/queue.h"
#include "reconciler/ref_index.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>

/* The kinds the controller keeps a cache of. */
typedef enum {
    W_ROUTING = 0,
    W_ACCESS,
    W_GATEWAY,
    W_SERVICE,
    W_CONFIGMAP,
    W_BACKEND,
    W_AISB,
    W_BSP,
    W_ROUTE,
    W_BTP,
    W_CTP,
    W_COUNT
} watch_id;

typedef struct {
    const char *api_version;
    const char *kind;
    const char *label_selector; /* NULL: every object of the kind */
    bool generated;             /* kinds aigw writes: fed into owned_index */
    bool metadata_only;         /* only metadata is ever read: the cache keeps no more */
} watch_def;

extern const watch_def controller_watches[W_COUNT];

typedef struct controller controller;

typedef struct {
    controller *c;
    watch_id id;
} watch_ctx;

struct controller {
    kube_client *kc;
    metrics_registry *metrics;
    int64_t resync_ms;
    int helper_health_port; /* for helper.conf (controller_config) */
    char *lease_ns, *lease_name, *identity;
    int nworkers;

    kube_reflector *refl[W_COUNT];
    watch_ctx wctx[W_COUNT];
    pthread_t refl_thread[W_COUNT];
    bool refl_started[W_COUNT];

    pthread_t secret_thread;
    bool secret_started;
    volatile int secret_stop;
    volatile int secret_synced;

    work_queue *q;
    ref_index *refs;
    owned_index *owned;
    leader_elector *le;
    leader_io lio;

    pthread_t *workers;
    int workers_started;
    pthread_t resync_thread;
    bool resync_started;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
    bool stopped;

    /* events already reported: "policy key" -> "reason\nmessage" */
    pthread_mutex_t ev_mu;
    json_t *ev_last;

    /*
     * Our own writes: "Kind/ns/name" -> "uid/hash", the controller owner and
     * content-hash annotation aigw last applied to that object. A watch event
     * showing exactly that (typically the echo of the write, which may arrive
     * before the write's answer) tells the owner's reconcile nothing new, so
     * it is not queued again.
     */
    pthread_mutex_t echo_mu;
    json_t *echo;

    metric *m_reconcile_total;    /* {kind,result} */
    metric *m_reconcile_duration; /* {kind} */
    metric *m_leader;
};

/* Outcome of one reconcile. */
typedef enum {
    SYNC_OK = 0,       /* converged (possibly with a reported problem that needs a user change) */
    SYNC_RETRY = 1,    /* a transient failure: retried with backoff */
    SYNC_INVALID = 2,  /* Accepted=False InvalidSpec */
    SYNC_CONFLICT = 3, /* Accepted=False Conflicted */
    SYNC_GONE = 4,     /* the policy no longer exists */
} sync_result;

/*
 * Queue keys "Orphans/<ns>/<uid>": delete what a policy with that uid, now
 * gone, left behind (objects written by a reconcile that raced its deletion).
 */
#define SYNC_ORPHANS_KIND "Orphans"

/* Reconciles the policy named by key ("Kind/ns/name"), or cleans up an Orphans key. */
sync_result sync_policy(controller *c, const char *key);

/* Records `stamped` (an object about to be applied) as what aigw last wrote to it. */
void controller_note_write(controller *c, const json_t *stamped);

/* The "result" label for a sync_result. */
const char *sync_result_name(sync_result r);

#endif
