/*
 * kube_client_internal: deadline-aware variants used by object_source_kube and
 * the reflector. Not part of the public face (see kube_client.h).
 * deadline_ms is an absolute objsrc_now_ms() time; 0 = none.
 */
#ifndef AIGW_COMMON_KUBE_CLIENT_INTERNAL_H
#define AIGW_COMMON_KUBE_CLIENT_INTERNAL_H

#include "common/kube_client.h"

int kube_get_until(kube_client *kc, const char *api_version, const char *kind, const char *ns,
                   const char *name, int64_t deadline_ms, json_t **out, kube_error *err);

int kube_list_until(kube_client *kc, const char *api_version, const char *kind, const char *ns,
                    const kube_list_options *opts, int64_t deadline_ms, json_t **out,
                    kube_error *err);

#endif
