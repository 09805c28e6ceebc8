/*
 * apply: the reconcile loop's pure decisions about live objects (DESIGN §5).
 *
 *   - apply_stamp(): adds the annotation aigateway.kagenti.dev/applied-hash,
 *     the SHA-256 of the desired object as aigw would send it. A live object
 *     carrying the same hash already holds what aigw applied last time, so
 *     the write is skipped: a resync with no change makes zero writes.
 *   - apply_decide(): create / update / skip / name conflict for one desired
 *     object against the live one. A live object with no controller owner, or
 *     another one, is never overwritten (NameConflict).
 *   - apply_is_stale(): a live generated object the policy no longer wants is
 *     deleted only when its controller ownerReference carries that uid.
 *
 * Pure: no I/O, no globals. Ownership: inputs are borrowed; returned json_t
 * and strings are new and the caller's. NULL return means allocation failure.
 */
#ifndef AIGW_RECONCILER_APPLY_H
#define AIGW_RECONCILER_APPLY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define APPLY_HASH_ANNOTATION "aigateway.kagenti.dev/applied-hash"
#define APPLY_FINALIZER "aigateway.kagenti.dev/gateway-listeners"

typedef enum {
    APPLY_CREATE = 0,   /* absent: apply */
    APPLY_UPDATE = 1,   /* ours, content changed: apply */
    APPLY_SKIP = 2,     /* ours, same applied content: no write */
    APPLY_CONFLICT = 3, /* not ours (other controller or none): never write */
} apply_decision;

/* The hex SHA-256 (64 chars) of an object's canonical JSON, without the hash annotation. */
char *apply_content_hash(const json_t *obj);

/* A copy of `desired` carrying the hash annotation. */
json_t *apply_stamp(const json_t *desired);

/* The controller ownerReference of an object (borrowed) or NULL. */
const json_t *apply_controller_ref(const json_t *obj);

/* True when the object's controller ownerReference has this uid. */
bool apply_owned_by(const json_t *obj, const char *uid);

/*
 * Decision for `stamped` (from apply_stamp) against `live` (NULL when absent)
 * for the policy with `uid`. On APPLY_CONFLICT, `why` gets a one-line reason.
 */
apply_decision apply_decide(const json_t *stamped, const json_t *live, const char *uid, char *why,
                            size_t whylen);

/*
 * True when `live` (a generated object found by label) should be deleted:
 * owned by `uid` and its kind/name is not among `desired` (array of objects).
 */
bool apply_is_stale(const json_t *live, const char *uid, const json_t *desired);

#endif
