/*
 * serve_lookups: the object source `aigw serve` gives the /validate handler
 * (webhook_context.objects): a directory of YAML/JSON files (--objects DIR)
 * or the API server through a kubeconfig (--kubeconfig FILE; an empty FILE
 * means $KUBECONFIG, else the in-cluster service account, else ~/.kube/config).
 *
 * Ownership: the returned source owns everything it created (for the API
 * server, the kube client too); free it with object_source_free().
 */
#ifndef AIGW_WEBHOOK_SERVE_LOOKUPS_H
#define AIGW_WEBHOOK_SERVE_LOOKUPS_H

#include "common/object_source.h"

#include <stddef.h>

/*
 * objects_dir non-NULL: a directory source. Else kubeconfig non-NULL: the
 * API server that kubeconfig names (an empty string means the usual lookup:
 * $KUBECONFIG, in-cluster, ~/.kube/config). Both NULL: the in-cluster API
 * server when running in a pod (KUBERNETES_SERVICE_HOST set), else NULL with
 * err empty (no lookups). On failure returns NULL with the reason in err.
 */
object_source *serve_lookups_open(const char *objects_dir, const char *kubeconfig, char *err,
                                  size_t errlen);

#endif
