/*
 * kube_client: requests to the Kubernetes API over libcurl.
 *
 * Layers, bottom up:
 *   attempt()      one HTTP exchange on a pooled easy handle
 *   kc_call()      rate limit + retries (429 Retry-After, 5xx/timeouts backoff)
 *   paths          apiVersion/kind -> resource (built-in table, then discovery)
 *   verbs          get, list (pages), create, update, apply, patch, delete, watch
 *
 * The token file is stat()ed before every request and re-read when its mtime or
 * size changed (projected service-account tokens rotate hourly).
 */
#include "common/kube_client.h"

#include "common/field_errors.h"
#include "common/kube_client_internal.h"
#include "common/kube_watch.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#ifndef AIGW_VERSION
#define AIGW_VERSION "0.1.0"
#endif

#define POOL_MAX 8
#define MAX_RESPONSE ((size_t)512 * 1024 * 1024)
#define MAX_ERROR_BODY ((size_t)64 * 1024)

struct kube_client {
    kube_config cfg;
    kube_client_options opts;
    char *user_agent;
    pthread_mutex_t pool_mu;
    CURL *pool[POOL_MAX];
    int pool_n;
    pthread_mutex_t bucket_mu;
    double tokens;
    int64_t bucket_ms;
    pthread_mutex_t token_mu;
    char *file_token;
    struct timespec token_mtime;
    off_t token_size;
    pthread_mutex_t disc_mu;
    json_t *discovery; /* "group/version" -> APIResourceList resources array */
    atomic_uint seed;
};

/* ---- errors ---- */

void kube_error_clear(kube_error *e)
{
    if (e != NULL) {
        memset(e, 0, sizeof *e);
    }
}

const char *kube_error_format(const kube_error *e, char *buf, size_t len)
{
    if (e->http_code == 0) {
        snprintf(buf, len, "%s: %s", e->timed_out ? "timeout" : "transport error", e->message);
    } else {
        snprintf(buf, len, "%d %s: %s", e->http_code, e->reason[0] ? e->reason : "Error",
                 e->message);
    }
    return buf;
}

static void err_set(kube_error *e, int code, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void err_set(kube_error *e, int code, const char *reason, const char *fmt, ...)
{
    if (e == NULL) {
        return;
    }
    memset(e, 0, sizeof *e);
    e->http_code = code;
    snprintf(e->reason, sizeof e->reason, "%s", reason);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

static const char *reason_for_code(long code)
{
    switch (code) {
    case 400:
        return "BadRequest";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "NotFound";
    case 405:
        return "MethodNotAllowed";
    case 409:
        return "Conflict";
    case 410:
        return "Expired";
    case 413:
        return "RequestEntityTooLarge";
    case 415:
        return "UnsupportedMediaType";
    case 422:
        return "Invalid";
    case 429:
        return "TooManyRequests";
    case 500:
        return "InternalError";
    case 503:
        return "ServiceUnavailable";
    case 504:
        return "Timeout";
    default:
        return "";
    }
}

/* Fills e from an error answer: the metav1.Status when the body is one. */
static void err_from_response(kube_error *e, long code, const char *body, size_t len)
{
    if (e == NULL) {
        return;
    }
    memset(e, 0, sizeof *e);
    e->http_code = (int)code;
    json_t *st = body != NULL ? json_loadb(body, len, 0, NULL) : NULL;
    const char *reason = json_string_value(json_object_get(st, "reason"));
    const char *msg = json_string_value(json_object_get(st, "message"));
    snprintf(e->reason, sizeof e->reason, "%s",
             reason != NULL && reason[0] ? reason : reason_for_code(code));
    if (msg != NULL) {
        snprintf(e->message, sizeof e->message, "%s", msg);
    } else {
        size_t n = 0;
        for (size_t i = 0; body != NULL && i < len && n + 1 < sizeof e->message && n < 200; i++) {
            unsigned char c = (unsigned char)body[i];
            e->message[n++] = (char)(c < 0x20 || c == 0x7f ? ' ' : c);
        }
        e->message[n] = '\0';
        if (n == 0) {
            snprintf(e->message, sizeof e->message, "HTTP %ld", code);
        }
    }
    json_decref(st);
}

/* ---- process-wide ---- */

int kube_client_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void kube_client_global_cleanup(void)
{
    curl_global_cleanup();
}

/* ---- construction ---- */

static char *memdup0(const char *p, size_t len)
{
    if (p == NULL) {
        return NULL;
    }
    char *d = malloc(len + 1);
    if (d != NULL) {
        memcpy(d, p, len);
        d[len] = '\0';
    }
    return d;
}

static int config_copy(const kube_config *src, kube_config *dst)
{
    memset(dst, 0, sizeof *dst);
    dst->server = memdup0(src->server, src->server ? strlen(src->server) : 0);
    dst->ca_pem = memdup0(src->ca_pem, src->ca_pem_len);
    dst->ca_pem_len = src->ca_pem_len;
    dst->insecure = src->insecure;
    dst->token = memdup0(src->token, src->token ? strlen(src->token) : 0);
    dst->token_file = memdup0(src->token_file, src->token_file ? strlen(src->token_file) : 0);
    dst->client_cert_pem = memdup0(src->client_cert_pem, src->client_cert_len);
    dst->client_cert_len = src->client_cert_len;
    dst->client_key_pem = memdup0(src->client_key_pem, src->client_key_len);
    dst->client_key_len = src->client_key_len;
    dst->ns = memdup0(src->ns, src->ns ? strlen(src->ns) : 0);
    if (dst->server == NULL || (src->ca_pem && !dst->ca_pem) || (src->token && !dst->token) ||
        (src->token_file && !dst->token_file) || (src->client_cert_pem && !dst->client_cert_pem) ||
        (src->client_key_pem && !dst->client_key_pem) || (src->ns && !dst->ns)) {
        kube_config_free(dst);
        return -1;
    }
    return 0;
}

static void options_defaults(kube_client_options *o)
{
    if (o->qps == 0) {
        o->qps = 50;
    }
    if (o->burst <= 0) {
        o->burst = 100;
    }
    if (o->timeout_ms <= 0) {
        o->timeout_ms = 30000;
    }
    if (o->connect_timeout_ms <= 0) {
        o->connect_timeout_ms = 5000;
    }
    if (o->max_retries == 0) {
        o->max_retries = 5;
    } else if (o->max_retries < 0) {
        o->max_retries = 0;
    }
    if (o->backoff_base_ms <= 0) {
        o->backoff_base_ms = 100;
    }
    if (o->backoff_max_ms <= 0) {
        o->backoff_max_ms = 10000;
    }
    if (o->retry_after_max_ms <= 0) {
        o->retry_after_max_ms = 60000;
    }
}

kube_client *kube_client_new_config(const kube_config *cfg, const kube_client_options *opts,
                                    char *err, size_t errlen)
{
    if (cfg == NULL || cfg->server == NULL) {
        snprintf(err, errlen, "kube client: no server configured");
        return NULL;
    }
    if (cfg->tls_server_name != NULL) {
        snprintf(err, errlen, "kube client: tls-server-name is not supported");
        return NULL;
    }
    kube_client *kc = calloc(1, sizeof *kc);
    if (kc == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (opts != NULL) {
        kc->opts = *opts;
    }
    options_defaults(&kc->opts);
    kc->user_agent =
        kc->opts.user_agent != NULL ? strdup(kc->opts.user_agent) : strdup("aigw/" AIGW_VERSION);
    kc->opts.user_agent = kc->user_agent;
    kc->discovery = json_object();
    if (kc->user_agent == NULL || kc->discovery == NULL || config_copy(cfg, &kc->cfg) != 0) {
        free(kc->user_agent);
        json_decref(kc->discovery);
        free(kc);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&kc->pool_mu, NULL);
    pthread_mutex_init(&kc->bucket_mu, NULL);
    pthread_mutex_init(&kc->token_mu, NULL);
    pthread_mutex_init(&kc->disc_mu, NULL);
    kc->tokens = kc->opts.burst;
    kc->bucket_ms = objsrc_now_ms();
    atomic_store(&kc->seed, (unsigned)time(NULL) ^ (unsigned)(uintptr_t)kc);
    return kc;
}

kube_client *kube_client_new(const char *kubeconfig, const char *context,
                             const kube_client_options *opts, char *err, size_t errlen)
{
    kube_config cfg;
    int rc;
    const char *env = getenv("KUBECONFIG");
    char home_path[4096];
    if (kubeconfig != NULL && kubeconfig[0] != '\0') {
        rc = kube_config_load_file(kubeconfig, context, &cfg, err, errlen);
    } else if (env != NULL && env[0] != '\0') {
        if (strchr(env, ':') != NULL) {
            snprintf(err, errlen,
                     "KUBECONFIG with several files is not supported; use --kubeconfig");
            return NULL;
        }
        rc = kube_config_load_file(env, context, &cfg, err, errlen);
    } else if (getenv("KUBERNETES_SERVICE_HOST") != NULL) {
        rc = kube_config_in_cluster(NULL, &cfg, err, errlen);
    } else {
        const char *home = getenv("HOME");
        snprintf(home_path, sizeof home_path, "%s/.kube/config", home ? home : "");
        rc = kube_config_load_file(home_path, context, &cfg, err, errlen);
    }
    if (rc != 0) {
        return NULL;
    }
    kube_client *kc = kube_client_new_config(&cfg, opts, err, errlen);
    kube_config_free(&cfg);
    return kc;
}

void kube_client_free(kube_client *kc)
{
    if (kc == NULL) {
        return;
    }
    for (int i = 0; i < kc->pool_n; i++) {
        curl_easy_cleanup(kc->pool[i]);
    }
    kube_config_free(&kc->cfg);
    if (kc->file_token != NULL) {
        memset(kc->file_token, 0, strlen(kc->file_token));
        free(kc->file_token);
    }
    json_decref(kc->discovery);
    free(kc->user_agent);
    pthread_mutex_destroy(&kc->pool_mu);
    pthread_mutex_destroy(&kc->bucket_mu);
    pthread_mutex_destroy(&kc->token_mu);
    pthread_mutex_destroy(&kc->disc_mu);
    free(kc);
}

const char *kube_client_namespace(const kube_client *kc)
{
    return kc->cfg.ns != NULL && kc->cfg.ns[0] ? kc->cfg.ns : "default";
}

/* ---- handle pool ---- */

static CURL *pool_take(kube_client *kc)
{
    CURL *h = NULL;
    pthread_mutex_lock(&kc->pool_mu);
    if (kc->pool_n > 0) {
        h = kc->pool[--kc->pool_n];
    }
    pthread_mutex_unlock(&kc->pool_mu);
    if (h != NULL) {
        curl_easy_reset(h); /* keeps the live connections and TLS sessions */
        return h;
    }
    return curl_easy_init();
}

static void pool_give(kube_client *kc, CURL *h)
{
    pthread_mutex_lock(&kc->pool_mu);
    if (kc->pool_n < POOL_MAX) {
        kc->pool[kc->pool_n++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&kc->pool_mu);
    if (h != NULL) {
        curl_easy_cleanup(h);
    }
}

/* ---- time, rate limit, backoff ---- */

static void sleep_ms(int64_t ms)
{
    if (ms <= 0) {
        return;
    }
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/*
 * Takes one token from the bucket, sleeping until one is available. Returns -1
 * when the wait would pass the deadline.
 */
static int rate_limit_wait(kube_client *kc, int64_t deadline_ms)
{
    if (kc->opts.qps < 0) {
        return 0;
    }
    for (;;) {
        int64_t wait = 0;
        pthread_mutex_lock(&kc->bucket_mu);
        int64_t now = objsrc_now_ms();
        kc->tokens += (double)(now - kc->bucket_ms) * kc->opts.qps / 1000.0;
        if (kc->tokens > kc->opts.burst) {
            kc->tokens = kc->opts.burst;
        }
        kc->bucket_ms = now;
        if (kc->tokens >= 1.0) {
            kc->tokens -= 1.0;
        } else {
            wait = (int64_t)((1.0 - kc->tokens) * 1000.0 / kc->opts.qps) + 1;
        }
        pthread_mutex_unlock(&kc->bucket_mu);
        if (wait == 0) {
            return 0;
        }
        if (deadline_ms != 0 && objsrc_now_ms() + wait > deadline_ms) {
            return -1;
        }
        sleep_ms(wait);
    }
}

static int64_t backoff_ms(kube_client *kc, int attempt)
{
    int64_t d = kc->opts.backoff_base_ms;
    for (int i = 0; i < attempt && d < kc->opts.backoff_max_ms; i++) {
        d *= 2;
    }
    if (d > kc->opts.backoff_max_ms) {
        d = kc->opts.backoff_max_ms;
    }
    unsigned s = atomic_fetch_add(&kc->seed, 0x9e3779b9u);
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    /* jitter: 50%..100% of the step */
    return d / 2 + (int64_t)(s % (unsigned)(d / 2 + 1));
}

/* ---- token ---- */

/* The bearer token to send (copied into buf), "" when none. -1 when the file cannot be read. */
static int current_token(kube_client *kc, char *buf, size_t len, kube_error *err)
{
    buf[0] = '\0';
    if (kc->cfg.token != NULL) {
        if (strlen(kc->cfg.token) >= len) {
            err_set(err, 0, "", "bearer token too long");
            return -1;
        }
        snprintf(buf, len, "%s", kc->cfg.token);
        return 0;
    }
    if (kc->cfg.token_file == NULL) {
        return 0;
    }
    int rc = 0;
    pthread_mutex_lock(&kc->token_mu);
    struct stat st;
    if (stat(kc->cfg.token_file, &st) != 0) {
        /* keep using the last token; a rotation may be in progress */
        if (kc->file_token == NULL) {
            err_set(err, 0, "", "%s: %s", kc->cfg.token_file, strerror(errno));
            rc = -1;
        }
    } else if (kc->file_token == NULL || st.st_mtim.tv_sec != kc->token_mtime.tv_sec ||
               st.st_mtim.tv_nsec != kc->token_mtime.tv_nsec || st.st_size != kc->token_size) {
        FILE *f = fopen(kc->cfg.token_file, "rb");
        char *tok = malloc(len);
        size_t n = 0;
        if (f != NULL && tok != NULL) {
            n = fread(tok, 1, len - 1, f);
            tok[n] = '\0';
            tok[strcspn(tok, "\r\n")] = '\0';
        }
        if (f != NULL) {
            fclose(f);
        }
        if (tok != NULL && f != NULL && n < len - 1) {
            if (kc->file_token != NULL) {
                memset(kc->file_token, 0, strlen(kc->file_token));
                free(kc->file_token);
            }
            kc->file_token = tok;
            kc->token_mtime = st.st_mtim;
            kc->token_size = st.st_size;
        } else {
            free(tok);
            if (kc->file_token == NULL) {
                err_set(err, 0, "", "%s: cannot read the token", kc->cfg.token_file);
                rc = -1;
            }
        }
    }
    if (rc == 0 && kc->file_token != NULL) {
        snprintf(buf, len, "%s", kc->file_token);
    }
    pthread_mutex_unlock(&kc->token_mu);
    return rc;
}

/* ---- one HTTP exchange ---- */

typedef struct {
    char *buf;
    size_t len;
    size_t cap;
    size_t max;
    int overflow;
} membuf;

static int membuf_add(membuf *m, const char *p, size_t n)
{
    if (m->len + n + 1 > m->max) {
        m->overflow = 1;
        return -1;
    }
    if (m->len + n + 1 > m->cap) {
        size_t ncap = m->cap ? m->cap : 4096;
        while (ncap < m->len + n + 1) {
            ncap *= 2;
        }
        char *nb = realloc(m->buf, ncap);
        if (nb == NULL) {
            m->overflow = 1;
            return -1;
        }
        m->buf = nb;
        m->cap = ncap;
    }
    memcpy(m->buf + m->len, p, n);
    m->len += n;
    m->buf[m->len] = '\0';
    return 0;
}

typedef struct {
    const char *method;
    const char *verb; /* for the observer */
    const char *path;
    const char *content_type;
    const char *body;
    size_t body_len;
    int idempotent;
    int retry_conflict;
    int64_t deadline_ms;
    long timeout_ms; /* overrides opts.timeout_ms when > 0 */
    /* streaming (watch): bytes of a 200 answer go to stream_fn instead of the buffer */
    int (*stream_fn)(const char *p, size_t n, void *ud);
    void *stream_ud;
    const volatile int *stop;
} kreq;

typedef struct {
    CURL *h;
    const kreq *rq;
    membuf *resp;
    long retry_after_ms;
    int stream_stopped;
} xfer;

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
    xfer *x = ud;
    size_t n = size * nmemb;
    if (x->rq->stream_fn != NULL) {
        long code = 0;
        curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
        if (code == 200) {
            if (x->rq->stream_fn(p, n, x->rq->stream_ud) != 0) {
                x->stream_stopped = 1;
                return 0; /* aborts the transfer */
            }
            return n;
        }
    }
    return membuf_add(x->resp, p, n) == 0 ? n : 0;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    xfer *x = ud;
    size_t n = size * nmemb;
    if (n > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
        char tmp[32];
        size_t m = n - 12 < sizeof tmp - 1 ? n - 12 : sizeof tmp - 1;
        memcpy(tmp, p + 12, m);
        tmp[m] = '\0';
        char *end = NULL;
        long secs = strtol(tmp, &end, 10);
        if (end != tmp && secs >= 0) {
            x->retry_after_ms = secs * 1000;
        }
    }
    return n;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    const xfer *x = ud;
    if (x->rq->stop != NULL && *x->rq->stop) {
        return 1;
    }
    return 0;
}

static int setup_tls(kube_client *kc, CURL *h)
{
    int bad = 0;
    if (kc->cfg.ca_pem != NULL) {
        struct curl_blob ca = {kc->cfg.ca_pem, kc->cfg.ca_pem_len, CURL_BLOB_NOCOPY};
        bad |= curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca) != CURLE_OK;
    }
    if (kc->cfg.insecure) {
        bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L) != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L) != CURLE_OK;
    }
    if (kc->cfg.client_cert_pem != NULL) {
        struct curl_blob cert = {kc->cfg.client_cert_pem, kc->cfg.client_cert_len,
                                 CURL_BLOB_NOCOPY};
        struct curl_blob key = {kc->cfg.client_key_pem, kc->cfg.client_key_len, CURL_BLOB_NOCOPY};
        bad |= curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert) != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM") != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key) != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM") != CURLE_OK;
    }
    return bad ? -1 : 0;
}

/*
 * One attempt. Returns 0 with *code set when an HTTP answer came, -1 for a
 * transport failure (err filled, *curl_rc set).
 */
static int attempt(kube_client *kc, const kreq *rq, long *code, membuf *resp, long *retry_after_ms,
                   CURLcode *curl_rc, int *stream_stopped, kube_error *err)
{
    *code = 0;
    *retry_after_ms = -1;
    *curl_rc = CURLE_OK;
    char token[8192];
    if (current_token(kc, token, sizeof token, err) != 0) {
        return -1;
    }
    CURL *h = pool_take(kc);
    char *url = str_printf("%s%s", kc->cfg.server, rq->path);
    int has_token = token[0] != '\0';
    char *auth = has_token ? str_printf("Authorization: Bearer %s", token) : NULL;
    memset(token, 0, sizeof token);
    struct curl_slist *hdrs = NULL, *tmp;
    int bad = h == NULL || url == NULL || (has_token && auth == NULL);
    char ctype[128];
    const char *const fixed[] = {"Accept: application/json", "Expect:", NULL};
    for (int i = 0; !bad && fixed[i] != NULL; i++) {
        tmp = curl_slist_append(hdrs, fixed[i]);
        bad = tmp == NULL;
        hdrs = tmp != NULL ? tmp : hdrs;
    }
    if (!bad && rq->content_type != NULL) {
        snprintf(ctype, sizeof ctype, "Content-Type: %s", rq->content_type);
        tmp = curl_slist_append(hdrs, ctype);
        bad = tmp == NULL;
        hdrs = tmp != NULL ? tmp : hdrs;
    }
    if (!bad && auth != NULL) {
        tmp = curl_slist_append(hdrs, auth);
        bad = tmp == NULL;
        hdrs = tmp != NULL ? tmp : hdrs;
    }
    if (auth != NULL) {
        memset(auth, 0, strlen(auth));
        free(auth);
    }
    xfer x = {h, rq, resp, -1, 0};
    long timeout = rq->timeout_ms > 0 ? rq->timeout_ms : kc->opts.timeout_ms;
    if (rq->deadline_ms != 0) {
        int64_t left = rq->deadline_ms - objsrc_now_ms();
        if (left < timeout) {
            timeout = left > 1 ? (long)left : 1;
        }
    }
    if (!bad) {
        bad |= curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method) != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, kc->user_agent) != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout) != CURLE_OK;
        bad |=
            curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, kc->opts.connect_timeout_ms) != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write) != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, &x) != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_HEADERDATA, &x) != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK;
        if (rq->stop != NULL) {
            bad |= curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress) != CURLE_OK;
            bad |= curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x) != CURLE_OK;
            bad |= curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L) != CURLE_OK;
        }
        if (rq->body != NULL) {
            bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body) != CURLE_OK;
            bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len) !=
                   CURLE_OK;
        }
        bad |= setup_tls(kc, h);
    }
    int rc = 0;
    if (bad) {
        err_set(err, 0, "", "cannot set up the request (out of memory?)");
        *curl_rc = CURLE_OUT_OF_MEMORY;
        rc = -1;
    } else {
        CURLcode cc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, code);
        *curl_rc = cc;
        *retry_after_ms = x.retry_after_ms;
        *stream_stopped = x.stream_stopped;
        int stream_ok = rq->stream_fn != NULL && *code == 200;
        if (cc != CURLE_OK &&
            !(stream_ok && (x.stream_stopped || cc == CURLE_ABORTED_BY_CALLBACK))) {
            if (stream_ok) {
                /* the stream broke after a 200: the caller resumes; report like a close */
                err_set(err, 0, "", "watch stream ended: %s", curl_easy_strerror(cc));
                err->transport = 1;
            } else if (resp->overflow) {
                err_set(err, 0, "", "response too large or out of memory");
                *code = 0;
                rc = -1;
            } else {
                err_set(err, 0, "", "%s %s: %s", rq->method, rq->path, curl_easy_strerror(cc));
                err->transport = 1;
                err->timed_out = cc == CURLE_OPERATION_TIMEDOUT;
                *code = 0;
                rc = -1;
            }
        }
    }
    curl_slist_free_all(hdrs);
    free(url);
    if (h != NULL) {
        /* a handle whose transfer was aborted mid-stream has nothing worth keeping */
        if (*curl_rc == CURLE_OK) {
            pool_give(kc, h);
        } else {
            curl_easy_cleanup(h);
        }
    }
    return rc;
}

static int is_retryable_status(long code)
{
    return code == 500 || code == 502 || code == 503 || code == 504;
}

/*
 * The request with rate limiting and retries. Returns 0 for a 2xx answer
 * (*resp holds the body), -1 otherwise (err filled; for HTTP errors from the
 * Status body). When raw_code is given, any HTTP answer returns 0.
 */
static int kc_call(kube_client *kc, const kreq *rq, membuf *resp, long *raw_code, kube_error *err)
{
    kube_error scratch;
    if (err == NULL) {
        err = &scratch;
    }
    kube_error_clear(err);
    for (int n = 0;; n++) {
        if (rate_limit_wait(kc, rq->deadline_ms) != 0) {
            err_set(err, 0, "", "deadline passed waiting for the client rate limit");
            err->timed_out = 1;
            return -1;
        }
        resp->len = 0;
        resp->overflow = 0;
        if (resp->buf != NULL) {
            resp->buf[0] = '\0';
        }
        long code = 0, retry_after = -1;
        CURLcode cc = CURLE_OK;
        int stopped = 0;
        int rc = attempt(kc, rq, &code, resp, &retry_after, &cc, &stopped, err);
        if (kc->opts.observer != NULL) {
            kc->opts.observer(rq->verb, (int)code, kc->opts.observer_data);
        }
        int64_t wait = -1;
        if (rc != 0) {
            int never_connected = cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST;
            if (cc != CURLE_OUT_OF_MEMORY && (rq->idempotent || never_connected)) {
                wait = backoff_ms(kc, n);
            }
        } else if (code == 429 || (code == 503 && retry_after >= 0)) {
            wait = retry_after >= 0 ? retry_after : backoff_ms(kc, n);
            if (wait > kc->opts.retry_after_max_ms) {
                wait = kc->opts.retry_after_max_ms;
            }
        } else if ((is_retryable_status(code) && rq->idempotent) ||
                   (code == 409 && rq->retry_conflict)) {
            wait = backoff_ms(kc, n);
        }
        /* a watch is retried like a GET until its stream has started */
        int may_retry = wait >= 0 && n < kc->opts.max_retries &&
                        (rq->stream_fn == NULL || code != 200) &&
                        (rq->deadline_ms == 0 || objsrc_now_ms() + wait < rq->deadline_ms);
        if (may_retry) {
            sleep_ms(wait);
            continue;
        }
        if (rc != 0) {
            return -1;
        }
        if (raw_code != NULL) {
            *raw_code = code;
            return 0;
        }
        if (code >= 200 && code < 300) {
            if (rq->stream_fn != NULL && err->transport) {
                return 0; /* a stream that broke after 200: err says why; caller resumes */
            }
            kube_error_clear(err);
            return 0;
        }
        err_from_response(err, code, resp->buf, resp->len);
        return -1;
    }
}

/* ---- paths and discovery ---- */

typedef struct {
    const char *api_version;
    const char *kind;
    const char *resource;
    int namespaced;
} builtin_kind;

static const builtin_kind builtin_kinds[] = {
    {"v1", "Pod", "pods", 1},
    {"v1", "Secret", "secrets", 1},
    {"v1", "ConfigMap", "configmaps", 1},
    {"v1", "Service", "services", 1},
    {"v1", "ServiceAccount", "serviceaccounts", 1},
    {"v1", "Endpoints", "endpoints", 1},
    {"v1", "Event", "events", 1},
    {"v1", "Namespace", "namespaces", 0},
    {"v1", "Node", "nodes", 0},
    {"events.k8s.io/v1", "Event", "events", 1},
    {"coordination.k8s.io/v1", "Lease", "leases", 1},
    {"apps/v1", "Deployment", "deployments", 1},
    {"discovery.k8s.io/v1", "EndpointSlice", "endpointslices", 1},
    {"admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration",
     "validatingwebhookconfigurations", 0},
    {"admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration",
     "mutatingwebhookconfigurations", 0},
    {"apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", 0},
    {"gateway.networking.k8s.io/v1", "Gateway", "gateways", 1},
    {"gateway.networking.k8s.io/v1", "GatewayClass", "gatewayclasses", 0},
    {"gateway.networking.k8s.io/v1", "HTTPRoute", "httproutes", 1},
    {"aigateway.kagenti.dev/v1alpha1", "AIRoutingPolicy", "airoutingpolicies", 1},
    {"aigateway.kagenti.dev/v1alpha1", "AIAccessPolicy", "aiaccesspolicies", 1},
    {"aigateway.envoyproxy.io/v1beta1", "AIGatewayRoute", "aigatewayroutes", 1},
    {"aigateway.envoyproxy.io/v1beta1", "AIServiceBackend", "aiservicebackends", 1},
    {"aigateway.envoyproxy.io/v1beta1", "BackendSecurityPolicy", "backendsecuritypolicies", 1},
    {"aigateway.envoyproxy.io/v1alpha1", "AIGatewayRoute", "aigatewayroutes", 1},
    {"aigateway.envoyproxy.io/v1alpha1", "AIServiceBackend", "aiservicebackends", 1},
    {"aigateway.envoyproxy.io/v1alpha1", "BackendSecurityPolicy", "backendsecuritypolicies", 1},
    {"gateway.envoyproxy.io/v1alpha1", "Backend", "backends", 1},
    {"gateway.envoyproxy.io/v1alpha1", "BackendTrafficPolicy", "backendtrafficpolicies", 1},
    {"gateway.envoyproxy.io/v1alpha1", "ClientTrafficPolicy", "clienttrafficpolicies", 1},
    {"gateway.envoyproxy.io/v1alpha1", "SecurityPolicy", "securitypolicies", 1},
    {"gateway.envoyproxy.io/v1alpha1", "EnvoyProxy", "envoyproxies", 1},
};

static int split_api_version(const char *api_version, kube_resource *out, kube_error *err)
{
    const char *slash = strchr(api_version, '/');
    int ok;
    if (slash == NULL) {
        out->group[0] = '\0';
        ok = snprintf(out->version, sizeof out->version, "%s", api_version) <
             (int)sizeof out->version;
    } else {
        ok =
            (size_t)(slash - api_version) < sizeof out->group &&
            snprintf(out->version, sizeof out->version, "%s", slash + 1) < (int)sizeof out->version;
        if (ok) {
            memcpy(out->group, api_version, (size_t)(slash - api_version));
            out->group[slash - api_version] = '\0';
        }
    }
    if (!ok || out->version[0] == '\0' || strchr(out->version, '/') != NULL) {
        err_set(err, 400, "BadRequest", "invalid apiVersion \"%s\"", api_version);
        return -1;
    }
    return 0;
}

/* Looks kind up in a cached resources array. 1 found, 0 not. */
static int find_in_resources(const json_t *resources, const char *kind, kube_resource *out)
{
    size_t i;
    const json_t *r;
    json_array_foreach(resources, i, r)
    {
        const char *name = json_string_value(json_object_get(r, "name"));
        const char *k = json_string_value(json_object_get(r, "kind"));
        if (name != NULL && k != NULL && strcmp(k, kind) == 0 && strchr(name, '/') == NULL) {
            snprintf(out->resource, sizeof out->resource, "%s", name);
            out->namespaced = json_is_true(json_object_get(r, "namespaced"));
            return 1;
        }
    }
    return 0;
}

int kube_resolve(kube_client *kc, const char *api_version, const char *kind, kube_resource *out,
                 kube_error *err)
{
    memset(out, 0, sizeof *out);
    if (api_version == NULL || kind == NULL || split_api_version(api_version, out, err) != 0) {
        if (api_version == NULL || kind == NULL) {
            err_set(err, 400, "BadRequest", "apiVersion and kind are required");
        }
        return -1;
    }
    for (size_t i = 0; i < sizeof builtin_kinds / sizeof builtin_kinds[0]; i++) {
        if (strcmp(builtin_kinds[i].api_version, api_version) == 0 &&
            strcmp(builtin_kinds[i].kind, kind) == 0) {
            snprintf(out->resource, sizeof out->resource, "%s", builtin_kinds[i].resource);
            out->namespaced = builtin_kinds[i].namespaced;
            return 0;
        }
    }
    pthread_mutex_lock(&kc->disc_mu);
    int found = find_in_resources(json_object_get(kc->discovery, api_version), kind, out);
    pthread_mutex_unlock(&kc->disc_mu);
    if (found) {
        return 0;
    }
    /* Not cached (or a CRD created since): ask the server for this group/version. */
    char *path = out->group[0] ? str_printf("/apis/%s/%s", out->group, out->version)
                               : str_printf("/api/%s", out->version);
    if (path == NULL) {
        err_set(err, 0, "", "out of memory");
        return -1;
    }
    membuf resp = {NULL, 0, 0, MAX_RESPONSE, 0};
    kreq rq = {.method = "GET", .verb = "discovery", .path = path, .idempotent = 1};
    int rc = kc_call(kc, &rq, &resp, NULL, err);
    free(path);
    if (rc != 0) {
        free(resp.buf);
        if (err != NULL && err->http_code == 404) {
            err_set(err, 404, "NotFound", "the server does not serve %s", api_version);
        }
        return -1;
    }
    json_t *doc = json_loadb(resp.buf ? resp.buf : "", resp.len, 0, NULL);
    free(resp.buf);
    json_t *resources = json_object_get(doc, "resources");
    if (!json_is_array(resources)) {
        json_decref(doc);
        err_set(err, 0, "", "discovery of %s: not an APIResourceList", api_version);
        return -1;
    }
    found = find_in_resources(resources, kind, out);
    pthread_mutex_lock(&kc->disc_mu);
    json_object_set(kc->discovery, api_version, resources);
    pthread_mutex_unlock(&kc->disc_mu);
    json_decref(doc);
    if (!found) {
        err_set(err, 404, "NotFound", "no kind \"%s\" is served in %s", kind, api_version);
        return -1;
    }
    return 0;
}

/* Appends "&key=<escaped value>" (or "?..." first) to a growing path. */
static char *add_query(char *path, const char *key, const char *value)
{
    if (path == NULL || value == NULL) {
        return path;
    }
    char *esc = curl_easy_escape(NULL, value, 0);
    char *np = esc ? str_printf("%s%c%s=%s", path, strchr(path, '?') ? '&' : '?', key, esc) : NULL;
    curl_free(esc);
    free(path);
    return np;
}

/* Builds /api(s)/.../[namespaces/NS/]RESOURCE[/NAME][/SUB]. */
static char *resource_path(const kube_resource *r, const char *ns, const char *name,
                           const char *sub)
{
    char *ens = ns != NULL && r->namespaced ? curl_easy_escape(NULL, ns, 0) : NULL;
    char *ename = name != NULL ? curl_easy_escape(NULL, name, 0) : NULL;
    char *p = NULL;
    if ((ns == NULL || !r->namespaced || ens != NULL) && (name == NULL || ename != NULL)) {
        p = str_printf("%s%s%s%s%s%s%s%s%s%s", r->group[0] ? "/apis/" : "/api",
                       r->group[0] ? r->group : "", "/", r->version, ens ? "/namespaces/" : "",
                       ens ? ens : "", "/", r->resource, ename ? "/" : "", ename ? ename : "");
        if (p != NULL && sub != NULL) {
            char *q = str_printf("%s/%s", p, sub);
            free(p);
            p = q;
        }
    }
    curl_free(ens);
    curl_free(ename);
    return p;
}

/* ---- verbs ---- */

static json_t *parse_body(const membuf *resp, kube_error *err)
{
    json_t *v = json_loadb(resp->buf ? resp->buf : "", resp->len, 0, NULL);
    if (v == NULL) {
        err_set(err, 0, "", "the server answered with invalid JSON");
    }
    return v;
}

static int simple_call(kube_client *kc, kreq *rq, json_t **out, kube_error *err)
{
    membuf resp = {NULL, 0, 0, MAX_RESPONSE, 0};
    int rc = kc_call(kc, rq, &resp, NULL, err);
    if (rc == 0 && out != NULL) {
        *out = parse_body(&resp, err);
        rc = *out != NULL ? 0 : -1;
    }
    free(resp.buf);
    return rc;
}

int kube_version(kube_client *kc, json_t **out, kube_error *err)
{
    *out = NULL;
    kreq rq = {.method = "GET", .verb = "get", .path = "/version", .idempotent = 1};
    return simple_call(kc, &rq, out, err);
}

int kube_get_until(kube_client *kc, const char *api_version, const char *kind, const char *ns,
                   const char *name, int64_t deadline_ms, json_t **out, kube_error *err)
{
    *out = NULL;
    kube_resource r;
    if (kube_resolve(kc, api_version, kind, &r, err) != 0) {
        return -1;
    }
    if (r.namespaced && (ns == NULL || ns[0] == '\0')) {
        ns = kube_client_namespace(kc);
    }
    char *path = resource_path(&r, ns, name, NULL);
    if (path == NULL) {
        err_set(err, 0, "", "out of memory");
        return -1;
    }
    kreq rq = {
        .method = "GET", .verb = "get", .path = path, .idempotent = 1, .deadline_ms = deadline_ms};
    int rc = simple_call(kc, &rq, out, err);
    free(path);
    return rc;
}

int kube_get(kube_client *kc, const char *api_version, const char *kind, const char *ns,
             const char *name, json_t **out, kube_error *err)
{
    return kube_get_until(kc, api_version, kind, ns, name, 0, out, err);
}

/* One page. Appends items to `items`; sets *cont (malloc'ed or NULL) and the list RV. */
static int list_page(kube_client *kc, const char *path_base, const char *cont_token,
                     int64_t deadline_ms, json_t *items, char **cont, json_t **list_meta,
                     kube_error *err)
{
    *cont = NULL;
    char *path = strdup(path_base);
    path = add_query(path, "continue", cont_token);
    if (path == NULL) {
        err_set(err, 0, "", "out of memory");
        return -1;
    }
    json_t *page = NULL;
    kreq rq = {
        .method = "GET", .verb = "list", .path = path, .idempotent = 1, .deadline_ms = deadline_ms};
    int rc = simple_call(kc, &rq, &page, err);
    free(path);
    if (rc != 0) {
        return -1;
    }
    json_t *pitems = json_object_get(page, "items");
    if (pitems != NULL && !json_is_array(pitems)) {
        json_decref(page);
        err_set(err, 0, "", "list answer has no items array");
        return -1;
    }
    if (pitems != NULL && json_array_extend(items, pitems) != 0) {
        json_decref(page);
        err_set(err, 0, "", "out of memory");
        return -1;
    }
    json_t *meta = json_object_get(page, "metadata");
    const char *c = json_string_value(json_object_get(meta, "continue"));
    if (c != NULL && c[0] != '\0') {
        *cont = strdup(c);
        if (*cont == NULL) {
            json_decref(page);
            err_set(err, 0, "", "out of memory");
            return -1;
        }
    }
    json_decref(*list_meta);
    *list_meta = json_incref(meta);
    json_decref(page);
    return 0;
}

/* Sets apiVersion/kind on items (the API server leaves them out of list items). */
static void stamp_items(json_t *items, const char *api_version, const char *kind)
{
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        if (json_object_get(it, "apiVersion") == NULL) {
            json_object_set_new(it, "apiVersion", json_string(api_version));
        }
        if (json_object_get(it, "kind") == NULL) {
            json_object_set_new(it, "kind", json_string(kind));
        }
    }
}

int kube_list_until(kube_client *kc, const char *api_version, const char *kind, const char *ns,
                    const kube_list_options *opts, int64_t deadline_ms, json_t **out,
                    kube_error *err)
{
    *out = NULL;
    kube_resource r;
    if (kube_resolve(kc, api_version, kind, &r, err) != 0) {
        return -1;
    }
    kube_list_options o = {0};
    if (opts != NULL) {
        o = *opts;
    }
    char limit[32];
    snprintf(limit, sizeof limit, "%ld", o.limit > 0 ? o.limit : 500);
    char *base = resource_path(&r, ns, NULL, NULL);
    base = add_query(base, "limit", limit);
    if (o.label_selector != NULL && o.label_selector[0] != '\0') {
        base = add_query(base, "labelSelector", o.label_selector);
    }
    if (o.field_selector != NULL && o.field_selector[0] != '\0') {
        base = add_query(base, "fieldSelector", o.field_selector);
    }
    if (base == NULL) {
        err_set(err, 0, "", "out of memory");
        return -1;
    }
    int rc = -1;
    for (int restarts = 0; restarts < 2; restarts++) {
        json_t *items = json_array();
        json_t *meta = NULL;
        char *cont = NULL;
        if (items == NULL) {
            err_set(err, 0, "", "out of memory");
            break;
        }
        do {
            char *next = NULL;
            rc = list_page(kc, base, cont, deadline_ms, items, &next, &meta, err);
            free(cont);
            cont = next;
        } while (rc == 0 && cont != NULL);
        free(cont);
        if (rc == 0) {
            stamp_items(items, api_version, kind);
            char *list_kind = str_printf("%sList", kind);
            const char *rv = json_string_value(json_object_get(meta, "resourceVersion"));
            *out = list_kind ? json_pack("{s:s, s:s, s:{s:s}, s:o}", "apiVersion", api_version,
                                         "kind", list_kind, "metadata", "resourceVersion",
                                         rv ? rv : "", "items", items)
                             : NULL;
            free(list_kind);
            json_decref(meta);
            if (*out == NULL) {
                err_set(err, 0, "", "out of memory");
                rc = -1;
            }
            break;
        }
        json_decref(items);
        json_decref(meta);
        /* the continue token expired between pages: start over, once */
        if (err == NULL || err->http_code != 410) {
            break;
        }
    }
    free(base);
    return rc;
}

int kube_list(kube_client *kc, const char *api_version, const char *kind, const char *ns,
              const kube_list_options *opts, json_t **out, kube_error *err)
{
    return kube_list_until(kc, api_version, kind, ns, opts, 0, out, err);
}

/* The resource path for an object's own identity. */
static char *object_path(kube_client *kc, const json_t *obj, int with_name, const char *sub,
                         kube_error *err)
{
    const char *av = json_string_value(json_object_get(obj, "apiVersion"));
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    const json_t *md = json_object_get(obj, "metadata");
    const char *name = json_string_value(json_object_get(md, "name"));
    const char *ns = json_string_value(json_object_get(md, "namespace"));
    if (av == NULL || kind == NULL || (with_name && name == NULL)) {
        err_set(err, 400, "BadRequest", "object needs apiVersion, kind and metadata.name");
        return NULL;
    }
    kube_resource r;
    if (kube_resolve(kc, av, kind, &r, err) != 0) {
        return NULL;
    }
    if (r.namespaced && (ns == NULL || ns[0] == '\0')) {
        ns = kube_client_namespace(kc);
    }
    char *p = resource_path(&r, ns, with_name ? name : NULL, sub);
    if (p == NULL) {
        err_set(err, 0, "", "out of memory");
    }
    return p;
}

static int write_object(kube_client *kc, const char *method, const char *verb, const json_t *obj,
                        int with_name, const char *sub, const char *content_type,
                        const char *field_manager, int force, json_t **out, kube_error *err)
{
    if (out != NULL) {
        *out = NULL;
    }
    char *path = object_path(kc, obj, with_name, sub, err);
    if (path != NULL && field_manager != NULL) {
        path = add_query(path, "fieldManager", field_manager);
        if (force) {
            path = add_query(path, "force", "true");
        }
    }
    char *body = path != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
    if (body == NULL) {
        if (path != NULL) {
            err_set(err, 0, "", "out of memory");
        }
        free(path);
        return -1;
    }
    kreq rq = {.method = method,
               .verb = verb,
               .path = path,
               .content_type = content_type,
               .body = body,
               .body_len = strlen(body),
               .idempotent = strcmp(method, "POST") != 0,
               .retry_conflict = field_manager != NULL && force};
    int rc = simple_call(kc, &rq, out, err);
    free(body);
    free(path);
    return rc;
}

int kube_create(kube_client *kc, const json_t *obj, json_t **out, kube_error *err)
{
    return write_object(kc, "POST", "create", obj, 0, NULL, "application/json", NULL, 0, out, err);
}

int kube_update(kube_client *kc, const json_t *obj, json_t **out, kube_error *err)
{
    return write_object(kc, "PUT", "update", obj, 1, NULL, "application/json", NULL, 0, out, err);
}

int kube_update_status(kube_client *kc, const json_t *obj, json_t **out, kube_error *err)
{
    return write_object(kc, "PUT", "update", obj, 1, "status", "application/json", NULL, 0, out,
                        err);
}

int kube_apply_subresource(kube_client *kc, const json_t *obj, const char *subresource,
                           const char *field_manager, int force, json_t **out, kube_error *err)
{
    if (field_manager == NULL || field_manager[0] == '\0') {
        err_set(err, 400, "BadRequest", "server-side apply needs a field manager");
        return -1;
    }
    /* JSON is YAML: the apply body is sent as compact JSON. */
    return write_object(kc, "PATCH", "apply", obj, 1, subresource, "application/apply-patch+yaml",
                        field_manager, force, out, err);
}

int kube_apply(kube_client *kc, const json_t *obj, const char *field_manager, int force,
               json_t **out, kube_error *err)
{
    return kube_apply_subresource(kc, obj, NULL, field_manager, force, out, err);
}

int kube_merge_patch(kube_client *kc, const char *api_version, const char *kind, const char *ns,
                     const char *name, const char *subresource, const json_t *patch, json_t **out,
                     kube_error *err)
{
    if (out != NULL) {
        *out = NULL;
    }
    kube_resource r;
    if (kube_resolve(kc, api_version, kind, &r, err) != 0) {
        return -1;
    }
    if (r.namespaced && (ns == NULL || ns[0] == '\0')) {
        ns = kube_client_namespace(kc);
    }
    char *path = resource_path(&r, ns, name, subresource);
    char *body = json_dumps(patch, JSON_COMPACT);
    if (path == NULL || body == NULL) {
        free(path);
        free(body);
        err_set(err, 0, "", "out of memory");
        return -1;
    }
    kreq rq = {.method = "PATCH",
               .verb = "patch",
               .path = path,
               .content_type = "application/merge-patch+json",
               .body = body,
               .body_len = strlen(body),
               .idempotent = 1};
    int rc = simple_call(kc, &rq, out, err);
    free(path);
    free(body);
    return rc;
}

int kube_delete(kube_client *kc, const char *api_version, const char *kind, const char *ns,
                const char *name, const char *propagation_policy, kube_error *err)
{
    kube_resource r;
    if (kube_resolve(kc, api_version, kind, &r, err) != 0) {
        return -1;
    }
    if (r.namespaced && (ns == NULL || ns[0] == '\0')) {
        ns = kube_client_namespace(kc);
    }
    char *path = resource_path(&r, ns, name, NULL);
    char *body = NULL;
    if (propagation_policy != NULL) {
        json_t *opts = json_pack("{s:s,s:s,s:s}", "apiVersion", "v1", "kind", "DeleteOptions",
                                 "propagationPolicy", propagation_policy);
        body = opts ? json_dumps(opts, JSON_COMPACT) : NULL;
        json_decref(opts);
        path = add_query(path, "propagationPolicy", propagation_policy);
    }
    if (path == NULL || (propagation_policy != NULL && body == NULL)) {
        free(path);
        free(body);
        err_set(err, 0, "", "out of memory");
        return -1;
    }
    kreq rq = {.method = "DELETE",
               .verb = "delete",
               .path = path,
               .content_type = body ? "application/json" : NULL,
               .body = body,
               .body_len = body ? strlen(body) : 0,
               .idempotent = 1};
    int rc = simple_call(kc, &rq, NULL, err);
    free(path);
    free(body);
    return rc;
}

int kube_request_raw(kube_client *kc, const char *method, const char *path,
                     const char *content_type, const char *body, size_t body_len, long *code,
                     char **resp_out, size_t *resp_len, kube_error *err)
{
    *resp_out = NULL;
    membuf resp = {NULL, 0, 0, MAX_RESPONSE, 0};
    int idem = strcmp(method, "POST") != 0;
    kreq rq = {.method = method,
               .verb = strcmp(method, "GET") == 0 ? "get" : "raw",
               .path = path,
               .content_type = content_type,
               .body = body,
               .body_len = body_len,
               .idempotent = idem};
    int rc = kc_call(kc, &rq, &resp, code, err);
    if (rc != 0) {
        free(resp.buf);
        return -1;
    }
    if (resp.buf == NULL) {
        resp.buf = strdup("");
        if (resp.buf == NULL) {
            err_set(err, 0, "", "out of memory");
            return -1;
        }
    }
    *resp_out = resp.buf;
    if (resp_len != NULL) {
        *resp_len = resp.len;
    }
    return 0;
}

/* ---- watch ---- */

typedef struct {
    kube_watch_decoder *dec;
    kube_watch_fn fn;
    void *ud;
    char err[256];
    int failed;
} watch_ctx;

static int watch_stream(const char *p, size_t n, void *ud)
{
    watch_ctx *w = ud;
    int rc = kube_watch_decoder_feed(w->dec, p, n, w->fn, w->ud, w->err, sizeof w->err);
    if (rc < 0) {
        w->failed = 1;
    }
    return rc != 0;
}

int kube_watch(kube_client *kc, const char *api_version, const char *kind, const char *ns,
               const kube_watch_options *opts, kube_watch_fn fn, void *userdata, kube_error *err)
{
    kube_watch_options o = {0};
    if (opts != NULL) {
        o = *opts;
    }
    kube_resource r;
    if (kube_resolve(kc, api_version, kind, &r, err) != 0) {
        return -1;
    }
    long tmo = o.timeout_seconds > 0 ? o.timeout_seconds : 300;
    char tbuf[32];
    snprintf(tbuf, sizeof tbuf, "%ld", tmo);
    char *path = resource_path(&r, ns, NULL, NULL);
    path = add_query(path, "watch", "true");
    path = add_query(path, "timeoutSeconds", tbuf);
    if (o.allow_bookmarks) {
        path = add_query(path, "allowWatchBookmarks", "true");
    }
    if (o.resource_version != NULL && o.resource_version[0] != '\0') {
        path = add_query(path, "resourceVersion", o.resource_version);
    }
    if (o.label_selector != NULL && o.label_selector[0] != '\0') {
        path = add_query(path, "labelSelector", o.label_selector);
    }
    if (o.field_selector != NULL && o.field_selector[0] != '\0') {
        path = add_query(path, "fieldSelector", o.field_selector);
    }
    watch_ctx w = {kube_watch_decoder_new(0), fn, userdata, "", 0};
    if (path == NULL || w.dec == NULL) {
        free(path);
        kube_watch_decoder_free(w.dec);
        err_set(err, 0, "", "out of memory");
        return -1;
    }
    membuf resp = {NULL, 0, 0, MAX_ERROR_BODY, 0};
    kreq rq = {.method = "GET",
               .verb = "watch",
               .path = path,
               .idempotent = 1,
               .timeout_ms = (tmo + 30) * 1000,
               .stream_fn = watch_stream,
               .stream_ud = &w,
               .stop = o.stop};
    kube_error local = {0};
    kube_error *e = err != NULL ? err : &local;
    int rc = kc_call(kc, &rq, &resp, NULL, e);
    if (w.failed) {
        err_set(e, 0, "", "watch stream: %s", w.err);
        rc = -1;
    } else if (rc == 0) {
        kube_error_clear(e);
    }
    free(resp.buf);
    free(path);
    kube_watch_decoder_free(w.dec);
    return rc;
}
