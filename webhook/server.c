/*
 * server: routes, admission plumbing, metrics and logs of `aigw serve` (see
 * server.h). The envelope is webhook/admission; what a request means is
 * webhook/handlers; this file only connects them to HTTP.
 *
 * Metric series are resolved once per label combination and cached in an
 * array of atomic pointers, so a request updates its counters without taking
 * any lock.
 */
#include "webhook/server.h"

#include "common/http_server.h"
#include "common/log.h"
#include "webhook/admission.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { WH_VALIDATE, WH_MUTATE, WH_COUNT };
static const char *const webhook_names[WH_COUNT] = {"validate", "mutate-pods"};

/* Label values are fixed sets, so a client cannot grow the series without bound. */
static const char *const kind_names[] = {"Pod", "AIRoutingPolicy", "AIAccessPolicy", "other",
                                         "unknown"};
#define N_KINDS (sizeof kind_names / sizeof kind_names[0])
static const char *const op_names[] = {"CREATE", "UPDATE", "DELETE", "CONNECT", "unknown"};
#define N_OPS (sizeof op_names / sizeof op_names[0])
enum { RES_ALLOWED, RES_PATCHED, RES_DENIED, RES_ERROR, RES_INVALID, RES_COUNT };
static const char *const result_names[RES_COUNT] = {"allowed", "patched", "denied", "error",
                                                    "invalid_request"};

struct webhook_server;

/* One route's context: which server and which admission handler. */
typedef struct {
    struct webhook_server *ws;
    int which;
} admission_route;

struct webhook_server {
    webhook_server_config cfg;
    http_server *https;
    http_server *plain;
    atomic_int ready;
    metric *requests;
    metric *duration;
    metric_series *duration_series[WH_COUNT];
    _Atomic(metric_series *) request_series[WH_COUNT][N_KINDS][N_OPS][RES_COUNT];
    admission_route routes_ctx[WH_COUNT];
    http_route https_routes[WH_COUNT];
    http_route plain_routes[3];
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Index of value among names[0..n-1]; `fallback` when absent or NULL. */
static size_t label_index(const char *const *names, size_t n, const char *value, size_t fallback)
{
    for (size_t i = 0; value != NULL && i < n; i++) {
        if (strcmp(names[i], value) == 0) {
            return i;
        }
    }
    return fallback;
}

static void count_request(webhook_server *ws, int which, const char *kind, const char *op,
                          int result, double seconds)
{
    /* Known kinds by name, any other kind "other", no kind (unparsed request) "unknown". */
    size_t k = kind == NULL ? N_KINDS - 1 : label_index(kind_names, N_KINDS - 2, kind, N_KINDS - 2);
    size_t o = label_index(op_names, N_OPS - 1, op, N_OPS - 1);
    _Atomic(metric_series *) *slot = &ws->request_series[which][k][o][result];
    metric_series *s = atomic_load_explicit(slot, memory_order_acquire);
    if (s == NULL) {
        const char *values[] = {webhook_names[which], kind_names[k], op_names[o],
                                result_names[result]};
        s = metric_with(ws->requests, values);
        atomic_store_explicit(slot, s, memory_order_release);
    }
    metric_series_add(s, 1);
    metric_series_observe(ws->duration_series[which], seconds);
}

static int result_of(const admission_request *req, const admission_response *resp)
{
    if (!resp->allowed) {
        return RES_DENIED;
    }
    int mutating = req->operation != NULL &&
                   (strcmp(req->operation, "CREATE") == 0 || strcmp(req->operation, "UPDATE") == 0);
    if (mutating && resp->patch != NULL && resp->patch_len > 2) {
        return RES_PATCHED;
    }
    return RES_ALLOWED;
}

static void log_admission(int which, const admission_request *req, int result, double seconds,
                          const admission_response *resp)
{
    log_level level = result == RES_DENIED ? LOG_INFO : result == RES_ERROR ? LOG_WARN : LOG_DEBUG;
    if (!log_enabled(level)) {
        return;
    }
    char ms[32];
    snprintf(ms, sizeof ms, "%.3f", seconds * 1000.0);
    log_event(level, "admission", "webhook", webhook_names[which], "uid", req->uid, "kind",
              req->kind, "namespace", req->ns, "name", req->name, "operation", req->operation,
              "result", result_names[result], "message", resp->message, "duration_ms", ms,
              (char *)NULL);
}

static void handle_admission(void *arg, const http_request *hr, http_response *out)
{
    const admission_route *route = arg;
    webhook_server *ws = route->ws;
    double start = now_seconds();
    admission_request req;
    char err[300] = "";
    if (admission_request_parse(hr->body, hr->body_len, &req, err, sizeof err) != 0) {
        if (req.oom) {
            http_response_error(out, 500, "internal error: out of memory");
            count_request(ws, route->which, NULL, NULL, RES_ERROR, now_seconds() - start);
            return;
        }
        http_response_error(out, 400, "invalid AdmissionReview: %s", err);
        count_request(ws, route->which, NULL, NULL, RES_INVALID, now_seconds() - start);
        log_info("invalid admission request", "webhook", webhook_names[route->which], "error", err,
                 (char *)NULL);
        return;
    }
    admission_response resp;
    admission_response_init(&resp);
    if (route->which == WH_VALIDATE) {
        webhook_handle_validate(ws->cfg.ctx, &req, &resp);
    } else {
        webhook_handle_mutate_pods(ws->cfg.ctx, &req, &resp);
    }
    size_t len = 0;
    char *body = admission_review_render(&req, &resp, &len);
    int result = result_of(&req, &resp);
    if (body == NULL) {
        result = RES_ERROR;
        http_response_error(out, 500,
                            "internal error: the AdmissionReview reply could not be built");
    } else {
        http_response_set(out, 200, "application/json", body, len);
    }
    double seconds = now_seconds() - start;
    count_request(ws, route->which, req.kind, req.operation, result, seconds);
    log_admission(route->which, &req, result, seconds, &resp);
    admission_response_free(&resp);
    admission_request_free(&req);
}

static char *dup_text(const char *s, size_t *len)
{
    *len = strlen(s);
    char *d = malloc(*len + 1);
    if (d != NULL) {
        memcpy(d, s, *len + 1);
    }
    return d;
}

static void handle_healthz(void *arg, const http_request *hr, http_response *out)
{
    (void)arg;
    (void)hr;
    size_t len;
    char *body = dup_text("ok\n", &len);
    http_response_set(out, 200, "text/plain; charset=utf-8", body, len);
}

static void handle_readyz(void *arg, const http_request *hr, http_response *out)
{
    (void)hr;
    const webhook_server *ws = arg;
    if (!atomic_load(&ws->ready)) {
        http_response_error(out, 503, "not ready: the webhook is starting or shutting down");
        return;
    }
    if (ws->cfg.ready != NULL && !ws->cfg.ready(ws->cfg.ready_arg)) {
        http_response_error(out, 503, "not ready: waiting for dependencies");
        return;
    }
    size_t len;
    char *body = dup_text("ok\n", &len);
    http_response_set(out, 200, "text/plain; charset=utf-8", body, len);
}

static void handle_metrics(void *arg, const http_request *hr, http_response *out)
{
    (void)hr;
    const webhook_server *ws = arg;
    size_t len = 0;
    char *text = metrics_render(ws->cfg.metrics, &len);
    if (text == NULL) {
        http_response_error(out, 500, "out of memory rendering metrics");
        return;
    }
    http_response_set(out, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

static int register_metrics(webhook_server *ws)
{
    static const char *const req_labels[] = {"webhook", "kind", "operation", "result"};
    static const char *const dur_labels[] = {"webhook"};
    static const char *const build_labels[] = {"version"};
    ws->requests = metrics_counter(ws->cfg.metrics, "aigw_admission_requests_total",
                                   "Admission requests answered, by webhook, object kind, "
                                   "operation and result.",
                                   req_labels, 4);
    ws->duration = metrics_histogram(
        ws->cfg.metrics, "aigw_admission_duration_seconds",
        "Time from a parsed request body to a rendered admission reply, in seconds.", dur_labels, 1,
        metrics_latency_buckets, metrics_latency_buckets_len);
    metric *build =
        metrics_gauge(ws->cfg.metrics, "aigw_build_info",
                      "Always 1; the version label is the running aigw version.", build_labels, 1);
    if (ws->requests == NULL || ws->duration == NULL || build == NULL) {
        return -1;
    }
    const char *version[] = {ws->cfg.version != NULL ? ws->cfg.version : "unknown"};
    metric_set(build, version, 1);
    for (int i = 0; i < WH_COUNT; i++) {
        const char *v[] = {webhook_names[i]};
        ws->duration_series[i] = metric_with(ws->duration, v);
        if (ws->duration_series[i] == NULL) {
            return -1;
        }
    }
    return 0;
}

static void build_routes(webhook_server *ws)
{
    for (int i = 0; i < WH_COUNT; i++) {
        ws->routes_ctx[i] = (admission_route){ws, i};
    }
    ws->https_routes[WH_VALIDATE] =
        (http_route){"/validate", "POST", 1, handle_admission, &ws->routes_ctx[WH_VALIDATE]};
    ws->https_routes[WH_MUTATE] =
        (http_route){"/mutate-pods", "POST", 1, handle_admission, &ws->routes_ctx[WH_MUTATE]};
    ws->plain_routes[0] = (http_route){"/healthz", "GET", 0, handle_healthz, ws};
    ws->plain_routes[1] = (http_route){"/readyz", "GET", 0, handle_readyz, ws};
    ws->plain_routes[2] = (http_route){"/metrics", "GET", 0, handle_metrics, ws};
}

webhook_server *webhook_server_start(const webhook_server_config *cfg, char *err, size_t errlen)
{
    webhook_server *ws = calloc(1, sizeof *ws);
    if (ws == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ws->cfg = *cfg;
    ws->cfg.cert_pem = NULL; /* borrowed for start only */
    ws->cfg.key_pem = NULL;
    if (cfg->metrics == NULL || register_metrics(ws) != 0) {
        snprintf(err, errlen, "cannot register the webhook metrics");
        free(ws);
        return NULL;
    }
    build_routes(ws);
    http_server_config plain = {
        .name = "metrics",
        .listen = cfg->metrics_listen,
        .threads = 1,
        .max_body = 4096,
        .conn_timeout_s = cfg->conn_timeout_s,
        .request_timeout_s = cfg->request_timeout_s,
        .drain_timeout_s = 2,
        .routes = ws->plain_routes,
        .n_routes = 3,
    };
    http_server_config https = {
        .name = "webhook",
        .listen = cfg->listen,
        .tls = 1,
        .cert_file = cfg->cert_file,
        .key_file = cfg->key_file,
        .cert_pem = cfg->cert_pem,
        .key_pem = cfg->key_pem,
        .reload_interval_ms = cfg->reload_interval_ms,
        .max_body = cfg->max_body,
        .threads = cfg->threads,
        .conn_timeout_s = cfg->conn_timeout_s,
        .idle_timeout_s = cfg->idle_timeout_s,
        .request_timeout_s = cfg->request_timeout_s,
        .drain_timeout_s = cfg->drain_timeout_s,
        .routes = ws->https_routes,
        .n_routes = WH_COUNT,
    };
    ws->plain = http_server_start(&plain, err, errlen);
    if (ws->plain == NULL) {
        free(ws);
        return NULL;
    }
    ws->https = http_server_start(&https, err, errlen);
    if (ws->https == NULL) {
        http_server_stop(ws->plain);
        free(ws);
        return NULL;
    }
    atomic_store(&ws->ready, 1);
    return ws;
}

int webhook_server_port(const webhook_server *ws)
{
    return ws != NULL ? http_server_port(ws->https) : -1;
}

int webhook_server_metrics_port(const webhook_server *ws)
{
    return ws != NULL ? http_server_port(ws->plain) : -1;
}

void webhook_server_stop(webhook_server *ws)
{
    if (ws == NULL) {
        return;
    }
    atomic_store(&ws->ready, 0);
    http_server_stop(ws->https);
    http_server_stop(ws->plain);
    free(ws);
}
