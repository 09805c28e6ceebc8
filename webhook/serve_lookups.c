/*
 * serve_lookups: builds the webhook's object source (see serve_lookups.h).
 * The API-server source borrows its kube client, so it is wrapped in a
 * source that forwards get/list and frees both on destroy.
 */
#include "webhook/serve_lookups.h"

#include "common/kube_client.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct {
    object_source base;
    object_source *inner;
    kube_client *kc;
} owned_source;

static objsrc_status owned_get(object_source *src, const char *api_version, const char *kind,
                               const char *ns, const char *name, int64_t deadline_ms, json_t **out,
                               char *err, size_t errlen)
{
    owned_source *o = (owned_source *)src;
    return object_source_get(o->inner, api_version, kind, ns, name, deadline_ms, out, err, errlen);
}

static objsrc_status owned_list(object_source *src, const char *api_version, const char *kind,
                                const char *ns, const char *label_selector, int64_t deadline_ms,
                                json_t **items_out, char *err, size_t errlen)
{
    owned_source *o = (owned_source *)src;
    return object_source_list(o->inner, api_version, kind, ns, label_selector, deadline_ms,
                              items_out, err, errlen);
}

static void owned_destroy(object_source *src)
{
    owned_source *o = (owned_source *)src;
    object_source_free(o->inner);
    kube_client_free(o->kc);
    kube_client_global_cleanup();
    free(o);
}

static const object_source_ops owned_ops = {owned_get, owned_list, owned_destroy};

object_source *serve_lookups_open(const char *objects_dir, const char *kubeconfig, char *err,
                                  size_t errlen)
{
    if (errlen > 0) {
        err[0] = '\0';
    }
    if (objects_dir != NULL) {
        return object_source_dir_open(objects_dir, err, errlen);
    }
    if (kubeconfig == NULL) {
        /* In a pod, the webhook reads the cluster it runs in unless told otherwise. */
        const char *host = getenv("KUBERNETES_SERVICE_HOST");
        if (host == NULL || host[0] == '\0') {
            return NULL;
        }
        kubeconfig = "";
    }
    /* serve builds its context before any thread starts, as curl_global_init requires. */
    if (kube_client_global_init() != 0) {
        snprintf(err, errlen, "cannot initialise libcurl");
        return NULL;
    }
    owned_source *o = calloc(1, sizeof *o);
    if (o == NULL) {
        kube_client_global_cleanup();
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* Lookups must fit the admission budget: no long retry chains per call. */
    kube_client_options opts = {0};
    opts.timeout_ms = 2000;
    opts.connect_timeout_ms = 1000;
    opts.max_retries = 1;
    o->kc = kube_client_new(kubeconfig[0] != '\0' ? kubeconfig : NULL, NULL, &opts, err, errlen);
    if (o->kc == NULL) {
        kube_client_global_cleanup();
        free(o);
        return NULL;
    }
    o->inner = object_source_kube_new(o->kc);
    if (o->inner == NULL) {
        snprintf(err, errlen, "out of memory");
        kube_client_free(o->kc);
        kube_client_global_cleanup();
        free(o);
        return NULL;
    }
    o->base.ops = &owned_ops;
    o->base.name = "apiserver";
    return &o->base;
}
