/*
 * kube_watch: the watch-stream decoder (pure) and the reflector that keeps a
 * local copy of a kind's objects in step with the API server.
 *
 * Decoder: the watch response is a stream of JSON objects, one per line
 * ({"type":"ADDED","object":{...}}), delivered in arbitrary chunks. Feed the
 * bytes as they arrive; each complete event goes to the callback. Lines longer
 * than the decoder's limit are an error (a hostile or broken server cannot
 * make us buffer without bound).
 *
 * Reflector (client-go's reflector + informer store in one): list, then watch
 * from the list's resourceVersion with bookmarks; every event updates the
 * store and calls the handlers; a dropped stream is resumed from the last
 * resourceVersion seen (bookmarks included); 410 Gone means relist, and the
 * relist is diffed against the store so handlers see exactly the adds,
 * updates and deletes that happened meanwhile. Transport errors reconnect
 * with exponential backoff. kube_reflector_run() blocks; any thread may call
 * kube_reflector_stop() and the readers (get/list/synced).
 *
 * Ownership: objects passed to handlers are borrowed for the call; get/list
 * return new references.
 */
#ifndef AIGW_COMMON_KUBE_WATCH_H
#define AIGW_COMMON_KUBE_WATCH_H

#include "common/kube_client.h"

#include <jansson.h>
#include <stddef.h>

/* ---- decoder ---- */

typedef struct kube_watch_decoder kube_watch_decoder;

/* max_line: the longest event accepted, in bytes (0 = 16 MiB). NULL on OOM. */
kube_watch_decoder *kube_watch_decoder_new(size_t max_line);
void kube_watch_decoder_free(kube_watch_decoder *dec);

/*
 * Feeds bytes. Calls fn for every complete event (object borrowed). Returns 0
 * when all bytes were consumed, the callback's non-zero value when it asked to
 * stop, or -1 on a malformed event / over-long line with the reason in err.
 * After -1 the decoder must not be fed again.
 */
int kube_watch_decoder_feed(kube_watch_decoder *dec, const char *buf, size_t len, kube_watch_fn fn,
                            void *userdata, char *err, size_t errlen);

/* Bytes held of an incomplete event (a stream that ends here was cut mid-event). */
size_t kube_watch_decoder_pending(const kube_watch_decoder *dec);

/* Parses "ADDED" etc.; -1 for an unknown type. */
int kube_watch_type_parse(const char *s, kube_watch_type *out);
const char *kube_watch_type_name(kube_watch_type t);

/* ---- reflector ---- */

typedef struct {
    void (*on_add)(const json_t *obj, void *userdata);
    void (*on_update)(const json_t *old_obj, const json_t *new_obj, void *userdata);
    void (*on_delete)(const json_t *obj, void *userdata);
    /* After every successful (re)list has been applied to the store. */
    void (*on_synced)(void *userdata);
} kube_reflector_handlers;

typedef struct {
    const char *label_selector;
    const char *field_selector;
    long watch_timeout_seconds; /* server-side timeout per watch; 0 = 300 */
    long backoff_base_ms;       /* 0 = 200 */
    long backoff_max_ms;        /* 0 = 30000 */
    long list_limit;            /* page size; 0 = 500 */
    /*
     * Optional: called on every object before it is stored (and before the
     * handlers see it), with the reflector's userdata; it may drop fields the
     * caller never reads (client-go's SetTransform), e.g. managedFields.
     */
    void (*transform)(json_t *obj, void *userdata);
} kube_reflector_options;

typedef struct {
    long lists;       /* successful lists (the first one included) */
    long relists_410; /* relists caused by 410 Gone */
    long watches;     /* watch requests started */
    long events;      /* ADDED/MODIFIED/DELETED events received */
    long bookmarks;
    long errors; /* failed requests (then backed off) */
} kube_reflector_stats;

typedef struct kube_reflector kube_reflector;

/* `ns` NULL = all namespaces. Strings are copied; kc is borrowed. NULL on OOM. */
kube_reflector *kube_reflector_new(kube_client *kc, const char *api_version, const char *kind,
                                   const char *ns, const kube_reflector_options *opts,
                                   const kube_reflector_handlers *handlers, void *userdata);

/* Runs until kube_reflector_stop(). Returns 0 (stopped) — errors are retried, not returned. */
int kube_reflector_run(kube_reflector *r);

/* Asks run() to return soon (an open watch is interrupted within about a second). */
void kube_reflector_stop(kube_reflector *r);

/* Frees a reflector that is not running. */
void kube_reflector_free(kube_reflector *r);

/* 1 once the first list has been applied. */
int kube_reflector_synced(kube_reflector *r);

/* A copy of the stored object, or NULL. `ns` "" or NULL for cluster-scoped. */
json_t *kube_reflector_get(kube_reflector *r, const char *ns, const char *name);

/*
 * The stored object itself (a new reference: json_decref it), or NULL. A
 * stored object is never changed (an event replaces it, the transform runs
 * before it is stored) and jansson's reference counts are atomic, so it costs
 * no copy; the caller must treat it as read-only.
 */
json_t *kube_reflector_get_shared(kube_reflector *r, const char *ns, const char *name);

/* Copies of every stored object, sorted by namespace/name. */
json_t *kube_reflector_list(kube_reflector *r);

/* The resourceVersion the next watch would resume from (copied into buf). */
void kube_reflector_resource_version(kube_reflector *r, char *buf, size_t len);

void kube_reflector_get_stats(kube_reflector *r, kube_reflector_stats *out);

#endif
