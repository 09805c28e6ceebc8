/*
 * object_source_kube: the object_source over the API server. get -> GET,
 * list -> LIST (all pages) with the label selector; 404 is OBJSRC_NOT_FOUND
 * (for list: the kind is not served), a passed deadline OBJSRC_TIMEOUT.
 */
#include "common/kube_client.h"
#include "common/kube_client_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    object_source base;
    kube_client *kc;
} kube_source;

static objsrc_status status_from_error(const kube_error *e, int64_t deadline_ms, char *err,
                                       size_t errlen)
{
    char buf[640];
    if (err != NULL && errlen > 0) {
        snprintf(err, errlen, "%s", kube_error_format(e, buf, sizeof buf));
    }
    if (e->http_code == 404) {
        return OBJSRC_NOT_FOUND;
    }
    if (e->timed_out || (deadline_ms != 0 && objsrc_now_ms() >= deadline_ms)) {
        return OBJSRC_TIMEOUT;
    }
    return OBJSRC_ERROR;
}

static objsrc_status ks_get(object_source *src, const char *api_version, const char *kind,
                            const char *ns, const char *name, int64_t deadline_ms, json_t **out,
                            char *err, size_t errlen)
{
    kube_source *ks = (kube_source *)src;
    kube_error e;
    if (kube_get_until(ks->kc, api_version, kind, ns, name, deadline_ms, out, &e) != 0) {
        return status_from_error(&e, deadline_ms, err, errlen);
    }
    return OBJSRC_OK;
}

static const char *item_str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(json_object_get(obj, "metadata"), key));
    return s != NULL ? s : "";
}

static int compare_items(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int c = strcmp(item_str(x, "namespace"), item_str(y, "namespace"));
    return c != 0 ? c : strcmp(item_str(x, "name"), item_str(y, "name"));
}

static objsrc_status ks_list(object_source *src, const char *api_version, const char *kind,
                             const char *ns, const char *label_selector, int64_t deadline_ms,
                             json_t **items_out, char *err, size_t errlen)
{
    kube_source *ks = (kube_source *)src;
    kube_error e;
    json_t *list = NULL;
    kube_list_options lo = {label_selector, NULL, 0};
    if (kube_list_until(ks->kc, api_version, kind, ns, &lo, deadline_ms, &list, &e) != 0) {
        return status_from_error(&e, deadline_ms, err, errlen);
    }
    json_t *items = json_object_get(list, "items");
    size_t n = json_array_size(items);
    json_t **arr = calloc(n ? n : 1, sizeof(void *));
    json_t *sorted = json_array();
    int oom = arr == NULL || sorted == NULL;
    for (size_t i = 0; !oom && i < n; i++) {
        arr[i] = json_array_get(items, i);
    }
    if (!oom) {
        qsort(arr, n, sizeof(void *), compare_items);
    }
    for (size_t i = 0; !oom && i < n; i++) {
        oom = json_array_append(sorted, arr[i]) != 0;
    }
    free(arr);
    json_decref(list);
    if (oom) {
        json_decref(sorted);
        snprintf(err, errlen, "out of memory");
        return OBJSRC_ERROR;
    }
    *items_out = sorted;
    return OBJSRC_OK;
}

static void ks_destroy(object_source *src)
{
    free(src);
}

static const object_source_ops kube_ops = {ks_get, ks_list, ks_destroy};

object_source *object_source_kube_new(kube_client *kc)
{
    kube_source *ks = calloc(1, sizeof *ks);
    if (ks == NULL) {
        return NULL;
    }
    ks->base.ops = &kube_ops;
    ks->base.name = "apiserver";
    ks->kc = kc;
    return &ks->base;
}
