/*
 * policy_test_util: shared fixtures for the policy tests: two valid base
 * objects and a mutator that sets or deletes a value at a dotted path
 * ("spec.providers[0].endpoint"), so each table row states only what differs.
 */
#ifndef AIGW_TESTS_POLICY_TEST_UTIL_H
#define AIGW_TESTS_POLICY_TEST_UTIL_H

#include "common/field_errors.h"
#include "policy/validate.h"

#include <jansson.h>

#define ROUTING_BASE                                                                               \
    "{\"apiVersion\":\"aigateway.kagenti.dev/v1alpha1\",\"kind\":\"AIRoutingPolicy\","             \
    "\"metadata\":{\"name\":\"team-a\",\"namespace\":\"team-a\"},"                                 \
    "\"spec\":{\"targetRef\":{\"name\":\"ai-gateway\"},"                                           \
    "\"defaultFailover\":{\"retryOn\":[502,503,\"connect-failure\"],\"maxRetries\":2,"             \
    "\"backoff\":{\"baseInterval\":\"100ms\",\"maxInterval\":\"2s\"}},"                            \
    "\"providers\":["                                                                              \
    "{\"name\":\"openai\",\"endpoint\":\"https://api.openai.com/v1\",\"schema\":\"OpenAI\","       \
    "\"credentials\":{\"type\":\"APIKey\",\"secretRef\":{\"name\":\"openai-secret\","              \
    "\"key\":\"api-key\"}}},"                                                                      \
    "{\"name\":\"azure\",\"endpoint\":\"https://my.openai.azure.com\",\"schema\":"                 \
    "\"AzureOpenAI\",\"version\":\"2024-06-01\",\"credentials\":{\"type\":\"AzureAPIKey\","        \
    "\"secretRef\":{\"name\":\"azure-secret\",\"key\":\"api-key\"}}}],"                            \
    "\"models\":["                                                                                 \
    "{\"name\":\"gpt-4o\",\"backends\":[{\"provider\":\"openai\",\"model\":\"gpt-4o\"},"           \
    "{\"provider\":\"azure\",\"model\":\"gpt-4o\",\"priority\":1}],"                               \
    "\"rateLimit\":{\"tokensPerHour\":100000},\"failover\":{\"retryOn\":[429],\"maxRetries\":1}}," \
    "{\"name\":\"gpt-4o-mini\",\"backends\":[{\"provider\":\"openai\"}]}]}}"

#define ACCESS_BASE                                                                                \
    "{\"apiVersion\":\"aigateway.kagenti.dev/v1alpha1\",\"kind\":\"AIAccessPolicy\","              \
    "\"metadata\":{\"name\":\"team-a-mtls\",\"namespace\":\"team-a\"},"                            \
    "\"spec\":{\"targetRef\":{\"name\":\"ai-gateway\"},\"mtls\":{\"trustDomain\":"                 \
    "\"localtest.me\"}}}"

/* Value meaning "delete this member". */
#define DEL NULL

typedef struct {
    const char *path;  /* dotted path with [i] indices */
    const char *value; /* JSON text, or DEL */
} policy_mutation;

/*
 * Parses `base` and applies the mutations in order (a path whose parent is
 * missing creates objects on the way). Returns a new object or NULL.
 */
json_t *policy_test_build(const char *base, const policy_mutation *muts, size_t n);

/* 1 when some error formats exactly as `want`. */
int policy_test_has_error(const field_errors *errs, const char *want);

/* 1 when some warning contains `needle`. */
int policy_test_has_warning(const policy_warnings *w, const char *needle);

/* Prints every error and warning to stderr (for failing cases). */
void policy_test_dump(const char *label, const field_errors *errs, const policy_warnings *w);

#endif
