/*
 * reconcile_cmd: `aigw reconcile [--kubeconfig FILE] [--resync 5m]
 * [--lease-namespace NS] [--lease-name NAME] [--identity ID]
 * [--metrics-listen ADDR] [--workers N] [--log-level LEVEL]`.
 *
 * Builds the kube client (kubeconfig, else in-cluster), the metrics registry
 * (aigw_kube_requests_total through the client's observer, aigw_build_info),
 * the plain-HTTP listener (/metrics, /healthz, /readyz), then runs the
 * controller until SIGTERM/SIGINT: workers finish, the Lease is released,
 * the listener drains.
 */
#include "reconciler/reconcile_cmd.h"

#include "common/http_server.h"
#include "common/kube_client.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/version.h"
#include "policy/policy.h"
#include "reconciler/controller.h"
#include "reconciler/intent.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const char *kubeconfig;
    const char *context;
    long long resync_ms;
    const char *lease_ns;
    const char *lease_name;
    const char *identity;
    const char *metrics_listen;
    int workers;
    double kube_qps;
    int kube_burst;
    int helper_health_port;
} reconcile_flags;

typedef struct {
    metrics_registry *reg;
    metric *kube_requests;
    controller *ctrl;
} cmd_state;

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: aigw reconcile [flags]\n\n"
        "Watches AIRoutingPolicy/AIAccessPolicy and writes the Envoy AI Gateway resources\n"
        "and the policies' status. Leader-elected: only the Lease holder writes.\n\n"
        "  --kubeconfig FILE       kubeconfig (default: $KUBECONFIG, in-cluster, ~/.kube/config)\n"
        "  --context NAME          kubeconfig context (default: current)\n"
        "  --resync DURATION       full resync period (default 5m)\n"
        "  --lease-namespace NS    namespace of the Lease (default: the client's namespace)\n"
        "  --lease-name NAME       Lease name (default aigw-reconciler)\n"
        "  --identity ID           leader identity (default: $POD_NAME or hostname, + pid)\n"
        "  --metrics-listen ADDR   plain-HTTP /metrics, /healthz, /readyz (e.g. :8080)\n"
        "  --workers N             parallel reconciles (default 2)\n"
        "  --helper-health-port N  spiffe-helper health port written to helper.conf (default\n"
        "                          17081; must equal the injector's ports.helperHealth)\n"
        "  --log-level LEVEL       debug|info|warn|error (default info)\n");
}

static int parse_flags(int argc, char **argv, reconcile_flags *f)
{
    memset(f, 0, sizeof *f);
    f->resync_ms = 5LL * 60 * 1000;
    f->workers = 2;
    f->kube_qps = 200;
    f->kube_burst = 400;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "aigw reconcile: unknown flag or missing value: %s\n", a);
            return -1;
        }
        const char *v = argv[++i];
        if (strcmp(a, "--kubeconfig") == 0) {
            f->kubeconfig = v;
        } else if (strcmp(a, "--context") == 0) {
            f->context = v;
        } else if (strcmp(a, "--resync") == 0) {
            f->resync_ms = policy_duration_parse_ms(v);
            if (f->resync_ms < 100) {
                fprintf(stderr, "aigw reconcile: --resync: invalid duration %s (>= 100ms)\n", v);
                return -1;
            }
        } else if (strcmp(a, "--lease-namespace") == 0) {
            f->lease_ns = v;
        } else if (strcmp(a, "--lease-name") == 0) {
            f->lease_name = v;
        } else if (strcmp(a, "--identity") == 0) {
            f->identity = v;
        } else if (strcmp(a, "--metrics-listen") == 0) {
            f->metrics_listen = v;
        } else if (strcmp(a, "--helper-health-port") == 0) {
            char why[200];
            if (intent_helper_port_parse(v, &f->helper_health_port, why, sizeof why) != 0) {
                fprintf(stderr, "aigw reconcile: --helper-health-port: %s\n", why);
                return -1;
            }
        } else if (strcmp(a, "--workers") == 0) {
            char *end = NULL;
            long n = strtol(v, &end, 10);
            if (!end || *end || n < 1 || n > 64) {
                fprintf(stderr, "aigw reconcile: --workers: 1..64\n");
                return -1;
            }
            f->workers = (int)n;
        } else if (strcmp(a, "--kube-qps") == 0 || strcmp(a, "--kube-burst") == 0) {
            char *end = NULL;
            long n = strtol(v, &end, 10);
            if (!end || *end || n < 1 || n > 100000) {
                fprintf(stderr, "aigw reconcile: %s: 1..100000\n", a);
                return -1;
            }
            if (a[7] == 'q') {
                f->kube_qps = (double)n;
            } else {
                f->kube_burst = (int)n;
            }
        } else if (strcmp(a, "--log-level") == 0) {
            log_level lvl;
            if (log_level_parse(v, &lvl) != 0) {
                fprintf(stderr, "aigw reconcile: --log-level: debug|info|warn|error\n");
                return -1;
            }
            log_set_level(lvl);
        } else {
            fprintf(stderr, "aigw reconcile: unknown flag %s\n", a);
            return -1;
        }
    }
    return 0;
}

static void observe_kube(const char *verb, int code, void *ud)
{
    cmd_state *st = ud;
    char c[16];
    snprintf(c, sizeof c, "%d", code);
    const char *lv[] = {verb, c};
    metric_inc(st->kube_requests, lv);
}

static void h_metrics(void *ctx, const http_request *req, http_response *resp)
{
    (void)req;
    cmd_state *st = ctx;
    size_t len = 0;
    char *text = metrics_render(st->reg, &len);
    if (!text) {
        http_response_error(resp, 500, "out of memory");
        return;
    }
    http_response_set(resp, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

static void h_healthz(void *ctx, const http_request *req, http_response *resp)
{
    (void)ctx;
    (void)req;
    char *b = strdup("ok\n");
    http_response_set(resp, b ? 200 : 500, "text/plain", b, b ? 3 : 0);
}

static void h_readyz(void *ctx, const http_request *req, http_response *resp)
{
    (void)req;
    cmd_state *st = ctx;
    if (!st->ctrl || !controller_ready(st->ctrl)) {
        http_response_error(resp, 503, "caches not synced");
        return;
    }
    char *b = strdup("ok\n");
    http_response_set(resp, b ? 200 : 500, "text/plain", b, b ? 3 : 0);
}

static void default_identity(char *buf, size_t len)
{
    const char *pod = getenv("POD_NAME");
    char host[HOST_NAME_MAX + 1] = "aigw";
    if (!pod || !*pod) {
        if (gethostname(host, sizeof host) != 0) {
            snprintf(host, sizeof host, "aigw");
        }
        host[sizeof host - 1] = '\0';
        pod = host;
    }
    snprintf(buf, len, "%s_%ld", pod, (long)getpid());
}

static int run(const reconcile_flags *f, cmd_state *st, const sigset_t *sigs)
{
    char err[512];
    const char *bl[] = {"version"};
    const char *bv[] = {AIGW_VERSION};
    metric *build =
        metrics_gauge(st->reg, "aigw_build_info", "Build information (always 1).", bl, 1);
    metric_set(build, bv, 1.0);
    const char *kl[] = {"verb", "code"};
    st->kube_requests = metrics_counter(st->reg, "aigw_kube_requests_total",
                                        "Kubernetes API requests by verb and HTTP code.", kl, 2);
    char ident[300];
    if (f->identity) {
        snprintf(ident, sizeof ident, "%s", f->identity);
    } else {
        default_identity(ident, sizeof ident);
    }
    char agent[400];
    snprintf(agent, sizeof agent, "aigw-reconcile/%s (%s)", AIGW_VERSION, ident);
    kube_client_options ko = {.observer = observe_kube,
                              .observer_data = st,
                              .user_agent = agent,
                              .qps = f->kube_qps,
                              .burst = f->kube_burst};
    kube_client *kc = kube_client_new(f->kubeconfig, f->context, &ko, err, sizeof err);
    if (!kc) {
        fprintf(stderr, "aigw reconcile: %s\n", err);
        return 2;
    }
    controller_config cc = {.kc = kc,
                            .metrics = st->reg,
                            .resync_ms = f->resync_ms,
                            .lease_ns = f->lease_ns,
                            .lease_name = f->lease_name,
                            .identity = ident,
                            .workers = f->workers,
                            .helper_health_port = f->helper_health_port};
    st->ctrl = controller_new(&cc, err, sizeof err);
    if (!st->ctrl) {
        fprintf(stderr, "aigw reconcile: %s\n", err);
        kube_client_free(kc);
        return 2;
    }
    http_server *srv = NULL;
    if (f->metrics_listen) {
        static http_route routes[3];
        routes[0] = (http_route){"/metrics", "GET", 0, h_metrics, st};
        routes[1] = (http_route){"/healthz", "GET", 0, h_healthz, st};
        routes[2] = (http_route){"/readyz", "GET", 0, h_readyz, st};
        http_server_config hc = {.name = "metrics",
                                 .listen = f->metrics_listen,
                                 .routes = routes,
                                 .n_routes = 3,
                                 .threads = 1,
                                 .drain_timeout_s = 2};
        srv = http_server_start(&hc, err, sizeof err);
        if (!srv) {
            fprintf(stderr, "aigw reconcile: metrics listener: %s\n", err);
            controller_free(st->ctrl);
            kube_client_free(kc);
            return 2;
        }
        char port[16];
        snprintf(port, sizeof port, "%d", http_server_port(srv));
        log_info("metrics listening", "addr", f->metrics_listen, "port", port, (char *)NULL);
    }
    log_info("reconcile: starting", "identity", ident, "version", AIGW_VERSION, (char *)NULL);
    int rc = 0;
    if (controller_start(st->ctrl, err, sizeof err) != 0) {
        log_error("reconcile: start failed", "error", err, (char *)NULL);
        rc = 2;
    } else {
        int sig = 0;
        while (sigwait(sigs, &sig) != 0) {
        }
        log_info("reconcile: signal received, shutting down", "signal",
                 sig == SIGTERM ? "SIGTERM" : "SIGINT", (char *)NULL);
    }
    controller_stop(st->ctrl); /* releases the Lease */
    http_server_stop(srv);
    controller_free(st->ctrl);
    st->ctrl = NULL;
    kube_client_free(kc);
    log_info("reconcile: stopped", (char *)NULL);
    return rc;
}

int reconciler_cmd_reconcile(int argc, char **argv)
{
    reconcile_flags f;
    int prc = parse_flags(argc, argv, &f);
    if (prc != 0) {
        if (prc < 0) {
            usage(stderr);
        }
        return prc > 0 ? 0 : 2;
    }
    /* block the stop signals in every thread; the main thread waits for them */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (kube_client_global_init() != 0) {
        fprintf(stderr, "aigw reconcile: cannot initialise libcurl\n");
        return 2;
    }
    cmd_state st = {0};
    st.reg = metrics_registry_new();
    if (!st.reg) {
        fprintf(stderr, "aigw reconcile: out of memory\n");
        kube_client_global_cleanup();
        return 2;
    }
    int rc = run(&f, &st, &sigs);
    metrics_registry_free(st.reg);
    kube_client_global_cleanup();
    return rc;
}
