/*
 * server: the webhook's two HTTP servers, wired to the handlers.
 *
 *   HTTPS (default :9443)       POST /validate     -> webhook_handle_validate()
 *                               POST /mutate-pods  -> webhook_handle_mutate_pods()
 *   plain HTTP (default :8080)  GET /healthz, /readyz, /metrics
 *
 * For each admission request: parse the AdmissionReview (a malformed one gets
 * HTTP 400 with one line), call the handler, render the complete reply, count
 * it in aigw_admission_requests_total{webhook,kind,operation,result} and
 * aigw_admission_duration_seconds{webhook}, and log it (JSON lines: debug for
 * admitted requests, info for denials, warn for failures).
 *
 * Ownership: the config's pointers (context, registry, strings) are borrowed
 * and must outlive the server; the PEM strings are copied by http_server.
 */
#ifndef AIGW_WEBHOOK_SERVER_H
#define AIGW_WEBHOOK_SERVER_H

#include "common/metrics.h"
#include "webhook/handlers.h"

#include <stddef.h>

/* Extra readiness condition (e.g. "policy cache synced"); NULL = always ready once serving. */
typedef int (*webhook_ready_fn)(void *arg);

typedef struct {
    const char *listen;               /* HTTPS address, "0.0.0.0:9443" */
    const char *metrics_listen;       /* plain HTTP address, "0.0.0.0:8080" */
    const char *cert_file, *key_file; /* TLS pair from files (reloaded) ... */
    const char *cert_pem, *key_pem;   /* ... or in memory (dev) */
    size_t max_body;                  /* bytes; 0 = 7 MiB */
    unsigned threads;                 /* 0 = one per core */
    unsigned conn_timeout_s;          /* stalled request; 0 = 10 */
    unsigned idle_timeout_s;          /* keep-alive idle; 0 = 120 */
    unsigned request_timeout_s;       /* 0 = 30 */
    unsigned drain_timeout_s;         /* 0 = 20 */
    unsigned reload_interval_ms;      /* 0 = 2000 */
    const webhook_context *ctx;
    metrics_registry *metrics; /* required */
    const char *version;       /* aigw_build_info{version} */
    webhook_ready_fn ready;
    void *ready_arg;
} webhook_server_config;

typedef struct webhook_server webhook_server;

/* Registers the metrics, starts both servers. NULL with a one-line err on failure. */
webhook_server *webhook_server_start(const webhook_server_config *cfg, char *err, size_t errlen);

/* Bound ports (useful with port 0). */
int webhook_server_port(const webhook_server *ws);
int webhook_server_metrics_port(const webhook_server *ws);

/*
 * Graceful stop: /readyz turns 503, the HTTPS server stops accepting and
 * drains requests in flight, then the metrics server stops. NULL is allowed.
 */
void webhook_server_stop(webhook_server *ws);

#endif
