/*
 * inject_objects: the JSON the injector adds to a pod: the two sidecar
 * containers, the three volumes, the app's mounts and env entries. Internal
 * to injector/ (inject.c decides, this file only builds values). Pure.
 *
 * Every function returns a new reference, NULL on allocation failure.
 */
#ifndef AIGW_INJECTOR_INJECT_OBJECTS_H
#define AIGW_INJECTOR_INJECT_OBJECTS_H

#include "injector/inject_config.h"

#include <jansson.h>

/* The spiffe-helper sidecar; restartPolicy Always when native. */
json_t *inject_helper_container(const inject_config *cfg, int native);

/* The ghostunnel client sidecar towards `target` ("host:port"). */
json_t *inject_egress_container(const inject_config *cfg, int native, const char *target);

/* Volumes: CSI SPIFFE socket, in-memory SVID dir, the gateway CA ConfigMap. */
json_t *inject_socket_volume(const inject_config *cfg);
json_t *inject_svid_volume(const inject_config *cfg);
json_t *inject_ca_volume(const inject_config *cfg, const char *configmap);

/* {name, mountPath, readOnly: true}. */
json_t *inject_mount(const char *volume, const char *path);

/* {name, value}. */
json_t *inject_env(const char *name, const char *value);

#endif
