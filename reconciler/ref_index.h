/*
 * ref_index: which policies an event concerns.
 *
 * The reconciler watches policies and their inputs. For every policy it
 * records the objects it depends on ("Kind/namespace/name"): its Gateway,
 * the Secrets its providers (or serverCertRef) name, the trust bundle
 * ConfigMap. ref_index_keys_for() maps a watched object to the policy keys to
 * reconcile:
 *
 *   - a policy: itself and every policy on the same Gateway (an access policy
 *     changes the routes' listeners; a routing policy going away may end a
 *     race another one lost);
 *   - a generated object: the policy of its controller ownerReference;
 *   - an Envoy Gateway Service: the policies of the Gateway named by its
 *     gateway.envoyproxy.io/owning-gateway-name/-namespace labels;
 *   - anything else: the policies that reference it.
 *
 * Keys are "AIRoutingPolicy/<ns>/<name>" or "AIAccessPolicy/<ns>/<name>".
 * Thread-safe. Ownership: inputs borrowed; returned arrays are new references.
 */
#ifndef AIGW_RECONCILER_REF_INDEX_H
#define AIGW_RECONCILER_REF_INDEX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define POLICY_GROUP "aigateway.kagenti.dev"
#define KIND_ROUTING "AIRoutingPolicy"
#define KIND_ACCESS "AIAccessPolicy"
#define LABEL_OWNING_GATEWAY_NAME "gateway.envoyproxy.io/owning-gateway-name"
#define LABEL_OWNING_GATEWAY_NS "gateway.envoyproxy.io/owning-gateway-namespace"

/* Default trust bundle location (DESIGN §2). */
#define DEFAULT_BUNDLE_NAME "spire-bundle"
#define DEFAULT_BUNDLE_NS "spire-system"
#define DEFAULT_BUNDLE_KEY "bundle.spiffe"

/* Splits "kind/ns/name" into the three parts (each buffer `len` bytes). 0 ok, -1 malformed. */
int policy_key_split(const char *key, char *kind, char *ns, char *name, size_t len);

/*
 * The objects a policy depends on, as a JSON array of "Kind/ns/name"
 * strings (sorted, unique). NULL on allocation failure or a non-policy.
 */
json_t *ref_index_refs_of(const json_t *policy);

typedef struct ref_index ref_index;

ref_index *ref_index_new(void);
void ref_index_free(ref_index *ix);

/* Records (or replaces) a policy's references. 0 ok, -1 allocation failure / not a policy. */
int ref_index_put(ref_index *ix, const json_t *policy);

/* Forgets a policy by key. */
void ref_index_remove(ref_index *ix, const char *key);

/* Policy keys an event on `obj` concerns (array of strings, sorted, unique). */
json_t *ref_index_keys_for(ref_index *ix, const json_t *obj);

/* Every known policy key (array of strings, sorted). */
json_t *ref_index_all_keys(ref_index *ix);

/*
 * The race rule (DESIGN §3) from the index, without copying policies: the
 * oldest other policy of the same kind and Gateway, not being deleted, older
 * than `policy` (creationTimestamp, then name), that claims the same thing —
 * for AIRoutingPolicy a model name (copied into `model`), for AIAccessPolicy
 * the Gateway itself. Returns 1 and its name in `winner`, or 0 when none.
 */
int ref_index_conflict(ref_index *ix, const json_t *policy, char *winner, size_t wlen, char *model,
                       size_t mlen);

/* True when a policy of `kind`, not being deleted, targets Gateway ns/name. */
bool ref_index_gateway_has(ref_index *ix, const char *kind, const char *ns, const char *gateway);

#endif
