/*
 * test_object_source: the memory and directory sources (multi-document YAML,
 * JSON, kind: List, recursion, namespace rules, label selectors, deadlines)
 * and the errors for bad files, which must name the file and the line.
 */
#include "common/label_selector.h"
#include "common/object_source.h"
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

static void write_file(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    for (char *p = path + strlen(tmpdir) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        mkdir(path, 0700);
        *p = '/';
    }
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/aigw-objsrc-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

static const char *const good_yaml =
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: openai\n  namespace: team-a\n"
    "  labels: {app: llm, tier: gold}\ndata:\n  api-key: c2VjcmV0\n"
    "---\n"
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: anthropic\n  namespace: team-a\n"
    "  labels: {app: llm, tier: silver}\n"
    "---\n"
    "apiVersion: v1\nkind: List\nitems:\n"
    "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: bundle, namespace: spire-system}\n"
    "- apiVersion: v1\n  kind: Namespace\n  metadata: {name: team-a}\n";

static void test_dir_loads_everything(void)
{
    make_tmpdir();
    write_file("a.yaml", good_yaml);
    write_file("sub/deeper/gw.json",
               "{\"apiVersion\":\"gateway.networking.k8s.io/v1\",\"kind\":\"Gateway\","
               "\"metadata\":{\"name\":\"ai-gateway\",\"namespace\":\"team-a\"}}");
    write_file("sub/svc.yml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: envoy\n");
    write_file("sub/README.md", "not yaml: [\n");
    write_file(".hidden/x.yaml", "this is: [broken\n");

    char err[512] = "";
    object_source *src = object_source_dir_open(tmpdir, err, sizeof err);
    if (src == NULL) {
        fprintf(stderr, "\n  %s\n", err);
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    CU_ASSERT_EQUAL(strncmp(src->name, "dir:", 4), 0);

    json_t *obj = NULL;
    CU_ASSERT_EQUAL(
        object_source_get(src, "v1", "Secret", "team-a", "openai", 0, &obj, err, sizeof err),
        OBJSRC_OK);
    CU_ASSERT_STRING_EQUAL(
        json_string_value(json_object_get(json_object_get(obj, "data"), "api-key")), "c2VjcmV0");
    json_decref(obj);

    CU_ASSERT_EQUAL(object_source_get(src, "gateway.networking.k8s.io/v1", "Gateway", "team-a",
                                      "ai-gateway", 0, &obj, err, sizeof err),
                    OBJSRC_OK);
    json_decref(obj);
    /* List items are expanded; cluster-scoped lookups use ns == NULL */
    CU_ASSERT_EQUAL(
        object_source_get(src, "v1", "Namespace", NULL, "team-a", 0, &obj, err, sizeof err),
        OBJSRC_OK);
    json_decref(obj);
    CU_ASSERT_EQUAL(object_source_get(src, "v1", "ConfigMap", "spire-system", "bundle", 0, &obj,
                                      err, sizeof err),
                    OBJSRC_OK);
    json_decref(obj);
    /* no namespace in the file: it lives in "default", like kubectl apply -f */
    CU_ASSERT_EQUAL(
        object_source_get(src, "v1", "Service", "default", "envoy", 0, &obj, err, sizeof err),
        OBJSRC_OK);
    json_decref(obj);
    CU_ASSERT_EQUAL(
        object_source_get(src, "v1", "Service", "team-a", "envoy", 0, &obj, err, sizeof err),
        OBJSRC_NOT_FOUND);
    CU_ASSERT_PTR_NULL(obj);
    /* wrong namespace, wrong apiVersion */
    CU_ASSERT_EQUAL(
        object_source_get(src, "v1", "Secret", "team-b", "openai", 0, &obj, err, sizeof err),
        OBJSRC_NOT_FOUND);
    CU_ASSERT_EQUAL(
        object_source_get(src, "v2", "Secret", "team-a", "openai", 0, &obj, err, sizeof err),
        OBJSRC_NOT_FOUND);

    json_t *items = NULL;
    CU_ASSERT_EQUAL(
        object_source_list(src, "v1", "Secret", "team-a", NULL, 0, &items, err, sizeof err),
        OBJSRC_OK);
    CU_ASSERT_EQUAL(json_array_size(items), 2);
    /* sorted by name */
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(
                               json_object_get(json_array_get(items, 0), "metadata"), "name")),
                           "anthropic");
    json_decref(items);
    CU_ASSERT_EQUAL(object_source_list(src, "v1", "Secret", NULL, "app=llm,tier!=silver", 0, &items,
                                       err, sizeof err),
                    OBJSRC_OK);
    CU_ASSERT_EQUAL(json_array_size(items), 1);
    json_decref(items);
    CU_ASSERT_EQUAL(object_source_list(src, "v1", "Secret", NULL, "tier in (gold, silver)", 0,
                                       &items, err, sizeof err),
                    OBJSRC_OK);
    CU_ASSERT_EQUAL(json_array_size(items), 2);
    json_decref(items);
    CU_ASSERT_EQUAL(object_source_list(src, "v1", "Pod", NULL, NULL, 0, &items, err, sizeof err),
                    OBJSRC_OK);
    CU_ASSERT_EQUAL(json_array_size(items), 0);
    json_decref(items);
    CU_ASSERT_EQUAL(
        object_source_list(src, "v1", "Secret", NULL, "app in (", 0, &items, err, sizeof err),
        OBJSRC_ERROR);
    CU_ASSERT_PTR_NULL(items);

    /* a deadline in the past */
    CU_ASSERT_EQUAL(object_source_get(src, "v1", "Secret", "team-a", "openai", objsrc_now_ms() - 1,
                                      &obj, err, sizeof err),
                    OBJSRC_TIMEOUT);
    object_source_free(src);
    remove_tmpdir();
}

static void expect_open_error(const char *file, const char *text, const char *want)
{
    make_tmpdir();
    write_file("ok.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine}\n");
    write_file(file, text);
    char err[512] = "";
    object_source *src = object_source_dir_open(tmpdir, err, sizeof err);
    CU_ASSERT_PTR_NULL(src);
    object_source_free(src);
    char full[600];
    snprintf(full, sizeof full, "%s/%s%s", tmpdir, file, want);
    if (strstr(err, full) == NULL) {
        fprintf(stderr, "\n  error: %s\n  wanted: %s\n", err, full);
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(err, full));
    remove_tmpdir();
}

static void test_dir_bad_files_name_file_and_line(void)
{
    expect_open_error("bad.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: [x\n", ":");
    expect_open_error("dup.yaml", "apiVersion: v1\nkind: Secret\nkind: ConfigMap\n",
                      ":3: duplicate key \"kind\"");
    expect_open_error("nokind.yaml",
                      "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\n---\n# c\n"
                      "apiVersion: v1\nmetadata: {name: b}\n",
                      ":6: object has no kind");
    expect_open_error("noname.yml", "apiVersion: v1\nkind: Secret\nmetadata: {}\n",
                      ":1: object has no metadata.name");
    expect_open_error("scalar.yaml", "just a string\n", ":1: document is not a mapping");
    expect_open_error("bad.json", "{\n\"apiVersion\": \"v1\",\n\"kind\": }\n", ":3:");
    expect_open_error("list.yaml", "apiVersion: v1\nkind: List\nitems:\n- {kind: Secret}\n",
                      ":1: object has no apiVersion (List item 0)");
    expect_open_error("twice.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine}\n",
                      ":1)");
}

static void test_dir_missing(void)
{
    char err[256] = "";
    CU_ASSERT_PTR_NULL(object_source_dir_open("/nonexistent/objects", err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/objects"));
}

static void test_mem_source(void)
{
    json_t *objs = json_pack("[{s:s,s:s,s:{s:s,s:s}}, {s:s,s:s,s:{s:s}}]", "apiVersion", "v1",
                             "kind", "ConfigMap", "metadata", "name", "b", "namespace", "x",
                             "apiVersion", "v1", "kind", "ConfigMap", "metadata", "name", "a");
    char err[256];
    object_source *src = object_source_mem_new(objs, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    json_decref(objs);
    json_t *items = NULL;
    CU_ASSERT_EQUAL(
        object_source_list(src, "v1", "ConfigMap", NULL, "", 0, &items, err, sizeof err),
        OBJSRC_OK);
    CU_ASSERT_EQUAL(json_array_size(items), 2);
    json_decref(items);
    json_t *obj = NULL;
    CU_ASSERT_EQUAL(object_source_get(src, "v1", "ConfigMap", "x", "b", 0, &obj, err, sizeof err),
                    OBJSRC_OK);
    /* the caller owns a copy: changing it does not change the source */
    json_object_set_new(obj, "kind", json_string("Changed"));
    json_decref(obj);
    CU_ASSERT_EQUAL(object_source_get(src, "v1", "ConfigMap", "x", "b", 0, &obj, err, sizeof err),
                    OBJSRC_OK);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(obj, "kind")), "ConfigMap");
    json_decref(obj);
    object_source_free(src);
    object_source_free(NULL);

    json_t *bad = json_pack("[{s:s}]", "kind", "Secret");
    CU_ASSERT_PTR_NULL(object_source_mem_new(bad, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "apiVersion"));
    json_decref(bad);
}

static void test_label_selector(void)
{
    json_t *labels =
        json_pack("{s:s,s:s}", "app", "web", "aigateway.kagenti.dev/inject", "enabled");
    char err[128];
    int m = 0;
    struct {
        const char *sel;
        int want;
    } cases[] = {
        {"", 1},
        {"app=web", 1},
        {"app==web", 1},
        {"app=db", 0},
        {"app!=db", 1},
        {"missing!=x", 1},
        {"app", 1},
        {"!app", 0},
        {"!missing", 1},
        {"aigateway.kagenti.dev/inject=enabled, app in (web,db)", 1},
        {"app notin (web)", 0},
        {"app=web,missing", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CU_ASSERT_EQUAL(label_selector_match(cases[i].sel, labels, &m, err, sizeof err), 0);
        if (m != cases[i].want) {
            fprintf(stderr, "\n  selector %s: got %d\n", cases[i].sel, m);
        }
        CU_ASSERT_EQUAL(m, cases[i].want);
    }
    CU_ASSERT_EQUAL(label_selector_match("app=", NULL, &m, err, sizeof err), 0);
    CU_ASSERT_EQUAL(m, 0);
    CU_ASSERT_EQUAL(label_selector_match("app >", labels, &m, err, sizeof err), -1);
    CU_ASSERT_EQUAL(label_selector_match("app in (a", labels, &m, err, sizeof err), -1);
    CU_ASSERT_EQUAL(label_selector_match("=x", labels, &m, err, sizeof err), -1);
    json_decref(labels);
}

UNIT_SUITE(object_source, UNIT_CASE(test_dir_loads_everything),
           UNIT_CASE(test_dir_bad_files_name_file_and_line), UNIT_CASE(test_dir_missing),
           UNIT_CASE(test_mem_source), UNIT_CASE(test_label_selector));
