/*
 * object_source: the dispatch functions every implementation shares, and the
 * in-memory implementation (used directly by tests and the CLI reading stdin,
 * and by the directory source after it has loaded its files).
 *
 * The in-memory store is an array of deep copies sorted by (apiVersion, kind,
 * namespace, name); it is never modified after creation, so lookups from
 * several threads need no lock. Lookups return deep copies.
 *
 * Namespace rule for offline objects: an object without metadata.namespace is
 * what `kubectl apply -f` would create in "default", so it answers lookups in
 * namespace "default", and lookups with ns == NULL (cluster-scoped kinds).
 */
#include "common/object_source.h"

#include "common/label_selector.h"
#include "common/object_source_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t objsrc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err != NULL && errlen > 0) {
        snprintf(err, errlen, "%s", msg);
    }
}

objsrc_status object_source_get(object_source *src, const char *api_version, const char *kind,
                                const char *ns, const char *name, int64_t deadline_ms, json_t **out,
                                char *err, size_t errlen)
{
    *out = NULL;
    if (src == NULL || api_version == NULL || kind == NULL || name == NULL) {
        set_err(err, errlen, "object source: missing argument");
        return OBJSRC_ERROR;
    }
    if (deadline_ms != 0 && objsrc_now_ms() >= deadline_ms) {
        set_err(err, errlen, "object source: deadline passed before the lookup");
        return OBJSRC_TIMEOUT;
    }
    return src->ops->get(src, api_version, kind, ns, name, deadline_ms, out, err, errlen);
}

objsrc_status object_source_list(object_source *src, const char *api_version, const char *kind,
                                 const char *ns, const char *label_selector, int64_t deadline_ms,
                                 json_t **items_out, char *err, size_t errlen)
{
    *items_out = NULL;
    if (src == NULL || api_version == NULL || kind == NULL) {
        set_err(err, errlen, "object source: missing argument");
        return OBJSRC_ERROR;
    }
    if (deadline_ms != 0 && objsrc_now_ms() >= deadline_ms) {
        set_err(err, errlen, "object source: deadline passed before the lookup");
        return OBJSRC_TIMEOUT;
    }
    return src->ops->list(src, api_version, kind, ns, label_selector, deadline_ms, items_out, err,
                          errlen);
}

void object_source_free(object_source *src)
{
    if (src != NULL) {
        src->ops->destroy(src);
    }
}

/* ---- in-memory implementation ---- */

typedef struct {
    object_source base;
    char *name_buf;
    json_t *objects; /* sorted array */
} mem_source;

static const char *str_field(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s != NULL ? s : "";
}

static const char *obj_ns(const json_t *obj)
{
    return str_field(json_object_get(obj, "metadata"), "namespace");
}

static const char *obj_name(const json_t *obj)
{
    return str_field(json_object_get(obj, "metadata"), "name");
}

static int compare_objects(const json_t *a, const json_t *b)
{
    int c = strcmp(str_field(a, "apiVersion"), str_field(b, "apiVersion"));
    if (c == 0) {
        c = strcmp(str_field(a, "kind"), str_field(b, "kind"));
    }
    if (c == 0) {
        c = strcmp(obj_ns(a), obj_ns(b));
    }
    if (c == 0) {
        c = strcmp(obj_name(a), obj_name(b));
    }
    return c;
}

typedef struct {
    json_t *obj;
    const char *origin;
} sort_entry;

static int compare_entries(const void *a, const void *b)
{
    return compare_objects(((const sort_entry *)a)->obj, ((const sort_entry *)b)->obj);
}

int objsrc_check_object(const json_t *obj, char *err, size_t errlen)
{
    if (!json_is_object(obj)) {
        set_err(err, errlen, "document is not a mapping");
        return -1;
    }
    const char *av = json_string_value(json_object_get(obj, "apiVersion"));
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    const json_t *md = json_object_get(obj, "metadata");
    const char *name = json_string_value(json_object_get(md, "name"));
    const json_t *ns = json_object_get(md, "namespace");
    if (av == NULL || av[0] == '\0') {
        set_err(err, errlen, "object has no apiVersion");
    } else if (kind == NULL || kind[0] == '\0') {
        set_err(err, errlen, "object has no kind");
    } else if (!json_is_object(md)) {
        set_err(err, errlen, "object has no metadata");
    } else if (name == NULL || name[0] == '\0') {
        set_err(err, errlen, "object has no metadata.name");
    } else if (ns != NULL && !json_is_string(ns)) {
        set_err(err, errlen, "metadata.namespace is not a string");
    } else {
        return 0;
    }
    return -1;
}

/* Does the stored object's namespace answer a lookup in `ns`? */
static int ns_matches(const json_t *obj, const char *ns)
{
    const char *have = obj_ns(obj);
    if (ns == NULL) {
        return 1;
    }
    return strcmp(have, ns) == 0 || (have[0] == '\0' && strcmp(ns, "default") == 0);
}

static int kind_matches(const json_t *obj, const char *api_version, const char *kind)
{
    return strcmp(str_field(obj, "apiVersion"), api_version) == 0 &&
           strcmp(str_field(obj, "kind"), kind) == 0;
}

static objsrc_status mem_get(object_source *src, const char *api_version, const char *kind,
                             const char *ns, const char *name, int64_t deadline_ms, json_t **out,
                             char *err, size_t errlen)
{
    (void)deadline_ms;
    const mem_source *m = (const mem_source *)src;
    size_t i;
    json_t *obj;
    json_array_foreach(m->objects, i, obj)
    {
        if (!kind_matches(obj, api_version, kind) || strcmp(obj_name(obj), name) != 0) {
            continue;
        }
        if (ns == NULL ? obj_ns(obj)[0] != '\0' : !ns_matches(obj, ns)) {
            continue;
        }
        *out = json_deep_copy(obj);
        if (*out == NULL) {
            set_err(err, errlen, "out of memory");
            return OBJSRC_ERROR;
        }
        return OBJSRC_OK;
    }
    if (err != NULL && errlen > 0) {
        snprintf(err, errlen, "%s %s%s%s not found in %s", kind, ns ? ns : "", ns ? "/" : "", name,
                 src->name);
    }
    return OBJSRC_NOT_FOUND;
}

static objsrc_status mem_list(object_source *src, const char *api_version, const char *kind,
                              const char *ns, const char *label_selector, int64_t deadline_ms,
                              json_t **items_out, char *err, size_t errlen)
{
    (void)deadline_ms;
    const mem_source *m = (const mem_source *)src;
    json_t *items = json_array();
    if (items == NULL) {
        set_err(err, errlen, "out of memory");
        return OBJSRC_ERROR;
    }
    size_t i;
    json_t *obj;
    json_array_foreach(m->objects, i, obj)
    {
        if (!kind_matches(obj, api_version, kind) || !ns_matches(obj, ns)) {
            continue;
        }
        int match = 0;
        const json_t *labels = json_object_get(json_object_get(obj, "metadata"), "labels");
        if (label_selector_match(label_selector, labels, &match, err, errlen) != 0) {
            json_decref(items);
            return OBJSRC_ERROR;
        }
        if (match && json_array_append_new(items, json_deep_copy(obj)) != 0) {
            json_decref(items);
            set_err(err, errlen, "out of memory");
            return OBJSRC_ERROR;
        }
    }
    /* The store is sorted by apiVersion/kind/namespace/name, so within one kind the
     * items already come by namespace then name. */
    *items_out = items;
    return OBJSRC_OK;
}

static void mem_destroy(object_source *src)
{
    mem_source *m = (mem_source *)src;
    json_decref(m->objects);
    free(m->name_buf);
    free(m);
}

static const object_source_ops mem_ops = {mem_get, mem_list, mem_destroy};

object_source *objsrc_mem_create(json_t *objects, json_t *origins, const char *name, char *err,
                                 size_t errlen)
{
    size_t n = json_array_size(objects);
    sort_entry *entries = calloc(n ? n : 1, sizeof(sort_entry));
    mem_source *m = calloc(1, sizeof *m);
    json_t *sorted = json_array();
    char *name_copy = strdup(name);
    if (entries == NULL || m == NULL || sorted == NULL || name_copy == NULL) {
        set_err(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        entries[i].obj = json_array_get(objects, i);
        entries[i].origin = json_string_value(json_array_get(origins, i));
        char why[128];
        if (objsrc_check_object(entries[i].obj, why, sizeof why) != 0) {
            if (err != NULL && errlen > 0) {
                snprintf(err, errlen, "%s: %s", entries[i].origin ? entries[i].origin : name, why);
            }
            goto fail;
        }
    }
    qsort(entries, n, sizeof entries[0], compare_entries);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && compare_objects(entries[i - 1].obj, entries[i].obj) == 0) {
            if (err != NULL && errlen > 0) {
                const char *ns = obj_ns(entries[i].obj);
                snprintf(err, errlen, "%s %s%s%s defined twice (%s and %s)",
                         str_field(entries[i].obj, "kind"), ns, ns[0] ? "/" : "",
                         obj_name(entries[i].obj),
                         entries[i - 1].origin ? entries[i - 1].origin : name,
                         entries[i].origin ? entries[i].origin : name);
            }
            goto fail;
        }
        if (json_array_append_new(sorted, json_deep_copy(entries[i].obj)) != 0) {
            set_err(err, errlen, "out of memory");
            goto fail;
        }
    }
    free(entries);
    json_decref(objects);
    m->base.ops = &mem_ops;
    m->base.name = name_copy;
    m->name_buf = name_copy;
    m->objects = sorted;
    return &m->base;
fail:
    free(entries);
    free(m);
    free(name_copy);
    json_decref(sorted);
    json_decref(objects);
    return NULL;
}

object_source *object_source_mem_new(const json_t *objects, char *err, size_t errlen)
{
    if (!json_is_array(objects)) {
        set_err(err, errlen, "memory source: objects must be an array");
        return NULL;
    }
    json_t *copy = json_deep_copy(objects);
    if (copy == NULL) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    return objsrc_mem_create(copy, NULL, "memory", err, errlen);
}
