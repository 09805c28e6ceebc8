/* Tests for reconciler/queue: de-duplication, in-process exclusivity, delays, backoff, shutdown. */
#include "reconciler/queue.h"
#include "tests/unit/unit.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_backoff_delay(void)
{
    CU_ASSERT_EQUAL(wq_backoff_delay(0, 5, 300000), 5);
    CU_ASSERT_EQUAL(wq_backoff_delay(1, 5, 300000), 10);
    CU_ASSERT_EQUAL(wq_backoff_delay(4, 5, 300000), 80);
    CU_ASSERT_EQUAL(wq_backoff_delay(16, 5, 300000), 300000);
    CU_ASSERT_EQUAL(wq_backoff_delay(1000, 5, 300000), 300000);
    CU_ASSERT_EQUAL(wq_backoff_delay(-3, 5, 300000), 5);
}

static void test_dedup_fifo(void)
{
    work_queue *q = wq_new(5, 1000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    CU_ASSERT_EQUAL(wq_add(q, "a/ns/x"), WQ_OK);
    CU_ASSERT_EQUAL(wq_add(q, "b/ns/y"), WQ_OK);
    CU_ASSERT_EQUAL(wq_add(q, "a/ns/x"), WQ_OK);
    CU_ASSERT_EQUAL(wq_len(q), 2);
    char *k = NULL;
    CU_ASSERT_EQUAL(wq_get(q, 0, &k), WQ_OK);
    CU_ASSERT_STRING_EQUAL(k, "a/ns/x");
    wq_done(q, k);
    free(k);
    CU_ASSERT_EQUAL(wq_get(q, 0, &k), WQ_OK);
    CU_ASSERT_STRING_EQUAL(k, "b/ns/y");
    wq_done(q, k);
    free(k);
    CU_ASSERT_EQUAL(wq_get(q, 0, &k), WQ_TIMEOUT);
    CU_ASSERT_PTR_NULL(k);
    wq_free(q);
}

static void test_readd_while_processing(void)
{
    work_queue *q = wq_new(5, 1000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    wq_add(q, "k");
    char *k = NULL;
    CU_ASSERT_EQUAL_FATAL(wq_get(q, 0, &k), WQ_OK);
    /* added while in process: not handed out again until done */
    wq_add(q, "k");
    wq_add(q, "k");
    CU_ASSERT_EQUAL(wq_len(q), 0);
    char *k2 = NULL;
    CU_ASSERT_EQUAL(wq_get(q, 10, &k2), WQ_TIMEOUT);
    wq_done(q, k);
    free(k);
    CU_ASSERT_EQUAL(wq_len(q), 1);
    CU_ASSERT_EQUAL(wq_get(q, 0, &k2), WQ_OK);
    CU_ASSERT_STRING_EQUAL(k2, "k");
    wq_done(q, k2);
    free(k2);
    CU_ASSERT_EQUAL(wq_len(q), 0);
    wq_free(q);
}

static void test_delayed_add(void)
{
    work_queue *q = wq_new(5, 1000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    int64_t t0 = mono_ms();
    wq_add_after(q, "late", 200);
    wq_add_after(q, "early", 40);
    CU_ASSERT_EQUAL(wq_delayed_len(q), 2);
    CU_ASSERT_EQUAL(wq_len(q), 0);
    char *k = NULL;
    CU_ASSERT_EQUAL_FATAL(wq_get(q, 1000, &k), WQ_OK);
    CU_ASSERT_STRING_EQUAL(k, "early");
    CU_ASSERT(mono_ms() - t0 >= 40);
    wq_done(q, k);
    free(k);
    /* an earlier delay for a pending key wins */
    wq_add_after(q, "late", 0);
    CU_ASSERT_EQUAL(wq_get(q, 0, &k), WQ_OK);
    CU_ASSERT_STRING_EQUAL(k, "late");
    CU_ASSERT(mono_ms() - t0 < 200);
    wq_done(q, k);
    free(k);
    wq_free(q);
}

static void test_backoff_and_forget(void)
{
    work_queue *q = wq_new(20, 80);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    char *k = NULL;
    int64_t t0 = mono_ms();
    wq_add_backoff(q, "f");
    CU_ASSERT_EQUAL(wq_failures(q, "f"), 1);
    CU_ASSERT_EQUAL(wq_get(q, 5, &k), WQ_TIMEOUT);
    CU_ASSERT_EQUAL_FATAL(wq_get(q, 1000, &k), WQ_OK);
    CU_ASSERT(mono_ms() - t0 >= 20);
    wq_add_backoff(q, k); /* failure 2: 40 ms, while processing */
    wq_done(q, k);
    free(k);
    CU_ASSERT_EQUAL(wq_failures(q, "f"), 2);
    t0 = mono_ms();
    CU_ASSERT_EQUAL_FATAL(wq_get(q, 1000, &k), WQ_OK);
    CU_ASSERT(mono_ms() - t0 >= 30);
    wq_add_backoff(q, k);
    wq_add_backoff(q, k);
    wq_add_backoff(q, k);
    CU_ASSERT_EQUAL(wq_failures(q, "f"), 5);
    wq_forget(q, k);
    CU_ASSERT_EQUAL(wq_failures(q, "f"), 0);
    wq_done(q, k);
    free(k);
    wq_free(q);
}

static void *shutdown_waiter(void *arg)
{
    work_queue *q = arg;
    char *k = NULL;
    wq_status st = wq_get(q, -1, &k);
    free(k);
    return (void *)(intptr_t)st;
}

static void test_shutdown_wakes(void)
{
    work_queue *q = wq_new(5, 1000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    pthread_t t;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, shutdown_waiter, q), 0);
    struct timespec d = {0, 20 * 1000000};
    nanosleep(&d, NULL);
    wq_shutdown(q);
    void *rv = NULL;
    pthread_join(t, &rv);
    CU_ASSERT_EQUAL((intptr_t)rv, WQ_SHUTDOWN);
    CU_ASSERT_EQUAL(wq_add(q, "x"), WQ_SHUTDOWN);
    wq_free(q);
}

#define NKEYS 8
typedef struct {
    work_queue *q;
    atomic_int active[NKEYS];
    atomic_int processed;
    atomic_int overlaps;
} worker_ctx;

static void *worker(void *arg)
{
    worker_ctx *c = arg;
    for (;;) {
        char *k = NULL;
        if (wq_get(c->q, 2000, &k) != WQ_OK) {
            return NULL;
        }
        int i = atoi(k + 1);
        if (atomic_fetch_add(&c->active[i], 1) != 0) {
            atomic_fetch_add(&c->overlaps, 1);
        }
        struct timespec d = {0, 200000};
        nanosleep(&d, NULL);
        atomic_fetch_sub(&c->active[i], 1);
        atomic_fetch_add(&c->processed, 1);
        wq_done(c->q, k);
        free(k);
    }
}

static void test_concurrent_exclusive(void)
{
    worker_ctx c;
    memset(&c, 0, sizeof c);
    c.q = wq_new(1, 10);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c.q);
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, worker, &c), 0);
    }
    char key[8];
    for (int n = 0; n < 2000; n++) {
        snprintf(key, sizeof key, "k%d", n % NKEYS);
        wq_add(c.q, key);
    }
    /* wait (bounded) until the queue drains */
    for (int i = 0; i < 500 && (wq_len(c.q) > 0); i++) {
        struct timespec d = {0, 10000000};
        nanosleep(&d, NULL);
    }
    struct timespec d = {0, 50000000};
    nanosleep(&d, NULL);
    wq_shutdown(c.q);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
    }
    CU_ASSERT_EQUAL(atomic_load(&c.overlaps), 0);
    CU_ASSERT(atomic_load(&c.processed) >= NKEYS);
    CU_ASSERT(atomic_load(&c.processed) <= 2000);
    wq_free(c.q);
}

/* A resync (wq_add_idle) adds nothing for keys queued, in flight or backing off. */
static void test_add_idle_skips_pending(void)
{
    work_queue *q = wq_new(1000, 10000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    CU_ASSERT_EQUAL(wq_add(q, "a"), WQ_OK);
    CU_ASSERT_EQUAL(wq_add(q, "b"), WQ_OK);
    char *k = NULL;
    CU_ASSERT_EQUAL_FATAL(wq_get(q, 0, &k), WQ_OK);
    CU_ASSERT_STRING_EQUAL(k, "a");
    CU_ASSERT_EQUAL(wq_processing_len(q), 1);
    /* "a" in flight, "b" queued, "c" backing off, "d" unknown */
    CU_ASSERT_EQUAL(wq_add_backoff(q, "c"), WQ_OK);
    CU_ASSERT_EQUAL(wq_add_idle(q, "a"), WQ_OK);
    CU_ASSERT_EQUAL(wq_add_idle(q, "b"), WQ_OK);
    CU_ASSERT_EQUAL(wq_add_idle(q, "c"), WQ_OK);
    CU_ASSERT_EQUAL(wq_add_idle(q, "d"), WQ_OK);
    CU_ASSERT_EQUAL(wq_len(q), 2); /* b, d */
    CU_ASSERT_EQUAL(wq_delayed_len(q), 1);
    wq_done(q, "a");
    free(k);
    CU_ASSERT_EQUAL(wq_processing_len(q), 0);
    /* "a" was not marked to run again */
    CU_ASSERT_EQUAL(wq_len(q), 2);
    CU_ASSERT_EQUAL(wq_get(q, 0, &k), WQ_OK);
    CU_ASSERT_STRING_EQUAL(k, "b");
    wq_done(q, k);
    free(k);
    CU_ASSERT_EQUAL(wq_get(q, 0, &k), WQ_OK);
    CU_ASSERT_STRING_EQUAL(k, "d");
    wq_done(q, k);
    free(k);
    /* idle again: a resync adds it */
    CU_ASSERT_EQUAL(wq_add_idle(q, "a"), WQ_OK);
    CU_ASSERT_EQUAL(wq_len(q), 1);
    wq_shutdown(q);
    CU_ASSERT_EQUAL(wq_add_idle(q, "z"), WQ_SHUTDOWN);
    wq_free(q);
}

UNIT_SUITE(queue, UNIT_CASE(test_backoff_delay), UNIT_CASE(test_dedup_fifo),
           UNIT_CASE(test_readd_while_processing), UNIT_CASE(test_delayed_add),
           UNIT_CASE(test_backoff_and_forget), UNIT_CASE(test_shutdown_wakes),
           UNIT_CASE(test_concurrent_exclusive), UNIT_CASE(test_add_idle_skips_pending));
