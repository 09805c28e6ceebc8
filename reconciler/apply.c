/*
 * apply: decisions about live objects (content hash, ownership, staleness).
 * See apply.h.
 */
#include "reconciler/apply.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *apply_content_hash(const json_t *obj)
{
    json_t *copy = json_deep_copy(obj);
    if (!copy) {
        return NULL;
    }
    json_t *ann = json_object_get(json_object_get(copy, "metadata"), "annotations");
    json_object_del(ann, APPLY_HASH_ANNOTATION);
    if (json_is_object(ann) && json_object_size(ann) == 0) {
        json_object_del(json_object_get(copy, "metadata"), "annotations");
    }
    char *text = json_dumps(copy, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(copy);
    if (!text) {
        return NULL;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int ok = EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL);
    free(text);
    if (ok != 1) {
        return NULL;
    }
    char *hex = malloc(mdlen * 2 + 1);
    if (!hex) {
        return NULL;
    }
    for (unsigned int i = 0; i < mdlen; i++) {
        snprintf(hex + (size_t)i * 2, 3, "%02x", md[i]);
    }
    return hex;
}

json_t *apply_stamp(const json_t *desired)
{
    char *hash = apply_content_hash(desired);
    json_t *out = hash ? json_deep_copy(desired) : NULL;
    json_t *meta = json_object_get(out, "metadata");
    if (!out || !json_is_object(meta)) {
        free(hash);
        json_decref(out);
        return NULL;
    }
    json_t *ann = json_object_get(meta, "annotations");
    if (!json_is_object(ann)) {
        ann = json_object();
        if (!ann || json_object_set_new(meta, "annotations", ann) != 0) {
            free(hash);
            json_decref(out);
            return NULL;
        }
    }
    int rc = json_object_set_new(ann, APPLY_HASH_ANNOTATION, json_string(hash));
    free(hash);
    if (rc != 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

const json_t *apply_controller_ref(const json_t *obj)
{
    const json_t *refs = json_object_get(json_object_get(obj, "metadata"), "ownerReferences");
    size_t i;
    const json_t *r;
    json_array_foreach(refs, i, r)
    {
        if (json_is_true(json_object_get(r, "controller"))) {
            return r;
        }
    }
    return NULL;
}

bool apply_owned_by(const json_t *obj, const char *uid)
{
    const char *have = json_string_value(json_object_get(apply_controller_ref(obj), "uid"));
    return uid && have && strcmp(have, uid) == 0;
}

static const char *annotation(const json_t *obj, const char *key)
{
    return json_string_value(
        json_object_get(json_object_get(json_object_get(obj, "metadata"), "annotations"), key));
}

apply_decision apply_decide(const json_t *stamped, const json_t *live, const char *uid, char *why,
                            size_t whylen)
{
    if (why && whylen) {
        why[0] = '\0';
    }
    if (!live) {
        return APPLY_CREATE;
    }
    if (!apply_owned_by(live, uid)) {
        const json_t *ref = apply_controller_ref(live);
        if (why && whylen) {
            if (ref) {
                snprintf(why, whylen, "%s %s exists and is controlled by %s %s",
                         json_string_value(json_object_get(stamped, "kind")),
                         json_string_value(
                             json_object_get(json_object_get(stamped, "metadata"), "name")),
                         json_string_value(json_object_get(ref, "kind")),
                         json_string_value(json_object_get(ref, "name")));
            } else {
                snprintf(why, whylen, "%s %s exists and is not managed by aigw",
                         json_string_value(json_object_get(stamped, "kind")),
                         json_string_value(
                             json_object_get(json_object_get(stamped, "metadata"), "name")));
            }
        }
        return APPLY_CONFLICT;
    }
    const char *want = annotation(stamped, APPLY_HASH_ANNOTATION);
    const char *have = annotation(live, APPLY_HASH_ANNOTATION);
    if (want && have && strcmp(want, have) == 0) {
        return APPLY_SKIP;
    }
    return APPLY_UPDATE;
}

static bool same_str(const json_t *a, const json_t *b)
{
    const char *x = json_string_value(a), *y = json_string_value(b);
    return x && y && strcmp(x, y) == 0;
}

bool apply_is_stale(const json_t *live, const char *uid, const json_t *desired)
{
    if (!apply_owned_by(live, uid)) {
        return false;
    }
    const json_t *lname = json_object_get(json_object_get(live, "metadata"), "name");
    const json_t *lkind = json_object_get(live, "kind");
    size_t i;
    const json_t *d;
    json_array_foreach(desired, i, d)
    {
        if (same_str(json_object_get(d, "kind"), lkind) &&
            same_str(json_object_get(json_object_get(d, "metadata"), "name"), lname)) {
            return false;
        }
    }
    return true;
}
