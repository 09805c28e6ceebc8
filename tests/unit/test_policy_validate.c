/*
 * Table-driven tests of the pure admission rules (policy/parse.c and
 * policy/validate.c): each invalid row mutates a valid base object and names
 * the exact error line it must produce, and how many errors in total; each
 * valid row must produce no error at all.
 */
#include "policy/policy.h"
#include "policy/validate.h"
#include "tests/unit/policy_test_util.h"
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LABEL_MSG                                                                                  \
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "   \
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "     \
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
#define SUBDOMAIN_MSG                                                                              \
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "   \
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "  \
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
#define KEY_MSG                                                                                    \
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "           \
    "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
#define TRIGGERS                                                                                   \
    "\"5xx\", \"cancelled\", \"connect-failure\", \"deadline-exceeded\", \"gateway-error\", "      \
    "\"internal\", \"refused-stream\", \"reset\", \"reset-before-request\", "                      \
    "\"resource-exhausted\", \"retriable-4xx\", \"retriable-status-codes\", \"unavailable\", or "  \
    "an HTTP status code 100-599"
#define SCHEMAS                                                                                    \
    "\"AWSAnthropic\", \"AWSBedrock\", \"Anthropic\", \"AzureOpenAI\", \"Cohere\", "               \
    "\"GCPAnthropic\", \"GCPVertexAI\", \"OpenAI\""
#define TD_CHARS                                                                                   \
    "trust domain names may contain only lowercase letters, digits, '.', '-' and '_' (no "         \
    "scheme, port or path)"
#define DURATION_MSG                                                                               \
    "must be a duration of 1 to 4 groups of up to 5 digits followed by h, m, s or ms (e.g. "       \
    "100ms, 2s, 1m30s)"

#define P0 "spec.providers[0]"
#define P1 "spec.providers[1]"
#define M0 "spec.models[0]"
#define M1 "spec.models[1]"
#define FO "spec.defaultFailover"

#define AWS_PROVIDER                                                                               \
    "{\"name\":\"openai\",\"endpoint\":\"https://bedrock-runtime.us-east-1.amazonaws.com\","       \
    "\"schema\":\"AWSBedrock\",\"credentials\":{\"type\":\"AWSCredentials\",\"region\":"           \
    "\"us-east-1\"}}"
#define GCP_CREDS                                                                                  \
    "{\"type\":\"GCPCredentials\",\"projectName\":\"p\",\"region\":\"us-central1\","               \
    "\"credentialsSecretRef\":{\"name\":\"gcp\",\"key\":\"sa.json\"}}"

typedef struct {
    const char *base;
    policy_mutation muts[3];
    const char *want; /* exact error line */
    int count;        /* errors expected in total (0 means 1) */
} invalid_case;

#define R ROUTING_BASE
#define A ACCESS_BASE

static const invalid_case invalid_cases[] = {
    /* targetRef */
    {R, {{"spec.targetRef", DEL}}, "spec.targetRef: Required value", 0},
    {R,
     {{"spec.targetRef.group", "\"apps\""}},
     "spec.targetRef.group: Unsupported value: \"apps\": supported values: "
     "\"gateway.networking.k8s.io\"",
     0},
    {R,
     {{"spec.targetRef.kind", "\"Service\""}},
     "spec.targetRef.kind: Unsupported value: \"Service\": supported values: \"Gateway\"",
     0},
    {R, {{"spec.targetRef.name", DEL}}, "spec.targetRef.name: Required value", 0},
    {R,
     {{"spec.targetRef.name", "\"AI_Gateway\""}},
     "spec.targetRef.name: Invalid value: \"AI_Gateway\": " SUBDOMAIN_MSG,
     0},
    {R,
     {{"spec.targetRef.namespace", "\"other\""}},
     "spec.targetRef.namespace: Forbidden: unknown field",
     0},
    /* structure */
    {R, {{"spec.foo", "1"}}, "spec.foo: Forbidden: unknown field", 0},
    {R, {{"extra", "1"}}, "extra: Forbidden: unknown field", 0},
    {R, {{"spec", DEL}}, "spec: Required value", 0},
    {R, {{"metadata.name", DEL}}, "metadata.name: Required value", 0},
    {A, {{"metadata.name", "\"\""}}, "metadata.name: Required value", 0},
    {R,
     {{P0 ".endpoint", "\"https://api-.openai.com\""}},
     P0 ".endpoint: Invalid value: \"https://api-.openai.com\": host must be a DNS name or an IP "
        "address",
     0},
    {R,
     {{P0 ".endpoint", "\"https://1.2.3\""}},
     P0 ".endpoint: Invalid value: \"https://1.2.3\": host must be a DNS name or an IP address",
     0},
    {R,
     {{P0 ".endpoint", "\"https://api.openai.com./v1\""}},
     P0 ".endpoint: Invalid value: \"https://api.openai.com./v1\": host must be a DNS name or an "
        "IP address",
     0},
    {R, {{P0 ".timeout", "\"1s\""}}, P0 ".timeout: Forbidden: unknown field", 0},
    {R, {{M0 ".weight", "1"}}, M0 ".weight: Forbidden: unknown field", 0},
    {R, {{FO ".backoff.jitter", "1"}}, FO ".backoff.jitter: Forbidden: unknown field", 0},
    {R,
     {{"spec.providers", "{}"}},
     "spec.providers: Invalid value: \"object\": must be of type array",
     -1},
    {R,
     {{M0 ".backends[1].priority", "\"high\""}},
     M0 ".backends[1].priority: Invalid value: \"string\": must be of type integer",
     0},
    /* providers */
    {R, {{P1 ".name", "\"openai\""}}, P1 ".name: Duplicate value: \"openai\"", 2},
    {R, {{P0 ".name", "\"Open_AI\""}}, P0 ".name: Invalid value: \"Open_AI\": " LABEL_MSG, -1},
    {R, {{P0 ".name", DEL}}, P0 ".name: Required value", -1},
    {R,
     {{"spec.providers", "[]"}},
     "spec.providers: Required value: at least one provider is "
     "required",
     -1},
    /* endpoints */
    {R,
     {{P0 ".endpoint", "\"ftp://x\""}},
     P0 ".endpoint: Invalid value: \"ftp://x\": scheme must be http or https",
     0},
    {R,
     {{P0 ".endpoint", "\"api.openai.com\""}},
     P0 ".endpoint: Invalid value: \"api.openai.com\": must be an absolute URL (scheme://host)",
     0},
    {R,
     {{P0 ".endpoint", "\"https://\""}},
     P0 ".endpoint: Invalid value: \"https://\": host must not be empty",
     0},
    {R,
     {{P0 ".endpoint", "\"https://:443/v1\""}},
     P0 ".endpoint: Invalid value: \"https://:443/v1\": host must not be empty",
     0},
    {R,
     {{P0 ".endpoint", "\"https://api.openai.com:0\""}},
     P0 ".endpoint: Invalid value: \"https://api.openai.com:0\": port must be between 1 and 65535",
     0},
    {R,
     {{P0 ".endpoint", "\"https://api.openai.com:65536\""}},
     P0 ".endpoint: Invalid value: \"https://api.openai.com:65536\": port must be between 1 and "
        "65535",
     0},
    {R,
     {{P0 ".endpoint", "\"https://api.openai.com:x1\""}},
     P0 ".endpoint: Invalid value: \"https://api.openai.com:x1\": port must be a number",
     0},
    {R,
     {{P0 ".endpoint", "\"https://openai/v1\""}},
     P0 ".endpoint: Invalid value: \"https://openai/v1\": host must be a fully qualified domain "
        "name (at least two labels) or an IP address",
     0},
    {R,
     {{P0 ".endpoint", "\"https://127.0.0.1/v1\""}},
     P0 ".endpoint: Invalid value: \"https://127.0.0.1/v1\": host must not be a loopback address",
     0},
    {R,
     {{P0 ".endpoint", "\"http://localhost:8080\""}},
     P0 ".endpoint: Invalid value: \"http://localhost:8080\": host must not be a loopback address",
     0},
    {R,
     {{P0 ".endpoint", "\"https://[::1]:8443\""}},
     P0 ".endpoint: Invalid value: \"https://[::1]:8443\": host must not be a loopback address",
     0},
    {R,
     {{P0 ".endpoint", "\"https://0.0.0.0\""}},
     P0 ".endpoint: Invalid value: \"https://0.0.0.0\": host must not be an unspecified address",
     0},
    {R,
     {{P0 ".endpoint", "\"https://me@api.openai.com\""}},
     P0 ".endpoint: Invalid value: \"https://me@api.openai.com\": must not contain user "
        "information",
     0},
    {R,
     {{P0 ".endpoint", "\"https://api.openai.com/v1?a=b\""}},
     P0 ".endpoint: Invalid value: \"https://api.openai.com/v1?a=b\": must not have a query or "
        "fragment",
     0},
    {R,
     {{P0 ".endpoint", "\"https://api_openai.com\""}},
     P0 ".endpoint: Invalid value: \"https://api_openai.com\": host must be a DNS name or an IP "
        "address",
     0},
    {R, {{P0 ".endpoint", DEL}}, P0 ".endpoint: Required value", 0},
    {R,
     {{P0 ".endpoint", "5"}},
     P0 ".endpoint: Invalid value: \"integer\": must be of type string",
     -1},
    /* schema, protocol, version, credentials */
    {R,
     {{P0 ".schema", "\"Gemini\""}},
     P0 ".schema: Unsupported value: \"Gemini\": supported values: " SCHEMAS,
     0},
    {R, {{P0 ".schema", DEL}}, P0 ".schema: Required value", 0},
    {R,
     {{P0 ".protocol", "\"HTTP3\""}},
     P0 ".protocol: Unsupported value: \"HTTP3\": supported values: \"HTTP\", \"HTTP2\"",
     0},
    {R,
     {{P1 ".version", DEL}},
     P1 ".version: Required value: schema AzureOpenAI requires the API version",
     0},
    {R,
     {{P0 ".credentials.type", "\"AzureAPIKey\""}},
     P0 ".credentials.type: Invalid value: \"AzureAPIKey\": schema OpenAI requires credentials of "
        "type APIKey",
     0},
    {R,
     {{P1 ".credentials.type", "\"APIKey\""}},
     P1 ".credentials.type: Invalid value: \"APIKey\": schema AzureOpenAI requires credentials of "
        "type AzureAPIKey or AzureCredentials",
     0},
    {R,
     {{P1 ".credentials", DEL}},
     P1 ".credentials: Required value: schema AzureOpenAI requires credentials of type "
        "AzureAPIKey or AzureCredentials",
     0},
    {R,
     {{"spec.providers[0]", AWS_PROVIDER}, {P0 ".credentials", DEL}},
     P0 ".credentials: Required value: schema AWSBedrock requires credentials of type "
        "AWSCredentials",
     0},
    {R,
     {{P0 ".schema", "\"Anthropic\""}, {P0 ".endpoint", "\"https://api.anthropic.com\""}},
     P0 ".credentials.type: Invalid value: \"APIKey\": schema Anthropic requires credentials of "
        "type AnthropicAPIKey",
     0},
    {R,
     {{"spec.providers[0]", AWS_PROVIDER}, {P0 ".schema", "\"GCPVertexAI\""}},
     P0 ".credentials.type: Invalid value: \"AWSCredentials\": schema GCPVertexAI requires "
        "credentials of type GCPCredentials",
     0},
    {R, {{P0 ".credentials.type", DEL}}, P0 ".credentials.type: Required value", 0},
    {R,
     {{P0 ".credentials.type", "\"Token\""}},
     P0 ".credentials.type: Unsupported value: \"Token\": supported values: \"APIKey\", "
        "\"AWSCredentials\", \"AnthropicAPIKey\", \"AzureAPIKey\", \"AzureCredentials\", "
        "\"GCPCredentials\"",
     0},
    {R, {{P0 ".credentials.secretRef", DEL}}, P0 ".credentials.secretRef: Required value", 0},
    {R,
     {{P0 ".credentials.secretRef.key", DEL}},
     P0 ".credentials.secretRef.key: Required value",
     0},
    {R,
     {{P0 ".credentials.secretRef.key", "\"api key\""}},
     P0 ".credentials.secretRef.key: Invalid value: \"api key\": " KEY_MSG,
     0},
    {R,
     {{P0 ".credentials.secretRef.name", "\"OpenAI\""}},
     P0 ".credentials.secretRef.name: Invalid value: \"OpenAI\": " SUBDOMAIN_MSG,
     0},
    {R,
     {{P0 ".credentials.region", "\"us-east-1\""}},
     P0 ".credentials.region: Forbidden: not used by credential type APIKey",
     0},
    {R,
     {{P1 ".credentials",
       "{\"type\":\"AzureCredentials\",\"clientId\":\"c\",\"clientSecretRef\":{\"name\":\"s\","
       "\"key\":\"k\"}}"}},
     P1 ".credentials.tenantId: Required value",
     0},
    {R,
     {{P1 ".credentials", "{\"type\":\"AzureCredentials\",\"clientId\":\"c\",\"tenantId\":\"t\"}"}},
     P1 ".credentials.clientSecretRef: Required value",
     0},
    {R,
     {{"spec.providers[0]", AWS_PROVIDER}, {P0 ".credentials.region", DEL}},
     P0 ".credentials.region: Required value",
     0},
    {R,
     {{P0 ".schema", "\"GCPVertexAI\""},
      {P0 ".credentials", GCP_CREDS},
      {P0 ".credentials.projectName", DEL}},
     P0 ".credentials.projectName: Required value",
     0},
    {R,
     {{P0 ".schema", "\"GCPAnthropic\""},
      {P0 ".credentials", GCP_CREDS},
      {P0 ".credentials.credentialsSecretRef", DEL}},
     P0 ".credentials.credentialsSecretRef: Required value",
     0},
    /* models */
    {R, {{"spec.models", DEL}}, "spec.models: Required value: at least one model is required", 0},
    {R, {{M1 ".name", "\"gpt-4o\""}}, M1 ".name: Duplicate value: \"gpt-4o\"", 0},
    {R,
     {{M1 ".name", "\"gpt 4o\""}},
     M1 ".name: Invalid value: \"gpt 4o\": must be 1 to 253 printable ASCII characters without "
        "spaces",
     0},
    {R, {{M1 ".name", DEL}}, M1 ".name: Required value", 0},
    {R, {{M1 ".backends", DEL}}, M1 ".backends: Required value", -1},
    {R,
     {{M1 ".backends[0].provider", "\"azure2\""}},
     M1 ".backends[0].provider: Not found: "
        "\"azure2\"",
     0},
    {R, {{M1 ".backends[0].provider", DEL}}, M1 ".backends[0].provider: Required value", 0},
    {R,
     {{M0 ".backends[1].priority", "-1"}},
     M0 ".backends[1].priority: Invalid value: -1: must be greater than or equal to 0",
     0},
    {R,
     {{M0 ".backends[1].weight", "-1"}},
     M0 ".backends[1].weight: Invalid value: -1: must be greater than or equal to 0",
     0},
    {R,
     {{M0 ".backends[1].weight", "2000000"}},
     M0 ".backends[1].weight: Invalid value: 2000000: must be less than or equal to 1000000",
     0},
    {R,
     {{M1 ".backends[0].weight", "0"}},
     M1 ".backends: Forbidden: all backends at priority 0 have weight 0",
     0},
    {R,
     {{M1 ".backends[1]", "{\"provider\":\"openai\"}"}},
     M1 ".backends[1]: Duplicate value: \"openai\"",
     0},
    {R,
     {{M1 ".backends[0].model", "\"gpt 4\""}},
     M1 ".backends[0].model: Invalid value: \"gpt 4\": must be non-empty printable ASCII without "
        "spaces",
     0},
    /* rate limits */
    {R,
     {{M0 ".rateLimit.tokensPerHour", "0"}},
     M0 ".rateLimit.tokensPerHour: Invalid value: 0: must be greater than or equal to 1",
     0},
    {R, {{M0 ".rateLimit", "{}"}}, M0 ".rateLimit.tokensPerHour: Required value", 0},
    {R,
     {{M0 ".rateLimit.tokenCountMode", "\"Tokens\""}},
     M0 ".rateLimit.tokenCountMode: Unsupported value: \"Tokens\": supported values: "
        "\"InputToken\", \"OutputToken\", \"TotalToken\"",
     0},
    /* failover */
    {R,
     {{M0 ".failover.retryOn[0]", "600"}},
     M0 ".failover.retryOn[0]: Invalid value: 600: must be an HTTP status code between 100 and "
        "599",
     0},
    {R,
     {{M0 ".failover.retryOn[0]", "99"}},
     M0 ".failover.retryOn[0]: Invalid value: 99: must be an HTTP status code between 100 and 599",
     0},
    {R,
     {{M0 ".failover.retryOn[0]", "\"600\""}},
     M0 ".failover.retryOn[0]: Invalid value: 600: must be an HTTP status code between 100 and "
        "599",
     0},
    {R,
     {{FO ".retryOn[2]", "\"retry-everything\""}},
     FO ".retryOn[2]: Unsupported value: \"retry-everything\": supported values: " TRIGGERS,
     0},
    {R, {{M0 ".failover.retryOn[1]", "429"}}, M0 ".failover.retryOn[1]: Duplicate value: 429", 0},
    {R,
     {{M0 ".failover.retryOn[0]", "true"}},
     M0 ".failover.retryOn[0]: Invalid value: \"boolean\": must be of type integer or string",
     0},
    {R,
     {{M0 ".failover.maxRetries", "11"}},
     M0 ".failover.maxRetries: Invalid value: 11: must be between 0 and 10, inclusive",
     0},
    {R,
     {{FO ".maxRetries", "-1"}},
     FO ".maxRetries: Invalid value: -1: must be between 0 and 10, inclusive",
     0},
    {R,
     {{FO ".backoff.baseInterval", "\"100\""}},
     FO ".backoff.baseInterval: Invalid value: \"100\": " DURATION_MSG,
     0},
    {R,
     {{FO ".backoff.baseInterval", "\"1.5s\""}},
     FO ".backoff.baseInterval: Invalid value: \"1.5s\": " DURATION_MSG,
     0},
    {R,
     {{FO ".backoff.maxInterval", "\"50ms\""}},
     FO ".backoff.maxInterval: Invalid value: \"50ms\": must not be shorter than baseInterval",
     0},
    {R,
     {{FO ".backoff.baseInterval", "\"0s\""}},
     FO ".backoff.baseInterval: Invalid value: \"0s\": must be greater than zero",
     0},
    {R, {{FO ".backoff.baseInterval", DEL}}, FO ".backoff.baseInterval: Required value", 0},
    {R,
     {{M0 ".failover.backoff", "{\"baseInterval\":\"1d\"}"}},
     M0 ".failover.backoff.baseInterval: Invalid value: \"1d\": " DURATION_MSG,
     0},
    /* AIAccessPolicy */
    {A, {{"spec.targetRef", DEL}}, "spec.targetRef: Required value", 0},
    {A,
     {{"spec.targetRef.kind", "\"HTTPRoute\""}},
     "spec.targetRef.kind: Unsupported value: \"HTTPRoute\": supported values: \"Gateway\"",
     0},
    {A, {{"spec.mtls", DEL}}, "spec.mtls: Required value", 0},
    {A, {{"spec.mtls.trustDomain", DEL}}, "spec.mtls.trustDomain: Required value", 0},
    {A,
     {{"spec.mtls.trustDomain", "\"spiffe://localtest.me\""}},
     "spec.mtls.trustDomain: Invalid value: \"spiffe://localtest.me\": must be the trust domain "
     "name alone, without spiffe://",
     0},
    {A,
     {{"spec.mtls.trustDomain", "\"Local.Test\""}},
     "spec.mtls.trustDomain: Invalid value: \"Local.Test\": " TD_CHARS,
     0},
    {A,
     {{"spec.mtls.trustDomain", "\"localtest.me:8080\""}},
     "spec.mtls.trustDomain: Invalid value: \"localtest.me:8080\": " TD_CHARS,
     0},
    {A,
     {{"spec.mtls.trustDomain", "\"\""}},
     "spec.mtls.trustDomain: Invalid value: \"\": must not be empty",
     0},
    {A,
     {{"spec.mtls.trustBundleConfigMap.namespace", "\"Spire_System\""}},
     "spec.mtls.trustBundleConfigMap.namespace: Invalid value: \"Spire_System\": " LABEL_MSG,
     0},
    {A,
     {{"spec.mtls.trustBundleConfigMap.key", "\"bundle spiffe\""}},
     "spec.mtls.trustBundleConfigMap.key: Invalid value: \"bundle spiffe\": " KEY_MSG,
     0},
    {A, {{"spec.mtls.serverCertRef", "{}"}}, "spec.mtls.serverCertRef.name: Required value", 0},
    {A, {{"spec.mtls.clientAuth", "true"}}, "spec.mtls.clientAuth: Forbidden: unknown field", 0},
    {A,
     {{"spec.mtls.serverCertRef", "{\"name\":\"x\",\"namespace\":\"y\"}"}},
     "spec.mtls.serverCertRef.namespace: Forbidden: unknown field",
     0},
};

static void run_pure(const json_t *obj, field_errors *errs, policy_warnings *warns)
{
    int rc = policy_validate_object(obj, NULL, NULL, errs, warns);
    CU_ASSERT(rc == POLICY_KIND_ROUTING || rc == POLICY_KIND_ACCESS);
}

static void test_invalid_table(void)
{
    size_t n = sizeof invalid_cases / sizeof invalid_cases[0];
    CU_ASSERT(n >= 60);
    for (size_t i = 0; i < n; i++) {
        const invalid_case *c = &invalid_cases[i];
        json_t *obj = policy_test_build(c->base, c->muts, 3);
        CU_ASSERT_PTR_NOT_NULL_FATAL(obj);
        field_errors errs;
        policy_warnings warns;
        field_errors_init(&errs);
        policy_warnings_init(&warns);
        run_pure(obj, &errs, &warns);
        int found = policy_test_has_error(&errs, c->want);
        int want_count = c->count == 0 ? 1 : c->count;
        int count_ok = c->count < 0 || (size_t)want_count == errs.len;
        if (!found || !count_ok) {
            char label[64];
            snprintf(label, sizeof label, "invalid case %zu, want", i);
            fprintf(stderr, "\n%s: %s", label, c->want);
            policy_test_dump(label, &errs, &warns);
        }
        CU_ASSERT(found);
        CU_ASSERT(count_ok);
        field_errors_free(&errs);
        policy_warnings_free(&warns);
        json_decref(obj);
    }
}

typedef struct {
    const char *base;
    policy_mutation muts[3];
} valid_case;

static const valid_case valid_cases[] = {
    {R, {{NULL, NULL}}},
    {A, {{NULL, NULL}}},
    /* OpenAI and Cohere without credentials */
    {R, {{P0 ".credentials", DEL}}},
    {R, {{P0 ".schema", "\"Cohere\""}, {P0 ".endpoint", "\"https://api.cohere.com\""}}},
    {R, {{P0 ".schema", "\"Cohere\""}, {P0 ".credentials", DEL}}},
    /* AzureOpenAI with AzureCredentials */
    {R,
     {{P1 ".credentials",
       "{\"type\":\"AzureCredentials\",\"tenantId\":\"t\",\"clientId\":\"c\","
       "\"clientSecretRef\":{\"name\":\"azure-sp\",\"key\":\"client-secret\"}}"}}},
    /* AWSBedrock with region only, and with a credentials file */
    {R, {{"spec.providers[0]", AWS_PROVIDER}}},
    {R,
     {{"spec.providers[0]", AWS_PROVIDER},
      {P0 ".credentials.credentialsSecretRef", "{\"name\":\"aws\",\"key\":\"credentials\"}"}}},
    {R, {{"spec.providers[0]", AWS_PROVIDER}, {P0 ".schema", "\"AWSAnthropic\""}}},
    {R, {{P0 ".schema", "\"GCPVertexAI\""}, {P0 ".credentials", GCP_CREDS}}},
    {R, {{P0 ".schema", "\"GCPAnthropic\""}, {P0 ".credentials", GCP_CREDS}}},
    {R,
     {{P0 ".schema", "\"Anthropic\""},
      {P0 ".credentials.type", "\"AnthropicAPIKey\""},
      {P0 ".endpoint", "\"https://api.anthropic.com\""}}},
    /* in-cluster plain HTTP over HTTP/2, IPs, ports */
    {R,
     {{P0 ".endpoint", "\"http://vllm.models.svc.cluster.local:8000/v1\""},
      {P0 ".protocol", "\"HTTP2\""}}},
    {R, {{P0 ".endpoint", "\"https://10.0.0.5:8443/v1/\""}}},
    {R, {{P0 ".endpoint", "\"https://[2001:db8::1]:443\""}}},
    {R, {{P0 ".endpoint", "\"HTTPS://API.OpenAI.com:443\""}}},
    /* every retry trigger, status codes as strings, durations with groups */
    {R,
     {{M0 ".failover.retryOn",
       "[\"5xx\",\"gateway-error\",\"reset\",\"reset-before-request\",\"connect-failure\","
       "\"retriable-4xx\",\"refused-stream\",\"retriable-status-codes\",\"cancelled\","
       "\"deadline-exceeded\",\"internal\",\"resource-exhausted\",\"unavailable\",\"503\",100,"
       "599]"},
      {M0 ".failover.backoff", "{\"baseInterval\":\"1m30s\",\"maxInterval\":\"1h\"}"},
      {M0 ".failover.maxRetries", "10"}}},
    {R,
     {{M0 ".rateLimit.tokenCountMode", "\"InputToken\""},
      {M1 ".rateLimit", "{\"tokensPerHour\":1,\"tokenCountMode\":\"OutputToken\"}"}}},
    /* weight 0 next to a weighted backend at the same priority */
    {R, {{M0 ".backends[1].priority", "0"}, {M0 ".backends[1].weight", "0"}}},
    /* access policy with every field */
    {A,
     {{"spec.mtls.trustBundleConfigMap",
       "{\"name\":\"bundle\",\"namespace\":\"spire\",\"key\":\"bundle.crt\"}"},
      {"spec.mtls.serverCertRef", "{\"name\":\"gw-cert\"}"},
      {"spec.targetRef", "{\"group\":\"gateway.networking.k8s.io\",\"kind\":\"Gateway\","
                         "\"name\":\"gw\"}"}}},
    {A, {{"spec.mtls.trustDomain", "\"prod_1.example-corp.com\""}}},
    /* status and unknown metadata are not spec */
    {R, {{"status", "{\"observedGeneration\":1}"}, {"metadata.labels", "{\"a\":\"b\"}"}}},
};

static void test_valid_table(void)
{
    size_t n = sizeof valid_cases / sizeof valid_cases[0];
    CU_ASSERT(n >= 15);
    for (size_t i = 0; i < n; i++) {
        json_t *obj = policy_test_build(valid_cases[i].base, valid_cases[i].muts, 3);
        CU_ASSERT_PTR_NOT_NULL_FATAL(obj);
        field_errors errs;
        policy_warnings warns;
        field_errors_init(&errs);
        policy_warnings_init(&warns);
        run_pure(obj, &errs, &warns);
        if (errs.len != 0) {
            char label[64];
            snprintf(label, sizeof label, "valid case %zu", i);
            policy_test_dump(label, &errs, &warns);
        }
        CU_ASSERT_EQUAL(errs.len, 0);
        field_errors_free(&errs);
        policy_warnings_free(&warns);
        json_decref(obj);
    }
}

static void validate_with(const char *base, const policy_mutation *m, size_t n, field_errors *errs,
                          policy_warnings *warns)
{
    json_t *obj = policy_test_build(base, m, n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(obj);
    field_errors_init(errs);
    policy_warnings_init(warns);
    run_pure(obj, errs, warns);
    json_decref(obj);
}

static void test_warnings(void)
{
    field_errors errs;
    policy_warnings w;
    /* the base has no warning */
    validate_with(R, NULL, 0, &errs, &w);
    CU_ASSERT_EQUAL(w.len, 0);
    field_errors_free(&errs);
    policy_warnings_free(&w);

    policy_mutation unused[] = {{M0 ".backends[1]", DEL}};
    validate_with(R, unused, 1, &errs, &w);
    CU_ASSERT_EQUAL(errs.len, 0);
    CU_ASSERT(policy_test_has_warning(&w, "provider \"azure\" is not used by any model"));
    field_errors_free(&errs);
    policy_warnings_free(&w);

    policy_mutation plain[] = {{P0 ".endpoint", "\"http://api.openai.com/v1\""}};
    validate_with(R, plain, 1, &errs, &w);
    CU_ASSERT_EQUAL(errs.len, 0);
    CU_ASSERT(policy_test_has_warning(
        &w, P0 ".endpoint: http:// endpoint api.openai.com leaves the cluster unencrypted"));
    field_errors_free(&errs);
    policy_warnings_free(&w);

    /* private addresses and Service names are inside the cluster: no warning */
    const char *inside[] = {"\"http://10.1.2.3:8000\"",
                            "\"http://192.168.1.1\"",
                            "\"http://172.16.0.9\"",
                            "\"http://vllm.models.svc\"",
                            "\"http://vllm.models.svc.cluster.local\"",
                            "\"http://[fd00::5]\""};
    for (size_t i = 0; i < sizeof inside / sizeof inside[0]; i++) {
        policy_mutation m[] = {{P0 ".endpoint", inside[i]}};
        validate_with(R, m, 1, &errs, &w);
        CU_ASSERT_EQUAL(errs.len, 0);
        CU_ASSERT_EQUAL(w.len, 0);
        field_errors_free(&errs);
        policy_warnings_free(&w);
    }

    policy_mutation nofail[] = {{M0 ".failover", DEL}, {"spec.defaultFailover", DEL}};
    validate_with(R, nofail, 2, &errs, &w);
    CU_ASSERT_EQUAL(errs.len, 0);
    CU_ASSERT(policy_test_has_warning(&w, "model \"gpt-4o\" has 2 backends but no failover"));
    field_errors_free(&errs);
    policy_warnings_free(&w);

    policy_mutation path[] = {{P1 ".endpoint", "\"https://my.openai.azure.com/openai\""}};
    validate_with(R, path, 1, &errs, &w);
    CU_ASSERT(policy_test_has_warning(&w, "the path /openai is ignored for schema AzureOpenAI"));
    field_errors_free(&errs);
    policy_warnings_free(&w);

    /* 16 models: split into several routes */
    json_t *obj = policy_test_build(R, NULL, 0);
    json_t *models = json_object_get(json_object_get(obj, "spec"), "models");
    for (int i = 0; i < 14; i++) {
        char name[32];
        snprintf(name, sizeof name, "model-%d", i);
        json_array_append_new(
            models, json_pack("{s:s, s:[{s:s}]}", "name", name, "backends", "provider", "openai"));
    }
    field_errors_init(&errs);
    policy_warnings_init(&w);
    run_pure(obj, &errs, &w);
    CU_ASSERT_EQUAL(errs.len, 0);
    CU_ASSERT(policy_test_has_warning(&w, "16 models: more than 15 per route"));
    field_errors_free(&errs);
    policy_warnings_free(&w);
    json_decref(obj);
}

/* The example: duplicate model, unknown provider, bad endpoint -> all three at once. */
static void test_all_errors_at_once(void)
{
    policy_mutation m[] = {{M1 ".name", "\"gpt-4o\""},
                           {M1 ".backends[0].provider", "\"azure2\""},
                           {P0 ".endpoint", "\"ftp://x\""}};
    field_errors errs;
    policy_warnings w;
    validate_with(R, m, 3, &errs, &w);
    CU_ASSERT_EQUAL(errs.len, 3);
    CU_ASSERT(policy_test_has_error(&errs, M1 ".name: Duplicate value: \"gpt-4o\""));
    CU_ASSERT(policy_test_has_error(&errs, M1 ".backends[0].provider: Not found: \"azure2\""));
    CU_ASSERT(policy_test_has_error(
        &errs, P0 ".endpoint: Invalid value: \"ftp://x\": scheme must be http or https"));
    field_errors_free(&errs);
    policy_warnings_free(&w);
}

static void test_not_ours_and_not_objects(void)
{
    field_errors errs;
    policy_warnings w;
    field_errors_init(&errs);
    policy_warnings_init(&w);
    json_t *pod = json_pack("{s:s, s:s}", "apiVersion", "v1", "kind", "Pod");
    CU_ASSERT_EQUAL(policy_validate_object(pod, NULL, NULL, &errs, &w), POLICY_KIND_UNKNOWN);
    json_decref(pod);
    json_t *other =
        json_pack("{s:s, s:s}", "apiVersion", "example.com/v1", "kind", "AIRoutingPolicy");
    CU_ASSERT_EQUAL(policy_validate_object(other, NULL, NULL, &errs, &w), POLICY_KIND_UNKNOWN);
    json_decref(other);
    CU_ASSERT_EQUAL(errs.len, 0);
    /* a spec that is not an object */
    policy_mutation m[] = {{"spec", "[]"}};
    json_t *obj = policy_test_build(R, m, 1);
    CU_ASSERT_EQUAL(policy_validate_object(obj, NULL, NULL, &errs, &w), POLICY_KIND_ROUTING);
    CU_ASSERT(policy_test_has_error(&errs, "spec: Invalid value: \"array\": must be of type "
                                           "object"));
    json_decref(obj);
    field_errors_free(&errs);
    policy_warnings_free(&w);
}

UNIT_SUITE(policy_validate, UNIT_CASE(test_invalid_table), UNIT_CASE(test_valid_table),
           UNIT_CASE(test_warnings), UNIT_CASE(test_all_errors_at_once),
           UNIT_CASE(test_not_ours_and_not_objects));
