/*
 * parse: JSON object -> policy_routing / policy_access. Structural checks only
 * (unknown fields, JSON types, enum values) plus the CRD defaults; the
 * semantic rules are in validate.c. Parsing never stops at the first problem:
 * a field of the wrong type is recorded and treated as absent, so one pass
 * reports everything.
 */
#include "policy/policy.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 256

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        return "null";
    }
    return "unknown";
}

/* Paths are short (keys and indices only), so a cut-off path is impossible in
 * practice; vsnprintf keeps it bounded anyway. */
__attribute__((format(printf, 2, 3))) static void pathf(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, PATH_MAX_LEN, fmt, ap);
    va_end(ap);
}

static void join_path(char *out, const char *base, const char *key)
{
    if (base[0] == '\0') {
        pathf(out, "%s", key);
    } else {
        pathf(out, "%s.%s", base, key);
    }
}

static void index_path(char *out, const char *base, size_t i)
{
    pathf(out, "%s[%zu]", base, i);
}

static void wrong_type(field_errors *errs, const char *path, const json_t *v, const char *want)
{
    field_errors_add(errs, FIELD_INVALID, path, json_type_name(v), "must be of type %s", want);
}

/* Reports every key of obj that is not in `allowed` (NULL-terminated). */
static void reject_unknown(const json_t *obj, const char *path, const char *const *allowed,
                           field_errors *errs)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        int known = 0;
        for (size_t i = 0; allowed[i] != NULL && !known; i++) {
            known = strcmp(allowed[i], key) == 0;
        }
        if (!known) {
            char p[PATH_MAX_LEN];
            join_path(p, path, key);
            field_errors_add(errs, FIELD_FORBIDDEN, p, NULL, "unknown field");
        }
    }
}

/* The member `key` when present and not null, else NULL. */
static const json_t *member(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return v == NULL || json_is_null(v) ? NULL : v;
}

/* An object member: NULL when absent or of the wrong type (recorded). */
static const json_t *get_obj(const json_t *obj, const char *key, const char *base,
                             field_errors *errs)
{
    const json_t *v = member(obj, key);
    if (v != NULL && !json_is_object(v)) {
        char p[PATH_MAX_LEN];
        join_path(p, base, key);
        wrong_type(errs, p, v, "object");
        return NULL;
    }
    return v;
}

static const json_t *get_arr(const json_t *obj, const char *key, const char *base,
                             field_errors *errs)
{
    const json_t *v = member(obj, key);
    if (v != NULL && !json_is_array(v)) {
        char p[PATH_MAX_LEN];
        join_path(p, base, key);
        wrong_type(errs, p, v, "array");
        return NULL;
    }
    return v;
}

static const char *get_str(const json_t *obj, const char *key, const char *base, field_errors *errs)
{
    const json_t *v = member(obj, key);
    if (v == NULL) {
        return NULL;
    }
    if (!json_is_string(v)) {
        char p[PATH_MAX_LEN];
        join_path(p, base, key);
        wrong_type(errs, p, v, "string");
        return NULL;
    }
    return json_string_value(v);
}

/* An integer member: returns 1 and sets *out when present and an integer. */
static int get_int(const json_t *obj, const char *key, const char *base, field_errors *errs,
                   long long *out)
{
    const json_t *v = member(obj, key);
    if (v == NULL) {
        return 0;
    }
    if (!json_is_integer(v)) {
        char p[PATH_MAX_LEN];
        join_path(p, base, key);
        wrong_type(errs, p, v, "integer");
        return 0;
    }
    *out = (long long)json_integer_value(v);
    return 1;
}

/* ------------------------------------------------------------ shared parts */

static void parse_meta(const json_t *obj, policy_meta *m)
{
    const json_t *md = json_object_get(obj, "metadata");
    if (!json_is_object(md)) {
        return;
    }
    m->name = json_string_value(json_object_get(md, "name"));
    m->ns = json_string_value(json_object_get(md, "namespace"));
    m->uid = json_string_value(json_object_get(md, "uid"));
    m->generation = (long long)json_integer_value(json_object_get(md, "generation"));
    m->creation = json_string_value(json_object_get(md, "creationTimestamp"));
    m->deletion = json_string_value(json_object_get(md, "deletionTimestamp"));
}

static void check_top_level(const json_t *obj, field_errors *errs)
{
    static const char *const allowed[] = {"apiVersion", "kind", "metadata", "spec", "status", NULL};
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        int known = 0;
        for (size_t i = 0; allowed[i] != NULL && !known; i++) {
            known = strcmp(allowed[i], key) == 0;
        }
        if (!known) {
            field_errors_add(errs, FIELD_FORBIDDEN, key, NULL, "unknown field");
        }
    }
    const json_t *md = json_object_get(obj, "metadata");
    if (md != NULL && !json_is_object(md)) {
        wrong_type(errs, "metadata", md, "object");
    }
}

static void parse_target_ref(const json_t *spec, policy_target_ref *t, field_errors *errs)
{
    static const char *const allowed[] = {"group", "kind", "name", NULL};
    t->group = POLICY_GATEWAY_GROUP;
    t->kind = POLICY_GATEWAY_KIND;
    const json_t *tr = get_obj(spec, "targetRef", "spec", errs);
    if (tr == NULL) {
        return;
    }
    t->present = 1;
    reject_unknown(tr, "spec.targetRef", allowed, errs);
    const char *g = get_str(tr, "group", "spec.targetRef", errs);
    const char *k = get_str(tr, "kind", "spec.targetRef", errs);
    if (g != NULL) {
        t->group = g;
    }
    if (k != NULL) {
        t->kind = k;
    }
    t->name = get_str(tr, "name", "spec.targetRef", errs);
}

static void parse_secret_ref(const json_t *obj, const char *key, const char *base,
                             policy_secret_ref *ref, field_errors *errs)
{
    static const char *const allowed[] = {"name", "key", NULL};
    const json_t *r = get_obj(obj, key, base, errs);
    if (r == NULL) {
        return;
    }
    char p[PATH_MAX_LEN];
    join_path(p, base, key);
    reject_unknown(r, p, allowed, errs);
    ref->present = 1;
    ref->name = get_str(r, "name", p, errs);
    ref->key = get_str(r, "key", p, errs);
}

/* ------------------------------------------------------------ routing parts */

static void parse_credentials(const json_t *pobj, const char *base, policy_credentials *c,
                              field_errors *errs)
{
    static const char *const allowed[] = {"type",
                                          "secretRef",
                                          "tenantId",
                                          "clientId",
                                          "clientSecretRef",
                                          "region",
                                          "projectName",
                                          "credentialsSecretRef",
                                          NULL};
    c->type = POLICY_CRED_NONE;
    const json_t *cr = get_obj(pobj, "credentials", base, errs);
    if (cr == NULL) {
        return;
    }
    char p[PATH_MAX_LEN];
    join_path(p, base, "credentials");
    reject_unknown(cr, p, allowed, errs);
    c->type_name = get_str(cr, "type", p, errs);
    c->type = POLICY_CRED_INVALID;
    if (c->type_name != NULL) {
        c->type = policy_cred_type_from_name(c->type_name);
        if (c->type == POLICY_CRED_INVALID) {
            char tp[PATH_MAX_LEN];
            join_path(tp, p, "type");
            field_errors_add(errs, FIELD_NOT_SUPPORTED, tp, c->type_name,
                             "\"APIKey\", \"AWSCredentials\", \"AnthropicAPIKey\", "
                             "\"AzureAPIKey\", \"AzureCredentials\", \"GCPCredentials\"");
        }
    }
    parse_secret_ref(cr, "secretRef", p, &c->secret_ref, errs);
    c->tenant_id = get_str(cr, "tenantId", p, errs);
    c->client_id = get_str(cr, "clientId", p, errs);
    parse_secret_ref(cr, "clientSecretRef", p, &c->client_secret_ref, errs);
    c->region = get_str(cr, "region", p, errs);
    c->project_name = get_str(cr, "projectName", p, errs);
    parse_secret_ref(cr, "credentialsSecretRef", p, &c->credentials_secret_ref, errs);
}

static int parse_provider(const json_t *pobj, const char *base, policy_provider *pr,
                          field_errors *errs)
{
    static const char *const allowed[] = {"name",    "endpoint",    "schema", "protocol",
                                          "version", "credentials", NULL};
    pr->schema = POLICY_SCHEMA_INVALID;
    pr->protocol = POLICY_PROTOCOL_HTTP;
    pr->version = "";
    pr->credentials.type = POLICY_CRED_NONE;
    if (!json_is_object(pobj)) {
        wrong_type(errs, base, pobj, "object");
        return 0;
    }
    reject_unknown(pobj, base, allowed, errs);
    pr->name = get_str(pobj, "name", base, errs);
    pr->endpoint_raw = get_str(pobj, "endpoint", base, errs);
    if (pr->endpoint_raw != NULL) {
        char err[128];
        if (policy_endpoint_parse(pr->endpoint_raw, &pr->endpoint, err, sizeof err) == 0) {
            pr->endpoint_ok = 1;
        } else if ((pr->endpoint_error = strdup(err)) == NULL) {
            return -1;
        }
    }
    pr->schema_name = get_str(pobj, "schema", base, errs);
    if (pr->schema_name != NULL) {
        pr->schema = policy_schema_from_name(pr->schema_name);
        if (pr->schema == POLICY_SCHEMA_INVALID) {
            char p[PATH_MAX_LEN];
            join_path(p, base, "schema");
            field_errors_add(errs, FIELD_NOT_SUPPORTED, p, pr->schema_name,
                             "\"AWSAnthropic\", \"AWSBedrock\", \"Anthropic\", \"AzureOpenAI\", "
                             "\"Cohere\", \"GCPAnthropic\", \"GCPVertexAI\", \"OpenAI\"");
        }
    }
    const char *proto = get_str(pobj, "protocol", base, errs);
    if (proto != NULL) {
        if (strcmp(proto, "HTTP2") == 0) {
            pr->protocol = POLICY_PROTOCOL_HTTP2;
        } else if (strcmp(proto, "HTTP") != 0) {
            char p[PATH_MAX_LEN];
            join_path(p, base, "protocol");
            field_errors_add(errs, FIELD_NOT_SUPPORTED, p, proto, "\"HTTP\", \"HTTP2\"");
        }
    }
    const char *ver = get_str(pobj, "version", base, errs);
    if (ver != NULL) {
        pr->version = ver;
    }
    parse_credentials(pobj, base, &pr->credentials, errs);
    return 0;
}

static int is_all_digits(const char *s)
{
    if (*s == '\0') {
        return 0;
    }
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s)) {
            return 0;
        }
    }
    return 1;
}

static int parse_failover(const json_t *obj, const char *key, const char *base, policy_failover *f,
                          field_errors *errs)
{
    static const char *const allowed[] = {"retryOn", "maxRetries", "backoff", NULL};
    static const char *const backoff_allowed[] = {"baseInterval", "maxInterval", NULL};
    f->max_retries = POLICY_DEFAULT_MAX_RETRIES;
    f->base_interval_ms = -1;
    f->max_interval_ms = -1;
    const json_t *fo = get_obj(obj, key, base, errs);
    if (fo == NULL) {
        return 0;
    }
    char p[PATH_MAX_LEN];
    join_path(p, base, key);
    f->present = 1;
    reject_unknown(fo, p, allowed, errs);
    const json_t *ro = get_arr(fo, "retryOn", p, errs);
    if (ro != NULL && json_array_size(ro) > 0) {
        f->retry_on = calloc(json_array_size(ro), sizeof *f->retry_on);
        if (f->retry_on == NULL) {
            return -1;
        }
        size_t i;
        const json_t *e;
        json_array_foreach(ro, i, e)
        {
            policy_retry_on *r = &f->retry_on[f->n_retry_on];
            if (json_is_integer(e)) {
                r->is_status = 1;
                r->status = (long long)json_integer_value(e);
            } else if (json_is_string(e) && is_all_digits(json_string_value(e)) &&
                       strlen(json_string_value(e)) <= 9) {
                r->is_status = 1;
                r->status = strtoll(json_string_value(e), NULL, 10);
            } else if (json_is_string(e)) {
                r->trigger = json_string_value(e);
            } else {
                char ep[PATH_MAX_LEN];
                pathf(ep, "%s.retryOn[%zu]", p, i);
                wrong_type(errs, ep, e, "integer or string");
                continue;
            }
            f->n_retry_on++;
        }
    }
    f->has_max_retries = get_int(fo, "maxRetries", p, errs, &f->max_retries);
    const json_t *bo = get_obj(fo, "backoff", p, errs);
    if (bo != NULL) {
        char bp[PATH_MAX_LEN];
        join_path(bp, p, "backoff");
        reject_unknown(bo, bp, backoff_allowed, errs);
        f->base_interval = get_str(bo, "baseInterval", bp, errs);
        f->max_interval = get_str(bo, "maxInterval", bp, errs);
        f->base_interval_ms = policy_duration_parse_ms(f->base_interval);
        f->max_interval_ms = policy_duration_parse_ms(f->max_interval);
    }
    return 0;
}

static int parse_backends(const json_t *mobj, const char *base, policy_model *m, field_errors *errs)
{
    static const char *const allowed[] = {"provider", "model", "priority", "weight", NULL};
    const json_t *arr = get_arr(mobj, "backends", base, errs);
    if (arr == NULL || json_array_size(arr) == 0) {
        return 0;
    }
    m->backends = calloc(json_array_size(arr), sizeof *m->backends);
    if (m->backends == NULL) {
        return -1;
    }
    m->n_backends = json_array_size(arr);
    size_t i;
    const json_t *b;
    json_array_foreach(arr, i, b)
    {
        policy_backend *be = &m->backends[i];
        be->weight = 1;
        char p[PATH_MAX_LEN];
        pathf(p, "%s.backends[%zu]", base, i);
        if (!json_is_object(b)) {
            wrong_type(errs, p, b, "object");
            continue;
        }
        reject_unknown(b, p, allowed, errs);
        be->provider = get_str(b, "provider", p, errs);
        be->model = get_str(b, "model", p, errs);
        get_int(b, "priority", p, errs, &be->priority);
        get_int(b, "weight", p, errs, &be->weight);
    }
    return 0;
}

static void parse_rate_limit(const json_t *mobj, const char *base, policy_rate_limit *rl,
                             field_errors *errs)
{
    static const char *const allowed[] = {"tokensPerHour", "tokenCountMode", NULL};
    rl->mode = POLICY_TOKENS_TOTAL;
    const json_t *r = get_obj(mobj, "rateLimit", base, errs);
    if (r == NULL) {
        return;
    }
    char p[PATH_MAX_LEN];
    join_path(p, base, "rateLimit");
    rl->present = 1;
    reject_unknown(r, p, allowed, errs);
    rl->has_tokens_per_hour = get_int(r, "tokensPerHour", p, errs, &rl->tokens_per_hour);
    rl->mode_name = get_str(r, "tokenCountMode", p, errs);
    if (rl->mode_name != NULL) {
        if (strcmp(rl->mode_name, "TotalToken") == 0) {
            rl->mode = POLICY_TOKENS_TOTAL;
        } else if (strcmp(rl->mode_name, "InputToken") == 0) {
            rl->mode = POLICY_TOKENS_INPUT;
        } else if (strcmp(rl->mode_name, "OutputToken") == 0) {
            rl->mode = POLICY_TOKENS_OUTPUT;
        } else {
            char mp[PATH_MAX_LEN];
            join_path(mp, p, "tokenCountMode");
            rl->mode = POLICY_TOKENS_INVALID;
            field_errors_add(errs, FIELD_NOT_SUPPORTED, mp, rl->mode_name,
                             "\"InputToken\", \"OutputToken\", \"TotalToken\"");
        }
    }
}

static int parse_model(const json_t *mobj, const char *base, policy_model *m, field_errors *errs)
{
    static const char *const allowed[] = {"name", "backends", "rateLimit", "failover", NULL};
    m->rate_limit.mode = POLICY_TOKENS_TOTAL;
    m->failover.max_retries = POLICY_DEFAULT_MAX_RETRIES;
    m->failover.base_interval_ms = -1;
    m->failover.max_interval_ms = -1;
    if (!json_is_object(mobj)) {
        wrong_type(errs, base, mobj, "object");
        return 0;
    }
    reject_unknown(mobj, base, allowed, errs);
    m->name = get_str(mobj, "name", base, errs);
    if (parse_backends(mobj, base, m, errs) != 0) {
        return -1;
    }
    parse_rate_limit(mobj, base, &m->rate_limit, errs);
    return parse_failover(mobj, "failover", base, &m->failover, errs);
}

static int parse_routing_spec(const json_t *spec, policy_routing *p, field_errors *errs)
{
    static const char *const allowed[] = {"targetRef", "defaultFailover", "providers", "models",
                                          NULL};
    reject_unknown(spec, "spec", allowed, errs);
    parse_target_ref(spec, &p->target_ref, errs);
    if (parse_failover(spec, "defaultFailover", "spec", &p->default_failover, errs) != 0) {
        return -1;
    }
    const json_t *provs = get_arr(spec, "providers", "spec", errs);
    if (provs != NULL && json_array_size(provs) > 0) {
        p->providers = calloc(json_array_size(provs), sizeof *p->providers);
        if (p->providers == NULL) {
            return -1;
        }
        p->n_providers = json_array_size(provs);
        for (size_t i = 0; i < p->n_providers; i++) {
            char path[PATH_MAX_LEN];
            index_path(path, "spec.providers", i);
            if (parse_provider(json_array_get(provs, i), path, &p->providers[i], errs) != 0) {
                return -1;
            }
        }
    }
    const json_t *models = get_arr(spec, "models", "spec", errs);
    if (models != NULL && json_array_size(models) > 0) {
        p->models = calloc(json_array_size(models), sizeof *p->models);
        if (p->models == NULL) {
            return -1;
        }
        p->n_models = json_array_size(models);
        for (size_t i = 0; i < p->n_models; i++) {
            char path[PATH_MAX_LEN];
            index_path(path, "spec.models", i);
            if (parse_model(json_array_get(models, i), path, &p->models[i], errs) != 0) {
                return -1;
            }
        }
    }
    return 0;
}

static int finish(field_errors *errs, size_t before, int rc)
{
    if (rc != 0 || field_errors_oom(errs)) {
        errs->oom = 1;
        return -1;
    }
    return errs->len > before ? 1 : 0;
}

int policy_routing_parse(const json_t *obj, policy_routing *out, field_errors *errs)
{
    memset(out, 0, sizeof *out);
    out->target_ref.group = POLICY_GATEWAY_GROUP;
    out->target_ref.kind = POLICY_GATEWAY_KIND;
    out->default_failover.max_retries = POLICY_DEFAULT_MAX_RETRIES;
    out->default_failover.base_interval_ms = -1;
    out->default_failover.max_interval_ms = -1;
    size_t before = errs->len;
    if (!json_is_object(obj)) {
        field_errors_add(errs, FIELD_INVALID, "", obj ? json_type_name(obj) : "null",
                         "must be of type object");
        return finish(errs, before, 0);
    }
    out->source = json_incref((json_t *)obj);
    check_top_level(obj, errs);
    parse_meta(obj, &out->meta);
    const json_t *spec = get_obj(obj, "spec", "", errs);
    int rc = 0;
    if (spec == NULL) {
        if (member(obj, "spec") == NULL) {
            field_errors_add(errs, FIELD_REQUIRED, "spec", NULL, NULL);
        }
    } else {
        rc = parse_routing_spec(spec, out, errs);
    }
    return finish(errs, before, rc);
}

static void free_failover(policy_failover *f)
{
    free(f->retry_on);
    f->retry_on = NULL;
    f->n_retry_on = 0;
}

void policy_routing_free(policy_routing *p)
{
    if (p == NULL) {
        return;
    }
    for (size_t i = 0; i < p->n_providers; i++) {
        policy_endpoint_free(&p->providers[i].endpoint);
        free(p->providers[i].endpoint_error);
    }
    free(p->providers);
    for (size_t i = 0; i < p->n_models; i++) {
        free(p->models[i].backends);
        free_failover(&p->models[i].failover);
    }
    free(p->models);
    free_failover(&p->default_failover);
    json_decref(p->source);
    memset(p, 0, sizeof *p);
}

/* ------------------------------------------------------------- access parts */

static void parse_mtls(const json_t *spec, policy_access *p, field_errors *errs)
{
    static const char *const allowed[] = {"trustDomain", "trustBundleConfigMap", "serverCertRef",
                                          NULL};
    static const char *const bundle_allowed[] = {"name", "namespace", "key", NULL};
    static const char *const cert_allowed[] = {"name", NULL};
    const json_t *m = get_obj(spec, "mtls", "spec", errs);
    if (m == NULL) {
        return;
    }
    p->has_mtls = 1;
    reject_unknown(m, "spec.mtls", allowed, errs);
    p->trust_domain = get_str(m, "trustDomain", "spec.mtls", errs);
    const json_t *b = get_obj(m, "trustBundleConfigMap", "spec.mtls", errs);
    if (b != NULL) {
        const char *bp = "spec.mtls.trustBundleConfigMap";
        reject_unknown(b, bp, bundle_allowed, errs);
        const char *v;
        if ((v = get_str(b, "name", bp, errs)) != NULL) {
            p->bundle.name = v;
        }
        if ((v = get_str(b, "namespace", bp, errs)) != NULL) {
            p->bundle.ns = v;
        }
        if ((v = get_str(b, "key", bp, errs)) != NULL) {
            p->bundle.key = v;
        }
    }
    const json_t *sc = get_obj(m, "serverCertRef", "spec.mtls", errs);
    if (sc != NULL) {
        p->has_server_cert_ref = 1;
        reject_unknown(sc, "spec.mtls.serverCertRef", cert_allowed, errs);
        p->server_cert_name = get_str(sc, "name", "spec.mtls.serverCertRef", errs);
    }
}

int policy_access_parse(const json_t *obj, policy_access *out, field_errors *errs)
{
    static const char *const allowed[] = {"targetRef", "mtls", NULL};
    memset(out, 0, sizeof *out);
    out->target_ref.group = POLICY_GATEWAY_GROUP;
    out->target_ref.kind = POLICY_GATEWAY_KIND;
    out->bundle.name = POLICY_DEFAULT_BUNDLE_NAME;
    out->bundle.ns = POLICY_DEFAULT_BUNDLE_NAMESPACE;
    out->bundle.key = POLICY_DEFAULT_BUNDLE_KEY;
    size_t before = errs->len;
    if (!json_is_object(obj)) {
        field_errors_add(errs, FIELD_INVALID, "", obj ? json_type_name(obj) : "null",
                         "must be of type object");
        return finish(errs, before, 0);
    }
    out->source = json_incref((json_t *)obj);
    check_top_level(obj, errs);
    parse_meta(obj, &out->meta);
    const json_t *spec = get_obj(obj, "spec", "", errs);
    if (spec == NULL) {
        if (member(obj, "spec") == NULL) {
            field_errors_add(errs, FIELD_REQUIRED, "spec", NULL, NULL);
        }
        return finish(errs, before, 0);
    }
    reject_unknown(spec, "spec", allowed, errs);
    parse_target_ref(spec, &out->target_ref, errs);
    parse_mtls(spec, out, errs);
    return finish(errs, before, 0);
}

void policy_access_free(policy_access *p)
{
    if (p == NULL) {
        return;
    }
    json_decref(p->source);
    memset(p, 0, sizeof *p);
}
