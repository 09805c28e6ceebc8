/*
 * envoy renderer: intent -> the Kubernetes objects of Envoy AI Gateway v0.6
 * (aigateway.envoyproxy.io/v1beta1) and Envoy Gateway v1.7
 * (gateway.envoyproxy.io/v1alpha1), exactly as DESIGN §5 lists them. This is
 * the only code that knows Envoy kinds; a second data plane is a second
 * renderer over the same intent.
 *
 * Every object carries the labels and the controller ownerReference of
 * reconciler/objname.h. Output is deterministic: the same intent gives the same
 * objects with the same key order (apiVersion, kind, metadata, then spec or
 * data), so dumps are byte-identical. Objects come in apply order: Secrets and
 * ConfigMaps, Backends, AIServiceBackends, BackendSecurityPolicies,
 * AIGatewayRoutes, BackendTrafficPolicies, ClientTrafficPolicies.
 *
 * Ownership: *out receives a new JSON array the caller json_decref()s.
 * Returns 0, or -1 with a one-line reason in err (allocation failure, an
 * intent missing key material). Pure: no I/O, no globals, no logging.
 */
#ifndef AIGW_RECONCILER_ENVOY_RENDER_H
#define AIGW_RECONCILER_ENVOY_RENDER_H

#include "reconciler/intent.h"

#include <jansson.h>
#include <stddef.h>

#define ENVOY_AIGW_API "aigateway.envoyproxy.io/v1beta1"
#define ENVOY_EG_API "gateway.envoyproxy.io/v1alpha1"
#define ENVOY_GWAPI_GROUP "gateway.networking.k8s.io"
#define ENVOY_GATEWAY_API "gateway.networking.k8s.io/v1"
#define ENVOY_MODEL_HEADER "x-ai-eg-model"
#define ENVOY_AIGW_METADATA_NS "io.envoy.ai_gateway"
/* Field manager of the Gateway listener fields (DESIGN §5). */
#define ENVOY_GATEWAY_FIELD_MANAGER "aigw-gateway"

/* The objects an AIRoutingPolicy wants. */
int envoy_render_routing(const intent_routing *in, json_t **out, char *err, size_t errlen);

/*
 * The objects an AIAccessPolicy wants. The intent's INTENT_CERT_ISSUE pairs
 * must have been filled (intent_access_issue_certs) first. Without a client
 * CA (the bundle was never usable) A-mtls-ca holds the gateway's own CA, which
 * refuses every client (fail closed).
 */
int envoy_render_access(const intent_access *in, json_t **out, char *err, size_t errlen);

/*
 * The Gateway apply configuration for field manager aigw-gateway: apiVersion,
 * kind, metadata {name, namespace}, spec.gatewayClassName and, for every HTTPS
 * listener, name, port and protocol copied unchanged from the live Gateway
 * (the schema requires them; equal values only share ownership, they never
 * conflict) plus the fields aigw owns: tls.mode Terminate and
 * tls.certificateRefs [the server cert Secret]. metadata.resourceVersion is
 * the live Gateway's when it has one, so the apply fails with a conflict
 * instead of re-creating a listener removed since the read. *out is NULL (and 0 is
 * returned) when the Gateway was not found or has no HTTPS listener.
 */
int envoy_render_gateway_apply(const intent_access *in, json_t **out, char *err, size_t errlen);

/* The metadataKey / cost key of a token count mode: "llm_total_token", ... */
const char *envoy_token_metadata_key(policy_token_mode mode);

#endif
