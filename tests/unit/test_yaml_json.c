/*
 * test_yaml_json: go-yaml v2 scalar resolution, key conversion, refusals with
 * file:line, and dump round-trips.
 */
#include "common/yaml_json.h"
#include "tests/unit/unit.h"

#include <stdlib.h>
#include <string.h>

/* Loads one document from `text`; NULL on error (err filled). */
static json_t *load1(const char *text, char *err, size_t errlen)
{
    json_t *docs = NULL;
    if (yaml_json_load(text, strlen(text), "t.yaml", &docs, err, errlen) != 0) {
        return NULL;
    }
    json_t *d = json_incref(json_array_get(docs, 0));
    json_decref(docs);
    return d;
}

static void test_scalars(void)
{
    char err[256];
    json_t *d = load1("a: yes\nb: off\nc: ~\nd: 0x1F\ne: 0o17\nf: 017\ng: 1_000\nh: 1.5e3\n"
                      "i: '123'\nj: \"true\"\nk: 2026-11-28\nl: hello world\nm: -42\nnn: .5\n"
                      "o: 0b101\np: Y\nq: !!str 12\nr: 18446744073709551615\ns: 1.\nt: null\n"
                      "u: +12\nv: 12abc\n",
                      err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT(json_is_true(json_object_get(d, "a")));
    CU_ASSERT(json_is_false(json_object_get(d, "b")));
    CU_ASSERT(json_is_null(json_object_get(d, "c")));
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(d, "d")), 31);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(d, "e")), 15);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(d, "f")), 15);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(d, "g")), 1000);
    CU_ASSERT(json_is_real(json_object_get(d, "h")));
    CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(d, "h")), 1500.0, 1e-9);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(d, "i")), "123");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(d, "j")), "true");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(d, "k")), "2026-11-28");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(d, "l")), "hello world");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(d, "m")), -42);
    CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(d, "nn")), 0.5, 1e-12);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(d, "o")), 5);
    CU_ASSERT(json_is_true(json_object_get(d, "p")));
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(d, "q")), "12");
    CU_ASSERT(json_is_real(json_object_get(d, "r")));
    CU_ASSERT(json_is_real(json_object_get(d, "s")));
    CU_ASSERT(json_is_null(json_object_get(d, "t")));
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(d, "u")), 12);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(d, "v")), "12abc");
    json_decref(d);
}

static void test_keys_become_strings(void)
{
    char err[256];
    json_t *d = load1("on: 1\n12: x\n~: zz\n", err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(d, "true")), 1);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(d, "12")), "x");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(d, "null")), "zz");
    json_decref(d);
}

static void test_multi_document_and_json(void)
{
    const char *text =
        "---\na: 1\n---\n---\n# only a comment\n---\n{\"b\": [1, 2, {\"c\": null}]}\n";
    json_t *docs = NULL;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(yaml_json_load(text, strlen(text), "m.yaml", &docs, err, sizeof err), 0);
    CU_ASSERT_EQUAL(json_array_size(docs), 2);
    json_t *b = json_object_get(json_array_get(docs, 1), "b");
    CU_ASSERT_EQUAL(json_array_size(b), 3);
    CU_ASSERT(json_is_null(json_object_get(json_array_get(b, 2), "c")));
    json_decref(docs);

    CU_ASSERT_EQUAL(yaml_json_load("", 0, "e.yaml", &docs, err, sizeof err), 0);
    CU_ASSERT_EQUAL(json_array_size(docs), 0);
    json_decref(docs);
}

static void expect_error(const char *text, const char *want)
{
    json_t *docs = NULL;
    char err[256] = "";
    CU_ASSERT_EQUAL(yaml_json_load(text, strlen(text), "bad.yaml", &docs, err, sizeof err), -1);
    CU_ASSERT_PTR_NULL(docs);
    if (strstr(err, want) == NULL) {
        fprintf(stderr, "\n  error was: %s (wanted %s)\n", err, want);
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
}

static void test_errors_name_file_and_line(void)
{
    expect_error("a: 1\nb: 2\na: 3\n", "bad.yaml:3: duplicate key \"a\"");
    expect_error("a: &x 1\nb: *x\n", "bad.yaml:2: aliases are not supported");
    expect_error("a: 1\n  b: 2\n", "bad.yaml:2:");
    expect_error("x:\n  y: [1, 2\n", "bad.yaml:");
    expect_error("a: .inf\n", "bad.yaml:1: unsupported value .inf");
    expect_error("base: &b {x: 1}\nc:\n  <<: *b\n", "bad.yaml:3:");
    expect_error("a: !custom 1\n", "unsupported tag");
    expect_error("? [a]\n: 1\n", "mapping keys must be scalars");
    expect_error("on: 1\ntrue: 2\n", "duplicate key \"true\"");
}

static void test_depth_limit(void)
{
    size_t n = 5000;
    char *s = malloc(n * 2 + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    for (size_t i = 0; i < n; i++) {
        s[i] = '[';
        s[n + i] = ']';
    }
    s[2 * n] = '\0';
    json_t *docs = NULL;
    char err[256];
    CU_ASSERT_EQUAL(yaml_json_load(s, 2 * n, "deep.yaml", &docs, err, sizeof err), -1);
    CU_ASSERT_PTR_NULL(docs);
    free(s);
}

static void test_dump_quotes_and_roundtrips(void)
{
    json_t *v =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:f, s:b, s:n, s:[s,s], s:{}, s:[], "
                  "s:s, s:s, s:s}",
                  "zeta", "yes", "num", "123", "empty", "", "date", "2026-11-28", "plain", "hello",
                  "multi", "line1\nline2\n", "int", 7, "real", 2.5, "bool", 1, "nil", "list", "a",
                  "on", "emptyobj", "emptyarr", "colon", "a: b", "hash", "#x", "tilde", "~");
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    char *y = yaml_json_dump(v);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    /* insertion order: zeta comes first although it sorts last */
    CU_ASSERT_EQUAL(strncmp(y, "zeta: ", 6), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(y, "plain: hello\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(y, "int: 7\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(y, "emptyobj: {}\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(y, "multi: |"));
    json_t *docs = NULL;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(yaml_json_load(y, strlen(y), "dump", &docs, err, sizeof err), 0);
    CU_ASSERT(json_equal(json_array_get(docs, 0), v));
    json_decref(docs);
    free(y);
    json_decref(v);
}

static void test_dump_all(void)
{
    json_t *docs = json_pack("[{s:i},{s:s}]", "a", 1, "b", "x");
    char *y = yaml_json_dump_all(docs);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    CU_ASSERT_PTR_NOT_NULL(strstr(y, "---"));
    json_t *back = NULL;
    char err[256];
    CU_ASSERT_EQUAL(yaml_json_load(y, strlen(y), "d", &back, err, sizeof err), 0);
    CU_ASSERT(json_equal(back, docs));
    json_decref(back);
    json_decref(docs);
    free(y);
}

static void test_load_file_missing(void)
{
    json_t *docs = NULL;
    char err[256] = "";
    CU_ASSERT_EQUAL(yaml_json_load_file("/nonexistent/x.yaml", &docs, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/x.yaml"));
}

UNIT_SUITE(yaml_json, UNIT_CASE(test_scalars), UNIT_CASE(test_keys_become_strings),
           UNIT_CASE(test_multi_document_and_json), UNIT_CASE(test_errors_name_file_and_line),
           UNIT_CASE(test_depth_limit), UNIT_CASE(test_dump_quotes_and_roundtrips),
           UNIT_CASE(test_dump_all), UNIT_CASE(test_load_file_missing));
