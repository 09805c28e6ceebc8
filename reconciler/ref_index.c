/*
 * ref_index: policy -> referenced objects, and the reverse lookup an event
 * needs (see ref_index.h).
 */
#include "reconciler/ref_index.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *key;     /* "Kind/ns/name" of the policy */
    char *gateway; /* "Gateway/ns/name" */
    json_t *refs;  /* array of strings */
    json_t *facts; /* {"kind","name","created","deleting","models":{name:true}} for races */
} ix_entry;

/*
 * Besides the entries, three lookups keep every event and every reconcile
 * independent of the number of policies: by_key (policy key -> index into
 * items), claims ("Gateway/ns/name\nmodel" -> {policy key: true}, the
 * AIRoutingPolicies naming a model on a Gateway) and access_gw
 * ("Gateway/ns/name" -> number of AIAccessPolicies not being deleted).
 */
struct ref_index {
    pthread_mutex_t mu;
    ix_entry *items;
    size_t len, cap;
    json_t *by_key, *claims, *access_gw;
};

int policy_key_split(const char *key, char *kind, char *ns, char *name, size_t len)
{
    const char *a = strchr(key, '/');
    const char *b = a ? strchr(a + 1, '/') : NULL;
    if (!a || !b || a == key || b == a + 1 || b[1] == '\0' || strchr(b + 1, '/') ||
        (size_t)(a - key) >= len || (size_t)(b - a - 1) >= len || strlen(b + 1) >= len) {
        return -1;
    }
    snprintf(kind, len, "%.*s", (int)(a - key), key);
    snprintf(ns, len, "%.*s", (int)(b - a - 1), a + 1);
    snprintf(name, len, "%s", b + 1);
    return 0;
}

static const char *str_at(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int add_ref(json_t *set, const char *kind, const char *ns, const char *name)
{
    if (!name || !*name || !ns) {
        return 0;
    }
    char *s = NULL;
    if (asprintf(&s, "%s/%s/%s", kind, ns, name) < 0) {
        return -1;
    }
    int rc = json_object_set_new(set, s, json_true());
    free(s);
    return rc;
}

static int add_secret_refs(json_t *set, const char *ns, const json_t *creds)
{
    static const char *const fields[] = {"secretRef", "clientSecretRef", "credentialsSecretRef"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (add_ref(set, "Secret", ns, str_at(json_object_get(creds, fields[i]), "name")) != 0) {
            return -1;
        }
    }
    return 0;
}

static const char *policy_kind(const json_t *obj)
{
    const char *kind = str_at(obj, "kind");
    const char *av = str_at(obj, "apiVersion");
    if (!kind || !av || strncmp(av, POLICY_GROUP "/", strlen(POLICY_GROUP) + 1) != 0) {
        return NULL;
    }
    if (strcmp(kind, KIND_ROUTING) == 0) {
        return KIND_ROUTING;
    }
    if (strcmp(kind, KIND_ACCESS) == 0) {
        return KIND_ACCESS;
    }
    return NULL;
}

/* qsort comparator over const char * elements */
static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_t *sorted_keys(json_t *set)
{
    size_t n = json_object_size(set);
    const char **keys = calloc(n ? n : 1, sizeof *keys);
    json_t *arr = json_array();
    if (!keys || !arr) {
        free(keys);
        json_decref(arr);
        return NULL;
    }
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach(set, k, v)
    {
        keys[i++] = k;
    }
    qsort(keys, n, sizeof *keys, cmp_str_ptr);
    for (i = 0; i < n; i++) {
        if (json_array_append_new(arr, json_string(keys[i])) != 0) {
            free(keys);
            json_decref(arr);
            return NULL;
        }
    }
    free(keys);
    return arr;
}

json_t *ref_index_refs_of(const json_t *policy)
{
    const char *kind = policy_kind(policy);
    const json_t *meta = json_object_get(policy, "metadata");
    const char *ns = str_at(meta, "namespace");
    const json_t *spec = json_object_get(policy, "spec");
    if (!kind || !ns) {
        return NULL;
    }
    json_t *set = json_object();
    if (!set) {
        return NULL;
    }
    int rc = add_ref(set, "Gateway", ns, str_at(json_object_get(spec, "targetRef"), "name"));
    if (strcmp(kind, KIND_ROUTING) == 0) {
        size_t i;
        const json_t *p;
        json_array_foreach(json_object_get(spec, "providers"), i, p)
        {
            rc |= add_secret_refs(set, ns, json_object_get(p, "credentials"));
        }
    } else {
        const json_t *mtls = json_object_get(spec, "mtls");
        const json_t *cm = json_object_get(mtls, "trustBundleConfigMap");
        const char *cm_name = str_at(cm, "name");
        const char *cm_ns = str_at(cm, "namespace");
        rc |= add_ref(set, "ConfigMap", cm_ns && *cm_ns ? cm_ns : DEFAULT_BUNDLE_NS,
                      cm_name && *cm_name ? cm_name : DEFAULT_BUNDLE_NAME);
        rc |= add_ref(set, "Secret", ns, str_at(json_object_get(mtls, "serverCertRef"), "name"));
    }
    json_t *out = rc == 0 ? sorted_keys(set) : NULL;
    json_decref(set);
    return out;
}

ref_index *ref_index_new(void)
{
    ref_index *ix = calloc(1, sizeof *ix);
    if (!ix) {
        return NULL;
    }
    ix->by_key = json_object();
    ix->claims = json_object();
    ix->access_gw = json_object();
    if (!ix->by_key || !ix->claims || !ix->access_gw || pthread_mutex_init(&ix->mu, NULL) != 0) {
        json_decref(ix->by_key);
        json_decref(ix->claims);
        json_decref(ix->access_gw);
        free(ix);
        return NULL;
    }
    return ix;
}

static void entry_free(ix_entry *e)
{
    free(e->key);
    free(e->gateway);
    json_decref(e->refs);
    json_decref(e->facts);
}

/*
 * What the race rule needs of a policy, kept small: no spec beyond model
 * names, held as a set so that comparing two policies is one lookup per model.
 */
static json_t *facts_of(const json_t *policy, const char *kind)
{
    const json_t *meta = json_object_get(policy, "metadata");
    const char *created = str_at(meta, "creationTimestamp");
    json_t *models = json_object();
    json_t *f = json_pack("{s:s, s:s?, s:s, s:b, s:o}", "kind", kind, "name", str_at(meta, "name"),
                          "created", created ? created : "", "deleting",
                          json_object_get(meta, "deletionTimestamp") != NULL, "models", models);
    if (!f) {
        return NULL;
    }
    size_t i;
    const json_t *m;
    json_array_foreach(json_object_get(json_object_get(policy, "spec"), "models"), i, m)
    {
        const char *n = str_at(m, "name");
        if (n && json_object_set_new(models, n, json_true()) != 0) {
            json_decref(f);
            return NULL;
        }
    }
    return f;
}

void ref_index_free(ref_index *ix)
{
    if (!ix) {
        return;
    }
    for (size_t i = 0; i < ix->len; i++) {
        entry_free(&ix->items[i]);
    }
    free(ix->items);
    json_decref(ix->by_key);
    json_decref(ix->claims);
    json_decref(ix->access_gw);
    pthread_mutex_destroy(&ix->mu);
    free(ix);
}

static ix_entry *find_locked(ref_index *ix, const char *key)
{
    const json_t *at = json_object_get(ix->by_key, key);
    return at ? &ix->items[json_integer_value(at)] : NULL;
}

static char *claim_key(const char *gateway, const char *model)
{
    char *k = NULL;
    return asprintf(&k, "%s\n%s", gateway, model) < 0 ? NULL : k;
}

static bool entry_deleting(const ix_entry *e)
{
    return json_is_true(json_object_get(e->facts, "deleting"));
}

/* Adds (add) or removes an entry's claims and access-policy count. 0 ok, -1 OOM. */
static int index_locked(ref_index *ix, const ix_entry *e, bool add)
{
    int rc = 0;
    if (strcmp(str_at(e->facts, "kind"), KIND_ACCESS) == 0) {
        if (entry_deleting(e)) {
            return 0;
        }
        json_int_t n = json_integer_value(json_object_get(ix->access_gw, e->gateway));
        n += add ? 1 : -1;
        if (n > 0) {
            rc = json_object_set_new(ix->access_gw, e->gateway, json_integer(n));
        } else {
            json_object_del(ix->access_gw, e->gateway);
        }
        return rc;
    }
    const char *m;
    json_t *v;
    json_object_foreach(json_object_get(e->facts, "models"), m, v)
    {
        char *ck = claim_key(e->gateway, m);
        if (!ck) {
            return -1;
        }
        json_t *set = json_object_get(ix->claims, ck);
        if (add) {
            if (!set) {
                set = json_object();
                if (!set || json_object_set_new(ix->claims, ck, set) != 0) {
                    free(ck);
                    return -1;
                }
            }
            rc |= json_object_set_new(set, e->key, json_true());
        } else if (set) {
            json_object_del(set, e->key);
            if (json_object_size(set) == 0) {
                json_object_del(ix->claims, ck);
            }
        }
        free(ck);
    }
    return rc;
}

int ref_index_put(ref_index *ix, const json_t *policy)
{
    const char *kind = policy_kind(policy);
    const json_t *meta = json_object_get(policy, "metadata");
    const char *ns = str_at(meta, "namespace"), *name = str_at(meta, "name");
    const char *gw = str_at(json_object_get(json_object_get(policy, "spec"), "targetRef"), "name");
    if (!kind || !ns || !name) {
        return -1;
    }
    ix_entry e = {0};
    e.refs = ref_index_refs_of(policy);
    e.facts = facts_of(policy, kind);
    if (!e.refs || !e.facts || asprintf(&e.key, "%s/%s/%s", kind, ns, name) < 0) {
        json_decref(e.refs);
        json_decref(e.facts);
        return -1;
    }
    if (asprintf(&e.gateway, "Gateway/%s/%s", ns, gw ? gw : "") < 0) {
        e.gateway = NULL;
        entry_free(&e);
        return -1;
    }
    pthread_mutex_lock(&ix->mu);
    ix_entry *old = find_locked(ix, e.key);
    if (old) {
        index_locked(ix, old, false);
        entry_free(old);
        *old = e;
        int rc = index_locked(ix, old, true);
        pthread_mutex_unlock(&ix->mu);
        return rc;
    }
    if (ix->len == ix->cap) {
        size_t ncap = ix->cap ? ix->cap * 2 : 16;
        ix_entry *n = realloc(ix->items, ncap * sizeof *n);
        if (!n) {
            pthread_mutex_unlock(&ix->mu);
            entry_free(&e);
            return -1;
        }
        ix->items = n;
        ix->cap = ncap;
    }
    if (!ix->items ||
        json_object_set_new(ix->by_key, e.key, json_integer((json_int_t)ix->len)) != 0) {
        pthread_mutex_unlock(&ix->mu);
        entry_free(&e);
        return -1;
    }
    ix->items[ix->len++] = e;
    int rc = index_locked(ix, &ix->items[ix->len - 1], true);
    pthread_mutex_unlock(&ix->mu);
    return rc;
}

void ref_index_remove(ref_index *ix, const char *key)
{
    pthread_mutex_lock(&ix->mu);
    ix_entry *e = find_locked(ix, key);
    if (e) {
        index_locked(ix, e, false);
        json_object_del(ix->by_key, e->key);
        entry_free(e);
        size_t at = (size_t)(e - ix->items);
        *e = ix->items[--ix->len];
        if (at < ix->len) {
            json_object_set_new(ix->by_key, e->key, json_integer((json_int_t)at));
        }
    }
    pthread_mutex_unlock(&ix->mu);
}

static bool has_ref(const ix_entry *e, const char *ref)
{
    size_t i;
    const json_t *r;
    json_array_foreach(e->refs, i, r)
    {
        if (strcmp(json_string_value(r), ref) == 0) {
            return true;
        }
    }
    return false;
}

/* Adds every indexed policy whose Gateway is `gw_ref` ("Gateway/ns/name"). */
static int add_gateway_policies(ref_index *ix, json_t *set, const char *gw_ref)
{
    if (!ix->items) {
        return 0;
    }
    for (size_t i = 0; i < ix->len; i++) {
        if (strcmp(ix->items[i].gateway, gw_ref) == 0 &&
            json_object_set_new(set, ix->items[i].key, json_true()) != 0) {
            return -1;
        }
    }
    return 0;
}

/* Adds the keys of a claim set ({key: true}) except `self`. */
static int add_claimants(json_t *set, const json_t *claimants, const char *self)
{
    int rc = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)claimants, k, v)
    {
        if (strcmp(k, self) != 0) {
            rc |= json_object_set_new(set, k, json_true());
        }
    }
    return rc;
}

/*
 * The policies a change of policy `key` (kind `pk`) concerns, on Gateway
 * `gw_ref`: for an AIAccessPolicy every policy on the Gateway (routes follow
 * the listeners it secures, another access policy may win or lose the
 * Gateway); for an AIRoutingPolicy only the routing policies naming one of
 * `models` there (a race won or ended). `models` is an array of {"name"}
 * (a spec) or an object of names (the index's facts).
 */
static int add_dependents(ref_index *ix, json_t *set, const char *pk, const char *key,
                          const char *gw_ref, const json_t *models)
{
    if (strcmp(pk, KIND_ACCESS) == 0) {
        return add_gateway_policies(ix, set, gw_ref);
    }
    int rc = 0;
    size_t i;
    const json_t *m;
    const char *name;
    json_t *v;
    if (json_is_array(models)) {
        json_array_foreach(models, i, m)
        {
            char *ck = str_at(m, "name") ? claim_key(gw_ref, str_at(m, "name")) : NULL;
            if (ck) {
                rc |= add_claimants(set, json_object_get(ix->claims, ck), key);
            }
            free(ck);
        }
    } else {
        json_object_foreach((json_t *)models, name, v)
        {
            char *ck = claim_key(gw_ref, name);
            if (ck) {
                rc |= add_claimants(set, json_object_get(ix->claims, ck), key);
            }
            free(ck);
        }
    }
    return rc;
}

static int keys_for_locked(ref_index *ix, const json_t *obj, json_t *set)
{
    const char *kind = str_at(obj, "kind");
    const json_t *meta = json_object_get(obj, "metadata");
    const char *ns = str_at(meta, "namespace"), *name = str_at(meta, "name");
    if (!kind || !name) {
        return 0;
    }
    char *ref = NULL;
    int rc = 0;
    const char *pk = policy_kind(obj);
    if (pk && ns) {
        const char *gw = str_at(json_object_get(json_object_get(obj, "spec"), "targetRef"), "name");
        if (asprintf(&ref, "%s/%s/%s", pk, ns, name) < 0) {
            return -1;
        }
        rc |= json_object_set_new(set, ref, json_true());
        free(ref);
        ref = NULL;
        /* also the policies on the Gateway it had before (from the index) */
        char *key = NULL;
        if (asprintf(&key, "%s/%s/%s", pk, ns, name) < 0) {
            return -1;
        }
        const ix_entry *old = find_locked(ix, key);
        if (old) {
            rc |= add_dependents(ix, set, pk, key, old->gateway,
                                 json_object_get(old->facts, "models"));
        }
        if (gw && asprintf(&ref, "Gateway/%s/%s", ns, gw) >= 0) {
            rc |= add_dependents(ix, set, pk, key, ref,
                                 json_object_get(json_object_get(obj, "spec"), "models"));
            free(ref);
        }
        free(key);
        return rc;
    }
    /* a generated object: its controller owner */
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(meta, "ownerReferences"), i, r)
    {
        const char *rk = str_at(r, "kind");
        if (json_is_true(json_object_get(r, "controller")) && rk && ns &&
            (strcmp(rk, KIND_ROUTING) == 0 || strcmp(rk, KIND_ACCESS) == 0)) {
            if (asprintf(&ref, "%s/%s/%s", rk, ns, str_at(r, "name")) < 0) {
                return -1;
            }
            rc |= json_object_set_new(set, ref, json_true());
            free(ref);
            ref = NULL;
        }
    }
    if (strcmp(kind, "Service") == 0) {
        const json_t *labels = json_object_get(meta, "labels");
        const char *gname = str_at(labels, LABEL_OWNING_GATEWAY_NAME);
        const char *gns = str_at(labels, LABEL_OWNING_GATEWAY_NS);
        if (gname && gns) {
            if (asprintf(&ref, "Gateway/%s/%s", gns, gname) < 0) {
                return -1;
            }
            rc |= add_gateway_policies(ix, set, ref);
            free(ref);
        }
        return rc;
    }
    if (asprintf(&ref, "%s/%s/%s", kind, ns ? ns : "", name) < 0) {
        return -1;
    }
    for (size_t k = 0; k < ix->len; k++) {
        if (has_ref(&ix->items[k], ref)) {
            rc |= json_object_set_new(set, ix->items[k].key, json_true());
        }
    }
    free(ref);
    return rc;
}

json_t *ref_index_keys_for(ref_index *ix, const json_t *obj)
{
    json_t *set = json_object();
    if (!set) {
        return NULL;
    }
    pthread_mutex_lock(&ix->mu);
    int rc = keys_for_locked(ix, obj, set);
    pthread_mutex_unlock(&ix->mu);
    json_t *out = rc == 0 ? sorted_keys(set) : NULL;
    json_decref(set);
    return out;
}

json_t *ref_index_all_keys(ref_index *ix)
{
    json_t *set = json_object();
    if (!set) {
        return NULL;
    }
    int rc = 0;
    pthread_mutex_lock(&ix->mu);
    for (size_t i = 0; i < ix->len; i++) {
        rc |= json_object_set_new(set, ix->items[i].key, json_true());
    }
    pthread_mutex_unlock(&ix->mu);
    json_t *out = rc == 0 ? sorted_keys(set) : NULL;
    json_decref(set);
    return out;
}

/* True when entry `o` was created before the policy with (created, name). */
static bool entry_older(const ix_entry *o, const char *created, const char *name)
{
    int c = strcmp(str_at(o->facts, "created"), created);
    if (c == 0) {
        c = strcmp(str_at(o->facts, "name"), name);
    }
    return c < 0;
}

/* True when `o` is another policy of `kind`, not being deleted, older than (created, name). */
static bool entry_contends(const ix_entry *o, const char *kind, const char *name,
                           const char *created)
{
    return strcmp(str_at(o->facts, "kind"), kind) == 0 &&
           strcmp(str_at(o->facts, "name"), name) != 0 && !entry_deleting(o) &&
           entry_older(o, created ? created : "", name);
}

int ref_index_conflict(ref_index *ix, const json_t *policy, char *winner, size_t wlen, char *model,
                       size_t mlen)
{
    const char *kind = policy_kind(policy);
    const json_t *meta = json_object_get(policy, "metadata");
    const char *ns = str_at(meta, "namespace"), *name = str_at(meta, "name");
    const char *created = str_at(meta, "creationTimestamp");
    const char *gw = str_at(json_object_get(json_object_get(policy, "spec"), "targetRef"), "name");
    if (!kind || !ns || !name || !gw) {
        return 0;
    }
    char *gw_ref = NULL;
    if (asprintf(&gw_ref, "Gateway/%s/%s", ns, gw) < 0) {
        return 0;
    }
    const json_t *mine = json_object_get(json_object_get(policy, "spec"), "models");
    const ix_entry *best = NULL;
    const char *best_model = NULL;
    pthread_mutex_lock(&ix->mu);
    if (strcmp(kind, KIND_ROUTING) == 0) {
        /* only the policies claiming one of its models: my models in spec order */
        size_t i;
        const json_t *mm;
        json_array_foreach(mine, i, mm)
        {
            const char *m = str_at(mm, "name");
            char *ck = m ? claim_key(gw_ref, m) : NULL;
            const char *k;
            json_t *v;
            json_object_foreach(json_object_get(ix->claims, ck ? ck : ""), k, v)
            {
                const ix_entry *o = find_locked(ix, k);
                if (!o || !entry_contends(o, kind, name, created)) {
                    continue;
                }
                if (!best ||
                    entry_older(o, str_at(best->facts, "created"), str_at(best->facts, "name"))) {
                    best = o;
                    best_model = m;
                }
            }
            free(ck);
        }
    } else {
        for (size_t i = 0; i < ix->len; i++) {
            const ix_entry *o = &ix->items[i];
            if (strcmp(o->gateway, gw_ref) != 0 || !entry_contends(o, kind, name, created)) {
                continue;
            }
            if (!best ||
                entry_older(o, str_at(best->facts, "created"), str_at(best->facts, "name"))) {
                best = o;
            }
        }
    }
    int found = best != NULL;
    if (best) {
        snprintf(winner, wlen, "%s", str_at(best->facts, "name"));
        snprintf(model, mlen, "%s", best_model ? best_model : "");
    }
    pthread_mutex_unlock(&ix->mu);
    free(gw_ref);
    return found;
}

bool ref_index_gateway_has(ref_index *ix, const char *kind, const char *ns, const char *gateway)
{
    char *gw_ref = NULL;
    if (!ns || !gateway || asprintf(&gw_ref, "Gateway/%s/%s", ns, gateway) < 0) {
        return false;
    }
    bool found = false;
    pthread_mutex_lock(&ix->mu);
    if (strcmp(kind, KIND_ACCESS) == 0) {
        found = json_integer_value(json_object_get(ix->access_gw, gw_ref)) > 0;
    }
    for (size_t i = 0; i < ix->len && !found && strcmp(kind, KIND_ACCESS) != 0; i++) {
        const ix_entry *o = &ix->items[i];
        found = strcmp(o->gateway, gw_ref) == 0 && strcmp(str_at(o->facts, "kind"), kind) == 0 &&
                !json_is_true(json_object_get(o->facts, "deleting"));
    }
    pthread_mutex_unlock(&ix->mu);
    free(gw_ref);
    return found;
}
