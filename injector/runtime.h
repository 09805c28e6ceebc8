/*
 * runtime: the injector's live state for `aigw serve` and `aigw inject`:
 * the injector config (loaded from a YAML file at start, reloaded when the
 * file changes; a bad file keeps the last good config and is logged), and an
 * in-memory cache of Namespaces (labels) and AIAccessPolicies (gateway,
 * status.endpoint, CA ConfigMap name). Admission reads only this cache: no
 * API call per pod.
 *
 * The cache is fed either once from an object source (--objects DIR, or any
 * object_source list) or by a watch (a reflector calls
 * inject_runtime_replace() after each list and inject_runtime_apply_event()
 * for each event). It is ready after the first complete sync.
 *
 * Thread safety: every function may be called from any thread; planning takes
 * a read lock, cache updates and config swaps a write lock.
 *
 * Ownership: inputs are borrowed and copied; the runtime is freed with
 * inject_runtime_free().
 */
#ifndef AIGW_INJECTOR_RUNTIME_H
#define AIGW_INJECTOR_RUNTIME_H

#include "common/object_source.h"
#include "injector/inject.h"

#include <jansson.h>
#include <stddef.h>

typedef struct inject_runtime inject_runtime;

typedef struct {
    const char *config_path; /* YAML injector config; NULL = built-in defaults */
    int native_override;     /* -1 = the config's nativeSidecars; else an inject_native_mode */
    int reload_interval_ms;  /* config file poll period for inject_runtime_start() (0 = 2000) */
} inject_runtime_options;

/* Loads the config (a bad file here is an error). NULL with err on failure. */
inject_runtime *inject_runtime_new(const inject_runtime_options *opts, char *err, size_t errlen);

/* Stops the reload thread if started and frees everything; NULL is allowed. */
void inject_runtime_free(inject_runtime *rt);

/* Starts the thread that polls the config file's mtime. 0 or -1. */
int inject_runtime_start(inject_runtime *rt);

/*
 * Checks the config file now: 1 = reloaded, 0 = unchanged (or no file),
 * -1 = changed but rejected (the last good config stays; logged).
 */
int inject_runtime_reload_config(inject_runtime *rt);

/*
 * The API server's /version document ({"major":"1","minor":"33+",...}); with
 * nativeSidecars auto, 1.33+ means native sidecars. Without a call (offline)
 * auto means native. Returns 0, or -1 when the document has no usable version
 * (auto then keeps meaning native and the caller should log it).
 */
int inject_runtime_set_server_version(inject_runtime *rt, const json_t *version_doc);

/* 1 when sidecars are injected as native sidecars with the current config. */
int inject_runtime_native(inject_runtime *rt);

/*
 * Loads every Namespace and AIAccessPolicy from `src` (all namespaces) into
 * the cache, replacing it, and marks the cache synced. 0 or -1 with err.
 */
int inject_runtime_load(inject_runtime *rt, object_source *src, char *err, size_t errlen);

/*
 * Replaces every cached object of `kind` ("Namespace" or "AIAccessPolicy")
 * with `items` (a JSON array of objects). After both kinds were replaced
 * once, the cache is synced. 0, or -1 on allocation failure / unknown kind.
 */
int inject_runtime_replace(inject_runtime *rt, const char *kind, const json_t *items);

/*
 * One watch event: type "ADDED", "MODIFIED" or "DELETED"; `kind`
 * ("Namespace" or "AIAccessPolicy", NULL = the object's own kind) selects the
 * cache. 0, or -1 on allocation failure / unknown kind or type.
 */
int inject_runtime_apply_event(inject_runtime *rt, const char *kind, const char *type,
                               const json_t *obj);

/*
 * Hands the runtime the thing that feeds its cache (a watch): `stop(feed)` is
 * called first thing in inject_runtime_free(), before the cache goes away.
 */
void inject_runtime_set_feed(inject_runtime *rt, void *feed, void (*stop)(void *feed));

/* inject_runtime_ready() for webhook_server_config.ready (arg is the runtime). */
int inject_runtime_ready_cb(void *rt);

/*
 * Declares that the namespace cache holds exactly the opted-in namespaces (a
 * watch with the label selector aigateway.kagenti.dev/inject=enabled): a
 * namespace that is absent is then not opted in, rather than unknown.
 */
void inject_runtime_set_opted_in_only(inject_runtime *rt, int on);

/* Marks the cache synced as it is (the CLI without --objects). */
void inject_runtime_mark_synced(inject_runtime *rt);

/* 1 once the first sync is complete. */
int inject_runtime_ready(inject_runtime *rt);

/*
 * Plans the injection of `pod` (namespace `ns`, or the pod's own when NULL)
 * with the cached state. Before the first sync the pod is skipped with a
 * warning. 0 or -1 on allocation failure (see inject_plan()).
 */
int inject_runtime_plan(inject_runtime *rt, const jv *pod, const char *ns, inject_result *out);

/* "<policy>-gateway-ca", shortened with a hash past 253 bytes as the reconciler does. */
char *inject_ca_configmap_name(const char *policy);

#endif
