/* desired: policy object -> desired objects, end to end. See desired.h. */
#include "reconciler/desired.h"
#include "reconciler/envoy/render.h"
#include "reconciler/gather.h"
#include "policy/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add_warnings(json_t *arr, const policy_warnings *w)
{
    for (size_t i = 0; i < w->len; i++) {
        if (json_array_append_new(arr, json_string(w->items[i]))) {
            return -1;
        }
    }
    return w->oom ? -1 : 0;
}

static int add_notes(json_t *arr, const intent_notes *n)
{
    for (size_t i = 0; i < n->len; i++) {
        if (json_array_append_new(arr, json_string(n->items[i]))) {
            return -1;
        }
    }
    return 0;
}

static int build_routing(object_source *src, const json_t *policy, const desired_options *opt,
                         desired_state *out, field_errors *errs, char *err, size_t errlen)
{
    policy_routing p;
    gather_routing g;
    intent_routing in;
    memset(&g, 0, sizeof g);
    memset(&in, 0, sizeof in);
    policy_warnings warns;
    policy_warnings_init(&warns);
    int rc = policy_routing_parse(policy, &p, errs);
    if (rc == 0) {
        policy_routing_validate(&p, errs, &warns);
        rc = errs->len > 0 ? 1 : 0;
    }
    if (rc == 0 && add_warnings(out->notes, &warns)) {
        rc = -1;
    }
    policy_warnings_free(&warns);
    if (rc != 0) {
        policy_routing_free(&p);
        if (rc == -1 || field_errors_oom(errs)) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        return 1;
    }
    rc = -1;
    if (gather_routing_inputs(src, &p, opt->extra_policies, opt->deadline_ms, &g, err, errlen)) {
        goto done;
    }
    g.in.uid = opt->fallback_uid;
    if (intent_routing_build(&g.in, &in, err, errlen) ||
        envoy_render_routing(&in, &out->objects, err, errlen) || add_notes(out->notes, &in.notes)) {
        goto done;
    }
    out->gateway_found = g.gateway != NULL;
    if (!(out->providers = json_array()) || !(out->models = json_array())) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < in.n_providers; i++) {
        const intent_provider *ip = &in.providers[i];
        json_t *st = json_pack("{s:s, s:b}", "name", ip->name, "ready", ip->error == NULL);
        if (st && ip->error) {
            json_object_set_new(st, "error", json_string(ip->error));
            json_object_set_new(st, "reason", json_string(ip->error_reason));
        }
        if (!st || json_array_append_new(out->providers, st)) {
            snprintf(err, errlen, "out of memory");
            goto done;
        }
    }
    for (size_t i = 0; i < p.n_models; i++) {
        const char *route = NULL;
        for (size_t r = 0; r < in.n_routes && !route; r++) {
            for (size_t m = 0; m < in.routes[r].n_models; m++) {
                if (strcmp(in.routes[r].models[m].name, p.models[i].name) == 0) {
                    route = in.routes[r].name;
                }
            }
        }
        if (json_array_append_new(
                out->models, json_pack("{s:s, s:s?}", "name", p.models[i].name, "route", route))) {
            snprintf(err, errlen, "out of memory");
            goto done;
        }
    }
    for (size_t i = 0; i < in.n_providers; i++) {
        if (in.providers[i].error) {
            char msg[800];
            snprintf(msg, sizeof msg, "provider %s: %s: %s", in.providers[i].name,
                     in.providers[i].error_reason, in.providers[i].error);
            if (json_array_append_new(out->notes, json_string(msg))) {
                goto done;
            }
        }
    }
    rc = 0;
done:
    intent_routing_free(&in);
    gather_routing_free(&g);
    policy_routing_free(&p);
    return rc;
}

static int build_access(object_source *src, const json_t *policy, const desired_options *opt,
                        desired_state *out, field_errors *errs, char *err, size_t errlen)
{
    policy_access p;
    gather_access g;
    intent_access in;
    memset(&g, 0, sizeof g);
    memset(&in, 0, sizeof in);
    policy_warnings warns;
    policy_warnings_init(&warns);
    int rc = policy_access_parse(policy, &p, errs);
    if (rc == 0) {
        policy_access_validate(&p, errs, &warns);
        rc = errs->len > 0 ? 1 : 0;
    }
    if (rc == 0 && add_warnings(out->notes, &warns)) {
        rc = -1;
    }
    policy_warnings_free(&warns);
    if (rc != 0) {
        policy_access_free(&p);
        if (rc == -1 || field_errors_oom(errs)) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        return 1;
    }
    rc = -1;
    if (gather_access_inputs(src, &p, opt->now, opt->deadline_ms, &g, err, errlen)) {
        goto done;
    }
    g.in.uid = opt->fallback_uid;
    g.in.helper_health_port = opt->helper_health_port;
    if (intent_access_build(&g.in, &in, err, errlen) ||
        intent_access_issue_certs(&in, err, errlen) ||
        envoy_render_access(&in, &out->objects, err, errlen) ||
        envoy_render_gateway_apply(&in, &out->gateway_apply, err, errlen) ||
        add_notes(out->notes, &in.notes)) {
        goto done;
    }
    out->gateway_found = in.gateway_found;
    out->bundle_state = in.bundle_state;
    out->bundle_certificates = in.bundle_certificates;
    out->bundle_expired = in.bundle_expired;
    out->bundle_next_expiry = in.bundle_next_expiry;
    out->https_listeners = (int)in.n_https_listeners;
    out->server_cert_issued = !in.server_cert_ref && in.server_action == INTENT_CERT_ISSUE;
    if (in.endpoint && !(out->endpoint = strdup(in.endpoint))) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    rc = 0;
done:
    intent_access_free(&in);
    gather_access_free(&g);
    policy_access_free(&p);
    return rc;
}

int desired_build(object_source *src, const json_t *policy, const desired_options *opt,
                  desired_state *out, field_errors *errs, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->kind = policy_kind_of(policy);
    if (!(out->notes = json_array())) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    switch (out->kind) {
    case POLICY_KIND_ROUTING:
        return build_routing(src, policy, opt, out, errs, err, errlen);
    case POLICY_KIND_ACCESS:
        return build_access(src, policy, opt, out, errs, err, errlen);
    default:
        snprintf(err, errlen, "not an AIRoutingPolicy or AIAccessPolicy");
        return -1;
    }
}

void desired_free(desired_state *d)
{
    json_decref(d->objects);
    json_decref(d->gateway_apply);
    free(d->endpoint);
    json_decref(d->notes);
    json_decref(d->providers);
    json_decref(d->models);
    memset(d, 0, sizeof *d);
}
