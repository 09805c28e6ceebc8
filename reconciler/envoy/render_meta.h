/*
 * render_meta: the envelope every rendered object shares (apiVersion, kind,
 * metadata with labels and the controller ownerReference). Internal to the
 * envoy renderer.
 */
#ifndef AIGW_RECONCILER_ENVOY_RENDER_META_H
#define AIGW_RECONCILER_ENVOY_RENDER_META_H

#include "reconciler/intent.h"

#include <jansson.h>

/*
 * {apiVersion, kind, metadata, <body_key>: body}. Steals `body` (NULL allowed:
 * then NULL is returned). New reference; NULL on allocation failure.
 */
json_t *render_object(const intent_owner *owner, const char *api_version, const char *kind,
                      const char *name, const char *body_key, json_t *body);

/* Appends obj (stolen) to arr; 1 on success, 0 when obj is NULL or on failure. */
int render_append(json_t *arr, json_t *obj);

#endif
