/*
 * inject_objects: the JSON the injector adds to a pod: the two sidecar
 * containers, the three volumes, the app's mounts and env entries. Internal
 * to injector/ (inject.c decides, this file only writes values). Pure.
 *
 * Every function appends one compact JSON value to b; an allocation failure
 * (or a missing config string) sets b->failed.
 */
#ifndef AIGW_INJECTOR_INJECT_OBJECTS_H
#define AIGW_INJECTOR_INJECT_OBJECTS_H

#include "common/jv.h"
#include "injector/inject_config.h"

/* The spiffe-helper sidecar; restartPolicy Always when native. */
void inject_helper_container(jbuf *b, const inject_config *cfg, int native);

/* The ghostunnel client sidecar towards `target` ("host:port"). */
void inject_egress_container(jbuf *b, const inject_config *cfg, int native, const char *target);

/* Volumes: CSI SPIFFE socket, in-memory SVID dir, the gateway CA ConfigMap. */
void inject_socket_volume(jbuf *b, const inject_config *cfg);
void inject_svid_volume(jbuf *b, const inject_config *cfg);
void inject_ca_volume(jbuf *b, const inject_config *cfg, const char *configmap);

/* {name, mountPath, readOnly: true}. */
void inject_mount(jbuf *b, const char *volume, const char *path);

/* {name, value}. */
void inject_env(jbuf *b, const char *name, const char *value);

#endif
