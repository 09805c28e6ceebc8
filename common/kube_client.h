/*
 * kube_client: a Kubernetes API client over libcurl.
 *
 *   kube_client_global_init();                       once, at process start (cmd/)
 *   kube_client *kc = kube_client_new(NULL, NULL, &opts, err, sizeof err);
 *   kube_get(kc, "v1", "Secret", "team-a", "openai", &obj, &kerr);
 *   kube_apply(kc, desired, "aigw", 1, &live, &kerr);
 *   kube_client_free(kc);
 *
 * Configuration comes from a kubeconfig (current or named context; token,
 * tokenFile, client certificate/key and CA as data or file) or from the
 * in-cluster service account (KUBERNETES_SERVICE_HOST/PORT, token re-read when
 * the file changes, ca.crt). Exec and auth-provider plugins are refused with a
 * clear error.
 *
 * Threads: one kube_client may be used from any number of threads at once.
 * It keeps a pool of libcurl easy handles (each keeps its connections alive,
 * so sequential requests reuse TLS connections); a request borrows one for
 * its duration. The QPS/burst token bucket is shared by all threads.
 *
 * Errors: functions return 0 on success and -1 on failure with a kube_error
 * filled in. http_code is the HTTP status (reason and message come from the
 * metav1.Status body when there is one); http_code 0 means no HTTP answer
 * (transport error, timeout: see `transport`, `timed_out`).
 *
 * Retries: 429 is retried after Retry-After (all verbs: the server did not
 * act); 5xx, timeouts and transport failures are retried with exponential
 * backoff for idempotent requests (GET, LIST, PUT, DELETE, merge-patch,
 * server-side apply); POST (create) is retried only when the connection was
 * never made. A 409 on a forced server-side apply cannot be a field-manager
 * conflict, so it is retried too; every other 409 is returned to the caller.
 * A watch is retried like a GET until its stream has started (200); after
 * that, resuming is the caller's (kube_reflector does it).
 *
 * Ownership: json_t out-parameters are new references the caller decrefs;
 * json_t inputs are borrowed. Strings in kube_config are owned by it.
 */
#ifndef AIGW_COMMON_KUBE_CLIENT_H
#define AIGW_COMMON_KUBE_CLIENT_H

#include "common/object_source.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* ---- errors ---- */

typedef struct {
    int http_code;     /* HTTP status; 0 = no HTTP answer */
    int transport;     /* 1: the request failed below HTTP (connect, TLS, reset, timeout) */
    int timed_out;     /* 1: the per-request timeout or the caller's deadline passed */
    char reason[64];   /* metav1.Status reason ("NotFound", "Conflict", "Expired", ...) */
    char message[512]; /* metav1.Status message, or the transport error */
} kube_error;

/* Clears an error value. */
void kube_error_clear(kube_error *e);

/* "404 NotFound: secrets \"x\" not found" / "transport: ..." into buf. Returns buf. */
const char *kube_error_format(const kube_error *e, char *buf, size_t len);

/* ---- configuration ---- */

typedef struct {
    char *server; /* https://host:port (no trailing slash) */
    char *ca_pem; /* CA bundle, PEM text, or NULL for the system store */
    size_t ca_pem_len;
    int insecure; /* insecure-skip-tls-verify */
    char *tls_server_name;
    char *token;      /* static bearer token, or NULL */
    char *token_file; /* re-read when it changes, or NULL */
    char *client_cert_pem;
    size_t client_cert_len;
    char *client_key_pem; /* never logged */
    size_t client_key_len;
    char *ns; /* the context's namespace, or NULL */
} kube_config;

void kube_config_free(kube_config *cfg);

/*
 * Parses kubeconfig text. `context` NULL means current-context. File
 * references (certificate-authority, client-certificate, client-key,
 * tokenFile) are resolved relative to `base_dir` and read now (except
 * tokenFile, which is read per request). `source` names the text in errors.
 */
int kube_config_parse(const char *text, size_t len, const char *source, const char *base_dir,
                      const char *context, kube_config *out, char *err, size_t errlen);

/* Reads and parses a kubeconfig file. */
int kube_config_load_file(const char *path, const char *context, kube_config *out, char *err,
                          size_t errlen);

/*
 * In-cluster configuration: KUBERNETES_SERVICE_HOST/PORT and the service
 * account folder `sa_dir` (NULL = /var/run/secrets/kubernetes.io/serviceaccount:
 * token, ca.crt, namespace).
 */
int kube_config_in_cluster(const char *sa_dir, kube_config *out, char *err, size_t errlen);

/* ---- client ---- */

typedef struct kube_client kube_client;

/* Called after every HTTP attempt: verb is get, list, watch, create, update, patch, apply,
 * delete, discovery; code is the HTTP status, 0 when there was none. Any thread. */
typedef void (*kube_observer_fn)(const char *verb, int code, void *userdata);

typedef struct {
    double qps;                /* sustained requests per second; 0 = default 50, < 0 = no limit */
    int burst;                 /* bucket size; 0 = default 100 */
    long timeout_ms;           /* per attempt; 0 = default 30000 */
    long connect_timeout_ms;   /* 0 = default 5000 */
    int max_retries;           /* 0 = default 5; -1 = none */
    long backoff_base_ms;      /* 0 = default 100 */
    long backoff_max_ms;       /* 0 = default 10000 */
    long retry_after_max_ms;   /* longest Retry-After honoured; 0 = default 60000 */
    const char *user_agent;    /* NULL = "aigw/<version>" */
    kube_observer_fn observer; /* may be NULL */
    void *observer_data;
} kube_client_options;

/* curl_global_init; call once from main before any thread starts. 0 or -1. */
int kube_client_global_init(void);
void kube_client_global_cleanup(void);

/* A client for a parsed configuration (copied). opts may be NULL. */
kube_client *kube_client_new_config(const kube_config *cfg, const kube_client_options *opts,
                                    char *err, size_t errlen);

/*
 * The usual lookup: `kubeconfig` (a path) when given, else $KUBECONFIG when
 * set, else in-cluster when KUBERNETES_SERVICE_HOST is set, else
 * ~/.kube/config. `context` NULL = current-context.
 */
kube_client *kube_client_new(const char *kubeconfig, const char *context,
                             const kube_client_options *opts, char *err, size_t errlen);

void kube_client_free(kube_client *kc);

/* The configured default namespace ("default" when none). Borrowed. */
const char *kube_client_namespace(const kube_client *kc);

/* ---- discovery ---- */

typedef struct {
    char group[128]; /* "" for the core group */
    char version[64];
    char resource[128]; /* plural: "secrets", "airoutingpolicies" */
    int namespaced;
} kube_resource;

/*
 * Maps apiVersion + kind to the resource: a built-in table for the kinds aigw
 * uses, then /api and /apis discovery (cached per client; a miss refreshes the
 * cache once, so CRDs created later are found). 404 reason NotFound when the
 * server does not serve the kind.
 */
int kube_resolve(kube_client *kc, const char *api_version, const char *kind, kube_resource *out,
                 kube_error *err);

/* GET /version: the server's version document. */
int kube_version(kube_client *kc, json_t **out, kube_error *err);

/* ---- reads ---- */

int kube_get(kube_client *kc, const char *api_version, const char *kind, const char *ns,
             const char *name, json_t **out, kube_error *err);

typedef struct {
    const char *label_selector; /* NULL = all */
    const char *field_selector; /* NULL = all */
    long limit;                 /* page size; 0 = 500 */
} kube_list_options;

/*
 * Lists `kind` in `ns` (NULL = all namespaces), following `continue` until the
 * last page. *out is {"apiVersion","kind":"<Kind>List","metadata":{"resourceVersion"},
 * "items":[...]} with every item's apiVersion and kind set. A 410 while paging
 * restarts the list from the beginning (once).
 */
int kube_list(kube_client *kc, const char *api_version, const char *kind, const char *ns,
              const kube_list_options *opts, json_t **out, kube_error *err);

/* ---- writes ---- */

/* POST: creates `obj` (its apiVersion, kind, metadata.namespace, metadata.name). */
int kube_create(kube_client *kc, const json_t *obj, json_t **out, kube_error *err);

/* PUT: replaces `obj` (optimistic concurrency through metadata.resourceVersion). */
int kube_update(kube_client *kc, const json_t *obj, json_t **out, kube_error *err);

/* PUT .../status: replaces the status subresource. */
int kube_update_status(kube_client *kc, const json_t *obj, json_t **out, kube_error *err);

/*
 * Server-side apply: PATCH application/apply-patch+yaml with fieldManager
 * and force. `subresource` NULL or "status".
 */
int kube_apply(kube_client *kc, const json_t *obj, const char *field_manager, int force,
               json_t **out, kube_error *err);
int kube_apply_subresource(kube_client *kc, const json_t *obj, const char *subresource,
                           const char *field_manager, int force, json_t **out, kube_error *err);

/* PATCH application/merge-patch+json; `subresource` NULL or "status". out may be NULL. */
int kube_merge_patch(kube_client *kc, const char *api_version, const char *kind, const char *ns,
                     const char *name, const char *subresource, const json_t *patch, json_t **out,
                     kube_error *err);

/*
 * DELETE with propagationPolicy (NULL = server default; "Foreground",
 * "Background", "Orphan"). A missing object is an error with http_code 404.
 */
int kube_delete(kube_client *kc, const char *api_version, const char *kind, const char *ns,
                const char *name, const char *propagation_policy, kube_error *err);

/* ---- watch ---- */

typedef enum {
    KUBE_WATCH_ADDED,
    KUBE_WATCH_MODIFIED,
    KUBE_WATCH_DELETED,
    KUBE_WATCH_BOOKMARK,
    KUBE_WATCH_ERROR,
} kube_watch_type;

/* One event; `object` is borrowed for the call. Return 0 to go on, non-zero to stop. */
typedef int (*kube_watch_fn)(kube_watch_type type, json_t *object, void *userdata);

typedef struct {
    const char *label_selector;
    const char *field_selector;
    const char *resource_version; /* resume point; NULL/"" = "from now" semantics of the server */
    int allow_bookmarks;          /* ask for BOOKMARK events */
    long timeout_seconds;         /* server-side timeoutSeconds; 0 = 300 */
    const volatile int *stop;     /* when *stop becomes non-zero the watch ends (any thread) */
} kube_watch_options;

/*
 * One watch request: streams events to fn until the server closes the stream
 * (returns 0), fn returns non-zero (returns 0), *stop is set (returns 0), or an
 * error (returns -1; an HTTP 410 answer has http_code 410, reason Expired).
 * Reconnection and resume are the caller's (see kube_reflector in kube_watch.h).
 */
int kube_watch(kube_client *kc, const char *api_version, const char *kind, const char *ns,
               const kube_watch_options *opts, kube_watch_fn fn, void *userdata, kube_error *err);

/* ---- raw ---- */

/*
 * Any request: `path` starts with "/" and carries its query. `body` may be
 * NULL. On any HTTP answer returns 0 with *code and *resp (NUL-terminated,
 * caller frees) — also for 4xx/5xx, after retries; -1 only for transport
 * failures. For tests and tools.
 */
int kube_request_raw(kube_client *kc, const char *method, const char *path,
                     const char *content_type, const char *body, size_t body_len, long *code,
                     char **resp, size_t *resp_len, kube_error *err);

/* ---- object source over the API server ---- */

/*
 * An object_source whose get/list go to the API server (deadline_ms bounds
 * each call). The client is borrowed and must outlive the source.
 */
object_source *object_source_kube_new(kube_client *kc);

#endif
