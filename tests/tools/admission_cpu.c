/*
 * admission_cpu: CPU time of the admission path without the network, for
 * `make bench` and profiling. For each body file given, runs what the HTTPS
 * handler runs (parse the AdmissionReview, /mutate-pods or /validate, render
 * the reply) N times and prints one JSON line per file:
 *   {"file":"medium.json","iterations":N,"ns_per_request":...,"reply_bytes":...}
 *
 *   admission_cpu --objects DIR [--iterations N] [--validate] FILE...
 *
 * Exit 0, or 1 when a body is not accepted (nothing is measured then).
 */
#include "common/log.h"
#include "injector/inject_serve.h"
#include "injector/runtime.h"
#include "webhook/admission.h"
#include "webhook/handlers.h"
#include "webhook/serve_lookups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (*len + 4096 > cap) {
            cap = cap * 2 + 8192;
            char *nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t n = fread(buf + *len, 1, cap - *len - 1, f);
        *len += n;
        if (n == 0) {
            break;
        }
    }
    fclose(f);
    buf[*len] = '\0';
    return buf;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* One request, as webhook/server.c's handle_admission does it. Reply length, or 0. */
static size_t one(const webhook_context *ctx, int validate, const char *body, size_t len)
{
    admission_request req;
    char err[300];
    if (admission_request_parse(body, len, &req, err, sizeof err) != 0) {
        fprintf(stderr, "admission_cpu: %s\n", err);
        return 0;
    }
    admission_response resp;
    admission_response_init(&resp);
    if (validate) {
        webhook_handle_validate(ctx, &req, &resp);
    } else {
        webhook_handle_mutate_pods(ctx, &req, &resp);
    }
    size_t out = 0;
    char *reply = admission_review_render(&req, &resp, &out);
    free(reply);
    admission_response_free(&resp);
    admission_request_free(&req);
    return reply == NULL ? 0 : out;
}

int main(int argc, char **argv)
{
    const char *objects = NULL;
    long iterations = 20000;
    int validate = 0, first = 1;
    for (; first < argc && strncmp(argv[first], "--", 2) == 0; first++) {
        if (strcmp(argv[first], "--objects") == 0 && first + 1 < argc) {
            objects = argv[++first];
        } else if (strcmp(argv[first], "--iterations") == 0 && first + 1 < argc) {
            iterations = strtol(argv[++first], NULL, 10);
        } else if (strcmp(argv[first], "--validate") == 0) {
            validate = 1;
        } else {
            fprintf(stderr,
                    "usage: admission_cpu --objects DIR [--iterations N] [--validate] FILE...\n");
            return 2;
        }
    }
    if (objects == NULL || first >= argc || iterations <= 0) {
        fprintf(stderr,
                "usage: admission_cpu --objects DIR [--iterations N] [--validate] FILE...\n");
        return 2;
    }
    log_set_level(LOG_WARN);
    char err[512] = "";
    webhook_context ctx = {NULL, NULL, 2000};
    ctx.objects = serve_lookups_open(objects, NULL, err, sizeof err);
    inject_serve_options io = {objects, NULL, NULL, -1};
    ctx.injector = inject_serve_open(&io, err, sizeof err);
    if (ctx.objects == NULL || ctx.injector == NULL) {
        fprintf(stderr, "admission_cpu: %s\n", err);
        inject_runtime_free(ctx.injector);
        object_source_free(ctx.objects);
        return 1;
    }
    int rc = 0;
    for (int i = first; i < argc && rc == 0; i++) {
        size_t len = 0;
        char *body = slurp(argv[i], &len);
        size_t reply = body == NULL ? 0 : one(&ctx, validate, body, len);
        if (reply == 0) {
            fprintf(stderr, "admission_cpu: %s: not accepted\n", argv[i]);
            rc = 1;
        } else {
            double t0 = now_ns();
            for (long n = 0; n < iterations; n++) {
                one(&ctx, validate, body, len);
            }
            double per = (now_ns() - t0) / (double)iterations;
            const char *base = strrchr(argv[i], '/');
            printf("{\"file\":\"%s\",\"iterations\":%ld,\"ns_per_request\":%.0f,\"reply_bytes\":%"
                   "zu}\n",
                   base != NULL ? base + 1 : argv[i], iterations, per, reply);
        }
        free(body);
    }
    inject_runtime_free(ctx.injector);
    object_source_free(ctx.objects);
    return rc;
}
