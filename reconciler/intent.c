/*
 * intent (AIRoutingPolicy half): providers with parsed endpoints and resolved
 * credentials, models grouped into routes by failover profile (at most 15 a
 * route), rate limits. The AIAccessPolicy half is in intent_access.c. Pure.
 */
#include "reconciler/intent.h"
#include "reconciler/intent_util.h"
#include "reconciler/objname.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- credentials */

/* Looks up `name` in the Secrets array; NULL when absent. */
static const json_t *find_secret(const json_t *secrets, const char *name)
{
    size_t i;
    const json_t *s;
    if (!json_is_array(secrets) || !name) {
        return NULL;
    }
    json_array_foreach(secrets, i, s)
    {
        const char *n = json_string_value(json_object_get(json_object_get(s, "metadata"), "name"));
        if (n && strcmp(n, name) == 0) {
            return s;
        }
    }
    return NULL;
}

static int set_provider_error(intent_provider *p, const char *reason, const char *msg)
{
    p->error_reason = strdup(reason);
    p->error = strdup(msg);
    return (p->error_reason && p->error) ? 0 : -1;
}

/*
 * Resolves the Secret a credential block references: which Secret the
 * BackendSecurityPolicy names, whether a derived Secret is needed, and the
 * status when the Secret or its key is missing. The value is copied only when
 * a derived Secret must carry it.
 */
static int resolve_secret(intent_provider *p, const policy_credentials *c, const json_t *secrets)
{
    const policy_secret_ref *ref = policy_cred_secret_ref(c, NULL);
    if (!ref || !ref->name) {
        return 0; /* AWSCredentials without a Secret: default credential chain */
    }
    const char *expected = policy_cred_secret_key(c->type);
    const char *key = policy_cred_effective_key(c);
    if (!expected || !key) {
        return -1;
    }
    int derive = strcmp(key, expected) != 0;
    if (derive) {
        p->derived_secret = objname_join(p->object_name, "credentials");
        p->derived_key = strdup(expected);
        p->secret_name = p->derived_secret ? strdup(p->derived_secret) : NULL;
        if (!p->derived_secret || !p->derived_key || !p->secret_name) {
            return -1;
        }
    } else if (!(p->secret_name = strdup(ref->name))) {
        return -1;
    }
    const json_t *secret = find_secret(secrets, ref->name);
    char msg[600];
    if (!secret) {
        snprintf(msg, sizeof msg, "Secret \"%s\" not found", ref->name);
        return set_provider_error(p, "CredentialSecretNotFound", msg);
    }
    if (!intent_secret_has_key(secret, key)) {
        snprintf(msg, sizeof msg, "Secret \"%s\" has no key \"%s\"", ref->name, key);
        return set_provider_error(p, "CredentialSecretNotFound", msg);
    }
    if (derive && !(p->derived_value_b64 = intent_secret_value_b64(secret, key))) {
        return -1;
    }
    return 0;
}

static int build_provider(const policy_routing *pol, const policy_provider *pp,
                          const json_t *secrets, intent_provider *p, char *err, size_t errlen)
{
    if (!pp->endpoint_ok || pp->schema == POLICY_SCHEMA_INVALID ||
        pp->credentials.type == POLICY_CRED_INVALID) {
        snprintf(err, errlen, "provider %s: policy was not validated", pp->name ? pp->name : "?");
        return -1;
    }
    p->name = strdup(pp->name);
    p->object_name = objname_join(pol->meta.name, pp->name);
    p->host = strdup(pp->endpoint.host);
    if (!p->name || !p->object_name || !p->host) {
        goto oom;
    }
    p->schema = pp->schema;
    p->https = pp->endpoint.https;
    p->host_is_ip = pp->endpoint.host_is_ip;
    p->port = pp->endpoint.port;
    p->http2 = pp->protocol == POLICY_PROTOCOL_HTTP2;
    const policy_schema_info *info = policy_schema_info_of(pp->schema);
    if (info && info->uses_path_prefix && pp->endpoint.path && pp->endpoint.path[0]) {
        if (!(p->prefix = strdup(pp->endpoint.path))) {
            goto oom;
        }
    }
    if (pp->version && pp->version[0] && !(p->version = strdup(pp->version))) {
        goto oom;
    }
    const policy_credentials *c = &pp->credentials;
    p->cred = c->type;
    if (intent_dup_opt(&p->region, c->region) ||
        intent_dup_opt(&p->project_name, c->project_name) ||
        intent_dup_opt(&p->tenant_id, c->tenant_id) ||
        intent_dup_opt(&p->client_id, c->client_id)) {
        goto oom;
    }
    if (c->type != POLICY_CRED_NONE && resolve_secret(p, c, secrets) != 0) {
        goto oom;
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* ------------------------------------------------------------------- retry */

/* A canonical text for a failover block: models with equal keys share a route. */
static char *failover_key(const policy_failover *f)
{
    if (!f || !f->present) {
        return strdup("none");
    }
    intent_buf b = {0};
    intent_buf_printf(&b, "r=%lld;b=%s;m=%s;on=",
                      f->has_max_retries ? f->max_retries : (long long)POLICY_DEFAULT_MAX_RETRIES,
                      f->base_interval ? f->base_interval : "",
                      f->max_interval ? f->max_interval : "");
    for (size_t i = 0; i < f->n_retry_on; i++) {
        if (f->retry_on[i].is_status) {
            intent_buf_printf(&b, "%lld,", f->retry_on[i].status);
        } else {
            intent_buf_printf(&b, "%s,", f->retry_on[i].trigger ? f->retry_on[i].trigger : "");
        }
    }
    return intent_buf_take(&b);
}

static int has_trigger(char **t, size_t n, const char *s)
{
    if (!t) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (t[i] && s && strcmp(t[i], s) == 0) {
            return 1;
        }
    }
    return 0;
}

static int build_retry(const policy_failover *f, intent_retry *r)
{
    if (!f || !f->present) {
        return 0;
    }
    r->present = 1;
    r->num_retries = f->has_max_retries ? f->max_retries : POLICY_DEFAULT_MAX_RETRIES;
    if (f->n_retry_on > 0) {
        r->status_codes = calloc(f->n_retry_on, sizeof *r->status_codes);
        r->triggers = calloc(f->n_retry_on + 1, sizeof *r->triggers);
        if (!r->status_codes || !r->triggers) {
            return -1;
        }
    }
    for (size_t i = 0; i < f->n_retry_on; i++) {
        const policy_retry_on *e = &f->retry_on[i];
        if (e->is_status) {
            int dup = 0;
            for (size_t j = 0; j < r->n_status_codes; j++) {
                dup |= r->status_codes[j] == e->status;
            }
            if (!dup) {
                r->status_codes[r->n_status_codes++] = e->status;
            }
        } else if (e->trigger && !has_trigger(r->triggers, r->n_triggers, e->trigger)) {
            if (!(r->triggers[r->n_triggers++] = strdup(e->trigger))) {
                return -1;
            }
        }
    }
    /* Envoy retries on listed statuses only with this trigger. */
    if (r->n_status_codes > 0 &&
        !has_trigger(r->triggers, r->n_triggers, "retriable-status-codes")) {
        if (!(r->triggers[r->n_triggers++] = strdup("retriable-status-codes"))) {
            return -1;
        }
    }
    if (intent_dup_opt(&r->base_interval, f->base_interval) ||
        intent_dup_opt(&r->max_interval, f->max_interval)) {
        return -1;
    }
    return 0;
}

static void free_retry(intent_retry *r)
{
    free(r->status_codes);
    for (size_t i = 0; i < r->n_triggers; i++) {
        free(r->triggers[i]);
    }
    free(r->triggers);
    free(r->base_interval);
    free(r->max_interval);
}

/* ------------------------------------------------------------------ models */

static int build_model(const policy_routing *pol, const policy_model *pm, intent_routing *out,
                       intent_model *m)
{
    if (!(m->name = strdup(pm->name))) {
        return -1;
    }
    if (pm->n_backends > 0 && !(m->backends = calloc(pm->n_backends, sizeof *m->backends))) {
        return -1;
    }
    for (size_t i = 0; i < pm->n_backends; i++) {
        const policy_backend *pb = &pm->backends[i];
        size_t idx = pol->n_providers;
        for (size_t j = 0; j < pol->n_providers; j++) {
            if (pb->provider && strcmp(pol->providers[j].name, pb->provider) == 0) {
                idx = j;
                break;
            }
        }
        if (idx == pol->n_providers) {
            return -2; /* unknown provider: not validated */
        }
        intent_backend *b = &m->backends[m->n_backends++];
        b->provider = idx;
        b->priority = pb->priority;
        b->weight = pb->weight;
        if (pb->model && pb->model[0] && !(b->model_override = strdup(pb->model))) {
            return -1;
        }
    }
    (void)out;
    if (pm->rate_limit.present && pm->rate_limit.has_tokens_per_hour) {
        m->rate_limited = 1;
        m->tokens_per_hour = pm->rate_limit.tokens_per_hour;
        m->token_mode = pm->rate_limit.mode == POLICY_TOKENS_INVALID ? POLICY_TOKENS_TOTAL
                                                                     : pm->rate_limit.mode;
    }
    return 0;
}

static void free_model(intent_model *m)
{
    free(m->name);
    for (size_t i = 0; i < m->n_backends; i++) {
        free(m->backends[i].model_override);
    }
    free(m->backends);
}

/*
 * Groups models by failover profile (in order of first appearance), then cuts
 * each group into routes of at most INTENT_MAX_MODELS_PER_ROUTE.
 */
static int build_routes(const policy_routing *pol, intent_routing *out, char *err, size_t errlen)
{
    size_t n = pol->n_models;
    char **keys = calloc(n ? n : 1, sizeof *keys);
    size_t *group = calloc(n ? n : 1, sizeof *group);
    size_t n_groups = 0;
    int rc = -1;
    if (!keys || !group) {
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (!(keys[i] = failover_key(policy_model_failover(pol, &pol->models[i])))) {
            goto done;
        }
        group[i] = n_groups;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(keys[j], keys[i]) == 0) {
                group[i] = group[j];
                break;
            }
        }
        if (group[i] == n_groups) {
            n_groups++;
        }
    }
    /* Upper bound of routes: every group rounded up. */
    out->routes = calloc(n + 1, sizeof *out->routes);
    if (!out->routes) {
        goto done;
    }
    for (size_t g = 0; g < n_groups; g++) {
        intent_route *cur = NULL;
        for (size_t i = 0; i < n; i++) {
            if (group[i] != g) {
                continue;
            }
            if (!cur || cur->n_models == INTENT_MAX_MODELS_PER_ROUTE) {
                cur = &out->routes[out->n_routes++];
                char num[24];
                snprintf(num, sizeof num, "%zu", out->n_routes);
                cur->name = out->n_routes == 1 ? objname_join(pol->meta.name, NULL)
                                               : objname_join(pol->meta.name, num);
                cur->models = calloc(INTENT_MAX_MODELS_PER_ROUTE, sizeof *cur->models);
                if (!cur->name || !cur->models ||
                    build_retry(policy_model_failover(pol, &pol->models[i]), &cur->retry)) {
                    goto done;
                }
            }
            int mrc = build_model(pol, &pol->models[i], out, &cur->models[cur->n_models++]);
            if (mrc == -2) {
                snprintf(err, errlen, "model %s: unknown provider (policy was not validated)",
                         pol->models[i].name);
                rc = -2;
                goto done;
            }
            if (mrc) {
                goto done;
            }
        }
    }
    rc = 0;
done:
    for (size_t i = 0; keys && i < n; i++) {
        free(keys[i]);
    }
    free(keys);
    free(group);
    if (rc == -1) {
        snprintf(err, errlen, "out of memory");
    }
    return rc ? -1 : 0;
}

/* ------------------------------------------------------------------ routing */

int intent_routing_build(const intent_routing_input *in, intent_routing *out, char *err,
                         size_t errlen)
{
    memset(out, 0, sizeof *out);
    const policy_routing *pol = in->policy;
    if (intent_owner_init(&out->owner, POLICY_KIND_ROUTING_NAME, &pol->meta, &pol->target_ref,
                          in->uid, err, errlen)) {
        return -1;
    }
    if (in->gateway_has_access_policy) {
        intent_listener *ls = NULL;
        size_t n_ls = 0;
        if (intent_gateway_https_listeners(in->gateway, &ls, &n_ls)) {
            goto oom;
        }
        out->sections = calloc(n_ls ? n_ls : 1, sizeof *out->sections);
        /* AIGatewayRoute allows 16 parentRefs. */
        size_t n_keep = n_ls > INTENT_MAX_PARENT_REFS ? INTENT_MAX_PARENT_REFS : n_ls;
        if (n_ls > n_keep &&
            intent_notes_add(&out->notes, "the Gateway has more than 16 HTTPS listeners: routes "
                                          "attach to the first 16")) {
            intent_listeners_free(ls, n_ls);
            goto oom;
        }
        for (size_t i = 0; out->sections && i < n_keep; i++) {
            out->sections[out->n_sections++] = ls[i].name;
            ls[i].name = NULL;
        }
        intent_listeners_free(ls, n_ls);
        if (!out->sections) {
            goto oom;
        }
        size_t n_all =
            json_array_size(json_object_get(json_object_get(in->gateway, "spec"), "listeners"));
        if (n_all > out->n_sections && out->n_sections > 0 &&
            intent_notes_add(&out->notes, "the Gateway also has non-HTTPS listeners: the routes "
                                          "attach only to its HTTPS listeners")) {
            goto oom;
        }
        if (out->n_sections == 0 &&
            intent_notes_add(&out->notes, "the Gateway has an AIAccessPolicy but no HTTPS "
                                          "listener: routes are not attached until one is added")) {
            goto oom;
        }
    } else {
        out->attach_whole_gateway = 1;
    }
    if (pol->n_providers > 0 &&
        !(out->providers = calloc(pol->n_providers, sizeof *out->providers))) {
        goto oom;
    }
    for (size_t i = 0; i < pol->n_providers; i++) {
        out->n_providers++;
        if (build_provider(pol, &pol->providers[i], in->secrets, &out->providers[i], err, errlen)) {
            return -1;
        }
    }
    return build_routes(pol, out, err, errlen);
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

static void free_provider(intent_provider *p)
{
    free(p->name);
    free(p->object_name);
    free(p->version);
    free(p->host);
    free(p->prefix);
    free(p->secret_name);
    free(p->derived_secret);
    free(p->derived_key);
    intent_wipe_free(p->derived_value_b64);
    free(p->region);
    free(p->project_name);
    free(p->tenant_id);
    free(p->client_id);
    free(p->error);
    free(p->error_reason);
}

void intent_routing_free(intent_routing *r)
{
    if (!r) {
        return;
    }
    intent_owner_free(&r->owner);
    for (size_t i = 0; i < r->n_sections; i++) {
        free(r->sections[i]);
    }
    free(r->sections);
    for (size_t i = 0; i < r->n_providers; i++) {
        free_provider(&r->providers[i]);
    }
    free(r->providers);
    for (size_t i = 0; i < r->n_routes; i++) {
        intent_route *rt = &r->routes[i];
        free(rt->name);
        free_retry(&rt->retry);
        for (size_t j = 0; j < rt->n_models; j++) {
            free_model(&rt->models[j]);
        }
        free(rt->models);
    }
    free(r->routes);
    intent_notes_free(&r->notes);
    memset(r, 0, sizeof *r);
}
