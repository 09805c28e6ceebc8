/*
 * envoy renderer, AIAccessPolicy A: Secret A-mtls-ca (client CAs from the
 * trust bundle), Secrets A-gateway-issuer and A-mtls-server (unless
 * serverCertRef), ConfigMap A-gateway-ca (the CA agents trust + spiffe-helper
 * configuration), ClientTrafficPolicy A, and the Gateway apply configuration.
 * See render.h.
 */
#include "reconciler/envoy/render.h"

#include "common/base64.h"
#include "reconciler/envoy/render_meta.h"
#include "reconciler/intent_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * spiffe-helper configuration for the injected sidecar (DESIGN §4): the SPIRE
 * agent socket of the CSI volume, the svid-output mount, the three file
 * names, daemon mode and its health endpoint on the injector's helper health
 * port (17081 by default, never 8081), which the injected probes call.
 */
static const char helper_conf_head[] = "agent_address = \"/spiffe-workload-api/spire-agent.sock\"\n"
                                       "cert_dir = \"/var/run/secrets/aigw/svid\"\n"
                                       "svid_file_name = \"svid.pem\"\n"
                                       "svid_key_file_name = \"svid_key.pem\"\n"
                                       "svid_bundle_file_name = \"svid_bundle.pem\"\n"
                                       "cert_file_mode = 0644\n"
                                       "key_file_mode = 0640\n"
                                       "daemon_mode = true\n"
                                       "health_checks {\n"
                                       "  listener_enabled = true\n"
                                       "  bind_port = %d\n"
                                       "  liveness_path = \"/live\"\n"
                                       "  readiness_path = \"/ready\"\n"
                                       "}\n";

/* A Secret of `type` with each (key, text value) pair base64-encoded in data. */
static json_t *render_secret(const intent_access *a, const char *name, const char *type,
                             const char *const *kv, size_t n_pairs)
{
    json_t *data = json_object();
    for (size_t i = 0; data && i < n_pairs; i++) {
        const char *v = kv[2 * i + 1];
        char *b64 = base64_encode(v, strlen(v));
        if (!b64 || json_object_set_new(data, kv[2 * i], json_string(b64))) {
            intent_wipe_free(b64);
            json_decref(data);
            return NULL;
        }
        intent_wipe_free(b64);
    }
    if (!data) {
        return NULL;
    }
    json_t *obj = render_object(&a->owner, "v1", "Secret", name, "type", json_string(type));
    if (!obj || json_object_set_new(obj, "data", data)) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

static json_t *render_named_secret(const intent_access *a, char *(*namer)(const char *),
                                   const char *type, const char *const *kv, size_t n_pairs)
{
    char *name = namer(a->owner.name);
    json_t *obj = name ? render_secret(a, name, type, kv, n_pairs) : NULL;
    free(name);
    return obj;
}

static json_t *render_agent_ca(const intent_access *a, const char *ca_pem)
{
    char *name = intent_name_agent_ca(a->owner.name);
    json_t *data = json_object();
    if (data && ca_pem) {
        json_object_set_new(data, "ca.crt", json_string(ca_pem));
    }
    if (data) {
        char conf[sizeof helper_conf_head + 16];
        snprintf(conf, sizeof conf, helper_conf_head, a->helper_health_port);
        json_object_set_new(data, "helper.conf", json_string(conf));
    }
    json_t *obj = name ? render_object(&a->owner, "v1", "ConfigMap", name, "data", data) : NULL;
    if (!name) {
        json_decref(data);
    }
    free(name);
    return obj;
}

static json_t *render_client_policy(const intent_access *a)
{
    char *ca = intent_name_client_ca(a->owner.name);
    char prefix[512];
    snprintf(prefix, sizeof prefix, "spiffe://%s/", a->trust_domain);
    json_t *spec =
        ca ? json_pack("{s:[{s:s, s:s, s:s}], s:{s:{s:b, s:[{s:s, s:s, s:s}], s:{s:[{s:s, "
                       "s:s}]}}}, s:{s:{s:s, s:[s]}}}",
                       "targetRefs", "group", ENVOY_GWAPI_GROUP, "kind", "Gateway", "name",
                       a->owner.gateway, "tls", "clientValidation", "optional", 0,
                       "caCertificateRefs", "group", "", "kind", "Secret", "name", ca,
                       "subjectAltNames", "uris", "type", "Prefix", "value", prefix, "headers",
                       "xForwardedClientCert", "mode", "SanitizeSet", "certDetailsToAdd", "URI")
           : NULL;
    free(ca);
    return render_object(&a->owner, ENVOY_EG_API, "ClientTrafficPolicy", a->owner.name, "spec",
                         spec);
}

int envoy_render_access(const intent_access *a, json_t **out, char *err, size_t errlen)
{
    *out = NULL;
    const char *agent_ca = a->server_cert_ref ? a->agent_ca_pem : a->issuer.cert_pem;
    if (!a->server_cert_ref &&
        (!a->issuer.cert_pem || !a->issuer.key_pem || !a->server.cert_pem || !a->server.key_pem)) {
        snprintf(err, errlen, "%s/%s: server certificate not issued yet", a->owner.ns,
                 a->owner.name);
        return -1;
    }
    json_t *objs = json_array();
    int ok = objs != NULL;
    /*
     * Without any usable bundle, A-mtls-ca still exists (a ClientTrafficPolicy
     * naming a missing Secret is rejected, and the listener would then accept
     * clients without certificates): it holds the gateway's own CA, which
     * signs no client certificate and no spiffe:// URI, so every client is
     * refused until the bundle arrives. Fail closed.
     */
    const char *client_ca = a->client_ca_pem ? a->client_ca_pem : agent_ca;
    if (ok && client_ca) {
        const char *kv[] = {"ca.crt", client_ca};
        ok = render_append(objs, render_named_secret(a, intent_name_client_ca, "Opaque", kv, 1));
    }
    if (ok && !a->server_cert_ref) {
        const char *issuer[] = {"tls.crt", a->issuer.cert_pem, "tls.key", a->issuer.key_pem};
        const char *server[] = {"tls.crt",         a->server.cert_pem, "tls.key",
                                a->server.key_pem, "ca.crt",           a->issuer.cert_pem};
        ok = render_append(objs, render_named_secret(a, intent_name_issuer, "kubernetes.io/tls",
                                                     issuer, 2)) &&
             render_append(
                 objs, render_named_secret(a, intent_name_server, "kubernetes.io/tls", server, 3));
    }
    ok = ok && render_append(objs, render_agent_ca(a, agent_ca)) &&
         render_append(objs, render_client_policy(a));
    if (!ok) {
        json_decref(objs);
        snprintf(err, errlen, "out of memory while rendering %s/%s", a->owner.ns, a->owner.name);
        return -1;
    }
    *out = objs;
    return 0;
}

int envoy_render_gateway_apply(const intent_access *a, json_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!a->gateway_found || a->n_https_listeners == 0) {
        return 0;
    }
    char *cert =
        a->server_cert_ref ? strdup(a->server_cert_ref) : intent_name_server(a->owner.name);
    json_t *listeners = json_array();
    for (size_t i = 0; cert && listeners && i < a->n_https_listeners; i++) {
        const intent_listener *l = &a->listeners[i];
        json_array_append_new(listeners,
                              json_pack("{s:s, s:I, s:s, s:{s:s, s:[{s:s, s:s, s:s}]}}", "name",
                                        l->name, "port", (json_int_t)l->port, "protocol",
                                        l->protocol, "tls", "mode", "Terminate", "certificateRefs",
                                        "group", "", "kind", "Secret", "name", cert));
    }
    free(cert);
    json_t *spec = json_object();
    if (spec && a->gateway_class) {
        json_object_set_new(spec, "gatewayClassName", json_string(a->gateway_class));
    }
    if (spec && listeners) {
        json_object_set(spec, "listeners", listeners);
    }
    json_decref(listeners);
    json_t *obj = spec ? json_pack("{s:s, s:s, s:{s:s, s:s}, s:o}", "apiVersion", ENVOY_GATEWAY_API,
                                   "kind", "Gateway", "metadata", "name", a->owner.gateway,
                                   "namespace", a->owner.ns, "spec", spec)
                       : NULL;
    if (obj && a->gateway_resource_version) {
        /* Optimistic concurrency: the apply fails (409) if the Gateway changed
         * since it was read, so a listener removed meanwhile is never
         * re-created from the copied name/port/protocol. */
        json_object_set_new(json_object_get(obj, "metadata"), "resourceVersion",
                            json_string(a->gateway_resource_version));
    }
    if (!obj || json_array_size(json_object_get(json_object_get(obj, "spec"), "listeners")) !=
                    a->n_https_listeners) {
        json_decref(obj);
        snprintf(err, errlen, "out of memory while rendering the Gateway apply configuration");
        return -1;
    }
    *out = obj;
    return 0;
}
