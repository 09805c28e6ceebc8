/*
 * test_inject: the pure planner (inject_plan) on small pods: what is added
 * where, every skip (quiet and warned), env rules, modes, reuse of kagenti's
 * volumes, the reinvocation no-op, and the endpoint parser. The golden cases
 * (tests/data/inject) cover whole realistic pods.
 */
#include "common/json_patch.h"
#include "injector/inject.h"
#include "tests/unit/inject_test_util.h"
#include "tests/unit/unit.h"

#include <stdlib.h>
#include <string.h>

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    return v;
}

#define POD_A                                                                                      \
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"team-"   \
    "a\"},"                                                                                        \
    "\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"busybox\"}]}}"

typedef struct {
    inject_config cfg;
    inject_gateway gws[2];
    json_t *labels;
    inject_input in;
    inject_result res;
    json_t *pod;
    jv_doc doc;      /* the pod as the planner reads it */
    json_t *patched; /* the pod with res.patch applied */
} fixture;

static void fixture_init(fixture *f, const char *pod)
{
    memset(f, 0, sizeof *f);
    char err[200];
    CU_ASSERT_EQUAL_FATAL(inject_config_build(NULL, &f->cfg, err, sizeof err), 0);
    f->gws[0] = (inject_gateway){"team-a-mtls", "ai-gateway", "https://gw.envoy.svc:8443",
                                 "team-a-mtls-gateway-ca"};
    f->gws[1] =
        (inject_gateway){"other-mtls", "other", "https://other.envoy.svc", "other-mtls-gateway-ca"};
    f->labels = J("{\"aigateway.kagenti.dev/inject\":\"enabled\"}");
    f->pod = J(pod);
    f->in = (inject_input){.pod = NULL,
                           .ns = NULL,
                           .ns_known = 1,
                           .ns_labels = f->labels,
                           .gateways = f->gws,
                           .n_gateways = 1,
                           .native_sidecars = 1,
                           .cfg = &f->cfg};
}

static void fixture_plan(fixture *f)
{
    inject_result_free(&f->res);
    json_decref(f->patched);
    f->patched = NULL;
    jv_doc_free(&f->doc);
    CU_ASSERT_EQUAL_FATAL(jv_from_json(&f->doc, f->pod, NULL, 0), 0);
    f->in.pod = f->doc.root;
    CU_ASSERT_EQUAL_FATAL(inject_plan(&f->in, &f->res), 0);
    char err[200];
    json_t *patch = test_patch_json(&f->res);
    CU_ASSERT_PTR_NOT_NULL_FATAL(patch);
    CU_ASSERT_EQUAL_FATAL(json_patch_apply(f->pod, patch, &f->patched, err, sizeof err), 0);
    json_decref(patch);
}

static void fixture_free(fixture *f)
{
    inject_result_free(&f->res);
    jv_doc_free(&f->doc);
    inject_config_free(&f->cfg);
    json_decref(f->labels);
    json_decref(f->pod);
    json_decref(f->patched);
}

static const char *S(const json_t *doc, const char *ptr)
{
    return json_string_value(json_pointer_get(doc, ptr));
}

static int has_warning(const fixture *f, const char *needle)
{
    size_t i;
    json_t *w;
    json_array_foreach(f->res.warnings, i, w)
    {
        if (strstr(json_string_value(w), needle) != NULL) {
            return 1;
        }
    }
    return 0;
}

/* The env value of `name` in container 0 of the patched pod, or NULL. */
static const char *app_env(const fixture *f, size_t container, const char *name)
{
    const json_t *c = json_array_get(json_pointer_get(f->patched, "/spec/containers"), container);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(c, "env"), i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "name")), name) == 0) {
            return json_string_value(json_object_get(e, "value"));
        }
    }
    return NULL;
}

static void test_native_injection(void)
{
    fixture f;
    fixture_init(&f, POD_A);
    fixture_plan(&f);
    CU_ASSERT_EQUAL(f.res.outcome, INJECT_DONE);
    CU_ASSERT_PTR_NULL(f.res.skip_reason);
    CU_ASSERT_EQUAL(json_array_size(f.res.warnings), 0);
    CU_ASSERT_STRING_EQUAL(S(f.patched, "/spec/initContainers/0/name"), "aigw-spiffe-helper");
    CU_ASSERT_STRING_EQUAL(S(f.patched, "/spec/initContainers/0/restartPolicy"), "Always");
    CU_ASSERT_STRING_EQUAL(S(f.patched, "/spec/initContainers/1/name"), "aigw-egress");
    CU_ASSERT_STRING_EQUAL(S(f.patched, "/spec/initContainers/1/args/2"),
                           "--target=gw.envoy.svc:8443");
    CU_ASSERT_EQUAL(json_integer_value(json_pointer_get(
                        f.patched, "/spec/initContainers/0/startupProbe/httpGet/port")),
                    17081);
    CU_ASSERT_EQUAL(json_integer_value(json_pointer_get(
                        f.patched, "/spec/initContainers/1/securityContext/runAsUser")),
                    1337);
    CU_ASSERT_STRING_EQUAL(
        S(f.patched, "/spec/initContainers/1/securityContext/capabilities/drop/0"), "ALL");
    /* ghostunnel never gets SPIFFE_ENDPOINT_SOCKET (it would switch to workload-API mode). */
    CU_ASSERT_PTR_NULL(json_pointer_get(f.patched, "/spec/initContainers/1/env"));
    CU_ASSERT_STRING_EQUAL(app_env(&f, 0, "OPENAI_BASE_URL"), "http://127.0.0.1:17080/v1");
    CU_ASSERT_STRING_EQUAL(app_env(&f, 0, "AIGW_GATEWAY_URL"), "https://gw.envoy.svc:8443");
    CU_ASSERT_STRING_EQUAL(app_env(&f, 0, "AIGW_SVID_DIR"), "/var/run/secrets/aigw/svid");
    CU_ASSERT_PTR_NULL(app_env(&f, 0, "AIGW_CA_FILE"));
    CU_ASSERT_STRING_EQUAL(S(f.patched, "/spec/containers/0/volumeMounts/0/name"), "svid-output");
    CU_ASSERT(
        json_is_true(json_pointer_get(f.patched, "/spec/containers/0/volumeMounts/0/readOnly")));
    CU_ASSERT_STRING_EQUAL(S(f.patched, "/spec/volumes/0/csi/driver"), "csi.spiffe.io");
    CU_ASSERT_STRING_EQUAL(S(f.patched, "/spec/volumes/1/emptyDir/medium"), "Memory");
    CU_ASSERT_STRING_EQUAL(S(f.patched, "/spec/volumes/2/configMap/name"),
                           "team-a-mtls-gateway-ca");
    const char *status = S(f.patched, "/metadata/annotations/aigateway.kagenti.dev~1status");
    CU_ASSERT_PTR_NOT_NULL_FATAL(status);
    CU_ASSERT(strstr(status, "\"policy\":\"team-a-mtls\"") != NULL);
    CU_ASSERT(strstr(status, "\"sidecars\":\"native\"") != NULL);
    /* No default-container annotation with native sidecars (they are not in containers). */
    CU_ASSERT_PTR_NULL(json_pointer_get(
        f.patched, "/metadata/annotations/kubectl.kubernetes.io~1default-container"));
    fixture_free(&f);
}

static void test_reinvocation_is_noop(void)
{
    fixture f;
    fixture_init(&f, POD_A);
    fixture_plan(&f);
    json_decref(f.pod);
    f.pod = json_incref(f.patched);
    fixture_plan(&f);
    CU_ASSERT_EQUAL(f.res.outcome, INJECT_SKIP_QUIET);
    CU_ASSERT_EQUAL(test_patch_ops(&f.res), 0);
    CU_ASSERT_EQUAL(json_array_size(f.res.warnings), 0);
    fixture_free(&f);
}

static void test_regular_sidecars(void)
{
    fixture f;
    fixture_init(&f, POD_A);
    f.in.native_sidecars = 0;
    fixture_plan(&f);
    CU_ASSERT_EQUAL(f.res.outcome, INJECT_DONE);
    CU_ASSERT_STRING_EQUAL(S(f.patched, "/spec/containers/0/name"), "aigw-spiffe-helper");
    CU_ASSERT_STRING_EQUAL(S(f.patched, "/spec/containers/1/name"), "aigw-egress");
    CU_ASSERT_STRING_EQUAL(S(f.patched, "/spec/containers/2/name"), "app");
    CU_ASSERT_PTR_NULL(json_pointer_get(f.patched, "/spec/containers/0/restartPolicy"));
    CU_ASSERT_PTR_NULL(json_pointer_get(f.patched, "/spec/initContainers"));
    /* env went to the app (index 0 before the insert), not to the sidecars */
    CU_ASSERT_STRING_EQUAL(app_env(&f, 2, "OPENAI_BASE_URL"), "http://127.0.0.1:17080/v1");
    CU_ASSERT_PTR_NULL(app_env(&f, 1, "OPENAI_BASE_URL"));
    CU_ASSERT_STRING_EQUAL(
        S(f.patched, "/metadata/annotations/kubectl.kubernetes.io~1default-container"), "app");
    fixture_free(&f);
}

static void expect_quiet(const char *pod, const char *ns, const char *reason_part)
{
    fixture f;
    fixture_init(&f, pod);
    f.in.ns = ns;
    fixture_plan(&f);
    CU_ASSERT_EQUAL(f.res.outcome, INJECT_SKIP_QUIET);
    CU_ASSERT_EQUAL(test_patch_ops(&f.res), 0);
    CU_ASSERT_EQUAL(json_array_size(f.res.warnings), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f.res.skip_reason);
    CU_ASSERT(strstr(f.res.skip_reason, reason_part) != NULL);
    fixture_free(&f);
}

static void test_quiet_skips(void)
{
    expect_quiet(POD_A, "kube-system", "never injected");
    expect_quiet(POD_A, "kube-public", "never injected");
    expect_quiet(POD_A, "kube-node-lease", "never injected");
    expect_quiet(POD_A, "aigw-system", "aigw's own namespace");
    expect_quiet("{\"metadata\":{\"labels\":{\"aigateway.kagenti.dev/inject\":\"disabled\"}},"
                 "\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}}",
                 "team-a", "opted out");
    expect_quiet("{\"metadata\":{\"annotations\":{\"aigateway.kagenti.dev/status\":\"{}\"}},"
                 "\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}}",
                 "team-a", "already injected");
    expect_quiet("{\"metadata\":{},\"spec\":{}}", "team-a", "no containers");
    expect_quiet("{\"metadata\":{\"annotations\":[]},\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
                 "team-a", "malformed");
    /* namespace without the label */
    fixture f;
    fixture_init(&f, POD_A);
    json_object_set_new(f.labels, "aigateway.kagenti.dev/inject", json_string("yes"));
    fixture_plan(&f);
    CU_ASSERT_EQUAL(f.res.outcome, INJECT_SKIP_QUIET);
    CU_ASSERT(strstr(f.res.skip_reason, "not opted in") != NULL);
    fixture_free(&f);
}

/* Plans `pod` with a tweak and expects a warned skip whose reason contains `part`. */
static void expect_warned(fixture *f, const char *part)
{
    fixture_plan(f);
    CU_ASSERT_EQUAL(f->res.outcome, INJECT_SKIP_WARN);
    CU_ASSERT_EQUAL(test_patch_ops(&f->res), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->res.skip_reason);
    CU_ASSERT(strstr(f->res.skip_reason, part) != NULL);
    const char *w0 = json_string_value(json_array_get(f->res.warnings, 0));
    CU_ASSERT_PTR_NOT_NULL_FATAL(w0);
    CU_ASSERT(strncmp(w0, "aigw: pod not injected: ", 24) == 0);
    CU_ASSERT(strstr(w0, part) != NULL);
}

static void test_warned_skips(void)
{
    fixture f;
    fixture_init(&f, POD_A);
    f.in.ns_known = 0;
    expect_warned(&f, "not known");
    fixture_free(&f);

    fixture_init(&f, "{\"metadata\":{\"namespace\":\"team-a\"},\"spec\":{\"hostNetwork\":true,"
                     "\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}}");
    expect_warned(&f, "hostNetwork");
    fixture_free(&f);

    fixture_init(&f, POD_A);
    f.in.n_gateways = 0;
    expect_warned(&f, "no AIAccessPolicy in namespace team-a");
    fixture_free(&f);

    fixture_init(&f, POD_A);
    f.in.n_gateways = 2;
    expect_warned(&f, "2 AIAccessPolicies");
    fixture_free(&f);

    fixture_init(&f, POD_A);
    f.gws[0].endpoint = NULL;
    expect_warned(&f, "no status.endpoint");
    fixture_free(&f);

    fixture_init(&f, POD_A);
    f.gws[0].endpoint = "https://gw.svc:99999";
    expect_warned(&f, "port out of range");
    fixture_free(&f);

    fixture_init(&f, "{\"metadata\":{},\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\","
                     "\"ports\":[{\"containerPort\":17081}]}]}}");
    expect_warned(&f, "port 17081");
    fixture_free(&f);

    fixture_init(&f,
                 "{\"metadata\":{},\"spec\":{\"initContainers\":[{\"name\":\"i\",\"image\":\"x\","
                 "\"ports\":[{\"containerPort\":17080}]}],\"containers\":[{\"name\":\"a\"}]}}");
    expect_warned(&f, "port 17080");
    fixture_free(&f);

    fixture_init(&f,
                 "{\"metadata\":{},\"spec\":{\"containers\":[{\"name\":\"aigw-spiffe-helper\"}]}}");
    expect_warned(&f, "container named aigw-spiffe-helper");
    fixture_free(&f);

    fixture_init(&f, "{\"metadata\":{},\"spec\":{\"containers\":[{\"name\":\"a\"}],"
                     "\"volumes\":[{\"name\":\"spire-agent-socket\",\"emptyDir\":{}}]}}");
    expect_warned(&f, "volume spire-agent-socket");
    fixture_free(&f);

    fixture_init(&f,
                 "{\"metadata\":{},\"spec\":{\"containers\":[{\"name\":\"a\"}],"
                 "\"volumes\":[{\"name\":\"aigw-gateway-ca\",\"configMap\":{\"name\":\"x\"}}]}}");
    expect_warned(&f, "volume aigw-gateway-ca");
    fixture_free(&f);

    fixture_init(&f, "{\"metadata\":{\"annotations\":{\"aigateway.kagenti.dev/gateway\":\"nope\"}},"
                     "\"spec\":{\"containers\":[{\"name\":\"a\"}]}}");
    expect_warned(&f, "targets Gateway nope");
    fixture_free(&f);

    fixture_init(&f, "{\"metadata\":{\"annotations\":{\"aigateway.kagenti.dev/mode\":\"tunnel\"}},"
                     "\"spec\":{\"containers\":[{\"name\":\"a\"}]}}");
    expect_warned(&f, "unknown mode");
    fixture_free(&f);
}

static void test_gateway_choice(void)
{
    fixture f;
    fixture_init(&f,
                 "{\"metadata\":{\"annotations\":{\"aigateway.kagenti.dev/gateway\":\"other\"}},"
                 "\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}}");
    f.in.n_gateways = 2;
    fixture_plan(&f);
    CU_ASSERT_EQUAL(f.res.outcome, INJECT_DONE);
    CU_ASSERT_STRING_EQUAL(S(f.patched, "/spec/initContainers/1/args/2"),
                           "--target=other.envoy.svc:443");
    CU_ASSERT_STRING_EQUAL(S(f.patched, "/spec/volumes/2/configMap/name"), "other-mtls-gateway-ca");
    fixture_free(&f);

    fixture_init(&f, "{\"metadata\":{\"annotations\":{\"aigateway.kagenti.dev/gateway-url\":"
                     "\"https://[fd00::1]:9443/\"}},\"spec\":{\"containers\":[{\"name\":\"a\"}]}}");
    f.gws[0].endpoint = NULL;
    fixture_plan(&f);
    CU_ASSERT_EQUAL(f.res.outcome, INJECT_DONE);
    CU_ASSERT_STRING_EQUAL(S(f.patched, "/spec/initContainers/1/args/2"),
                           "--target=[fd00::1]:9443");
    CU_ASSERT_STRING_EQUAL(app_env(&f, 0, "AIGW_GATEWAY_URL"), "https://[fd00::1]:9443");
    fixture_free(&f);
}

static void test_env_rules(void)
{
    fixture f;
    fixture_init(&f, "{\"metadata\":{},\"spec\":{\"containers\":["
                     "{\"name\":\"a\",\"env\":[{\"name\":\"OPENAI_BASE_URL\",\"value\":\"https://"
                     "api.openai.com/v1\"},"
                     "{\"name\":\"OPENAI_API_KEY\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"k\","
                     "\"key\":\"k\"}}},"
                     "{\"name\":\"HTTPS_PROXY\",\"value\":\"http://proxy:3128\"}]},"
                     "{\"name\":\"b\",\"envFrom\":[{\"configMapRef\":{\"name\":\"c\"}}]},"
                     "{\"name\":\"istio-proxy\"}]}}");
    fixture_plan(&f);
    CU_ASSERT_EQUAL(f.res.outcome, INJECT_DONE);
    /* user values stay; missing ones are added; no duplicates */
    CU_ASSERT_STRING_EQUAL(app_env(&f, 0, "OPENAI_BASE_URL"), "https://api.openai.com/v1");
    CU_ASSERT_STRING_EQUAL(app_env(&f, 0, "OPENAI_API_BASE"), "http://127.0.0.1:17080/v1");
    CU_ASSERT_PTR_NULL(app_env(&f, 0, "OPENAI_API_KEY")); /* valueFrom kept, not replaced */
    CU_ASSERT_STRING_EQUAL(app_env(&f, 0, "NO_PROXY"), "127.0.0.1,localhost");
    size_t n_key = 0, i;
    json_t *e;
    json_array_foreach(json_pointer_get(f.patched, "/spec/containers/0/env"), i, e)
    {
        n_key += strcmp(json_string_value(json_object_get(e, "name")), "OPENAI_API_KEY") == 0;
    }
    CU_ASSERT_EQUAL(n_key, 1);
    CU_ASSERT(has_warning(&f, "container a sets OPENAI_BASE_URL=https://api.openai.com/v1"));
    CU_ASSERT(has_warning(&f, "container b uses envFrom"));
    CU_ASSERT_PTR_NULL(json_pointer_get(f.patched, "/spec/containers/1/env"));
    CU_ASSERT_PTR_NOT_NULL(json_pointer_get(f.patched, "/spec/containers/1/volumeMounts/0"));
    /* ignored container: untouched */
    CU_ASSERT_PTR_NULL(json_pointer_get(f.patched, "/spec/containers/2/env"));
    CU_ASSERT_PTR_NULL(json_pointer_get(f.patched, "/spec/containers/2/volumeMounts"));
    fixture_free(&f);

    fixture_init(&f, "{\"metadata\":{},\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":["
                     "{\"name\":\"http_proxy\",\"value\":\"http://p:1\"},"
                     "{\"name\":\"no_proxy\",\"value\":\"localhost,127.0.0.1,.svc\"}]}]}}");
    fixture_plan(&f);
    CU_ASSERT_STRING_EQUAL(app_env(&f, 0, "no_proxy"), "localhost,127.0.0.1,.svc");
    CU_ASSERT_PTR_NULL(app_env(&f, 0, "NO_PROXY"));
    fixture_free(&f);

    fixture_init(&f, "{\"metadata\":{},\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":["
                     "{\"name\":\"HTTP_PROXY\",\"value\":\"http://p:1\"},"
                     "{\"name\":\"NO_PROXY\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"c\","
                     "\"key\":\"k\"}}}]}]}}");
    fixture_plan(&f);
    CU_ASSERT_EQUAL(f.res.outcome, INJECT_DONE);
    CU_ASSERT(has_warning(&f, "sets NO_PROXY from valueFrom"));
    fixture_free(&f);
}

static void test_files_mode(void)
{
    fixture f;
    fixture_init(&f, "{\"metadata\":{\"annotations\":{\"aigateway.kagenti.dev/mode\":\"files\"}},"
                     "\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"HTTPS_PROXY\","
                     "\"value\":\"http://p:1\"}]}]}}");
    fixture_plan(&f);
    CU_ASSERT_EQUAL(f.res.outcome, INJECT_DONE);
    CU_ASSERT_EQUAL(json_array_size(json_pointer_get(f.patched, "/spec/initContainers")), 1);
    CU_ASSERT_STRING_EQUAL(S(f.patched, "/spec/initContainers/0/name"), "aigw-spiffe-helper");
    CU_ASSERT_STRING_EQUAL(app_env(&f, 0, "OPENAI_BASE_URL"), "https://gw.envoy.svc:8443/v1");
    CU_ASSERT_STRING_EQUAL(app_env(&f, 0, "AIGW_CA_FILE"),
                           "/var/run/secrets/aigw/gateway-ca/ca.crt");
    CU_ASSERT_STRING_EQUAL(app_env(&f, 0, "NO_PROXY"), "127.0.0.1,localhost,gw.envoy.svc");
    CU_ASSERT_STRING_EQUAL(S(f.patched, "/spec/containers/0/volumeMounts/1/name"),
                           "aigw-gateway-ca");
    CU_ASSERT_EQUAL(
        json_integer_value(json_pointer_get(f.patched, "/spec/securityContext/fsGroup")), 1337);
    fixture_free(&f);
}

static void test_kagenti_reuse(void)
{
    fixture f;
    fixture_init(
        &f, "{\"metadata\":{},\"spec\":{\"containers\":[{\"name\":\"a\"},"
            "{\"name\":\"spiffe-helper\",\"image\":\"ghcr.io/spiffe/spiffe-helper:0.10.0\","
            "\"volumeMounts\":[{\"name\":\"svid-output\",\"mountPath\":\"/opt\"}]}],"
            "\"volumes\":[{\"name\":\"spire-agent-socket\",\"csi\":{\"driver\":\"csi.spiffe.io\"}},"
            "{\"name\":\"svid-output\",\"emptyDir\":{}}]}}");
    fixture_plan(&f);
    CU_ASSERT_EQUAL(f.res.outcome, INJECT_DONE);
    CU_ASSERT_EQUAL(json_array_size(json_pointer_get(f.patched, "/spec/volumes")), 3);
    CU_ASSERT_EQUAL(json_array_size(json_pointer_get(f.patched, "/spec/initContainers")), 1);
    CU_ASSERT_STRING_EQUAL(S(f.patched, "/spec/initContainers/0/name"), "aigw-egress");
    CU_ASSERT(strstr(S(f.patched, "/metadata/annotations/aigateway.kagenti.dev~1status"),
                     "\"svidFromKagenti\":true") != NULL);
    /* kagenti's helper is not an agent: no env */
    CU_ASSERT_PTR_NULL(json_pointer_get(f.patched, "/spec/containers/1/env"));
    fixture_free(&f);

    /* the volumes alone: reused, our helper still added */
    fixture_init(&f, "{\"metadata\":{},\"spec\":{\"containers\":[{\"name\":\"a\"}],"
                     "\"volumes\":[{\"name\":\"svid-output\",\"emptyDir\":{}}]}}");
    fixture_plan(&f);
    CU_ASSERT_EQUAL(json_array_size(json_pointer_get(f.patched, "/spec/volumes")), 3);
    CU_ASSERT_STRING_EQUAL(S(f.patched, "/spec/volumes/0/name"), "svid-output");
    CU_ASSERT_STRING_EQUAL(S(f.patched, "/spec/initContainers/0/name"), "aigw-spiffe-helper");
    fixture_free(&f);
}

static void test_null_members_are_absent(void)
{
    fixture f;
    fixture_init(&f,
                 "{\"metadata\":{\"annotations\":null,\"labels\":null},\"spec\":{\"volumes\":null,"
                 "\"initContainers\":null,\"containers\":[{\"name\":\"istio-proxy\"},"
                 "{\"name\":\"app\",\"env\":null}]}}");
    f.in.native_sidecars = 0;
    fixture_plan(&f);
    CU_ASSERT_EQUAL(f.res.outcome, INJECT_DONE);
    CU_ASSERT_EQUAL(json_array_size(json_pointer_get(f.patched, "/spec/volumes")), 3);
    CU_ASSERT_STRING_EQUAL(app_env(&f, 3, "AIGW_SVID_DIR"), "/var/run/secrets/aigw/svid");
    /* the default container is the first app container, not the ignored istio-proxy */
    CU_ASSERT_STRING_EQUAL(
        S(f.patched, "/metadata/annotations/kubectl.kubernetes.io~1default-container"), "app");
    fixture_free(&f);
}

static void test_parse_endpoint(void)
{
    char *t = NULL, *n = NULL, err[200];
    CU_ASSERT_EQUAL(inject_parse_endpoint("https://a.b.svc:8443", &t, &n, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(t, "a.b.svc:8443");
    CU_ASSERT_STRING_EQUAL(n, "https://a.b.svc:8443");
    free(t);
    free(n);
    CU_ASSERT_EQUAL(inject_parse_endpoint("https://gw.example/prefix//", &t, &n, err, sizeof err),
                    0);
    CU_ASSERT_STRING_EQUAL(t, "gw.example:443");
    CU_ASSERT_STRING_EQUAL(n, "https://gw.example/prefix");
    free(t);
    free(n);
    static const char *const bad[] = {
        "http://a:1",       "https://",      "https://:443",    "https://a:",  "https://a:0",
        "https://a:123456", "https://a:8x",  "https://a?x=1",   "https://a b", "https://[zz]:1",
        "https://[::1]x",   "https://a/b c", "https://us@er:1", "ftp://a"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL(inject_parse_endpoint(bad[i], &t, &n, err, sizeof err), -1);
        CU_ASSERT_PTR_NULL(t);
        CU_ASSERT_PTR_NULL(n);
    }
}

UNIT_SUITE(inject, UNIT_CASE(test_native_injection), UNIT_CASE(test_reinvocation_is_noop),
           UNIT_CASE(test_regular_sidecars), UNIT_CASE(test_quiet_skips),
           UNIT_CASE(test_warned_skips), UNIT_CASE(test_gateway_choice), UNIT_CASE(test_env_rules),
           UNIT_CASE(test_files_mode), UNIT_CASE(test_kagenti_reuse),
           UNIT_CASE(test_null_members_are_absent), UNIT_CASE(test_parse_endpoint))
