/*
 * inject: the pure pod injector (DESIGN §4). Given a pod, what is known about
 * its namespace, the namespace's AIAccessPolicies and the injector config, it
 * decides whether to inject and returns the JSON Patch that adds the SPIFFE
 * helper and egress sidecars, the volumes, mounts and env vars, plus the
 * warnings to show the user. No I/O, no globals, no logging: the webhook
 * handler and `aigw inject` feed it from the policy cache.
 *
 * Injection never fails a pod: every problem becomes "not injected" with a
 * skip reason, and a warning when the user should hear about it (quiet skips:
 * namespace not opted in, pod opted out, system namespace, already injected).
 *
 * Ownership: inputs are borrowed; inject_result owns its members, free with
 * inject_result_free().
 */
#ifndef AIGW_INJECTOR_INJECT_H
#define AIGW_INJECTOR_INJECT_H

#include "common/jv.h"
#include "injector/inject_config.h"

#include <jansson.h>
#include <stddef.h>

#define INJECT_LABEL "aigateway.kagenti.dev/inject"
#define INJECT_ANN_GATEWAY "aigateway.kagenti.dev/gateway"
#define INJECT_ANN_GATEWAY_URL "aigateway.kagenti.dev/gateway-url"
#define INJECT_ANN_MODE "aigateway.kagenti.dev/mode"
#define INJECT_ANN_STATUS "aigateway.kagenti.dev/status"
#define INJECT_ANN_DEFAULT_CONTAINER "kubectl.kubernetes.io/default-container"

/* One AIAccessPolicy of the pod's namespace, as the cache knows it. */
typedef struct {
    const char *policy;       /* metadata.name */
    const char *gateway;      /* spec.targetRef.name (the Gateway) */
    const char *endpoint;     /* status.endpoint, or NULL before the reconciler set it */
    const char *ca_configmap; /* "<policy>-gateway-ca" */
} inject_gateway;

typedef struct {
    const jv *pod;                  /* the Pod as admitted */
    const char *ns;                 /* the request's namespace; NULL = the pod's, else "default" */
    int ns_known;                   /* 1 when the namespace's labels are known */
    const json_t *ns_labels;        /* its metadata.labels (NULL = none) */
    const inject_gateway *gateways; /* the AIAccessPolicies of that namespace */
    size_t n_gateways;
    int native_sidecars; /* resolved for this cluster: 1 = initContainers with restartPolicy Always
                          */
    const inject_config *cfg;
} inject_input;

typedef enum {
    INJECT_DONE = 0,   /* patch holds the injection */
    INJECT_SKIP_QUIET, /* not for us (opt-in, opt-out, system namespace, already injected) */
    INJECT_SKIP_WARN,  /* wanted but impossible; the reason is also the first warning */
} inject_outcome;

typedef struct {
    inject_outcome outcome;
    char *patch; /* JSON Patch text ("[...]"); NULL unless INJECT_DONE */
    size_t patch_len;
    json_t *warnings;  /* array of strings, in order */
    char *skip_reason; /* NULL when injected */
} inject_result;

/*
 * Plans the injection. Returns 0 (the result says what happened) or -1 when
 * memory ran out (the result holds nothing then).
 */
int inject_plan(const inject_input *in, inject_result *out);

void inject_result_free(inject_result *r);

/*
 * Splits an https URL into "host:port" for ghostunnel's --target and the URL
 * without a trailing slash. Returns 0, or -1 with the reason in err.
 * Both outputs are malloc'ed.
 */
int inject_parse_endpoint(const char *url, char **target_out, char **normalised_out, char *err,
                          size_t errlen);

#endif
