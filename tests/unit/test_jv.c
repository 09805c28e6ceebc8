/*
 * test_jv: the hot path's JSON: what the parser accepts and refuses (with
 * the byte offset), reading helpers and pointers, and the writer (escaping,
 * integers, base64 against OpenSSL, jansson and jv values written back).
 */
#include "common/jv.h"
#include "tests/unit/unit.h"

#include <openssl/evp.h>

#include <stdlib.h>
#include <string.h>

static int parse(jv_doc *doc, const char *text, char *err, size_t errlen)
{
    return jv_parse(doc, text, strlen(text), err, errlen);
}

static void test_parse_values(void)
{
    jv_doc doc;
    char err[128];
    const char *text = " {\"s\":\"a\\u00e9\\ud83d\\ude00\\n\\\"\",\"n\":-12,\"r\":2.5e3,"
                       "\"t\":true,\"f\":false,\"z\":null,\"a\":[1,[2],{}],\"s\":\"last\"} ";
    CU_ASSERT_EQUAL_FATAL(parse(&doc, text, err, sizeof err), 0);
    const jv *root = doc.root;
    CU_ASSERT(jv_is(root, JV_OBJECT));
    CU_ASSERT_EQUAL(jv_size(root), 8);
    CU_ASSERT_STRING_EQUAL(jv_str(jv_get(root, "s")), "last"); /* a repeated key: the last */
    CU_ASSERT_STRING_EQUAL(jv_str(jv_first(root)), "a\xc3\xa9\xf0\x9f\x98\x80\n\"");
    CU_ASSERT_EQUAL(jv_first(root)->n, 9);
    CU_ASSERT_EQUAL(jv_int(jv_get(root, "n")), -12);
    CU_ASSERT(jv_is(jv_get(root, "r"), JV_NUMBER));
    CU_ASSERT_EQUAL(jv_int(jv_get(root, "r")), 0); /* not an integer */
    CU_ASSERT(jv_is_true(jv_get(root, "t")));
    CU_ASSERT(jv_is(jv_get(root, "f"), JV_FALSE));
    CU_ASSERT(jv_is(jv_get(root, "z"), JV_NULL));
    CU_ASSERT_PTR_NULL(jv_get(root, "missing"));
    CU_ASSERT_PTR_NULL(jv_get(jv_get(root, "n"), "x")); /* not an object */
    const jv *a = jv_get(root, "a");
    CU_ASSERT_EQUAL(jv_size(a), 3);
    CU_ASSERT_EQUAL(jv_int(jv_at(a, 0)), 1);
    CU_ASSERT_PTR_NULL(jv_at(a, 3));
    CU_ASSERT_EQUAL(a->raw_len, strlen("[1,[2],{}]"));
    CU_ASSERT(strncmp(a->raw, "[1,[2],{}]", a->raw_len) == 0);
    size_t n = 0;
    jv_foreach(a, e)
    {
        n++;
    }
    CU_ASSERT_EQUAL(n, 3);
    json_t *copy = jv_to_json(a);
    CU_ASSERT_EQUAL(json_array_size(copy), 3);
    json_decref(copy);
    jv_doc_free(&doc);
    CU_ASSERT_PTR_NULL(doc.root);
}

static void test_parse_errors(void)
{
    static const struct {
        const char *text;
        const char *want;
    } bad[] = {
        {"", "unexpected end of input at byte 0"},
        {"{\"a\":1,}", "expected a string key at byte 7"},
        {"[1 2]", "expected ',' or ']' at byte 3"},
        {"{\"a\" 1}", "expected ':'"},
        {"\"abc", "unterminated string"},
        {"\"a\\x\"", "invalid escape"},
        {"\"a\\u12\"", "invalid \\u escape"},
        {"\"\\ud800\"", "surrogate"},
        {"\"\\udc00\"", "surrogate"},
        {"\"\\u0000\"", "\\u0000"},
        {"\"a\tb\"", "control character"},
        {"\"\xc3\x28\"", "invalid UTF-8"},
        {"\"\xed\xa0\x80\"", "invalid UTF-8"}, /* an encoded surrogate */
        {"\"\xc0\xaf\"", "invalid UTF-8"},     /* overlong */
        {"01", "end of file expected at byte 1"},
        {"-", "invalid number"},
        {"1.", "invalid number"},
        {"1e", "invalid number"},
        {"99999999999999999999", "too big integer"},
        {"1e999", "real number overflow"},
        {"tru", "invalid token"},
        {"nul", "invalid token"},
        {"{} x", "end of file expected at byte 3"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        jv_doc doc;
        char err[128] = "";
        CU_ASSERT_EQUAL(parse(&doc, bad[i].text, err, sizeof err), -1);
        CU_ASSERT_PTR_NULL(doc.root);
        if (strstr(err, bad[i].want) == NULL) {
            fprintf(stderr, "case %zu (%s): \"%s\" lacks \"%s\"\n", i, bad[i].text, err,
                    bad[i].want);
        }
        CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i].want));
    }
    /* A NUL byte after the value is refused (jansson would stop reading there). */
    jv_doc doc;
    char err[128];
    CU_ASSERT_EQUAL(jv_parse(&doc, "{}\0x", 4, err, sizeof err), -1);
    /* Nesting: JV_MAX_DEPTH levels are fine, one more is not. */
    char deep[2 * JV_MAX_DEPTH + 3];
    for (int extra = 0; extra < 2; extra++) {
        size_t d = JV_MAX_DEPTH + (size_t)extra, o = 0;
        for (size_t i = 0; i < d; i++) {
            deep[o++] = '[';
        }
        for (size_t i = 0; i < d; i++) {
            deep[o++] = ']';
        }
        int rc = jv_parse(&doc, deep, o, err, sizeof err);
        CU_ASSERT_EQUAL(rc, extra ? -1 : 0);
        if (rc == 0) {
            jv_doc_free(&doc);
        } else {
            CU_ASSERT_PTR_NOT_NULL(strstr(err, "nesting too deep"));
        }
    }
}

static void test_pointer(void)
{
    jv_doc doc;
    const char *text = "{\"a/b\":{\"c~d\":[10,20,{\"x\":1}]},\"\":5,\"e\":[]}";
    CU_ASSERT_EQUAL_FATAL(parse(&doc, text, NULL, 0), 0);
    CU_ASSERT_PTR_EQUAL(jv_pointer(doc.root, ""), doc.root);
    CU_ASSERT_EQUAL(jv_int(jv_pointer(doc.root, "/a~1b/c~0d/1")), 20);
    CU_ASSERT_EQUAL(jv_int(jv_pointer(doc.root, "/a~1b/c~0d/2/x")), 1);
    CU_ASSERT_EQUAL(jv_int(jv_pointer(doc.root, "/")), 5);
    CU_ASSERT_PTR_NULL(jv_pointer(doc.root, "/a~1b/c~0d/3"));
    CU_ASSERT_PTR_NULL(jv_pointer(doc.root, "/a~1b/c~0d/01")); /* leading zero */
    CU_ASSERT_PTR_NULL(jv_pointer(doc.root, "/a~1b/c~0d/-"));
    CU_ASSERT_PTR_NULL(jv_pointer(doc.root, "/a~2b")); /* bad escape */
    CU_ASSERT_PTR_NULL(jv_pointer(doc.root, "a"));     /* no leading slash */
    CU_ASSERT_PTR_NULL(jv_pointer(doc.root, "/e/0"));
    CU_ASSERT_PTR_NULL(jv_pointer(doc.root, "/a~1b/c~0d/0/x")); /* into a number */
    CU_ASSERT_PTR_NULL(jv_pointer(NULL, ""));
    jv_doc_free(&doc);
}

static void test_writer(void)
{
    jbuf b;
    jbuf_init(&b);
    jbuf_str(&b, "a\"b\\c\n\x01\x7f\xc3\xa9/");
    jbuf_putc(&b, ' ');
    jbuf_int(&b, 0);
    jbuf_putc(&b, ' ');
    jbuf_int(&b, -9223372036854775807LL - 1);
    jbuf_putc(&b, ' ');
    jbuf_int(&b, 1337);
    size_t len = 0;
    char *text = jbuf_take(&b, &len);
    CU_ASSERT_STRING_EQUAL(text,
                           "\"a\\\"b\\\\c\\n\\u0001\x7f\xc3\xa9/\" 0 -9223372036854775808 1337");
    CU_ASSERT_EQUAL(len, strlen(text));
    free(text);
    /* base64 agrees with OpenSSL for every length around the 3-byte groups. */
    unsigned char data[64];
    for (size_t i = 0; i < sizeof data; i++) {
        data[i] = (unsigned char)(i * 37 + 11);
    }
    for (size_t n = 0; n < sizeof data; n++) {
        unsigned char want[128];
        int wl = EVP_EncodeBlock(want, data, (int)n);
        jbuf_init(&b);
        jbuf_base64(&b, data, n);
        char *got = jbuf_take(&b, &len);
        CU_ASSERT_EQUAL(len, (size_t)wl);
        CU_ASSERT(got != NULL && memcmp(got, want, (size_t)wl) == 0);
        free(got);
    }
    /* Every 12-bit pair of the table: group i holds i twice (i << 12 | i). */
    unsigned char *all = malloc(3 * 4096);
    unsigned char *want = malloc(4 * 4096 + 1);
    CU_ASSERT_FATAL(all != NULL && want != NULL);
    for (unsigned i = 0; i < 4096; i++) {
        unsigned v = i << 12 | i;
        all[3 * i] = (unsigned char)(v >> 16);
        all[3 * i + 1] = (unsigned char)(v >> 8);
        all[3 * i + 2] = (unsigned char)v;
    }
    int wl = EVP_EncodeBlock(want, all, 3 * 4096);
    jbuf_init(&b);
    jbuf_base64(&b, all, 3 * 4096);
    char *got = jbuf_take(&b, &len);
    CU_ASSERT_EQUAL(len, (size_t)wl);
    CU_ASSERT(got != NULL && memcmp(got, want, (size_t)wl) == 0);
    free(got);
    free(want);
    free(all);
    /* Strings of every length around the 8-byte scan, with a special byte at each place. */
    for (size_t n = 1; n < 20; n++) {
        for (size_t at = 0; at < n; at++) {
            char in[24];
            memset(in, 'x', n);
            in[at] = at % 3 == 0 ? '"' : at % 3 == 1 ? '\\' : '\x01';
            jbuf_init(&b);
            jbuf_strn(&b, in, n);
            char *out = jbuf_take(&b, &len);
            json_t *back = out != NULL ? json_loadb(out, len, JSON_DECODE_ANY, NULL) : NULL;
            CU_ASSERT(back != NULL && json_string_length(back) == n &&
                      memcmp(json_string_value(back), in, n) == 0);
            jv_doc d;
            CU_ASSERT(out != NULL && jv_parse(&d, out, len, NULL, 0) == 0 && d.root->n == n &&
                      memcmp(d.root->s, in, n) == 0);
            jv_doc_free(&d);
            json_decref(back);
            free(out);
        }
    }
    /* jansson and jv values written compactly, members in order. */
    json_t *j = json_pack("{s:[i,b,n,s], s:{}, s:f}", "a", 1, 1, "x\ty", "b", "c", 0.5);
    jbuf_init(&b);
    jbuf_json(&b, j);
    text = jbuf_take(&b, &len);
    CU_ASSERT_STRING_EQUAL(text, "{\"a\":[1,true,null,\"x\\ty\"],\"b\":{},\"c\":0.5}");
    jv_doc doc;
    CU_ASSERT_EQUAL_FATAL(jv_parse(&doc, text, len, NULL, 0), 0);
    free(text);
    jbuf_init(&b);
    jbuf_jv(&b, doc.root);
    text = jbuf_take(&b, &len);
    CU_ASSERT_STRING_EQUAL(text, "{\"a\":[1,true,null,\"x\\ty\"],\"b\":{},\"c\":0.5}");
    free(text);
    jv_doc_free(&doc);
    json_decref(j);
    /* A failed buffer stays failed and gives nothing. */
    jbuf_init(&b);
    b.failed = 1;
    jbuf_puts(&b, "x");
    CU_ASSERT_PTR_NULL(jbuf_take(&b, &len));
}

UNIT_SUITE(jv, UNIT_CASE(test_parse_values), UNIT_CASE(test_parse_errors), UNIT_CASE(test_pointer),
           UNIT_CASE(test_writer))
