/*
 * inject_serve: the injector as `aigw serve` runs it. Builds the runtime
 * (injector config file, reloaded on change), fills its cache once from an
 * --objects directory, or keeps it in step with the API server through the
 * watches of injector/inject_watch (--kubeconfig, or in-cluster when running
 * in a pod), and asks the server version for nativeSidecars auto.
 *
 * Ownership: the returned runtime owns its feed (watch threads, kube client);
 * inject_runtime_free() stops and frees everything.
 */
#ifndef AIGW_INJECTOR_INJECT_SERVE_H
#define AIGW_INJECTOR_INJECT_SERVE_H

#include "injector/runtime.h"

#include <stddef.h>

typedef struct {
    const char *objects_dir; /* --objects: cache loaded once from these files */
    const char *kubeconfig;  /* --kubeconfig ("" = $KUBECONFIG / in-cluster / ~/.kube/config) */
    const char *config_path; /* --injector-config, NULL = built-in defaults */
    int native_override;     /* --native-sidecars, -1 = the config's */
} inject_serve_options;

/*
 * Returns the running injector, or NULL: with err empty when there is nothing
 * to feed a cache from (no --objects, no --kubeconfig, not in a pod: injection
 * off), with the reason in err on failure.
 */
inject_runtime *inject_serve_open(const inject_serve_options *o, char *err, size_t errlen);

#endif
