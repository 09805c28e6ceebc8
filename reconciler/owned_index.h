/*
 * owned_index: which generated objects exist for which policy, by the uid of
 * their controller ownerReference. Fed by the watches of the generated kinds
 * (metadata only: names, never a Secret's data), read when the reconciler
 * looks for objects a policy no longer wants, so that finding them costs no
 * API request and no scan of every cached object.
 *
 * Thread-safe. Ownership: inputs borrowed; returned arrays are new references.
 */
#ifndef AIGW_RECONCILER_OWNED_INDEX_H
#define AIGW_RECONCILER_OWNED_INDEX_H

#include <jansson.h>
#include <stdbool.h>

typedef struct owned_index owned_index;

owned_index *owned_index_new(void);
void owned_index_free(owned_index *ix);

/*
 * Records an object under its controller owner's uid (moving it when the
 * owner changed; forgetting it when it has no controller owner any more).
 * 0 ok, -1 allocation failure.
 */
int owned_index_put(owned_index *ix, const json_t *obj);

/*
 * True when the index records kind/ns/name with its controller ownerReference
 * carrying `uid` and the applied-hash annotation equal to `hash`: the object
 * already holds what aigw would apply, so it needs neither a read nor a write.
 */
bool owned_index_holds(owned_index *ix, const char *kind, const char *ns, const char *name,
                       const char *uid, const char *hash);

/* Forgets an object (by apiVersion/kind/namespace/name). */
void owned_index_remove(owned_index *ix, const json_t *obj);

/* Forgets every object of `kind` (before a relist rebuilds it). */
void owned_index_clear_kind(owned_index *ix, const char *kind);

/*
 * The objects owned by `uid`: array of {"apiVersion","kind","namespace","name"},
 * sorted by kind then name. Empty array when none; NULL on allocation failure.
 */
json_t *owned_index_list(owned_index *ix, const char *uid);

#endif
