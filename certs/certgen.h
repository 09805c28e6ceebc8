/*
 * certgen: the webhook's own serving certificate (DESIGN §6), as Helm hook
 * Jobs run it:
 *
 *   aigw certgen create   makes or renews the Secret holding ca.crt, ca.key,
 *                         tls.crt, tls.key
 *   aigw certgen patch    writes ca.crt into caBundle of every webhook of the
 *                         named Validating/MutatingWebhookConfigurations
 *
 * The decisions are pure and live here; certgen_cmd.c does the API calls.
 *
 * Renewal model: the CA (10 years) is kept as long as it is valid for more
 * than the renewal window; only the leaf is reissued (so caBundle, and every
 * API server that trusts it, never changes on a routine renewal). The CA key
 * is stored in the same Secret as `ca.key`: that Secret already holds the
 * serving key, so it is no more sensitive than before, and it lets a later
 * run reissue the leaf under the same CA.
 *
 * Ownership: returned json_t values are new references; inputs are borrowed.
 */
#ifndef AIGW_CERTS_CERTGEN_H
#define AIGW_CERTS_CERTGEN_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#define CERTGEN_CA_DAYS 3650
#define CERTGEN_LEAF_DAYS 365
#define CERTGEN_RENEW_BEFORE_DAYS 30

typedef enum {
    CERTGEN_KEEP,         /* valid for longer than the renewal window: leave it */
    CERTGEN_REISSUE_LEAF, /* CA fine, leaf missing/expiring/wrong names: new leaf */
    CERTGEN_CREATE_ALL,   /* absent, unreadable, or CA expiring: new CA and leaf */
} certgen_action;

/* The DNS names of the webhook Service: svc, svc.ns, svc.ns.svc, svc.ns.svc.cluster.local. */
typedef struct {
    char names[4][256];
} certgen_names;

/* Fills the four SANs. Returns -1 when svc or ns is empty or too long. */
int certgen_service_names(const char *svc, const char *ns, certgen_names *out);

/*
 * Decides what to do with the existing Secret (`secret` may be NULL when it
 * does not exist). `reason` receives a one-line explanation for the log.
 */
certgen_action certgen_decide(const json_t *secret, const certgen_names *names, time_t now,
                              char *reason, size_t reason_len);

/*
 * Produces the Secret's `data` (base64 values) for `action`: CREATE_ALL makes
 * a new CA and leaf; REISSUE_LEAF signs a new leaf with the CA found in
 * `secret`. Returns NULL with err set on failure.
 */
json_t *certgen_build_data(certgen_action action, const json_t *secret, const certgen_names *names,
                           char *err, size_t errlen);

/*
 * Sets clientConfig.caBundle (base64 of ca_pem) on every webhook of a
 * Validating/MutatingWebhookConfiguration object, in place. Returns 1 when
 * anything changed, 0 when every caBundle already matched, -1 when the object
 * has no webhooks array.
 */
int certgen_set_ca_bundle(json_t *webhook_config, const char *ca_pem);

/* `aigw certgen create|patch ...`; returns the exit status. */
int certs_cmd_certgen(int argc, char **argv);

#endif
