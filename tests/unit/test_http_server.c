/*
 * Tests for common/http_server over plain HTTP on a loopback port: routing,
 * method and Content-Type checks, the body limit, handler dispatch. TLS,
 * reload, stalls and draining are covered end to end by
 * tests/integration/test_serve*.sh.
 */
#include "common/http_server.h"
#include "tests/unit/unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* Answers 201 with "<method> <path> <body length>: <body>". */
static void echo_handler(void *ctx, const http_request *req, http_response *resp)
{
    int *calls = ctx;
    (*calls)++;
    size_t len = req->body_len + 128;
    char *body = malloc(len);
    if (body != NULL) {
        snprintf(body, len, "%s %s %zu: %s", req->method, req->path, req->body_len, req->body);
    }
    http_response_set(resp, 201, "text/plain", body, body != NULL ? strlen(body) : 0);
}

/* Sends a raw request on a fresh connection; returns the whole reply (caller frees). */
static char *roundtrip(int port, const char *request)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return NULL;
    }
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char *out = NULL;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        send(fd, request, strlen(request), MSG_NOSIGNAL) == (ssize_t)strlen(request)) {
        size_t cap = 8192, len = 0;
        out = calloc(1, cap);
        while (out != NULL && len + 1 < cap) {
            ssize_t n = recv(fd, out + len, cap - len - 1, 0);
            if (n <= 0) {
                break;
            }
            len += (size_t)n;
        }
    }
    close(fd);
    return out;
}

static int status_of(const char *reply)
{
    int code = 0;
    if (reply == NULL || sscanf(reply, "HTTP/1.%*d %d", &code) != 1) {
        return -1;
    }
    return code;
}

static const char *body_of(const char *reply)
{
    const char *p = reply != NULL ? strstr(reply, "\r\n\r\n") : NULL;
    return p != NULL ? p + 4 : "";
}

static int calls;
static http_route routes[2];

static http_server *start(size_t max_body)
{
    routes[0] = (http_route){"/echo", "POST", 1, echo_handler, &calls};
    routes[1] = (http_route){"/info", "GET", 0, echo_handler, &calls};
    http_server_config cfg = {
        .name = "unit",
        .listen = "127.0.0.1:0",
        .max_body = max_body,
        .threads = 2,
        .conn_timeout_s = 5,
        .drain_timeout_s = 2,
        .routes = routes,
        .n_routes = 2,
    };
    char err[256] = "";
    http_server *srv = http_server_start(&cfg, err, sizeof err);
    if (srv == NULL) {
        fprintf(stderr, "start: %s\n", err);
    }
    return srv;
}

static void check(int port, const char *request, int want_status, const char *want_body)
{
    char *reply = roundtrip(port, request);
    CU_ASSERT_EQUAL(status_of(reply), want_status);
    if (want_body != NULL) {
        CU_ASSERT_PTR_NOT_NULL(strstr(body_of(reply), want_body));
        if (strstr(body_of(reply), want_body) == NULL) {
            fprintf(stderr, "reply: %s\n", reply ? reply : "(none)");
        }
    }
    free(reply);
}

static void test_routes_and_checks(void)
{
    calls = 0;
    http_server *srv = start(64);
    CU_ASSERT_PTR_NOT_NULL_FATAL(srv);
    int port = http_server_port(srv);
    CU_ASSERT_TRUE(port > 0);

    check(port,
          "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          "Content-Length: 7\r\nConnection: close\r\n\r\n{\"a\":1}",
          201, "POST /echo 7: {\"a\":1}");
    /* Parameters after the media type are fine; the query string is not part of the path. */
    check(port,
          "POST /echo?timeout=5s HTTP/1.1\r\nHost: x\r\nContent-Type: application/JSON; "
          "charset=utf-8\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
          201, "POST /echo 2: {}");
    check(port,
          "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json-patch+json\r\n"
          "Content-Length: 2\r\nConnection: close\r\n\r\n[]",
          415, "application/json");
    check(port,
          "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", 415,
          NULL);
    check(port, "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405, "POST only");
    check(port, "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404,
          "404 page not found\n");
    check(port, "GET /info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 201, "GET /info 0: ");
    char *reply = roundtrip(port, "HEAD /info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CU_ASSERT_EQUAL(status_of(reply), 201);
    CU_ASSERT_STRING_EQUAL(body_of(reply), "");
    free(reply);
    reply = roundtrip(port, "DELETE /info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CU_ASSERT_EQUAL(status_of(reply), 405);
    CU_ASSERT_PTR_NOT_NULL(strstr(reply, "Allow: GET, HEAD\r\n"));
    free(reply);

    /* Over the limit by Content-Length: 413 with nothing of the body sent. */
    check(port,
          "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          "Content-Length: 65\r\nConnection: close\r\n\r\n",
          413, "the limit is 64 bytes\n");
    /* Exactly at the limit is fine. */
    char req[512];
    char body[65];
    memset(body, 'x', 64);
    body[64] = '\0';
    snprintf(req, sizeof req,
             "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             "Content-Length: 64\r\nConnection: close\r\n\r\n%s",
             body);
    check(port, req, 201, "POST /echo 64: ");
    /* Chunked past the limit: never handled. */
    int before = calls;
    reply = roundtrip(port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                            "28\r\n0123456789012345678901234567890123456789\r\n"
                            "28\r\n0123456789012345678901234567890123456789\r\n0\r\n\r\n");
    CU_ASSERT_NOT_EQUAL(status_of(reply), 201);
    CU_ASSERT_EQUAL(calls, before);
    free(reply);
    /* Chunked within the limit is read whole. */
    check(port,
          "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
          201, "POST /echo 2: {}");
    CU_ASSERT_EQUAL(http_server_in_flight(srv), 0);
    http_server_stop(srv);
    /* The port is closed after stop. */
    CU_ASSERT_PTR_NULL(roundtrip(port, "GET /info HTTP/1.1\r\n\r\n"));
}

static void test_keep_alive(void)
{
    calls = 0;
    http_server *srv = start(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(srv);
    /* Two requests on one connection, the second closing it. */
    char *reply = roundtrip(http_server_port(srv),
                            "GET /info HTTP/1.1\r\nHost: x\r\n\r\n"
                            "GET /info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(reply);
    const char *second = strstr(reply + 1, "HTTP/1.1 201");
    CU_ASSERT_PTR_NOT_NULL(second);
    CU_ASSERT_EQUAL(calls, 2);
    free(reply);
    http_server_stop(srv);
}

static void test_start_errors(void)
{
    http_server_config cfg = {.name = "bad", .listen = "nonsense", .routes = routes, .n_routes = 1};
    char err[256] = "";
    CU_ASSERT_PTR_NULL(http_server_start(&cfg, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "invalid listen address"));
    cfg.listen = "127.0.0.1:99999x";
    CU_ASSERT_PTR_NULL(http_server_start(&cfg, err, sizeof err));
    cfg.listen = "127.0.0.1:0";
    cfg.tls = 1; /* TLS without a pair */
    CU_ASSERT_PTR_NULL(http_server_start(&cfg, err, sizeof err));
    CU_ASSERT_TRUE(err[0] != '\0');
    http_server_stop(NULL);

    http_response resp = {0};
    http_response_error(&resp, 400, "two\nlines");
    CU_ASSERT_EQUAL(resp.status, 400);
    CU_ASSERT_STRING_EQUAL(resp.body, "two lines\n");
    CU_ASSERT_EQUAL(resp.body_len, 10);
    free(resp.body);
}

UNIT_SUITE(http_server, UNIT_CASE(test_routes_and_checks), UNIT_CASE(test_keep_alive),
           UNIT_CASE(test_start_errors))
