/*
 * cert_gen: certificate and key generation with OpenSSL 3 (see cert_gen.h).
 * Everything goes through PEM text so callers (certgen's Secret, the
 * reconciler's issuer, serve's dev pair) never hold OpenSSL objects.
 */
#include "common/cert_gen.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Certificates start this long in the past so peers with a slow clock accept them. */
#define BACKDATE_SECONDS 300L

/* Writes "<what>: <first OpenSSL reason>" to err and clears the thread's error queue. */
static void set_err(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    if (err != NULL && errlen > 0) {
        if (e != 0) {
            char reason[160];
            ERR_error_string_n(e, reason, sizeof reason);
            snprintf(err, errlen, "%s: %s", what, reason);
        } else {
            snprintf(err, errlen, "%s", what);
        }
    }
    ERR_clear_error();
}

void cert_pair_free(cert_pair *pair)
{
    if (pair == NULL) {
        return;
    }
    free(pair->cert_pem);
    if (pair->key_pem != NULL) {
        /* The key is secret: do not leave it in freed heap memory. */
        OPENSSL_cleanse(pair->key_pem, strlen(pair->key_pem));
        free(pair->key_pem);
    }
    pair->cert_pem = NULL;
    pair->key_pem = NULL;
}

static EVP_PKEY *new_p256_key(void)
{
    return EVP_EC_gen("P-256");
}

/* Copies a memory BIO's contents into a NUL-terminated malloc'ed string. */
static char *bio_to_string(BIO *bio)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    if (n < 0 || data == NULL) {
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (s != NULL) {
        memcpy(s, data, (size_t)n);
        s[n] = '\0';
    }
    return s;
}

static char *key_to_pem(EVP_PKEY *key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        return NULL;
    }
    char *s = NULL;
    if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1) {
        s = bio_to_string(bio);
    }
    /* The memory BIO held the key: wipe it before it is released. */
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    if (n > 0 && data != NULL) {
        OPENSSL_cleanse(data, (size_t)n);
    }
    BIO_free(bio);
    return s;
}

static char *cert_to_pem(X509 *cert)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        return NULL;
    }
    char *s = NULL;
    if (PEM_write_bio_X509(bio, cert) == 1) {
        s = bio_to_string(bio);
    }
    BIO_free(bio);
    return s;
}

char *cert_gen_key_pem(char *err, size_t errlen)
{
    EVP_PKEY *key = new_p256_key();
    if (key == NULL) {
        set_err(err, errlen, "generating a P-256 key");
        return NULL;
    }
    char *pem = key_to_pem(key);
    EVP_PKEY_free(key);
    if (pem == NULL) {
        set_err(err, errlen, "encoding the key");
    }
    return pem;
}

/* A random positive serial of 127 bits (RFC 5280: at most 20 octets, positive). */
static int set_random_serial(X509 *cert)
{
    BIGNUM *bn = BN_new();
    if (bn == NULL) {
        return -1;
    }
    int rc = -1;
    if (BN_rand(bn, 127, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) == 1) {
        ASN1_INTEGER *serial = BN_to_ASN1_INTEGER(bn, NULL);
        if (serial != NULL) {
            rc = X509_set_serialNumber(cert, serial) == 1 ? 0 : -1;
            ASN1_INTEGER_free(serial);
        }
    }
    BN_free(bn);
    return rc;
}

static int set_validity(X509 *cert, int days)
{
    if (X509_gmtime_adj(X509_getm_notBefore(cert), -BACKDATE_SECONDS) == NULL) {
        return -1;
    }
    if (X509_time_adj_ex(X509_getm_notAfter(cert), days, -BACKDATE_SECONDS, NULL) == NULL) {
        return -1;
    }
    return 0;
}

static int set_common_name(X509_NAME *name, const char *cn)
{
    return X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                      0) == 1
               ? 0
               : -1;
}

/* Adds one extension given in OpenSSL's config syntax ("critical,CA:TRUE"). */
static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
    if (ext == NULL) {
        return -1;
    }
    int rc = X509_add_ext(cert, ext, -1) == 1 ? 0 : -1;
    X509_EXTENSION_free(ext);
    return rc;
}

/* A new certificate with version 3, a random serial, validity, subject CN and public key. */
static X509 *new_cert(const char *cn, int days, EVP_PKEY *key)
{
    X509 *cert = X509_new();
    if (cert == NULL) {
        return NULL;
    }
    if (X509_set_version(cert, 2) != 1 || set_random_serial(cert) != 0 ||
        set_validity(cert, days) != 0 || set_common_name(X509_get_subject_name(cert), cn) != 0 ||
        X509_set_pubkey(cert, key) != 1) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

static int finish_pair(X509 *cert, EVP_PKEY *key, cert_pair *out)
{
    out->cert_pem = cert_to_pem(cert);
    out->key_pem = key_to_pem(key);
    if (out->cert_pem == NULL || out->key_pem == NULL) {
        cert_pair_free(out);
        return -1;
    }
    return 0;
}

int cert_gen_ca(const char *common_name, int validity_days, cert_pair *out, char *err,
                size_t errlen)
{
    out->cert_pem = NULL;
    out->key_pem = NULL;
    if (common_name == NULL || common_name[0] == '\0' || validity_days <= 0) {
        set_err(err, errlen, "CA needs a common name and a positive validity");
        return -1;
    }
    EVP_PKEY *key = new_p256_key();
    if (key == NULL) {
        set_err(err, errlen, "generating the CA key");
        return -1;
    }
    int rc = -1;
    X509 *cert = new_cert(common_name, validity_days, key);
    if (cert == NULL) {
        set_err(err, errlen, "building the CA certificate");
    } else if (X509_set_issuer_name(cert, X509_get_subject_name(cert)) != 1 ||
               add_ext(cert, cert, NID_basic_constraints, "critical,CA:TRUE") != 0 ||
               add_ext(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign") != 0 ||
               add_ext(cert, cert, NID_subject_key_identifier, "hash") != 0 ||
               add_ext(cert, cert, NID_authority_key_identifier, "keyid:always") != 0) {
        set_err(err, errlen, "adding CA extensions");
    } else if (X509_sign(cert, key, EVP_sha256()) <= 0) {
        set_err(err, errlen, "signing the CA certificate");
    } else if (finish_pair(cert, key, out) != 0) {
        set_err(err, errlen, "encoding the CA pair");
    } else {
        rc = 0;
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

static X509 *read_cert(const char *pem, size_t len)
{
    BIO *bio = BIO_new_mem_buf(pem, len > 0 ? (int)len : -1);
    if (bio == NULL) {
        return NULL;
    }
    X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return cert;
}

static EVP_PKEY *read_key(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    if (bio == NULL) {
        return NULL;
    }
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return key;
}

/* subjectAltName from the spec's DNS names and IP addresses. */
static int add_sans(X509 *cert, const cert_leaf_spec *spec, char *err, size_t errlen)
{
    GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
    if (names == NULL) {
        set_err(err, errlen, "allocating subjectAltName");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < spec->n_dns; i++) {
        GENERAL_NAME *gn = GENERAL_NAME_new();
        ASN1_IA5STRING *s = ASN1_IA5STRING_new();
        if (gn == NULL || s == NULL || ASN1_STRING_set(s, spec->dns_names[i], -1) != 1) {
            GENERAL_NAME_free(gn);
            ASN1_IA5STRING_free(s);
            set_err(err, errlen, "building a DNS name");
            rc = -1;
            break;
        }
        GENERAL_NAME_set0_value(gn, GEN_DNS, s);
        if (sk_GENERAL_NAME_push(names, gn) <= 0) {
            GENERAL_NAME_free(gn);
            set_err(err, errlen, "building subjectAltName");
            rc = -1;
        }
    }
    for (size_t i = 0; rc == 0 && i < spec->n_ips; i++) {
        ASN1_OCTET_STRING *ip = a2i_IPADDRESS(spec->ip_addrs[i]);
        GENERAL_NAME *gn = ip != NULL ? GENERAL_NAME_new() : NULL;
        if (gn == NULL) {
            ASN1_OCTET_STRING_free(ip);
            ERR_clear_error();
            if (err != NULL && errlen > 0) {
                snprintf(err, errlen, "invalid IP address for subjectAltName: \"%.64s\"",
                         spec->ip_addrs[i]);
            }
            rc = -1;
            break;
        }
        GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
        if (sk_GENERAL_NAME_push(names, gn) <= 0) {
            GENERAL_NAME_free(gn);
            set_err(err, errlen, "building subjectAltName");
            rc = -1;
        }
    }
    if (rc == 0 && sk_GENERAL_NAME_num(names) > 0 &&
        X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT) != 1) {
        set_err(err, errlen, "adding subjectAltName");
        rc = -1;
    }
    GENERAL_NAMES_free(names);
    return rc;
}

static int add_leaf_exts(X509 *cert, X509 *issuer)
{
    if (add_ext(cert, issuer, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
        add_ext(cert, issuer, NID_key_usage, "critical,digitalSignature") != 0 ||
        add_ext(cert, issuer, NID_ext_key_usage, "serverAuth") != 0 ||
        add_ext(cert, issuer, NID_subject_key_identifier, "hash") != 0 ||
        add_ext(cert, issuer, NID_authority_key_identifier, "keyid,issuer") != 0) {
        return -1;
    }
    return 0;
}

int cert_gen_leaf(const cert_pair *ca, const cert_leaf_spec *spec, cert_pair *out, char *err,
                  size_t errlen)
{
    out->cert_pem = NULL;
    out->key_pem = NULL;
    const char *cn = spec->common_name;
    if (cn == NULL && spec->n_dns > 0) {
        cn = spec->dns_names[0];
    }
    if (cn == NULL || cn[0] == '\0' || spec->validity_days <= 0) {
        set_err(err, errlen, "leaf needs a common name or DNS name and a positive validity");
        return -1;
    }
    X509 *ca_cert = read_cert(ca->cert_pem, 0);
    EVP_PKEY *ca_key = ca_cert != NULL ? read_key(ca->key_pem) : NULL;
    if (ca_cert == NULL || ca_key == NULL) {
        set_err(err, errlen, ca_cert == NULL ? "reading the CA certificate" : "reading the CA key");
        X509_free(ca_cert);
        return -1;
    }
    int rc = -1;
    EVP_PKEY *key = new_p256_key();
    X509 *cert = key != NULL ? new_cert(cn, spec->validity_days, key) : NULL;
    if (cert == NULL) {
        set_err(err, errlen, "building the leaf certificate");
    } else if (X509_set_issuer_name(cert, X509_get_subject_name(ca_cert)) != 1 ||
               add_leaf_exts(cert, ca_cert) != 0) {
        set_err(err, errlen, "adding leaf extensions");
    } else if (add_sans(cert, spec, err, errlen) != 0) {
        /* err already set */
    } else if (X509_sign(cert, ca_key, EVP_sha256()) <= 0) {
        set_err(err, errlen, "signing the leaf certificate");
    } else if (finish_pair(cert, key, out) != 0) {
        set_err(err, errlen, "encoding the leaf pair");
    } else {
        rc = 0;
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    EVP_PKEY_free(ca_key);
    X509_free(ca_cert);
    return rc;
}

static int asn1_time_to_time_t(const ASN1_TIME *t, time_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (ASN1_TIME_to_tm(t, &tm) != 1) {
        return -1;
    }
    *out = timegm(&tm);
    return 0;
}

int cert_pem_info(const char *pem, size_t len, cert_info *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (pem == NULL) {
        set_err(err, errlen, "no certificate given");
        return -1;
    }
    X509 *cert = read_cert(pem, len);
    if (cert == NULL) {
        set_err(err, errlen, "reading the certificate");
        return -1;
    }
    int rc = -1;
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
    char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
    if (hex == NULL) {
        set_err(err, errlen, "reading the serial number");
    } else if (asn1_time_to_time_t(X509_get0_notBefore(cert), &out->not_before) != 0 ||
               asn1_time_to_time_t(X509_get0_notAfter(cert), &out->not_after) != 0) {
        set_err(err, errlen, "reading the validity period");
    } else {
        snprintf(out->serial_hex, sizeof out->serial_hex, "%s", hex);
        out->is_ca = X509_check_ca(cert) >= 1 && (X509_get_extension_flags(cert) & EXFLAG_CA) != 0;
        rc = 0;
    }
    OPENSSL_free(hex);
    BN_free(bn);
    X509_free(cert);
    return rc;
}

int cert_pem_key_matches(const char *cert_pem, const char *key_pem, char *err, size_t errlen)
{
    if (cert_pem == NULL || key_pem == NULL) {
        set_err(err, errlen, "certificate or key missing");
        return -1;
    }
    X509 *cert = read_cert(cert_pem, 0);
    if (cert == NULL) {
        set_err(err, errlen, "reading the certificate");
        return -1;
    }
    EVP_PKEY *key = read_key(key_pem);
    if (key == NULL) {
        set_err(err, errlen, "reading the private key");
        X509_free(cert);
        return -1;
    }
    int rc = EVP_PKEY_eq(X509_get0_pubkey(cert), key) == 1 ? 1 : 0;
    ERR_clear_error();
    EVP_PKEY_free(key);
    X509_free(cert);
    return rc;
}
