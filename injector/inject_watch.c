/*
 * inject_watch: the two reflectors behind the injector's cache (see
 * inject_watch.h). Handlers run on the reflector threads without the
 * reflector's lock held, so on_synced may read the reflector's store.
 */
#include "injector/inject_watch.h"

#include "common/kube_watch.h"
#include "common/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    inject_runtime *rt;
    const char *kind;
    kube_reflector *refl;
    pthread_t thread;
    int started;
} feed;

struct inject_watch {
    feed feeds[2];
};

static void event(feed *f, const char *type, const json_t *obj)
{
    if (inject_runtime_apply_event(f->rt, f->kind, type, obj) != 0) {
        log_warn("injector cache: event not applied", "kind", f->kind, "type", type, (char *)NULL);
    }
}

static void on_add(const json_t *obj, void *ud)
{
    event(ud, "ADDED", obj);
}

static void on_update(const json_t *old_obj, const json_t *new_obj, void *ud)
{
    (void)old_obj;
    event(ud, "MODIFIED", new_obj);
}

static void on_delete(const json_t *obj, void *ud)
{
    event(ud, "DELETED", obj);
}

static void on_synced(void *ud)
{
    feed *f = ud;
    json_t *items = kube_reflector_list(f->refl);
    if (items == NULL || inject_runtime_replace(f->rt, f->kind, items) != 0) {
        log_error("injector cache: cannot store the list", "kind", f->kind, (char *)NULL);
    } else {
        char n[32];
        snprintf(n, sizeof n, "%zu", json_array_size(items));
        log_info("injector cache synced", "kind", f->kind, "objects", n, (char *)NULL);
    }
    json_decref(items);
}

static void *run_feed(void *arg)
{
    feed *f = arg;
    kube_reflector_run(f->refl);
    return NULL;
}

/* Asks the server version once; a failure leaves auto meaning native (logged). */
static void ask_version(inject_runtime *rt, kube_client *kc)
{
    json_t *doc = NULL;
    kube_error kerr;
    kube_error_clear(&kerr);
    char why[640];
    if (kube_version(kc, &doc, &kerr) != 0) {
        log_warn("cannot read the API server version; nativeSidecars auto means native", "error",
                 kube_error_format(&kerr, why, sizeof why), (char *)NULL);
    } else if (inject_runtime_set_server_version(rt, doc) != 0) {
        log_warn("API server version not understood; nativeSidecars auto means native",
                 (char *)NULL);
    }
    json_decref(doc);
    log_info("injector sidecar mode", "native", inject_runtime_native(rt) ? "true" : "false",
             (char *)NULL);
}

void inject_watch_stop(inject_watch *w)
{
    if (w == NULL) {
        return;
    }
    for (size_t i = 0; i < 2; i++) {
        if (w->feeds[i].started) {
            kube_reflector_stop(w->feeds[i].refl);
        }
    }
    for (size_t i = 0; i < 2; i++) {
        if (w->feeds[i].started) {
            pthread_join(w->feeds[i].thread, NULL);
        }
        kube_reflector_free(w->feeds[i].refl);
    }
    free(w);
}

inject_watch *inject_watch_start(inject_runtime *rt, kube_client *kc, char *err, size_t errlen)
{
    inject_watch *w = calloc(1, sizeof *w);
    if (w == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ask_version(rt, kc);
    static const char *const api[2] = {"v1", "aigateway.kagenti.dev/v1alpha1"};
    static const char *const kinds[2] = {"Namespace", "AIAccessPolicy"};
    kube_reflector_handlers h = {on_add, on_update, on_delete, on_synced};
    /* Only opted-in namespaces are kept; one that loses the label leaves the watch. */
    kube_reflector_options ns_opts = {.label_selector = INJECT_LABEL "=enabled"};
    inject_runtime_set_opted_in_only(rt, 1);
    for (size_t i = 0; i < 2; i++) {
        feed *f = &w->feeds[i];
        f->rt = rt;
        f->kind = kinds[i];
        f->refl = kube_reflector_new(kc, api[i], kinds[i], NULL, i == 0 ? &ns_opts : NULL, &h, f);
        if (f->refl == NULL) {
            snprintf(err, errlen, "out of memory");
            inject_watch_stop(w);
            return NULL;
        }
    }
    for (size_t i = 0; i < 2; i++) {
        feed *f = &w->feeds[i];
        if (pthread_create(&f->thread, NULL, run_feed, f) != 0) {
            snprintf(err, errlen, "cannot start the %s watch thread", f->kind);
            inject_watch_stop(w);
            return NULL;
        }
        f->started = 1;
    }
    return w;
}
