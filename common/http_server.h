/*
 * http_server: an HTTP(S) server on libmicrohttpd (GnuTLS) for aigw's
 * endpoints. It owns the parts every endpoint needs and nothing of what they
 * mean:
 *
 *   - TLS 1.2+ only (credentials in common/tls_store), the pair read from files and reloaded
 *     when they change (checked every reload_interval_ms; a changed pair is
 *     loaded once it has been stable for one interval), without restart and
 *     without failing requests in flight. A pair that does not load, whose key
 *     does not match, or that is not valid now keeps the old one and logs an
 *     error. Or a fixed pair given as PEM text (dev mode).
 *   - Plain HTTP sent to the TLS port gets "400 Client sent an HTTP request to
 *     an HTTPS server." and is closed (connections are accepted here, the
 *     first byte is peeked, and TLS ones are handed to libmicrohttpd).
 *   - A thread pool sized to the cores, HTTP/1.1 keep-alive with a long idle
 *     timeout between requests (longer than the API server's 90 s, so it never
 *     reuses a connection the server is closing), a short one while a request
 *     is being received (a client that stalls mid-request is cut off), and a
 *     bound on the total time spent receiving one request.
 *   - Routes by exact path; 404 for unknown paths, 405 (with Allow) for other
 *     methods, 415 when a JSON route gets another Content-Type, 413 when the
 *     body is over max_body (from Content-Length before reading anything, or
 *     as soon as streamed bytes pass the limit). Every error is one line of
 *     text/plain.
 *   - Graceful stop: stop accepting, let requests in flight finish (bounded),
 *     then close the rest.
 *
 * Ownership: the config and everything it points to (routes, handler
 * contexts, strings) are borrowed and must outlive the server, except the PEM
 * strings, which are copied. A handler puts a malloc'ed body in its
 * http_response; the server frees it. Errors: start returns NULL with a
 * one-line reason in err.
 */
#ifndef AIGW_COMMON_HTTP_SERVER_H
#define AIGW_COMMON_HTTP_SERVER_H

#include <stddef.h>

/* What a handler sees. Strings are borrowed for the call. */
typedef struct {
    const char *method;
    const char *path;
    const char *content_type; /* NULL when absent */
    const char *body;         /* NUL-terminated; "" when there is none */
    size_t body_len;
} http_request;

/* What a handler fills. Defaults: 200, application/json, no body. */
typedef struct {
    int status;
    const char *content_type; /* static string */
    char *body;               /* malloc'ed; taken by the server */
    size_t body_len;
} http_response;

typedef void (*http_handler_fn)(void *ctx, const http_request *req, http_response *resp);

typedef struct {
    const char *path;   /* exact match: "/validate" */
    const char *method; /* "GET" (HEAD is answered too) or "POST" */
    int json_body;      /* POST: Content-Type must be application/json */
    http_handler_fn handler;
    void *ctx;
} http_route;

typedef struct {
    const char *name;   /* for logs: "webhook", "metrics" */
    const char *listen; /* "127.0.0.1:9443", "[::1]:9443", ":9443", "0.0.0.0:0" (any port) */
    int tls;            /* 0 = plain HTTP */
    const char *cert_file, *key_file; /* TLS from files (reloaded) ... */
    const char *cert_pem, *key_pem;   /* ... or from memory (when cert_file is NULL) */
    unsigned reload_interval_ms;      /* 0 = 2000 */
    size_t max_body;                  /* 0 = 7 MiB */
    unsigned threads;                 /* 0 = one per core */
    unsigned conn_timeout_s;          /* a request stalled this long is cut off; 0 = 10 */
    unsigned idle_timeout_s;          /* keep-alive idle between requests; 0 = 120 */
    unsigned request_timeout_s;       /* receiving one request, total; 0 = 30 */
    unsigned drain_timeout_s;         /* graceful stop bound; 0 = 20 */
    const http_route *routes;
    size_t n_routes;
} http_server_config;

typedef struct http_server http_server;

/* Binds, loads the TLS pair and starts serving. NULL with err on failure. */
http_server *http_server_start(const http_server_config *cfg, char *err, size_t errlen);

/* The bound TCP port (useful with port 0). */
int http_server_port(const http_server *srv);

/* Requests being handled right now. */
unsigned http_server_in_flight(const http_server *srv);

/*
 * Graceful stop: closes the listening socket, answers new requests on open
 * connections with "Connection: close", waits until no request is in flight
 * (at most drain_timeout_s), then stops the threads and frees everything.
 * NULL is allowed.
 */
void http_server_stop(http_server *srv);

/* Sets a response (takes `body`, malloc'ed, may be NULL). */
void http_response_set(http_response *resp, int status, const char *content_type, char *body,
                       size_t len);

/* A one-line text/plain error: the formatted text plus "\n". */
void http_response_error(http_response *resp, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
