/*
 * kube_watch: the watch-stream decoder and the reflector (list + watch loop
 * keeping a store). See kube_watch.h for the contract.
 *
 * Store: a jansson object keyed "<namespace>/<name>" holding the last object
 * seen. Handlers are called from the run() thread without the store lock
 * held, so they may call kube_reflector_get()/list().
 *
 * Event effects are idempotent by resourceVersion: an ADDED or MODIFIED whose
 * object carries the resourceVersion already stored changes nothing and calls
 * no handler (a server replaying an event after a resume cannot cause a
 * duplicate effect); MODIFIED of an unknown object is an add; DELETED of an
 * unknown object is ignored.
 */
#include "common/kube_watch.h"

#include "common/field_errors.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_MAX_LINE ((size_t)16 * 1024 * 1024)

/* ---- decoder ---- */

struct kube_watch_decoder {
    char *buf; /* an incomplete line */
    size_t len;
    size_t cap;
    size_t max_line;
};

static const char *const type_names[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"};

int kube_watch_type_parse(const char *s, kube_watch_type *out)
{
    for (int i = 0; i < 5; i++) {
        if (strcmp(s, type_names[i]) == 0) {
            *out = (kube_watch_type)i;
            return 0;
        }
    }
    return -1;
}

const char *kube_watch_type_name(kube_watch_type t)
{
    return (unsigned)t < 5 ? type_names[t] : "UNKNOWN";
}

kube_watch_decoder *kube_watch_decoder_new(size_t max_line)
{
    kube_watch_decoder *d = calloc(1, sizeof *d);
    if (d != NULL) {
        d->max_line = max_line ? max_line : DEFAULT_MAX_LINE;
    }
    return d;
}

void kube_watch_decoder_free(kube_watch_decoder *dec)
{
    if (dec != NULL) {
        free(dec->buf);
        free(dec);
    }
}

size_t kube_watch_decoder_pending(const kube_watch_decoder *dec)
{
    return dec->len;
}

static int only_space(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n') {
            return 0;
        }
    }
    return 1;
}

/* One complete line: parse and deliver. */
static int deliver(const char *line, size_t n, kube_watch_fn fn, void *ud, char *err, size_t errlen)
{
    if (only_space(line, n)) {
        return 0;
    }
    json_error_t jerr;
    json_t *ev = json_loadb(line, n, JSON_REJECT_DUPLICATES, &jerr);
    if (ev == NULL) {
        snprintf(err, errlen, "invalid event JSON at column %d: %s", jerr.column, jerr.text);
        return -1;
    }
    const char *type = json_string_value(json_object_get(ev, "type"));
    json_t *obj = json_object_get(ev, "object");
    kube_watch_type t;
    int rc;
    if (type == NULL || kube_watch_type_parse(type, &t) != 0) {
        snprintf(err, errlen, "event with missing or unknown type");
        rc = -1;
    } else if (!json_is_object(obj)) {
        snprintf(err, errlen, "%s event without an object", type);
        rc = -1;
    } else {
        rc = fn(t, obj, ud);
    }
    json_decref(ev);
    return rc;
}

static int pending_add(kube_watch_decoder *dec, const char *p, size_t n, char *err, size_t errlen)
{
    if (dec->len + n > dec->max_line) {
        snprintf(err, errlen, "event longer than %zu bytes", dec->max_line);
        return -1;
    }
    if (dec->len + n > dec->cap) {
        size_t ncap = dec->cap ? dec->cap : 4096;
        while (ncap < dec->len + n) {
            ncap *= 2;
        }
        char *nb = realloc(dec->buf, ncap);
        if (nb == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        dec->buf = nb;
        dec->cap = ncap;
    }
    memcpy(dec->buf + dec->len, p, n);
    dec->len += n;
    return 0;
}

int kube_watch_decoder_feed(kube_watch_decoder *dec, const char *buf, size_t len, kube_watch_fn fn,
                            void *userdata, char *err, size_t errlen)
{
    char dummy[8];
    if (err == NULL) {
        err = dummy;
        errlen = sizeof dummy;
    }
    while (len > 0) {
        const char *nl = memchr(buf, '\n', len);
        if (nl == NULL) {
            return pending_add(dec, buf, len, err, errlen);
        }
        size_t n = (size_t)(nl - buf);
        int rc;
        if (dec->len == 0) {
            if (n > dec->max_line) {
                snprintf(err, errlen, "event longer than %zu bytes", dec->max_line);
                return -1;
            }
            rc = deliver(buf, n, fn, userdata, err, errlen);
        } else {
            if (pending_add(dec, buf, n, err, errlen) != 0) {
                return -1;
            }
            rc = deliver(dec->buf, dec->len, fn, userdata, err, errlen);
            dec->len = 0;
        }
        buf = nl + 1;
        len -= n + 1;
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* ---- reflector ---- */

struct kube_reflector {
    kube_client *kc;
    char *api_version;
    char *kind;
    char *ns;
    char *label_selector;
    char *field_selector;
    kube_reflector_options opts;
    kube_reflector_handlers h;
    void *ud;
    pthread_mutex_t mu; /* store, rv, synced, stats */
    json_t *store;
    char rv[128];
    int synced;
    kube_reflector_stats stats;
    volatile int stop;
    pthread_mutex_t stop_mu;
    pthread_cond_t stop_cv;
    /* per-watch state, run() thread only */
    int need_relist;
    int watch_error;
    long watch_events;
};

static char *dup_or_null(const char *s, int *oom)
{
    if (s == NULL) {
        return NULL;
    }
    char *d = strdup(s);
    if (d == NULL) {
        *oom = 1;
    }
    return d;
}

kube_reflector *kube_reflector_new(kube_client *kc, const char *api_version, const char *kind,
                                   const char *ns, const kube_reflector_options *opts,
                                   const kube_reflector_handlers *handlers, void *userdata)
{
    kube_reflector *r = calloc(1, sizeof *r);
    if (r == NULL) {
        return NULL;
    }
    int oom = 0;
    r->kc = kc;
    if (opts != NULL) {
        r->opts = *opts;
    }
    r->api_version = dup_or_null(api_version, &oom);
    r->kind = dup_or_null(kind, &oom);
    r->ns = dup_or_null(ns, &oom);
    r->label_selector = dup_or_null(r->opts.label_selector, &oom);
    r->field_selector = dup_or_null(r->opts.field_selector, &oom);
    r->opts.label_selector = r->label_selector;
    r->opts.field_selector = r->field_selector;
    if (r->opts.watch_timeout_seconds <= 0) {
        r->opts.watch_timeout_seconds = 300;
    }
    if (r->opts.backoff_base_ms <= 0) {
        r->opts.backoff_base_ms = 200;
    }
    if (r->opts.backoff_max_ms <= 0) {
        r->opts.backoff_max_ms = 30000;
    }
    if (handlers != NULL) {
        r->h = *handlers;
    }
    r->ud = userdata;
    r->store = json_object();
    if (oom || r->store == NULL || api_version == NULL || kind == NULL) {
        r->kc = NULL;
        json_decref(r->store);
        free(r->api_version);
        free(r->kind);
        free(r->ns);
        free(r->label_selector);
        free(r->field_selector);
        free(r);
        return NULL;
    }
    pthread_mutex_init(&r->mu, NULL);
    pthread_mutex_init(&r->stop_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->stop_cv, &ca);
    pthread_condattr_destroy(&ca);
    return r;
}

void kube_reflector_free(kube_reflector *r)
{
    if (r == NULL) {
        return;
    }
    json_decref(r->store);
    free(r->api_version);
    free(r->kind);
    free(r->ns);
    free(r->label_selector);
    free(r->field_selector);
    pthread_mutex_destroy(&r->mu);
    pthread_mutex_destroy(&r->stop_mu);
    pthread_cond_destroy(&r->stop_cv);
    free(r);
}

static int stopping(const kube_reflector *r)
{
    return __atomic_load_n(&r->stop, __ATOMIC_SEQ_CST) != 0;
}

void kube_reflector_stop(kube_reflector *r)
{
    pthread_mutex_lock(&r->stop_mu);
    __atomic_store_n(&r->stop, 1, __ATOMIC_SEQ_CST);
    pthread_cond_broadcast(&r->stop_cv);
    pthread_mutex_unlock(&r->stop_mu);
}

/* Sleeps up to ms, returning early when stopped. */
static void wait_or_stop(kube_reflector *r, long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&r->stop_mu);
    while (!stopping(r)) {
        if (pthread_cond_timedwait(&r->stop_cv, &r->stop_mu, &ts) == ETIMEDOUT) {
            break;
        }
    }
    pthread_mutex_unlock(&r->stop_mu);
}

static const char *meta_str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(json_object_get(obj, "metadata"), key));
    return s != NULL ? s : "";
}

static char *store_key(const json_t *obj)
{
    return str_printf("%s/%s", meta_str(obj, "namespace"), meta_str(obj, "name"));
}

static void set_rv(kube_reflector *r, const char *rv)
{
    if (rv != NULL && rv[0] != '\0') {
        pthread_mutex_lock(&r->mu);
        snprintf(r->rv, sizeof r->rv, "%s", rv);
        pthread_mutex_unlock(&r->mu);
    }
}

/*
 * Applies one ADDED/MODIFIED/DELETED to the store, then calls the handler.
 * Returns -1 on OOM.
 */
static int apply_event(kube_reflector *r, kube_watch_type t, json_t *obj)
{
    if (r->opts.transform != NULL) {
        r->opts.transform(obj, r->ud);
    }
    char *key = store_key(obj);
    if (key == NULL) {
        return -1;
    }
    const char *rv = meta_str(obj, "resourceVersion");
    pthread_mutex_lock(&r->mu);
    json_t *old = json_incref(json_object_get(r->store, key));
    int rc = 0;
    int call = 0; /* 1 add, 2 update, 3 delete */
    if (t == KUBE_WATCH_DELETED) {
        if (old != NULL) {
            json_object_del(r->store, key);
            call = 3;
        }
    } else if (old == NULL || strcmp(meta_str(old, "resourceVersion"), rv) != 0) {
        rc = json_object_set(r->store, key, obj);
        call = rc == 0 ? (old == NULL ? 1 : 2) : 0;
    }
    if (rv[0] != '\0') {
        snprintf(r->rv, sizeof r->rv, "%s", rv);
    }
    pthread_mutex_unlock(&r->mu);
    free(key);
    if (call == 1 && r->h.on_add != NULL) {
        r->h.on_add(obj, r->ud);
    } else if (call == 2 && r->h.on_update != NULL) {
        r->h.on_update(old, obj, r->ud);
    } else if (call == 3 && r->h.on_delete != NULL) {
        r->h.on_delete(old, r->ud);
    }
    json_decref(old);
    return rc;
}

/* Replaces the store with a fresh list, calling handlers for the differences. */
static int apply_list(kube_reflector *r, json_t *items)
{
    json_t *fresh = json_object();
    if (fresh == NULL) {
        return -1;
    }
    size_t i;
    json_t *obj;
    json_array_foreach(items, i, obj)
    {
        if (r->opts.transform != NULL) {
            r->opts.transform(obj, r->ud);
        }
        char *key = store_key(obj);
        if (key == NULL || json_object_set(fresh, key, obj) != 0) {
            free(key);
            json_decref(fresh);
            return -1;
        }
        free(key);
    }
    pthread_mutex_lock(&r->mu);
    json_t *old_store = r->store;
    r->store = fresh;
    pthread_mutex_unlock(&r->mu);
    const char *key;
    json_t *nobj;
    json_object_foreach(fresh, key, nobj)
    {
        json_t *old = json_object_get(old_store, key);
        if (old == NULL) {
            if (r->h.on_add != NULL) {
                r->h.on_add(nobj, r->ud);
            }
        } else if (strcmp(meta_str(old, "resourceVersion"), meta_str(nobj, "resourceVersion")) !=
                   0) {
            if (r->h.on_update != NULL) {
                r->h.on_update(old, nobj, r->ud);
            }
        }
    }
    json_t *oobj;
    json_object_foreach(old_store, key, oobj)
    {
        if (json_object_get(fresh, key) == NULL && r->h.on_delete != NULL) {
            r->h.on_delete(oobj, r->ud);
        }
    }
    json_decref(old_store);
    return 0;
}

static int on_watch_event(kube_watch_type t, json_t *obj, void *ud)
{
    kube_reflector *r = ud;
    switch (t) {
    case KUBE_WATCH_ADDED:
    case KUBE_WATCH_MODIFIED:
    case KUBE_WATCH_DELETED:
        pthread_mutex_lock(&r->mu);
        r->stats.events++;
        pthread_mutex_unlock(&r->mu);
        r->watch_events++;
        if (apply_event(r, t, obj) != 0) {
            r->watch_error = 1;
            return 1;
        }
        return 0;
    case KUBE_WATCH_BOOKMARK:
        pthread_mutex_lock(&r->mu);
        r->stats.bookmarks++;
        pthread_mutex_unlock(&r->mu);
        set_rv(r, meta_str(obj, "resourceVersion"));
        return 0;
    case KUBE_WATCH_ERROR:
        if (json_integer_value(json_object_get(obj, "code")) == 410) {
            r->need_relist = 1;
        } else {
            r->watch_error = 1;
        }
        return 1;
    }
    return 1;
}

static int do_list(kube_reflector *r)
{
    kube_list_options lo = {r->label_selector, r->field_selector, r->opts.list_limit};
    json_t *list = NULL;
    kube_error err;
    if (kube_list(r->kc, r->api_version, r->kind, r->ns, &lo, &list, &err) != 0) {
        return -1;
    }
    int rc = apply_list(r, json_object_get(list, "items"));
    if (rc == 0) {
        pthread_mutex_lock(&r->mu);
        snprintf(r->rv, sizeof r->rv, "%s", meta_str(list, "resourceVersion"));
        r->synced = 1;
        r->stats.lists++;
        pthread_mutex_unlock(&r->mu);
        if (r->h.on_synced != NULL) {
            r->h.on_synced(r->ud);
        }
    }
    json_decref(list);
    return rc;
}

static void count_error(kube_reflector *r)
{
    pthread_mutex_lock(&r->mu);
    r->stats.errors++;
    pthread_mutex_unlock(&r->mu);
}

static long next_backoff(const kube_reflector *r, long cur)
{
    long n = cur == 0 ? r->opts.backoff_base_ms : cur * 2;
    return n > r->opts.backoff_max_ms ? r->opts.backoff_max_ms : n;
}

int kube_reflector_run(kube_reflector *r)
{
    long backoff = 0;
    r->need_relist = 1;
    while (!stopping(r)) {
        if (r->need_relist) {
            if (do_list(r) != 0) {
                count_error(r);
                backoff = next_backoff(r, backoff);
                wait_or_stop(r, backoff);
                continue;
            }
            r->need_relist = 0;
        }
        char rv[128];
        kube_reflector_resource_version(r, rv, sizeof rv);
        kube_watch_options wo = {
            r->label_selector, r->field_selector, rv, 1, r->opts.watch_timeout_seconds, &r->stop};
        r->watch_error = 0;
        r->watch_events = 0;
        pthread_mutex_lock(&r->mu);
        r->stats.watches++;
        pthread_mutex_unlock(&r->mu);
        kube_error err;
        int64_t started = objsrc_now_ms();
        int rc = kube_watch(r->kc, r->api_version, r->kind, r->ns, &wo, on_watch_event, r, &err);
        if (stopping(r)) {
            break;
        }
        if (r->need_relist || (rc != 0 && err.http_code == 410)) {
            r->need_relist = 1;
            pthread_mutex_lock(&r->mu);
            r->stats.relists_410++;
            pthread_mutex_unlock(&r->mu);
            backoff = 0;
            continue;
        }
        if (rc != 0 || r->watch_error) {
            count_error(r);
            backoff = next_backoff(r, backoff);
            wait_or_stop(r, backoff);
            continue;
        }
        /* The stream ended (server timeout or a dropped connection): resume at once
         * when it made progress, else back off so a broken server is not hammered. */
        if (r->watch_events > 0 || objsrc_now_ms() - started > 1000) {
            backoff = 0;
        } else {
            backoff = next_backoff(r, backoff);
            wait_or_stop(r, backoff);
        }
    }
    return 0;
}

int kube_reflector_synced(kube_reflector *r)
{
    pthread_mutex_lock(&r->mu);
    int s = r->synced;
    pthread_mutex_unlock(&r->mu);
    return s;
}

json_t *kube_reflector_get(kube_reflector *r, const char *ns, const char *name)
{
    char *key = str_printf("%s/%s", ns != NULL ? ns : "", name);
    if (key == NULL) {
        return NULL;
    }
    pthread_mutex_lock(&r->mu);
    json_t *obj = json_deep_copy(json_object_get(r->store, key));
    pthread_mutex_unlock(&r->mu);
    free(key);
    return obj;
}

json_t *kube_reflector_get_shared(kube_reflector *r, const char *ns, const char *name)
{
    char *key = str_printf("%s/%s", ns != NULL ? ns : "", name);
    if (key == NULL) {
        return NULL;
    }
    pthread_mutex_lock(&r->mu);
    json_t *obj = json_incref(json_object_get(r->store, key));
    pthread_mutex_unlock(&r->mu);
    free(key);
    return obj;
}

static int compare_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *kube_reflector_list(kube_reflector *r)
{
    json_t *out = json_array();
    if (out == NULL) {
        return NULL;
    }
    pthread_mutex_lock(&r->mu);
    size_t n = json_object_size(r->store);
    const char **keys = calloc(n ? n : 1, sizeof(const char *));
    if (keys == NULL) {
        pthread_mutex_unlock(&r->mu);
        json_decref(out);
        return NULL;
    }
    size_t i = 0;
    const char *key;
    json_t *obj;
    json_object_foreach(r->store, key, obj)
    {
        keys[i++] = key;
    }
    qsort(keys, n, sizeof keys[0], compare_keys);
    int oom = 0;
    for (i = 0; i < n && !oom; i++) {
        oom = json_array_append_new(out, json_deep_copy(json_object_get(r->store, keys[i]))) != 0;
    }
    pthread_mutex_unlock(&r->mu);
    free(keys);
    if (oom) {
        json_decref(out);
        return NULL;
    }
    return out;
}

void kube_reflector_resource_version(kube_reflector *r, char *buf, size_t len)
{
    pthread_mutex_lock(&r->mu);
    snprintf(buf, len, "%s", r->rv);
    pthread_mutex_unlock(&r->mu);
}

void kube_reflector_get_stats(kube_reflector *r, kube_reflector_stats *out)
{
    pthread_mutex_lock(&r->mu);
    *out = r->stats;
    pthread_mutex_unlock(&r->mu);
}
