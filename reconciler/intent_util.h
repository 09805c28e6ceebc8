/*
 * intent_util: small pure helpers the intent builders share (string buffer,
 * optional copies, Secret data access, base64, Gateway listeners, owner and
 * notes). Internal to reconciler/; the public API is intent.h.
 *
 * Ownership: returned strings are malloc'ed, caller frees; Secret values are
 * freed with intent_wipe_free() so they do not linger in freed memory.
 */
#ifndef AIGW_RECONCILER_INTENT_UTIL_H
#define AIGW_RECONCILER_INTENT_UTIL_H

#include "reconciler/intent.h"

#include <jansson.h>
#include <stddef.h>

typedef struct {
    char *s;
    size_t len, cap;
    int oom;
} intent_buf;

void intent_buf_printf(intent_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text (caller frees), or NULL after an allocation failure. */
char *intent_buf_take(intent_buf *b);

/* *dst = strdup(src) when src is non-NULL and non-empty; -1 on allocation failure. */
int intent_dup_opt(char **dst, const char *src);

/* Zeroes then frees a string (Secret material). NULL allowed. */
void intent_wipe_free(char *s);

/* 1 when the Secret has `key` in data or stringData. */
int intent_secret_has_key(const json_t *secret, const char *key);
/* The value of `key` as standard base64 (data as is, stringData encoded); NULL when absent. */
char *intent_secret_value_b64(const json_t *secret, const char *key);
/* The decoded value of `key` as a NUL-terminated string; NULL when absent, not text or OOM. */
char *intent_secret_value_text(const json_t *secret, const char *key);
/* The value of a ConfigMap's data key (copy), NULL when absent. */
char *intent_configmap_value(const json_t *cm, const char *key);

int intent_owner_init(intent_owner *o, const char *kind, const policy_meta *meta,
                      const policy_target_ref *target, const char *fallback_uid, char *err,
                      size_t errlen);
void intent_owner_free(intent_owner *o);

int intent_notes_add(intent_notes *n, const char *text);
void intent_notes_free(intent_notes *n);

/* The HTTPS listeners of a Gateway (NULL gateway: none). -1 on allocation failure. */
int intent_gateway_https_listeners(const json_t *gateway, intent_listener **out, size_t *n_out);
void intent_listeners_free(intent_listener *ls, size_t n);

#endif
