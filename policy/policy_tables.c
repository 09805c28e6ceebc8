/*
 * policy_tables: the name <-> enum tables of the two CRDs, the schema <->
 * credentials table (DESIGN §3) and the Envoy AI Gateway secret keys. The
 * validator and the renderer both read these, so a new schema or credential
 * type is added here once.
 */
#include "policy/policy.h"

#include <string.h>

#define CRED_BIT(t) (1u << (unsigned)(t))

static const policy_schema_info schema_table[POLICY_SCHEMA_COUNT] = {
    {POLICY_SCHEMA_OPENAI, "OpenAI", CRED_BIT(POLICY_CRED_NONE) | CRED_BIT(POLICY_CRED_API_KEY), 0,
     1},
    {POLICY_SCHEMA_AZURE_OPENAI, "AzureOpenAI",
     CRED_BIT(POLICY_CRED_AZURE_API_KEY) | CRED_BIT(POLICY_CRED_AZURE), 1, 0},
    {POLICY_SCHEMA_AWS_BEDROCK, "AWSBedrock", CRED_BIT(POLICY_CRED_AWS), 0, 0},
    {POLICY_SCHEMA_GCP_VERTEX_AI, "GCPVertexAI", CRED_BIT(POLICY_CRED_GCP), 0, 0},
    {POLICY_SCHEMA_GCP_ANTHROPIC, "GCPAnthropic", CRED_BIT(POLICY_CRED_GCP), 0, 0},
    {POLICY_SCHEMA_ANTHROPIC, "Anthropic", CRED_BIT(POLICY_CRED_ANTHROPIC_API_KEY), 0, 0},
    {POLICY_SCHEMA_AWS_ANTHROPIC, "AWSAnthropic", CRED_BIT(POLICY_CRED_AWS), 0, 0},
    {POLICY_SCHEMA_COHERE, "Cohere", CRED_BIT(POLICY_CRED_NONE) | CRED_BIT(POLICY_CRED_API_KEY), 0,
     0},
};

static const char *const cred_names[POLICY_CRED_COUNT] = {
    "",
    "APIKey",
    "AzureAPIKey",
    "AnthropicAPIKey",
    "AWSCredentials",
    "AzureCredentials",
    "GCPCredentials",
};

static const char *const cred_keys[POLICY_CRED_COUNT] = {
    NULL, "apiKey", "apiKey", "apiKey", "credentials", "client-secret", "service_account.json",
};

policy_kind policy_kind_from(const char *group, const char *kind)
{
    if (group == NULL || kind == NULL || strcmp(group, POLICY_GROUP) != 0) {
        return POLICY_KIND_UNKNOWN;
    }
    if (strcmp(kind, POLICY_KIND_ROUTING_NAME) == 0) {
        return POLICY_KIND_ROUTING;
    }
    if (strcmp(kind, POLICY_KIND_ACCESS_NAME) == 0) {
        return POLICY_KIND_ACCESS;
    }
    return POLICY_KIND_UNKNOWN;
}

policy_kind policy_kind_of(const json_t *obj)
{
    const char *api = json_string_value(json_object_get(obj, "apiVersion"));
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    if (api == NULL || kind == NULL) {
        return POLICY_KIND_UNKNOWN;
    }
    const char *slash = strchr(api, '/');
    size_t glen = strlen(POLICY_GROUP);
    if (slash == NULL || (size_t)(slash - api) != glen || strncmp(api, POLICY_GROUP, glen) != 0) {
        return POLICY_KIND_UNKNOWN;
    }
    return policy_kind_from(POLICY_GROUP, kind);
}

const char *policy_schema_name(policy_schema s)
{
    const policy_schema_info *i = policy_schema_info_of(s);
    return i ? i->name : NULL;
}

policy_schema policy_schema_from_name(const char *name)
{
    for (int i = 0; name != NULL && i < POLICY_SCHEMA_COUNT; i++) {
        if (strcmp(schema_table[i].name, name) == 0) {
            return schema_table[i].schema;
        }
    }
    return POLICY_SCHEMA_INVALID;
}

const char *policy_cred_type_name(policy_cred_type t)
{
    if (t < 0 || t >= POLICY_CRED_COUNT) {
        return NULL;
    }
    return cred_names[t];
}

policy_cred_type policy_cred_type_from_name(const char *name)
{
    for (int i = 1; name != NULL && i < POLICY_CRED_COUNT; i++) {
        if (strcmp(cred_names[i], name) == 0) {
            return (policy_cred_type)i;
        }
    }
    return POLICY_CRED_INVALID;
}

const policy_schema_info *policy_schema_info_of(policy_schema s)
{
    if (s < 0 || s >= POLICY_SCHEMA_COUNT) {
        return NULL;
    }
    return &schema_table[s];
}

int policy_schema_allows_cred(policy_schema s, policy_cred_type t)
{
    const policy_schema_info *i = policy_schema_info_of(s);
    if (i == NULL || t < 0 || t >= POLICY_CRED_COUNT) {
        return 0;
    }
    return (i->allowed_creds & CRED_BIT(t)) != 0;
}

const char *policy_cred_secret_key(policy_cred_type t)
{
    if (t < 0 || t >= POLICY_CRED_COUNT) {
        return NULL;
    }
    return cred_keys[t];
}

const policy_secret_ref *policy_cred_secret_ref(const policy_credentials *c, const char **field_out)
{
    const policy_secret_ref *ref = NULL;
    const char *field = NULL;
    switch (c->type) {
    case POLICY_CRED_API_KEY:
    case POLICY_CRED_AZURE_API_KEY:
    case POLICY_CRED_ANTHROPIC_API_KEY:
        ref = &c->secret_ref;
        field = "secretRef";
        break;
    case POLICY_CRED_AZURE:
        ref = &c->client_secret_ref;
        field = "clientSecretRef";
        break;
    case POLICY_CRED_AWS:
    case POLICY_CRED_GCP:
        ref = &c->credentials_secret_ref;
        field = "credentialsSecretRef";
        break;
    default:
        break;
    }
    if (ref == NULL || !ref->present) {
        return NULL;
    }
    if (field_out != NULL) {
        *field_out = field;
    }
    return ref;
}

const char *policy_cred_effective_key(const policy_credentials *c)
{
    const policy_secret_ref *ref = policy_cred_secret_ref(c, NULL);
    if (ref != NULL && ref->key != NULL) {
        return ref->key;
    }
    return policy_cred_secret_key(c->type);
}

const policy_failover *policy_model_failover(const policy_routing *p, const policy_model *m)
{
    if (m->failover.present) {
        return &m->failover;
    }
    if (p->default_failover.present) {
        return &p->default_failover;
    }
    return NULL;
}
