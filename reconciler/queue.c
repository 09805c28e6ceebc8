/*
 * queue: de-duplicating work queue with delays and per-key backoff.
 *
 * Every key the queue knows has one entry in a chained hash table. An entry is
 * in at most one of: the ready FIFO (`queued`), in a worker's hands
 * (`processing`), and may additionally be `dirty` (added while processing,
 * re-queued by wq_done) and/or have a pending delay (`delay_at` > 0, kept in
 * the delayed list). Entries with no state and no failures are freed.
 */
#include "reconciler/queue.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct wq_entry {
    char *key;
    struct wq_entry *hnext; /* hash chain */
    struct wq_entry *qnext; /* ready FIFO */
    struct wq_entry *dnext; /* delayed list */
    bool queued, processing, dirty, delayed;
    int64_t delay_at;
    int failures;
} wq_entry;

struct work_queue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    wq_entry **buckets;
    size_t nbuckets, nentries;
    wq_entry *head, *tail;
    size_t ready;
    wq_entry *delayed_list;
    size_t ndelayed;
    bool shutdown;
    size_t nprocessing;
    int64_t base_ms, max_ms;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t hash_key(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    }
    return h;
}

int64_t wq_backoff_delay(int failures, int64_t base_ms, int64_t max_ms)
{
    if (failures < 0) {
        failures = 0;
    }
    int64_t d = base_ms > 0 ? base_ms : 1;
    for (int i = 0; i < failures && d < max_ms; i++) {
        d *= 2;
    }
    return d > max_ms ? max_ms : d;
}

work_queue *wq_new(int64_t backoff_base_ms, int64_t backoff_max_ms)
{
    work_queue *q = calloc(1, sizeof *q);
    if (!q) {
        return NULL;
    }
    q->nbuckets = 256;
    q->buckets = calloc(q->nbuckets, sizeof(wq_entry *));
    if (!q->buckets) {
        free(q);
        return NULL;
    }
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0) {
        free(q->buckets);
        free(q);
        return NULL;
    }
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (pthread_cond_init(&q->cv, &ca) != 0) {
        pthread_condattr_destroy(&ca);
        free(q->buckets);
        free(q);
        return NULL;
    }
    pthread_condattr_destroy(&ca);
    if (pthread_mutex_init(&q->mu, NULL) != 0) {
        pthread_cond_destroy(&q->cv);
        free(q->buckets);
        free(q);
        return NULL;
    }
    q->base_ms = backoff_base_ms > 0 ? backoff_base_ms : WQ_BACKOFF_BASE_MS;
    q->max_ms = backoff_max_ms >= q->base_ms ? backoff_max_ms : q->base_ms;
    return q;
}

static wq_entry *find(work_queue *q, const char *key)
{
    for (wq_entry *e = q->buckets[hash_key(key) % q->nbuckets]; e; e = e->hnext) {
        if (strcmp(e->key, key) == 0) {
            return e;
        }
    }
    return NULL;
}

static void grow(work_queue *q)
{
    size_t n = q->nbuckets * 2;
    wq_entry **nb = calloc(n, sizeof(wq_entry *));
    if (!nb) {
        return; /* keep the smaller table: slower, still correct */
    }
    for (size_t i = 0; i < q->nbuckets; i++) {
        wq_entry *e = q->buckets[i];
        while (e) {
            wq_entry *next = e->hnext;
            size_t b = hash_key(e->key) % n;
            e->hnext = nb[b];
            nb[b] = e;
            e = next;
        }
    }
    free(q->buckets);
    q->buckets = nb;
    q->nbuckets = n;
}

static wq_entry *find_or_create(work_queue *q, const char *key)
{
    wq_entry *e = find(q, key);
    if (e) {
        return e;
    }
    if (q->nentries >= q->nbuckets) {
        grow(q);
    }
    e = calloc(1, sizeof *e);
    if (!e) {
        return NULL;
    }
    e->key = strdup(key);
    if (!e->key) {
        free(e);
        return NULL;
    }
    size_t b = hash_key(key) % q->nbuckets;
    e->hnext = q->buckets[b];
    q->buckets[b] = e;
    q->nentries++;
    return e;
}

/* Frees an entry that carries no state any more. */
static void maybe_release(work_queue *q, wq_entry *e)
{
    if (e->queued || e->processing || e->dirty || e->delayed || e->failures > 0) {
        return;
    }
    wq_entry **pp = &q->buckets[hash_key(e->key) % q->nbuckets];
    while (*pp && *pp != e) {
        pp = &(*pp)->hnext;
    }
    if (*pp) {
        *pp = e->hnext;
    }
    q->nentries--;
    free(e->key);
    free(e);
}

static void push_ready(work_queue *q, wq_entry *e)
{
    e->queued = true;
    e->qnext = NULL;
    if (q->tail) {
        q->tail->qnext = e;
    } else {
        q->head = e;
    }
    q->tail = e;
    q->ready++;
}

/* Marks a key wanted now: de-duplicated, deferred while it is processed. */
static void add_now(work_queue *q, wq_entry *e)
{
    if (e->queued || e->dirty) {
        return;
    }
    if (e->processing) {
        e->dirty = true;
        return;
    }
    push_ready(q, e);
    pthread_cond_signal(&q->cv);
}

/* Moves delayed keys whose time has come to the ready FIFO; returns the next due time or 0. */
static int64_t promote_due(work_queue *q, int64_t now)
{
    int64_t next = 0;
    wq_entry **pp = &q->delayed_list;
    while (*pp) {
        wq_entry *e = *pp;
        if (e->delay_at <= now) {
            *pp = e->dnext;
            q->ndelayed--;
            e->delayed = false;
            e->delay_at = 0;
            e->dnext = NULL;
            add_now(q, e);
            continue;
        }
        if (next == 0 || e->delay_at < next) {
            next = e->delay_at;
        }
        pp = &e->dnext;
    }
    return next;
}

static wq_status add_delayed_locked(work_queue *q, const char *key, int64_t delay_ms, bool count)
{
    if (q->shutdown) {
        return WQ_SHUTDOWN;
    }
    wq_entry *e = find_or_create(q, key);
    if (!e) {
        return WQ_ERROR;
    }
    if (count) {
        delay_ms = wq_backoff_delay(e->failures, q->base_ms, q->max_ms);
        if (e->failures < 64) {
            e->failures++;
        }
    }
    if (delay_ms <= 0) {
        add_now(q, e);
        return WQ_OK;
    }
    int64_t at = now_ms() + delay_ms;
    if (e->delayed) {
        if (e->delay_at > at) {
            e->delay_at = at;
            pthread_cond_broadcast(&q->cv);
        }
        return WQ_OK;
    }
    e->delayed = true;
    e->delay_at = at;
    e->dnext = q->delayed_list;
    q->delayed_list = e;
    q->ndelayed++;
    /* a waiting worker may need to wake earlier than it planned */
    pthread_cond_broadcast(&q->cv);
    return WQ_OK;
}

wq_status wq_add(work_queue *q, const char *key)
{
    pthread_mutex_lock(&q->mu);
    wq_status st = add_delayed_locked(q, key, 0, false);
    pthread_mutex_unlock(&q->mu);
    return st;
}

wq_status wq_add_idle(work_queue *q, const char *key)
{
    pthread_mutex_lock(&q->mu);
    wq_status st = WQ_OK;
    wq_entry *e = find(q, key);
    if (q->shutdown) {
        st = WQ_SHUTDOWN;
    } else if (!e || !(e->queued || e->processing || e->dirty || e->delayed)) {
        st = add_delayed_locked(q, key, 0, false);
    }
    pthread_mutex_unlock(&q->mu);
    return st;
}

wq_status wq_add_after(work_queue *q, const char *key, int64_t delay_ms)
{
    pthread_mutex_lock(&q->mu);
    wq_status st = add_delayed_locked(q, key, delay_ms, false);
    pthread_mutex_unlock(&q->mu);
    return st;
}

wq_status wq_add_backoff(work_queue *q, const char *key)
{
    pthread_mutex_lock(&q->mu);
    wq_status st = add_delayed_locked(q, key, 0, true);
    pthread_mutex_unlock(&q->mu);
    return st;
}

void wq_forget(work_queue *q, const char *key)
{
    pthread_mutex_lock(&q->mu);
    wq_entry *e = find(q, key);
    if (e) {
        e->failures = 0;
        maybe_release(q, e);
    }
    pthread_mutex_unlock(&q->mu);
}

int wq_failures(work_queue *q, const char *key)
{
    pthread_mutex_lock(&q->mu);
    wq_entry *e = find(q, key);
    int n = e ? e->failures : 0;
    pthread_mutex_unlock(&q->mu);
    return n;
}

static void deadline_ts(int64_t at_ms, struct timespec *ts)
{
    ts->tv_sec = (time_t)(at_ms / 1000);
    ts->tv_nsec = (long)((at_ms % 1000) * 1000000);
}

wq_status wq_get(work_queue *q, int64_t timeout_ms, char **key_out)
{
    *key_out = NULL;
    pthread_mutex_lock(&q->mu);
    int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : 0;
    for (;;) {
        if (q->shutdown) {
            pthread_mutex_unlock(&q->mu);
            return WQ_SHUTDOWN;
        }
        int64_t now = now_ms();
        int64_t next_due = promote_due(q, now);
        if (q->head) {
            wq_entry *e = q->head;
            char *k = strdup(e->key);
            if (!k) {
                pthread_mutex_unlock(&q->mu);
                return WQ_ERROR;
            }
            q->head = e->qnext;
            if (!q->head) {
                q->tail = NULL;
            }
            e->qnext = NULL;
            e->queued = false;
            e->processing = true;
            q->nprocessing++;
            q->ready--;
            pthread_mutex_unlock(&q->mu);
            *key_out = k;
            return WQ_OK;
        }
        if (timeout_ms >= 0 && now >= deadline) {
            pthread_mutex_unlock(&q->mu);
            return WQ_TIMEOUT;
        }
        int64_t wake = deadline;
        if (next_due > 0 && (wake == 0 || next_due < wake)) {
            wake = next_due;
        }
        if (wake == 0) {
            pthread_cond_wait(&q->cv, &q->mu);
        } else {
            struct timespec ts;
            deadline_ts(wake, &ts);
            int rc = pthread_cond_timedwait(&q->cv, &q->mu, &ts);
            (void)rc; /* ETIMEDOUT or a wakeup: both re-check the state */
        }
    }
}

void wq_done(work_queue *q, const char *key)
{
    pthread_mutex_lock(&q->mu);
    wq_entry *e = find(q, key);
    if (e && e->processing) {
        e->processing = false;
        q->nprocessing--;
        if (e->dirty) {
            e->dirty = false;
            if (!q->shutdown) {
                push_ready(q, e);
                pthread_cond_signal(&q->cv);
            }
        }
        maybe_release(q, e);
    }
    pthread_mutex_unlock(&q->mu);
}

void wq_shutdown(work_queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->shutdown = true;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

size_t wq_len(work_queue *q)
{
    pthread_mutex_lock(&q->mu);
    size_t n = q->ready;
    pthread_mutex_unlock(&q->mu);
    return n;
}

size_t wq_processing_len(work_queue *q)
{
    pthread_mutex_lock(&q->mu);
    size_t n = q->nprocessing;
    pthread_mutex_unlock(&q->mu);
    return n;
}

size_t wq_delayed_len(work_queue *q)
{
    pthread_mutex_lock(&q->mu);
    size_t n = q->ndelayed;
    pthread_mutex_unlock(&q->mu);
    return n;
}

void wq_free(work_queue *q)
{
    if (!q) {
        return;
    }
    for (size_t i = 0; i < q->nbuckets; i++) {
        wq_entry *e = q->buckets[i];
        while (e) {
            wq_entry *next = e->hnext;
            free(e->key);
            free(e);
            e = next;
        }
    }
    free(q->buckets);
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
    free(q);
}
