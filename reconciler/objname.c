/*
 * objname: stable, bounded names and labels for generated objects. See
 * objname.h. The hash is SHA-256 so suffixes are identical on every machine
 * and every release (changing it would rename every generated object).
 */
#include "reconciler/objname.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void objname_hash_hex(const char *data, size_t len, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)data, len, md);
    if (n > (size_t)SHA256_DIGEST_LENGTH * 2) {
        n = (size_t)SHA256_DIGEST_LENGTH * 2;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char b = md[i / 2];
        out[i] = hex[(i % 2 == 0) ? (b >> 4) : (b & 0x0f)];
    }
    out[n] = '\0';
}

char *objname_shorten(const char *s, size_t max)
{
    size_t len = strlen(s);
    if (len <= max) {
        return strdup(s);
    }
    if (max < OBJNAME_HASH_HEX + 2) {
        return NULL;
    }
    size_t keep = max - OBJNAME_HASH_HEX - 1;
    while (keep > 0 && (s[keep - 1] == '-' || s[keep - 1] == '.' || s[keep - 1] == '_')) {
        keep--;
    }
    char hash[OBJNAME_HASH_HEX + 1];
    objname_hash_hex(s, len, OBJNAME_HASH_HEX, hash);
    char *out = malloc(keep + 1 + OBJNAME_HASH_HEX + 1);
    if (!out) {
        return NULL;
    }
    memcpy(out, s, keep);
    if (keep > 0) {
        out[keep++] = '-';
    }
    memcpy(out + keep, hash, OBJNAME_HASH_HEX + 1);
    return out;
}

char *objname_join(const char *base, const char *suffix)
{
    if (!suffix) {
        return objname_shorten(base, OBJNAME_MAX);
    }
    size_t a = strlen(base), b = strlen(suffix);
    char *full = malloc(a + 1 + b + 1);
    if (!full) {
        return NULL;
    }
    snprintf(full, a + 1 + b + 1, "%s-%s", base, suffix);
    char *out = objname_shorten(full, OBJNAME_MAX);
    free(full);
    return out;
}

char *objname_label_value(const char *s)
{
    return objname_shorten(s, OBJNAME_LABEL_MAX);
}

void objname_placeholder_uid(const char *ns, const char *kind, const char *name, char out[37])
{
    char hex[33];
    size_t len = strlen("aigw-render:") + strlen(ns) + strlen(kind) + strlen(name) + 3;
    char *seed = malloc(len);
    if (!seed) {
        /* Allocation failure: fall back to hashing the name alone (still deterministic). */
        objname_hash_hex(name, strlen(name), 32, hex);
    } else {
        snprintf(seed, len, "aigw-render:%s/%s/%s", ns, kind, name);
        objname_hash_hex(seed, strlen(seed), 32, hex);
        free(seed);
    }
    /* RFC 9562 version 8 (custom) with the RFC 4122 variant bits. */
    hex[12] = '8';
    static const char variant[] = "89ab";
    hex[16] = variant[(hex[16] >= 'a' ? hex[16] - 'a' + 10 : hex[16] - '0') & 3];
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

json_t *objname_labels(const char *policy_name, const char *policy_kind)
{
    char *v = objname_label_value(policy_name);
    if (!v) {
        return NULL;
    }
    json_t *labels = json_object();
    if (!labels ||
        json_object_set_new(labels, OBJNAME_LABEL_MANAGED_BY, json_string(OBJNAME_MANAGER)) ||
        json_object_set_new(labels, OBJNAME_LABEL_POLICY, json_string(v)) ||
        json_object_set_new(labels, OBJNAME_LABEL_POLICY_KIND, json_string(policy_kind))) {
        json_decref(labels);
        labels = NULL;
    }
    free(v);
    return labels;
}

char *objname_selector(const char *policy_name, const char *policy_kind)
{
    char *v = objname_label_value(policy_name);
    if (!v) {
        return NULL;
    }
    size_t len = strlen(OBJNAME_LABEL_MANAGED_BY) + strlen(OBJNAME_MANAGER) +
                 strlen(OBJNAME_LABEL_POLICY) + strlen(v) + strlen(OBJNAME_LABEL_POLICY_KIND) +
                 strlen(policy_kind) + 6;
    char *out = malloc(len);
    if (out) {
        snprintf(out, len, "%s=%s,%s=%s,%s=%s", OBJNAME_LABEL_MANAGED_BY, OBJNAME_MANAGER,
                 OBJNAME_LABEL_POLICY, v, OBJNAME_LABEL_POLICY_KIND, policy_kind);
    }
    free(v);
    return out;
}

json_t *objname_metadata(const char *name, const char *ns, const char *policy_api_version,
                         const char *policy_kind, const char *policy_name, const char *policy_uid)
{
    json_t *labels = objname_labels(policy_name, policy_kind);
    json_t *owner = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "apiVersion", policy_api_version,
                              "kind", policy_kind, "name", policy_name, "uid", policy_uid,
                              "controller", 1, "blockOwnerDeletion", 1);
    json_t *meta = NULL;
    if (labels && owner) {
        meta = json_pack("{s:s, s:s, s:O, s:[O]}", "name", name, "namespace", ns, "labels", labels,
                         "ownerReferences", owner);
    }
    json_decref(labels);
    json_decref(owner);
    return meta;
}
