/*
 * x509_pem: X.509 loading on top of OpenSSL. The one strictness OpenSSL does
 * not give for free is "the DER is exactly one certificate": d2i_X509 stops at
 * the end of the first ASN.1 SEQUENCE and ignores what follows, so a corrupted
 * PEM (a duplicated base64 line) would load. Every certificate here is decoded
 * through x509_from_der, which rejects leftovers.
 */
#include "common/x509_pem.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *msg)
{
    if (err != NULL && errlen > 0) {
        snprintf(err, errlen, "%s", msg);
    }
    ERR_clear_error();
    return -1;
}

X509 *x509_from_der(const unsigned char *der, size_t len, char *err, size_t errlen)
{
    if (der == NULL || len == 0 || len > (size_t)INT32_MAX) {
        fail(err, errlen, "empty certificate");
        return NULL;
    }
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (x == NULL) {
        fail(err, errlen, "certificate does not parse");
        return NULL;
    }
    if ((size_t)(p - der) != len) {
        X509_free(x);
        fail(err, errlen, "trailing bytes after the certificate");
        return NULL;
    }
    return x;
}

void x509_certs_free(X509 **certs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        X509_free(certs[i]);
    }
    free(certs);
}

static int push_cert(X509 ***certs, size_t *n, size_t *cap, X509 *x)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        X509 **nc = realloc(*certs, ncap * sizeof(X509 *));
        if (nc == NULL) {
            return -1;
        }
        *certs = nc;
        *cap = ncap;
    }
    (*certs)[(*n)++] = x;
    return 0;
}

/* 1 when the last OpenSSL error is "no start line" (clean end of input). */
static int pem_at_end(void)
{
    unsigned long e = ERR_peek_last_error();
    return e == 0 || (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE);
}

int x509_pem_load_certs(const char *pem, size_t len, X509 ***certs_out, size_t *n_out,
                        size_t *blocks_out, char *err, size_t errlen)
{
    *certs_out = NULL;
    *n_out = 0;
    if (blocks_out != NULL) {
        *blocks_out = 0;
    }
    if (len > (size_t)INT32_MAX) {
        return fail(err, errlen, "input too large");
    }
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL) {
        return fail(err, errlen, "out of memory");
    }
    ERR_clear_error();
    X509 **certs = NULL;
    size_t n = 0, cap = 0, blocks = 0;
    int rc = 0;
    for (;;) {
        char *name = NULL, *header = NULL;
        unsigned char *data = NULL;
        long dlen = 0;
        if (PEM_read_bio(bio, &name, &header, &data, &dlen) != 1) {
            if (!pem_at_end()) {
                rc = fail(err, errlen, "malformed PEM block");
            }
            break;
        }
        blocks++;
        if (strcmp(name, "CERTIFICATE") == 0) {
            char derr[96];
            X509 *x = x509_from_der(data, (size_t)dlen, derr, sizeof derr);
            if (x == NULL) {
                snprintf(err, errlen, "PEM block %zu: %s", blocks, derr);
                rc = -1;
            } else if (push_cert(&certs, &n, &cap, x) != 0) {
                X509_free(x);
                rc = fail(err, errlen, "out of memory");
            }
        }
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_clear_free(data, dlen > 0 ? (size_t)dlen : 0);
        if (rc != 0) {
            break;
        }
    }
    BIO_free(bio);
    ERR_clear_error();
    if (rc != 0) {
        x509_certs_free(certs, n);
        return -1;
    }
    *certs_out = certs;
    *n_out = n;
    if (blocks_out != NULL) {
        *blocks_out = blocks;
    }
    return 0;
}

char *x509_to_pem(X509 *cert)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        return NULL;
    }
    char *out = NULL;
    if (PEM_write_bio_X509(bio, cert) == 1) {
        char *data = NULL;
        long n = BIO_get_mem_data(bio, &data);
        if (n > 0 && (out = malloc((size_t)n + 1)) != NULL) {
            memcpy(out, data, (size_t)n);
            out[n] = '\0';
        }
    }
    BIO_free(bio);
    return out;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int x509_asn1_time_to_unix(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
        return -1;
    }
    int64_t days = days_from_civil((int64_t)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    *out = days * 86400 + (int64_t)tm.tm_hour * 3600 + (int64_t)tm.tm_min * 60 + tm.tm_sec;
    return 0;
}

int x509_validity(const X509 *cert, int64_t *not_before, int64_t *not_after)
{
    if (x509_asn1_time_to_unix(X509_get0_notBefore(cert), not_before) != 0 ||
        x509_asn1_time_to_unix(X509_get0_notAfter(cert), not_after) != 0) {
        return -1;
    }
    return 0;
}

int x509_is_ca(X509 *cert)
{
    return X509_check_ca(cert) == 1;
}

int x509_format_rfc3339(int64_t t, char *buf, size_t len)
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t secs = t - days * 86400;
    /* civil_from_days (H. Hinnant) */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp + (mp < 10 ? 3 : -9);
    y += m <= 2;
    if (y < 1 || y > 9999) {
        return -1;
    }
    int n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, (int)m, (int)d,
                     (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
    return n > 0 && (size_t)n < len ? 0 : -1;
}

/* Refuses encrypted keys instead of letting OpenSSL prompt on a terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

int x509_check_tls_pair(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
                        int64_t now, char *err, size_t errlen)
{
    X509 **certs = NULL;
    size_t n = 0;
    char cerr[128];
    if (x509_pem_load_certs(cert_pem, cert_len, &certs, &n, NULL, cerr, sizeof cerr) != 0) {
        snprintf(err, errlen, "tls.crt: %s", cerr);
        return -1;
    }
    if (n == 0) {
        x509_certs_free(certs, n);
        return fail(err, errlen, "tls.crt holds no certificate");
    }
    int rc = 0;
    if (key_len > (size_t)INT32_MAX) {
        x509_certs_free(certs, n);
        return fail(err, errlen, "tls.key is too large");
    }
    BIO *bio = BIO_new_mem_buf(key_pem, (int)key_len);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
    BIO_free(bio);
    int64_t nb = 0, na = 0;
    if (key == NULL) {
        rc = fail(err, errlen, "tls.key holds no readable private key");
    } else if (X509_check_private_key(certs[0], key) != 1) {
        rc = fail(err, errlen, "tls.key does not match the certificate in tls.crt");
    } else if (now >= 0 && x509_validity(certs[0], &nb, &na) != 0) {
        rc = fail(err, errlen, "tls.crt has an unreadable validity period");
    } else if (now >= 0 && now < nb) {
        rc = fail(err, errlen, "the certificate in tls.crt is not valid yet");
    } else if (now >= 0 && now > na) {
        rc = fail(err, errlen, "the certificate in tls.crt has expired");
    }
    EVP_PKEY_free(key);
    x509_certs_free(certs, n);
    ERR_clear_error();
    return rc;
}
