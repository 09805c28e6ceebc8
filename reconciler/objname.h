/*
 * objname: names, labels and owner references of the objects aigw generates
 * (DESIGN §5). Shared by the intent, the renderer and the reconcile loop
 * (which finds its objects by these labels).
 *
 *   objname_join("team-a", "openai")      -> "team-a-openai"
 *   objname_join(<250 chars>, "openai")   -> "<first 242 chars>-3f9c2a1b7e"  (<= 253)
 *   objname_label_value(<70 chars>)       -> "<first 52 chars>-3f9c2a1b7e"  (<= 63)
 *
 * Long values are shortened to a prefix plus "-" and the first 10 hex digits
 * of the SHA-256 of the full value, so the result is stable, unique in
 * practice, and still readable. Shortened names never end in '-' or '.'
 * before the suffix.
 *
 * Ownership: every returned string is malloc'ed and freed by the caller;
 * NULL means allocation failure. Pure: no I/O, no globals.
 */
#ifndef AIGW_RECONCILER_OBJNAME_H
#define AIGW_RECONCILER_OBJNAME_H

#include <jansson.h>
#include <stddef.h>

#define OBJNAME_MAX 253      /* DNS-1123 subdomain */
#define OBJNAME_LABEL_MAX 63 /* label value */
#define OBJNAME_HASH_HEX 10  /* hex digits of the hash suffix */

#define OBJNAME_LABEL_MANAGED_BY "app.kubernetes.io/managed-by"
#define OBJNAME_LABEL_POLICY "aigateway.kagenti.dev/policy"
#define OBJNAME_LABEL_POLICY_KIND "aigateway.kagenti.dev/policy-kind"
#define OBJNAME_MANAGER "aigw"

/* The first `n` (<= 64) lowercase hex digits of SHA-256(data) into out (n+1 bytes). */
void objname_hash_hex(const char *data, size_t len, size_t n, char *out);

/*
 * `s` if it has at most `max` characters, else a prefix of it, trimmed of
 * trailing '-' and '.', plus "-<hash of s>", exactly fitting `max`.
 */
char *objname_shorten(const char *s, size_t max);

/* "<base>-<suffix>" shortened to OBJNAME_MAX. suffix NULL gives base alone. */
char *objname_join(const char *base, const char *suffix);

/* A label value for `s`: s itself when <= 63 chars, else shortened. */
char *objname_label_value(const char *s);

/*
 * The deterministic placeholder uid `aigw render` uses for a policy without
 * metadata.uid: a UUID (version 8 layout) made of SHA-256("aigw-render:" ns
 * "/" kind "/" name). out receives 37 bytes.
 */
void objname_placeholder_uid(const char *ns, const char *kind, const char *name, char out[37]);

/*
 * The labels object every generated object carries. New reference; NULL on
 * allocation failure.
 */
json_t *objname_labels(const char *policy_name, const char *policy_kind);

/*
 * The label selector that finds every object generated for one policy:
 * "app.kubernetes.io/managed-by=aigw,aigateway.kagenti.dev/policy=<v>,
 *  aigateway.kagenti.dev/policy-kind=<kind>". Caller frees.
 */
char *objname_selector(const char *policy_name, const char *policy_kind);

/*
 * metadata for a generated object: {name, namespace, labels, ownerReferences:
 * [{apiVersion, kind, name, uid, controller: true, blockOwnerDeletion: true}]}.
 * New reference; NULL on allocation failure.
 */
json_t *objname_metadata(const char *name, const char *ns, const char *policy_api_version,
                         const char *policy_kind, const char *policy_name, const char *policy_uid);

#endif
