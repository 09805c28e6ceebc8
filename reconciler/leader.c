/*
 * leader: Lease-based leader election (see leader.h for the protocol).
 */
#include "reconciler/leader.h"

#include "common/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct leader_elector {
    char *ns, *name, *identity;
    int64_t lease_ms, renew_deadline_ms, retry_ms;
    void (*on_change)(void *ctx, bool leading);
    void *ctx;
    leader_io io;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool started, stopping;
    bool leading;
    int64_t last_renew_ms;  /* monotonic time of our last successful write */
    char observed_rv[64];   /* resourceVersion of the record we last saw */
    int64_t observed_at_ms; /* when we first saw it */
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

leader_action leader_decide(const lease_record *rec, const char *identity, int64_t observed_at_ms,
                            int64_t now_ms, int64_t default_lease_ms)
{
    if (!rec || !rec->exists) {
        return LEADER_CREATE;
    }
    if (rec->holder[0] != '\0' && strcmp(rec->holder, identity) == 0) {
        return LEADER_RENEW;
    }
    if (rec->holder[0] == '\0') {
        return LEADER_ACQUIRE;
    }
    int64_t lease_ms =
        rec->lease_seconds > 0 ? (int64_t)rec->lease_seconds * 1000 : default_lease_ms;
    if (now_ms - observed_at_ms >= lease_ms) {
        return LEADER_ACQUIRE;
    }
    return LEADER_WAIT;
}

static void copy_str(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

int leader_lease_parse(const json_t *lease, lease_record *out)
{
    memset(out, 0, sizeof *out);
    if (!lease) {
        return 0;
    }
    if (!json_is_object(lease)) {
        return -1;
    }
    const json_t *spec = json_object_get(lease, "spec");
    const json_t *meta = json_object_get(lease, "metadata");
    out->exists = true;
    copy_str(out->holder, sizeof out->holder,
             json_string_value(json_object_get(spec, "holderIdentity")));
    out->lease_seconds = (int)json_integer_value(json_object_get(spec, "leaseDurationSeconds"));
    out->transitions = (int)json_integer_value(json_object_get(spec, "leaseTransitions"));
    copy_str(out->acquire_time, sizeof out->acquire_time,
             json_string_value(json_object_get(spec, "acquireTime")));
    copy_str(out->renew_time, sizeof out->renew_time,
             json_string_value(json_object_get(spec, "renewTime")));
    copy_str(out->resource_version, sizeof out->resource_version,
             json_string_value(json_object_get(meta, "resourceVersion")));
    return 0;
}

void leader_format_microtime(const struct timespec *ts, char *buf, size_t len)
{
    struct tm tm;
    time_t s = ts->tv_sec;
    char base[32];
    if (!gmtime_r(&s, &tm) || strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        snprintf(buf, len, "1970-01-01T00:00:00.000000Z");
        return;
    }
    snprintf(buf, len, "%s.%06ldZ", base, ts->tv_nsec / 1000);
}

json_t *leader_lease_build(const json_t *live, const char *ns, const char *name,
                           const char *identity, leader_action action, bool release,
                           int lease_seconds, const char *now_micro)
{
    json_t *lease =
        live ? json_deep_copy(live)
             : json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "coordination.k8s.io/v1", "kind",
                         "Lease", "metadata", "name", name, "namespace", ns);
    if (!lease) {
        return NULL;
    }
    json_t *meta = json_object_get(lease, "metadata");
    json_object_del(meta, "managedFields");
    json_t *spec = json_object_get(lease, "spec");
    if (!json_is_object(spec)) {
        spec = json_object();
        if (!spec || json_object_set_new(lease, "spec", spec) != 0) {
            json_decref(lease);
            return NULL;
        }
    }
    int transitions = (int)json_integer_value(json_object_get(spec, "leaseTransitions"));
    int rc = 0;
    if (release) {
        json_object_del(spec, "holderIdentity"); /* absent when it was not set */
        rc |= json_object_set_new(spec, "leaseDurationSeconds", json_integer(1));
        rc |= json_object_set_new(spec, "renewTime", json_string(now_micro));
    } else {
        if (action == LEADER_ACQUIRE) {
            transitions++;
        }
        rc |= json_object_set_new(spec, "holderIdentity", json_string(identity));
        rc |= json_object_set_new(spec, "leaseDurationSeconds", json_integer(lease_seconds));
        rc |= json_object_set_new(spec, "renewTime", json_string(now_micro));
        if (action != LEADER_RENEW || !json_object_get(spec, "acquireTime")) {
            rc |= json_object_set_new(spec, "acquireTime", json_string(now_micro));
        }
        rc |= json_object_set_new(spec, "leaseTransitions", json_integer(transitions));
    }
    if (rc != 0) {
        json_decref(lease);
        return NULL;
    }
    return lease;
}

static char *dup_or_null(const char *s, bool *fail)
{
    char *d = strdup(s ? s : "");
    if (!d) {
        *fail = true;
    }
    return d;
}

leader_elector *leader_new(const leader_config *cfg, const leader_io *io)
{
    leader_elector *le = calloc(1, sizeof *le);
    if (!le) {
        return NULL;
    }
    bool fail = false;
    le->ns = dup_or_null(cfg->ns, &fail);
    le->name = dup_or_null(cfg->name, &fail);
    le->identity = dup_or_null(cfg->identity, &fail);
    le->lease_ms = cfg->lease_ms > 0 ? cfg->lease_ms : LEADER_LEASE_MS;
    le->renew_deadline_ms =
        cfg->renew_deadline_ms > 0 ? cfg->renew_deadline_ms : LEADER_RENEW_DEADLINE_MS;
    le->retry_ms = cfg->retry_ms > 0 ? cfg->retry_ms : LEADER_RETRY_MS;
    le->on_change = cfg->on_change;
    le->ctx = cfg->ctx;
    le->io = *io;
    if (fail || pthread_mutex_init(&le->mu, NULL) != 0) {
        free(le->ns);
        free(le->name);
        free(le->identity);
        free(le);
        return NULL;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int crc = pthread_cond_init(&le->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (crc != 0) {
        pthread_mutex_destroy(&le->mu);
        free(le->ns);
        free(le->name);
        free(le->identity);
        free(le);
        return NULL;
    }
    return le;
}

static void set_leading(leader_elector *le, bool leading)
{
    pthread_mutex_lock(&le->mu);
    bool changed = le->leading != leading;
    le->leading = leading;
    pthread_mutex_unlock(&le->mu);
    if (changed) {
        log_info(leading ? "leader: acquired lease" : "leader: lost lease", "lease", le->name,
                 "identity", le->identity, (char *)NULL);
        if (le->on_change) {
            le->on_change(le->ctx, leading);
        }
    }
}

bool leader_is_leader(leader_elector *le)
{
    pthread_mutex_lock(&le->mu);
    bool l = le->leading;
    pthread_mutex_unlock(&le->mu);
    return l;
}

static void now_micro(char *buf, size_t len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    leader_format_microtime(&ts, buf, len);
}

/* Keeps leadership on an I/O error until the renew deadline passes. */
static int io_failed(leader_elector *le, int64_t now_ms, const char *what, const char *err)
{
    log_warn("leader: lease request failed", "op", what, "error", err, (char *)NULL);
    if (leader_is_leader(le) && now_ms - le->last_renew_ms > le->renew_deadline_ms) {
        set_leading(le, false);
    }
    return -1;
}

int leader_try_once(leader_elector *le, int64_t now_ms)
{
    char err[256] = "";
    json_t *live = NULL;
    int g = le->io.get(le->io.ctx, le->ns, le->name, &live, err, sizeof err);
    if (g < 0) {
        return io_failed(le, now_ms, "get", err);
    }
    lease_record rec;
    if (leader_lease_parse(g == 0 ? live : NULL, &rec) != 0) {
        json_decref(live);
        return io_failed(le, now_ms, "parse", "not a Lease");
    }
    if (strcmp(rec.resource_version, le->observed_rv) != 0) {
        copy_str(le->observed_rv, sizeof le->observed_rv, rec.resource_version);
        le->observed_at_ms = now_ms;
    }
    leader_action act = leader_decide(&rec, le->identity, le->observed_at_ms, now_ms, le->lease_ms);
    if (act == LEADER_WAIT) {
        json_decref(live);
        set_leading(le, false);
        return 0;
    }
    char ts[40];
    now_micro(ts, sizeof ts);
    json_t *want = leader_lease_build(g == 0 ? live : NULL, le->ns, le->name, le->identity, act,
                                      false, (int)(le->lease_ms / 1000), ts);
    json_decref(live);
    if (!want) {
        return io_failed(le, now_ms, "build", "out of memory");
    }
    int w = act == LEADER_CREATE
                ? le->io.create(le->io.ctx, le->ns, want, err, sizeof err)
                : le->io.update(le->io.ctx, le->ns, le->name, want, err, sizeof err);
    json_decref(want);
    if (w < 0) {
        return io_failed(le, now_ms, act == LEADER_CREATE ? "create" : "update", err);
    }
    if (w == 1) {
        /* someone else wrote first: re-read next round */
        if (act != LEADER_RENEW) {
            set_leading(le, false);
            return 0;
        }
        return io_failed(le, now_ms, "update", "conflict");
    }
    le->last_renew_ms = now_ms;
    set_leading(le, true);
    return 1;
}

static void release(leader_elector *le)
{
    char err[256] = "";
    json_t *live = NULL;
    if (le->io.get(le->io.ctx, le->ns, le->name, &live, err, sizeof err) != 0) {
        json_decref(live);
        return;
    }
    lease_record rec;
    if (leader_lease_parse(live, &rec) == 0 && strcmp(rec.holder, le->identity) == 0) {
        char ts[40];
        now_micro(ts, sizeof ts);
        json_t *want =
            leader_lease_build(live, le->ns, le->name, le->identity, LEADER_RENEW, true, 1, ts);
        if (want && le->io.update(le->io.ctx, le->ns, le->name, want, err, sizeof err) == 0) {
            log_info("leader: released lease", "lease", le->name, "identity", le->identity,
                     (char *)NULL);
        } else {
            log_warn("leader: release failed", "lease", le->name, "error", err, (char *)NULL);
        }
        json_decref(want);
    }
    json_decref(live);
}

static void *run(void *arg)
{
    leader_elector *le = arg;
    pthread_mutex_lock(&le->mu);
    while (!le->stopping) {
        pthread_mutex_unlock(&le->mu);
        (void)leader_try_once(le, mono_ms());
        pthread_mutex_lock(&le->mu);
        if (le->stopping) {
            break;
        }
        int64_t wake = mono_ms() + le->retry_ms;
        struct timespec ts = {(time_t)(wake / 1000), (long)((wake % 1000) * 1000000)};
        while (!le->stopping && mono_ms() < wake) {
            pthread_cond_timedwait(&le->cv, &le->mu, &ts);
        }
    }
    pthread_mutex_unlock(&le->mu);
    return NULL;
}

int leader_start(leader_elector *le)
{
    if (pthread_create(&le->thread, NULL, run, le) != 0) {
        return -1;
    }
    le->started = true;
    return 0;
}

void leader_stop(leader_elector *le)
{
    pthread_mutex_lock(&le->mu);
    le->stopping = true;
    pthread_cond_broadcast(&le->cv);
    pthread_mutex_unlock(&le->mu);
    if (le->started) {
        pthread_join(le->thread, NULL);
        le->started = false;
    }
    if (leader_is_leader(le)) {
        release(le);
        set_leading(le, false);
    }
}

void leader_free(leader_elector *le)
{
    if (!le) {
        return;
    }
    leader_stop(le);
    pthread_cond_destroy(&le->cv);
    pthread_mutex_destroy(&le->mu);
    free(le->ns);
    free(le->name);
    free(le->identity);
    free(le);
}
