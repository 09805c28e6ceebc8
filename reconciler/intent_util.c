/* intent_util: pure helpers shared by the intent builders. See intent_util.h. */
#include "reconciler/intent_util.h"

#include "common/base64.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void intent_buf_printf(intent_buf *b, const char *fmt, ...)
{
    if (b->oom) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        va_end(ap2);
        return;
    }
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 64);
        while (cap < b->len + (size_t)n + 1) {
            cap *= 2;
        }
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = 1;
            va_end(ap2);
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    b->len += (size_t)n;
}

char *intent_buf_take(intent_buf *b)
{
    if (b->oom) {
        free(b->s);
        memset(b, 0, sizeof *b);
        return NULL;
    }
    char *s = b->s ? b->s : strdup("");
    memset(b, 0, sizeof *b);
    return s;
}

int intent_dup_opt(char **dst, const char *src)
{
    if (!src || !src[0]) {
        return 0;
    }
    *dst = strdup(src);
    return *dst ? 0 : -1;
}

void intent_wipe_free(char *s)
{
    if (s) {
        volatile char *p = s;
        while (*p) {
            *p++ = 0;
        }
        free(s);
    }
}

int intent_secret_has_key(const json_t *secret, const char *key)
{
    return json_is_string(json_object_get(json_object_get(secret, "data"), key)) ||
           json_is_string(json_object_get(json_object_get(secret, "stringData"), key));
}

char *intent_secret_value_b64(const json_t *secret, const char *key)
{
    const char *d = json_string_value(json_object_get(json_object_get(secret, "data"), key));
    if (d) {
        return strdup(d);
    }
    const char *s = json_string_value(json_object_get(json_object_get(secret, "stringData"), key));
    return s ? base64_encode(s, strlen(s)) : NULL;
}

char *intent_secret_value_text(const json_t *secret, const char *key)
{
    const char *s = json_string_value(json_object_get(json_object_get(secret, "stringData"), key));
    if (s) {
        return strdup(s);
    }
    const char *d = json_string_value(json_object_get(json_object_get(secret, "data"), key));
    if (!d) {
        return NULL;
    }
    size_t len = 0;
    char *v = (char *)base64_decode(d, strlen(d), &len);
    if (v && strlen(v) != len) {
        intent_wipe_free(v); /* embedded NUL: not text */
        return NULL;
    }
    return v;
}

char *intent_configmap_value(const json_t *cm, const char *key)
{
    const char *s = json_string_value(json_object_get(json_object_get(cm, "data"), key));
    return s ? strdup(s) : NULL;
}

int intent_owner_init(intent_owner *o, const char *kind, const policy_meta *meta,
                      const policy_target_ref *target, const char *fallback_uid, char *err,
                      size_t errlen)
{
    const char *uid = meta->uid ? meta->uid : fallback_uid;
    if (!meta->name || !meta->ns || !uid || !target->name) {
        snprintf(err, errlen, "policy lacks %s",
                 !meta->name ? "metadata.name"
                 : !meta->ns ? "metadata.namespace"
                 : !uid      ? "metadata.uid"
                             : "spec.targetRef.name");
        return -1;
    }
    o->api_version = strdup(POLICY_API_VERSION);
    o->kind = strdup(kind);
    o->name = strdup(meta->name);
    o->ns = strdup(meta->ns);
    o->uid = strdup(uid);
    o->gateway = strdup(target->name);
    if (!o->api_version || !o->kind || !o->name || !o->ns || !o->uid || !o->gateway) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

void intent_owner_free(intent_owner *o)
{
    free(o->api_version);
    free(o->kind);
    free(o->name);
    free(o->ns);
    free(o->uid);
    free(o->gateway);
    memset(o, 0, sizeof *o);
}

int intent_notes_add(intent_notes *n, const char *text)
{
    char **items = realloc(n->items, (n->len + 1) * sizeof *items);
    if (!items) {
        return -1;
    }
    n->items = items;
    if (!(n->items[n->len] = strdup(text))) {
        return -1;
    }
    n->len++;
    return 0;
}

void intent_notes_free(intent_notes *n)
{
    for (size_t i = 0; i < n->len; i++) {
        free(n->items[i]);
    }
    free(n->items);
    memset(n, 0, sizeof *n);
}

int intent_gateway_https_listeners(const json_t *gateway, intent_listener **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    const json_t *ls = json_object_get(json_object_get(gateway, "spec"), "listeners");
    if (!json_is_array(ls) || json_array_size(ls) == 0) {
        return 0;
    }
    intent_listener *arr = calloc(json_array_size(ls), sizeof *arr);
    if (!arr) {
        return -1;
    }
    size_t i, n = 0;
    const json_t *l;
    json_array_foreach(ls, i, l)
    {
        const char *name = json_string_value(json_object_get(l, "name"));
        const char *proto = json_string_value(json_object_get(l, "protocol"));
        if (!name || !proto || strcmp(proto, "HTTPS") != 0) {
            continue;
        }
        intent_listener *x = &arr[n++];
        x->port = json_integer_value(json_object_get(l, "port"));
        x->name = strdup(name);
        x->protocol = strdup(proto);
        if (!x->name || !x->protocol ||
            intent_dup_opt(&x->hostname, json_string_value(json_object_get(l, "hostname")))) {
            intent_listeners_free(arr, n);
            return -1;
        }
    }
    *out = arr;
    *n_out = n;
    return 0;
}

void intent_listeners_free(intent_listener *ls, size_t n)
{
    for (size_t i = 0; ls && i < n; i++) {
        free(ls[i].name);
        free(ls[i].protocol);
        free(ls[i].hostname);
    }
    free(ls);
}
