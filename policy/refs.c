/*
 * refs: the admission rules that read other objects (DESIGN §3), through an
 * object_source so the webhook (API server) and `aigw validate --objects`
 * (files) run the same code.
 *
 * Ratcheting: on UPDATE a check runs only when the part of the spec it looks
 * at changed, so an object that was fine when written is not blocked later by
 * something outside it (a rotated bundle, a deleted Secret); the reconciler
 * reports those in status instead.
 *
 * Budget: all lookups of one request share lk->deadline_ms. A lookup that
 * fails or times out never denies; it adds a warning naming the check.
 *
 * Races: two policies created at the same moment can both pass the "already
 * served" / "second AIAccessPolicy" checks. The reconciler settles it: the
 * oldest policy (creationTimestamp, then name) wins, the other gets
 * Accepted=False, reason Conflicted.
 *
 * Secret values are only tested for presence and non-emptiness; the
 * serverCertRef pair is decoded into temporary buffers that are cleansed and
 * freed before returning. Nothing is logged.
 */
#include "policy/validate.h"

#include "common/base64.h"
#include "common/spiffe_bundle.h"
#include "common/x509_pem.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECONDS_PER_DAY 86400

static int str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }
    return strcmp(a, b) == 0;
}

static const char *policy_ns(const policy_meta *m)
{
    return m->ns != NULL && m->ns[0] != '\0' ? m->ns : "default";
}

static objsrc_status lookup_get(const policy_lookup *lk, const char *api_version, const char *kind,
                                const char *ns, const char *name, json_t **out, char *err,
                                size_t errlen)
{
    *out = NULL;
    if (lk->deadline_ms > 0 && objsrc_now_ms() >= lk->deadline_ms) {
        snprintf(err, errlen, "lookup budget exhausted");
        return OBJSRC_TIMEOUT;
    }
    return object_source_get(lk->src, api_version, kind, ns, name, lk->deadline_ms, out, err,
                             errlen);
}

static objsrc_status lookup_list(const policy_lookup *lk, const char *kind, const char *ns,
                                 json_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (lk->deadline_ms > 0 && objsrc_now_ms() >= lk->deadline_ms) {
        snprintf(err, errlen, "lookup budget exhausted");
        return OBJSRC_TIMEOUT;
    }
    return object_source_list(lk->src, POLICY_API_VERSION, kind, ns, NULL, lk->deadline_ms, out,
                              err, errlen);
}

static void could_not_check(policy_warnings *w, const char *what, objsrc_status st, const char *err)
{
    policy_warnings_add(w, "%s could not be checked (%s: %s); the reconciler will report it", what,
                        st == OBJSRC_TIMEOUT ? "timed out" : "lookup failed", err);
}

/*
 * The value under `key`: a Secret's `data` (base64) or `stringData` (plain,
 * offline files only); a ConfigMap's `data` (plain) or `binaryData` (base64).
 */
static const char *data_value(const json_t *obj, int is_secret, const char *key, int *is_base64)
{
    const char *v = json_string_value(json_object_get(json_object_get(obj, "data"), key));
    if (v != NULL) {
        *is_base64 = is_secret;
        return v;
    }
    v = json_string_value(
        json_object_get(json_object_get(obj, is_secret ? "stringData" : "binaryData"), key));
    *is_base64 = v != NULL && !is_secret;
    return v;
}

/* ------------------------------------------------------- routing: Secrets */

static const policy_provider *find_old_provider(const policy_routing *old, const char *name)
{
    for (size_t i = 0; old != NULL && name != NULL && i < old->n_providers; i++) {
        if (str_eq(old->providers[i].name, name)) {
            return &old->providers[i];
        }
    }
    return NULL;
}

static int same_secret_ref(const policy_credentials *a, const policy_credentials *b)
{
    const policy_secret_ref *ra = policy_cred_secret_ref(a, NULL);
    const policy_secret_ref *rb = policy_cred_secret_ref(b, NULL);
    if (ra == NULL || rb == NULL) {
        return ra == rb;
    }
    return a->type == b->type && str_eq(ra->name, rb->name) && str_eq(ra->key, rb->key);
}

static void check_secret(const policy_routing *p, size_t i, const policy_lookup *lk,
                         field_errors *errs, policy_warnings *warns)
{
    const policy_provider *pr = &p->providers[i];
    const char *field = NULL;
    const policy_secret_ref *ref = policy_cred_secret_ref(&pr->credentials, &field);
    if (ref == NULL || ref->name == NULL || ref->key == NULL) {
        return; /* absent or incomplete: the pure rules reported it */
    }
    char path[256], what[320], err[256] = "";
    snprintf(path, sizeof path, "spec.providers[%zu].credentials.%s", i, field);
    json_t *secret = NULL;
    objsrc_status st =
        lookup_get(lk, "v1", "Secret", policy_ns(&p->meta), ref->name, &secret, err, sizeof err);
    if (st == OBJSRC_NOT_FOUND) {
        char np[300];
        snprintf(np, sizeof np, "%s.name", path);
        field_errors_add(errs, FIELD_NOT_FOUND, np, ref->name, NULL);
    } else if (st != OBJSRC_OK) {
        snprintf(what, sizeof what, "%s: Secret \"%s\"", path, ref->name);
        could_not_check(warns, what, st, err);
    } else {
        int b64 = 0;
        const char *v = data_value(secret, 1, ref->key, &b64);
        if (v == NULL || v[0] == '\0') {
            char kp[300];
            snprintf(kp, sizeof kp, "%s.key", path);
            if (v == NULL) {
                field_errors_add(errs, FIELD_NOT_FOUND, kp, ref->key, NULL);
            } else {
                field_errors_add(errs, FIELD_INVALID, kp, ref->key,
                                 "Secret \"%s\" holds an empty value under this key", ref->name);
            }
        }
    }
    json_decref(secret);
}

/* ----------------------------------------- routing: models on the Gateway */

static int targets_same_gateway(const policy_target_ref *a, const policy_target_ref *b)
{
    return str_eq(a->name, b->name) && str_eq(a->group, b->group) && str_eq(a->kind, b->kind);
}

static int model_was_served(const policy_routing *old, const char *name)
{
    for (size_t i = 0; old != NULL && i < old->n_models; i++) {
        if (str_eq(old->models[i].name, name)) {
            return 1;
        }
    }
    return 0;
}

static int is_other_live(const json_t *item, const policy_meta *self)
{
    const json_t *md = json_object_get(item, "metadata");
    const char *name = json_string_value(json_object_get(md, "name"));
    const char *ns = json_string_value(json_object_get(md, "namespace"));
    if (ns == NULL || ns[0] == '\0') {
        ns = "default";
    }
    if (json_object_get(md, "deletionTimestamp") != NULL &&
        !json_is_null(json_object_get(md, "deletionTimestamp"))) {
        return 0;
    }
    return !(str_eq(name, self->name) && strcmp(ns, policy_ns(self)) == 0);
}

/* Models of p that `other` also serves on the same Gateway. */
static int check_against_other(const policy_routing *p, const policy_routing *old, int all,
                               const json_t *item, field_errors *errs)
{
    policy_routing o;
    field_errors ignored;
    field_errors_init(&ignored);
    int rc = policy_routing_parse(item, &o, &ignored);
    field_errors_free(&ignored);
    if (rc < 0) {
        policy_routing_free(&o);
        return -1;
    }
    if (targets_same_gateway(&o.target_ref, &p->target_ref)) {
        for (size_t i = 0; i < p->n_models; i++) {
            const char *mn = p->models[i].name;
            if (mn == NULL || (!all && model_was_served(old, mn))) {
                continue;
            }
            for (size_t j = 0; j < o.n_models; j++) {
                if (str_eq(o.models[j].name, mn)) {
                    char path[64];
                    snprintf(path, sizeof path, "spec.models[%zu].name", i);
                    field_errors_add(errs, FIELD_INVALID, path, mn,
                                     "already served on Gateway \"%s\" by AIRoutingPolicy \"%s\"",
                                     p->target_ref.name, o.meta.name ? o.meta.name : "");
                    break;
                }
            }
        }
    }
    policy_routing_free(&o);
    return 0;
}

static void check_models_on_gateway(const policy_routing *p, const policy_routing *old,
                                    const policy_lookup *lk, field_errors *errs,
                                    policy_warnings *warns)
{
    if (p->target_ref.name == NULL || p->n_models == 0) {
        return;
    }
    int all = old == NULL || !targets_same_gateway(&old->target_ref, &p->target_ref);
    int any_new = all;
    for (size_t i = 0; i < p->n_models && !any_new; i++) {
        any_new = p->models[i].name != NULL && !model_was_served(old, p->models[i].name);
    }
    if (!any_new) {
        return;
    }
    json_t *items = NULL;
    char err[256] = "";
    objsrc_status st =
        lookup_list(lk, POLICY_KIND_ROUTING_NAME, policy_ns(&p->meta), &items, err, sizeof err);
    if (st == OBJSRC_NOT_FOUND) {
        json_decref(items);
        return;
    }
    if (st != OBJSRC_OK) {
        could_not_check(warns, "spec.models: other AIRoutingPolicies on the Gateway", st, err);
        json_decref(items);
        return;
    }
    size_t i;
    const json_t *item;
    json_array_foreach(items, i, item)
    {
        if (is_other_live(item, &p->meta) && check_against_other(p, old, all, item, errs) != 0) {
            errs->oom = 1;
            break;
        }
    }
    json_decref(items);
}

void policy_routing_check_refs(const policy_routing *p, const policy_routing *old,
                               const policy_lookup *lk, field_errors *errs, policy_warnings *warns)
{
    if (lk == NULL || lk->src == NULL) {
        return;
    }
    for (size_t i = 0; i < p->n_providers; i++) {
        const policy_provider *pr = &p->providers[i];
        const policy_provider *op = find_old_provider(old, pr->name);
        if (old == NULL || op == NULL || !same_secret_ref(&op->credentials, &pr->credentials)) {
            check_secret(p, i, lk, errs, warns);
        }
    }
    check_models_on_gateway(p, old, lk, errs, warns);
}

/* ------------------------------------------ access: one policy per Gateway */

static void check_second_access_policy(const policy_access *p, const policy_lookup *lk,
                                       field_errors *errs, policy_warnings *warns)
{
    json_t *items = NULL;
    char err[256] = "";
    objsrc_status st =
        lookup_list(lk, POLICY_KIND_ACCESS_NAME, policy_ns(&p->meta), &items, err, sizeof err);
    if (st != OBJSRC_OK) {
        if (st != OBJSRC_NOT_FOUND) {
            could_not_check(warns, "spec.targetRef: other AIAccessPolicies on the Gateway", st,
                            err);
        }
        json_decref(items);
        return;
    }
    size_t i;
    const json_t *item;
    json_array_foreach(items, i, item)
    {
        if (!is_other_live(item, &p->meta)) {
            continue;
        }
        policy_access o;
        field_errors ignored;
        field_errors_init(&ignored);
        policy_access_parse(item, &o, &ignored);
        field_errors_free(&ignored);
        if (targets_same_gateway(&o.target_ref, &p->target_ref)) {
            field_errors_add(errs, FIELD_INVALID, "spec.targetRef.name", p->target_ref.name,
                             "Gateway already has AIAccessPolicy \"%s\"",
                             o.meta.name ? o.meta.name : "");
            policy_access_free(&o);
            break;
        }
        policy_access_free(&o);
    }
    json_decref(items);
}

/* ---------------------------------------------- access: serverCertRef */

/* Decodes a Secret value into a NUL-terminated buffer; caller cleanses and frees. */
static char *secret_bytes(const json_t *secret, const char *key, size_t *len)
{
    int b64 = 0;
    const char *v = data_value(secret, 1, key, &b64);
    if (v == NULL || v[0] == '\0') {
        return NULL;
    }
    if (!b64) {
        *len = strlen(v);
        return strdup(v);
    }
    /* base64_decode NUL-terminates, so the decoded buffer is the result. */
    size_t n = 0;
    unsigned char *out = base64_decode(v, strlen(v), &n);
    if (out == NULL || n == 0) {
        free(out);
        return NULL;
    }
    *len = n;
    return (char *)out;
}

static void check_server_cert(const policy_access *p, const policy_lookup *lk, field_errors *errs,
                              policy_warnings *warns)
{
    const char *path = "spec.mtls.serverCertRef.name";
    const char *name = p->server_cert_name;
    json_t *secret = NULL;
    char err[256] = "";
    objsrc_status st =
        lookup_get(lk, "v1", "Secret", policy_ns(&p->meta), name, &secret, err, sizeof err);
    if (st == OBJSRC_NOT_FOUND) {
        field_errors_add(errs, FIELD_NOT_FOUND, path, name, NULL);
        return;
    }
    if (st != OBJSRC_OK) {
        char what[320];
        snprintf(what, sizeof what, "spec.mtls.serverCertRef: Secret \"%s\"", name);
        could_not_check(warns, what, st, err);
        return;
    }
    size_t clen = 0, klen = 0, calen = 0;
    char *crt = secret_bytes(secret, "tls.crt", &clen);
    char *key = secret_bytes(secret, "tls.key", &klen);
    char *ca = secret_bytes(secret, "ca.crt", &calen);
    char why[256] = "";
    if (crt == NULL || key == NULL) {
        field_errors_add(errs, FIELD_INVALID, path, name,
                         "Secret must hold non-empty tls.crt and tls.key");
    } else if (x509_check_tls_pair(crt, clen, key, klen, lk->now, why, sizeof why) != 0) {
        field_errors_add(errs, FIELD_INVALID, path, name, "%s", why);
    } else if (ca == NULL) {
        field_errors_add(errs, FIELD_INVALID, path, name,
                         "Secret must hold ca.crt, the CA agents trust for this certificate");
    }
    if (key != NULL) {
        OPENSSL_cleanse(key, klen);
    }
    free(key);
    free(crt);
    free(ca);
    json_decref(secret);
}

/* ------------------------------------------------- access: bundle health */

static void report_bundle(const policy_access *p, const spiffe_bundle *b, const char *where,
                          int64_t now, field_errors *errs, policy_warnings *warns)
{
    (void)p;
    if (b->total == 0) {
        field_errors_add(errs, FIELD_INVALID, "spec.mtls.trustBundleConfigMap", where,
                         "no X.509 CA certificate in the bundle");
        return;
    }
    if (b->valid == 0) {
        char counts[160] = "";
        size_t n = 0;
        const struct {
            size_t v;
            const char *label;
        } parts[] = {
            {b->expired, "expired"}, {b->not_yet_valid, "not yet valid"}, {b->not_ca, "not a CA"}};
        for (size_t i = 0; i < 3; i++) {
            if (parts[i].v == 0) {
                continue;
            }
            int w = snprintf(counts + n, sizeof counts - n, "%s%zu %s", n ? ", " : "", parts[i].v,
                             parts[i].label);
            if (w > 0 && (size_t)w < sizeof counts - n) {
                n += (size_t)w;
            }
        }
        field_errors_add(errs, FIELD_INVALID, "spec.mtls.trustBundleConfigMap", where,
                         "no CA certificate valid now (%s)", counts);
        return;
    }
    if (b->expired > 0) {
        policy_warnings_add(warns,
                            "trust bundle %s holds %zu expired CA certificate(s); they are "
                            "skipped",
                            where, b->expired);
    }
    if (b->next_expiry >= 0 && b->next_expiry - now < SECONDS_PER_DAY) {
        char ts[32] = "";
        x509_format_rfc3339(b->next_expiry, ts, sizeof ts);
        policy_warnings_add(warns, "trust bundle %s has a CA expiring within 24h (%s)", where, ts);
    }
}

static void check_bundle(const policy_access *p, const policy_lookup *lk, field_errors *errs,
                         policy_warnings *warns)
{
    char where[256], err[256] = "";
    snprintf(where, sizeof where, "%s/%s", p->bundle.ns, p->bundle.name);
    json_t *cm = NULL;
    objsrc_status st =
        lookup_get(lk, "v1", "ConfigMap", p->bundle.ns, p->bundle.name, &cm, err, sizeof err);
    if (st == OBJSRC_NOT_FOUND) {
        policy_warnings_add(warns,
                            "trust bundle ConfigMap %s does not exist yet; BundleReady stays "
                            "False until it does",
                            where);
        return;
    }
    if (st != OBJSRC_OK) {
        char what[320];
        snprintf(what, sizeof what, "trust bundle ConfigMap %s", where);
        could_not_check(warns, what, st, err);
        return;
    }
    int b64 = 0;
    const char *v = data_value(cm, 0, p->bundle.key, &b64);
    if (v == NULL) {
        field_errors_add(errs, FIELD_INVALID, "spec.mtls.trustBundleConfigMap", where,
                         "key \"%s\" not found in the ConfigMap", p->bundle.key);
        json_decref(cm);
        return;
    }
    unsigned char *raw = NULL;
    size_t n = strlen(v);
    if (b64 && (raw = base64_decode(v, strlen(v), &n)) == NULL) {
        field_errors_add(errs, FIELD_INVALID, "spec.mtls.trustBundleConfigMap", where,
                         "key \"%s\" is not valid base64", p->bundle.key);
        json_decref(cm);
        return;
    }
    spiffe_bundle b;
    char perr[256];
    const char *data = raw != NULL ? (const char *)raw : v;
    if (spiffe_bundle_parse(data, n, lk->now, &b, perr, sizeof perr) != 0) {
        field_errors_add(errs, FIELD_INVALID, "spec.mtls.trustBundleConfigMap", where,
                         "the bundle does not parse: %s", perr);
    } else {
        report_bundle(p, &b, where, lk->now, errs, warns);
        spiffe_bundle_free(&b);
    }
    free(raw);
    json_decref(cm);
}

void policy_access_check_refs(const policy_access *p, const policy_access *old,
                              const policy_lookup *lk, field_errors *errs, policy_warnings *warns)
{
    if (lk == NULL || lk->src == NULL || !p->has_mtls) {
        return;
    }
    if (p->target_ref.name != NULL &&
        (old == NULL || !targets_same_gateway(&old->target_ref, &p->target_ref))) {
        check_second_access_policy(p, lk, errs, warns);
    }
    if (p->has_server_cert_ref && p->server_cert_name != NULL &&
        (old == NULL || !str_eq(old->server_cert_name, p->server_cert_name))) {
        check_server_cert(p, lk, errs, warns);
    }
    if (old == NULL || !str_eq(old->bundle.ns, p->bundle.ns) ||
        !str_eq(old->bundle.name, p->bundle.name) || !str_eq(old->bundle.key, p->bundle.key)) {
        check_bundle(p, lk, errs, warns);
    }
}
