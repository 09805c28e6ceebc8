/*
 * certgen_cmd: `aigw certgen create|patch`, the API-server edge of certgen.
 * Both are idempotent and safe to run from several Jobs at once: every write
 * carries the resourceVersion it was decided on, and a 409 starts the
 * read-decide-write cycle again (bounded).
 */
#include "certs/certgen.h"

#include "common/base64.h"
#include "common/kube_client.h"
#include "common/log.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ATTEMPTS 10
#define MAX_CONFIGS 16

typedef struct {
    const char *kubeconfig;
    const char *ns;
    const char *secret;
    const char *service;
    const char *validating[MAX_CONFIGS];
    size_t n_validating;
    const char *mutating[MAX_CONFIGS];
    size_t n_mutating;
} certgen_opts;

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: aigw certgen create [--namespace NS] [--secret-name NAME] "
        "[--service-name SVC] [--kubeconfig FILE]\n"
        "       aigw certgen patch [--namespace NS] [--secret-name NAME] "
        "[--validating-webhook NAME]... [--mutating-webhook NAME]...\n"
        "                          [--kubeconfig FILE]\n\n"
        "create  makes the webhook's CA and serving certificate (SANs svc, svc.ns, svc.ns.svc,\n"
        "        svc.ns.svc.cluster.local) in Secret NAME unless a valid one exists; renews\n"
        "        the serving certificate within %d days of expiry, keeping the CA\n"
        "patch   writes the Secret's ca.crt into caBundle of every webhook of the named\n"
        "        ValidatingWebhookConfigurations and MutatingWebhookConfigurations\n\n"
        "defaults: --namespace $POD_NAMESPACE or the kubeconfig's, --secret-name "
        "aigw-webhook-tls, --service-name aigw-webhook\n",
        CERTGEN_RENEW_BEFORE_DAYS);
}

static int parse_opts(int argc, char **argv, certgen_opts *o)
{
    static const struct option longopts[] = {{"kubeconfig", required_argument, NULL, 'k'},
                                             {"namespace", required_argument, NULL, 'n'},
                                             {"secret-name", required_argument, NULL, 's'},
                                             {"service-name", required_argument, NULL, 'v'},
                                             {"validating-webhook", required_argument, NULL, 'V'},
                                             {"mutating-webhook", required_argument, NULL, 'M'},
                                             {"log-level", required_argument, NULL, 'l'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    o->secret = "aigw-webhook-tls";
    o->service = "aigw-webhook";
    o->ns = getenv("POD_NAMESPACE");
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'k':
            o->kubeconfig = optarg;
            break;
        case 'n':
            o->ns = optarg;
            break;
        case 's':
            o->secret = optarg;
            break;
        case 'v':
            o->service = optarg;
            break;
        case 'V':
        case 'M': {
            const char **list = c == 'V' ? o->validating : o->mutating;
            size_t *n = c == 'V' ? &o->n_validating : &o->n_mutating;
            if (*n == MAX_CONFIGS) {
                fprintf(stderr, "aigw certgen: at most %d configurations of a kind\n", MAX_CONFIGS);
                return 2;
            }
            list[(*n)++] = optarg;
            break;
        }
        case 'l': {
            log_level lvl;
            if (log_level_parse(optarg, &lvl) != 0) {
                fprintf(stderr, "aigw certgen: --log-level must be debug, info, warn or error\n");
                return 2;
            }
            log_set_level(lvl);
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "aigw certgen: unexpected argument %s\n", argv[optind]);
        return 2;
    }
    return -1;
}

static void log_kube_error(const char *msg, const char *name, const kube_error *ke)
{
    char buf[700];
    log_error(msg, "name", name, "error", kube_error_format(ke, buf, sizeof buf), (char *)NULL);
}

static json_t *new_secret(const certgen_opts *o, json_t *data)
{
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}, s:s, s:o}", "apiVersion", "v1", "kind",
                     "Secret", "metadata", "name", o->secret, "namespace", o->ns, "labels",
                     "app.kubernetes.io/managed-by", "aigw", "app.kubernetes.io/component",
                     "certgen", "type", "kubernetes.io/tls", "data", data);
}

/* One read-decide-write cycle. Returns 0 done, 1 retry (conflict), -1 failure. */
static int create_once(kube_client *kc, const certgen_opts *o, const certgen_names *names)
{
    json_t *secret = NULL;
    kube_error ke;
    if (kube_get(kc, "v1", "Secret", o->ns, o->secret, &secret, &ke) != 0) {
        if (ke.http_code != 404) {
            log_kube_error("reading the certificate Secret failed", o->secret, &ke);
            return -1;
        }
        secret = NULL;
    }
    char reason[160], err[256];
    certgen_action action = certgen_decide(secret, names, time(NULL), reason, sizeof reason);
    if (action == CERTGEN_KEEP) {
        log_info("certificate Secret is valid; nothing to do", "secret", o->secret, (char *)NULL);
        json_decref(secret);
        return 0;
    }
    json_t *data = certgen_build_data(action, secret, names, err, sizeof err);
    if (data == NULL) {
        log_error("generating certificates failed", "error", err, (char *)NULL);
        json_decref(secret);
        return -1;
    }
    int rc;
    const char *what = action == CERTGEN_CREATE_ALL ? "new CA and serving certificate"
                                                    : "new serving certificate, same CA";
    if (secret == NULL) {
        json_t *obj = new_secret(o, data);
        rc = obj ? kube_create(kc, obj, NULL, &ke) : -1;
        json_decref(obj);
    } else {
        rc = json_object_set_new(secret, "data", data);
        rc = rc == 0 ? kube_update(kc, secret, NULL, &ke) : -1;
    }
    json_decref(secret);
    if (rc == 0) {
        log_info("certificate Secret written", "secret", o->secret, "action", what, "reason",
                 reason, (char *)NULL);
        return 0;
    }
    if (ke.http_code == 409) {
        log_info("certificate Secret changed meanwhile; retrying", "secret", o->secret,
                 (char *)NULL);
        return 1;
    }
    log_kube_error("writing the certificate Secret failed", o->secret, &ke);
    return -1;
}

static int run_create(kube_client *kc, const certgen_opts *o)
{
    certgen_names names;
    if (certgen_service_names(o->service, o->ns, &names) != 0) {
        fprintf(stderr, "aigw certgen: invalid --service-name or --namespace\n");
        return 2;
    }
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        int rc = create_once(kc, o, &names);
        if (rc <= 0) {
            return rc == 0 ? 0 : 1;
        }
    }
    log_error("gave up after repeated conflicts", "secret", o->secret, (char *)NULL);
    return 1;
}

/* Patches one webhook configuration. Returns 0 or 1 (failure). */
static int patch_config(kube_client *kc, const char *kind, const char *name, const char *ca_pem)
{
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        json_t *cfg = NULL;
        kube_error ke;
        if (kube_get(kc, "admissionregistration.k8s.io/v1", kind, NULL, name, &cfg, &ke) != 0) {
            log_kube_error("reading the webhook configuration failed", name, &ke);
            return 1;
        }
        int changed = certgen_set_ca_bundle(cfg, ca_pem);
        if (changed <= 0) {
            json_decref(cfg);
            if (changed < 0) {
                log_error("webhook configuration has no webhooks", "name", name, (char *)NULL);
                return 1;
            }
            log_info("caBundle already current", "kind", kind, "name", name, (char *)NULL);
            return 0;
        }
        /* A merge patch carrying the resourceVersion it was computed from:
         * optimistic concurrency with only the `patch` verb. */
        json_t *patch =
            json_pack("{s:{s:O}, s:O}", "metadata", "resourceVersion",
                      json_object_get(json_object_get(cfg, "metadata"), "resourceVersion"),
                      "webhooks", json_object_get(cfg, "webhooks"));
        int rc = patch ? kube_merge_patch(kc, "admissionregistration.k8s.io/v1", kind, NULL, name,
                                          NULL, patch, NULL, &ke)
                       : -1;
        json_decref(patch);
        json_decref(cfg);
        if (patch == NULL) {
            log_error("out of memory building the patch", "name", name, (char *)NULL);
            return 1;
        }
        if (rc == 0) {
            log_info("caBundle written", "kind", kind, "name", name, (char *)NULL);
            return 0;
        }
        if (ke.http_code != 409) {
            log_kube_error("writing the webhook configuration failed", name, &ke);
            return 1;
        }
    }
    log_error("gave up after repeated conflicts", "name", name, (char *)NULL);
    return 1;
}

static int run_patch(kube_client *kc, const certgen_opts *o)
{
    if (o->n_validating + o->n_mutating == 0) {
        fprintf(
            stderr,
            "aigw certgen patch: name at least one --validating-webhook or --mutating-webhook\n");
        return 2;
    }
    json_t *secret = NULL;
    kube_error ke;
    if (kube_get(kc, "v1", "Secret", o->ns, o->secret, &secret, &ke) != 0) {
        log_kube_error("reading the certificate Secret failed", o->secret, &ke);
        return 1;
    }
    const char *b64 = json_string_value(json_object_get(json_object_get(secret, "data"), "ca.crt"));
    char *ca = b64 ? (char *)base64_decode(b64, strlen(b64), NULL) : NULL;
    json_decref(secret);
    if (ca == NULL) {
        log_error("certificate Secret has no valid ca.crt", "secret", o->secret, (char *)NULL);
        return 1;
    }
    int failed = 0;
    for (size_t i = 0; i < o->n_validating; i++) {
        failed |= patch_config(kc, "ValidatingWebhookConfiguration", o->validating[i], ca);
    }
    for (size_t i = 0; i < o->n_mutating; i++) {
        failed |= patch_config(kc, "MutatingWebhookConfiguration", o->mutating[i], ca);
    }
    free(ca);
    return failed ? 1 : 0;
}

int certs_cmd_certgen(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "create") != 0 && strcmp(argv[1], "patch") != 0)) {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            usage(stdout);
            return 0;
        }
        usage(stderr);
        return 2;
    }
    certgen_opts o;
    int rc = parse_opts(argc - 1, argv + 1, &o);
    if (rc >= 0) {
        return rc;
    }
    char err[512];
    if (kube_client_global_init() != 0) {
        fprintf(stderr, "aigw certgen: libcurl initialisation failed\n");
        return 2;
    }
    kube_client *kc = kube_client_new(o.kubeconfig, NULL, NULL, err, sizeof err);
    if (kc == NULL) {
        fprintf(stderr, "aigw certgen: %s\n", err);
        kube_client_global_cleanup();
        return 2;
    }
    if (o.ns == NULL) {
        o.ns = kube_client_namespace(kc);
    }
    rc = strcmp(argv[1], "create") == 0 ? run_create(kc, &o) : run_patch(kc, &o);
    kube_client_free(kc);
    kube_client_global_cleanup();
    return rc;
}
