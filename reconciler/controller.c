/*
 * controller: the reconcile loop's moving parts (see controller.h): one
 * reflector thread per cached kind, a metadata-only Secret watch, the leader
 * elector, the workers and the resync timer. What one reconcile does lives in
 * sync.c.
 */
#include "reconciler/controller.h"

#include "common/log.h"
#include "reconciler/apply.h"
#include "reconciler/controller_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MANAGED_SELECTOR "app.kubernetes.io/managed-by=aigw"

/*
 * The generated kinds are watched whole, not only aigw's objects: an object
 * of the same name that aigw does not own must be seen (NameConflict) without
 * a read per apply. Secrets are the exception (see secret_main).
 */
const watch_def controller_watches[W_COUNT] = {
    [W_ROUTING] = {"aigateway.kagenti.dev/v1alpha1", "AIRoutingPolicy", NULL, false, false},
    [W_ACCESS] = {"aigateway.kagenti.dev/v1alpha1", "AIAccessPolicy", NULL, false, false},
    [W_GATEWAY] = {"gateway.networking.k8s.io/v1", "Gateway", NULL, false, false},
    [W_SERVICE] = {"v1", "Service", NULL, false, false},
    /* generated (A-gateway-ca) but also read: the trust bundle */
    [W_CONFIGMAP] = {"v1", "ConfigMap", NULL, true, false},
    [W_BACKEND] = {"gateway.envoyproxy.io/v1alpha1", "Backend", NULL, true, true},
    [W_AISB] = {"aigateway.envoyproxy.io/v1beta1", "AIServiceBackend", NULL, true, true},
    [W_BSP] = {"aigateway.envoyproxy.io/v1beta1", "BackendSecurityPolicy", NULL, true, true},
    [W_ROUTE] = {"aigateway.envoyproxy.io/v1beta1", "AIGatewayRoute", NULL, true, true},
    [W_BTP] = {"gateway.envoyproxy.io/v1alpha1", "BackendTrafficPolicy", NULL, true, true},
    [W_CTP] = {"gateway.envoyproxy.io/v1alpha1", "ClientTrafficPolicy", NULL, true, true},
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- events */

static void enqueue_keys(controller *c, json_t *keys)
{
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        wq_add(c->q, json_string_value(k));
    }
    json_decref(keys);
}

static void enqueue_all(controller *c)
{
    json_t *keys = ref_index_all_keys(c->refs);
    if (keys) {
        enqueue_keys(c, keys);
    }
}

/* A resync: every policy not already queued, in flight or backing off. */
static void enqueue_all_idle(controller *c)
{
    json_t *keys = ref_index_all_keys(c->refs);
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        wq_add_idle(c->q, json_string_value(k));
    }
    json_decref(keys);
}

static bool same_json(const json_t *a, const json_t *b)
{
    if (!a || !b) {
        return a == b;
    }
    return json_equal(a, b) != 0;
}

/* A policy update that changed only status (e.g. our own status write) needs no reconcile. */
static bool policy_spec_unchanged(const json_t *old_obj, const json_t *new_obj)
{
    const json_t *om = json_object_get(old_obj, "metadata");
    const json_t *nm = json_object_get(new_obj, "metadata");
    static const char *const fields[] = {"generation", "deletionTimestamp", "finalizers", "uid"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (!same_json(json_object_get(om, fields[i]), json_object_get(nm, fields[i]))) {
            return false;
        }
    }
    return same_json(json_object_get(old_obj, "spec"), json_object_get(new_obj, "spec"));
}

/* ------------------------------------------------------- write echoes */

static char *echo_key(const json_t *obj)
{
    const json_t *meta = json_object_get(obj, "metadata");
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    const char *ns = json_string_value(json_object_get(meta, "namespace"));
    const char *name = json_string_value(json_object_get(meta, "name"));
    char *key = NULL;
    if (!kind || !name || asprintf(&key, "%s/%s/%s", kind, ns ? ns : "", name) < 0) {
        return NULL;
    }
    return key;
}

/* "uid/hash": the controller owner's uid and the content-hash annotation, or NULL. */
static char *echo_value(const json_t *obj)
{
    const char *uid = json_string_value(json_object_get(apply_controller_ref(obj), "uid"));
    const char *hash = json_string_value(json_object_get(
        json_object_get(json_object_get(obj, "metadata"), "annotations"), APPLY_HASH_ANNOTATION));
    char *v = NULL;
    if (!uid || !hash || asprintf(&v, "%s/%s", uid, hash) < 0) {
        return NULL;
    }
    return v;
}

void controller_note_write(controller *c, const json_t *stamped)
{
    char *key = echo_key(stamped);
    char *val = key ? echo_value(stamped) : NULL;
    if (val) {
        pthread_mutex_lock(&c->echo_mu);
        json_object_set_new(c->echo, key, json_string(val));
        pthread_mutex_unlock(&c->echo_mu);
    }
    free(key);
    free(val);
}

/*
 * True when `obj` (a watch event) holds what aigw last applied to it: the
 * same controller owner and content hash, so its policy's reconcile would
 * find nothing to do. A deletion is never one, and forgets the entry.
 */
static bool is_echo(controller *c, const json_t *obj, bool deleted)
{
    char *key = echo_key(obj);
    if (!key) {
        return false;
    }
    char *have = deleted ? NULL : echo_value(obj);
    bool echo = false;
    pthread_mutex_lock(&c->echo_mu);
    if (deleted) {
        json_object_del(c->echo, key);
    } else {
        const char *want = json_string_value(json_object_get(c->echo, key));
        echo = want && have && strcmp(want, have) == 0;
    }
    pthread_mutex_unlock(&c->echo_mu);
    free(key);
    free(have);
    return echo;
}

/* Queues the clean-up of the objects a deleted policy (by uid) left behind. */
static void enqueue_orphans(controller *c, const char *ns, const char *uid)
{
    char *key = NULL;
    if (ns && uid && asprintf(&key, "%s/%s/%s", SYNC_ORPHANS_KIND, ns, uid) >= 0) {
        wq_add(c->q, key);
        free(key);
    }
}

/*
 * A generated object whose controller policy is not (or no longer) in the
 * cache was written for a policy that is gone (a reconcile racing the
 * deletion): queue its clean-up. A policy still syncing its cache is checked
 * again by the clean-up itself.
 */
static void check_owner_alive(controller *c, const json_t *obj)
{
    const json_t *ref = apply_controller_ref(obj);
    const char *kind = json_string_value(json_object_get(ref, "kind"));
    const char *name = json_string_value(json_object_get(ref, "name"));
    const char *uid = json_string_value(json_object_get(ref, "uid"));
    const char *ns =
        json_string_value(json_object_get(json_object_get(obj, "metadata"), "namespace"));
    if (!kind || !name || !uid || !ns) {
        return;
    }
    watch_id pw;
    if (strcmp(kind, KIND_ROUTING) == 0) {
        pw = W_ROUTING;
    } else if (strcmp(kind, KIND_ACCESS) == 0) {
        pw = W_ACCESS;
    } else {
        return;
    }
    json_t *policy = kube_reflector_get_shared(c->refl[pw], ns, name);
    const char *puid =
        json_string_value(json_object_get(json_object_get(policy, "metadata"), "uid"));
    if (kube_reflector_synced(c->refl[pw]) && (!puid || strcmp(puid, uid) != 0)) {
        enqueue_orphans(c, ns, uid);
    }
    json_decref(policy);
}

static void on_object(controller *c, watch_id id, const json_t *obj, bool deleted)
{
    const watch_def *w = &controller_watches[id];
    if (w->generated) {
        if (deleted) {
            owned_index_remove(c->owned, obj);
        } else {
            owned_index_put(c->owned, obj);
            check_owner_alive(c, obj);
        }
        if (is_echo(c, obj, deleted)) {
            return; /* our own write coming back: nothing new for its policy */
        }
    }
    json_t *keys = ref_index_keys_for(c->refs, obj);
    if (id == W_ROUTING || id == W_ACCESS) {
        if (deleted) {
            const json_t *meta = json_object_get(obj, "metadata");
            char *key = NULL;
            if (asprintf(&key, "%s/%s/%s", w->kind,
                         json_string_value(json_object_get(meta, "namespace")),
                         json_string_value(json_object_get(meta, "name"))) >= 0) {
                ref_index_remove(c->refs, key);
                free(key);
            }
            enqueue_orphans(c, json_string_value(json_object_get(meta, "namespace")),
                            json_string_value(json_object_get(meta, "uid")));
        } else if (ref_index_put(c->refs, obj) != 0) {
            log_warn("reconcile: cannot index policy", "kind", w->kind, (char *)NULL);
        }
    }
    if (keys) {
        enqueue_keys(c, keys);
    }
}

static void h_add(const json_t *obj, void *ud)
{
    watch_ctx *wc = ud;
    on_object(wc->c, wc->id, obj, false);
}

static void h_update(const json_t *old_obj, const json_t *new_obj, void *ud)
{
    watch_ctx *wc = ud;
    if ((wc->id == W_ROUTING || wc->id == W_ACCESS) && policy_spec_unchanged(old_obj, new_obj)) {
        ref_index_put(wc->c->refs, new_obj);
        return;
    }
    on_object(wc->c, wc->id, new_obj, false);
}

static void h_delete(const json_t *obj, void *ud)
{
    watch_ctx *wc = ud;
    on_object(wc->c, wc->id, obj, true);
}

/*
 * What the cache keeps of an object. managedFields is never read; of most
 * generated kinds only metadata is (ownership, the content-hash annotation,
 * the owner for the event's policy key), so their spec is not kept either: the
 * cached copy of 1,000 policies' generated objects is then a few MB, not
 * hundreds.
 */
static void trim_cached(json_t *obj, void *ud)
{
    const watch_ctx *wc = ud;
    json_object_del(json_object_get(obj, "metadata"), "managedFields");
    if (!controller_watches[wc->id].metadata_only) {
        return;
    }
    const char *k;
    void *tmp;
    json_t *v;
    json_object_foreach_safe(obj, tmp, k, v)
    {
        if (strcmp(k, "apiVersion") != 0 && strcmp(k, "kind") != 0 && strcmp(k, "metadata") != 0) {
            json_object_del(obj, k);
        }
    }
}

static void h_synced(void *ud)
{
    watch_ctx *wc = ud;
    log_debug("reconcile: cache synced", "kind", controller_watches[wc->id].kind, (char *)NULL);
}

static void *reflector_main(void *arg)
{
    kube_reflector_run((kube_reflector *)arg);
    return NULL;
}

/* ------------------------------------------------ Secrets (metadata only) */

static bool is_managed(const json_t *obj)
{
    const char *v = json_string_value(
        json_object_get(json_object_get(json_object_get(obj, "metadata"), "labels"),
                        "app.kubernetes.io/managed-by"));
    return v && strcmp(v, "aigw") == 0;
}

typedef struct {
    controller *c;
    char rv[64];
} secret_watch_state;

static void remember_rv(secret_watch_state *st, const json_t *obj)
{
    const char *rv =
        json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
    if (rv) {
        snprintf(st->rv, sizeof st->rv, "%s", rv);
    }
}

static int secret_event(kube_watch_type type, json_t *obj, void *ud)
{
    secret_watch_state *st = ud;
    controller *c = st->c;
    remember_rv(st, obj);
    if (type == KUBE_WATCH_BOOKMARK || type == KUBE_WATCH_ERROR) {
        return 0;
    }
    /* only metadata is looked at; the data is never kept */
    if (type == KUBE_WATCH_DELETED || !is_managed(obj)) {
        owned_index_remove(c->owned, obj);
    }
    if (type != KUBE_WATCH_DELETED && is_managed(obj)) {
        owned_index_put(c->owned, obj);
        check_owner_alive(c, obj);
    }
    if (is_echo(c, obj, type == KUBE_WATCH_DELETED)) {
        return 0; /* our own write coming back */
    }
    json_t *keys = ref_index_keys_for(c->refs, obj);
    if (keys) {
        enqueue_keys(c, keys);
    }
    return 0;
}

static int secret_relist(controller *c, secret_watch_state *st)
{
    kube_list_options lo = {.label_selector = MANAGED_SELECTOR};
    json_t *list = NULL;
    kube_error ke;
    if (kube_list(c->kc, "v1", "Secret", NULL, &lo, &list, &ke) != 0) {
        char buf[640];
        log_warn("reconcile: listing Secrets failed", "error",
                 kube_error_format(&ke, buf, sizeof buf), (char *)NULL);
        return -1;
    }
    owned_index_clear_kind(c->owned, "Secret");
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(list, "items"), i, s)
    {
        owned_index_put(c->owned, s);
    }
    const char *rv =
        json_string_value(json_object_get(json_object_get(list, "metadata"), "resourceVersion"));
    snprintf(st->rv, sizeof st->rv, "%s", rv ? rv : "");
    json_decref(list);
    return 0;
}

static void sleep_unless_stopping(controller *c, int64_t ms)
{
    pthread_mutex_lock(&c->mu);
    int64_t wake = mono_ms() + ms;
    struct timespec ts = {(time_t)(wake / 1000), (long)((wake % 1000) * 1000000)};
    while (!c->stopping && mono_ms() < wake) {
        pthread_cond_timedwait(&c->cv, &c->mu, &ts);
    }
    pthread_mutex_unlock(&c->mu);
}

static bool stopping(controller *c)
{
    pthread_mutex_lock(&c->mu);
    bool s = c->stopping;
    pthread_mutex_unlock(&c->mu);
    return s;
}

static void *secret_main(void *arg)
{
    controller *c = arg;
    secret_watch_state st = {.c = c};
    int64_t backoff = 200;
    bool need_list = true;
    while (!stopping(c)) {
        if (need_list) {
            if (secret_relist(c, &st) != 0) {
                sleep_unless_stopping(c, backoff);
                backoff = backoff < 30000 ? backoff * 2 : 30000;
                continue;
            }
            if (c->secret_synced) {
                enqueue_all(c); /* events may have been missed */
            }
            c->secret_synced = 1;
            need_list = false;
        }
        kube_watch_options wo = {.resource_version = st.rv,
                                 .allow_bookmarks = 1,
                                 .timeout_seconds = 300,
                                 .stop = &c->secret_stop};
        kube_error ke;
        if (kube_watch(c->kc, "v1", "Secret", NULL, &wo, secret_event, &st, &ke) != 0) {
            if (ke.http_code == 410) {
                need_list = true;
                continue;
            }
            char buf[640];
            log_debug("reconcile: Secret watch failed", "error",
                      kube_error_format(&ke, buf, sizeof buf), (char *)NULL);
            sleep_unless_stopping(c, backoff);
            backoff = backoff < 30000 ? backoff * 2 : 30000;
            continue;
        }
        backoff = 200;
    }
    return NULL;
}

/* ---------------------------------------------------------------- leader */

static int lease_get(void *ctx, const char *ns, const char *name, json_t **out, char *err,
                     size_t errlen)
{
    controller *c = ctx;
    kube_error ke;
    if (kube_get(c->kc, "coordination.k8s.io/v1", "Lease", ns, name, out, &ke) == 0) {
        return 0;
    }
    if (ke.http_code == 404) {
        return 1;
    }
    kube_error_format(&ke, err, errlen);
    return -1;
}

static int lease_create(void *ctx, const char *ns, const json_t *lease, char *err, size_t errlen)
{
    (void)ns;
    controller *c = ctx;
    kube_error ke;
    json_t *out = NULL;
    if (kube_create(c->kc, lease, &out, &ke) == 0) {
        json_decref(out);
        return 0;
    }
    kube_error_format(&ke, err, errlen);
    return ke.http_code == 409 ? 1 : -1;
}

static int lease_update(void *ctx, const char *ns, const char *name, const json_t *lease, char *err,
                        size_t errlen)
{
    (void)ns;
    (void)name;
    controller *c = ctx;
    kube_error ke;
    json_t *out = NULL;
    if (kube_update(c->kc, lease, &out, &ke) == 0) {
        json_decref(out);
        return 0;
    }
    kube_error_format(&ke, err, errlen);
    return ke.http_code == 409 ? 1 : -1;
}

static void on_leader_change(void *ctx, bool leading)
{
    controller *c = ctx;
    metric_set(c->m_leader, NULL, leading ? 1.0 : 0.0);
    if (leading) {
        enqueue_all(c);
    }
}

/* --------------------------------------------------------------- workers */

static const char *key_kind(const char *key)
{
    if (strncmp(key, SYNC_ORPHANS_KIND "/", strlen(SYNC_ORPHANS_KIND) + 1) == 0) {
        return SYNC_ORPHANS_KIND;
    }
    return strncmp(key, KIND_ACCESS "/", strlen(KIND_ACCESS) + 1) == 0 ? KIND_ACCESS : KIND_ROUTING;
}
static void *worker_main(void *arg)
{
    controller *c = arg;
    for (;;) {
        char *key = NULL;
        wq_status st = wq_get(c->q, -1, &key);
        if (st == WQ_SHUTDOWN) {
            return NULL;
        }
        if (st != WQ_OK) {
            sleep_unless_stopping(c, 10);
            continue;
        }
        if (!leader_is_leader(c->le)) {
            /* the new leader does a full pass; nothing to keep */
            wq_forget(c->q, key);
            wq_done(c->q, key);
            free(key);
            continue;
        }
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        sync_result r = sync_policy(c, key);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        const char *kind = key_kind(key);
        const char *lv[] = {kind, sync_result_name(r)};
        metric_inc(c->m_reconcile_total, lv);
        const char *dv[] = {kind};
        metric_observe(c->m_reconcile_duration, dv, secs);
        if (r == SYNC_RETRY && !stopping(c)) {
            wq_add_backoff(c->q, key);
        } else {
            wq_forget(c->q, key);
        }
        wq_done(c->q, key);
        free(key);
    }
}

/* True while the queue has ready or in-flight keys (delayed retries do not count). */
static bool queue_busy(controller *c)
{
    return wq_len(c->q) > 0 || wq_processing_len(c->q) > 0;
}

/*
 * Every period, a pass over every policy. A pass does not start while the
 * previous work (the initial pass after gaining the lease, a burst of events)
 * is unfinished: it waits for the queue to drain, at most one more period, and
 * then skips the keys still queued or in flight, so a long convergence is not
 * doubled by a resync piled on top of it.
 */
static void *resync_main(void *arg)
{
    controller *c = arg;
    while (!stopping(c)) {
        sleep_unless_stopping(c, c->resync_ms);
        for (int64_t waited = 0; waited < c->resync_ms && !stopping(c) && queue_busy(c);
             waited += 50) {
            sleep_unless_stopping(c, 50);
        }
        if (!stopping(c) && leader_is_leader(c->le)) {
            log_debug("reconcile: resync", (char *)NULL);
            enqueue_all_idle(c);
        }
    }
    return NULL;
}

/* ------------------------------------------------------------- lifecycle */

static char *dup_str(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void register_metrics(controller *c)
{
    if (!c->metrics) {
        return;
    }
    const char *rl[] = {"kind", "result"};
    const char *dl[] = {"kind"};
    c->m_reconcile_total = metrics_counter(c->metrics, "aigw_reconcile_total",
                                           "Policy reconciles by kind and result.", rl, 2);
    c->m_reconcile_duration = metrics_histogram(
        c->metrics, "aigw_reconcile_duration_seconds", "Duration of one policy reconcile.", dl, 1,
        metrics_latency_buckets, metrics_latency_buckets_len);
    c->m_leader = metrics_gauge(c->metrics, "aigw_leader",
                                "1 when this replica holds the reconciler Lease.", NULL, 0);
}

controller *controller_new(const controller_config *cfg, char *err, size_t errlen)
{
    if (!cfg->kc || !cfg->identity || !*cfg->identity) {
        snprintf(err, errlen, "controller: a kube client and an identity are required");
        return NULL;
    }
    controller *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->kc = cfg->kc;
    c->metrics = cfg->metrics;
    c->resync_ms = cfg->resync_ms > 0 ? cfg->resync_ms : CONTROLLER_DEFAULT_RESYNC_MS;
    c->helper_health_port = cfg->helper_health_port;
    c->nworkers = cfg->workers > 0 ? cfg->workers : 2;
    c->lease_ns = dup_str(cfg->lease_ns ? cfg->lease_ns : kube_client_namespace(cfg->kc));
    c->lease_name = dup_str(cfg->lease_name ? cfg->lease_name : CONTROLLER_DEFAULT_LEASE_NAME);
    c->identity = dup_str(cfg->identity);
    c->q = wq_new(WQ_BACKOFF_BASE_MS, WQ_BACKOFF_MAX_MS);
    c->refs = ref_index_new();
    c->owned = owned_index_new();
    c->ev_last = json_object();
    c->echo = json_object();
    c->workers = calloc((size_t)c->nworkers, sizeof(pthread_t));
    bool locks = pthread_mutex_init(&c->mu, NULL) == 0;
    locks = locks && pthread_mutex_init(&c->ev_mu, NULL) == 0;
    locks = locks && pthread_mutex_init(&c->echo_mu, NULL) == 0;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    locks = locks && pthread_cond_init(&c->cv, &ca) == 0;
    pthread_condattr_destroy(&ca);
    if (!locks || !c->lease_ns || !c->lease_name || !c->identity || !c->q || !c->refs ||
        !c->owned || !c->ev_last || !c->echo || !c->workers) {
        snprintf(err, errlen, "out of memory");
        /* free what was made; the locks are destroyed only when all were made */
        wq_free(c->q);
        ref_index_free(c->refs);
        owned_index_free(c->owned);
        json_decref(c->ev_last);
        json_decref(c->echo);
        free(c->workers);
        free(c->lease_ns);
        free(c->lease_name);
        free(c->identity);
        free(c);
        return NULL;
    }
    register_metrics(c);
    c->lio = (leader_io){lease_get, lease_create, lease_update, c};
    leader_config lc = {.ns = c->lease_ns,
                        .name = c->lease_name,
                        .identity = c->identity,
                        .lease_ms = cfg->lease_ms,
                        .renew_deadline_ms = cfg->renew_deadline_ms,
                        .retry_ms = cfg->retry_ms,
                        .on_change = on_leader_change,
                        .ctx = c};
    c->le = leader_new(&lc, &c->lio);
    kube_reflector_handlers h = {h_add, h_update, h_delete, h_synced};
    bool ok = c->le != NULL;
    for (int i = 0; i < W_COUNT && ok; i++) {
        c->wctx[i] = (watch_ctx){c, (watch_id)i};
        kube_reflector_options ro = {.label_selector = controller_watches[i].label_selector,
                                     .transform = trim_cached};
        c->refl[i] = kube_reflector_new(c->kc, controller_watches[i].api_version,
                                        controller_watches[i].kind, NULL, &ro, &h, &c->wctx[i]);
        ok = c->refl[i] != NULL;
    }
    metric_set(c->m_leader, NULL, 0.0);
    if (!ok) {
        snprintf(err, errlen, "out of memory");
        controller_free(c);
        return NULL;
    }
    return c;
}

int controller_start(controller *c, char *err, size_t errlen)
{
    for (int i = 0; i < W_COUNT; i++) {
        if (pthread_create(&c->refl_thread[i], NULL, reflector_main, c->refl[i]) != 0) {
            snprintf(err, errlen, "cannot start a watch thread");
            return -1;
        }
        c->refl_started[i] = true;
    }
    if (pthread_create(&c->secret_thread, NULL, secret_main, c) != 0) {
        snprintf(err, errlen, "cannot start the Secret watch thread");
        return -1;
    }
    c->secret_started = true;
    for (int i = 0; i < c->nworkers; i++) {
        if (pthread_create(&c->workers[i], NULL, worker_main, c) != 0) {
            snprintf(err, errlen, "cannot start a worker thread");
            return -1;
        }
        c->workers_started++;
    }
    if (pthread_create(&c->resync_thread, NULL, resync_main, c) != 0) {
        snprintf(err, errlen, "cannot start the resync thread");
        return -1;
    }
    c->resync_started = true;
    /* lead only with warm caches: wait (bounded) for the first lists */
    for (int i = 0; i < 300 && !controller_ready(c) && !stopping(c); i++) {
        sleep_unless_stopping(c, 100);
    }
    if (leader_start(c->le) != 0) {
        snprintf(err, errlen, "cannot start leader election");
        return -1;
    }
    return 0;
}

bool controller_ready(controller *c)
{
    for (int i = 0; i < W_COUNT; i++) {
        if (!c->refl[i] || !kube_reflector_synced(c->refl[i])) {
            return false;
        }
    }
    return c->secret_synced != 0;
}

bool controller_is_leader(controller *c)
{
    return c->le && leader_is_leader(c->le);
}

void controller_stop(controller *c)
{
    pthread_mutex_lock(&c->mu);
    if (c->stopped) {
        pthread_mutex_unlock(&c->mu);
        return;
    }
    c->stopping = true;
    c->stopped = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    /* finish in-flight reconciles, then give the Lease away */
    wq_shutdown(c->q);
    for (int i = 0; i < c->workers_started; i++) {
        pthread_join(c->workers[i], NULL);
    }
    c->workers_started = 0;
    if (c->le) {
        leader_stop(c->le);
    }
    if (c->resync_started) {
        pthread_join(c->resync_thread, NULL);
        c->resync_started = false;
    }
    c->secret_stop = 1;
    for (int i = 0; i < W_COUNT; i++) {
        if (c->refl[i]) {
            kube_reflector_stop(c->refl[i]);
        }
    }
    for (int i = 0; i < W_COUNT; i++) {
        if (c->refl_started[i]) {
            pthread_join(c->refl_thread[i], NULL);
            c->refl_started[i] = false;
        }
    }
    if (c->secret_started) {
        pthread_join(c->secret_thread, NULL);
        c->secret_started = false;
    }
    metric_set(c->m_leader, NULL, 0.0);
}

void controller_free(controller *c)
{
    if (!c) {
        return;
    }
    controller_stop(c);
    for (int i = 0; i < W_COUNT; i++) {
        kube_reflector_free(c->refl[i]);
    }
    leader_free(c->le);
    wq_free(c->q);
    ref_index_free(c->refs);
    owned_index_free(c->owned);
    json_decref(c->ev_last);
    json_decref(c->echo);
    free(c->workers);
    free(c->lease_ns);
    free(c->lease_name);
    free(c->identity);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    pthread_mutex_destroy(&c->ev_mu);
    pthread_mutex_destroy(&c->echo_mu);
    free(c);
}
