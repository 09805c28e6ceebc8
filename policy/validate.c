/*
 * validate: the pure admission rules of DESIGN §3 (no lookups). Each rule
 * adds a field error at the exact path of the offending value, with
 * Kubernetes wording; advice goes to the warnings list. Limits mirror the CRD
 * schema (charts/aigw/crds) so that `aigw validate` offline refuses what the
 * API server would.
 */
#include "policy/validate.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_LEN 256
#define MAX_PROVIDERS 32
#define MAX_MODELS 128
#define MAX_BACKENDS 16
#define MAX_WEIGHT 1000000
#define MAX_RETRIES 10

static const char LABEL_MSG[] =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
static const char SUBDOMAIN_MSG[] =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
static const char KEY_MSG[] =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
    "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

/* Retry triggers Envoy Gateway's BackendTrafficPolicy accepts (retry.retryOn.triggers). */
static const char *const RETRY_TRIGGERS[] = {"5xx",
                                             "gateway-error",
                                             "reset",
                                             "reset-before-request",
                                             "connect-failure",
                                             "retriable-4xx",
                                             "refused-stream",
                                             "retriable-status-codes",
                                             "cancelled",
                                             "deadline-exceeded",
                                             "internal",
                                             "resource-exhausted",
                                             "unavailable",
                                             NULL};
static const char RETRY_TRIGGERS_MSG[] =
    "\"5xx\", \"cancelled\", \"connect-failure\", \"deadline-exceeded\", \"gateway-error\", "
    "\"internal\", \"refused-stream\", \"reset\", \"reset-before-request\", "
    "\"resource-exhausted\", "
    "\"retriable-4xx\", \"retriable-status-codes\", \"unavailable\", or an HTTP status code "
    "100-599";

/* ------------------------------------------------------------- warnings */

void policy_warnings_init(policy_warnings *w)
{
    memset(w, 0, sizeof *w);
}

void policy_warnings_free(policy_warnings *w)
{
    for (size_t i = 0; i < w->len; i++) {
        free(w->items[i]);
    }
    free(w->items);
    memset(w, 0, sizeof *w);
}

void policy_warnings_add(policy_warnings *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) {
        s = NULL;
    }
    va_end(ap);
    if (s == NULL) {
        w->oom = 1;
        return;
    }
    for (char *c = s; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            *c = ' ';
        }
    }
    for (size_t i = 0; i < w->len; i++) {
        if (strcmp(w->items[i], s) == 0) {
            free(s);
            return;
        }
    }
    if (w->len == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 8;
        char **n = realloc(w->items, ncap * sizeof *n);
        if (n == NULL) {
            free(s);
            w->oom = 1;
            return;
        }
        w->items = n;
        w->cap = ncap;
    }
    w->items[w->len++] = s;
}

/* --------------------------------------------------------------- helpers */

__attribute__((format(printf, 2, 3))) static void pathf(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, PATH_LEN, fmt, ap);
    va_end(ap);
}

static int is_label(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1])) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-')) {
            return 0;
        }
    }
    return 1;
}

static int is_subdomain(const char *s)
{
    if (strlen(s) > 253) {
        return 0;
    }
    char part[254];
    const char *p = s;
    for (;;) {
        size_t n = strcspn(p, ".");
        if (n == 0 || n > 63) {
            return 0;
        }
        memcpy(part, p, n);
        part[n] = '\0';
        if (!is_label(part)) {
            return 0;
        }
        if (p[n] == '\0') {
            return 1;
        }
        p += n + 1;
    }
}

static int is_config_key(const char *s)
{
    if (*s == '\0' || strlen(s) > 253) {
        return 0;
    }
    for (; *s; s++) {
        if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_' || *s == '.')) {
            return 0;
        }
    }
    return 1;
}

/* Printable ASCII without spaces (the CRD's '^[!-~]+$'). */
static int is_visible_ascii(const char *s)
{
    if (*s == '\0') {
        return 0;
    }
    for (; *s; s++) {
        if ((unsigned char)*s < '!' || (unsigned char)*s > '~') {
            return 0;
        }
    }
    return 1;
}

static void check_label(const char *path, const char *v, field_errors *errs)
{
    if (v == NULL) {
        field_errors_add(errs, FIELD_REQUIRED, path, NULL, NULL);
    } else if (strlen(v) > 63) {
        field_errors_add(errs, FIELD_INVALID, path, v, "must be no more than 63 characters");
    } else if (!is_label(v)) {
        field_errors_add(errs, FIELD_INVALID, path, v, "%s", LABEL_MSG);
    }
}

static void check_subdomain(const char *path, const char *v, field_errors *errs)
{
    if (v == NULL || v[0] == '\0') {
        field_errors_add(errs, FIELD_REQUIRED, path, NULL, NULL);
    } else if (strlen(v) > 253) {
        field_errors_add(errs, FIELD_INVALID, path, v, "must be no more than 253 characters");
    } else if (!is_subdomain(v)) {
        field_errors_add(errs, FIELD_INVALID, path, v, "%s", SUBDOMAIN_MSG);
    }
}

static void check_key(const char *path, const char *v, field_errors *errs)
{
    if (v == NULL || v[0] == '\0') {
        field_errors_add(errs, FIELD_REQUIRED, path, NULL, NULL);
    } else if (!is_config_key(v)) {
        field_errors_add(errs, FIELD_INVALID, path, v, "%s", KEY_MSG);
    }
}

static void check_target_ref(const policy_target_ref *t, field_errors *errs)
{
    if (!t->present) {
        field_errors_add(errs, FIELD_REQUIRED, "spec.targetRef", NULL, NULL);
        return;
    }
    if (strcmp(t->group, POLICY_GATEWAY_GROUP) != 0) {
        field_errors_add(errs, FIELD_NOT_SUPPORTED, "spec.targetRef.group", t->group,
                         "\"" POLICY_GATEWAY_GROUP "\"");
    }
    if (strcmp(t->kind, POLICY_GATEWAY_KIND) != 0) {
        field_errors_add(errs, FIELD_NOT_SUPPORTED, "spec.targetRef.kind", t->kind,
                         "\"" POLICY_GATEWAY_KIND "\"");
    }
    check_subdomain("spec.targetRef.name", t->name, errs);
}

/* metadata.name: the API server always sets it; offline files may forget it. */
static void check_name(const policy_meta *m, field_errors *errs)
{
    if (m->name == NULL || m->name[0] == '\0') {
        field_errors_add(errs, FIELD_REQUIRED, "metadata.name", NULL, NULL);
    }
}

/* ------------------------------------------------------------- endpoints */

static int is_loopback(const policy_endpoint *ep)
{
    unsigned char a[16];
    if (ep->host_is_ip == 4 && inet_pton(AF_INET, ep->host, a) == 1) {
        return a[0] == 127;
    }
    if (ep->host_is_ip == 6 && inet_pton(AF_INET6, ep->host, a) == 1) {
        static const unsigned char one[16] = {[15] = 1};
        static const unsigned char v4mapped[12] = {[10] = 0xff, [11] = 0xff};
        return memcmp(a, one, 16) == 0 || (memcmp(a, v4mapped, 12) == 0 && a[12] == 127);
    }
    size_t n = strlen(ep->host);
    return strcmp(ep->host, "localhost") == 0 ||
           (n > 10 && strcmp(ep->host + n - 10, ".localhost") == 0);
}

static int is_unspecified(const policy_endpoint *ep)
{
    unsigned char a[16];
    static const unsigned char zero[16] = {0};
    if (ep->host_is_ip == 4 && inet_pton(AF_INET, ep->host, a) == 1) {
        return memcmp(a, zero, 4) == 0;
    }
    if (ep->host_is_ip == 6 && inet_pton(AF_INET6, ep->host, a) == 1) {
        return memcmp(a, zero, 16) == 0;
    }
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* In-cluster: a Service DNS name or a private / link-local / ULA address. */
static int is_in_cluster(const policy_endpoint *ep)
{
    unsigned char a[16];
    if (ep->host_is_ip == 4 && inet_pton(AF_INET, ep->host, a) == 1) {
        return a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
               (a[0] == 169 && a[1] == 254) || (a[0] == 100 && (a[1] & 0xc0) == 64);
    }
    if (ep->host_is_ip == 6 && inet_pton(AF_INET6, ep->host, a) == 1) {
        return (a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
    }
    return ends_with(ep->host, ".svc") || ends_with(ep->host, ".svc.cluster.local") ||
           ends_with(ep->host, ".cluster.local");
}

static void check_endpoint(const policy_provider *pr, const char *base, field_errors *errs,
                           policy_warnings *warns)
{
    char path[PATH_LEN];
    pathf(path, "%s.endpoint", base);
    if (pr->endpoint_raw == NULL) {
        field_errors_add(errs, FIELD_REQUIRED, path, NULL, NULL);
        return;
    }
    if (!pr->endpoint_ok) {
        field_errors_add(errs, FIELD_INVALID, path, pr->endpoint_raw, "%s",
                         pr->endpoint_error ? pr->endpoint_error : "must be a URL");
        return;
    }
    const policy_endpoint *ep = &pr->endpoint;
    if (is_loopback(ep)) {
        field_errors_add(errs, FIELD_INVALID, path, pr->endpoint_raw,
                         "host must not be a loopback address");
    } else if (is_unspecified(ep)) {
        field_errors_add(errs, FIELD_INVALID, path, pr->endpoint_raw,
                         "host must not be an unspecified address");
    } else if (!ep->host_is_ip && strchr(ep->host, '.') == NULL) {
        field_errors_add(errs, FIELD_INVALID, path, pr->endpoint_raw,
                         "host must be a fully qualified domain name (at least two labels) or an "
                         "IP address");
    } else if (!ep->https && !is_in_cluster(ep)) {
        policy_warnings_add(warns,
                            "%s: http:// endpoint %s leaves the cluster unencrypted; use https",
                            path, ep->host);
    }
    const policy_schema_info *si = policy_schema_info_of(pr->schema);
    if (si != NULL && !si->uses_path_prefix && ep->path[0] != '\0') {
        policy_warnings_add(warns, "%s: the path %s is ignored for schema %s", path, ep->path,
                            si->name);
    }
}

/* ----------------------------------------------------------- credentials */

static void check_secret_ref(const policy_secret_ref *ref, const char *path, field_errors *errs)
{
    char p[PATH_LEN];
    if (!ref->present) {
        field_errors_add(errs, FIELD_REQUIRED, path, NULL, NULL);
        return;
    }
    pathf(p, "%s.name", path);
    check_subdomain(p, ref->name, errs);
    pathf(p, "%s.key", path);
    check_key(p, ref->key, errs);
}

static void forbid_field(int present, const char *base, const char *field, const char *type,
                         field_errors *errs)
{
    if (present) {
        char p[PATH_LEN];
        pathf(p, "%s.%s", base, field);
        field_errors_add(errs, FIELD_FORBIDDEN, p, NULL, "not used by credential type %s", type);
    }
}

static void require_str(const char *v, const char *base, const char *field, field_errors *errs)
{
    if (v == NULL || v[0] == '\0') {
        char p[PATH_LEN];
        pathf(p, "%s.%s", base, field);
        field_errors_add(errs, FIELD_REQUIRED, p, NULL, NULL);
    }
}

static void check_cred_fields(const policy_credentials *c, const char *cp, field_errors *errs)
{
    char p[PATH_LEN];
    const char *tn = c->type_name;
    int api_key = c->type == POLICY_CRED_API_KEY || c->type == POLICY_CRED_AZURE_API_KEY ||
                  c->type == POLICY_CRED_ANTHROPIC_API_KEY;
    if (api_key) {
        pathf(p, "%s.secretRef", cp);
        check_secret_ref(&c->secret_ref, p, errs);
    } else {
        forbid_field(c->secret_ref.present, cp, "secretRef", tn, errs);
    }
    if (c->type == POLICY_CRED_AZURE) {
        require_str(c->tenant_id, cp, "tenantId", errs);
        require_str(c->client_id, cp, "clientId", errs);
        pathf(p, "%s.clientSecretRef", cp);
        check_secret_ref(&c->client_secret_ref, p, errs);
    } else {
        forbid_field(c->tenant_id != NULL, cp, "tenantId", tn, errs);
        forbid_field(c->client_id != NULL, cp, "clientId", tn, errs);
        forbid_field(c->client_secret_ref.present, cp, "clientSecretRef", tn, errs);
    }
    if (c->type == POLICY_CRED_AWS || c->type == POLICY_CRED_GCP) {
        require_str(c->region, cp, "region", errs);
        pathf(p, "%s.credentialsSecretRef", cp);
        if (c->type == POLICY_CRED_GCP || c->credentials_secret_ref.present) {
            check_secret_ref(&c->credentials_secret_ref, p, errs);
        }
    } else {
        forbid_field(c->region != NULL, cp, "region", tn, errs);
        forbid_field(c->credentials_secret_ref.present, cp, "credentialsSecretRef", tn, errs);
    }
    if (c->type == POLICY_CRED_GCP) {
        require_str(c->project_name, cp, "projectName", errs);
    } else {
        forbid_field(c->project_name != NULL, cp, "projectName", tn, errs);
    }
}

/* "APIKey or AzureCredentials" for the types a schema allows. */
static void allowed_cred_names(policy_schema s, char *out, size_t len)
{
    out[0] = '\0';
    size_t n = 0, count = 0;
    for (int t = 1; t < POLICY_CRED_COUNT; t++) {
        count += policy_schema_allows_cred(s, (policy_cred_type)t) ? 1 : 0;
    }
    size_t seen = 0;
    for (int t = 1; t < POLICY_CRED_COUNT; t++) {
        if (!policy_schema_allows_cred(s, (policy_cred_type)t)) {
            continue;
        }
        seen++;
        const char *sep = seen == 1 ? "" : (seen == count ? " or " : ", ");
        int w = snprintf(out + n, len - n, "%s%s", sep, policy_cred_type_name((policy_cred_type)t));
        if (w < 0 || (size_t)w >= len - n) {
            return;
        }
        n += (size_t)w;
    }
}

static void check_credentials(const policy_provider *pr, const char *base, field_errors *errs)
{
    const policy_credentials *c = &pr->credentials;
    char cp[PATH_LEN], p[PATH_LEN];
    pathf(cp, "%s.credentials", base);
    if (c->type == POLICY_CRED_INVALID && c->type_name == NULL) {
        pathf(p, "%s.type", cp);
        field_errors_add(errs, FIELD_REQUIRED, p, NULL, NULL);
    }
    if (c->type != POLICY_CRED_NONE && c->type != POLICY_CRED_INVALID) {
        check_cred_fields(c, cp, errs);
    }
    if (pr->schema == POLICY_SCHEMA_INVALID || c->type == POLICY_CRED_INVALID) {
        return;
    }
    const char *schema = policy_schema_name(pr->schema);
    char names[128];
    allowed_cred_names(pr->schema, names, sizeof names);
    if (!policy_schema_allows_cred(pr->schema, c->type)) {
        if (c->type == POLICY_CRED_NONE) {
            field_errors_add(errs, FIELD_REQUIRED, cp, NULL,
                             "schema %s requires credentials of type %s", schema, names);
        } else {
            pathf(p, "%s.type", cp);
            field_errors_add(errs, FIELD_INVALID, p, c->type_name,
                             "schema %s requires credentials of type %s", schema, names);
        }
    }
    const policy_schema_info *si = policy_schema_info_of(pr->schema);
    if (si->requires_version && pr->version[0] == '\0') {
        pathf(p, "%s.version", base);
        field_errors_add(errs, FIELD_REQUIRED, p, NULL, "schema %s requires the API version",
                         schema);
    }
}

/* -------------------------------------------------------------- providers */

static void check_providers(const policy_routing *p, field_errors *errs, policy_warnings *warns)
{
    if (p->n_providers == 0) {
        field_errors_add(errs, FIELD_REQUIRED, "spec.providers", NULL,
                         "at least one provider is required");
        return;
    }
    if (p->n_providers > MAX_PROVIDERS) {
        field_errors_add_int(errs, FIELD_TOO_MANY, "spec.providers", (long long)p->n_providers,
                             "must have at most %d items", MAX_PROVIDERS);
    }
    for (size_t i = 0; i < p->n_providers; i++) {
        const policy_provider *pr = &p->providers[i];
        char base[PATH_LEN], path[PATH_LEN];
        pathf(base, "spec.providers[%zu]", i);
        pathf(path, "%s.name", base);
        check_label(path, pr->name, errs);
        for (size_t j = 0; pr->name != NULL && j < i; j++) {
            if (p->providers[j].name != NULL && strcmp(p->providers[j].name, pr->name) == 0) {
                field_errors_add(errs, FIELD_DUPLICATE, path, pr->name, NULL);
                break;
            }
        }
        if (pr->schema_name == NULL) {
            pathf(path, "%s.schema", base);
            field_errors_add(errs, FIELD_REQUIRED, path, NULL, NULL);
        }
        check_endpoint(pr, base, errs, warns);
        check_credentials(pr, base, errs);
        int used = 0;
        for (size_t m = 0; pr->name != NULL && m < p->n_models && !used; m++) {
            for (size_t b = 0; b < p->models[m].n_backends && !used; b++) {
                const char *bp = p->models[m].backends[b].provider;
                used = bp != NULL && strcmp(bp, pr->name) == 0;
            }
        }
        if (pr->name != NULL && !used) {
            policy_warnings_add(warns, "provider \"%s\" is not used by any model", pr->name);
        }
    }
}

/* --------------------------------------------------------------- failover */

static int is_trigger(const char *s)
{
    for (size_t i = 0; RETRY_TRIGGERS[i] != NULL; i++) {
        if (strcmp(RETRY_TRIGGERS[i], s) == 0) {
            return 1;
        }
    }
    return 0;
}

static int same_retry(const policy_retry_on *a, const policy_retry_on *b)
{
    if (a->is_status != b->is_status) {
        return 0;
    }
    return a->is_status ? a->status == b->status : strcmp(a->trigger, b->trigger) == 0;
}

static void check_interval(const char *text, long long ms, const char *path, field_errors *errs)
{
    if (text != NULL && ms < 0) {
        field_errors_add(errs, FIELD_INVALID, path, text,
                         "must be a duration of 1 to 4 groups of up to 5 digits followed by h, m, "
                         "s or ms (e.g. 100ms, 2s, 1m30s)");
    }
}

static void check_failover(const policy_failover *f, const char *fp, field_errors *errs)
{
    char p[PATH_LEN];
    if (!f->present) {
        return;
    }
    for (size_t i = 0; i < f->n_retry_on; i++) {
        const policy_retry_on *r = &f->retry_on[i];
        pathf(p, "%s.retryOn[%zu]", fp, i);
        if (r->is_status && (r->status < 100 || r->status > 599)) {
            field_errors_add_int(errs, FIELD_INVALID, p, r->status,
                                 "must be an HTTP status code between 100 and 599");
            continue;
        }
        if (!r->is_status && !is_trigger(r->trigger)) {
            field_errors_add(errs, FIELD_NOT_SUPPORTED, p, r->trigger, "%s", RETRY_TRIGGERS_MSG);
            continue;
        }
        for (size_t j = 0; j < i; j++) {
            if (same_retry(&f->retry_on[j], r)) {
                if (r->is_status) {
                    field_errors_add_int(errs, FIELD_DUPLICATE, p, r->status, NULL);
                } else {
                    field_errors_add(errs, FIELD_DUPLICATE, p, r->trigger, NULL);
                }
                break;
            }
        }
    }
    if (f->has_max_retries && (f->max_retries < 0 || f->max_retries > MAX_RETRIES)) {
        pathf(p, "%s.maxRetries", fp);
        field_errors_add_int(errs, FIELD_INVALID, p, f->max_retries,
                             "must be between 0 and %d, inclusive", MAX_RETRIES);
    }
    const char *bo_base = fp;
    char bp[PATH_LEN];
    pathf(bp, "%s.backoff", bo_base);
    if (f->base_interval == NULL && f->max_interval != NULL) {
        pathf(p, "%s.baseInterval", bp);
        field_errors_add(errs, FIELD_REQUIRED, p, NULL, NULL);
    }
    pathf(p, "%s.baseInterval", bp);
    check_interval(f->base_interval, f->base_interval_ms, p, errs);
    if (f->base_interval != NULL && f->base_interval_ms == 0) {
        field_errors_add(errs, FIELD_INVALID, p, f->base_interval, "must be greater than zero");
    }
    pathf(p, "%s.maxInterval", bp);
    check_interval(f->max_interval, f->max_interval_ms, p, errs);
    if (f->base_interval_ms > 0 && f->max_interval_ms >= 0 &&
        f->max_interval_ms < f->base_interval_ms) {
        field_errors_add(errs, FIELD_INVALID, p, f->max_interval,
                         "must not be shorter than baseInterval");
    }
}

/* ----------------------------------------------------------------- models */

static const policy_provider *find_provider(const policy_routing *p, const char *name)
{
    for (size_t i = 0; i < p->n_providers; i++) {
        if (p->providers[i].name != NULL && strcmp(p->providers[i].name, name) == 0) {
            return &p->providers[i];
        }
    }
    return NULL;
}

static void check_weights(const policy_model *m, const char *base, field_errors *errs)
{
    for (size_t i = 0; i < m->n_backends; i++) {
        long long prio = m->backends[i].priority;
        int first = 1, any_positive = 0, any_negative = 0;
        for (size_t j = 0; j < m->n_backends; j++) {
            if (m->backends[j].priority != prio) {
                continue;
            }
            first = first && j >= i;
            any_positive = any_positive || m->backends[j].weight > 0;
            any_negative = any_negative || m->backends[j].weight < 0;
        }
        /* a negative weight is reported on its own; do not add a second error for it */
        if (first && !any_positive && !any_negative && prio >= 0) {
            char p[PATH_LEN];
            pathf(p, "%s.backends", base);
            field_errors_add(errs, FIELD_FORBIDDEN, p, NULL,
                             "all backends at priority %lld have weight 0", prio);
        }
    }
}

static void check_backends(const policy_routing *p, const policy_model *m, const char *base,
                           field_errors *errs)
{
    char path[PATH_LEN];
    if (m->n_backends == 0) {
        pathf(path, "%s.backends", base);
        field_errors_add(errs, FIELD_REQUIRED, path, NULL, NULL);
        return;
    }
    if (m->n_backends > MAX_BACKENDS) {
        pathf(path, "%s.backends", base);
        field_errors_add_int(errs, FIELD_TOO_MANY, path, (long long)m->n_backends,
                             "must have at most %d items", MAX_BACKENDS);
    }
    for (size_t i = 0; i < m->n_backends; i++) {
        const policy_backend *b = &m->backends[i];
        char bp[PATH_LEN];
        pathf(bp, "%s.backends[%zu]", base, i);
        pathf(path, "%s.provider", bp);
        if (b->provider == NULL) {
            field_errors_add(errs, FIELD_REQUIRED, path, NULL, NULL);
        } else if (find_provider(p, b->provider) == NULL) {
            field_errors_add(errs, FIELD_NOT_FOUND, path, b->provider, NULL);
        } else {
            for (size_t j = 0; j < i; j++) {
                const policy_backend *o = &m->backends[j];
                const char *om = o->model ? o->model : "";
                if (o->provider != NULL && strcmp(o->provider, b->provider) == 0 &&
                    strcmp(om, b->model ? b->model : "") == 0) {
                    field_errors_add(errs, FIELD_DUPLICATE, bp, b->provider, NULL);
                    break;
                }
            }
        }
        if (b->model != NULL && !is_visible_ascii(b->model)) {
            pathf(path, "%s.model", bp);
            field_errors_add(errs, FIELD_INVALID, path, b->model,
                             "must be non-empty printable ASCII without spaces");
        }
        if (b->priority < 0 || b->priority > 2147483647LL) {
            pathf(path, "%s.priority", bp);
            field_errors_add_int(errs, FIELD_INVALID, path, b->priority,
                                 b->priority < 0 ? "must be greater than or equal to 0"
                                                 : "must be less than or equal to 2147483647");
        }
        if (b->weight < 0 || b->weight > MAX_WEIGHT) {
            pathf(path, "%s.weight", bp);
            field_errors_add_int(errs, FIELD_INVALID, path, b->weight,
                                 b->weight < 0 ? "must be greater than or equal to 0"
                                               : "must be less than or equal to 1000000");
        }
    }
    check_weights(m, base, errs);
}

static void check_models(const policy_routing *p, field_errors *errs, policy_warnings *warns)
{
    if (p->n_models == 0) {
        field_errors_add(errs, FIELD_REQUIRED, "spec.models", NULL,
                         "at least one model is required");
        return;
    }
    if (p->n_models > MAX_MODELS) {
        field_errors_add_int(errs, FIELD_TOO_MANY, "spec.models", (long long)p->n_models,
                             "must have at most %d items", MAX_MODELS);
    } else if (p->n_models > POLICY_MAX_MODELS_PER_ROUTE) {
        policy_warnings_add(warns,
                            "%zu models: more than %d per route, so the reconciler splits them "
                            "into several AIGatewayRoutes",
                            p->n_models, POLICY_MAX_MODELS_PER_ROUTE);
    }
    for (size_t i = 0; i < p->n_models; i++) {
        const policy_model *m = &p->models[i];
        char base[PATH_LEN], path[PATH_LEN];
        pathf(base, "spec.models[%zu]", i);
        pathf(path, "%s.name", base);
        if (m->name == NULL) {
            field_errors_add(errs, FIELD_REQUIRED, path, NULL, NULL);
        } else if (!is_visible_ascii(m->name) || strlen(m->name) > 253) {
            field_errors_add(errs, FIELD_INVALID, path, m->name,
                             "must be 1 to 253 printable ASCII characters without spaces");
        } else {
            for (size_t j = 0; j < i; j++) {
                if (p->models[j].name != NULL && strcmp(p->models[j].name, m->name) == 0) {
                    field_errors_add(errs, FIELD_DUPLICATE, path, m->name, NULL);
                    break;
                }
            }
        }
        check_backends(p, m, base, errs);
        if (m->rate_limit.present) {
            pathf(path, "%s.rateLimit.tokensPerHour", base);
            if (!m->rate_limit.has_tokens_per_hour) {
                field_errors_add(errs, FIELD_REQUIRED, path, NULL, NULL);
            } else if (m->rate_limit.tokens_per_hour < 1) {
                field_errors_add_int(errs, FIELD_INVALID, path, m->rate_limit.tokens_per_hour,
                                     "must be greater than or equal to 1");
            }
        }
        pathf(path, "%s.failover", base);
        check_failover(&m->failover, path, errs);
        if (m->n_backends > 1 && policy_model_failover(p, m) == NULL && m->name != NULL) {
            policy_warnings_add(warns,
                                "model \"%s\" has %zu backends but no failover: a failing "
                                "backend is not retried on another",
                                m->name, m->n_backends);
        }
    }
}

void policy_routing_validate(const policy_routing *p, field_errors *errs, policy_warnings *warns)
{
    if (p->source == NULL) {
        return; /* not an object: the parser said so */
    }
    if (json_object_get(p->source, "spec") == NULL ||
        !json_is_object(json_object_get(p->source, "spec"))) {
        return;
    }
    check_name(&p->meta, errs);
    check_target_ref(&p->target_ref, errs);
    check_failover(&p->default_failover, "spec.defaultFailover", errs);
    check_providers(p, errs, warns);
    check_models(p, errs, warns);
}

/* ----------------------------------------------------------------- access */

int policy_trust_domain_valid(const char *td, const char **why)
{
    static const char chars[] = "trust domain names may contain only lowercase letters, digits, "
                                "'.', '-' and '_' (no scheme, port or path)";
    if (td == NULL || td[0] == '\0') {
        *why = "must not be empty";
        return 0;
    }
    if (strncmp(td, "spiffe://", 9) == 0) {
        *why = "must be the trust domain name alone, without spiffe://";
        return 0;
    }
    if (strlen(td) > 255) {
        *why = "must be no more than 255 characters";
        return 0;
    }
    for (const char *c = td; *c; c++) {
        if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '.' || *c == '-' ||
              *c == '_')) {
            *why = chars;
            return 0;
        }
    }
    return 1;
}

void policy_access_validate(const policy_access *p, field_errors *errs, policy_warnings *warns)
{
    (void)warns;
    if (p->source == NULL || !json_is_object(json_object_get(p->source, "spec"))) {
        return;
    }
    check_name(&p->meta, errs);
    check_target_ref(&p->target_ref, errs);
    if (!p->has_mtls) {
        field_errors_add(errs, FIELD_REQUIRED, "spec.mtls", NULL, NULL);
        return;
    }
    const char *why = NULL;
    if (p->trust_domain == NULL) {
        field_errors_add(errs, FIELD_REQUIRED, "spec.mtls.trustDomain", NULL, NULL);
    } else if (!policy_trust_domain_valid(p->trust_domain, &why)) {
        field_errors_add(errs, FIELD_INVALID, "spec.mtls.trustDomain", p->trust_domain, "%s", why);
    }
    check_subdomain("spec.mtls.trustBundleConfigMap.name", p->bundle.name, errs);
    check_label("spec.mtls.trustBundleConfigMap.namespace", p->bundle.ns, errs);
    check_key("spec.mtls.trustBundleConfigMap.key", p->bundle.key, errs);
    if (p->has_server_cert_ref) {
        check_subdomain("spec.mtls.serverCertRef.name", p->server_cert_name, errs);
    }
}
