/*
 * intent: what a policy wants, independent of any data plane.
 *
 *   policy (parsed, validated) + looked-up objects --intent_*_build--> intent
 *   intent --reconciler/envoy (renderer)--> Kubernetes objects
 *
 * The caller gathers every input through the object source into a plain
 * input struct (Secrets the policy references, the Gateway, the Envoy
 * Service, the parsed trust bundle, the Secrets aigw generated earlier);
 * building is pure: no I/O, no clock (`now` is an input), no randomness, no
 * logging. Key generation for the AIAccessPolicy (issuer CA, server leaf) is
 * a separate step, intent_access_issue_certs(), because it needs randomness.
 *
 * Ownership: an intent owns every string and array in it (copies); inputs are
 * borrowed and may be freed after the build. Free with intent_*_free(), also
 * after a failed build. Errors: build functions return 0, or -1 with a
 * one-line reason in `err` (allocation failure, a policy that was not
 * validated). Problems that are part of the state (a missing Secret, an empty
 * bundle) are not errors: they are recorded in the intent for status.
 */
#ifndef AIGW_RECONCILER_INTENT_H
#define AIGW_RECONCILER_INTENT_H

#include "policy/policy.h"

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#define INTENT_MAX_MODELS_PER_ROUTE POLICY_MAX_MODELS_PER_ROUTE
#define INTENT_MAX_PARENT_REFS 16 /* AIGatewayRoute spec.parentRefs maxItems */

/* Who owns a generated object: the policy, for labels and ownerReferences. */
typedef struct {
    char *api_version; /* aigateway.kagenti.dev/v1alpha1 */
    char *kind;        /* AIRoutingPolicy | AIAccessPolicy */
    char *name;
    char *ns;
    char *uid;
    char *gateway; /* spec.targetRef.name */
} intent_owner;

/* A list of short human-readable notes (warnings for status/events). */
typedef struct {
    char **items;
    size_t len;
} intent_notes;

/* ------------------------------------------------------------- routing */

typedef struct {
    char *name;        /* the provider's name in the policy */
    char *object_name; /* P-X: Backend, AIServiceBackend, BackendSecurityPolicy */
    policy_schema schema;
    char *version; /* schema version (api-version), NULL when empty */
    /* endpoint */
    int https;
    char *host;     /* DNS name or IP literal (no brackets) */
    int host_is_ip; /* 4, 6 or 0 */
    int port;       /* from the URL, else 443 / 80 */
    char *prefix;   /* OpenAI only: the URL path ("/v1"), NULL when none */
    int http2;      /* protocol HTTP2 */
    /* credentials */
    policy_cred_type cred;   /* POLICY_CRED_NONE: no BackendSecurityPolicy */
    char *secret_name;       /* the Secret the BackendSecurityPolicy references, or NULL */
    char *derived_secret;    /* P-X-credentials when the user's key is not the expected one */
    char *derived_key;       /* the expected key ("apiKey", ...) */
    char *derived_value_b64; /* the value (base64, as in Secret.data); NULL when unavailable */
    char *region;            /* AWS, GCP */
    char *project_name;      /* GCP */
    char *tenant_id;         /* Azure */
    char *client_id;         /* Azure */
    /* status */
    char *error;        /* NULL when ready; else why ("Secret \"x\" not found") */
    char *error_reason; /* "CredentialSecretNotFound", ... */
} intent_provider;

typedef struct {
    size_t provider;      /* index into intent_routing.providers */
    char *model_override; /* upstream model name, NULL to keep the client's */
    long long priority;
    long long weight;
} intent_backend;

typedef struct {
    char *name;
    intent_backend *backends;
    size_t n_backends;
    int rate_limited;
    long long tokens_per_hour;
    policy_token_mode token_mode;
} intent_model;

/* The retry/failover settings shared by every model of a route. */
typedef struct {
    int present; /* 0: no retry block */
    long long num_retries;
    long long *status_codes; /* HTTP statuses, in policy order, duplicates removed */
    size_t n_status_codes;
    char **triggers; /* Envoy retry triggers, with retriable-status-codes when statuses exist */
    size_t n_triggers;
    char *base_interval; /* duration text or NULL */
    char *max_interval;
} intent_retry;

typedef struct {
    char *name; /* P, P-2, P-3, ... (also the HTTPRoute and BackendTrafficPolicy name) */
    intent_retry retry;
    intent_model *models;
    size_t n_models; /* 1..INTENT_MAX_MODELS_PER_ROUTE */
} intent_route;

typedef struct {
    intent_owner owner;
    char **sections; /* sectionNames of the parentRef (HTTPS listeners when mTLS applies) */
    size_t n_sections;
    int attach_whole_gateway; /* 1: one parentRef without sectionName */
    intent_provider *providers;
    size_t n_providers;
    intent_route *routes;
    size_t n_routes;
    intent_notes notes;
} intent_routing;

/* A listener of the target Gateway, as the intent needs it. */
typedef struct {
    char *name;
    char *protocol;
    long long port;
    char *hostname; /* NULL when absent */
} intent_listener;

typedef struct {
    const policy_routing *policy; /* parsed and validated */
    const char *uid;              /* used when metadata.uid is absent (aigw render) */
    /* Secrets in the policy's namespace the providers reference (array of
     * Secret objects; NULL = none found). */
    const json_t *secrets;
    /* The target Gateway (NULL when not found) and whether an AIAccessPolicy
     * targets it (its routes then attach to the HTTPS listeners only). */
    const json_t *gateway;
    int gateway_has_access_policy;
} intent_routing_input;

int intent_routing_build(const intent_routing_input *in, intent_routing *out, char *err,
                         size_t errlen);
void intent_routing_free(intent_routing *r);

/* ------------------------------------------------------------- access */

typedef enum {
    INTENT_BUNDLE_READY = 0,   /* at least one CA valid now */
    INTENT_BUNDLE_NOT_FOUND,   /* ConfigMap or key missing */
    INTENT_BUNDLE_EMPTY,       /* parsed, but no CA valid now */
    INTENT_BUNDLE_PARSE_ERROR, /* the key does not parse */
} intent_bundle_state;

/* The trust bundle as the caller parsed it (common/spiffe_bundle). */
typedef struct {
    intent_bundle_state state;
    const char *ca_pem; /* the CAs valid now, PEM, concatenated; NULL unless READY */
    int certificates;   /* CAs valid now */
    int expired;        /* CAs skipped as outside their validity window */
    time_t next_expiry; /* earliest notAfter of the valid CAs; 0 when none */
    const char *error;  /* parse error text, or NULL */
} intent_bundle_input;

/* A TLS pair (PEM). */
typedef struct {
    char *cert_pem;
    char *key_pem;
} intent_pem_pair;

typedef enum {
    INTENT_CERT_REUSE = 0, /* the existing pair is kept as is */
    INTENT_CERT_ISSUE,     /* a new pair must be made (intent_access_issue_certs) */
} intent_cert_action;

typedef struct {
    intent_owner owner;
    char *trust_domain;
    char **https_listeners; /* names, Gateway order */
    size_t n_https_listeners;
    char **plain_listeners; /* non-HTTPS listener names (warning) */
    size_t n_plain_listeners;
    char *gateway_class;            /* spec.gatewayClassName of the Gateway, NULL when not found */
    char *gateway_resource_version; /* metadata.resourceVersion of the Gateway read, or NULL */
    intent_listener *listeners;     /* the HTTPS listeners, for the Gateway apply configuration */
    int gateway_found;
    /* bundle -> Secret A-mtls-ca */
    intent_bundle_state bundle_state;
    char *client_ca_pem; /* ca.crt of A-mtls-ca; the last good one when the bundle is unusable */
    int bundle_certificates, bundle_expired;
    time_t bundle_next_expiry;
    char *bundle_error;
    /* server certificate */
    char *server_cert_ref;  /* serverCertRef.name, NULL when aigw generates */
    char *agent_ca_pem;     /* ca.crt for agents (ConfigMap A-gateway-ca) */
    intent_pem_pair issuer; /* generated issuer CA (no serverCertRef) */
    intent_cert_action issuer_action;
    intent_pem_pair server; /* generated server leaf */
    intent_cert_action server_action;
    char *server_reason; /* why the leaf is (re)issued: "missing", "renewal due", ... */
    char **san_dns;      /* SANs the server leaf must carry */
    size_t n_san_dns;
    char **san_ips;
    size_t n_san_ips;
    char *endpoint;         /* status.endpoint, NULL when the Envoy Service is unknown */
    int helper_health_port; /* spiffe-helper's health port in helper.conf */
    intent_notes notes;
} intent_access;

/* The injector's default spiffe-helper health port (injector/inject_config.c). */
#define INTENT_HELPER_HEALTH_PORT 17081

/*
 * Parses a --helper-health-port value: 1..65535 and not 8081 (kagenti
 * AuthBridge's, refused by the injector config too). 0, or -1 with the reason
 * in err.
 */
int intent_helper_port_parse(const char *text, int *out, char *err, size_t errlen);

typedef struct {
    const policy_access *policy; /* parsed and validated */
    const char *uid;             /* used when metadata.uid is absent */
    const json_t *gateway;       /* the target Gateway or NULL */
    const json_t *envoy_service; /* the Service Envoy Gateway made for it, or NULL */
    intent_bundle_input bundle;
    const json_t *server_cert_secret; /* the serverCertRef Secret, or NULL */
    /* Objects aigw generated earlier (NULL when absent): */
    const json_t *existing_issuer;    /* Secret A-gateway-issuer */
    const json_t *existing_server;    /* Secret A-mtls-server */
    const json_t *existing_client_ca; /* Secret A-mtls-ca */
    time_t now;
    int helper_health_port; /* the injector's ports.helperHealth; 0 = INTENT_HELPER_HEALTH_PORT */
} intent_access_input;

int intent_access_build(const intent_access_input *in, intent_access *out, char *err,
                        size_t errlen);
void intent_access_free(intent_access *a);

/*
 * The renewal decision for a server leaf valid from not_before to not_after:
 * 1 when `now` has reached two thirds of its lifetime (or it is outside its
 * window), else 0.
 */
int intent_cert_needs_renewal(time_t not_before, time_t not_after, time_t now);

/*
 * Makes the certificates intent_access_build marked INTENT_CERT_ISSUE (the
 * issuer CA once, the server leaf signed by it). Not pure: uses the random
 * generator (common/cert_gen). 0 or -1 with err.
 */
int intent_access_issue_certs(intent_access *a, char *err, size_t errlen);

/* Lifetimes of what aigw generates. */
#define INTENT_ISSUER_DAYS 3650
#define INTENT_SERVER_DAYS 90

/* Generated object names for an AIAccessPolicy `a` (caller frees; NULL on OOM). */
char *intent_name_client_ca(const char *a); /* A-mtls-ca */
char *intent_name_issuer(const char *a);    /* A-gateway-issuer */
char *intent_name_server(const char *a);    /* A-mtls-server */
char *intent_name_agent_ca(const char *a);  /* A-gateway-ca */

#endif
