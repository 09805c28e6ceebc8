/*
 * policy: the two aigw CRDs (group aigateway.kagenti.dev, version v1alpha1)
 * as C types, their parser and defaults, and the tables the validator and the
 * renderer share (schema <-> credential types, Envoy AI Gateway secret keys).
 *
 *   json_t object --policy_routing_parse--> policy_routing   (+ field errors)
 *   json_t object --policy_access_parse---> policy_access    (+ field errors)
 *
 * Parsing is strict and total: every unknown field under `spec` is reported at
 * its path ("spec.providers[0].foo: Forbidden: unknown field"), every wrong
 * type and unsupported enum value too, and parsing goes on so that one pass
 * reports every problem. Defaults are applied as the CRD declares them
 * (targetRef group/kind, protocol HTTP, priority 0, weight 1, tokenCountMode
 * TotalToken, bundle ConfigMap spire-system/spire-bundle/bundle.spiffe).
 * Semantic rules (duplicates, endpoints, ranges, ...) are in
 * policy/validate.h; this header only describes and fills the types.
 *
 * Ownership: a parsed policy holds a reference to the JSON object it was
 * parsed from; every `const char *` inside points into that object (or is a
 * static default) and lives until policy_*_free(). Arrays and parsed
 * endpoints are owned by the policy. Pure: no I/O, no globals, no logging.
 */
#ifndef AIGW_POLICY_POLICY_H
#define AIGW_POLICY_POLICY_H

#include "common/field_errors.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define POLICY_GROUP "aigateway.kagenti.dev"
#define POLICY_VERSION "v1alpha1"
#define POLICY_API_VERSION "aigateway.kagenti.dev/v1alpha1"
#define POLICY_KIND_ROUTING_NAME "AIRoutingPolicy"
#define POLICY_KIND_ACCESS_NAME "AIAccessPolicy"

#define POLICY_GATEWAY_GROUP "gateway.networking.k8s.io"
#define POLICY_GATEWAY_KIND "Gateway"

#define POLICY_DEFAULT_BUNDLE_NAMESPACE "spire-system"
#define POLICY_DEFAULT_BUNDLE_NAME "spire-bundle"
#define POLICY_DEFAULT_BUNDLE_KEY "bundle.spiffe"

/* Models per AIGatewayRoute; more produce a warning and several routes. */
#define POLICY_MAX_MODELS_PER_ROUTE 15

typedef enum {
    POLICY_KIND_UNKNOWN = 0, /* neither of ours */
    POLICY_KIND_ROUTING,     /* AIRoutingPolicy */
    POLICY_KIND_ACCESS,      /* AIAccessPolicy */
} policy_kind;

/* The kind of an object by apiVersion group and kind (any version of ours). */
policy_kind policy_kind_of(const json_t *obj);
/* Same, from a group and kind string (admission request.kind). */
policy_kind policy_kind_from(const char *group, const char *kind);

/* ------------------------------------------------------------------ common */

typedef struct {
    const char *name;     /* NULL when absent */
    const char *ns;       /* metadata.namespace, NULL when absent */
    const char *uid;      /* NULL when absent */
    long long generation; /* 0 when absent */
    const char *creation; /* creationTimestamp (RFC 3339) or NULL */
    const char *deletion; /* deletionTimestamp (RFC 3339) or NULL */
} policy_meta;

/* spec.targetRef: a Gateway API Gateway in the policy's namespace. */
typedef struct {
    const char *group; /* default "gateway.networking.k8s.io" */
    const char *kind;  /* default "Gateway" */
    const char *name;  /* required; NULL when absent */
    int present;       /* targetRef was given */
} policy_target_ref;

/* {name, key} of a Secret in the policy's namespace. */
typedef struct {
    const char *name; /* NULL when absent */
    const char *key;  /* NULL when absent (see policy_cred_secret_key for the default) */
    int present;
} policy_secret_ref;

/* ---------------------------------------------------------- AIRoutingPolicy */

typedef enum {
    POLICY_SCHEMA_OPENAI = 0,
    POLICY_SCHEMA_AZURE_OPENAI,
    POLICY_SCHEMA_AWS_BEDROCK,
    POLICY_SCHEMA_GCP_VERTEX_AI,
    POLICY_SCHEMA_GCP_ANTHROPIC,
    POLICY_SCHEMA_ANTHROPIC,
    POLICY_SCHEMA_AWS_ANTHROPIC,
    POLICY_SCHEMA_COHERE,
    POLICY_SCHEMA_COUNT,
    POLICY_SCHEMA_INVALID = -1, /* absent or not one of the above (an error was recorded) */
} policy_schema;

typedef enum { POLICY_PROTOCOL_HTTP = 0, POLICY_PROTOCOL_HTTP2 } policy_protocol;

typedef enum {
    POLICY_CRED_NONE = 0, /* no credentials block */
    POLICY_CRED_API_KEY,
    POLICY_CRED_AZURE_API_KEY,
    POLICY_CRED_ANTHROPIC_API_KEY,
    POLICY_CRED_AWS,   /* AWSCredentials */
    POLICY_CRED_AZURE, /* AzureCredentials */
    POLICY_CRED_GCP,   /* GCPCredentials */
    POLICY_CRED_COUNT,
    POLICY_CRED_INVALID = -1, /* type absent or unknown (an error was recorded) */
} policy_cred_type;

typedef enum {
    POLICY_TOKENS_TOTAL = 0, /* TotalToken (default) */
    POLICY_TOKENS_INPUT,     /* InputToken */
    POLICY_TOKENS_OUTPUT,    /* OutputToken */
    POLICY_TOKENS_INVALID = -1,
} policy_token_mode;

/* A parsed provider endpoint: scheme://host[:port][/path]. */
typedef struct {
    int https;         /* 1 for https, 0 for http */
    char *host;        /* without brackets for IPv6; lower-cased */
    int port;          /* explicit port, else 443 / 80 */
    int port_explicit; /* the URL named a port */
    char *path;        /* path prefix without trailing '/', "" when none */
    int host_is_ip;    /* 4 for IPv4, 6 for IPv6, 0 for a DNS name */
} policy_endpoint;

typedef struct {
    policy_cred_type type;
    const char *type_name; /* as written, or NULL when absent */
    /* APIKey, AzureAPIKey, AnthropicAPIKey */
    policy_secret_ref secret_ref;
    /* AzureCredentials */
    const char *tenant_id;
    const char *client_id;
    policy_secret_ref client_secret_ref;
    /* AWSCredentials (region required, secret optional: INI credentials file);
     * GCPCredentials (projectName, region, credentialsSecretRef required) */
    const char *region;
    const char *project_name;
    policy_secret_ref credentials_secret_ref;
} policy_credentials;

typedef struct {
    const char *name;
    const char *endpoint_raw; /* as written; NULL when absent */
    policy_endpoint endpoint; /* valid only when endpoint_ok */
    int endpoint_ok;
    char *endpoint_error; /* why it does not parse (owned), or NULL */
    policy_schema schema;
    const char *schema_name;        /* as written, or NULL when absent */
    policy_protocol protocol;       /* default HTTP */
    const char *version;            /* api-version; "" when absent */
    policy_credentials credentials; /* type POLICY_CRED_NONE when absent */
} policy_provider;

/* One retryOn entry: an HTTP status (YAML int or numeric string) or a trigger. */
typedef struct {
    int is_status;
    long long status;    /* when is_status */
    const char *trigger; /* otherwise ("connect-failure", ...) */
} policy_retry_on;

typedef struct {
    int present;
    policy_retry_on *retry_on;
    size_t n_retry_on;
    long long max_retries; /* default 2 when absent (has_max_retries 0) */
    int has_max_retries;
    const char *base_interval;  /* duration text or NULL */
    const char *max_interval;   /* duration text or NULL */
    long long base_interval_ms; /* -1 when absent or malformed */
    long long max_interval_ms;  /* -1 when absent or malformed */
} policy_failover;

#define POLICY_DEFAULT_MAX_RETRIES 2

typedef struct {
    const char *provider;
    const char *model;  /* upstream model name; NULL = the client's model name unchanged */
    long long priority; /* default 0 */
    long long weight;   /* default 1 */
} policy_backend;

typedef struct {
    int present;
    long long tokens_per_hour;
    int has_tokens_per_hour;
    policy_token_mode mode; /* default TotalToken */
    const char *mode_name;  /* as written, or NULL */
} policy_rate_limit;

typedef struct {
    const char *name;
    policy_backend *backends;
    size_t n_backends;
    policy_rate_limit rate_limit;
    policy_failover failover; /* present 0 = use spec.defaultFailover */
} policy_model;

typedef struct {
    json_t *source; /* the parsed object (a reference) */
    policy_meta meta;
    policy_target_ref target_ref;
    policy_failover default_failover;
    policy_provider *providers;
    size_t n_providers;
    policy_model *models;
    size_t n_models;
} policy_routing;

/* ----------------------------------------------------------- AIAccessPolicy */

typedef struct {
    const char *name; /* default spire-bundle */
    const char *ns;   /* default spire-system */
    const char *key;  /* default bundle.spiffe */
} policy_bundle_ref;

typedef struct {
    json_t *source;
    policy_meta meta;
    policy_target_ref target_ref;
    int has_mtls;
    const char *trust_domain;     /* NULL when absent */
    policy_bundle_ref bundle;     /* defaults applied */
    const char *server_cert_name; /* serverCertRef.name, NULL when absent */
    int has_server_cert_ref;
} policy_access;

/* ------------------------------------------------------------------ parsing */

/*
 * Parses an AIRoutingPolicy object. Always fills *out as far as the input
 * allows (so validation can run on the rest) and records every structural
 * problem in errs. Returns 0 when nothing was recorded, 1 when errors were
 * recorded, -1 on allocation failure (errs->oom set). Free with
 * policy_routing_free() in every case.
 */
int policy_routing_parse(const json_t *obj, policy_routing *out, field_errors *errs);
void policy_routing_free(policy_routing *p);

/* The same for AIAccessPolicy. */
int policy_access_parse(const json_t *obj, policy_access *out, field_errors *errs);
void policy_access_free(policy_access *p);

/*
 * Parses a provider endpoint URL. Returns 0, or -1 with the reason in err
 * (Kubernetes detail style, e.g. "scheme must be http or https"). Only the
 * syntax is checked here; single-label hosts and loopback are validation
 * rules. On success free with policy_endpoint_free().
 */
int policy_endpoint_parse(const char *url, policy_endpoint *out, char *err, size_t errlen);
void policy_endpoint_free(policy_endpoint *ep);

/*
 * Parses a Gateway API duration ("100ms", "2s", "1m30s": 1-4 groups of up to
 * 5 digits with h, m, s or ms). Returns milliseconds, or -1 when malformed.
 */
long long policy_duration_parse_ms(const char *text);

/* ------------------------------------------------------------ shared tables */

/* "OpenAI", ... for a schema; NULL for POLICY_SCHEMA_INVALID. */
const char *policy_schema_name(policy_schema s);
/* The schema for a name; POLICY_SCHEMA_INVALID when unknown. */
policy_schema policy_schema_from_name(const char *name);

/* "APIKey", ... ; "" for POLICY_CRED_NONE; NULL for invalid. */
const char *policy_cred_type_name(policy_cred_type t);
policy_cred_type policy_cred_type_from_name(const char *name);

/*
 * The schema <-> credentials table (DESIGN §3), shared with the renderer:
 *   OpenAI, Cohere:               APIKey or none
 *   AzureOpenAI:                  AzureAPIKey or AzureCredentials, and `version`
 *   AWSBedrock, AWSAnthropic:     AWSCredentials (region)
 *   GCPVertexAI, GCPAnthropic:    GCPCredentials
 *   Anthropic:                    AnthropicAPIKey
 * The endpoint's path prefix is used for OpenAI only.
 */
typedef struct {
    policy_schema schema;
    const char *name;
    unsigned allowed_creds; /* bit (1u << policy_cred_type); bit 0 = none allowed */
    int requires_version;
    int uses_path_prefix;
} policy_schema_info;

/* The row for a schema; NULL for POLICY_SCHEMA_INVALID. */
const policy_schema_info *policy_schema_info_of(policy_schema s);
/* 1 when the schema accepts that credential type (POLICY_CRED_NONE = no block). */
int policy_schema_allows_cred(policy_schema s, policy_cred_type t);

/*
 * The key under which Envoy AI Gateway expects the credential in its Secret:
 * "apiKey" (APIKey, AzureAPIKey, AnthropicAPIKey), "client-secret" (Azure),
 * "credentials" (AWS), "service_account.json" (GCP). NULL for none/invalid.
 * Also the default of a secret reference's `key`.
 */
const char *policy_cred_secret_key(policy_cred_type t);

/*
 * The Secret reference a credentials block uses (secretRef, clientSecretRef
 * or credentialsSecretRef), or NULL when its type has none or it is absent.
 * `field_out` (may be NULL) receives the JSON field name ("secretRef", ...).
 */
const policy_secret_ref *policy_cred_secret_ref(const policy_credentials *c,
                                                const char **field_out);

/* The Secret key actually read: ref->key, else policy_cred_secret_key(type). */
const char *policy_cred_effective_key(const policy_credentials *c);

/* The failover that applies to a model: its own, else spec.defaultFailover, else NULL. */
const policy_failover *policy_model_failover(const policy_routing *p, const policy_model *m);

#endif
