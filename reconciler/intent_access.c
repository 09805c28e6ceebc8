/*
 * intent (AIAccessPolicy half): the client CA from the trust bundle, the
 * gateway's server certificate (reuse, renew at 2/3 of its life, or issue),
 * its SANs from the Envoy Service, the HTTPS listeners and status.endpoint.
 * Pure: the decisions read certificates (OpenSSL parsing) but never make keys;
 * intent_access_issue_certs() does that.
 */
#include "common/cert_gen.h"
#include "reconciler/intent.h"
#include "reconciler/intent_util.h"
#include "reconciler/objname.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *intent_name_client_ca(const char *a)
{
    return objname_join(a, "mtls-ca");
}

char *intent_name_issuer(const char *a)
{
    return objname_join(a, "gateway-issuer");
}

char *intent_name_server(const char *a)
{
    return objname_join(a, "mtls-server");
}

char *intent_name_agent_ca(const char *a)
{
    return objname_join(a, "gateway-ca");
}

int intent_cert_needs_renewal(time_t not_before, time_t not_after, time_t now)
{
    if (not_after <= not_before || now < not_before || now >= not_after) {
        return 1;
    }
    /* Renew once two thirds of the lifetime have passed. */
    long long life = (long long)(not_after - not_before);
    long long age = (long long)(now - not_before);
    return age * 3 >= life * 2;
}

/* ------------------------------------------------------------------ SANs */

static int add_unique(char ***arr, size_t *n, const char *s)
{
    if (!s || !s[0]) {
        return 0;
    }
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*arr)[i], s) == 0) {
            return 0;
        }
    }
    char **a = realloc(*arr, (*n + 1) * sizeof *a);
    if (!a) {
        return -1;
    }
    *arr = a;
    if (!(a[*n] = strdup(s))) {
        return -1;
    }
    (*n)++;
    return 0;
}

static int build_sans(const intent_access_input *in, intent_access *a)
{
    const json_t *svc = in->envoy_service;
    const char *name = json_string_value(json_object_get(json_object_get(svc, "metadata"), "name"));
    const char *ns =
        json_string_value(json_object_get(json_object_get(svc, "metadata"), "namespace"));
    if (name && ns) {
        /* <svc>, <svc>.<ns>, <svc>.<ns>.svc, <svc>.<ns>.svc.cluster.local */
        static const char *const suffixes[] = {"", ".svc", ".svc.cluster.local"};
        char buf[600];
        if (add_unique(&a->san_dns, &a->n_san_dns, name)) {
            return -1;
        }
        for (size_t i = 0; i < 3; i++) {
            snprintf(buf, sizeof buf, "%s.%s%s", name, ns, suffixes[i]);
            if (add_unique(&a->san_dns, &a->n_san_dns, buf)) {
                return -1;
            }
        }
        const json_t *spec = json_object_get(svc, "spec");
        size_t i;
        const json_t *v;
        json_array_foreach(json_object_get(spec, "clusterIPs"), i, v)
        {
            const char *ip = json_string_value(v);
            if (ip && strcmp(ip, "None") != 0 && add_unique(&a->san_ips, &a->n_san_ips, ip)) {
                return -1;
            }
        }
        const char *cip = json_string_value(json_object_get(spec, "clusterIP"));
        if (cip && strcmp(cip, "None") != 0 && add_unique(&a->san_ips, &a->n_san_ips, cip)) {
            return -1;
        }
        json_array_foreach(
            json_object_get(json_object_get(json_object_get(svc, "status"), "loadBalancer"),
                            "ingress"),
            i, v)
        {
            if (add_unique(&a->san_ips, &a->n_san_ips,
                           json_string_value(json_object_get(v, "ip"))) ||
                add_unique(&a->san_dns, &a->n_san_dns,
                           json_string_value(json_object_get(v, "hostname")))) {
                return -1;
            }
        }
    }
    for (size_t i = 0; i < a->n_https_listeners; i++) {
        if (add_unique(&a->san_dns, &a->n_san_dns, a->listeners[i].hostname)) {
            return -1;
        }
    }
    if (a->n_san_dns == 0 && a->n_san_ips == 0) {
        /* No Service yet: a name in the Gateway's namespace until it appears
         * (the SAN check then reissues the leaf). */
        char buf[600];
        snprintf(buf, sizeof buf, "%s.%s.svc", a->owner.gateway, a->owner.ns);
        if (add_unique(&a->san_dns, &a->n_san_dns, buf) ||
            intent_notes_add(&a->notes, "Envoy Service of the Gateway not found: the server "
                                        "certificate is reissued when it appears")) {
            return -1;
        }
    }
    return 0;
}

/* status.endpoint: https://<svc>.<ns>.svc:<port of the first HTTPS listener>. */
static int build_endpoint(const intent_access_input *in, intent_access *a)
{
    const json_t *svc = in->envoy_service;
    const char *name = json_string_value(json_object_get(json_object_get(svc, "metadata"), "name"));
    const char *ns =
        json_string_value(json_object_get(json_object_get(svc, "metadata"), "namespace"));
    if (!name || !ns || a->n_https_listeners == 0) {
        return 0;
    }
    long long want = a->listeners[0].port, port = 0;
    size_t i;
    const json_t *p;
    json_array_foreach(json_object_get(json_object_get(svc, "spec"), "ports"), i, p)
    {
        if (json_integer_value(json_object_get(p, "port")) == want) {
            port = want;
        }
    }
    if (port == 0) {
        port = want; /* Envoy Gateway exposes listener ports unchanged */
    }
    char buf[700];
    snprintf(buf, sizeof buf, "https://%s.%s.svc:%lld", name, ns, port);
    return (a->endpoint = strdup(buf)) ? 0 : -1;
}

/* ----------------------------------------------------------- certificates */

static X509 *load_cert(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return x;
}

/* 1 when the leaf's SANs are exactly the wanted DNS names and IPs (any order). */
static int sans_match(X509 *leaf, const intent_access *a)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
    if (!gens) {
        return 0;
    }
    size_t dns = 0, ips = 0;
    int ok = 1;
    for (int i = 0; ok && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type == GEN_DNS) {
            const char *s = (const char *)ASN1_STRING_get0_data(g->d.dNSName);
            int found = 0;
            for (size_t j = 0; j < a->n_san_dns; j++) {
                found |= strlen(a->san_dns[j]) == (size_t)ASN1_STRING_length(g->d.dNSName) &&
                         memcmp(a->san_dns[j], s, strlen(a->san_dns[j])) == 0;
            }
            ok = found;
            dns++;
        } else if (g->type == GEN_IPADD) {
            const unsigned char *b = ASN1_STRING_get0_data(g->d.iPAddress);
            int len = ASN1_STRING_length(g->d.iPAddress);
            ASN1_OCTET_STRING *want = NULL;
            int found = 0;
            for (size_t j = 0; j < a->n_san_ips; j++) {
                want = a2i_IPADDRESS(a->san_ips[j]);
                found |= want && ASN1_STRING_length(want) == len &&
                         memcmp(ASN1_STRING_get0_data(want), b, (size_t)len) == 0;
                ASN1_OCTET_STRING_free(want);
            }
            ok = found;
            ips++;
        }
    }
    GENERAL_NAMES_free(gens);
    return ok && dns == a->n_san_dns && ips == a->n_san_ips;
}

/* Loads a kubernetes.io/tls pair from a Secret; 0 when both keys are present. */
static int load_pair(const json_t *secret, intent_pem_pair *p)
{
    p->cert_pem = intent_secret_value_text(secret, "tls.crt");
    p->key_pem = intent_secret_value_text(secret, "tls.key");
    if (p->cert_pem && p->key_pem) {
        return 0;
    }
    free(p->cert_pem);
    intent_wipe_free(p->key_pem);
    p->cert_pem = p->key_pem = NULL;
    return -1;
}

static void drop_pair(intent_pem_pair *p)
{
    free(p->cert_pem);
    intent_wipe_free(p->key_pem);
    p->cert_pem = p->key_pem = NULL;
}

static int decide_issuer(const intent_access_input *in, intent_access *a)
{
    a->issuer_action = INTENT_CERT_ISSUE;
    if (!in->existing_issuer || load_pair(in->existing_issuer, &a->issuer)) {
        return 0;
    }
    cert_info info;
    char err[256];
    if (cert_pem_info(a->issuer.cert_pem, 0, &info, err, sizeof err) == 0 && info.is_ca &&
        in->now < info.not_after &&
        cert_pem_key_matches(a->issuer.cert_pem, a->issuer.key_pem, err, sizeof err) == 1) {
        a->issuer_action = INTENT_CERT_REUSE;
        return 0;
    }
    drop_pair(&a->issuer);
    return intent_notes_add(&a->notes, "the existing issuer Secret is not a valid CA pair: a new "
                                       "issuer is generated (agents must fetch the new CA)");
}

static int decide_server(const intent_access_input *in, intent_access *a)
{
    const char *reason = NULL;
    a->server_action = INTENT_CERT_ISSUE;
    if (a->issuer_action == INTENT_CERT_ISSUE) {
        reason = "new issuer";
    } else if (!in->existing_server || load_pair(in->existing_server, &a->server)) {
        reason = "missing";
    } else {
        cert_info info;
        char err[256];
        X509 *leaf = load_cert(a->server.cert_pem);
        X509 *ca = load_cert(a->issuer.cert_pem);
        EVP_PKEY *ca_key = ca ? X509_get0_pubkey(ca) : NULL;
        if (!leaf || cert_pem_info(a->server.cert_pem, 0, &info, err, sizeof err) != 0 ||
            cert_pem_key_matches(a->server.cert_pem, a->server.key_pem, err, sizeof err) != 1) {
            reason = "invalid";
        } else if (!ca_key || X509_verify(leaf, ca_key) != 1) {
            reason = "not signed by the issuer";
        } else if (intent_cert_needs_renewal(info.not_before, info.not_after, in->now)) {
            reason = "renewal due";
        } else if (!sans_match(leaf, a)) {
            reason = "SANs changed";
        }
        X509_free(leaf);
        X509_free(ca);
        if (!reason) {
            a->server_action = INTENT_CERT_REUSE;
            return 0;
        }
        drop_pair(&a->server);
    }
    return (a->server_reason = strdup(reason)) ? 0 : -1;
}

/* ---------------------------------------------------------------- listeners */

static int build_listeners(const intent_access_input *in, intent_access *a)
{
    const json_t *gw = in->gateway;
    a->gateway_found = gw != NULL;
    if (!gw) {
        return 0;
    }
    if (intent_dup_opt(&a->gateway_resource_version,
                       json_string_value(
                           json_object_get(json_object_get(gw, "metadata"), "resourceVersion"))) ||
        intent_dup_opt(&a->gateway_class, json_string_value(json_object_get(
                                              json_object_get(gw, "spec"), "gatewayClassName"))) ||
        intent_gateway_https_listeners(gw, &a->listeners, &a->n_https_listeners)) {
        return -1;
    }
    if (a->n_https_listeners > 0 &&
        !(a->https_listeners = calloc(a->n_https_listeners, sizeof *a->https_listeners))) {
        return -1;
    }
    for (size_t i = 0; i < a->n_https_listeners; i++) {
        if (!(a->https_listeners[i] = strdup(a->listeners[i].name))) {
            return -1;
        }
    }
    size_t i;
    const json_t *l;
    json_array_foreach(json_object_get(json_object_get(gw, "spec"), "listeners"), i, l)
    {
        const char *proto = json_string_value(json_object_get(l, "protocol"));
        if (!proto || strcmp(proto, "HTTPS") != 0) {
            if (add_unique(&a->plain_listeners, &a->n_plain_listeners,
                           json_string_value(json_object_get(l, "name")))) {
                return -1;
            }
        }
    }
    if (a->n_https_listeners == 0 &&
        intent_notes_add(&a->notes, "the Gateway has no HTTPS listener (ListenerNotHTTPS): add "
                                    "one with protocol HTTPS and tls.mode Terminate")) {
        return -1;
    }
    if (a->n_plain_listeners > 0 && a->n_https_listeners > 0 &&
        intent_notes_add(&a->notes, "the Gateway also has non-HTTPS listeners: AI routes do "
                                    "not attach to them")) {
        return -1;
    }
    return 0;
}

static int build_bundle(const intent_access_input *in, intent_access *a)
{
    const intent_bundle_input *b = &in->bundle;
    a->bundle_state = b->state;
    a->bundle_certificates = b->certificates;
    a->bundle_expired = b->expired;
    a->bundle_next_expiry = b->next_expiry;
    if (intent_dup_opt(&a->bundle_error, b->error)) {
        return -1;
    }
    if (b->state == INTENT_BUNDLE_READY && b->ca_pem) {
        return (a->client_ca_pem = strdup(b->ca_pem)) ? 0 : -1;
    }
    /* Keep the last good CA Secret rather than dropping client validation. */
    if (in->existing_client_ca) {
        a->client_ca_pem = intent_secret_value_text(in->existing_client_ca, "ca.crt");
        if (a->client_ca_pem) {
            return intent_notes_add(&a->notes, "trust bundle unusable: keeping the previous "
                                               "client CA Secret");
        }
    }
    /* Never usable yet: the renderer fails closed (see envoy_render_access). */
    return intent_notes_add(&a->notes, "no usable trust bundle yet: the client CA Secret holds "
                                       "only the gateway's own CA, so every client is refused");
}

int intent_helper_port_parse(const char *text, int *out, char *err, size_t errlen)
{
    char *end = NULL;
    long n = text != NULL ? strtol(text, &end, 10) : 0;
    if (text == NULL || end == text || *end != '\0' || n < 1 || n > 65535) {
        snprintf(err, errlen, "want a port number 1..65535, got \"%s\"", text ? text : "");
        return -1;
    }
    if (n == 8081) {
        snprintf(err, errlen, "8081 is kagenti AuthBridge's port; the injector refuses it too");
        return -1;
    }
    *out = (int)n;
    return 0;
}

int intent_access_build(const intent_access_input *in, intent_access *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const policy_access *pol = in->policy;
    if (intent_owner_init(&out->owner, POLICY_KIND_ACCESS_NAME, &pol->meta, &pol->target_ref,
                          in->uid, err, errlen)) {
        return -1;
    }
    if (!pol->trust_domain) {
        snprintf(err, errlen, "policy lacks spec.mtls.trustDomain (not validated)");
        return -1;
    }
    out->helper_health_port =
        in->helper_health_port > 0 ? in->helper_health_port : INTENT_HELPER_HEALTH_PORT;
    if (!(out->trust_domain = strdup(pol->trust_domain)) || build_listeners(in, out) ||
        build_bundle(in, out) || build_endpoint(in, out)) {
        goto oom;
    }
    if (pol->has_server_cert_ref && pol->server_cert_name) {
        if (!(out->server_cert_ref = strdup(pol->server_cert_name))) {
            goto oom;
        }
        if (in->server_cert_secret) {
            out->agent_ca_pem = intent_secret_value_text(in->server_cert_secret, "ca.crt");
        }
        if (!out->agent_ca_pem &&
            intent_notes_add(&out->notes, "serverCertRef Secret has no ca.crt: agents get no "
                                          "gateway CA")) {
            goto oom;
        }
        return 0;
    }
    if (build_sans(in, out) || decide_issuer(in, out) || decide_server(in, out)) {
        goto oom;
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

int intent_access_issue_certs(intent_access *a, char *err, size_t errlen)
{
    if (a->server_cert_ref) {
        return 0;
    }
    if (a->issuer_action == INTENT_CERT_ISSUE && !a->issuer.cert_pem) {
        char cn[128];
        snprintf(cn, sizeof cn, "aigw gateway issuer %.80s", a->owner.name);
        cert_pair ca = {0};
        if (cert_gen_ca(cn, INTENT_ISSUER_DAYS, &ca, err, errlen)) {
            return -1;
        }
        a->issuer.cert_pem = ca.cert_pem;
        a->issuer.key_pem = ca.key_pem;
    }
    if (a->server_action == INTENT_CERT_ISSUE && !a->server.cert_pem) {
        cert_pair ca = {a->issuer.cert_pem, a->issuer.key_pem};
        cert_leaf_spec spec = {NULL,         (const char *const *)a->san_dns,
                               a->n_san_dns, (const char *const *)a->san_ips,
                               a->n_san_ips, INTENT_SERVER_DAYS};
        cert_pair leaf = {0};
        if (cert_gen_leaf(&ca, &spec, &leaf, err, errlen)) {
            return -1;
        }
        a->server.cert_pem = leaf.cert_pem;
        a->server.key_pem = leaf.key_pem;
    }
    return 0;
}

static void free_strs(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i]);
    }
    free(v);
}

void intent_access_free(intent_access *a)
{
    if (!a) {
        return;
    }
    intent_owner_free(&a->owner);
    free(a->trust_domain);
    free_strs(a->https_listeners, a->n_https_listeners);
    free_strs(a->plain_listeners, a->n_plain_listeners);
    free(a->gateway_class);
    free(a->gateway_resource_version);
    intent_listeners_free(a->listeners, a->n_https_listeners);
    free(a->client_ca_pem);
    free(a->bundle_error);
    free(a->server_cert_ref);
    free(a->agent_ca_pem);
    drop_pair(&a->issuer);
    drop_pair(&a->server);
    free(a->server_reason);
    free_strs(a->san_dns, a->n_san_dns);
    free_strs(a->san_ips, a->n_san_ips);
    free(a->endpoint);
    intent_notes_free(&a->notes);
    memset(a, 0, sizeof *a);
}
