/*
 * inject_watch: feeds an inject_runtime from the API server. At start it asks
 * GET /version once (nativeSidecars auto: 1.33+ means native), then runs two
 * reflectors (common/kube_watch), opted-in Namespaces (label selector
 * aigateway.kagenti.dev/inject=enabled) and AIAccessPolicies in all
 * namespaces, each on its own thread: every event updates the runtime's
 * cache, every completed (re)list replaces it. The runtime turns ready after
 * both first lists. Admission never calls the API server.
 *
 * Ownership: the runtime and client are borrowed and must outlive the watch;
 * inject_watch_stop() stops the threads and frees the watch.
 */
#ifndef AIGW_INJECTOR_INJECT_WATCH_H
#define AIGW_INJECTOR_INJECT_WATCH_H

#include "common/kube_client.h"
#include "injector/runtime.h"

#include <stddef.h>

typedef struct inject_watch inject_watch;

/* Starts the watches. NULL with err on failure (nothing left running). */
inject_watch *inject_watch_start(inject_runtime *rt, kube_client *kc, char *err, size_t errlen);

/* Stops both reflectors, joins their threads, frees; NULL is allowed. */
void inject_watch_stop(inject_watch *w);

#endif
