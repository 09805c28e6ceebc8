/*
 * conditions: builds a policy's status (DESIGN §2) from this reconcile's
 * findings, keeping lastTransitionTime when a condition's status is unchanged.
 */
#include "reconciler/conditions.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const routing_order[] = {COND_ACCEPTED, COND_GATEWAY_BOUND,
                                            COND_PROVIDERS_CONFIGURED, COND_ROUTING_ACTIVE};
static const char *const access_order[] = {COND_ACCEPTED, COND_GATEWAY_BOUND, COND_BUNDLE_READY,
                                           COND_MTLS_ACTIVE};

void cond_format_time(time_t t, char *buf, size_t len)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(buf, len, "1970-01-01T00:00:00Z");
    }
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum_(char c)
{
    return is_alpha(c) || (c >= '0' && c <= '9') || c == '_';
}

bool cond_reason_valid(const char *reason)
{
    if (!reason || !is_alpha(reason[0]) || strlen(reason) > 1024) {
        return false;
    }
    size_t n = strlen(reason);
    for (size_t i = 1; i < n; i++) {
        if (!is_alnum_(reason[i]) && reason[i] != ',' && reason[i] != ':') {
            return false;
        }
    }
    return is_alnum_(reason[n - 1]);
}

int status_builder_init(status_builder *b, status_kind kind, const json_t *live_status,
                        int64_t generation, time_t now)
{
    memset(b, 0, sizeof *b);
    b->kind = kind;
    b->generation = generation;
    cond_format_time(now, b->now, sizeof b->now);
    if (json_is_object(live_status)) {
        b->old_status = json_deep_copy(live_status);
        if (!b->old_status) {
            return -1;
        }
        b->old_conds = json_object_get(b->old_status, "conditions");
    }
    b->conds = json_array();
    b->extra = json_object();
    if (!b->conds || !b->extra) {
        status_builder_free(b);
        return -1;
    }
    return 0;
}

void status_builder_free(status_builder *b)
{
    json_decref(b->old_status);
    json_decref(b->conds);
    json_decref(b->extra);
    b->old_status = b->conds = b->extra = NULL;
    b->old_conds = NULL;
}

static json_t *find_in(const json_t *conds, const char *type, size_t *idx)
{
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c)
    {
        const char *t = json_string_value(json_object_get(c, "type"));
        if (t && strcmp(t, type) == 0) {
            if (idx) {
                *idx = i;
            }
            return c;
        }
    }
    return NULL;
}

const json_t *status_find_condition(const json_t *status, const char *type)
{
    return find_in(json_object_get(status, "conditions"), type, NULL);
}

/* Cuts a message at COND_MESSAGE_MAX bytes without splitting a UTF-8 sequence. */
static void cut_message(char *msg)
{
    size_t n = strlen(msg);
    if (n <= COND_MESSAGE_MAX) {
        return;
    }
    n = COND_MESSAGE_MAX;
    while (n > 0 && ((unsigned char)msg[n] & 0xC0) == 0x80) {
        n--;
    }
    msg[n] = '\0';
}

static int set_condition(status_builder *b, const char *type, bool ok, const char *reason,
                         const char *message)
{
    const char *st = ok ? "True" : "False";
    const char *ltt = b->now;
    const json_t *old = find_in(b->old_conds, type, NULL);
    const char *old_st = json_string_value(json_object_get(old, "status"));
    const char *old_ltt = json_string_value(json_object_get(old, "lastTransitionTime"));
    if (old_st && old_ltt && strcmp(old_st, st) == 0) {
        ltt = old_ltt;
    }
    json_t *c = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "type", type, "status", st,
                          "observedGeneration", (json_int_t)b->generation, "lastTransitionTime",
                          ltt, "reason", reason, "message", message ? message : "");
    if (!c) {
        return -1;
    }
    size_t idx;
    if (find_in(b->conds, type, &idx)) {
        return json_array_set_new(b->conds, idx, c);
    }
    return json_array_append_new(b->conds, c);
}

int status_builder_condition(status_builder *b, const char *type, bool ok, const char *reason,
                             const char *fmt, ...)
{
    if (!b->conds || !cond_reason_valid(reason)) {
        b->failed = 1;
        return -1;
    }
    char *msg = NULL;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return -1;
        }
        cut_message(msg);
    }
    int rc = set_condition(b, type, ok, reason, msg);
    free(msg);
    if (rc != 0) {
        b->failed = 1;
    }
    return rc;
}

int status_builder_get(const status_builder *b, const char *type)
{
    const json_t *c = find_in(b->conds, type, NULL);
    if (!c) {
        return -1;
    }
    const char *st = json_string_value(json_object_get(c, "status"));
    return st && strcmp(st, "True") == 0 ? 1 : 0;
}

int status_builder_field(status_builder *b, const char *field, json_t *value)
{
    if (!b->extra || !value || json_object_set_new(b->extra, field, value) != 0) {
        b->failed = 1;
        return -1;
    }
    return 0;
}

static void kind_order(status_kind kind, const char *const **order, size_t *n)
{
    if (kind == STATUS_KIND_ROUTING) {
        *order = routing_order;
        *n = sizeof routing_order / sizeof routing_order[0];
    } else {
        *order = access_order;
        *n = sizeof access_order / sizeof access_order[0];
    }
}

/* Programmed: all others True, else the first failing one's reason and message. */
static int add_programmed(status_builder *b, json_t *ordered, const char *const *order, size_t n)
{
    const json_t *failing = NULL;
    for (size_t i = 0; i < n && !failing; i++) {
        const json_t *c = find_in(ordered, order[i], NULL);
        const char *st = json_string_value(json_object_get(c, "status"));
        if (!c) {
            continue;
        }
        if (!st || strcmp(st, "True") != 0) {
            failing = c;
        }
    }
    json_t *saved = b->conds;
    b->conds = ordered;
    int rc;
    if (failing) {
        rc = set_condition(b, COND_PROGRAMMED, false,
                           json_string_value(json_object_get(failing, "reason")),
                           json_string_value(json_object_get(failing, "message")));
    } else if (json_array_size(ordered) == 0) {
        rc = set_condition(b, COND_PROGRAMMED, false, "Pending", "not reconciled yet");
    } else {
        rc = set_condition(b, COND_PROGRAMMED, true, REASON_PROGRAMMED, "all conditions are True");
    }
    b->conds = saved;
    return rc;
}

json_t *status_builder_finish(status_builder *b)
{
    json_t *out = NULL;
    json_t *ordered = json_array();
    const char *const *order;
    size_t n;
    kind_order(b->kind, &order, &n);
    if (!ordered || b->failed || !b->conds) {
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *c = find_in(b->conds, order[i], NULL);
        if (c && json_array_append(ordered, c) != 0) {
            goto done;
        }
    }
    if (add_programmed(b, ordered, order, n) != 0) {
        goto done;
    }
    out = json_deep_copy(b->extra);
    if (!out || json_object_set_new(out, "observedGeneration", json_integer(b->generation)) != 0 ||
        json_object_set(out, "conditions", ordered) != 0) {
        json_decref(out);
        out = NULL;
    }
done:
    json_decref(ordered);
    status_builder_free(b);
    return out;
}

json_t *status_item_new(const char *name, bool ready, const char *error)
{
    json_t *o = json_pack("{s:s, s:b}", "name", name ? name : "", "ready", ready);
    if (o && error && json_object_set_new(o, "error", json_string(error)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *status_bundle_new(int certificates, int expired, const char *next_expiry)
{
    json_t *o = json_pack("{s:i, s:i}", "certificates", certificates, "expired", expired);
    if (o && next_expiry && json_object_set_new(o, "nextExpiry", json_string(next_expiry)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

bool status_equal(const json_t *a, const json_t *b)
{
    bool a_empty = !a || json_is_null(a) || (json_is_object(a) && json_object_size(a) == 0);
    bool b_empty = !b || json_is_null(b) || (json_is_object(b) && json_object_size(b) == 0);
    if (a_empty || b_empty) {
        return a_empty && b_empty;
    }
    return json_equal(a, b) != 0;
}
