/*
 * owned_index: uid -> generated objects (see owned_index.h). Two jansson maps
 * under one mutex: by_uid[uid]["Kind/ns/name"] = ref, and owner["Kind/ns/name"]
 * = uid for moves and removals.
 */
#include "reconciler/owned_index.h"

#include "reconciler/apply.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct owned_index {
    pthread_mutex_t mu;
    json_t *by_uid;
    json_t *owner;
};

owned_index *owned_index_new(void)
{
    owned_index *ix = calloc(1, sizeof *ix);
    if (!ix) {
        return NULL;
    }
    ix->by_uid = json_object();
    ix->owner = json_object();
    if (!ix->by_uid || !ix->owner || pthread_mutex_init(&ix->mu, NULL) != 0) {
        json_decref(ix->by_uid);
        json_decref(ix->owner);
        free(ix);
        return NULL;
    }
    return ix;
}

void owned_index_free(owned_index *ix)
{
    if (!ix) {
        return;
    }
    json_decref(ix->by_uid);
    json_decref(ix->owner);
    pthread_mutex_destroy(&ix->mu);
    free(ix);
}

static char *ref_key(const json_t *obj)
{
    const json_t *meta = json_object_get(obj, "metadata");
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    const char *ns = json_string_value(json_object_get(meta, "namespace"));
    const char *name = json_string_value(json_object_get(meta, "name"));
    char *k = NULL;
    if (!kind || !name || asprintf(&k, "%s/%s/%s", kind, ns ? ns : "", name) < 0) {
        return NULL;
    }
    return k;
}

static void remove_locked(owned_index *ix, const char *key)
{
    const char *uid = json_string_value(json_object_get(ix->owner, key));
    if (uid) {
        json_t *set = json_object_get(ix->by_uid, uid);
        json_object_del(set, key);
        if (json_object_size(set) == 0) {
            json_object_del(ix->by_uid, uid);
        }
        json_object_del(ix->owner, key);
    }
}

int owned_index_put(owned_index *ix, const json_t *obj)
{
    char *key = ref_key(obj);
    if (!key) {
        return -1;
    }
    const char *uid = json_string_value(json_object_get(apply_controller_ref(obj), "uid"));
    const json_t *meta = json_object_get(obj, "metadata");
    const char *ns = json_string_value(json_object_get(meta, "namespace"));
    const char *hash = json_string_value(
        json_object_get(json_object_get(meta, "annotations"), APPLY_HASH_ANNOTATION));
    json_t *ref =
        json_pack("{s:s?, s:s, s:s, s:s, s:s?}", "apiVersion",
                  json_string_value(json_object_get(obj, "apiVersion")), "kind",
                  json_string_value(json_object_get(obj, "kind")), "namespace", ns ? ns : "",
                  "name", json_string_value(json_object_get(meta, "name")), "hash", hash);
    int rc = ref ? 0 : -1;
    pthread_mutex_lock(&ix->mu);
    remove_locked(ix, key);
    if (ref && uid) {
        json_t *set = json_object_get(ix->by_uid, uid);
        if (!set) {
            set = json_object();
            if (!set || json_object_set_new(ix->by_uid, uid, set) != 0) {
                rc = -1;
                set = NULL;
            }
        }
        if (set && (json_object_set(set, key, ref) != 0 ||
                    json_object_set_new(ix->owner, key, json_string(uid)) != 0)) {
            rc = -1;
        }
    }
    pthread_mutex_unlock(&ix->mu);
    json_decref(ref);
    free(key);
    return rc;
}

bool owned_index_holds(owned_index *ix, const char *kind, const char *ns, const char *name,
                       const char *uid, const char *hash)
{
    char *key = NULL;
    if (!kind || !name || !uid || !hash ||
        asprintf(&key, "%s/%s/%s", kind, ns ? ns : "", name) < 0) {
        return false;
    }
    pthread_mutex_lock(&ix->mu);
    const char *owner = json_string_value(json_object_get(ix->owner, key));
    const json_t *ref = owner && strcmp(owner, uid) == 0
                            ? json_object_get(json_object_get(ix->by_uid, uid), key)
                            : NULL;
    const char *have = json_string_value(json_object_get(ref, "hash"));
    bool holds = have && strcmp(have, hash) == 0;
    pthread_mutex_unlock(&ix->mu);
    free(key);
    return holds;
}

void owned_index_remove(owned_index *ix, const json_t *obj)
{
    char *key = ref_key(obj);
    if (!key) {
        return;
    }
    pthread_mutex_lock(&ix->mu);
    remove_locked(ix, key);
    pthread_mutex_unlock(&ix->mu);
    free(key);
}

void owned_index_clear_kind(owned_index *ix, const char *kind)
{
    size_t klen = strlen(kind);
    pthread_mutex_lock(&ix->mu);
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(ix->owner, tmp, key, v)
    {
        if (strncmp(key, kind, klen) == 0 && key[klen] == '/') {
            char *k = strdup(key);
            if (k) {
                remove_locked(ix, k);
                free(k);
            }
        }
    }
    pthread_mutex_unlock(&ix->mu);
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *owned_index_list(owned_index *ix, const char *uid)
{
    json_t *out = json_array();
    if (!out) {
        return NULL;
    }
    pthread_mutex_lock(&ix->mu);
    json_t *set = json_object_get(ix->by_uid, uid ? uid : "");
    /* sort the keys for a stable result */
    size_t n = json_object_size(set);
    const char **keys = calloc(n ? n : 1, sizeof(const char *));
    if (!keys) {
        pthread_mutex_unlock(&ix->mu);
        json_decref(out);
        return NULL;
    }
    size_t i = 0;
    const char *key;
    json_t *v;
    json_object_foreach(set, key, v)
    {
        if (i < n) {
            keys[i++] = key;
        }
    }
    n = i;
    qsort(keys, n, sizeof(const char *), cmp_keys);
    int rc = 0;
    for (i = 0; i < n; i++) {
        rc |= json_array_append_new(out, json_deep_copy(json_object_get(set, keys[i])));
    }
    pthread_mutex_unlock(&ix->mu);
    free(keys);
    if (rc != 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}
