/*
 * http_server: libmicrohttpd wrapper (see http_server.h).
 *
 * Threads: libmicrohttpd's pool (epoll, one thread per core) serves the
 * connections; one acceptor thread owns the listening socket and hands
 * connections over with MHD_add_connection() (after peeking at the first byte
 * on a TLS port, so plain HTTP gets a readable 400 instead of a TLS alert).
 *
 * TLS credentials and their reload live in common/tls_store; the GnuTLS
 * certificate callback selects from the server's store at each handshake.
 */
#include "common/http_server.h"
#include "common/errbuf.h"

#include "common/log.h"
#include "common/tls_store.h"

#include <microhttpd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX_BODY ((size_t)7 * 1024 * 1024)
#define MAX_PENDING 512    /* accepted TLS-port connections not yet classified */
#define PENDING_INITIAL 16 /* the pending table grows on demand up to MAX_PENDING */
#define MAX_TLS_SERVERS 8

/* TLS 1.2 and 1.3 only, AEAD ciphers only. */
static const char tls_priorities[] =
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:"
    "+CHACHA20-POLY1305:-MAC-ALL:+AEAD";

static const char plain_to_tls_reply[] =
    "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
    "Connection: close\r\nContent-Length: 48\r\n\r\n"
    "Client sent an HTTP request to an HTTPS server.\n";

typedef struct {
    int fd;
    int closing; /* answered (plain HTTP): reading until EOF, then close */
    int64_t deadline_ms;
    struct sockaddr_storage addr;
    socklen_t addrlen;
} pending_conn;

struct http_server {
    http_server_config cfg;
    char *name;
    struct MHD_Daemon *daemon;
    int listen_fd;
    int port;
    int wake_fd; /* eventfd: stop the acceptor */
    atomic_int stopping;
    atomic_int draining;
    atomic_uint in_flight;

    pthread_t acceptor;
    int acceptor_started;
    pending_conn *pending; /* TLS servers only; grown on demand (idle RSS) */
    size_t n_pending, pending_cap;

    tls_store *tls;
};

/* Per request: which route, the body so far, when it started. */
typedef struct {
    const http_route *route;
    char *body;
    size_t len, cap;
    int64_t start_ms;
    int answered; /* an error was queued before the body was read */
} request_state;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned stall_timeout(const http_server *srv)
{
    return srv->cfg.conn_timeout_s ? srv->cfg.conn_timeout_s : 10;
}

static unsigned idle_timeout(const http_server *srv)
{
    return srv->cfg.idle_timeout_s ? srv->cfg.idle_timeout_s : 120;
}

/* ---- TLS servers by port, for the certificate callback ------------------------------------ */

/*
 * GnuTLS's certificate callback gets only the session, and libmicrohttpd sets
 * no user pointer on it; the session's transport is the socket, whose local
 * port names the server. Registered servers live in this small table.
 */
static _Atomic(http_server *) tls_servers[MAX_TLS_SERVERS];

static int tls_register(http_server *srv)
{
    for (int i = 0; i < MAX_TLS_SERVERS; i++) {
        http_server *expected = NULL;
        if (atomic_compare_exchange_strong(&tls_servers[i], &expected, srv)) {
            return 0;
        }
    }
    return -1;
}

static void tls_unregister(http_server *srv)
{
    for (int i = 0; i < MAX_TLS_SERVERS; i++) {
        http_server *expected = srv;
        atomic_compare_exchange_strong(&tls_servers[i], &expected, NULL);
    }
}

static http_server *tls_server_for(gnutls_session_t session)
{
    int fd = gnutls_transport_get_int(session);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len = sizeof ss;
    int port = -1;
    if (fd >= 0 && getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET) {
            port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        }
    }
    http_server *only = NULL;
    int count = 0;
    for (int i = 0; i < MAX_TLS_SERVERS; i++) {
        http_server *s = atomic_load(&tls_servers[i]);
        if (s == NULL) {
            continue;
        }
        if (s->port == port) {
            return s;
        }
        only = s;
        count++;
    }
    return count == 1 ? only : NULL;
}

static int cert_callback(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                         const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                         gnutls_pcert_st **pcert, unsigned int *pcert_length,
                         gnutls_privkey_t *privkey)
{
    (void)req_ca_dn;
    (void)nreqs;
    (void)pk_algos;
    (void)pk_algos_length;
    http_server *srv = tls_server_for(session);
    return srv != NULL ? tls_store_select(srv->tls, pcert, pcert_length, privkey) : -1;
}

/* ---- listening and accepting --------------------------------------------------------------- */

/* Splits "host:port", "[v6]:port" or ":port". */
static int split_listen(const char *listen, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon = strrchr(listen, ':');
    if (colon == NULL || colon[1] == '\0' || strlen(colon + 1) >= portlen) {
        return -1;
    }
    const char *h = listen;
    size_t hlen = (size_t)(colon - listen);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    if (hlen >= hostlen) {
        return -1;
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    snprintf(port, portlen, "%s", colon + 1);
    for (const char *p = port; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') {
            return -1;
        }
    }
    return 0;
}

static int open_listener(const char *addr, int *port_out, char *err, size_t errlen)
{
    char host[256], port[16];
    if (split_listen(addr, host, sizeof host, port, sizeof port) != 0) {
        errbuf_set(err, errlen, "invalid listen address \"%.100s\": want HOST:PORT", addr);
        return -1;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (gai != 0) {
        errbuf_set(err, errlen, "listen address %.100s: %s", addr, gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    int saved = 0;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
            saved = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        errbuf_set(err, errlen, "listen on %.100s: %s", addr, strerror(saved));
        return -1;
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &len);
    *port_out = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                         : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

static void hand_to_mhd(http_server *srv, const pending_conn *pc)
{
    /* libmicrohttpd owns (and closes) the socket from here on, even on failure. */
    if (MHD_add_connection(srv->daemon, pc->fd, (const struct sockaddr *)&pc->addr, pc->addrlen) !=
        MHD_YES) {
        log_debug("connection refused by the server pool", "server", srv->name, (char *)NULL);
    }
}

static void drop_pending(http_server *srv, size_t i)
{
    srv->pending[i] = srv->pending[--srv->n_pending];
}

/* Reads and discards what is there; returns 1 at EOF or error. */
static int drain_input(int fd)
{
    char buf[4096];
    for (int i = 0; i < 16; i++) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0) {
            return 1;
        }
        if (n < 0) {
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : 1;
        }
    }
    return 0;
}

/* A TLS-port connection sent its first byte: TLS goes to libmicrohttpd, HTTP gets a 400. */
static void classify_pending(http_server *srv, size_t i)
{
    pending_conn *pc = &srv->pending[i];
    if (pc->closing) {
        if (drain_input(pc->fd)) {
            close(pc->fd);
            drop_pending(srv, i);
        }
        return;
    }
    unsigned char first = 0;
    ssize_t n = recv(pc->fd, &first, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return;
    }
    if (n == 1 && first == 0x16) { /* TLS handshake record */
        pending_conn copy = *pc;
        drop_pending(srv, i);
        hand_to_mhd(srv, &copy);
        return;
    }
    if (n == 1 && ((first >= 'A' && first <= 'Z') || (first >= 'a' && first <= 'z'))) {
        drain_input(pc->fd);
        (void)send(pc->fd, plain_to_tls_reply, sizeof plain_to_tls_reply - 1,
                   MSG_NOSIGNAL | MSG_DONTWAIT);
        shutdown(pc->fd, SHUT_WR);
        pc->closing = 1;
        pc->deadline_ms = now_ms() + 1000;
        return;
    }
    close(pc->fd);
    drop_pending(srv, i);
}

/* Room for one more pending connection: 0, or -1 when full or out of memory. */
static int pending_reserve(http_server *srv)
{
    if (srv->n_pending < srv->pending_cap) {
        return 0;
    }
    if (srv->pending_cap >= MAX_PENDING) {
        return -1;
    }
    size_t cap = srv->pending_cap ? srv->pending_cap * 2 : PENDING_INITIAL;
    if (cap > MAX_PENDING) {
        cap = MAX_PENDING;
    }
    pending_conn *p = realloc(srv->pending, cap * sizeof *p);
    if (p == NULL) {
        /* Accepting resumes as pending connections are handed over or time out. */
        log_debug("acceptor: out of memory for pending connections", "server", srv->name,
                  (char *)NULL);
        return -1;
    }
    srv->pending = p;
    srv->pending_cap = cap;
    return 0;
}

static void accept_ready(http_server *srv)
{
    while (srv->n_pending < MAX_PENDING) {
        if (srv->cfg.tls && pending_reserve(srv) != 0) {
            return;
        }
        pending_conn pc;
        memset(&pc, 0, sizeof pc);
        pc.addrlen = sizeof pc.addr;
        pc.fd = accept4(srv->listen_fd, (struct sockaddr *)&pc.addr, &pc.addrlen,
                        SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (pc.fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                log_error("accept failed: out of file descriptors", "server", srv->name,
                          (char *)NULL);
            }
            return;
        }
        if (!srv->cfg.tls) {
            hand_to_mhd(srv, &pc);
            continue;
        }
        pc.deadline_ms = now_ms() + (int64_t)stall_timeout(srv) * 1000;
        srv->pending[srv->n_pending++] = pc;
    }
}

static void *acceptor_main(void *arg)
{
    http_server *srv = arg;
    struct pollfd *pfds = calloc(MAX_PENDING + 2, sizeof *pfds);
    if (pfds == NULL) {
        log_error("acceptor: out of memory", "server", srv->name, (char *)NULL);
        return NULL;
    }
    while (!atomic_load(&srv->stopping)) {
        size_t n = 0;
        pfds[n++] = (struct pollfd){srv->wake_fd, POLLIN, 0};
        int listening = srv->n_pending < MAX_PENDING;
        if (listening) {
            pfds[n++] = (struct pollfd){srv->listen_fd, POLLIN, 0};
        }
        size_t first_pending = n;
        int64_t now = now_ms(), next = now + 1000;
        for (size_t i = 0; i < srv->n_pending; i++) {
            pfds[n++] = (struct pollfd){srv->pending[i].fd, POLLIN, 0};
            if (srv->pending[i].deadline_ms < next) {
                next = srv->pending[i].deadline_ms;
            }
        }
        int r = poll(pfds, (nfds_t)n, next > now ? (int)(next - now) : 0);
        if (r < 0 && errno != EINTR) {
            log_error("acceptor: poll failed", "server", srv->name, "error", strerror(errno),
                      (char *)NULL);
            break;
        }
        if (pfds[0].revents != 0) {
            break;
        }
        /* Walk pending connections from the end: drop_pending moves the last one into i. */
        now = now_ms();
        for (size_t k = srv->n_pending; k-- > 0;) {
            short ev = pfds[first_pending + k].revents;
            if (ev != 0) {
                classify_pending(srv, k);
            } else if (srv->pending[k].deadline_ms <= now) {
                close(srv->pending[k].fd); /* sent nothing in time */
                drop_pending(srv, k);
            }
        }
        if (listening && pfds[1].revents != 0) {
            accept_ready(srv);
        }
    }
    for (size_t i = 0; i < srv->n_pending; i++) {
        close(srv->pending[i].fd);
    }
    srv->n_pending = 0;
    free(pfds);
    return NULL;
}

/* ---- requests -------------------------------------------------------------------------------- */

void http_response_set(http_response *resp, int status, const char *content_type, char *body,
                       size_t len)
{
    free(resp->body);
    resp->status = status;
    resp->content_type = content_type;
    resp->body = body;
    resp->body_len = body != NULL ? len : 0;
}

void http_response_error(http_response *resp, int status, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    if (vsnprintf(line, sizeof line - 1, fmt, ap) < 0) {
        line[0] = '\0';
    }
    va_end(ap);
    size_t len = strlen(line);
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)line[i] < 0x20) {
            line[i] = ' ';
        }
    }
    line[len++] = '\n';
    line[len] = '\0';
    char *body = malloc(len + 1);
    if (body != NULL) {
        memcpy(body, line, len + 1);
    }
    http_response_set(resp, status, "text/plain; charset=utf-8", body, body ? len : 0);
}

static enum MHD_Result send_response(http_server *srv, struct MHD_Connection *conn,
                                     http_response *resp)
{
    struct MHD_Response *r;
    if (resp->body != NULL) {
        r = MHD_create_response_from_buffer(resp->body_len, resp->body, MHD_RESPMEM_MUST_FREE);
        if (r == NULL) {
            free(resp->body);
        }
    } else {
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    resp->body = NULL;
    if (r == NULL) {
        return MHD_NO; /* out of memory: close the connection */
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp->content_type ? resp->content_type : "application/json");
    if (atomic_load(&srv->draining)) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    }
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_error(http_server *srv, struct MHD_Connection *conn, int status,
                                  const char *allow, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static enum MHD_Result send_error(http_server *srv, struct MHD_Connection *conn, int status,
                                  const char *allow, const char *fmt, ...)
{
    char line[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    http_response resp = {0};
    http_response_error(&resp, status, "%s", line);
    if (resp.body == NULL) {
        return MHD_NO;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(resp.body_len, resp.body, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(resp.body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp.content_type);
    if (allow != NULL) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    }
    if (atomic_load(&srv->draining)) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    }
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static int is_json_type(const char *ct)
{
    if (ct == NULL) {
        return 0;
    }
    while (*ct == ' ') {
        ct++;
    }
    static const char want[] = "application/json";
    if (strncasecmp(ct, want, sizeof want - 1) != 0) {
        return 0;
    }
    ct += sizeof want - 1;
    while (*ct == ' ') {
        ct++;
    }
    return *ct == '\0' || *ct == ';';
}

static const http_route *find_route(const http_server *srv, const char *path, int *path_known,
                                    const char **allow)
{
    *path_known = 0;
    for (size_t i = 0; i < srv->cfg.n_routes; i++) {
        const http_route *r = &srv->cfg.routes[i];
        if (strcmp(r->path, path) == 0) {
            *path_known = 1;
            *allow = strcmp(r->method, "GET") == 0 ? "GET, HEAD" : r->method;
            return r;
        }
    }
    return NULL;
}

/* The first call for a request: route, method, Content-Type and Content-Length checks. */
static enum MHD_Result start_request(http_server *srv, struct MHD_Connection *conn, const char *url,
                                     const char *method, request_state *st)
{
    int known = 0;
    const char *allow = NULL;
    const http_route *route = find_route(srv, url, &known, &allow);
    if (route == NULL) {
        st->answered = 1;
        return send_error(srv, conn, MHD_HTTP_NOT_FOUND, NULL, "404 page not found");
    }
    int is_get_route = strcmp(route->method, "GET") == 0;
    if (strcmp(method, route->method) != 0 && !(is_get_route && strcmp(method, "HEAD") == 0)) {
        st->answered = 1;
        return send_error(srv, conn, MHD_HTTP_METHOD_NOT_ALLOWED, allow,
                          "method not allowed: %s accepts %s only", route->path, route->method);
    }
    st->route = route;
    /* While a request is being received, a stall is cut off quickly. */
    MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, stall_timeout(srv));
    if (route->json_body &&
        !is_json_type(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type"))) {
        st->answered = 1;
        return send_error(srv, conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, NULL,
                          "unsupported Content-Type: want application/json");
    }
    size_t max = srv->cfg.max_body ? srv->cfg.max_body : DEFAULT_MAX_BODY;
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    if (cl != NULL) {
        char *end = NULL;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno != 0 || end == cl || n > max) {
            st->answered = 1;
            return send_error(srv, conn, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
                              "request body too large: the limit is %zu bytes", max);
        }
        if (n > 0) {
            st->body = malloc((size_t)n + 1);
            if (st->body == NULL) {
                return MHD_NO;
            }
            st->cap = (size_t)n + 1;
        }
    }
    return MHD_YES;
}

/* More body bytes: append, enforcing the size and total-time limits. */
static enum MHD_Result add_body(http_server *srv, struct MHD_Connection *conn, request_state *st,
                                const char *data, size_t n)
{
    size_t max = srv->cfg.max_body ? srv->cfg.max_body : DEFAULT_MAX_BODY;
    unsigned total = srv->cfg.request_timeout_s ? srv->cfg.request_timeout_s : 30;
    if (now_ms() - st->start_ms > (int64_t)total * 1000) {
        log_debug("request took too long to arrive; closing", "server", srv->name, (char *)NULL);
        return MHD_NO;
    }
    if (n > max - st->len) {
        st->answered = 1;
        free(st->body);
        st->body = NULL;
        st->len = st->cap = 0;
        if (send_error(srv, conn, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
                       "request body too large: the limit is %zu bytes", max) != MHD_YES) {
            return MHD_NO; /* cannot answer mid-body: close instead of reading on */
        }
        return MHD_YES;
    }
    if (st->len + n + 1 > st->cap) {
        size_t cap = st->cap ? st->cap : 4096;
        while (cap < st->len + n + 1) {
            cap *= 2;
        }
        if (cap > max + 1) {
            cap = max + 1;
        }
        char *nb = realloc(st->body, cap);
        if (nb == NULL) {
            return MHD_NO;
        }
        st->body = nb;
        st->cap = cap;
    }
    memcpy(st->body + st->len, data, n);
    st->len += n;
    return MHD_YES;
}

static enum MHD_Result finish_request(http_server *srv, struct MHD_Connection *conn,
                                      const char *url, const char *method, request_state *st)
{
    http_request req = {
        .method = method,
        .path = url,
        .content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type"),
        .body = st->body != NULL ? st->body : "",
        .body_len = st->len,
    };
    if (st->body != NULL) {
        st->body[st->len] = '\0';
    }
    http_response resp = {200, "application/json", NULL, 0};
    st->route->handler(st->route->ctx, &req, &resp);
    return send_response(srv, conn, &resp);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    http_server *srv = cls;
    request_state *st = *con_cls;
    if (st == NULL) {
        st = calloc(1, sizeof *st);
        if (st == NULL) {
            return MHD_NO;
        }
        st->start_ms = now_ms();
        *con_cls = st;
        atomic_fetch_add(&srv->in_flight, 1);
        return start_request(srv, conn, url, method, st);
    }
    if (st->answered) {
        *upload_data_size = 0; /* only reached if libmicrohttpd reads on; nothing is kept */
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        return add_body(srv, conn, st, upload_data, n);
    }
    return finish_request(srv, conn, url, method, st);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    http_server *srv = cls;
    request_state *st = *con_cls;
    if (st == NULL) {
        return;
    }
    if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED) {
        log_info("connection timed out mid-request", "server", srv->name, (char *)NULL);
    } else if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK && st->route != NULL) {
        /* Back to the keep-alive idle timeout until the next request. */
        MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, idle_timeout(srv));
    }
    free(st->body);
    free(st);
    *con_cls = NULL;
    atomic_fetch_sub(&srv->in_flight, 1);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    const http_server *srv = cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' ')) {
        line[--n] = '\0';
    }
    /* libmicrohttpd reports client misbehaviour here (bad handshakes, resets): not our errors. */
    log_debug("libmicrohttpd", "server", srv->name, "detail", line, (char *)NULL);
}

/* ---- start and stop -------------------------------------------------------------------------- */

static unsigned default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 && n < 256 ? (unsigned)n : 1;
}

static int start_daemon(http_server *srv, char *err, size_t errlen)
{
    unsigned threads = srv->cfg.threads ? srv->cfg.threads : default_threads();
    unsigned timeout = idle_timeout(srv);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET |
                     MHD_USE_ITC | MHD_USE_ERROR_LOG;
    struct MHD_OptionItem opts[12];
    size_t n = 0;
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, timeout, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, srv};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_logger, srv};
    if (threads > 1) {
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, threads, NULL};
    }
    if (srv->cfg.tls) {
        flags |= MHD_USE_TLS;
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)tls_priorities};
        opts[n++] =
            (struct MHD_OptionItem){MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)cert_callback};
    }
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    srv->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_ARRAY, opts,
                                   MHD_OPTION_END);
    if (srv->daemon == NULL) {
        errbuf_set(err, errlen, "%s: libmicrohttpd failed to start", srv->name);
        return -1;
    }
    return 0;
}

static int open_tls(http_server *srv, const http_server_config *cfg, char *err, size_t errlen)
{
    if (cfg->cert_file != NULL) {
        unsigned interval = cfg->reload_interval_ms ? cfg->reload_interval_ms : 2000;
        srv->tls =
            tls_store_open_files(srv->name, cfg->cert_file, cfg->key_file, interval, err, errlen);
    } else {
        srv->tls = tls_store_open_pem(srv->name, cfg->cert_pem, cfg->key_pem, err, errlen);
    }
    return srv->tls != NULL ? 0 : -1;
}

http_server *http_server_start(const http_server_config *cfg, char *err, size_t errlen)
{
    http_server *srv = calloc(1, sizeof *srv);
    if (srv == NULL) {
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    srv->cfg = *cfg;
    srv->cfg.cert_pem = NULL; /* never kept: the credentials hold what is needed */
    srv->cfg.key_pem = NULL;
    srv->listen_fd = -1;
    srv->wake_fd = -1;
    srv->name = strdup(cfg->name ? cfg->name : "http");
    srv->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (srv->name == NULL || srv->wake_fd < 0 || (cfg->tls && pending_reserve(srv) != 0)) {
        errbuf_set(err, errlen, "out of memory or file descriptors");
        http_server_stop(srv);
        return NULL;
    }
    if (cfg->tls && open_tls(srv, cfg, err, errlen) != 0) {
        http_server_stop(srv);
        return NULL;
    }
    srv->listen_fd = open_listener(cfg->listen, &srv->port, err, errlen);
    if (srv->listen_fd < 0 || start_daemon(srv, err, errlen) != 0) {
        http_server_stop(srv);
        return NULL;
    }
    if (cfg->tls && tls_register(srv) != 0) {
        errbuf_set(err, errlen, "too many TLS servers in one process");
        http_server_stop(srv);
        return NULL;
    }
    if (pthread_create(&srv->acceptor, NULL, acceptor_main, srv) != 0) {
        errbuf_set(err, errlen, "cannot start the acceptor thread");
        http_server_stop(srv);
        return NULL;
    }
    srv->acceptor_started = 1;
    return srv;
}

int http_server_port(const http_server *srv)
{
    return srv != NULL ? srv->port : -1;
}

unsigned http_server_in_flight(const http_server *srv)
{
    return srv != NULL ? atomic_load(&srv->in_flight) : 0;
}

void http_server_stop(http_server *srv)
{
    if (srv == NULL) {
        return;
    }
    atomic_store(&srv->stopping, 1);
    atomic_store(&srv->draining, 1);
    if (srv->wake_fd >= 0) {
        uint64_t one = 1;
        (void)write(srv->wake_fd, &one, sizeof one);
    }
    if (srv->acceptor_started) {
        pthread_join(srv->acceptor, NULL);
    }
    if (srv->listen_fd >= 0) {
        close(srv->listen_fd); /* stop accepting: new connections are refused */
        srv->listen_fd = -1;
    }
    if (srv->daemon != NULL) {
        unsigned drain = srv->cfg.drain_timeout_s ? srv->cfg.drain_timeout_s : 20;
        int64_t deadline = now_ms() + (int64_t)drain * 1000;
        while (atomic_load(&srv->in_flight) > 0 && now_ms() < deadline) {
            struct timespec ts = {0, 10000000L};
            nanosleep(&ts, NULL);
        }
        if (atomic_load(&srv->in_flight) > 0) {
            log_warn("drain timeout: closing connections with requests in flight", "server",
                     srv->name, (char *)NULL);
        }
        MHD_stop_daemon(srv->daemon);
    }
    tls_unregister(srv);
    tls_store_close(srv->tls);
    if (srv->wake_fd >= 0) {
        close(srv->wake_fd);
    }
    free(srv->pending);
    free(srv->name);
    free(srv);
}
