/*
 * serve_cmd: `aigw serve`. Parses flags, builds the handlers' context in one
 * place (serve_context_build: lookups and injection are wired there), starts
 * the servers, waits for SIGTERM/SIGINT, stops gracefully.
 */
#include "webhook/serve_cmd.h"

#include "common/cert_gen.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/version.h"
#include "webhook/server.h"
#include "webhook/serve_lookups.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *listen;
    const char *metrics_listen;
    const char *tls_cert;
    const char *tls_key;
    const char *dev_ca_out;
    size_t max_body;
    unsigned conn_timeout_s;
    unsigned idle_timeout_s;
    unsigned drain_timeout_s;
    unsigned threads;
    int dev_self_signed;
    const char *objects_dir; /* --objects: lookups from files (policy helper) */
    const char *kubeconfig;  /* --kubeconfig: lookups from the API server (policy helper) */
} serve_options;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: aigw serve [flags]\n"
            "\n"
            "Runs the admission webhook: POST /validate and POST /mutate-pods over HTTPS,\n"
            "/healthz, /readyz and /metrics over plain HTTP. SIGTERM stops it gracefully.\n"
            "\n"
            "flags:\n"
            "  --listen ADDR          HTTPS address (default 0.0.0.0:9443)\n"
            "  --tls-cert FILE        serving certificate (PEM, may hold the chain); reloaded\n"
            "  --tls-key FILE         its private key (PEM); reloaded with the certificate\n"
            "  --dev-self-signed      generate a CA and serving pair in memory (demo, tests)\n"
            "  --dev-ca-out FILE      with --dev-self-signed: write that CA certificate to FILE\n"
            "  --metrics-listen ADDR  plain HTTP address for /healthz /readyz /metrics\n"
            "                         (default 0.0.0.0:8080)\n"
            "  --max-body BYTES       largest request body (default 7340032 = 7 MiB)\n"
            "  --conn-timeout SEC     a request stalled this long is cut off (default 10)\n"
            "  --idle-timeout SEC     keep-alive connections idle this long are closed\n"
            "                         (default 120, above the API server's 90)\n"
            "  --drain-timeout SEC    on shutdown, wait this long for requests in flight\n"
            "                         (default 20)\n"
            "  --threads N            server threads (default: one per core)\n"
            "  --log-level LEVEL      debug, info, warn or error (default info)\n"
            "  --kubeconfig FILE      look up Secrets, ConfigMaps and policies for /validate\n"
            "                         in this cluster (\"\" = $KUBECONFIG or in-cluster;\n"
            "                         default: in-cluster when running in a pod)\n"
            "  --objects DIR          look them up in YAML/JSON files below DIR instead\n"
            "  --help                 this text\n");
}

static int parse_uint(const char *flag, const char *text, unsigned long long max,
                      unsigned long long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || v > max) {
        fprintf(stderr, "aigw serve: %s: invalid value \"%s\" (0..%llu)\n", flag, text, max);
        return -1;
    }
    *out = v;
    return 0;
}

enum {
    OPT_LISTEN = 1000,
    OPT_METRICS_LISTEN,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_MAX_BODY,
    OPT_DEV,
    OPT_DEV_CA_OUT,
    OPT_LOG_LEVEL,
    OPT_CONN_TIMEOUT,
    OPT_IDLE_TIMEOUT,
    OPT_DRAIN_TIMEOUT,
    OPT_THREADS,
    OPT_HELP,
    OPT_KUBECONFIG,
    OPT_OBJECTS,
};

static int apply_number(int opt, const char *arg, serve_options *o)
{
    unsigned long long v = 0;
    switch (opt) {
    case OPT_MAX_BODY:
        if (parse_uint("--max-body", arg, (unsigned long long)1 << 30, &v) != 0 || v == 0) {
            return -1;
        }
        o->max_body = (size_t)v;
        return 0;
    case OPT_CONN_TIMEOUT:
        if (parse_uint("--conn-timeout", arg, 3600, &v) != 0 || v == 0) {
            return -1;
        }
        o->conn_timeout_s = (unsigned)v;
        return 0;
    case OPT_IDLE_TIMEOUT:
        if (parse_uint("--idle-timeout", arg, 86400, &v) != 0 || v == 0) {
            return -1;
        }
        o->idle_timeout_s = (unsigned)v;
        return 0;
    case OPT_DRAIN_TIMEOUT:
        if (parse_uint("--drain-timeout", arg, 3600, &v) != 0) {
            return -1;
        }
        o->drain_timeout_s = v == 0 ? 1 : (unsigned)v;
        return 0;
    case OPT_THREADS:
        if (parse_uint("--threads", arg, 256, &v) != 0) {
            return -1;
        }
        o->threads = (unsigned)v;
        return 0;
    default:
        return -1;
    }
}

/* Returns 0 to run, 1 after --help, -1 on a usage error (already reported). */
static int parse_flags(int argc, char **argv, serve_options *o)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN},
        {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
        {"tls-key", required_argument, NULL, OPT_TLS_KEY},
        {"max-body", required_argument, NULL, OPT_MAX_BODY},
        {"dev-self-signed", no_argument, NULL, OPT_DEV},
        {"dev-ca-out", required_argument, NULL, OPT_DEV_CA_OUT},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"conn-timeout", required_argument, NULL, OPT_CONN_TIMEOUT},
        {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
        {"drain-timeout", required_argument, NULL, OPT_DRAIN_TIMEOUT},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"help", no_argument, NULL, OPT_HELP},
        {"kubeconfig", required_argument, NULL, OPT_KUBECONFIG},
        {"objects", required_argument, NULL, OPT_OBJECTS},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        log_level level;
        switch (opt) {
        case OPT_LISTEN:
            o->listen = optarg;
            break;
        case OPT_METRICS_LISTEN:
            o->metrics_listen = optarg;
            break;
        case OPT_TLS_CERT:
            o->tls_cert = optarg;
            break;
        case OPT_TLS_KEY:
            o->tls_key = optarg;
            break;
        case OPT_DEV:
            o->dev_self_signed = 1;
            break;
        case OPT_DEV_CA_OUT:
            o->dev_ca_out = optarg;
            break;
        case OPT_LOG_LEVEL:
            if (log_level_parse(optarg, &level) != 0) {
                fprintf(stderr, "aigw serve: --log-level: want debug, info, warn or error\n");
                return -1;
            }
            log_set_level(level);
            break;
        case OPT_HELP:
            usage(stdout);
            return 1;
        case OPT_KUBECONFIG:
            o->kubeconfig = optarg;
            break;
        case OPT_OBJECTS:
            o->objects_dir = optarg;
            break;
        case OPT_MAX_BODY:
        case OPT_CONN_TIMEOUT:
        case OPT_IDLE_TIMEOUT:
        case OPT_DRAIN_TIMEOUT:
        case OPT_THREADS:
            if (apply_number(opt, optarg, o) != 0) {
                return -1;
            }
            break;
        default:
            fprintf(stderr, "aigw serve: unknown flag or missing value: %s\n",
                    optind > 0 && optind <= argc ? argv[optind - 1] : "?");
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "aigw serve: unexpected argument \"%s\"\n", argv[optind]);
        return -1;
    }
    if (o->dev_self_signed == (o->tls_cert != NULL || o->tls_key != NULL)) {
        fprintf(stderr, "aigw serve: give either --tls-cert and --tls-key, or --dev-self-signed\n");
        return -1;
    }
    if (!o->dev_self_signed && (o->tls_cert == NULL || o->tls_key == NULL)) {
        fprintf(stderr, "aigw serve: --tls-cert and --tls-key go together\n");
        return -1;
    }
    if (o->dev_ca_out != NULL && !o->dev_self_signed) {
        fprintf(stderr, "aigw serve: --dev-ca-out needs --dev-self-signed\n");
        return -1;
    }
    return 0;
}

/*
 * The handlers' context. Everything /validate and /mutate-pods need (object
 * lookups, the injector) is created here and only here.
 */
static int serve_context_build(const serve_options *o, webhook_context *ctx, char *err,
                               size_t errlen)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->objects = NULL;
    ctx->injector = NULL;
    ctx->lookup_budget_ms = 2000;
    /* Lookups for /validate: --objects, --kubeconfig, else in-cluster when in a pod. */
    ctx->objects = serve_lookups_open(o->objects_dir, o->kubeconfig, err, errlen);
    if (ctx->objects == NULL && err[0] != '\0') {
        return -1;
    }
    return 0;
}

/* Releases what serve_context_build created (the lookups; no injector yet). */
static void serve_context_free(webhook_context *ctx)
{
    object_source_free(ctx->objects);
    memset(ctx, 0, sizeof *ctx);
}

/* The listen address's host, when it is a concrete IP, for the dev certificate's SANs. */
static void listen_ip(const char *listen, char *out, size_t outlen)
{
    out[0] = '\0';
    const char *colon = strrchr(listen, ':');
    if (colon == NULL) {
        return;
    }
    const char *h = listen;
    size_t n = (size_t)(colon - listen);
    if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
        h++;
        n -= 2;
    }
    if (n == 0 || n >= outlen) {
        return;
    }
    memcpy(out, h, n);
    out[n] = '\0';
    unsigned char buf[16];
    if ((inet_pton(AF_INET, out, buf) != 1 && inet_pton(AF_INET6, out, buf) != 1) ||
        strcmp(out, "0.0.0.0") == 0 || strcmp(out, "::") == 0 || strcmp(out, "127.0.0.1") == 0 ||
        strcmp(out, "::1") == 0) {
        out[0] = '\0';
    }
}

static int write_text_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        return -1;
    }
    int ok = fputs(text, f) >= 0;
    ok = (fclose(f) == 0) && ok;
    return ok ? 0 : -1;
}

/* A throwaway CA and a serving leaf for localhost (and the listen IP), in memory. */
static int make_dev_pair(const serve_options *o, cert_pair *leaf)
{
    char err[256] = "";
    cert_pair ca = {0};
    if (cert_gen_ca("aigw-dev-ca", 30, &ca, err, sizeof err) != 0) {
        log_error("cannot generate the dev CA", "error", err, (char *)NULL);
        return -1;
    }
    char ip[64];
    listen_ip(o->listen, ip, sizeof ip);
    const char *dns[] = {"localhost"};
    const char *ips[] = {"127.0.0.1", "::1", ip};
    cert_leaf_spec spec = {"localhost", dns, 1, ips, ip[0] ? 3 : 2, 30};
    int rc = cert_gen_leaf(&ca, &spec, leaf, err, sizeof err);
    if (rc != 0) {
        log_error("cannot generate the dev serving certificate", "error", err, (char *)NULL);
    } else if (o->dev_ca_out != NULL && write_text_file(o->dev_ca_out, ca.cert_pem) != 0) {
        log_error("cannot write the dev CA certificate", "path", o->dev_ca_out, "error",
                  strerror(errno), (char *)NULL);
        cert_pair_free(leaf);
        rc = -1;
    }
    cert_pair_free(&ca);
    if (rc == 0) {
        log_warn("serving with a self-signed development certificate", "ca_file", o->dev_ca_out,
                 (char *)NULL);
    }
    return rc;
}

/* Blocks until SIGTERM or SIGINT (blocked in every thread before any was started). */
static int wait_for_signal(const sigset_t *set)
{
    int sig = 0;
    while (sigwait(set, &sig) != 0) {
    }
    return sig;
}

static int run(const serve_options *o, webhook_context *ctx, const sigset_t *set)
{
    metrics_registry *reg = metrics_registry_new();
    cert_pair dev = {0};
    if (reg == NULL || (o->dev_self_signed && make_dev_pair(o, &dev) != 0)) {
        metrics_registry_free(reg);
        return 2;
    }
    webhook_server_config cfg = {
        .listen = o->listen,
        .metrics_listen = o->metrics_listen,
        .cert_file = o->tls_cert,
        .key_file = o->tls_key,
        .cert_pem = dev.cert_pem,
        .key_pem = dev.key_pem,
        .max_body = o->max_body,
        .threads = o->threads,
        .conn_timeout_s = o->conn_timeout_s,
        .idle_timeout_s = o->idle_timeout_s,
        .drain_timeout_s = o->drain_timeout_s,
        .ctx = ctx,
        .metrics = reg,
        .version = AIGW_VERSION,
    };
    char err[512] = "";
    webhook_server *ws = webhook_server_start(&cfg, err, sizeof err);
    cert_pair_free(&dev); /* the server keeps what it needs */
    if (ws == NULL) {
        log_error("cannot start the webhook", "error", err, (char *)NULL);
        metrics_registry_free(reg);
        return 2;
    }
    char port[16], mport[16], body[32];
    snprintf(port, sizeof port, "%d", webhook_server_port(ws));
    snprintf(mport, sizeof mport, "%d", webhook_server_metrics_port(ws));
    snprintf(body, sizeof body, "%zu", o->max_body);
    log_info("serving", "listen", o->listen, "port", port, "metrics_listen", o->metrics_listen,
             "metrics_port", mport, "max_body", body, "version", AIGW_VERSION, (char *)NULL);
    int sig = wait_for_signal(set);
    log_info("shutting down: draining requests in flight", "signal",
             sig == SIGTERM ? "SIGTERM" : "SIGINT", (char *)NULL);
    webhook_server_stop(ws);
    metrics_registry_free(reg);
    log_info("stopped", (char *)NULL);
    return 0;
}

int webhook_cmd_serve(int argc, char **argv)
{
    serve_options o = {
        .listen = "0.0.0.0:9443",
        .metrics_listen = "0.0.0.0:8080",
        .max_body = 7340032,
        .conn_timeout_s = 10,
        .idle_timeout_s = 120,
        .drain_timeout_s = 20,
    };
    int p = parse_flags(argc, argv, &o);
    if (p != 0) {
        if (p < 0) {
            fprintf(stderr, "Run 'aigw serve --help' for the flags.\n");
        }
        return p > 0 ? 0 : 2;
    }
    /* Signals are taken synchronously by the main thread; every other thread inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) {
        log_error("cannot block signals", (char *)NULL);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    webhook_context ctx;
    char err[512] = "";
    if (serve_context_build(&o, &ctx, err, sizeof err) != 0) {
        log_error("cannot set up the webhook handlers", "error", err, (char *)NULL);
        return 2;
    }
    int rc = run(&o, &ctx, &set);
    serve_context_free(&ctx);
    return rc;
}
