/*
 * test_kube_watch: the watch-stream decoder fed in every possible chunking,
 * with blank lines, ERROR/410 events, over-long lines, malformed events and
 * a callback that stops early.
 */
#include "common/kube_watch.h"
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int n;
    kube_watch_type types[16];
    char names[16][32];
    long codes[16];
    int stop_after; /* 0 = never */
} collected;

static int collect(kube_watch_type t, json_t *obj, void *ud)
{
    collected *c = ud;
    if (c->n < 16) {
        c->types[c->n] = t;
        const char *name =
            json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
        snprintf(c->names[c->n], sizeof c->names[0], "%s", name ? name : "");
        c->codes[c->n] = (long)json_integer_value(json_object_get(obj, "code"));
    }
    c->n++;
    return c->stop_after != 0 && c->n >= c->stop_after ? 7 : 0;
}

static const char stream[] =
    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"1\"}}}\n"
    "\n"
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"b\",\"resourceVersion\":\"2\"}}}"
    "\r\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"5\"}}}\n"
    "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"6\"}}}\n"
    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":\"Expired\"}}\n";

static void check_stream_result(const collected *c)
{
    CU_ASSERT_EQUAL(c->n, 5);
    CU_ASSERT_EQUAL(c->types[0], KUBE_WATCH_ADDED);
    CU_ASSERT_STRING_EQUAL(c->names[0], "a");
    CU_ASSERT_EQUAL(c->types[1], KUBE_WATCH_MODIFIED);
    CU_ASSERT_STRING_EQUAL(c->names[1], "b");
    CU_ASSERT_EQUAL(c->types[2], KUBE_WATCH_BOOKMARK);
    CU_ASSERT_EQUAL(c->types[3], KUBE_WATCH_DELETED);
    CU_ASSERT_EQUAL(c->types[4], KUBE_WATCH_ERROR);
    CU_ASSERT_EQUAL(c->codes[4], 410);
}

static void test_whole_stream(void)
{
    kube_watch_decoder *d = kube_watch_decoder_new(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    collected c = {0};
    char err[128];
    CU_ASSERT_EQUAL(
        kube_watch_decoder_feed(d, stream, strlen(stream), collect, &c, err, sizeof err), 0);
    check_stream_result(&c);
    CU_ASSERT_EQUAL(kube_watch_decoder_pending(d), 0);
    kube_watch_decoder_free(d);
}

/* Every chunk size from 1 byte up gives the same events. */
static void test_every_chunking(void)
{
    size_t len = strlen(stream);
    for (size_t chunk = 1; chunk <= len; chunk += (chunk < 40 ? 1 : 37)) {
        kube_watch_decoder *d = kube_watch_decoder_new(0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(d);
        collected c = {0};
        char err[128];
        int rc = 0;
        for (size_t off = 0; off < len && rc == 0; off += chunk) {
            size_t n = len - off < chunk ? len - off : chunk;
            rc = kube_watch_decoder_feed(d, stream + off, n, collect, &c, err, sizeof err);
        }
        CU_ASSERT_EQUAL(rc, 0);
        check_stream_result(&c);
        kube_watch_decoder_free(d);
    }
}

static void test_partial_event_is_pending(void)
{
    kube_watch_decoder *d = kube_watch_decoder_new(0);
    collected c = {0};
    const char *part = "{\"type\":\"ADDED\",\"object\":{\"metadata\":";
    CU_ASSERT_EQUAL(kube_watch_decoder_feed(d, part, strlen(part), collect, &c, NULL, 0), 0);
    CU_ASSERT_EQUAL(c.n, 0);
    CU_ASSERT_EQUAL(kube_watch_decoder_pending(d), strlen(part));
    const char *rest = "{\"name\":\"z\"}}}\n";
    CU_ASSERT_EQUAL(kube_watch_decoder_feed(d, rest, strlen(rest), collect, &c, NULL, 0), 0);
    CU_ASSERT_EQUAL(c.n, 1);
    CU_ASSERT_STRING_EQUAL(c.names[0], "z");
    CU_ASSERT_EQUAL(kube_watch_decoder_pending(d), 0);
    kube_watch_decoder_free(d);
}

static void test_line_limit(void)
{
    kube_watch_decoder *d = kube_watch_decoder_new(64);
    collected c = {0};
    char err[128] = "";
    char big[200];
    memset(big, 'x', sizeof big);
    /* in pieces without a newline: the limit applies to what is buffered */
    CU_ASSERT_EQUAL(kube_watch_decoder_feed(d, big, 40, collect, &c, err, sizeof err), 0);
    CU_ASSERT_EQUAL(kube_watch_decoder_feed(d, big, 40, collect, &c, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "longer than 64"));
    kube_watch_decoder_free(d);

    /* in one piece with a newline */
    d = kube_watch_decoder_new(64);
    big[150] = '\n';
    CU_ASSERT_EQUAL(kube_watch_decoder_feed(d, big, 151, collect, &c, err, sizeof err), -1);
    CU_ASSERT_EQUAL(c.n, 0);
    kube_watch_decoder_free(d);
}

static void expect_bad(const char *line, const char *want)
{
    kube_watch_decoder *d = kube_watch_decoder_new(0);
    collected c = {0};
    char err[160] = "";
    CU_ASSERT_EQUAL(kube_watch_decoder_feed(d, line, strlen(line), collect, &c, err, sizeof err),
                    -1);
    CU_ASSERT_EQUAL(c.n, 0);
    if (strstr(err, want) == NULL) {
        fprintf(stderr, "\n  err: %s\n", err);
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
    kube_watch_decoder_free(d);
}

static void test_malformed_events(void)
{
    expect_bad("not json\n", "invalid event JSON");
    expect_bad("{\"type\":\"ADDED\"}\n", "without an object");
    expect_bad("{\"type\":\"EXPLODED\",\"object\":{}}\n", "unknown type");
    expect_bad("{\"object\":{}}\n", "unknown type");
    expect_bad("{\"type\":\"ADDED\",\"object\":[]}\n", "without an object");
    expect_bad("[1,2]\n", "unknown type");
}

static void test_callback_stops(void)
{
    kube_watch_decoder *d = kube_watch_decoder_new(0);
    collected c = {0};
    c.stop_after = 2;
    CU_ASSERT_EQUAL(kube_watch_decoder_feed(d, stream, strlen(stream), collect, &c, NULL, 0), 7);
    CU_ASSERT_EQUAL(c.n, 2);
    kube_watch_decoder_free(d);
}

static void test_type_names(void)
{
    kube_watch_type t;
    CU_ASSERT_EQUAL(kube_watch_type_parse("BOOKMARK", &t), 0);
    CU_ASSERT_EQUAL(t, KUBE_WATCH_BOOKMARK);
    CU_ASSERT_EQUAL(kube_watch_type_parse("added", &t), -1);
    CU_ASSERT_STRING_EQUAL(kube_watch_type_name(KUBE_WATCH_DELETED), "DELETED");
}

UNIT_SUITE(kube_watch, UNIT_CASE(test_whole_stream), UNIT_CASE(test_every_chunking),
           UNIT_CASE(test_partial_event_is_pending), UNIT_CASE(test_line_limit),
           UNIT_CASE(test_malformed_events), UNIT_CASE(test_callback_stops),
           UNIT_CASE(test_type_names));
