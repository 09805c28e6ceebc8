/*
 * spiffe_bundle: SPIFFE JSON and PEM trust bundles -> the CAs valid now.
 * Format rules are in the header; this file is the walk over the entries and
 * the classification of each certificate (not a CA / expired / not yet valid /
 * valid).
 */
#include "common/spiffe_bundle.h"

#include "common/base64.h"
#include "common/x509_pem.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *buf;
    size_t len;
    size_t cap;
} strbuf;

static int sb_append(strbuf *sb, const char *s)
{
    size_t n = strlen(s);
    if (sb->len + n + 1 > sb->cap) {
        size_t ncap = sb->cap ? sb->cap : 1024;
        while (ncap < sb->len + n + 1) {
            ncap *= 2;
        }
        char *nb = realloc(sb->buf, ncap);
        if (nb == NULL) {
            return -1;
        }
        sb->buf = nb;
        sb->cap = ncap;
    }
    memcpy(sb->buf + sb->len, s, n + 1);
    sb->len += n;
    return 0;
}

/* Classifies one certificate; on "valid" appends its PEM. Takes ownership of x. */
static int classify(spiffe_bundle *b, strbuf *pem, X509 *x, int64_t now, char *err, size_t errlen)
{
    b->total++;
    int rc = 0;
    int64_t nb = 0, na = 0;
    if (!x509_is_ca(x)) {
        b->not_ca++;
    } else if (x509_validity(x, &nb, &na) != 0) {
        snprintf(err, errlen, "certificate %zu has an unreadable validity period", b->total);
        rc = -1;
    } else if (now > na) {
        b->expired++;
    } else if (now < nb) {
        b->not_yet_valid++;
    } else {
        char *p = x509_to_pem(x);
        if (p == NULL || sb_append(pem, p) != 0) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
        } else {
            b->valid++;
            if (b->next_expiry < 0 || na < b->next_expiry) {
                b->next_expiry = na;
            }
        }
        free(p);
    }
    X509_free(x);
    return rc;
}

static int parse_json_entry(spiffe_bundle *b, strbuf *pem, const json_t *e, size_t i, int64_t now,
                            char *err, size_t errlen)
{
    if (!json_is_object(e)) {
        snprintf(err, errlen, "keys[%zu] is not an object", i);
        return -1;
    }
    const char *use = json_string_value(json_object_get(e, "use"));
    if (use == NULL || strcmp(use, "x509-svid") != 0) {
        return 0; /* jwt-svid, no use, or an unknown use: ignored */
    }
    const json_t *x5c = json_object_get(e, "x5c");
    const char *first = json_string_value(json_array_get(x5c, 0));
    if (!json_is_array(x5c) || first == NULL) {
        snprintf(err, errlen, "keys[%zu]: x509-svid entry without a certificate in x5c", i);
        return -1;
    }
    size_t n = 0;
    unsigned char *der = base64_decode(first, strlen(first), &n);
    if (der == NULL || n == 0) {
        free(der);
        snprintf(err, errlen, "keys[%zu].x5c[0] is not valid standard base64", i);
        return -1;
    }
    char cerr[96];
    X509 *x = x509_from_der(der, n, cerr, sizeof cerr);
    free(der);
    if (x == NULL) {
        snprintf(err, errlen, "keys[%zu].x5c[0]: %s", i, cerr);
        return -1;
    }
    return classify(b, pem, x, now, err, errlen);
}

static int parse_json(spiffe_bundle *b, strbuf *pem, const char *data, size_t len, int64_t now,
                      char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        snprintf(err, errlen, "not valid JSON: line %d: %s", jerr.line, jerr.text);
        return -1;
    }
    int rc = 0;
    const json_t *keys = json_object_get(doc, "keys");
    if (!json_is_object(doc)) {
        snprintf(err, errlen, "a SPIFFE bundle must be a JSON object");
        rc = -1;
    } else if (!json_is_array(keys)) {
        snprintf(err, errlen, "a SPIFFE bundle must have a \"keys\" array");
        rc = -1;
    } else {
        for (size_t i = 0; i < json_array_size(keys) && rc == 0; i++) {
            rc = parse_json_entry(b, pem, json_array_get(keys, i), i, now, err, errlen);
        }
    }
    json_decref(doc);
    return rc;
}

static int parse_pem(spiffe_bundle *b, strbuf *pem, const char *data, size_t len, int blank,
                     int64_t now, char *err, size_t errlen)
{
    X509 **certs = NULL;
    size_t n = 0, blocks = 0;
    if (x509_pem_load_certs(data, len, &certs, &n, &blocks, err, errlen) != 0) {
        return -1;
    }
    if (blocks == 0 && !blank) {
        snprintf(err, errlen, "neither a SPIFFE JSON bundle nor PEM");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (rc == 0) {
            rc = classify(b, pem, certs[i], now, err, errlen);
        } else {
            X509_free(certs[i]);
        }
    }
    free(certs);
    return rc;
}

int spiffe_bundle_parse(const char *data, size_t len, int64_t now, spiffe_bundle *out, char *err,
                        size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->next_expiry = -1;
    size_t i = 0;
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n')) {
        i++;
    }
    strbuf pem = {NULL, 0, 0};
    int rc;
    if (i < len && data[i] == '{') {
        out->format = SPIFFE_BUNDLE_JSON;
        rc = parse_json(out, &pem, data, len, now, err, errlen);
    } else {
        out->format = SPIFFE_BUNDLE_PEM;
        rc = parse_pem(out, &pem, data, len, i == len, now, err, errlen);
    }
    if (rc == 0 && pem.buf == NULL && sb_append(&pem, "") != 0) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    if (rc != 0) {
        free(pem.buf);
        memset(out, 0, sizeof *out);
        out->next_expiry = -1;
        return -1;
    }
    out->ca_pem = pem.buf;
    return 0;
}

void spiffe_bundle_free(spiffe_bundle *b)
{
    if (b != NULL) {
        free(b->ca_pem);
        b->ca_pem = NULL;
    }
}
