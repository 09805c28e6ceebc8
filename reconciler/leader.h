/*
 * leader: leader election on a coordination.k8s.io/v1 Lease, the way
 * client-go's leaderelection does it (DESIGN §5: 15 s lease, 10 s renew
 * deadline, 2 s retry).
 *
 *   - Every retry period the elector reads the Lease. It is free when absent,
 *     when holderIdentity is empty (released), or when its record has not
 *     changed for leaseDurationSeconds as measured on OUR monotonic clock since
 *     we first saw that record (so clock skew between replicas does not
 *     matter). The holder renews renewTime every retry period.
 *   - Writes carry the observed resourceVersion: two candidates racing for a
 *     free Lease get one success and one 409 (optimistic concurrency).
 *   - A leader that cannot renew for the renew deadline stops leading.
 *   - leader_stop() releases the Lease (holderIdentity cleared,
 *     leaseDurationSeconds 1) so another replica takes over at once.
 *
 * The decision (leader_decide) is pure; the I/O goes through leader_io, which
 * the reconciler implements with the kube client. Ownership: json_t passed in
 * is borrowed; json_t returned through out-parameters is the caller's.
 */
#ifndef AIGW_RECONCILER_LEADER_H
#define AIGW_RECONCILER_LEADER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define LEADER_LEASE_MS 15000
#define LEADER_RENEW_DEADLINE_MS 10000
#define LEADER_RETRY_MS 2000

/* What the Lease record says (fields parsed from spec). */
typedef struct {
    bool exists;
    char holder[256];      /* "" when released */
    int lease_seconds;     /* leaseDurationSeconds (0 when absent) */
    int transitions;       /* leaseTransitions */
    char acquire_time[40]; /* as written */
    char renew_time[40];
    char resource_version[64];
} lease_record;

typedef enum {
    LEADER_CREATE = 0,  /* no Lease: create it holding it */
    LEADER_ACQUIRE = 1, /* free or expired: take it over (transitions + 1) */
    LEADER_RENEW = 2,   /* we hold it: renew */
    LEADER_WAIT = 3,    /* another live holder */
} leader_action;

/*
 * Pure decision: `rec` as read, `observed_at_ms` the monotonic time we first
 * saw this record (resourceVersion), `default_lease_ms` when the record has
 * no duration.
 */
leader_action leader_decide(const lease_record *rec, const char *identity, int64_t observed_at_ms,
                            int64_t now_ms, int64_t default_lease_ms);

/* Parses a Lease object; NULL gives a record with exists=false. 0 ok, -1 not a Lease. */
int leader_lease_parse(const json_t *lease, lease_record *out);

/* Formats a MicroTime "2026-11-28T15:10:49.123456Z" from a wall-clock timespec. */
void leader_format_microtime(const struct timespec *ts, char *buf, size_t len);

/*
 * Builds the Lease to write for `action` (CREATE/ACQUIRE/RENEW) or for a
 * release (release=true): from `live` (borrowed, NULL for CREATE) keeping its
 * metadata (resourceVersion). New reference, NULL on allocation failure.
 */
json_t *leader_lease_build(const json_t *live, const char *ns, const char *name,
                           const char *identity, leader_action action, bool release,
                           int lease_seconds, const char *now_micro);

/* I/O results: 0 ok, 1 not found (get) / conflict (create, update), -1 error. */
typedef struct {
    int (*get)(void *ctx, const char *ns, const char *name, json_t **out, char *err, size_t errlen);
    int (*create)(void *ctx, const char *ns, const json_t *lease, char *err, size_t errlen);
    int (*update)(void *ctx, const char *ns, const char *name, const json_t *lease, char *err,
                  size_t errlen);
    void *ctx;
} leader_io;

typedef struct {
    const char *ns;
    const char *name;
    const char *identity;
    int64_t lease_ms;          /* 0: LEADER_LEASE_MS */
    int64_t renew_deadline_ms; /* 0: LEADER_RENEW_DEADLINE_MS */
    int64_t retry_ms;          /* 0: LEADER_RETRY_MS */
    /* Called (from the elector's thread) when leadership starts or stops. */
    void (*on_change)(void *ctx, bool leading);
    void *ctx;
} leader_config;

typedef struct leader_elector leader_elector;

/* New elector (config strings are copied). NULL on allocation failure. */
leader_elector *leader_new(const leader_config *cfg, const leader_io *io);

/*
 * One acquire-or-renew round at monotonic time now_ms (the thread calls this
 * every retry period; tests call it directly). Returns 1 when leading after
 * the round, 0 when not, -1 on an I/O error (leadership is kept until the
 * renew deadline passes).
 */
int leader_try_once(leader_elector *le, int64_t now_ms);

/* Starts the election thread. 0 ok, -1 error. */
int leader_start(leader_elector *le);

/* True while this replica holds the Lease. Thread-safe. */
bool leader_is_leader(leader_elector *le);

/* Stops the thread (if started) and releases the Lease when held. */
void leader_stop(leader_elector *le);

/* Stops and frees; NULL allowed. */
void leader_free(leader_elector *le);

#endif
