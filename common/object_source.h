/*
 * object_source: where the validator, injector, renderer and CLI read the
 * cluster objects they depend on (Secrets, ConfigMaps, Gateways, Services,
 * other policies). One interface, two implementations:
 *
 *   - the API server, through common/kube_client (aigw serve / reconcile);
 *   - a directory of YAML/JSON files (--objects DIR, the offline commands).
 *
 * Objects are plain jansson values shaped exactly like the API server returns
 * them. Ownership: every json_t returned through an out-parameter is a new
 * reference the caller must json_decref(). Error text goes to `err` (one line,
 * never a Secret's value).
 *
 * Deadlines: `deadline_ms` is an absolute CLOCK_MONOTONIC time in milliseconds
 * (see objsrc_now_ms()); 0 means no deadline. Validation gives all lookups of
 * one admission request one shared budget.
 */
#ifndef AIGW_COMMON_OBJECT_SOURCE_H
#define AIGW_COMMON_OBJECT_SOURCE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    OBJSRC_OK = 0,
    OBJSRC_NOT_FOUND = 1, /* the object (or, for list, the kind) does not exist */
    OBJSRC_ERROR = -1,    /* I/O, API server or parse error: see err */
    OBJSRC_TIMEOUT = -2,  /* the deadline passed */
} objsrc_status;

typedef struct object_source object_source;

/* The operations an implementation provides. */
typedef struct {
    objsrc_status (*get)(object_source *src, const char *api_version, const char *kind,
                         const char *ns, const char *name, int64_t deadline_ms, json_t **out,
                         char *err, size_t errlen);
    objsrc_status (*list)(object_source *src, const char *api_version, const char *kind,
                          const char *ns, const char *label_selector, int64_t deadline_ms,
                          json_t **items_out, char *err, size_t errlen);
    void (*destroy)(object_source *src);
} object_source_ops;

struct object_source {
    const object_source_ops *ops;
    const char *name; /* "apiserver" or "dir:<path>", for messages */
};

/* Current CLOCK_MONOTONIC time in milliseconds. */
int64_t objsrc_now_ms(void);

/*
 * Gets one object. `ns` is NULL for cluster-scoped kinds.
 * api_version is "v1", "gateway.networking.k8s.io/v1", ...
 */
objsrc_status object_source_get(object_source *src, const char *api_version, const char *kind,
                                const char *ns, const char *name, int64_t deadline_ms, json_t **out,
                                char *err, size_t errlen);

/*
 * Lists objects of a kind: `ns` NULL means all namespaces; `label_selector`
 * NULL or a Kubernetes equality selector ("a=b,c!=d,e"). *items_out is a JSON
 * array (possibly empty) sorted by namespace then name.
 */
objsrc_status object_source_list(object_source *src, const char *api_version, const char *kind,
                                 const char *ns, const char *label_selector, int64_t deadline_ms,
                                 json_t **items_out, char *err, size_t errlen);

/* Frees the source; NULL is allowed. */
void object_source_free(object_source *src);

/*
 * Opens a directory source: loads every *.yaml, *.yml and *.json file below
 * `dir` (recursively; multi-document YAML and `kind: List` allowed). A file that
 * does not parse, or a document without apiVersion/kind/metadata.name, fails the
 * whole open with an error naming the file and line. Returns NULL on error.
 */
object_source *object_source_dir_open(const char *dir, char *err, size_t errlen);

/*
 * Like object_source_dir_open, over already-loaded objects (an array of
 * objects; borrowed, copied). For tests and for the CLI reading stdin.
 */
object_source *object_source_mem_new(const json_t *objects, char *err, size_t errlen);

#endif
