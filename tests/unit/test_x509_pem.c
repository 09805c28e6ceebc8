/*
 * Tests for common/x509_pem: strict DER/PEM loading, TLS pairs, validity and
 * RFC 3339 formatting.
 */
#include "common/cert_gen.h"
#include "common/x509_pem.h"
#include "tests/unit/unit.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void test_rfc3339(void)
{
    char buf[32];
    CU_ASSERT_EQUAL(x509_format_rfc3339(0, buf, sizeof buf), 0);
    CU_ASSERT_STRING_EQUAL(buf, "1970-01-01T00:00:00Z");
    CU_ASSERT_EQUAL(x509_format_rfc3339(1795824000LL, buf, sizeof buf), 0);
    CU_ASSERT_STRING_EQUAL(buf, "2026-11-28T00:00:00Z");
    CU_ASSERT_EQUAL(x509_format_rfc3339(253402300799LL, buf, sizeof buf), 0);
    CU_ASSERT_STRING_EQUAL(buf, "9999-12-31T23:59:59Z");
    CU_ASSERT_EQUAL(x509_format_rfc3339(-62135596800LL, buf, sizeof buf), 0);
    CU_ASSERT_STRING_EQUAL(buf, "0001-01-01T00:00:00Z");
    CU_ASSERT_EQUAL(x509_format_rfc3339(951782400LL, buf, sizeof buf), 0); /* leap day */
    CU_ASSERT_STRING_EQUAL(buf, "2000-02-29T00:00:00Z");
    CU_ASSERT_EQUAL(x509_format_rfc3339(253402300800LL, buf, sizeof buf), -1);
    CU_ASSERT_EQUAL(x509_format_rfc3339(0, buf, 10), -1);
}

static void test_pem_sample_dates(void)
{
    char *pem = unit_read_file(unit_shared_path("testdata/spiffe-bundles/spire/ca.pem"), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pem);
    X509 **certs = NULL;
    size_t n = 0, blocks = 0;
    char err[128];
    CU_ASSERT_EQUAL_FATAL(
        x509_pem_load_certs(pem, strlen(pem), &certs, &n, &blocks, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_EQUAL(blocks, 1);
    int64_t nb = 0, na = 0;
    CU_ASSERT_EQUAL(x509_validity(certs[0], &nb, &na), 0);
    CU_ASSERT_EQUAL(nb, -62135596800LL);
    CU_ASSERT_EQUAL(na, 253402300799LL);
    CU_ASSERT(x509_is_ca(certs[0]));
    char *again = x509_to_pem(certs[0]);
    CU_ASSERT_PTR_NOT_NULL(again);
    CU_ASSERT_STRING_EQUAL(again, pem);
    free(again);
    x509_certs_free(certs, n);
    free(pem);

    /* a mixed file: the key block is skipped, both certificates load */
    pem = unit_read_file(unit_shared_path("testdata/spiffe-bundles/spire/mixed-bundle.pem"), NULL);
    CU_ASSERT_EQUAL(x509_pem_load_certs(pem, strlen(pem), &certs, &n, &blocks, err, sizeof err), 0);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_EQUAL(blocks, 3);
    CU_ASSERT_FALSE(x509_is_ca(certs[0]));
    x509_certs_free(certs, n);
    free(pem);

    /* duplicated base64 line: d2i would stop early; the trailing bytes are refused */
    pem = unit_read_file(unit_shared_path("testdata/spiffe-bundles/go-spiffe/corrupted.pem"), NULL);
    CU_ASSERT_EQUAL(x509_pem_load_certs(pem, strlen(pem), &certs, &n, &blocks, err, sizeof err),
                    -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "trailing bytes"));
    free(pem);

    CU_ASSERT_EQUAL(x509_pem_load_certs("hello", 5, &certs, &n, &blocks, err, sizeof err), 0);
    CU_ASSERT_EQUAL(blocks, 0);
    CU_ASSERT_EQUAL(n, 0);
    const char *broken = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
    CU_ASSERT_EQUAL(
        x509_pem_load_certs(broken, strlen(broken), &certs, &n, &blocks, err, sizeof err), -1);
    CU_ASSERT_PTR_NULL(
        x509_from_der((const unsigned char *)"\x30\x03\x02\x01\x01", 5, err, sizeof err));
}

static void test_tls_pair(void)
{
    char err[256];
    cert_pair ca, leaf, other;
    CU_ASSERT_EQUAL_FATAL(cert_gen_ca("x509-test-ca", 10, &ca, err, sizeof err), 0);
    const char *dns[] = {"svc.ns.svc"};
    cert_leaf_spec spec = {NULL, dns, 1, NULL, 0, 2};
    CU_ASSERT_EQUAL_FATAL(cert_gen_leaf(&ca, &spec, &leaf, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(cert_gen_leaf(&ca, &spec, &other, err, sizeof err), 0);
    int64_t now = (int64_t)time(NULL);
    size_t cl = strlen(leaf.cert_pem), kl = strlen(leaf.key_pem);
    CU_ASSERT_EQUAL(x509_check_tls_pair(leaf.cert_pem, cl, leaf.key_pem, kl, now, err, sizeof err),
                    0);
    CU_ASSERT_EQUAL(x509_check_tls_pair(leaf.cert_pem, cl, leaf.key_pem, kl, -1, err, sizeof err),
                    0);
    CU_ASSERT_EQUAL(x509_check_tls_pair(leaf.cert_pem, cl, other.key_pem, strlen(other.key_pem),
                                        now, err, sizeof err),
                    -1);
    CU_ASSERT_STRING_EQUAL(err, "tls.key does not match the certificate in tls.crt");
    CU_ASSERT_EQUAL(
        x509_check_tls_pair(leaf.cert_pem, cl, leaf.key_pem, kl, now + 5 * 86400, err, sizeof err),
        -1);
    CU_ASSERT_STRING_EQUAL(err, "the certificate in tls.crt has expired");
    CU_ASSERT_EQUAL(
        x509_check_tls_pair(leaf.cert_pem, cl, leaf.key_pem, kl, now - 5 * 86400, err, sizeof err),
        -1);
    CU_ASSERT_STRING_EQUAL(err, "the certificate in tls.crt is not valid yet");
    CU_ASSERT_EQUAL(x509_check_tls_pair(leaf.cert_pem, cl, "junk", 4, now, err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, "tls.key holds no readable private key");
    CU_ASSERT_EQUAL(x509_check_tls_pair("", 0, leaf.key_pem, kl, now, err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, "tls.crt holds no certificate");
    /* an encrypted key is refused, never prompted for */
    BIO *in = BIO_new_mem_buf(leaf.key_pem, (int)kl);
    EVP_PKEY *pkey = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
    BIO_free(in);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pkey);
    BIO *out = BIO_new(BIO_s_mem());
    CU_ASSERT_EQUAL(
        PEM_write_bio_PKCS8PrivateKey(out, pkey, EVP_aes_128_cbc(), "pw", 2, NULL, NULL), 1);
    char *enc = NULL;
    long el = BIO_get_mem_data(out, &enc);
    CU_ASSERT_EQUAL(x509_check_tls_pair(leaf.cert_pem, cl, enc, (size_t)el, now, err, sizeof err),
                    -1);
    CU_ASSERT_STRING_EQUAL(err, "tls.key holds no readable private key");
    BIO_free(out);
    EVP_PKEY_free(pkey);
    /* the leaf is not a CA, the CA is */
    X509 **certs = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL(
        x509_pem_load_certs(ca.cert_pem, strlen(ca.cert_pem), &certs, &n, NULL, err, sizeof err),
        0);
    CU_ASSERT(n == 1 && x509_is_ca(certs[0]));
    x509_certs_free(certs, n);
    CU_ASSERT_EQUAL(x509_pem_load_certs(leaf.cert_pem, cl, &certs, &n, NULL, err, sizeof err), 0);
    CU_ASSERT(n == 1 && !x509_is_ca(certs[0]));
    x509_certs_free(certs, n);
    cert_pair_free(&ca);
    cert_pair_free(&leaf);
    cert_pair_free(&other);
}

UNIT_SUITE(x509_pem, UNIT_CASE(test_rfc3339), UNIT_CASE(test_pem_sample_dates),
           UNIT_CASE(test_tls_pair));
