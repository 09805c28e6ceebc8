/*
 * fuzz_jv: libFuzzer target for common/jv, differential against jansson.
 * Input: any bytes, parsed as one JSON value by both jv_parse() and
 * json_loadb(JSON_DECODE_ANY). Invariants beyond "no crash, no leak":
 *   - they accept the same inputs, with two deliberate differences: jv
 *     refuses nesting deeper than JV_MAX_DEPTH (jansson allows 2048), and a
 *     NUL byte after the value (jansson stops reading there, jv refuses);
 *   - when both accept, jv's tree written back (jbuf_jv) and jv_to_json()
 *     both read as the same value jansson built;
 *   - jbuf_str() of every string reads back as the same string.
 */
#include "common/jv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_strings(const jv *v)
{
    if (v->type == JV_STRING) {
        jbuf b;
        jbuf_init(&b);
        jbuf_strn(&b, v->s, v->n);
        size_t len = 0;
        char *text = jbuf_take(&b, &len);
        json_t *back = text != NULL ? json_loadb(text, len, JSON_DECODE_ANY, NULL) : NULL;
        if (text != NULL && (back == NULL || json_string_length(back) != v->n ||
                             memcmp(json_string_value(back), v->s, v->n) != 0)) {
            abort();
        }
        json_decref(back);
        free(text);
    }
    jv_foreach(v, c)
    {
        check_strings(c);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t e;
    json_t *want = json_loadb((const char *)data, size, JSON_DECODE_ANY, &e);
    jv_doc doc;
    char err[128];
    int rc = jv_parse(&doc, (const char *)data, size, err, sizeof err);
    if (rc != 0) {
        if (want != NULL && strstr(err, "nesting too deep") == NULL &&
            strcmp(err, "out of memory") != 0 && memchr(data, 0, size) == NULL) {
            abort(); /* jansson reads it, jv refuses */
        }
        json_decref(want);
        return 0;
    }
    if (want == NULL) {
        abort(); /* jv reads what jansson refuses */
    }
    jbuf b;
    jbuf_init(&b);
    jbuf_jv(&b, doc.root);
    size_t len = 0;
    char *text = jbuf_take(&b, &len);
    json_t *back = text != NULL ? json_loadb(text, len, JSON_DECODE_ANY, NULL) : NULL;
    json_t *copy = jv_to_json(doc.root);
    if (text != NULL && (back == NULL || !json_equal(back, want))) {
        abort();
    }
    if (copy != NULL && !json_equal(copy, want)) {
        abort();
    }
    check_strings(doc.root);
    json_decref(copy);
    json_decref(back);
    free(text);
    jv_doc_free(&doc);
    json_decref(want);
    return 0;
}
