/*
 * Tests for webhook/admission: parsing every field of a real AdmissionReview
 * (the captured fixtures in ../shared/testdata/admission/), refusing every kind
 * of bad input with one line, and rendering every field of the reply.
 */
#include "webhook/admission.h"
#include "tests/unit/unit.h"

#include <openssl/evp.h>

#include <stdlib.h>
#include <string.h>

static char *read_fixture(const char *name, size_t *len)
{
    char rel[256];
    snprintf(rel, sizeof rel, "testdata/admission/%s", name);
    return unit_read_file(unit_shared_path(rel), len);
}

static int parse_str(const char *body, admission_request *req, char *err, size_t errlen)
{
    return admission_request_parse(body, strlen(body), req, err, errlen);
}

static void test_parse_pod_create(void)
{
    size_t len = 0;
    char *body = read_fixture("kubewarden-policy-server_pod_create_privileged.json", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    admission_request req;
    char err[256] = "";
    CU_ASSERT_EQUAL_FATAL(admission_request_parse(body, len, &req, err, sizeof err), 0);
    CU_ASSERT_PTR_NOT_NULL(req.doc.root);
    CU_ASSERT_STRING_EQUAL(req.api_version, "admission.k8s.io/v1");
    CU_ASSERT_STRING_EQUAL(req.uid, "1299d386-525b-4032-98ae-1949f69f9cfc");
    CU_ASSERT_STRING_EQUAL(req.operation, "CREATE");
    CU_ASSERT_STRING_EQUAL(req.group, "");
    CU_ASSERT_STRING_EQUAL(req.version, "v1");
    CU_ASSERT_STRING_EQUAL(req.kind, "Pod");
    CU_ASSERT_STRING_EQUAL(req.resource, "pods");
    CU_ASSERT_PTR_NULL(req.sub_resource);
    CU_ASSERT_STRING_EQUAL(req.name, "nginx");
    CU_ASSERT_STRING_EQUAL(req.ns, "default");
    CU_ASSERT_PTR_NOT_NULL_FATAL(req.object);
    CU_ASSERT_STRING_EQUAL(jv_str(jv_get(req.object, "kind")), "Pod");
    CU_ASSERT_PTR_NULL(req.old_object); /* "oldObject": null */
    CU_ASSERT_EQUAL(req.dry_run, 0);
    admission_request_free(&req);
    CU_ASSERT_PTR_NULL(req.doc.root);
    free(body);
}

static void test_parse_rolebinding_sorted_keys(void)
{
    size_t len = 0;
    char *body = read_fixture("kubewarden-load-testing_rolebinding_create.json", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    admission_request req;
    char err[256] = "";
    CU_ASSERT_EQUAL_FATAL(admission_request_parse(body, len, &req, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(req.uid, "d1cef2cd-b56c-4d8d-8fa0-f45a20beb2f7");
    CU_ASSERT_STRING_EQUAL(req.group, "rbac.authorization.k8s.io");
    CU_ASSERT_STRING_EQUAL(req.kind, "RoleBinding");
    CU_ASSERT_STRING_EQUAL(req.resource, "rolebindings");
    CU_ASSERT_STRING_EQUAL(req.name, "read-pods");
    CU_ASSERT_PTR_NULL(req.old_object); /* no oldObject key at all */
    CU_ASSERT_PTR_NOT_NULL(req.object);
    admission_request_free(&req);
    free(body);
}

static void test_parse_delete_request_only(void)
{
    size_t len = 0;
    char *inner =
        read_fixture("kubewarden-pod-privileged-policy_pod_delete_request_only.json", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(inner);
    char err[256] = "";
    admission_request req;
    /* Bare, the request is not an AdmissionReview. */
    CU_ASSERT_EQUAL(admission_request_parse(inner, len, &req, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "AdmissionReview.kind must be a string, got object"));
    char *body = str_printf(
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":%s}",
        inner);
    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    CU_ASSERT_EQUAL_FATAL(parse_str(body, &req, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(req.operation, "DELETE");
    CU_ASSERT_STRING_EQUAL(req.uid, "6230ff1b-7dd7-42af-88d2-fbf9aecde94b");
    CU_ASSERT_PTR_NULL(req.object);
    CU_ASSERT_PTR_NOT_NULL(req.old_object);
    admission_request_free(&req);
    free(body);
    free(inner);
}

static void test_parse_optional_fields(void)
{
    const char *body =
        "{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{"
        "\"uid\":\"u1\",\"kind\":{\"group\":\"aigateway.kagenti.dev\",\"version\":\"v1alpha1\","
        "\"kind\":\"AIRoutingPolicy\"},\"operation\":\"UPDATE\",\"subResource\":\"status\","
        "\"dryRun\":true,\"object\":{\"a\":1},\"oldObject\":{\"a\":0}}}";
    admission_request req;
    char err[256] = "";
    CU_ASSERT_EQUAL_FATAL(parse_str(body, &req, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(req.group, "aigateway.kagenti.dev");
    CU_ASSERT_STRING_EQUAL(req.sub_resource, "status");
    CU_ASSERT_EQUAL(req.dry_run, 1);
    CU_ASSERT_PTR_NULL(req.name);
    CU_ASSERT_PTR_NULL(req.ns);
    CU_ASSERT_PTR_NULL(req.resource);
    CU_ASSERT_PTR_NOT_NULL(req.old_object);
    admission_request_free(&req);
    /* CONNECT with options: null and a missing group. */
    body = "{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{"
           "\"uid\":\"u2\",\"kind\":{\"version\":\"v1\",\"kind\":\"PodExecOptions\"},"
           "\"operation\":\"CONNECT\",\"options\":null,\"subResource\":\"\"}}";
    CU_ASSERT_EQUAL_FATAL(parse_str(body, &req, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(req.group, "");
    CU_ASSERT_PTR_NULL(req.sub_resource);
    CU_ASSERT_STRING_EQUAL(req.operation, "CONNECT");
    admission_request_free(&req);
}

#define ENV_HEAD "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
#define REQ_KIND "\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"}"

typedef struct {
    const char *body;
    const char *want; /* substring of the error */
} bad_case;

static const bad_case bad_cases[] = {
    {"", "empty"},
    {"not json", "not valid JSON"},
    {"{\"apiVersion\":", "not valid JSON"},
    {"[1,2]", "JSON array, not an AdmissionReview"},
    {"\"AdmissionReview\"", "JSON string"},
    {"{}", "AdmissionReview.kind is missing"},
    {"{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"request\":{}}", "kind must be \"AdmissionReview\""},
    {"{\"kind\":7,\"apiVersion\":\"v1\"}", "kind must be a string, got number"},
    {"{\"kind\":\"AdmissionReview\"}", "apiVersion is missing"},
    {"{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1beta1\"}",
     "unsupported apiVersion \"admission.k8s.io/v1beta1\""},
    {ENV_HEAD "\"response\":{}}", "AdmissionReview.request is missing"},
    {ENV_HEAD "\"request\":null}", "AdmissionReview.request is missing"},
    {ENV_HEAD "\"request\":[]}", "request must be an object, got array"},
    {ENV_HEAD "\"request\":{" REQ_KIND ",\"operation\":\"CREATE\"}}", "request.uid is missing"},
    {ENV_HEAD "\"request\":{\"uid\":\"\"," REQ_KIND ",\"operation\":\"CREATE\"}}",
     "request.uid is empty"},
    {ENV_HEAD "\"request\":{\"uid\":42," REQ_KIND ",\"operation\":\"CREATE\"}}",
     "request.uid must be a string, got number"},
    {ENV_HEAD "\"request\":{\"uid\":\"u\",\"operation\":\"CREATE\"}}", "request.kind is missing"},
    {ENV_HEAD "\"request\":{\"uid\":\"u\",\"kind\":\"Pod\",\"operation\":\"CREATE\"}}",
     "request.kind must be an object, got string"},
    {ENV_HEAD "\"request\":{\"uid\":\"u\",\"kind\":{\"version\":\"v1\",\"kind\":1},"
              "\"operation\":\"CREATE\"}}",
     "request.kind.kind must be a string"},
    {ENV_HEAD "\"request\":{\"uid\":\"u\",\"kind\":{\"kind\":\"Pod\"},\"operation\":\"CREATE\"}}",
     "request.kind.version is missing"},
    {ENV_HEAD "\"request\":{\"uid\":\"u\",\"kind\":{\"group\":false,\"version\":\"v1\","
              "\"kind\":\"Pod\"},\"operation\":\"CREATE\"}}",
     "request.kind.group must be a string, got boolean"},
    {ENV_HEAD "\"request\":{\"uid\":\"u\"," REQ_KIND "}}", "request.operation is missing"},
    {ENV_HEAD "\"request\":{\"uid\":\"u\"," REQ_KIND ",\"operation\":\"PATCH\"}}",
     "request.operation \"PATCH\" is not one of"},
    {ENV_HEAD "\"request\":{\"uid\":\"u\"," REQ_KIND ",\"operation\":\"CREATE\",\"name\":1}}",
     "request.name must be a string"},
    {ENV_HEAD "\"request\":{\"uid\":\"u\"," REQ_KIND
              ",\"operation\":\"CREATE\",\"namespace\":true}}",
     "request.namespace must be a string"},
    {ENV_HEAD "\"request\":{\"uid\":\"u\"," REQ_KIND
              ",\"operation\":\"CREATE\",\"object\":\"pod\"}}",
     "request.object must be an object, got string"},
    {ENV_HEAD "\"request\":{\"uid\":\"u\"," REQ_KIND ",\"operation\":\"UPDATE\",\"oldObject\":[]}}",
     "request.oldObject must be an object, got array"},
    {ENV_HEAD "\"request\":{\"uid\":\"u\"," REQ_KIND
              ",\"operation\":\"CREATE\",\"dryRun\":\"yes\"}}",
     "request.dryRun must be a boolean, got string"},
    {ENV_HEAD "\"request\":{\"uid\":\"u\"," REQ_KIND
              ",\"operation\":\"CREATE\",\"subResource\":3}}",
     "request.subResource must be a string"},
    {ENV_HEAD "\"request\":{\"uid\":\"u\"," REQ_KIND
              ",\"operation\":\"CREATE\",\"resource\":\"pods\"}}",
     "request.resource must be an object"},
    {ENV_HEAD "\"request\":{\"uid\":\"u\"," REQ_KIND
              ",\"operation\":\"CREATE\",\"resource\":{\"resource\":[]}}}",
     "request.resource.resource must be a string"},
    {ENV_HEAD "\"request\":{\"uid\":\"a\nb\"," REQ_KIND ",\"operation\":\"X\\nY\"}}",
     "not valid JSON"},
};

static void test_parse_bad_inputs(void)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        admission_request req;
        char err[256] = "";
        int rc = parse_str(bad_cases[i].body, &req, err, sizeof err);
        CU_ASSERT_EQUAL(rc, -1);
        if (strstr(err, bad_cases[i].want) == NULL) {
            fprintf(stderr, "case %zu: error \"%s\" lacks \"%s\"\n", i, err, bad_cases[i].want);
        }
        CU_ASSERT_PTR_NOT_NULL(strstr(err, bad_cases[i].want));
        CU_ASSERT_PTR_NULL(strchr(err, '\n'));
        CU_ASSERT_PTR_NULL(req.doc.root);
        CU_ASSERT_PTR_NULL(req.uid);
    }
    /* A NULL body and a body with a NUL byte inside. */
    admission_request req;
    char err[256] = "";
    CU_ASSERT_EQUAL(admission_request_parse(NULL, 0, &req, err, sizeof err), -1);
    CU_ASSERT_EQUAL(admission_request_parse("{\0}", 3, &req, err, sizeof err), -1);
    /* Operation "X\nY" parses as JSON but must come back as one line. */
    const char *ctl = ENV_HEAD "\"request\":{\"uid\":\"u\"," REQ_KIND ",\"operation\":\"X\\nY\"}}";
    CU_ASSERT_EQUAL(parse_str(ctl, &req, err, sizeof err), -1);
    CU_ASSERT_PTR_NULL(strchr(err, '\n'));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "\"X Y\""));
}

static const char *minimal_request =
    ENV_HEAD "\"request\":{\"uid\":\"705ab4f5-6393-11e8-b7cc-42010a800002\"," REQ_KIND
             ",\"operation\":\"CREATE\",\"object\":{\"metadata\":{\"name\":\"p\"}}}}";

/* Parses a rendered reply and returns its root; checks the fixed envelope fields. */
static json_t *render_and_load(const admission_request *req, const admission_response *resp)
{
    size_t len = 0;
    char *out = admission_review_render(req, resp, &len);
    CU_ASSERT_PTR_NOT_NULL(out);
    if (out == NULL) {
        return NULL;
    }
    CU_ASSERT_EQUAL(len, strlen(out));
    CU_ASSERT_PTR_NULL(strchr(out, '\n'));
    json_error_t jerr;
    json_t *root = json_loads(out, 0, &jerr);
    free(out);
    CU_ASSERT_PTR_NOT_NULL(root);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(root, "apiVersion")),
                           "admission.k8s.io/v1");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(root, "kind")), "AdmissionReview");
    CU_ASSERT_STRING_EQUAL(
        json_string_value(json_object_get(json_object_get(root, "response"), "uid")), req->uid);
    CU_ASSERT_PTR_NULL(json_object_get(root, "request"));
    return root;
}

static void test_render_allowed(void)
{
    admission_request req;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(parse_str(minimal_request, &req, err, sizeof err), 0);
    admission_response resp;
    admission_response_init(&resp);
    CU_ASSERT_EQUAL(resp.allowed, 1);
    json_t *root = render_and_load(&req, &resp);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    json_t *r = json_object_get(root, "response");
    CU_ASSERT_TRUE(json_is_true(json_object_get(r, "allowed")));
    CU_ASSERT_PTR_NULL(json_object_get(r, "status"));
    CU_ASSERT_PTR_NULL(json_object_get(r, "warnings"));
    CU_ASSERT_PTR_NULL(json_object_get(r, "patch"));
    CU_ASSERT_PTR_NULL(json_object_get(r, "patchType"));
    CU_ASSERT_EQUAL(json_object_size(r), 2);
    json_decref(root);
    admission_response_free(&resp);
    admission_request_free(&req);
}

static void test_render_deny(void)
{
    admission_request req;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(parse_str(minimal_request, &req, err, sizeof err), 0);
    admission_response resp;
    admission_response_init(&resp);
    admission_response_deny(&resp, 403, "Forbidden", "pods are not allowed here");
    json_t *root = render_and_load(&req, &resp);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    json_t *r = json_object_get(root, "response");
    CU_ASSERT_TRUE(json_is_false(json_object_get(r, "allowed")));
    json_t *st = json_object_get(r, "status");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(st, "code")), 403);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(st, "reason")), "Forbidden");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(st, "message")),
                           "pods are not allowed here");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(st, "status")), "Failure");
    CU_ASSERT_PTR_NULL(json_object_get(st, "details"));
    json_decref(root);
    /* A message that is not valid UTF-8 is repaired, not dropped. */
    admission_response_deny(&resp, 400, "BadRequest", "bad \xff byte");
    root = render_and_load(&req, &resp);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    st = json_object_get(json_object_get(root, "response"), "status");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(st, "message")), "bad   byte");
    json_decref(root);
    admission_response_free(&resp);
    admission_request_free(&req);
}

static void test_render_invalid(void)
{
    admission_request req;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(parse_str(minimal_request, &req, err, sizeof err), 0);
    field_errors errs;
    field_errors_init(&errs);
    field_errors_add(&errs, FIELD_DUPLICATE, "spec.models[2].name", "gpt-4o", NULL);
    field_errors_add(&errs, FIELD_REQUIRED, "spec.targetRef", NULL, NULL);
    admission_response resp;
    admission_response_init(&resp);
    admission_response_deny_invalid(&resp, "AIRoutingPolicy.aigateway.kagenti.dev", "team-a",
                                    &errs);
    field_errors_free(&errs);
    json_t *root = render_and_load(&req, &resp);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    json_t *r = json_object_get(root, "response");
    json_t *st = json_object_get(r, "status");
    CU_ASSERT_TRUE(json_is_false(json_object_get(r, "allowed")));
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(st, "code")), 422);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(st, "reason")), "Invalid");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(st, "message")),
                           "AIRoutingPolicy.aigateway.kagenti.dev \"team-a\" is invalid: "
                           "spec.models[2].name: Duplicate value: \"gpt-4o\", spec.targetRef: "
                           "Required value");
    json_t *details = json_object_get(st, "details");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(details, "name")), "team-a");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(details, "kind")), "AIRoutingPolicy");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(details, "group")),
                           "aigateway.kagenti.dev");
    json_t *causes = json_object_get(details, "causes");
    CU_ASSERT_EQUAL(json_array_size(causes), 2);
    json_t *c0 = json_array_get(causes, 0);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(c0, "reason")), "FieldValueDuplicate");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(c0, "field")), "spec.models[2].name");
    json_decref(root);
    admission_response_free(&resp);
    admission_request_free(&req);
}

static void test_warnings(void)
{
    admission_request req;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(parse_str(minimal_request, &req, err, sizeof err), 0);
    admission_response resp;
    admission_response_init(&resp);
    admission_response_warn(&resp, "provider %s is not used by any model", "azure");
    admission_response_warn(&resp, "line1\nline2\ttab\x7f\x01"
                                   "end");
    admission_response_warn(&resp, "provider %s is not used by any model", "azure");
    char long_text[600];
    memset(long_text, 'w', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    admission_response_warn(&resp, "%s", long_text);
    CU_ASSERT_EQUAL(resp.n_warnings, 3);
    CU_ASSERT_STRING_EQUAL(resp.warnings[1], "line1 line2 tab  end");
    CU_ASSERT_EQUAL(strlen(resp.warnings[2]), ADMISSION_WARNING_MAX);
    json_t *root = render_and_load(&req, &resp);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    json_t *w = json_object_get(json_object_get(root, "response"), "warnings");
    CU_ASSERT_EQUAL(json_array_size(w), 3);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(w, 0)),
                           "provider azure is not used by any model");
    CU_ASSERT_TRUE(json_is_true(json_object_get(json_object_get(root, "response"), "allowed")));
    json_decref(root);

    /* Too many warnings: the last slot says how many were left out. */
    for (int i = 0; i < ADMISSION_MAX_WARNINGS + 5; i++) {
        admission_response_warn(&resp, "warning %d", i);
    }
    root = render_and_load(&req, &resp);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    w = json_object_get(json_object_get(root, "response"), "warnings");
    CU_ASSERT_EQUAL(json_array_size(w), ADMISSION_MAX_WARNINGS);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(w, ADMISSION_MAX_WARNINGS - 1)),
                           "9 more warnings not shown");
    json_decref(root);
    admission_response_free(&resp);
    admission_request_free(&req);
}

static void test_sanitize_utf8(void)
{
    /* Multi-byte characters are kept whole; C1 controls and broken bytes become spaces. */
    char *s = admission_sanitize_warning("caf\xc3\xa9 \xc2\x85 \xe2\x82 x \xed\xa0\x80");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s, "caf\xc3\xa9      x    ");
    free(s);
    char text[ADMISSION_WARNING_MAX + 8];
    memset(text, 'a', ADMISSION_WARNING_MAX - 1);
    memcpy(text + ADMISSION_WARNING_MAX - 1, "\xe2\x82\xac", 4); /* euro sign across the cut */
    s = admission_sanitize_warning(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(strlen(s), ADMISSION_WARNING_MAX - 1);
    free(s);
}

static json_t *response_of(json_t *root)
{
    return json_object_get(root, "response");
}

static void test_patch(void)
{
    admission_request req;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(parse_str(minimal_request, &req, err, sizeof err), 0);
    admission_response resp;
    admission_response_init(&resp);
    json_t *patch = json_pack("[{s:s, s:s, s:{s:s}}]", "op", "add", "path", "/metadata/annotations",
                              "value", "aigateway.kagenti.dev/status", "injected");
    CU_ASSERT_PTR_NOT_NULL_FATAL(patch);
    char *text = json_dumps(patch, JSON_COMPACT);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    admission_response_set_patch(&resp, text, strlen(text));
    json_t *root = render_and_load(&req, &resp);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    json_t *r = response_of(root);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r, "patchType")), "JSONPatch");
    const char *b64 = json_string_value(json_object_get(r, "patch"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(b64);
    unsigned char decoded[512];
    int n = EVP_DecodeBlock(decoded, (const unsigned char *)b64, (int)strlen(b64));
    CU_ASSERT_TRUE_FATAL(n > 0);
    /* EVP_DecodeBlock counts padding bytes as NULs: trim them. */
    while (n > 0 && decoded[n - 1] == '\0') {
        n--;
    }
    json_t *back = json_loadb((const char *)decoded, (size_t)n, 0, NULL);
    CU_ASSERT_TRUE(json_equal(back, patch));
    json_decref(back);
    json_decref(patch);
    json_decref(root);

    /* A denied request never carries a patch. */
    resp.allowed = 0;
    root = render_and_load(&req, &resp);
    CU_ASSERT_PTR_NULL(json_object_get(response_of(root), "patch"));
    json_decref(root);
    resp.allowed = 1;

    /* An empty patch means none. */
    admission_response_set_patch(&resp, strdup("[]"), 2);
    root = render_and_load(&req, &resp);
    CU_ASSERT_PTR_NULL(json_object_get(response_of(root), "patch"));
    CU_ASSERT_PTR_NULL(json_object_get(response_of(root), "patchType"));
    json_decref(root);
    admission_response_free(&resp);
    admission_request_free(&req);
}

static void test_patch_dropped_on_delete(void)
{
    const char *body = ENV_HEAD "\"request\":{\"uid\":\"d\"," REQ_KIND ",\"operation\":\"DELETE\","
                                "\"oldObject\":{}}}";
    admission_request req;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(parse_str(body, &req, err, sizeof err), 0);
    admission_response resp;
    admission_response_init(&resp);
    admission_response_set_patch(&resp, strdup("[{\"op\":\"remove\",\"path\":\"/x\"}]"), 31);
    json_t *root = render_and_load(&req, &resp);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT_PTR_NULL(json_object_get(response_of(root), "patch"));
    CU_ASSERT_TRUE(json_is_true(json_object_get(response_of(root), "allowed")));
    json_decref(root);
    admission_response_free(&resp);
    admission_request_free(&req);
}

static void test_render_refuses_oom_and_null(void)
{
    admission_request req;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(parse_str(minimal_request, &req, err, sizeof err), 0);
    admission_response resp;
    admission_response_init(&resp);
    resp.oom = 1;
    CU_ASSERT_PTR_NULL(admission_review_render(&req, &resp, NULL));
    resp.oom = 0;
    CU_ASSERT_PTR_NULL(admission_review_render(NULL, &resp, NULL));
    char *out = admission_review_render(&req, &resp, NULL);
    CU_ASSERT_PTR_NOT_NULL(out);
    free(out);
    admission_response_free(&resp);
    admission_response_free(NULL);
    admission_request_free(&req);
    admission_request_free(NULL);
}

UNIT_SUITE(admission, UNIT_CASE(test_parse_pod_create),
           UNIT_CASE(test_parse_rolebinding_sorted_keys), UNIT_CASE(test_parse_delete_request_only),
           UNIT_CASE(test_parse_optional_fields), UNIT_CASE(test_parse_bad_inputs),
           UNIT_CASE(test_render_allowed), UNIT_CASE(test_render_deny),
           UNIT_CASE(test_render_invalid), UNIT_CASE(test_warnings), UNIT_CASE(test_sanitize_utf8),
           UNIT_CASE(test_patch), UNIT_CASE(test_patch_dropped_on_delete),
           UNIT_CASE(test_render_refuses_oom_and_null))
