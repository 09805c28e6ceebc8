/*
 * label_selector: Kubernetes label selectors matched against an object's
 * metadata.labels, as the API server does for ?labelSelector=. Supported:
 * "k=v", "k==v", "k!=v", "k", "!k", "k in (a,b)", "k notin (a,b)", joined by
 * commas (all must hold). Pure; no allocation survives a call.
 */
#ifndef AIGW_COMMON_LABEL_SELECTOR_H
#define AIGW_COMMON_LABEL_SELECTOR_H

#include <jansson.h>
#include <stddef.h>

/*
 * Sets *match to 1 when `labels` (a JSON object of strings, or NULL for none)
 * satisfies `selector` (NULL or "" matches everything). Returns 0, or -1 with
 * a one-line reason in err when the selector does not parse.
 */
int label_selector_match(const char *selector, const json_t *labels, int *match, char *err,
                         size_t errlen);

#endif
