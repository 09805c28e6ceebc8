/*
 * certgen: pure decisions for the webhook serving certificate — is the
 * existing Secret good enough, what goes into a new one, and the caBundle
 * edit of the webhook configurations. No I/O; see certgen_cmd.c.
 */
#include "certs/certgen.h"

#include "common/base64.h"
#include "common/cert_gen.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RENEW_WINDOW ((time_t)CERTGEN_RENEW_BEFORE_DAYS * 24 * 3600)

int certgen_service_names(const char *svc, const char *ns, certgen_names *out)
{
    if (svc == NULL || ns == NULL || svc[0] == '\0' || ns[0] == '\0' || strlen(svc) > 63 ||
        strlen(ns) > 63) {
        return -1;
    }
    snprintf(out->names[0], sizeof out->names[0], "%s", svc);
    snprintf(out->names[1], sizeof out->names[1], "%s.%s", svc, ns);
    snprintf(out->names[2], sizeof out->names[2], "%s.%s.svc", svc, ns);
    snprintf(out->names[3], sizeof out->names[3], "%s.%s.svc.cluster.local", svc, ns);
    return 0;
}

/* The decoded value of data[key] of a Secret, NUL-terminated; NULL when absent/invalid. */
static char *secret_value(const json_t *secret, const char *key)
{
    const char *v = json_string_value(json_object_get(json_object_get(secret, "data"), key));
    if (v == NULL) {
        return NULL;
    }
    return (char *)base64_decode(v, strlen(v), NULL);
}

static X509 *parse_cert(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    if (b == NULL) {
        return NULL;
    }
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    return x;
}

/* 1 when every name is a DNS SAN of the leaf. */
static int leaf_has_names(X509 *leaf, const certgen_names *names)
{
    for (size_t i = 0; i < 4; i++) {
        if (X509_check_host(leaf, names->names[i], 0, X509_CHECK_FLAG_NO_WILDCARDS, NULL) != 1) {
            return 0;
        }
    }
    return 1;
}

/* 1 when `leaf` is signed by `ca`. */
static int signed_by(X509 *leaf, X509 *ca)
{
    EVP_PKEY *pub = X509_get0_pubkey(ca);
    return pub != NULL && X509_verify(leaf, pub) == 1;
}

static time_t not_after(const char *pem)
{
    cert_info info;
    char err[128];
    return cert_pem_info(pem, 0, &info, err, sizeof err) == 0 ? info.not_after : 0;
}

/* Checks the CA half; returns a reason string when it must be replaced, else NULL. */
static const char *ca_problem(const char *ca_crt, const char *ca_key, time_t now)
{
    char err[160];
    if (ca_crt == NULL || ca_key == NULL) {
        return "ca.crt or ca.key missing";
    }
    if (cert_pem_key_matches(ca_crt, ca_key, err, sizeof err) != 1) {
        return "ca.key does not belong to ca.crt";
    }
    if (not_after(ca_crt) - now <= RENEW_WINDOW) {
        return "CA expires within the renewal window";
    }
    return NULL;
}

static const char *leaf_problem(const char *ca_crt, const char *tls_crt, const char *tls_key,
                                const certgen_names *names, time_t now)
{
    char err[160];
    if (tls_crt == NULL || tls_key == NULL) {
        return "tls.crt or tls.key missing";
    }
    if (cert_pem_key_matches(tls_crt, tls_key, err, sizeof err) != 1) {
        return "tls.key does not belong to tls.crt";
    }
    if (not_after(tls_crt) - now <= RENEW_WINDOW) {
        return "serving certificate expires within the renewal window";
    }
    X509 *leaf = parse_cert(tls_crt);
    X509 *ca = parse_cert(ca_crt);
    const char *problem = NULL;
    if (leaf == NULL || ca == NULL) {
        problem = "certificate does not parse";
    } else if (!signed_by(leaf, ca)) {
        problem = "serving certificate is not signed by ca.crt";
    } else if (!leaf_has_names(leaf, names)) {
        problem = "serving certificate lacks a Service DNS name";
    }
    X509_free(leaf);
    X509_free(ca);
    return problem;
}

certgen_action certgen_decide(const json_t *secret, const certgen_names *names, time_t now,
                              char *reason, size_t reason_len)
{
    if (secret == NULL) {
        snprintf(reason, reason_len, "Secret does not exist");
        return CERTGEN_CREATE_ALL;
    }
    char *ca_crt = secret_value(secret, "ca.crt");
    char *ca_key = secret_value(secret, "ca.key");
    char *tls_crt = secret_value(secret, "tls.crt");
    char *tls_key = secret_value(secret, "tls.key");
    certgen_action action = CERTGEN_KEEP;
    const char *why = ca_problem(ca_crt, ca_key, now);
    if (why != NULL) {
        action = CERTGEN_CREATE_ALL;
    } else if ((why = leaf_problem(ca_crt, tls_crt, tls_key, names, now)) != NULL) {
        action = CERTGEN_REISSUE_LEAF;
    } else {
        why = "valid";
    }
    snprintf(reason, reason_len, "%s", why);
    free(ca_crt);
    if (ca_key != NULL) {
        OPENSSL_cleanse(ca_key, strlen(ca_key));
    }
    free(ca_key);
    free(tls_crt);
    if (tls_key != NULL) {
        OPENSSL_cleanse(tls_key, strlen(tls_key));
    }
    free(tls_key);
    return action;
}

static int set_b64(json_t *data, const char *key, const char *value)
{
    char *b = base64_encode(value, strlen(value));
    if (b == NULL) {
        return -1;
    }
    int rc = json_object_set_new(data, key, json_string(b));
    free(b);
    return rc;
}

json_t *certgen_build_data(certgen_action action, const json_t *secret, const certgen_names *names,
                           char *err, size_t errlen)
{
    cert_pair ca = {0}, leaf = {0};
    json_t *data = NULL;
    if (action == CERTGEN_REISSUE_LEAF) {
        ca.cert_pem = secret_value(secret, "ca.crt");
        ca.key_pem = secret_value(secret, "ca.key");
        if (ca.cert_pem == NULL || ca.key_pem == NULL) {
            snprintf(err, errlen, "existing Secret has no usable CA");
            goto done;
        }
    } else if (cert_gen_ca("aigw-webhook-ca", CERTGEN_CA_DAYS, &ca, err, errlen) != 0) {
        goto done;
    }
    const char *dns[4] = {names->names[0], names->names[1], names->names[2], names->names[3]};
    cert_leaf_spec spec = {.common_name = names->names[2],
                           .dns_names = dns,
                           .n_dns = 4,
                           .validity_days = CERTGEN_LEAF_DAYS};
    if (cert_gen_leaf(&ca, &spec, &leaf, err, errlen) != 0) {
        goto done;
    }
    data = json_object();
    if (data == NULL || set_b64(data, "ca.crt", ca.cert_pem) != 0 ||
        set_b64(data, "ca.key", ca.key_pem) != 0 || set_b64(data, "tls.crt", leaf.cert_pem) != 0 ||
        set_b64(data, "tls.key", leaf.key_pem) != 0) {
        json_decref(data);
        data = NULL;
        snprintf(err, errlen, "out of memory building the Secret");
    }
done:
    if (ca.key_pem != NULL) {
        OPENSSL_cleanse(ca.key_pem, strlen(ca.key_pem));
    }
    if (leaf.key_pem != NULL) {
        OPENSSL_cleanse(leaf.key_pem, strlen(leaf.key_pem));
    }
    cert_pair_free(&ca);
    cert_pair_free(&leaf);
    return data;
}

int certgen_set_ca_bundle(json_t *webhook_config, const char *ca_pem)
{
    json_t *hooks = json_object_get(webhook_config, "webhooks");
    if (!json_is_array(hooks)) {
        return -1;
    }
    char *b = base64_encode(ca_pem, strlen(ca_pem));
    if (b == NULL) {
        return -1;
    }
    int changed = 0;
    size_t i;
    json_t *hook;
    json_array_foreach(hooks, i, hook)
    {
        json_t *cc = json_object_get(hook, "clientConfig");
        if (!json_is_object(cc)) {
            cc = json_object();
            if (cc == NULL || json_object_set_new(hook, "clientConfig", cc) != 0) {
                free(b);
                return -1;
            }
        }
        const char *cur = json_string_value(json_object_get(cc, "caBundle"));
        if (cur == NULL || strcmp(cur, b) != 0) {
            if (json_object_set_new(cc, "caBundle", json_string(b)) != 0) {
                free(b);
                return -1;
            }
            changed = 1;
        }
    }
    free(b);
    return changed;
}
