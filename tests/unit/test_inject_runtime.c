/*
 * test_inject_runtime: the injector config (defaults, overlay, rejects), the
 * runtime (config file load and reload keeping the last good config, the
 * Namespace/AIAccessPolicy cache fed by lists and watch events, readiness,
 * native-sidecar decision from the server version) and the /mutate-pods
 * handler on AdmissionReview requests.
 */
#include "common/json_patch.h"
#include "common/log.h"
#include "injector/runtime.h"
#include "tests/unit/inject_test_util.h"
#include "tests/unit/unit.h"
#include "webhook/admission.h"
#include "webhook/handlers.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    return v;
}

static int build_from(const char *text, char *err, size_t errlen)
{
    json_t *user = J(text);
    inject_config cfg;
    int rc = inject_config_build(user, &cfg, err, errlen);
    if (rc == 0) {
        inject_config_free(&cfg);
    }
    json_decref(user);
    return rc;
}

static void test_config_defaults(void)
{
    inject_config cfg;
    char err[200];
    CU_ASSERT_EQUAL_FATAL(inject_config_build(NULL, &cfg, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(cfg.helper_image, "ghcr.io/spiffe/spiffe-helper:0.10.1");
    CU_ASSERT_STRING_EQUAL(cfg.egress_image, "ghostunnel/ghostunnel:v1.8.4");
    CU_ASSERT_EQUAL(cfg.egress_port, 17080);
    CU_ASSERT_EQUAL(cfg.health_port, 17081);
    CU_ASSERT_EQUAL(cfg.run_as_user, 1337);
    CU_ASSERT_EQUAL(cfg.native, INJECT_NATIVE_AUTO);
    CU_ASSERT_EQUAL(cfg.n_base_url_env, 3);
    CU_ASSERT_STRING_EQUAL(cfg.base_url_env[2], "LLM_API_BASE");
    CU_ASSERT_STRING_EQUAL(cfg.svid_volume, "svid-output");
    CU_ASSERT_STRING_EQUAL(cfg.own_namespace, "aigw-system");
    inject_config_free(&cfg);
}

static void test_config_overlay(void)
{
    json_t *user =
        J("{\"ports\":{\"helperHealth\":17091},\"nativeSidecars\":false,"
          "\"names\":{\"egressContainer\":\"llm-egress\"},\"env\":{\"apiKey\":[\"K\"]}}");
    inject_config cfg;
    char err[200];
    CU_ASSERT_EQUAL_FATAL(inject_config_build(user, &cfg, err, sizeof err), 0);
    CU_ASSERT_EQUAL(cfg.health_port, 17091);
    CU_ASSERT_EQUAL(cfg.egress_port, 17080);
    CU_ASSERT_EQUAL(cfg.native, INJECT_NATIVE_FALSE);
    CU_ASSERT_STRING_EQUAL(cfg.egress_container, "llm-egress");
    CU_ASSERT_STRING_EQUAL(cfg.helper_container, "aigw-spiffe-helper");
    CU_ASSERT_EQUAL(cfg.n_api_key_env, 1);
    inject_config_free(&cfg);
    json_decref(user);
}

static void test_config_rejects(void)
{
    char err[200];
    static const struct {
        const char *doc, *msg;
    } bad[] = {
        {"{\"port\":{}}", "port: unknown key"},
        {"{\"ports\":{\"egres\":1}}", "ports.egres: unknown key"},
        {"{\"ports\":{\"egress\":\"17080\"}}", "ports.egress: wrong type"},
        {"{\"ports\":{\"egress\":0}}", "ports: must be between"},
        {"{\"ports\":{\"egress\":4294984376}}", "ports: must be between"},
        {"{\"ports\":{\"helperHealth\":17080}}", "must differ"},
        {"{\"ports\":{\"helperHealth\":8081}}", "AuthBridge"},
        {"{\"runAsUser\":0}", "non-root"},
        {"{\"nativeSidecars\":\"maybe\"}", "nativeSidecars"},
        {"{\"imagePullPolicy\":\"Sometimes\"}", "imagePullPolicy"},
        {"{\"images\":{\"egress\":\"\"}}", "images"},
        {"{\"names\":{\"svidVolume\":\"Bad_Name\"}}", "names.svidVolume"},
        {"{\"names\":{\"caVolume\":\"svid-output\"}}", "different names"},
        {"{\"env\":{\"baseURL\":[\"1BAD\"]}}", "env.baseURL[0]"},
        {"{\"env\":{\"gatewayURL\":\"A=B\"}}", "env.gatewayURL"},
        {"{\"resources\":{\"egress\":{\"limits\":{\"memory\":\"lots\"}}}}", "resources.egress"},
        {"{\"reloadInterval\":\"soon\"}", "reloadInterval"},
        {"{\"ownNamespace\":\"\"}", "ownNamespace"},
        {"{\"ignoredContainers\":[\"UPPER\"]}", "ignoredContainers[0]"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        CU_ASSERT_EQUAL(build_from(bad[i].doc, err, sizeof err), -1);
        if (strstr(err, bad[i].msg) == NULL) {
            fprintf(stderr, "config %s: got \"%s\", want \"%s\"\n", bad[i].doc, err, bad[i].msg);
            CU_FAIL("wrong config error");
        }
    }
    inject_native_mode m;
    CU_ASSERT_EQUAL(inject_native_mode_parse("true", &m), 0);
    CU_ASSERT_EQUAL(m, INJECT_NATIVE_TRUE);
    CU_ASSERT_EQUAL(inject_native_mode_parse("yes", &m), -1);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

/* Moves the file's mtime so a rewrite within the same clock tick is still seen. */
static void bump_mtime(const char *path, long sec)
{
    struct timespec ts[2] = {{sec, 0}, {sec, 0}};
    CU_ASSERT_EQUAL(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void test_runtime_config_reload(void)
{
    char dir[] = "/tmp/aigw-inject-test.XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/config.yaml", dir);
    write_file(path, "ports:\n  helperHealth: 17091\n");
    char err[300];
    inject_runtime_options opts = {.config_path = path, .native_override = -1};
    inject_runtime *rt = inject_runtime_new(&opts, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
    inject_runtime_mark_synced(rt);
    json_t *pod =
        J("{\"metadata\":{\"namespace\":\"x\"},\"spec\":{\"containers\":[{\"name\":\"a\"}]}}");
    json_t *ns = J("{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"x\",\"labels\":"
                   "{\"aigateway.kagenti.dev/inject\":\"enabled\"}}}");
    json_t *pol =
        J("{\"kind\":\"AIAccessPolicy\",\"metadata\":{\"name\":\"p\",\"namespace\":\"x\"},"
          "\"spec\":{\"targetRef\":{\"name\":\"g\"}},\"status\":{\"endpoint\":\"https://g.svc\"}}");
    CU_ASSERT_EQUAL(inject_runtime_apply_event(rt, NULL, "ADDED", ns), 0);
    CU_ASSERT_EQUAL(inject_runtime_apply_event(rt, NULL, "ADDED", pol), 0);

    inject_result r;
    CU_ASSERT_EQUAL_FATAL(test_runtime_plan(rt, pod, NULL, &r), 0);
    CU_ASSERT_EQUAL(r.outcome, INJECT_DONE);
    json_t *patched = NULL;
    CU_ASSERT_EQUAL(test_apply_result(pod, &r, &patched, err, sizeof err), 0);
    CU_ASSERT_EQUAL(json_integer_value(json_pointer_get(
                        patched, "/spec/initContainers/0/startupProbe/httpGet/port")),
                    17091);
    json_decref(patched);
    inject_result_free(&r);

    /* unchanged file: nothing to do */
    CU_ASSERT_EQUAL(inject_runtime_reload_config(rt), 0);
    /* a bad file: rejected, the last good config stays (health port 17091) */
    int fd = open("/dev/null", O_WRONLY);
    log_set_fd(fd);
    write_file(path, "ports:\n  helperHealth: 8081\n");
    bump_mtime(path, 1000000);
    CU_ASSERT_EQUAL(inject_runtime_reload_config(rt), -1);
    CU_ASSERT_EQUAL(inject_runtime_reload_config(rt), 0); /* reported once */
    CU_ASSERT_EQUAL_FATAL(test_runtime_plan(rt, pod, NULL, &r), 0);
    CU_ASSERT_EQUAL(r.outcome, INJECT_DONE);
    CU_ASSERT_EQUAL(test_apply_result(pod, &r, &patched, err, sizeof err), 0);
    CU_ASSERT_EQUAL(json_integer_value(json_pointer_get(
                        patched, "/spec/initContainers/0/startupProbe/httpGet/port")),
                    17091);
    json_decref(patched);
    inject_result_free(&r);
    /* a good file again: loaded */
    write_file(path, "nativeSidecars: false\n");
    bump_mtime(path, 2000000);
    CU_ASSERT_EQUAL(inject_runtime_reload_config(rt), 1);
    CU_ASSERT_EQUAL(inject_runtime_native(rt), 0);
    /* the file disappears: the last good config stays */
    unlink(path);
    CU_ASSERT_EQUAL(inject_runtime_reload_config(rt), -1);
    CU_ASSERT_EQUAL(inject_runtime_native(rt), 0);
    log_set_fd(2);
    close(fd);

    inject_runtime_free(rt);
    json_decref(pod);
    json_decref(ns);
    json_decref(pol);
    rmdir(dir);

    /* a bad file at start is an error */
    snprintf(path, sizeof path, "/nonexistent/aigw-config.yaml");
    CU_ASSERT_PTR_NULL(inject_runtime_new(&opts, err, sizeof err));
}

static void test_runtime_threaded_reload(void)
{
    char dir[] = "/tmp/aigw-inject-test.XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/config.yaml", dir);
    write_file(path, "nativeSidecars: true\n");
    char err[300];
    inject_runtime_options opts = {
        .config_path = path, .native_override = -1, .reload_interval_ms = 20};
    inject_runtime *rt = inject_runtime_new(&opts, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
    CU_ASSERT_EQUAL(inject_runtime_start(rt), 0);
    CU_ASSERT_EQUAL(inject_runtime_native(rt), 1);
    int fd = open("/dev/null", O_WRONLY);
    log_set_fd(fd);
    write_file(path, "nativeSidecars: false\n");
    bump_mtime(path, 3000000);
    int seen = 0;
    for (int i = 0; i < 200 && !seen; i++) { /* at most 2 s */
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        seen = inject_runtime_native(rt) == 0;
    }
    CU_ASSERT(seen);
    inject_runtime_free(rt); /* stops and joins the thread */
    log_set_fd(2);
    close(fd);
    unlink(path);
    rmdir(dir);
}

static void test_runtime_cache(void)
{
    char err[300];
    inject_runtime_options opts = {.native_override = -1};
    inject_runtime *rt = inject_runtime_new(&opts, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
    json_t *pod =
        J("{\"metadata\":{\"namespace\":\"t\"},\"spec\":{\"containers\":[{\"name\":\"a\"}]}}");
    inject_result r;
    /* before the first sync: skipped with a warning */
    CU_ASSERT_FALSE(inject_runtime_ready(rt));
    CU_ASSERT_EQUAL_FATAL(test_runtime_plan(rt, pod, NULL, &r), 0);
    CU_ASSERT_EQUAL(r.outcome, INJECT_SKIP_WARN);
    CU_ASSERT(strstr(json_string_value(json_array_get(r.warnings, 0)), "not synced") != NULL);
    inject_result_free(&r);

    json_t *nss = J("[{\"metadata\":{\"name\":\"t\",\"labels\":{\"aigateway.kagenti.dev/"
                    "inject\":\"enabled\"}}}]");
    json_t *pols = J("[{\"metadata\":{\"name\":\"p1\",\"namespace\":\"t\"},\"spec\":{\"targetRef\":"
                     "{\"name\":\"g1\"}},\"status\":{\"endpoint\":\"https://one.svc:8443\"}},"
                     "{\"metadata\":{\"name\":\"p2\",\"namespace\":\"t\"},\"spec\":{\"targetRef\":"
                     "{\"name\":\"g2\"}},\"status\":{\"endpoint\":\"https://two.svc:8443\"}}]");
    CU_ASSERT_EQUAL(inject_runtime_replace(rt, "Namespace", nss), 0);
    CU_ASSERT_FALSE(inject_runtime_ready(rt));
    CU_ASSERT_EQUAL(inject_runtime_replace(rt, "AIAccessPolicy", pols), 0);
    CU_ASSERT_TRUE(inject_runtime_ready(rt));
    CU_ASSERT_EQUAL(inject_runtime_replace(rt, "Secret", pols), -1);

    CU_ASSERT_EQUAL_FATAL(test_runtime_plan(rt, pod, NULL, &r), 0);
    CU_ASSERT_EQUAL(r.outcome, INJECT_SKIP_WARN); /* two gateways, no annotation */
    inject_result_free(&r);

    json_t *del =
        J("{\"kind\":\"AIAccessPolicy\",\"metadata\":{\"name\":\"p2\",\"namespace\":\"t\"}}");
    CU_ASSERT_EQUAL(inject_runtime_apply_event(rt, NULL, "DELETED", del), 0);
    CU_ASSERT_EQUAL(inject_runtime_apply_event(rt, NULL, "BOOKMARK", del), -1);
    CU_ASSERT_EQUAL_FATAL(test_runtime_plan(rt, pod, NULL, &r), 0);
    CU_ASSERT_EQUAL(r.outcome, INJECT_DONE);
    json_t *patched = NULL;
    CU_ASSERT_EQUAL(test_apply_result(pod, &r, &patched, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(
        json_string_value(json_pointer_get(patched, "/spec/volumes/2/configMap/name")),
        "p1-gateway-ca");
    json_decref(patched);
    inject_result_free(&r);

    /* the namespace loses its label through a MODIFIED event */
    json_t *mod = J("{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"t\"}}");
    CU_ASSERT_EQUAL(inject_runtime_apply_event(rt, NULL, "MODIFIED", mod), 0);
    CU_ASSERT_EQUAL_FATAL(test_runtime_plan(rt, pod, NULL, &r), 0);
    CU_ASSERT_EQUAL(r.outcome, INJECT_SKIP_QUIET);
    inject_result_free(&r);
    CU_ASSERT_EQUAL(inject_runtime_apply_event(rt, NULL, "DELETED", mod), 0);
    CU_ASSERT_EQUAL_FATAL(test_runtime_plan(rt, pod, "t", &r), 0);
    CU_ASSERT_EQUAL(r.outcome, INJECT_SKIP_WARN); /* unknown namespace now */
    inject_result_free(&r);
    /* with a cache of opted-in namespaces only, absent means not opted in */
    inject_runtime_set_opted_in_only(rt, 1);
    CU_ASSERT_EQUAL_FATAL(test_runtime_plan(rt, pod, "t", &r), 0);
    CU_ASSERT_EQUAL(r.outcome, INJECT_SKIP_QUIET);
    CU_ASSERT(strstr(r.skip_reason, "not opted in") != NULL);
    inject_result_free(&r);

    json_decref(mod);
    json_decref(del);
    json_decref(nss);
    json_decref(pols);
    json_decref(pod);
    inject_runtime_free(rt);
}

static void test_runtime_native_decision(void)
{
    char err[200];
    inject_runtime_options opts = {.native_override = -1};
    inject_runtime *rt = inject_runtime_new(&opts, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
    CU_ASSERT_EQUAL(inject_runtime_native(rt), 1); /* auto, offline */
    json_t *v = J("{\"major\":\"1\",\"minor\":\"32+\",\"gitVersion\":\"v1.32.4-eks\"}");
    CU_ASSERT_EQUAL(inject_runtime_set_server_version(rt, v), 0);
    CU_ASSERT_EQUAL(inject_runtime_native(rt), 0);
    json_decref(v);
    v = J("{\"major\":\"\",\"minor\":\"\",\"gitVersion\":\"v1.33.1\"}");
    CU_ASSERT_EQUAL(inject_runtime_set_server_version(rt, v), 0);
    CU_ASSERT_EQUAL(inject_runtime_native(rt), 1);
    json_decref(v);
    v = J("{\"major\":\"x\"}");
    CU_ASSERT_EQUAL(inject_runtime_set_server_version(rt, v), -1);
    json_decref(v);
    inject_runtime_free(rt);

    opts.native_override = INJECT_NATIVE_FALSE;
    rt = inject_runtime_new(&opts, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
    CU_ASSERT_EQUAL(inject_runtime_native(rt), 0);
    inject_runtime_free(rt);
}

static void test_ca_configmap_name(void)
{
    char *n = inject_ca_configmap_name("team-a-mtls");
    CU_ASSERT_STRING_EQUAL(n, "team-a-mtls-gateway-ca");
    free(n);
    char long_name[251];
    memset(long_name, 'a', 250);
    long_name[250] = '\0';
    long_name[241] = '-';
    n = inject_ca_configmap_name(long_name);
    CU_ASSERT_EQUAL(strlen(n), 252); /* 241 kept (the trailing - trimmed), -, 10 hex */
    free(n);
    memset(long_name, 'b', 250);
    n = inject_ca_configmap_name(long_name);
    CU_ASSERT_EQUAL(strlen(n), 253);
    CU_ASSERT_EQUAL(n[242], '-');
    free(n);
}

/* ---------------------------------------------------------------- handler */

static char *review(const char *op, const char *kind, int dry_run, const char *object)
{
    char *s = NULL;
    int n =
        asprintf(&s,
                 "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
                 "\"request\":{\"uid\":\"u-1\",\"kind\":{\"group\":\"\",\"version\":\"v1\","
                 "\"kind\":\"%s\"},\"resource\":{\"group\":\"\",\"version\":\"v1\",\"resource\":"
                 "\"pods\"},\"namespace\":\"t\",\"operation\":\"%s\",\"dryRun\":%s,\"object\":%s}}",
                 kind, op, dry_run ? "true" : "false", object);
    CU_ASSERT_FATAL(n > 0);
    return s;
}

static json_t *handle(inject_runtime *rt, const char *body)
{
    admission_request req;
    char err[200];
    CU_ASSERT_EQUAL_FATAL(admission_request_parse(body, strlen(body), &req, err, sizeof err), 0);
    webhook_context ctx = {.injector = rt};
    admission_response resp;
    admission_response_init(&resp);
    webhook_handle_mutate_pods(&ctx, &req, &resp);
    CU_ASSERT_EQUAL(resp.allowed, 1);
    char *text = admission_review_render(&req, &resp, NULL);
    json_t *out = text ? J(text) : NULL;
    free(text);
    admission_response_free(&resp);
    admission_request_free(&req);
    return out;
}

static void test_mutate_handler(void)
{
    char err[200];
    inject_runtime_options opts = {.native_override = -1};
    inject_runtime *rt = inject_runtime_new(&opts, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
    json_t *nss = J("[{\"metadata\":{\"name\":\"t\",\"labels\":{\"aigateway.kagenti.dev/"
                    "inject\":\"enabled\"}}}]");
    json_t *pols = J("[{\"metadata\":{\"name\":\"p\",\"namespace\":\"t\"},\"spec\":{\"targetRef\":"
                     "{\"name\":\"g\"}},\"status\":{\"endpoint\":\"https://g.svc:8443\"}}]");
    CU_ASSERT_EQUAL(inject_runtime_replace(rt, "Namespace", nss), 0);
    CU_ASSERT_EQUAL(inject_runtime_replace(rt, "AIAccessPolicy", pols), 0);
    const char *pod = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"
                      "\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}}";

    char *body = review("CREATE", "Pod", 0, pod);
    json_t *out = handle(rt, body);
    free(body);
    json_t *resp = json_object_get(out, "response");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(resp, "uid")), "u-1");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(resp, "patchType")), "JSONPatch");
    CU_ASSERT_PTR_NOT_NULL(json_object_get(resp, "patch"));

    body = review("CREATE", "Pod", 1, pod);
    json_t *dry = handle(rt, body);
    free(body);
    CU_ASSERT(json_equal(out, dry)); /* dryRun answers exactly the same */
    json_decref(dry);
    json_decref(out);

    static const char *const ops[][2] = {
        {"UPDATE", "Pod"}, {"CREATE", "Deployment"}, {"DELETE", "Pod"}};
    for (size_t i = 0; i < 3; i++) {
        body = review(ops[i][0], ops[i][1], 0, strcmp(ops[i][0], "DELETE") == 0 ? "null" : pod);
        out = handle(rt, body);
        free(body);
        CU_ASSERT_PTR_NULL(json_object_get(json_object_get(out, "response"), "patch"));
        json_decref(out);
    }

    /* a warned skip: allowed, no patch, the reason in warnings */
    body = review("CREATE", "Pod", 0,
                  "{\"metadata\":{\"name\":\"h\"},\"spec\":{\"hostNetwork\":true,"
                  "\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}}");
    out = handle(rt, body);
    free(body);
    resp = json_object_get(out, "response");
    CU_ASSERT_PTR_NULL(json_object_get(resp, "patch"));
    CU_ASSERT(strstr(json_string_value(json_array_get(json_object_get(resp, "warnings"), 0)),
                     "hostNetwork") != NULL);
    json_decref(out);

    /* no injector configured: plain allow */
    admission_request req;
    body = review("CREATE", "Pod", 0, pod);
    CU_ASSERT_EQUAL_FATAL(admission_request_parse(body, strlen(body), &req, err, sizeof err), 0);
    free(body);
    webhook_context none = {0};
    admission_response ar;
    admission_response_init(&ar);
    webhook_handle_mutate_pods(&none, &req, &ar);
    CU_ASSERT_EQUAL(ar.allowed, 1);
    CU_ASSERT_PTR_NULL(ar.patch);
    CU_ASSERT_EQUAL(ar.n_warnings, 0);
    admission_response_free(&ar);
    admission_request_free(&req);

    json_decref(nss);
    json_decref(pols);
    inject_runtime_free(rt);
}

UNIT_SUITE(inject_runtime, UNIT_CASE(test_config_defaults), UNIT_CASE(test_config_overlay),
           UNIT_CASE(test_config_rejects), UNIT_CASE(test_runtime_config_reload),
           UNIT_CASE(test_runtime_threaded_reload), UNIT_CASE(test_runtime_cache),
           UNIT_CASE(test_runtime_native_decision), UNIT_CASE(test_ca_configmap_name),
           UNIT_CASE(test_mutate_handler))
