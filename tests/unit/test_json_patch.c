/*
 * test_json_patch: RFC 6901 pointers, RFC 6902 application (including the
 * RFC's own examples) and the builder's "whole array/map when absent, else
 * append" helpers.
 */
#include "common/json_patch.h"
#include "tests/unit/unit.h"

#include <stdlib.h>
#include <string.h>

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    return v;
}

/* Applies patch text to doc text; returns 1 when the result equals want (NULL = must fail). */
static int applies_to(const char *doc, const char *patch, const char *want)
{
    json_t *d = J(doc), *p = J(patch), *out = NULL;
    char err[256] = "";
    int rc = json_patch_apply(d, p, &out, err, sizeof err);
    int ok;
    if (want == NULL) {
        ok = rc == -1 && out == NULL && strncmp(err, "patch[", 6) == 0;
    } else {
        json_t *w = J(want);
        ok = rc == 0 && json_equal(out, w);
        json_decref(w);
    }
    json_decref(d);
    json_decref(p);
    json_decref(out);
    return ok;
}

static void test_pointer_escape(void)
{
    char *s = json_pointer_escape("aigateway.kagenti.dev/status");
    CU_ASSERT_STRING_EQUAL(s, "aigateway.kagenti.dev~1status");
    free(s);
    s = json_pointer_escape("a~b/c");
    CU_ASSERT_STRING_EQUAL(s, "a~0b~1c");
    free(s);
    s = json_pointer_join("/metadata/annotations", "example.com/x");
    CU_ASSERT_STRING_EQUAL(s, "/metadata/annotations/example.com~1x");
    free(s);
    s = json_pointer_join_index("/spec/containers", 12);
    CU_ASSERT_STRING_EQUAL(s, "/spec/containers/12");
    free(s);
}

static void test_pointer_get(void)
{
    json_t *d = J("{\"a/b\": {\"m~n\": [1, 2, {\"\": 5}]}, \"\": 3}");
    CU_ASSERT_EQUAL(json_integer_value(json_pointer_get(d, "/a~1b/m~0n/1")), 2);
    CU_ASSERT_EQUAL(json_integer_value(json_pointer_get(d, "/a~1b/m~0n/2/")), 5);
    CU_ASSERT_EQUAL(json_integer_value(json_pointer_get(d, "/")), 3);
    CU_ASSERT_PTR_EQUAL(json_pointer_get(d, ""), d);
    CU_ASSERT_PTR_NULL(json_pointer_get(d, "/a~1b/m~0n/01"));
    CU_ASSERT_PTR_NULL(json_pointer_get(d, "/a~1b/m~0n/3"));
    CU_ASSERT_PTR_NULL(json_pointer_get(d, "/a~2b"));
    CU_ASSERT_PTR_NULL(json_pointer_get(d, "a"));
    json_decref(d);
}

/* RFC 6902 appendix A examples. */
static void test_apply_rfc_examples(void)
{
    CU_ASSERT(applies_to("{\"foo\":\"bar\"}",
                         "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\"}]",
                         "{\"baz\":\"qux\",\"foo\":\"bar\"}"));
    CU_ASSERT(applies_to("{\"foo\":[\"bar\",\"baz\"]}",
                         "[{\"op\":\"add\",\"path\":\"/foo/1\",\"value\":\"qux\"}]",
                         "{\"foo\":[\"bar\",\"qux\",\"baz\"]}"));
    CU_ASSERT(applies_to("{\"baz\":\"qux\",\"foo\":\"bar\"}",
                         "[{\"op\":\"remove\",\"path\":\"/baz\"}]", "{\"foo\":\"bar\"}"));
    CU_ASSERT(applies_to("{\"foo\":[\"bar\",\"qux\",\"baz\"]}",
                         "[{\"op\":\"remove\",\"path\":\"/foo/1\"}]",
                         "{\"foo\":[\"bar\",\"baz\"]}"));
    CU_ASSERT(applies_to("{\"baz\":\"qux\",\"foo\":\"bar\"}",
                         "[{\"op\":\"replace\",\"path\":\"/baz\",\"value\":\"boo\"}]",
                         "{\"baz\":\"boo\",\"foo\":\"bar\"}"));
    CU_ASSERT(
        applies_to("{\"foo\":{\"bar\":\"baz\",\"waldo\":\"fred\"},\"qux\":{\"corge\":\"grault\"}}",
                   "[{\"op\":\"move\",\"from\":\"/foo/waldo\",\"path\":\"/qux/thud\"}]",
                   "{\"foo\":{\"bar\":\"baz\"},\"qux\":{\"corge\":\"grault\",\"thud\":\"fred\"}}"));
    CU_ASSERT(applies_to("{\"foo\":[\"all\",\"grass\",\"cows\",\"eat\"]}",
                         "[{\"op\":\"move\",\"from\":\"/foo/1\",\"path\":\"/foo/3\"}]",
                         "{\"foo\":[\"all\",\"cows\",\"eat\",\"grass\"]}"));
    CU_ASSERT(applies_to("{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}",
                         "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"qux\"},"
                         "{\"op\":\"test\",\"path\":\"/foo/1\",\"value\":2}]",
                         "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}"));
    CU_ASSERT(applies_to("{\"baz\":\"qux\"}",
                         "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"bar\"}]", NULL));
    CU_ASSERT(applies_to("{\"foo\":\"bar\"}",
                         "[{\"op\":\"add\",\"path\":\"/child\",\"value\":{\"grandchild\":{}}}]",
                         "{\"foo\":\"bar\",\"child\":{\"grandchild\":{}}}"));
    CU_ASSERT(applies_to("{\"foo\":\"bar\"}",
                         "[{\"op\":\"add\",\"path\":\"/baz/bat\",\"value\":\"qux\"}]", NULL));
    CU_ASSERT(applies_to("{\"/\":9,\"~1\":10}",
                         "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":10}]",
                         "{\"/\":9,\"~1\":10}"));
    CU_ASSERT(applies_to("{\"foo\":[\"bar\"]}",
                         "[{\"op\":\"add\",\"path\":\"/foo/-\",\"value\":[\"abc\",\"def\"]}]",
                         "{\"foo\":[\"bar\",[\"abc\",\"def\"]]}"));
    CU_ASSERT(applies_to("{\"foo\":1}", "[{\"op\":\"copy\",\"from\":\"/foo\",\"path\":\"/bar\"}]",
                         "{\"foo\":1,\"bar\":1}"));
}

static void test_apply_errors(void)
{
    CU_ASSERT(applies_to("{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/2\",\"value\":0}]", NULL));
    CU_ASSERT(applies_to("{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/01\",\"value\":0}]", NULL));
    CU_ASSERT(applies_to("{\"a\":[1]}", "[{\"op\":\"remove\",\"path\":\"/a/1\"}]", NULL));
    CU_ASSERT(applies_to("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":0}]", NULL));
    CU_ASSERT(applies_to("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/a~2\",\"value\":0}]", NULL));
    CU_ASSERT(applies_to("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/b\"}]", NULL));
    CU_ASSERT(applies_to("{\"a\":1}", "[{\"op\":\"frob\",\"path\":\"/a\"}]", NULL));
    CU_ASSERT(applies_to("{\"a\":{\"b\":1}}",
                         "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/b/c\"}]", NULL));
    CU_ASSERT(applies_to("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"\"}]", NULL));
    CU_ASSERT(applies_to("{\"a\":1}", "{\"op\":\"remove\"}", NULL) == 0); /* not even an array */
    /* A failing op leaves nothing half-applied: the caller gets no document. */
    CU_ASSERT(applies_to("{\"a\":1}",
                         "[{\"op\":\"add\",\"path\":\"/b\",\"value\":2},"
                         "{\"op\":\"test\",\"path\":\"/a\",\"value\":3}]",
                         NULL));
    CU_ASSERT(applies_to("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":[1]}]", "[1]"));
}

/* The builder's text as a jansson array (NULL when it failed or does not parse). */
static json_t *built(json_patch_builder *b)
{
    size_t len = 0;
    char *text = json_patch_builder_take(b, &len);
    json_t *ops = text != NULL ? json_loadb(text, len, 0, NULL) : NULL;
    CU_ASSERT(text == NULL || strlen(text) == len);
    free(text);
    return ops;
}

#define V(text) (text), strlen(text)

static void test_builder_whole_then_append(void)
{
    const char *text =
        "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"a\"}]}}";
    json_t *pod = J(text);
    jv_doc doc;
    CU_ASSERT_EQUAL_FATAL(jv_parse(&doc, text, strlen(text), NULL, 0), 0);
    json_patch_builder b;
    CU_ASSERT_EQUAL_FATAL(json_patch_builder_init(&b, doc.root), 0);
    CU_ASSERT_EQUAL(json_patch_append(&b, "/spec/volumes", V("{\"name\":\"v1\"}")), 0);
    CU_ASSERT_EQUAL(json_patch_append(&b, "/spec/volumes", V("{\"name\":\"v2\"}")), 0);
    CU_ASSERT_EQUAL(json_patch_set_member(&b, "/metadata/annotations", "x.io/a", V("\"1\"")), 0);
    CU_ASSERT_EQUAL(json_patch_set_member(&b, "/metadata/annotations", "x.io/b", V("\"2\"")), 0);
    CU_ASSERT_EQUAL(json_patch_insert(&b, "/spec/initContainers", 0, V("{\"name\":\"i1\"}")), 0);
    CU_ASSERT_EQUAL(json_patch_insert(&b, "/spec/initContainers", 1, V("{\"name\":\"i2\"}")), 0);
    CU_ASSERT_EQUAL(json_patch_insert(&b, "/spec/containers", 0, V("{\"name\":\"s\"}")), 0);
    CU_ASSERT_EQUAL(json_patch_add(&b, "/metadata/name", V("\"q\"")), 0);
    json_t *want_ops =
        J("[{\"op\":\"add\",\"path\":\"/spec/volumes\",\"value\":[{\"name\":\"v1\"}]},"
          "{\"op\":\"add\",\"path\":\"/spec/volumes/-\",\"value\":{\"name\":\"v2\"}},"
          "{\"op\":\"add\",\"path\":\"/metadata/annotations\",\"value\":{\"x.io/a\":\"1\"}},"
          "{\"op\":\"add\",\"path\":\"/metadata/annotations/x.io~1b\",\"value\":\"2\"},"
          "{\"op\":\"add\",\"path\":\"/spec/initContainers\",\"value\":[{\"name\":\"i1\"}]},"
          "{\"op\":\"add\",\"path\":\"/spec/initContainers/1\",\"value\":{\"name\":\"i2\"}},"
          "{\"op\":\"add\",\"path\":\"/spec/containers/0\",\"value\":{\"name\":\"s\"}},"
          "{\"op\":\"add\",\"path\":\"/metadata/name\",\"value\":\"q\"}]");
    json_t *ops = built(&b);
    CU_ASSERT(json_equal(ops, want_ops));
    /* The recorded patch applies to the original document. */
    json_t *out = NULL;
    char err[128];
    CU_ASSERT_EQUAL(json_patch_apply(pod, ops, &out, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_pointer_get(out, "/spec/containers/1/name")),
                           "a");
    CU_ASSERT_EQUAL(json_array_size(json_pointer_get(out, "/spec/volumes")), 2);
    json_decref(out);
    json_decref(ops);
    json_decref(want_ops);
    json_patch_builder_free(&b);
    jv_doc_free(&doc);
    json_decref(pod);
}

static void test_builder_set_tokens(void)
{
    const char *text = "{\"spec\":{}}";
    jv_doc doc;
    CU_ASSERT_EQUAL_FATAL(jv_parse(&doc, text, strlen(text), NULL, 0), 0);
    json_patch_builder b;
    CU_ASSERT_EQUAL_FATAL(json_patch_builder_init(&b, doc.root), 0);
    static const char *const t1[] = {"spec", "securityContext", "fsGroup"};
    static const char *const t2[] = {"spec", "securityContext", "runAsGroup"};
    static const char *const t3[] = {"metadata", "labels", "a/b"};
    CU_ASSERT_EQUAL(json_patch_set_tokens(&b, t1, 3, V("1337")), 0);
    CU_ASSERT_EQUAL(json_patch_set_tokens(&b, t2, 3, V("7")), 0);
    CU_ASSERT_EQUAL(json_patch_set_tokens(&b, t3, 3, V("\"x\"")), 0);
    json_t *want =
        J("[{\"op\":\"add\",\"path\":\"/spec/securityContext\",\"value\":{\"fsGroup\":1337}},"
          "{\"op\":\"add\",\"path\":\"/spec/securityContext/runAsGroup\",\"value\":7},"
          "{\"op\":\"add\",\"path\":\"/metadata\",\"value\":{\"labels\":{\"a/b\":\"x\"}}}]");
    json_t *ops = built(&b);
    CU_ASSERT(json_equal(ops, want));
    json_decref(ops);
    json_decref(want);
    json_patch_builder_free(&b);
    jv_doc_free(&doc);
}

static void test_builder_failure_sticks(void)
{
    const char *text = "{\"a\":[1]}";
    jv_doc doc;
    CU_ASSERT_EQUAL_FATAL(jv_parse(&doc, text, strlen(text), NULL, 0), 0);
    json_patch_builder b;
    CU_ASSERT_EQUAL_FATAL(json_patch_builder_init(&b, doc.root), 0);
    CU_ASSERT_EQUAL(json_patch_insert(&b, "/a", 2, V("2")), -1);
    CU_ASSERT(b.failed);
    CU_ASSERT(strstr(b.err, "/a/2") != NULL);
    CU_ASSERT_EQUAL(json_patch_append(&b, "/a", V("3")), -1);
    CU_ASSERT_PTR_NULL(json_patch_builder_take(&b, NULL));
    json_patch_builder_free(&b);
    CU_ASSERT_EQUAL_FATAL(json_patch_builder_init(&b, doc.root), 0);
    CU_ASSERT_EQUAL(json_patch_insert(&b, "/missing", 1, V("2")), -1);
    CU_ASSERT_EQUAL(json_patch_add(&b, "/a/0", V("1")), -1); /* refused after a failure */
    json_patch_builder_free(&b);
    /* Inserting counts what earlier ops added: /a has 1, then 2, then 3 elements. */
    CU_ASSERT_EQUAL_FATAL(json_patch_builder_init(&b, doc.root), 0);
    CU_ASSERT_EQUAL(json_patch_insert(&b, "/a", 1, V("2")), 0);
    CU_ASSERT_EQUAL(json_patch_append(&b, "/a", V("3")), 0);
    CU_ASSERT_EQUAL(json_patch_insert(&b, "/a", 3, V("4")), 0);
    CU_ASSERT_EQUAL(json_patch_insert(&b, "/a", 5, V("5")), -1);
    json_patch_builder_free(&b);
    jv_doc_free(&doc);
}

UNIT_SUITE(json_patch, UNIT_CASE(test_pointer_escape), UNIT_CASE(test_pointer_get),
           UNIT_CASE(test_apply_rfc_examples), UNIT_CASE(test_apply_errors),
           UNIT_CASE(test_builder_whole_then_append), UNIT_CASE(test_builder_set_tokens),
           UNIT_CASE(test_builder_failure_sticks))
