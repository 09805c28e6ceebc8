/*
 * Tests for common/spiffe_bundle against every sample in
 * ../shared/testdata/spiffe-bundles/ (see its README for what each file
 * exercises), at fixed `now` values, plus bundles built at run time.
 */
#include "common/base64.h"
#include "common/spiffe_bundle.h"
#include "tests/unit/unit.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define NOW_2026 1795824000LL            /* 2026-11-28T00:00:00Z */
#define NOW_2020 1577836800LL            /* 2020-01-01T00:00:00Z */
#define NOW_2017 1483228800LL            /* 2017-01-01T00:00:00Z */
#define END_OF_TIME 253402300799LL       /* 9999-12-31T23:59:59Z */
#define GO_SPIFFE_CA_EXPIRY 1683920027LL /* 2023-05-12T19:33:47Z */

typedef struct {
    const char *file;
    long long now;
    int rc;
    int format;
    size_t total, valid, expired, not_yet_valid, not_ca;
    long long next_expiry;
} bundle_case;

static const bundle_case cases[] = {
    /* SPIFFE JSON */
    {"go-spiffe/spiffebundle_valid_1.json", NOW_2026, 0, SPIFFE_BUNDLE_JSON, 1, 0, 1, 0, 0, -1},
    {"go-spiffe/spiffebundle_valid_1.json", NOW_2020, 0, SPIFFE_BUNDLE_JSON, 1, 1, 0, 0, 0,
     GO_SPIFFE_CA_EXPIRY},
    {"go-spiffe/spiffebundle_valid_1.json", NOW_2017, 0, SPIFFE_BUNDLE_JSON, 1, 0, 0, 1, 0, -1},
    {"go-spiffe/spiffebundle_valid_2.json", NOW_2026, 0, SPIFFE_BUNDLE_JSON, 1, 0, 1, 0, 0, -1},
    {"go-spiffe/spiffebundle_valid_2.json", NOW_2020, 0, SPIFFE_BUNDLE_JSON, 1, 1, 0, 0, 0,
     GO_SPIFFE_CA_EXPIRY},
    /* policy: x5c[0] is used, further elements ignored (X509-SVID spec 6.2) */
    {"go-spiffe/spiffebundle_multiple_x509.json", NOW_2020, 0, SPIFFE_BUNDLE_JSON, 1, 1, 0, 0, 0,
     GO_SPIFFE_CA_EXPIRY},
    {"go-spiffe/spiffebundle_multiple_x509.json", NOW_2026, 0, SPIFFE_BUNDLE_JSON, 1, 0, 1, 0, 0,
     -1},
    {"go-spiffe/spiffebundle_no_keys.json", NOW_2026, -1, 0, 0, 0, 0, 0, 0, -1},
    {"go-spiffe/spiffebundle_missing_kid.json", NOW_2026, 0, SPIFFE_BUNDLE_JSON, 1, 0, 1, 0, 0, -1},
    {"go-spiffe/spiffebundle_valid_with_wit.json", NOW_2026, 0, SPIFFE_BUNDLE_JSON, 1, 0, 1, 0, 0,
     -1},
    {"go-spiffe/jwks_valid_1.json", NOW_2026, 0, SPIFFE_BUNDLE_JSON, 0, 0, 0, 0, 0, -1},
    {"spire/jwks.json", NOW_2026, 0, SPIFFE_BUNDLE_JSON, 0, 0, 0, 0, 0, -1},
    {"spire/ca.spiffe", NOW_2026, 0, SPIFFE_BUNDLE_JSON, 1, 1, 0, 0, 0, END_OF_TIME},
    {"spire/ca2.spiffe", NOW_2026, 0, SPIFFE_BUNDLE_JSON, 1, 1, 0, 0, 0, END_OF_TIME},
    /* PEM */
    {"spire/ca.pem", NOW_2026, 0, SPIFFE_BUNDLE_PEM, 1, 1, 0, 0, 0, END_OF_TIME},
    {"spire/ca2.pem", NOW_2026, 0, SPIFFE_BUNDLE_PEM, 1, 1, 0, 0, 0, END_OF_TIME},
    {"go-spiffe/cert.pem", NOW_2026, 0, SPIFFE_BUNDLE_PEM, 1, 0, 0, 0, 1, -1},
    {"go-spiffe/certs.pem", NOW_2026, 0, SPIFFE_BUNDLE_PEM, 2, 0, 0, 0, 2, -1},
    {"go-spiffe/corrupted.pem", NOW_2026, -1, 0, 0, 0, 0, 0, 0, -1},
    {"go-spiffe/empty.pem", NOW_2026, 0, SPIFFE_BUNDLE_PEM, 0, 0, 0, 0, 0, -1},
    {"spire/empty-bundle.pem", NOW_2026, 0, SPIFFE_BUNDLE_PEM, 0, 0, 0, 0, 0, -1},
    {"go-spiffe/not-pem.pem", NOW_2026, -1, 0, 0, 0, 0, 0, 0, -1},
    {"spire/mixed-bundle.pem", NOW_2026, 0, SPIFFE_BUNDLE_PEM, 2, 0, 0, 0, 2, -1},
};

static void test_shared_samples(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const bundle_case *c = &cases[i];
        char rel[256];
        snprintf(rel, sizeof rel, "testdata/spiffe-bundles/%s", c->file);
        size_t len = 0;
        char *data = unit_read_file(unit_shared_path(rel), &len);
        CU_ASSERT_PTR_NOT_NULL_FATAL(data);
        spiffe_bundle b;
        char err[256] = "";
        int rc = spiffe_bundle_parse(data, len, c->now, &b, err, sizeof err);
        if (rc != c->rc ||
            (rc == 0 && (b.total != c->total || b.valid != c->valid || b.expired != c->expired))) {
            fprintf(stderr, "\nspiffe case %s at %lld: rc %d err %s\n", c->file, c->now, rc, err);
        }
        CU_ASSERT_EQUAL(rc, c->rc);
        if (rc == 0) {
            CU_ASSERT_EQUAL(b.format, c->format);
            CU_ASSERT_EQUAL(b.total, c->total);
            CU_ASSERT_EQUAL(b.valid, c->valid);
            CU_ASSERT_EQUAL(b.expired, c->expired);
            CU_ASSERT_EQUAL(b.not_yet_valid, c->not_yet_valid);
            CU_ASSERT_EQUAL(b.not_ca, c->not_ca);
            CU_ASSERT_EQUAL(b.next_expiry, c->next_expiry);
            CU_ASSERT_PTR_NOT_NULL(b.ca_pem);
            /* the PEM holds exactly the valid CAs, never a key */
            size_t blocks = 0;
            for (const char *p = b.ca_pem; (p = strstr(p, "BEGIN CERTIFICATE")) != NULL; p++) {
                blocks++;
            }
            CU_ASSERT_EQUAL(blocks, c->valid);
            CU_ASSERT_PTR_NULL(strstr(b.ca_pem, "PRIVATE KEY"));
            spiffe_bundle_free(&b);
        } else {
            CU_ASSERT(err[0] != '\0');
        }
        free(data);
    }
}

static char *read_sample(const char *file, size_t *len)
{
    char rel[256];
    snprintf(rel, sizeof rel, "testdata/spiffe-bundles/%s", file);
    return unit_read_file(unit_shared_path(rel), len);
}

/* The same CA through JSON and PEM gives the same PEM output. */
static void test_json_and_pem_agree(void)
{
    size_t jl = 0, pl = 0;
    char *j = read_sample("spire/ca.spiffe", &jl);
    char *p = read_sample("spire/ca.pem", &pl);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    spiffe_bundle a, b;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(spiffe_bundle_parse(j, jl, NOW_2026, &a, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(spiffe_bundle_parse(p, pl, NOW_2026, &b, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(a.ca_pem, b.ca_pem);
    spiffe_bundle_free(&a);
    spiffe_bundle_free(&b);
    free(j);
    free(p);
}

/* A live SPIRE bundle: one valid CA and one expired CA side by side. */
static void test_mixed_valid_and_expired(void)
{
    size_t l1 = 0, l2 = 0;
    char *valid = read_sample("spire/ca.spiffe", &l1);
    char *old = read_sample("go-spiffe/spiffebundle_valid_1.json", &l2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(valid);
    CU_ASSERT_PTR_NOT_NULL_FATAL(old);
    json_t *a = json_loadb(valid, l1, 0, NULL);
    json_t *b = json_loadb(old, l2, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    json_array_extend(json_object_get(a, "keys"), json_object_get(b, "keys"));
    char *doc = json_dumps(a, 0);
    spiffe_bundle bun;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(spiffe_bundle_parse(doc, strlen(doc), NOW_2026, &bun, err, sizeof err),
                          0);
    CU_ASSERT_EQUAL(bun.total, 2);
    CU_ASSERT_EQUAL(bun.valid, 1);
    CU_ASSERT_EQUAL(bun.expired, 1);
    CU_ASSERT_EQUAL(bun.next_expiry, END_OF_TIME);
    spiffe_bundle_free(&bun);
    free(doc);
    json_decref(a);
    json_decref(b);
    free(valid);
    free(old);
}

static int parse_str(const char *s, spiffe_bundle *b, char *err, size_t errlen)
{
    return spiffe_bundle_parse(s, strlen(s), NOW_2026, b, err, errlen);
}

/* Rewrites x5c[0] of spire/ca.spiffe with `mutate` and parses the result. */
static int parse_with_x5c(const char *x5c0, char *err, size_t errlen)
{
    size_t l = 0;
    char *valid = read_sample("spire/ca.spiffe", &l);
    json_t *doc = json_loadb(valid, l, 0, NULL);
    free(valid);
    if (doc == NULL) {
        return -99;
    }
    json_t *entry = json_array_get(json_object_get(doc, "keys"), 0);
    json_array_set_new(json_object_get(entry, "x5c"), 0, json_string(x5c0));
    char *s = json_dumps(doc, 0);
    json_decref(doc);
    spiffe_bundle b;
    int rc = parse_str(s, &b, err, errlen);
    if (rc == 0) {
        spiffe_bundle_free(&b);
    }
    free(s);
    return rc;
}

static char *sample_x5c0(void)
{
    size_t l = 0;
    char *valid = read_sample("spire/ca.spiffe", &l);
    json_t *doc = json_loadb(valid, l, 0, NULL);
    free(valid);
    const char *s = json_string_value(
        json_array_get(json_object_get(json_array_get(json_object_get(doc, "keys"), 0), "x5c"), 0));
    char *out = s ? strdup(s) : NULL;
    json_decref(doc);
    return out;
}

static void test_x5c_strictness(void)
{
    char err[256];
    char *good = sample_x5c0();
    CU_ASSERT_PTR_NOT_NULL_FATAL(good);
    CU_ASSERT_EQUAL(parse_with_x5c(good, err, sizeof err), 0);
    /* padding removed: not standard padded base64 */
    char *nopad = strdup(good);
    char *eq = strchr(nopad, '=');
    if (eq != NULL) {
        *eq = '\0';
        CU_ASSERT_EQUAL(parse_with_x5c(nopad, err, sizeof err), -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "base64"));
    }
    free(nopad);
    /* URL-safe alphabet is rejected */
    char *url = strdup(good);
    int changed = 0;
    for (char *c = url; *c; c++) {
        if (*c == '+' || *c == '/') {
            *c = *c == '+' ? '-' : '_';
            changed = 1;
        }
    }
    if (changed) {
        CU_ASSERT_EQUAL(parse_with_x5c(url, err, sizeof err), -1);
    }
    free(url);
    /* trailing bytes after the certificate */
    size_t n = 0;
    unsigned char *der = base64_decode(good, strlen(good), &n);
    CU_ASSERT_FATAL(der != NULL && n > 0);
    unsigned char *longer = malloc((size_t)n + 3);
    memcpy(longer, der, (size_t)n);
    memcpy(longer + n, "\x00\x01\x02", 3);
    char *enc = malloc(((size_t)n + 3) / 3 * 4 + 8);
    EVP_EncodeBlock((unsigned char *)enc, longer, (int)n + 3);
    CU_ASSERT_EQUAL(parse_with_x5c(enc, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "trailing bytes"));
    free(enc);
    free(longer);
    free(der);
    free(good);
}

static void test_json_shapes(void)
{
    spiffe_bundle b;
    char err[256];
    CU_ASSERT_EQUAL(parse_str("{\"keys\":[],\"keys\":[]}", &b, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "duplicate"));
    CU_ASSERT_EQUAL(parse_str("{\"spiffe_sequence\":1}", &b, err, sizeof err), -1);
    CU_ASSERT_EQUAL(parse_str("{\"keys\":{}}", &b, err, sizeof err), -1);
    CU_ASSERT_EQUAL(parse_str("{\"keys\":[1]}", &b, err, sizeof err), -1);
    CU_ASSERT_EQUAL(parse_str("{\"keys\":[{\"use\":\"x509-svid\"}]}", &b, err, sizeof err), -1);
    CU_ASSERT_EQUAL(
        parse_str("{\"keys\":[{\"use\":\"x509-svid\",\"x5c\":[\"AAAA\"]}]}", &b, err, sizeof err),
        -1);
    CU_ASSERT_EQUAL(parse_str("{\"keys\":", &b, err, sizeof err), -1);
    CU_ASSERT_EQUAL(parse_str("  \n", &b, err, sizeof err), 0);
    CU_ASSERT_EQUAL(b.total, 0);
    spiffe_bundle_free(&b);
    CU_ASSERT_EQUAL(parse_str("{\"keys\":[{\"use\":\"jwt-svid\",\"kid\":\"a\"},{\"use\":\"x\"}]}",
                              &b, err, sizeof err),
                    0);
    CU_ASSERT_EQUAL(b.total, 0);
    CU_ASSERT_STRING_EQUAL(b.ca_pem, "");
    spiffe_bundle_free(&b);
}

static int decodes_to(const char *in, const char *want, size_t want_len)
{
    size_t n = 0;
    unsigned char *out = base64_decode(in, strlen(in), &n);
    int ok = out != NULL && n == want_len && memcmp(out, want, n) == 0;
    free(out);
    return ok;
}

static void test_base64_strict(void)
{
    CU_ASSERT_TRUE(decodes_to("TWFu", "Man", 3));
    CU_ASSERT_TRUE(decodes_to("TWE=", "Ma", 2));
    CU_ASSERT_TRUE(decodes_to("TQ==", "M", 1));
    CU_ASSERT_PTR_NULL(base64_decode("TQ", 2, NULL));
    CU_ASSERT_PTR_NULL(base64_decode("TR==", 4, NULL));     /* non-canonical */
    CU_ASSERT_PTR_NULL(base64_decode("TWF=", 4, NULL));     /* non-canonical, one pad */
    CU_ASSERT_PTR_NULL(base64_decode("T=Q=", 4, NULL));     /* '=' inside */
    CU_ASSERT_PTR_NULL(base64_decode("TQ==TWFu", 8, NULL)); /* pad not at end */
    CU_ASSERT_PTR_NULL(base64_decode("TW u", 4, NULL));
    CU_ASSERT_PTR_NULL(base64_decode("====", 4, NULL));
    /* kubeconfig data: whitespace, missing padding and the URL-safe alphabet */
    size_t n = 0;
    unsigned char *out = base64_decode_lenient("TW\nF u-_", 8, &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT_EQUAL(n, 4);
    CU_ASSERT_EQUAL(memcmp(out, "Man\xfb", 4), 0);
    free(out);
    CU_ASSERT_PTR_NULL(base64_decode_lenient("TWFuT", 5, NULL)); /* one dangling char */
    CU_ASSERT_PTR_NULL(base64_decode_lenient("TW*u", 4, NULL));
}

UNIT_SUITE(spiffe_bundle, UNIT_CASE(test_shared_samples), UNIT_CASE(test_json_and_pem_agree),
           UNIT_CASE(test_mixed_valid_and_expired), UNIT_CASE(test_x5c_strictness),
           UNIT_CASE(test_json_shapes), UNIT_CASE(test_base64_strict));
