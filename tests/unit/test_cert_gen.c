/* Tests for common/cert_gen: CA and leaf generation, info, key matching. */
#include "common/cert_gen.h"
#include "tests/unit/unit.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

static X509 *parse(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return x;
}

static void test_ca(void)
{
    cert_pair ca = {0};
    char err[256] = "";
    CU_ASSERT_EQUAL_FATAL(cert_gen_ca("aigw-test-ca", 3650, &ca, err, sizeof err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(ca.cert_pem, "-----BEGIN CERTIFICATE-----"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ca.key_pem, "-----BEGIN PRIVATE KEY-----"));
    cert_info info;
    CU_ASSERT_EQUAL_FATAL(cert_pem_info(ca.cert_pem, 0, &info, err, sizeof err), 0);
    CU_ASSERT_TRUE(info.is_ca);
    time_t now = time(NULL);
    CU_ASSERT_TRUE(info.not_before <= now && info.not_before >= now - 400);
    long days = (long)((info.not_after - info.not_before) / 86400);
    CU_ASSERT_EQUAL(days, 3650);
    CU_ASSERT_TRUE(strlen(info.serial_hex) >= 30);
    CU_ASSERT_EQUAL(cert_pem_key_matches(ca.cert_pem, ca.key_pem, err, sizeof err), 1);

    X509 *x = parse(ca.cert_pem);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    CU_ASSERT_EQUAL(X509_check_ca(x), 1);
    CU_ASSERT_EQUAL(X509_verify(x, X509_get0_pubkey(x)), 1);
    CU_ASSERT_EQUAL(EVP_PKEY_get_base_id(X509_get0_pubkey(x)), EVP_PKEY_EC);
    char cn[64] = "";
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn);
    CU_ASSERT_STRING_EQUAL(cn, "aigw-test-ca");
    X509_free(x);
    cert_pair_free(&ca);
    CU_ASSERT_PTR_NULL(ca.cert_pem);
    CU_ASSERT_PTR_NULL(ca.key_pem);
}

static void test_leaf(void)
{
    cert_pair ca = {0}, leaf = {0}, other = {0};
    char err[256] = "";
    CU_ASSERT_EQUAL_FATAL(cert_gen_ca("ca", 30, &ca, err, sizeof err), 0);
    const char *dns[] = {"aigw", "aigw.system.svc", "localhost"};
    const char *ips[] = {"127.0.0.1", "::1"};
    cert_leaf_spec spec = {NULL, dns, 3, ips, 2, 7};
    CU_ASSERT_EQUAL_FATAL(cert_gen_leaf(&ca, &spec, &leaf, err, sizeof err), 0);
    cert_info info, ca_info;
    CU_ASSERT_EQUAL_FATAL(cert_pem_info(leaf.cert_pem, 0, &info, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(cert_pem_info(ca.cert_pem, 0, &ca_info, err, sizeof err), 0);
    CU_ASSERT_FALSE(info.is_ca);
    CU_ASSERT_EQUAL((info.not_after - info.not_before) / 86400, 7);
    CU_ASSERT_STRING_NOT_EQUAL(info.serial_hex, ca_info.serial_hex);

    X509 *x = parse(leaf.cert_pem);
    X509 *c = parse(ca.cert_pem);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(X509_verify(x, X509_get0_pubkey(c)), 1);
    CU_ASSERT_EQUAL(X509_check_issued(c, x), X509_V_OK);
    CU_ASSERT_EQUAL(X509_check_host(x, "aigw.system.svc", 0, 0, NULL), 1);
    CU_ASSERT_EQUAL(X509_check_host(x, "localhost", 0, 0, NULL), 1);
    CU_ASSERT_EQUAL(X509_check_host(x, "other.example", 0, 0, NULL), 0);
    CU_ASSERT_EQUAL(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
    CU_ASSERT_EQUAL(X509_check_ip_asc(x, "::1", 0), 1);
    CU_ASSERT_EQUAL(X509_check_ip_asc(x, "10.0.0.1", 0), 0);
    CU_ASSERT_TRUE((X509_get_extended_key_usage(x) & XKU_SSL_SERVER) != 0);
    CU_ASSERT_EQUAL(X509_check_ca(x), 0);
    char cn[64] = "";
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn);
    CU_ASSERT_STRING_EQUAL(cn, "aigw");
    X509_free(x);
    X509_free(c);

    /* The leaf's key is its own; a second leaf's key does not match it. */
    CU_ASSERT_EQUAL(cert_pem_key_matches(leaf.cert_pem, leaf.key_pem, err, sizeof err), 1);
    CU_ASSERT_EQUAL_FATAL(cert_gen_leaf(&ca, &spec, &other, err, sizeof err), 0);
    CU_ASSERT_EQUAL(cert_pem_key_matches(leaf.cert_pem, other.key_pem, err, sizeof err), 0);
    CU_ASSERT_EQUAL(cert_pem_key_matches(leaf.cert_pem, ca.key_pem, err, sizeof err), 0);
    cert_pair_free(&other);
    cert_pair_free(&leaf);
    cert_pair_free(&ca);
}

static void test_errors(void)
{
    cert_pair ca = {0}, leaf = {0};
    char err[256] = "";
    CU_ASSERT_EQUAL(cert_gen_ca("", 10, &ca, err, sizeof err), -1);
    CU_ASSERT_TRUE(err[0] != '\0');
    CU_ASSERT_EQUAL(cert_gen_ca("x", 0, &ca, err, sizeof err), -1);
    CU_ASSERT_EQUAL_FATAL(cert_gen_ca("x", 10, &ca, err, sizeof err), 0);

    const char *bad_ip[] = {"300.1.1.1"};
    cert_leaf_spec spec = {"x", NULL, 0, bad_ip, 1, 1};
    err[0] = '\0';
    CU_ASSERT_EQUAL(cert_gen_leaf(&ca, &spec, &leaf, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "300.1.1.1"));
    CU_ASSERT_PTR_NULL(leaf.cert_pem);
    cert_leaf_spec no_name = {NULL, NULL, 0, NULL, 0, 1};
    CU_ASSERT_EQUAL(cert_gen_leaf(&ca, &no_name, &leaf, err, sizeof err), -1);
    cert_pair broken = {"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                        ca.key_pem};
    cert_leaf_spec ok = {"x", NULL, 0, NULL, 0, 1};
    CU_ASSERT_EQUAL(cert_gen_leaf(&broken, &ok, &leaf, err, sizeof err), -1);

    cert_info info;
    CU_ASSERT_EQUAL(cert_pem_info("not a pem", 0, &info, err, sizeof err), -1);
    CU_ASSERT_EQUAL(cert_pem_info(NULL, 0, &info, err, sizeof err), -1);
    CU_ASSERT_EQUAL(cert_pem_key_matches(ca.cert_pem, "garbage", err, sizeof err), -1);
    CU_ASSERT_PTR_NULL(strstr(err, "garbage"));
    CU_ASSERT_EQUAL(cert_pem_key_matches("garbage", ca.key_pem, err, sizeof err), -1);
    /* The error text never carries key material. */
    CU_ASSERT_PTR_NULL(strstr(err, "PRIVATE KEY"));

    char *key = cert_gen_key_pem(err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(key);
    CU_ASSERT_PTR_NOT_NULL(strstr(key, "BEGIN PRIVATE KEY"));
    CU_ASSERT_EQUAL(cert_pem_key_matches(ca.cert_pem, key, err, sizeof err), 0);
    free(key);
    cert_pair_free(&ca);
    cert_pair_free(NULL);
}

UNIT_SUITE(cert_gen, UNIT_CASE(test_ca), UNIT_CASE(test_leaf), UNIT_CASE(test_errors))
