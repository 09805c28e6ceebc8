/* gather: cluster objects -> intent inputs, through an object source. See gather.h. */
#include "reconciler/gather.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Gets one object; a missing one leaves *out NULL. 0, or -1 on I/O error. */
static int get_opt(object_source *src, const char *api, const char *kind, const char *ns,
                   const char *name, int64_t deadline_ms, json_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!name) {
        return 0;
    }
    objsrc_status st = object_source_get(src, api, kind, ns, name, deadline_ms, out, err, errlen);
    if (st == OBJSRC_OK || st == OBJSRC_NOT_FOUND) {
        return 0;
    }
    if (st == OBJSRC_TIMEOUT) {
        snprintf(err, errlen, "timeout reading %s %s/%s", kind, ns ? ns : "", name);
    }
    return -1;
}

static int targets_gateway(const json_t *pol, const char *ns, const char *gateway)
{
    const char *kind = json_string_value(json_object_get(pol, "kind"));
    const char *pns =
        json_string_value(json_object_get(json_object_get(pol, "metadata"), "namespace"));
    const json_t *ref = json_object_get(json_object_get(pol, "spec"), "targetRef");
    const char *name = json_string_value(json_object_get(ref, "name"));
    return kind && strcmp(kind, POLICY_KIND_ACCESS_NAME) == 0 && pns && strcmp(pns, ns) == 0 &&
           name && strcmp(name, gateway) == 0;
}

static int has_access_policy(object_source *src, const char *ns, const char *gateway,
                             const json_t *extra, int64_t deadline_ms, int *out, char *err,
                             size_t errlen)
{
    size_t i;
    const json_t *v;
    *out = 0;
    json_array_foreach(extra, i, v)
    {
        *out |= targets_gateway(v, ns, gateway);
    }
    json_t *items = NULL;
    objsrc_status st = object_source_list(src, POLICY_API_VERSION, POLICY_KIND_ACCESS_NAME, ns,
                                          NULL, deadline_ms, &items, err, errlen);
    if (st == OBJSRC_NOT_FOUND) {
        return 0;
    }
    if (st != OBJSRC_OK) {
        return -1;
    }
    json_array_foreach(items, i, v)
    {
        *out |= targets_gateway(v, ns, gateway);
    }
    json_decref(items);
    return 0;
}

int gather_routing_inputs(object_source *src, const policy_routing *p, const json_t *extra_policies,
                          int64_t deadline_ms, gather_routing *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->in.policy = p;
    const char *ns = p->meta.ns;
    if (!(out->secrets = json_array())) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < p->n_providers; i++) {
        const policy_secret_ref *ref = policy_cred_secret_ref(&p->providers[i].credentials, NULL);
        json_t *s = NULL;
        if (!ref || !ref->name) {
            continue;
        }
        if (get_opt(src, "v1", "Secret", ns, ref->name, deadline_ms, &s, err, errlen)) {
            return -1;
        }
        if (s && json_array_append_new(out->secrets, s)) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    if (get_opt(src, "gateway.networking.k8s.io/v1", "Gateway", ns, p->target_ref.name, deadline_ms,
                &out->gateway, err, errlen) ||
        (p->target_ref.name &&
         has_access_policy(src, ns, p->target_ref.name, extra_policies, deadline_ms,
                           &out->in.gateway_has_access_policy, err, errlen))) {
        return -1;
    }
    out->in.secrets = out->secrets;
    out->in.gateway = out->gateway;
    return 0;
}

void gather_routing_free(gather_routing *g)
{
    json_decref(g->secrets);
    json_decref(g->gateway);
    memset(g, 0, sizeof *g);
}

static int find_service(object_source *src, const char *ns, const char *gateway,
                        int64_t deadline_ms, json_t **out, char *err, size_t errlen)
{
    char sel[700];
    snprintf(sel, sizeof sel,
             "gateway.envoyproxy.io/owning-gateway-name=%s,"
             "gateway.envoyproxy.io/owning-gateway-namespace=%s",
             gateway, ns);
    json_t *items = NULL;
    *out = NULL;
    objsrc_status st =
        object_source_list(src, "v1", "Service", NULL, sel, deadline_ms, &items, err, errlen);
    if (st == OBJSRC_NOT_FOUND) {
        return 0;
    }
    if (st != OBJSRC_OK) {
        return -1;
    }
    /* Sorted by namespace then name: the first one is a stable choice. */
    if (json_array_size(items) > 0) {
        *out = json_incref(json_array_get(items, 0));
    }
    json_decref(items);
    return 0;
}

static void gather_bundle(gather_access *g, const policy_access *p, time_t now)
{
    intent_bundle_input *b = &g->in.bundle;
    const char *data =
        json_string_value(json_object_get(json_object_get(g->bundle_cm, "data"), p->bundle.key));
    if (!g->bundle_cm || !data) {
        b->state = INTENT_BUNDLE_NOT_FOUND;
        return;
    }
    if (spiffe_bundle_parse(data, strlen(data), (int64_t)now, &g->bundle, g->bundle_err,
                            sizeof g->bundle_err)) {
        b->state = INTENT_BUNDLE_PARSE_ERROR;
        b->error = g->bundle_err;
        return;
    }
    g->bundle_parsed = 1;
    b->certificates = (int)g->bundle.valid;
    b->expired = (int)g->bundle.expired;
    b->next_expiry = g->bundle.next_expiry > 0 ? (time_t)g->bundle.next_expiry : 0;
    if (g->bundle.valid == 0) {
        b->state = INTENT_BUNDLE_EMPTY;
        return;
    }
    b->state = INTENT_BUNDLE_READY;
    b->ca_pem = g->bundle.ca_pem;
}

int gather_access_inputs(object_source *src, const policy_access *p, time_t now,
                         int64_t deadline_ms, gather_access *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->in.policy = p;
    out->in.now = now;
    const char *ns = p->meta.ns;
    char *issuer = p->meta.name ? intent_name_issuer(p->meta.name) : NULL;
    char *server = p->meta.name ? intent_name_server(p->meta.name) : NULL;
    char *client_ca = p->meta.name ? intent_name_client_ca(p->meta.name) : NULL;
    int rc = -1;
    if (p->meta.name && (!issuer || !server || !client_ca)) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if (get_opt(src, "gateway.networking.k8s.io/v1", "Gateway", ns, p->target_ref.name, deadline_ms,
                &out->gateway, err, errlen) ||
        (p->target_ref.name &&
         find_service(src, ns, p->target_ref.name, deadline_ms, &out->service, err, errlen)) ||
        get_opt(src, "v1", "ConfigMap", p->bundle.ns, p->bundle.name, deadline_ms, &out->bundle_cm,
                err, errlen) ||
        (p->has_server_cert_ref && get_opt(src, "v1", "Secret", ns, p->server_cert_name,
                                           deadline_ms, &out->server_cert, err, errlen)) ||
        get_opt(src, "v1", "Secret", ns, issuer, deadline_ms, &out->issuer, err, errlen) ||
        get_opt(src, "v1", "Secret", ns, server, deadline_ms, &out->server, err, errlen) ||
        get_opt(src, "v1", "Secret", ns, client_ca, deadline_ms, &out->client_ca, err, errlen)) {
        goto done;
    }
    gather_bundle(out, p, now);
    out->in.gateway = out->gateway;
    out->in.envoy_service = out->service;
    out->in.server_cert_secret = out->server_cert;
    out->in.existing_issuer = out->issuer;
    out->in.existing_server = out->server;
    out->in.existing_client_ca = out->client_ca;
    rc = 0;
done:
    free(issuer);
    free(server);
    free(client_ca);
    return rc;
}

void gather_access_free(gather_access *g)
{
    json_decref(g->gateway);
    json_decref(g->service);
    json_decref(g->bundle_cm);
    json_decref(g->server_cert);
    json_decref(g->issuer);
    json_decref(g->server);
    json_decref(g->client_ca);
    if (g->bundle_parsed) {
        spiffe_bundle_free(&g->bundle);
    }
    memset(g, 0, sizeof *g);
}
