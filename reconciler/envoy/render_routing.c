/*
 * envoy renderer, AIRoutingPolicy P: per provider X a Backend, AIServiceBackend
 * and (with credentials) BackendSecurityPolicy `P-X` plus the derived Secret
 * `P-X-credentials` when the user's key is not the one Envoy AI Gateway
 * expects; AIGatewayRoutes `P`, `P-2`, ... and one BackendTrafficPolicy per
 * route (retry + per-model global token rate limits). See render.h.
 */
#include "reconciler/envoy/render.h"
#include "reconciler/envoy/render_meta.h"

#include <stdio.h>
#include <string.h>

const char *envoy_token_metadata_key(policy_token_mode mode)
{
    switch (mode) {
    case POLICY_TOKENS_INPUT:
        return "llm_input_token";
    case POLICY_TOKENS_OUTPUT:
        return "llm_output_token";
    default:
        return "llm_total_token";
    }
}

static const char *token_cost_type(policy_token_mode mode)
{
    switch (mode) {
    case POLICY_TOKENS_INPUT:
        return "InputToken";
    case POLICY_TOKENS_OUTPUT:
        return "OutputToken";
    default:
        return "TotalToken";
    }
}

/* ----------------------------------------------------------------- provider */

static json_t *render_backend(const intent_routing *r, const intent_provider *p)
{
    json_t *ep = p->host_is_ip
                     ? json_pack("{s:{s:s, s:i}}", "ip", "address", p->host, "port", p->port)
                     : json_pack("{s:{s:s, s:i}}", "fqdn", "hostname", p->host, "port", p->port);
    json_t *spec = json_pack("{s:[o]}", "endpoints", ep);
    if (!spec) {
        return NULL;
    }
    int bad = 0;
    if (p->http2) {
        /* HTTP/2 to the backend; over TLS it is negotiated with ALPN h2. */
        bad |= json_object_set_new(spec, "appProtocols",
                                   json_pack("[s]", "gateway.envoyproxy.io/h2c"));
    }
    if (p->https) {
        json_t *tls = json_pack("{s:s}", "wellKnownCACertificates", "System");
        if (tls && !p->host_is_ip) {
            bad |= json_object_set_new(tls, "sni", json_string(p->host));
        }
        if (tls && p->http2) {
            bad |= json_object_set_new(tls, "alpnProtocols", json_pack("[s]", "h2"));
        }
        bad |= json_object_set_new(spec, "tls", tls);
    }
    if (bad) {
        json_decref(spec);
        return NULL;
    }
    return render_object(&r->owner, ENVOY_EG_API, "Backend", p->object_name, "spec", spec);
}

static json_t *render_ai_service_backend(const intent_routing *r, const intent_provider *p)
{
    json_t *schema = json_pack("{s:s}", "name", policy_schema_name(p->schema));
    if (schema && p->version) {
        json_object_set_new(schema, "version", json_string(p->version));
    }
    if (schema && p->prefix) {
        json_object_set_new(schema, "prefix", json_string(p->prefix));
    }
    json_t *spec = json_pack("{s:o, s:{s:s, s:s, s:s}}", "schema", schema, "backendRef", "name",
                             p->object_name, "kind", "Backend", "group", "gateway.envoyproxy.io");
    return render_object(&r->owner, ENVOY_AIGW_API, "AIServiceBackend", p->object_name, "spec",
                         spec);
}

static json_t *secret_ref(const char *name)
{
    return json_pack("{s:s}", "name", name);
}

static json_t *render_security_policy(const intent_routing *r, const intent_provider *p)
{
    json_t *spec = json_pack("{s:[{s:s, s:s, s:s}], s:s}", "targetRefs", "group",
                             "aigateway.envoyproxy.io", "kind", "AIServiceBackend", "name",
                             p->object_name, "type", policy_cred_type_name(p->cred));
    if (!spec) {
        return NULL;
    }
    json_t *body = NULL;
    const char *field = NULL;
    switch (p->cred) {
    case POLICY_CRED_API_KEY:
    case POLICY_CRED_AZURE_API_KEY:
    case POLICY_CRED_ANTHROPIC_API_KEY:
        field = p->cred == POLICY_CRED_API_KEY         ? "apiKey"
                : p->cred == POLICY_CRED_AZURE_API_KEY ? "azureAPIKey"
                                                       : "anthropicAPIKey";
        body = json_pack("{s:o}", "secretRef", secret_ref(p->secret_name ? p->secret_name : ""));
        break;
    case POLICY_CRED_AWS:
        field = "awsCredentials";
        body = json_pack("{s:s}", "region", p->region ? p->region : "");
        if (body && p->secret_name) {
            json_object_set_new(body, "credentialsFile",
                                json_pack("{s:o, s:s}", "secretRef", secret_ref(p->secret_name),
                                          "profile", "default"));
        }
        break;
    case POLICY_CRED_AZURE:
        field = "azureCredentials";
        body = json_pack("{s:s, s:s, s:o}", "clientID", p->client_id ? p->client_id : "",
                         "tenantID", p->tenant_id ? p->tenant_id : "", "clientSecretRef",
                         secret_ref(p->secret_name ? p->secret_name : ""));
        break;
    case POLICY_CRED_GCP:
        field = "gcpCredentials";
        body =
            json_pack("{s:s, s:s, s:{s:o}}", "projectName", p->project_name ? p->project_name : "",
                      "region", p->region ? p->region : "", "credentialsFile", "secretRef",
                      secret_ref(p->secret_name ? p->secret_name : ""));
        break;
    default:
        break;
    }
    if (!body || json_object_set_new(spec, field, body)) {
        json_decref(spec);
        return NULL;
    }
    return render_object(&r->owner, ENVOY_AIGW_API, "BackendSecurityPolicy", p->object_name, "spec",
                         spec);
}

static json_t *render_derived_secret(const intent_routing *r, const intent_provider *p)
{
    json_t *obj =
        render_object(&r->owner, "v1", "Secret", p->derived_secret, "type", json_string("Opaque"));
    if (obj && json_object_set_new(obj, "data",
                                   json_pack("{s:s}", p->derived_key, p->derived_value_b64))) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

/* -------------------------------------------------------------------- route */

static json_t *render_parent_refs(const intent_routing *r)
{
    json_t *refs = json_array();
    if (!refs) {
        return NULL;
    }
    if (r->attach_whole_gateway) {
        json_array_append_new(refs, json_pack("{s:s, s:s, s:s}", "group", ENVOY_GWAPI_GROUP, "kind",
                                              "Gateway", "name", r->owner.gateway));
    }
    for (size_t i = 0; i < r->n_sections; i++) {
        json_array_append_new(refs, json_pack("{s:s, s:s, s:s, s:s}", "group", ENVOY_GWAPI_GROUP,
                                              "kind", "Gateway", "name", r->owner.gateway,
                                              "sectionName", r->sections[i]));
    }
    return refs;
}

static json_t *render_rule(const intent_routing *r, const intent_model *m)
{
    json_t *refs = json_array();
    for (size_t i = 0; refs && i < m->n_backends; i++) {
        const intent_backend *b = &m->backends[i];
        json_t *ref = json_pack("{s:s}", "name", r->providers[b->provider].object_name);
        if (ref && b->model_override) {
            json_object_set_new(ref, "modelNameOverride", json_string(b->model_override));
        }
        if (ref) {
            json_object_set_new(ref, "priority", json_integer(b->priority));
            json_object_set_new(ref, "weight", json_integer(b->weight));
        }
        json_array_append_new(refs, ref);
    }
    return json_pack("{s:[{s:[{s:s, s:s, s:s}]}], s:o}", "matches", "headers", "type", "Exact",
                     "name", ENVOY_MODEL_HEADER, "value", m->name, "backendRefs", refs);
}

static json_t *render_route(const intent_routing *r, const intent_route *rt)
{
    json_t *rules = json_array();
    json_t *costs = json_array();
    unsigned modes = 0;
    for (size_t i = 0; rules && costs && i < rt->n_models; i++) {
        const intent_model *m = &rt->models[i];
        json_array_append_new(rules, render_rule(r, m));
        if (m->rate_limited && !(modes & (1u << m->token_mode))) {
            modes |= 1u << m->token_mode;
            json_array_append_new(costs, json_pack("{s:s, s:s}", "metadataKey",
                                                   envoy_token_metadata_key(m->token_mode), "type",
                                                   token_cost_type(m->token_mode)));
        }
    }
    json_t *spec = json_pack("{s:o, s:o}", "parentRefs", render_parent_refs(r), "rules", rules);
    if (spec && json_array_size(costs) > 0) {
        json_object_set(spec, "llmRequestCosts", costs);
    }
    json_decref(costs);
    return render_object(&r->owner, ENVOY_AIGW_API, "AIGatewayRoute", rt->name, "spec", spec);
}

static json_t *render_retry(const intent_retry *rt)
{
    json_t *codes = json_array();
    json_t *triggers = json_array();
    for (size_t i = 0; codes && i < rt->n_status_codes; i++) {
        json_array_append_new(codes, json_integer(rt->status_codes[i]));
    }
    for (size_t i = 0; triggers && i < rt->n_triggers; i++) {
        json_array_append_new(triggers, json_string(rt->triggers[i]));
    }
    json_t *retry = json_pack("{s:I, s:i}", "numRetries", (json_int_t)rt->num_retries,
                              "numAttemptsPerPriority", 1);
    json_t *on = json_object();
    if (on && json_array_size(triggers) > 0) {
        json_object_set(on, "triggers", triggers);
    }
    if (on && json_array_size(codes) > 0) {
        json_object_set(on, "httpStatusCodes", codes);
    }
    json_decref(codes);
    json_decref(triggers);
    if (retry && on && json_object_size(on) > 0) {
        json_object_set(retry, "retryOn", on);
    }
    json_decref(on);
    if (retry && (rt->base_interval || rt->max_interval)) {
        json_t *bo = json_object();
        if (bo) {
            /* baseInterval is required by Envoy when a backoff is given. */
            json_object_set_new(bo, "baseInterval",
                                json_string(rt->base_interval ? rt->base_interval : "25ms"));
            if (rt->max_interval) {
                json_object_set_new(bo, "maxInterval", json_string(rt->max_interval));
            }
        }
        json_object_set_new(retry, "perRetry", json_pack("{s:o}", "backOff", bo));
    }
    return retry;
}

static json_t *render_rate_limit_rule(const intent_model *m)
{
    return json_pack("{s:[{s:[{s:s, s:s, s:s}]}], s:{s:I, s:s}, s:{s:{s:s, s:i}, "
                     "s:{s:s, s:{s:s, s:s}}}}",
                     "clientSelectors", "headers", "name", ENVOY_MODEL_HEADER, "type", "Exact",
                     "value", m->name, "limit", "requests", (json_int_t)m->tokens_per_hour, "unit",
                     "Hour", "cost", "request", "from", "Number", "number", 0, "response", "from",
                     "Metadata", "metadata", "namespace", ENVOY_AIGW_METADATA_NS, "key",
                     envoy_token_metadata_key(m->token_mode));
}

static json_t *render_traffic_policy(const intent_routing *r, const intent_route *rt)
{
    json_t *spec = json_pack("{s:[{s:s, s:s, s:s}]}", "targetRefs", "group", ENVOY_GWAPI_GROUP,
                             "kind", "HTTPRoute", "name", rt->name);
    if (!spec) {
        return NULL;
    }
    json_t *rules = json_array();
    for (size_t i = 0; rules && i < rt->n_models; i++) {
        if (rt->models[i].rate_limited) {
            json_array_append_new(rules, render_rate_limit_rule(&rt->models[i]));
        }
    }
    if (json_array_size(rules) > 0) {
        json_object_set_new(
            spec, "rateLimit",
            json_pack("{s:s, s:{s:O}}", "type", "Global", "global", "rules", rules));
    }
    json_decref(rules);
    if (rt->retry.present) {
        json_object_set_new(spec, "retry", render_retry(&rt->retry));
    }
    return render_object(&r->owner, ENVOY_EG_API, "BackendTrafficPolicy", rt->name, "spec", spec);
}

/* ------------------------------------------------------------------- entry */

int envoy_render_routing(const intent_routing *in, json_t **out, char *err, size_t errlen)
{
    json_t *objs = json_array();
    int ok = objs != NULL;
    for (size_t i = 0; ok && i < in->n_providers; i++) {
        const intent_provider *p = &in->providers[i];
        if (p->derived_secret && p->derived_value_b64) {
            ok = render_append(objs, render_derived_secret(in, p));
        }
    }
    for (size_t i = 0; ok && i < in->n_providers; i++) {
        ok = render_append(objs, render_backend(in, &in->providers[i]));
    }
    for (size_t i = 0; ok && i < in->n_providers; i++) {
        ok = render_append(objs, render_ai_service_backend(in, &in->providers[i]));
    }
    for (size_t i = 0; ok && i < in->n_providers; i++) {
        if (in->providers[i].cred != POLICY_CRED_NONE) {
            ok = render_append(objs, render_security_policy(in, &in->providers[i]));
        }
    }
    for (size_t i = 0; ok && i < in->n_routes; i++) {
        ok = render_append(objs, render_route(in, &in->routes[i]));
    }
    for (size_t i = 0; ok && i < in->n_routes; i++) {
        ok = render_append(objs, render_traffic_policy(in, &in->routes[i]));
    }
    if (!ok) {
        json_decref(objs);
        snprintf(err, errlen, "out of memory while rendering %s/%s", in->owner.ns, in->owner.name);
        *out = NULL;
        return -1;
    }
    *out = objs;
    return 0;
}
