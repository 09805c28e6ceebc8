/*
 * queue: the reconciler's work queue. Keys are strings ("kind/ns/name").
 *
 *   - de-duplicating: a key added many times before a worker takes it is
 *     processed once;
 *   - a key is never handed to two workers at once: added while it is being
 *     processed, it is queued again when the worker calls wq_done();
 *   - delayed adds (wq_add_after) and per-key exponential backoff
 *     (wq_add_backoff: base * 2^failures, capped; wq_forget resets it);
 *   - wq_shutdown wakes every waiting worker; wq_get then returns WQ_SHUTDOWN.
 *
 * Thread-safe. Ownership: the queue copies keys it is given; the key returned
 * by wq_get is owned by the caller (free() it after wq_done). Times are
 * CLOCK_MONOTONIC milliseconds.
 */
#ifndef AIGW_RECONCILER_QUEUE_H
#define AIGW_RECONCILER_QUEUE_H

#include <stddef.h>
#include <stdint.h>

typedef struct work_queue work_queue;

typedef enum {
    WQ_OK = 0,
    WQ_SHUTDOWN = 1, /* the queue was shut down */
    WQ_TIMEOUT = 2,  /* nothing became ready within the timeout */
    WQ_ERROR = -1,   /* allocation failure */
} wq_status;

/* Default backoff bounds of DESIGN §5: 5 ms to 5 min. */
#define WQ_BACKOFF_BASE_MS 5
#define WQ_BACKOFF_MAX_MS ((int64_t)5 * 60 * 1000)

/* New queue with the given backoff bounds; NULL on allocation failure. */
work_queue *wq_new(int64_t backoff_base_ms, int64_t backoff_max_ms);

/* Shuts down (if not yet) and frees; NULL allowed. No worker may still use it. */
void wq_free(work_queue *q);

/* Adds a key now. WQ_OK, WQ_SHUTDOWN (ignored) or WQ_ERROR. */
wq_status wq_add(work_queue *q, const char *key);

/*
 * Adds a key now unless the queue already has work for it: queued, being
 * processed (it is not marked to run again), or waiting for a delay or a
 * backoff. For periodic resyncs, which must not pile a second pass on keys
 * not yet through the first. WQ_OK (added or skipped), WQ_SHUTDOWN or WQ_ERROR.
 */
wq_status wq_add_idle(work_queue *q, const char *key);

/* Adds a key once `delay_ms` has passed (<= 0: now). An earlier pending delay wins. */
wq_status wq_add_after(work_queue *q, const char *key, int64_t delay_ms);

/* Adds a key after its backoff delay and counts one more failure for it. */
wq_status wq_add_backoff(work_queue *q, const char *key);

/* Resets the key's failure count (call after a successful reconcile). */
void wq_forget(work_queue *q, const char *key);

/* Number of failures counted for a key. */
int wq_failures(work_queue *q, const char *key);

/*
 * Takes the next ready key, waiting up to timeout_ms (< 0: forever). On WQ_OK
 * *key_out is the caller's (free()); the key counts as being processed until
 * wq_done().
 */
wq_status wq_get(work_queue *q, int64_t timeout_ms, char **key_out);

/* Marks a key taken with wq_get as done; re-queues it if it was added meanwhile. */
void wq_done(work_queue *q, const char *key);

/* Stops the queue: pending and later wq_get calls return WQ_SHUTDOWN. */
void wq_shutdown(work_queue *q);

/* Keys ready now (not counting delayed or in-process keys). */
size_t wq_len(work_queue *q);

/* Keys being processed (between wq_get and wq_done). */
size_t wq_processing_len(work_queue *q);

/* Keys waiting for a delay. */
size_t wq_delayed_len(work_queue *q);

/* The backoff delay after `failures` failures: base * 2^failures, at most max. Pure. */
int64_t wq_backoff_delay(int failures, int64_t base_ms, int64_t max_ms);

#endif
