/*
 * inject_serve: wiring of the injector for `aigw serve` (see inject_serve.h).
 * Runs before the server's threads start (curl_global_init's rule).
 */
#include "injector/inject_serve.h"

#include "common/kube_client.h"
#include "common/log.h"
#include "common/object_source.h"
#include "injector/inject_watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    kube_client *kc;
    inject_watch *watch;
} serve_feed;

static void feed_stop(void *arg)
{
    serve_feed *f = arg;
    inject_watch_stop(f->watch);
    kube_client_free(f->kc);
    kube_client_global_cleanup();
    free(f);
}

static int start_watch(inject_runtime *rt, const char *kubeconfig, char *err, size_t errlen)
{
    if (kube_client_global_init() != 0) {
        snprintf(err, errlen, "cannot initialise libcurl");
        return -1;
    }
    serve_feed *f = calloc(1, sizeof *f);
    if (f == NULL) {
        kube_client_global_cleanup();
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char why[512] = "";
    f->kc = kube_client_new(kubeconfig[0] != '\0' ? kubeconfig : NULL, NULL, NULL, why, sizeof why);
    if (f->kc != NULL) {
        f->watch = inject_watch_start(rt, f->kc, why, sizeof why);
    }
    if (f->watch == NULL) {
        snprintf(err, errlen, "injector watch: %s", why);
        kube_client_free(f->kc);
        kube_client_global_cleanup();
        free(f);
        return -1;
    }
    inject_runtime_set_feed(rt, f, feed_stop);
    return 0;
}

inject_runtime *inject_serve_open(const inject_serve_options *o, char *err, size_t errlen)
{
    if (errlen > 0) {
        err[0] = '\0';
    }
    const char *kubeconfig = o->kubeconfig;
    if (o->objects_dir == NULL && kubeconfig == NULL) {
        const char *host = getenv("KUBERNETES_SERVICE_HOST");
        if (host == NULL || host[0] == '\0') {
            return NULL; /* nothing to learn namespaces and policies from: injection off */
        }
        kubeconfig = "";
    }
    inject_runtime_options ro = {.config_path = o->config_path,
                                 .native_override = o->native_override};
    inject_runtime *rt = inject_runtime_new(&ro, err, errlen);
    if (rt == NULL) {
        return NULL;
    }
    int rc;
    if (o->objects_dir != NULL) {
        object_source *src = object_source_dir_open(o->objects_dir, err, errlen);
        rc = src != NULL ? inject_runtime_load(rt, src, err, errlen) : -1;
        object_source_free(src);
    } else {
        rc = start_watch(rt, kubeconfig, err, errlen);
    }
    if (rc == 0 && inject_runtime_start(rt) != 0) {
        snprintf(err, errlen, "cannot start the injector config reload thread");
        rc = -1;
    }
    if (rc != 0) {
        if (err[0] == '\0') {
            snprintf(err, errlen, "injector: cannot start");
        }
        inject_runtime_free(rt);
        return NULL;
    }
    log_info("injector enabled", "cache", o->objects_dir != NULL ? "objects" : "watch", "config",
             o->config_path != NULL ? o->config_path : "built-in", (char *)NULL);
    return rt;
}
