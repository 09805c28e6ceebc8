/*
 * runtime: config file (load, poll, reload), the Namespace/AIAccessPolicy
 * cache and the native-sidecar decision around the pure planner (see
 * runtime.h). This is an edge module: it reads files and logs; the planner it
 * calls does neither.
 *
 * Cache layout (jansson values, so the planner borrows strings under the
 * read lock without copying):
 *   namespaces: {"<name>": {labels...}}
 *   policies:   {"<ns>": {"<policy>": {"gateway", "endpoint", "caConfigMap"}}}
 */
#include "injector/runtime.h"
#include "common/errbuf.h"

#include "common/log.h"
#include "common/yaml_json.h"

#include <openssl/sha.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define CA_SUFFIX "-gateway-ca"
#define NAME_MAX_LEN 253
#define HASH_HEX 10

struct inject_runtime {
    pthread_rwlock_t lock;
    inject_config cfg;
    char *config_path;
    struct stat config_stat; /* what the current config was loaded from */
    int native_override;     /* -1 or inject_native_mode */
    int server_native;       /* -1 unknown (offline: native), 0/1 from the API server version */

    json_t *namespaces;
    json_t *policies;
    int ns_synced, policies_synced;
    int opted_in_only; /* namespaces holds only opted-in namespaces */

    void *feed;
    void (*feed_stop)(void *feed);

    int reload_ms;
    pthread_t thread;
    int thread_started;
    pthread_mutex_t stop_mu;
    pthread_cond_t stop_cv;
    int stopping;
};

/* ---------------------------------------------------------------- config */

/* Reads and builds a config from a YAML file (empty file = defaults). */
static int load_config_file(const char *path, inject_config *cfg, char *err, size_t errlen)
{
    json_t *docs = NULL;
    char why[512];
    if (yaml_json_load_file(path, &docs, why, sizeof why) != 0) {
        errbuf_set(err, errlen, "%s", why);
        return -1;
    }
    if (json_array_size(docs) > 1) {
        json_decref(docs);
        errbuf_set(err, errlen, "%s: holds more than one YAML document", path);
        return -1;
    }
    int rc = inject_config_build(json_array_get(docs, 0), cfg, why, sizeof why);
    json_decref(docs);
    if (rc != 0) {
        errbuf_set(err, errlen, "%s: %s", path, why);
    }
    return rc;
}

static int same_file_state(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

int inject_runtime_reload_config(inject_runtime *rt)
{
    if (rt->config_path == NULL) {
        return 0;
    }
    struct stat st;
    if (stat(rt->config_path, &st) != 0) {
        pthread_rwlock_rdlock(&rt->lock);
        int had = rt->config_stat.st_ino != 0;
        pthread_rwlock_unlock(&rt->lock);
        if (had) {
            log_warn("injector config unreadable, keeping the last good one", "path",
                     rt->config_path, (char *)NULL);
        }
        pthread_rwlock_wrlock(&rt->lock);
        memset(&rt->config_stat, 0, sizeof rt->config_stat);
        pthread_rwlock_unlock(&rt->lock);
        return had ? -1 : 0;
    }
    pthread_rwlock_rdlock(&rt->lock);
    int unchanged = same_file_state(&st, &rt->config_stat);
    pthread_rwlock_unlock(&rt->lock);
    if (unchanged) {
        return 0;
    }
    inject_config next;
    char err[600];
    int rc = load_config_file(rt->config_path, &next, err, sizeof err);
    pthread_rwlock_wrlock(&rt->lock);
    rt->config_stat = st; /* a bad file is reported once, not on every poll */
    if (rc == 0) {
        inject_config_free(&rt->cfg);
        rt->cfg = next;
    }
    pthread_rwlock_unlock(&rt->lock);
    if (rc != 0) {
        log_warn("injector config rejected, keeping the last good one", "path", rt->config_path,
                 "error", err, (char *)NULL);
        return -1;
    }
    log_info("injector config loaded", "path", rt->config_path, (char *)NULL);
    return 1;
}

static void *reload_loop(void *arg)
{
    inject_runtime *rt = arg;
    pthread_mutex_lock(&rt->stop_mu);
    while (!rt->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += rt->reload_ms / 1000;
        until.tv_nsec += (long)(rt->reload_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&rt->stop_cv, &rt->stop_mu, &until);
        if (rt->stopping) {
            break;
        }
        pthread_mutex_unlock(&rt->stop_mu);
        inject_runtime_reload_config(rt);
        pthread_mutex_lock(&rt->stop_mu);
    }
    pthread_mutex_unlock(&rt->stop_mu);
    return NULL;
}

int inject_runtime_start(inject_runtime *rt)
{
    if (rt->thread_started || rt->config_path == NULL) {
        return 0;
    }
    if (pthread_create(&rt->thread, NULL, reload_loop, rt) != 0) {
        return -1;
    }
    rt->thread_started = 1;
    return 0;
}

inject_runtime *inject_runtime_new(const inject_runtime_options *opts, char *err, size_t errlen)
{
    inject_runtime *rt = calloc(1, sizeof *rt);
    if (rt == NULL) {
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    rt->native_override = opts ? opts->native_override : -1;
    rt->server_native = -1;
    rt->reload_ms = opts && opts->reload_interval_ms > 0 ? opts->reload_interval_ms : 2000;
    rt->namespaces = json_object();
    rt->policies = json_object();
    int locks = pthread_rwlock_init(&rt->lock, NULL) == 0;
    int mu = locks && pthread_mutex_init(&rt->stop_mu, NULL) == 0;
    int cv = mu && pthread_cond_init(&rt->stop_cv, NULL) == 0;
    if (!cv || rt->namespaces == NULL || rt->policies == NULL) {
        if (mu) {
            pthread_mutex_destroy(&rt->stop_mu);
        }
        if (locks) {
            pthread_rwlock_destroy(&rt->lock);
        }
        json_decref(rt->namespaces);
        json_decref(rt->policies);
        free(rt);
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    int rc;
    if (opts != NULL && opts->config_path != NULL) {
        rt->config_path = strdup(opts->config_path);
        if (rt->config_path == NULL) {
            errbuf_set(err, errlen, "out of memory");
            rc = -1;
        } else if (stat(rt->config_path, &rt->config_stat) != 0) {
            errbuf_set(err, errlen, "%s: cannot read the injector config", opts->config_path);
            rc = -1;
        } else {
            rc = load_config_file(rt->config_path, &rt->cfg, err, errlen);
        }
    } else {
        rc = inject_config_build(NULL, &rt->cfg, err, errlen);
    }
    if (rc != 0) {
        inject_runtime_free(rt);
        return NULL;
    }
    return rt;
}

void inject_runtime_free(inject_runtime *rt)
{
    if (rt == NULL) {
        return;
    }
    if (rt->feed_stop != NULL) {
        rt->feed_stop(rt->feed);
    }
    if (rt->thread_started) {
        pthread_mutex_lock(&rt->stop_mu);
        rt->stopping = 1;
        pthread_cond_signal(&rt->stop_cv);
        pthread_mutex_unlock(&rt->stop_mu);
        pthread_join(rt->thread, NULL);
    }
    pthread_cond_destroy(&rt->stop_cv);
    pthread_mutex_destroy(&rt->stop_mu);
    pthread_rwlock_destroy(&rt->lock);
    inject_config_free(&rt->cfg);
    json_decref(rt->namespaces);
    json_decref(rt->policies);
    free(rt->config_path);
    free(rt);
}

/* ---------------------------------------------------------------- native sidecars */

/* "33", "33+", "33-gke.1" -> 33; -1 when no leading digits. */
static long leading_number(const char *s)
{
    if (s == NULL || s[0] < '0' || s[0] > '9') {
        return -1;
    }
    long v = 0;
    for (; *s >= '0' && *s <= '9' && v < 100000; s++) {
        v = v * 10 + (*s - '0');
    }
    return v;
}

int inject_runtime_set_server_version(inject_runtime *rt, const json_t *version_doc)
{
    long major = leading_number(json_string_value(json_object_get(version_doc, "major")));
    long minor = leading_number(json_string_value(json_object_get(version_doc, "minor")));
    if (major < 0 || minor < 0) {
        /* Some distributions leave major/minor empty; gitVersion "v1.33.2" still says it. */
        const char *git = json_string_value(json_object_get(version_doc, "gitVersion"));
        if (git != NULL && git[0] == 'v') {
            major = leading_number(git + 1);
            const char *dot = strchr(git, '.');
            minor = dot ? leading_number(dot + 1) : -1;
        }
    }
    if (major < 0 || minor < 0) {
        return -1;
    }
    pthread_rwlock_wrlock(&rt->lock);
    rt->server_native = major > 1 || (major == 1 && minor >= 33);
    pthread_rwlock_unlock(&rt->lock);
    return 0;
}

/* Caller holds the lock. */
static int native_locked(const inject_runtime *rt)
{
    int mode = rt->native_override >= 0 ? rt->native_override : (int)rt->cfg.native;
    if (mode == INJECT_NATIVE_TRUE) {
        return 1;
    }
    if (mode == INJECT_NATIVE_FALSE) {
        return 0;
    }
    return rt->server_native != 0; /* auto: unknown (offline) means native */
}

int inject_runtime_native(inject_runtime *rt)
{
    pthread_rwlock_rdlock(&rt->lock);
    int n = native_locked(rt);
    pthread_rwlock_unlock(&rt->lock);
    return n;
}

/* ---------------------------------------------------------------- cache */

char *inject_ca_configmap_name(const char *policy)
{
    size_t len = strlen(policy) + strlen(CA_SUFFIX);
    char *full = malloc(len + 1);
    if (full == NULL) {
        return NULL;
    }
    snprintf(full, len + 1, "%s%s", policy, CA_SUFFIX);
    if (len <= NAME_MAX_LEN) {
        return full;
    }
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)full, len, md);
    size_t keep = NAME_MAX_LEN - HASH_HEX - 1;
    while (keep > 0 && (full[keep - 1] == '-' || full[keep - 1] == '.' || full[keep - 1] == '_')) {
        keep--;
    }
    static const char hex[] = "0123456789abcdef";
    full[keep++] = '-';
    for (size_t i = 0; i < HASH_HEX; i++) {
        full[keep++] = hex[i % 2 == 0 ? md[i / 2] >> 4 : md[i / 2] & 0x0f];
    }
    full[keep] = '\0';
    return full;
}

static const char *meta_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(json_object_get(obj, "metadata"), key));
}

/* {"gateway", "endpoint", "caConfigMap"} for a policy object; NULL on OOM. */
static json_t *policy_entry(const json_t *obj, const char *name)
{
    const char *gw = json_string_value(
        json_object_get(json_object_get(json_object_get(obj, "spec"), "targetRef"), "name"));
    const char *ep = json_string_value(json_object_get(json_object_get(obj, "status"), "endpoint"));
    char *ca = inject_ca_configmap_name(name);
    if (ca == NULL) {
        return NULL;
    }
    json_t *e = json_pack("{s:s?, s:s?, s:s}", "gateway", gw, "endpoint", ep, "caConfigMap", ca);
    free(ca);
    return e;
}

/* Caller holds the write lock. */
static int cache_put(inject_runtime *rt, const char *kind, const json_t *obj)
{
    const char *name = meta_str(obj, "name");
    if (name == NULL) {
        return -1;
    }
    if (strcmp(kind, "Namespace") == 0) {
        const json_t *labels = json_object_get(json_object_get(obj, "metadata"), "labels");
        json_t *copy = json_is_object(labels) ? json_deep_copy(labels) : json_object();
        return copy != NULL && json_object_set_new(rt->namespaces, name, copy) == 0 ? 0 : -1;
    }
    if (strcmp(kind, "AIAccessPolicy") == 0) {
        const char *ns = meta_str(obj, "namespace");
        if (ns == NULL || ns[0] == '\0') {
            ns = "default";
        }
        json_t *in_ns = json_object_get(rt->policies, ns);
        if (in_ns == NULL) {
            in_ns = json_object();
            if (in_ns == NULL || json_object_set_new(rt->policies, ns, in_ns) != 0) {
                return -1;
            }
        }
        json_t *e = policy_entry(obj, name);
        return e != NULL && json_object_set_new(in_ns, name, e) == 0 ? 0 : -1;
    }
    return -1;
}

/* Caller holds the write lock. */
static int cache_delete(inject_runtime *rt, const char *kind, const json_t *obj)
{
    const char *name = meta_str(obj, "name");
    if (name == NULL) {
        return -1;
    }
    if (strcmp(kind, "Namespace") == 0) {
        json_object_del(rt->namespaces, name);
        return 0;
    }
    if (strcmp(kind, "AIAccessPolicy") == 0) {
        const char *ns = meta_str(obj, "namespace");
        json_t *in_ns = json_object_get(rt->policies, ns && ns[0] ? ns : "default");
        json_object_del(in_ns, name);
        if (in_ns != NULL && json_object_size(in_ns) == 0) {
            json_object_del(rt->policies, ns && ns[0] ? ns : "default");
        }
        return 0;
    }
    return -1;
}

int inject_runtime_replace(inject_runtime *rt, const char *kind, const json_t *items)
{
    int is_ns = strcmp(kind, "Namespace") == 0;
    if (!is_ns && strcmp(kind, "AIAccessPolicy") != 0) {
        return -1;
    }
    pthread_rwlock_wrlock(&rt->lock);
    json_t *saved = is_ns ? rt->namespaces : rt->policies;
    json_t *fresh = json_object();
    int rc = fresh != NULL ? 0 : -1;
    if (is_ns) {
        rt->namespaces = fresh;
    } else {
        rt->policies = fresh;
    }
    size_t i;
    json_t *obj;
    json_array_foreach(items, i, obj)
    {
        /* A list's items carry no kind; the caller's kind is the truth. */
        if (rc == 0 && json_is_object(obj) && cache_put(rt, kind, obj) != 0) {
            rc = -1;
        }
    }
    if (rc == 0) {
        json_decref(saved);
        if (is_ns) {
            rt->ns_synced = 1;
        } else {
            rt->policies_synced = 1;
        }
    } else {
        json_decref(fresh);
        if (is_ns) {
            rt->namespaces = saved;
        } else {
            rt->policies = saved;
        }
    }
    pthread_rwlock_unlock(&rt->lock);
    return rc;
}

int inject_runtime_apply_event(inject_runtime *rt, const char *kind, const char *type,
                               const json_t *obj)
{
    if (kind == NULL) {
        kind = json_string_value(json_object_get(obj, "kind"));
    }
    if (kind == NULL || type == NULL) {
        return -1;
    }
    int rc;
    pthread_rwlock_wrlock(&rt->lock);
    if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0) {
        rc = cache_put(rt, kind, obj);
    } else if (strcmp(type, "DELETED") == 0) {
        rc = cache_delete(rt, kind, obj);
    } else {
        rc = -1;
    }
    pthread_rwlock_unlock(&rt->lock);
    return rc;
}

void inject_runtime_set_feed(inject_runtime *rt, void *feed, void (*stop)(void *feed))
{
    rt->feed = feed;
    rt->feed_stop = stop;
}

int inject_runtime_ready_cb(void *rt)
{
    return inject_runtime_ready(rt);
}

void inject_runtime_set_opted_in_only(inject_runtime *rt, int on)
{
    pthread_rwlock_wrlock(&rt->lock);
    rt->opted_in_only = on;
    pthread_rwlock_unlock(&rt->lock);
}

void inject_runtime_mark_synced(inject_runtime *rt)
{
    pthread_rwlock_wrlock(&rt->lock);
    rt->ns_synced = 1;
    rt->policies_synced = 1;
    pthread_rwlock_unlock(&rt->lock);
}

int inject_runtime_ready(inject_runtime *rt)
{
    pthread_rwlock_rdlock(&rt->lock);
    int r = rt->ns_synced && rt->policies_synced;
    pthread_rwlock_unlock(&rt->lock);
    return r;
}

static int load_kind(inject_runtime *rt, object_source *src, const char *api_version,
                     const char *kind, char *err, size_t errlen)
{
    json_t *items = NULL;
    char why[400];
    objsrc_status st =
        object_source_list(src, api_version, kind, NULL, NULL, 0, &items, why, sizeof why);
    if (st == OBJSRC_NOT_FOUND) {
        json_decref(items);
        items = json_array();
        st = items ? OBJSRC_OK : OBJSRC_ERROR;
    }
    if (st != OBJSRC_OK) {
        json_decref(items);
        errbuf_set(err, errlen, "listing %s: %s", kind, why);
        return -1;
    }
    int rc = inject_runtime_replace(rt, kind, items);
    json_decref(items);
    if (rc != 0) {
        errbuf_set(err, errlen, "caching %s: out of memory", kind);
    }
    return rc;
}

int inject_runtime_load(inject_runtime *rt, object_source *src, char *err, size_t errlen)
{
    if (load_kind(rt, src, "v1", "Namespace", err, errlen) != 0) {
        return -1;
    }
    return load_kind(rt, src, "aigateway.kagenti.dev/v1alpha1", "AIAccessPolicy", err, errlen);
}

/* ---------------------------------------------------------------- planning */

#define MAX_GATEWAYS 64

int inject_runtime_plan(inject_runtime *rt, const jv *pod, const char *ns, inject_result *out)
{
    if (ns == NULL || ns[0] == '\0') {
        ns = jv_str(jv_get(jv_get(pod, "metadata"), "namespace"));
    }
    if (ns == NULL || ns[0] == '\0') {
        ns = "default";
    }
    pthread_rwlock_rdlock(&rt->lock);
    if (!(rt->ns_synced && rt->policies_synced)) {
        pthread_rwlock_unlock(&rt->lock);
        memset(out, 0, sizeof *out);
        out->outcome = INJECT_SKIP_WARN;
        out->warnings = json_pack("[s]", "aigw: pod not injected: the injector has not synced "
                                         "its policy cache yet");
        out->skip_reason = strdup("the injector has not synced its policy cache yet");
        if (out->warnings == NULL || out->skip_reason == NULL) {
            inject_result_free(out);
            return -1;
        }
        return 0;
    }
    inject_gateway gws[MAX_GATEWAYS];
    size_t n = 0;
    const char *pname;
    json_t *e;
    json_object_foreach(json_object_get(rt->policies, ns), pname, e)
    {
        if (n == MAX_GATEWAYS) {
            break;
        }
        gws[n].policy = pname;
        gws[n].gateway = json_string_value(json_object_get(e, "gateway"));
        gws[n].endpoint = json_string_value(json_object_get(e, "endpoint"));
        gws[n].ca_configmap = json_string_value(json_object_get(e, "caConfigMap"));
        n++;
    }
    const json_t *labels = json_object_get(rt->namespaces, ns);
    inject_input in = {
        .pod = pod,
        .ns = ns,
        .ns_known = labels != NULL || rt->opted_in_only,
        .ns_labels = labels,
        .gateways = gws,
        .n_gateways = n,
        .native_sidecars = native_locked(rt),
        .cfg = &rt->cfg,
    };
    int rc = inject_plan(&in, out);
    pthread_rwlock_unlock(&rt->lock);
    return rc;
}
