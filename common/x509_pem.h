/*
 * x509_pem: loading X.509 certificates and keys with OpenSSL, generic (no
 * SPIFFE or gateway knowledge).
 *
 *   - certificates from PEM (CERTIFICATE blocks only, other blocks skipped)
 *     or DER, each DER required to be consumed whole (trailing bytes after a
 *     certificate are an error: OpenSSL's d2i would silently ignore them);
 *   - a tls.crt / tls.key pair that loads and whose key matches the leaf;
 *   - validity windows as Unix seconds, "is a CA" (X509_check_ca() == 1);
 *   - RFC 3339 formatting of Unix times.
 *
 * Ownership: functions returning X509 * or arrays of them hand over new
 * references; free with x509_certs_free() / X509_free(). Strings returned are
 * malloc'ed, caller frees. Errors: int status (0 ok, -1 error) plus a one-line
 * reason in `err`. Private key material never appears in an error message.
 * No I/O: inputs are memory buffers.
 */
#ifndef AIGW_COMMON_X509_PEM_H
#define AIGW_COMMON_X509_PEM_H

#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Parses one DER certificate that must span exactly `len` bytes.
 * Returns a new X509, or NULL with the reason in err.
 */
X509 *x509_from_der(const unsigned char *der, size_t len, char *err, size_t errlen);

/*
 * Parses every CERTIFICATE block of a PEM buffer (other block types such as
 * PRIVATE KEY are skipped, never copied). Returns 0 with *certs_out (array,
 * may be NULL when *n_out is 0) or -1 on a malformed block (bad base64, a
 * certificate that does not parse or has trailing bytes). Input with no PEM
 * block at all yields 0 certificates and *blocks_out (may be NULL) = 0, so the
 * caller can tell "empty" from "not PEM".
 */
int x509_pem_load_certs(const char *pem, size_t len, X509 ***certs_out, size_t *n_out,
                        size_t *blocks_out, char *err, size_t errlen);

/* Frees an array returned by x509_pem_load_certs (NULL allowed). */
void x509_certs_free(X509 **certs, size_t n);

/* One certificate as a PEM CERTIFICATE block. Caller frees; NULL on error. */
char *x509_to_pem(X509 *cert);

/*
 * Checks a tls.crt / tls.key pair: the certificate PEM holds at least one
 * certificate, the key PEM one private key, and the key matches the first
 * certificate. With `now` >= 0 the first certificate must also be inside its
 * validity window. Returns 0 or -1 with the reason in err.
 */
int x509_check_tls_pair(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
                        int64_t now, char *err, size_t errlen);

/* notBefore / notAfter as Unix seconds (years 1..9999 supported). 0 or -1. */
int x509_validity(const X509 *cert, int64_t *not_before, int64_t *not_after);

/* 1 when X509_check_ca() == 1 (basicConstraints cA=TRUE), else 0. */
int x509_is_ca(X509 *cert);

/* ASN1_TIME -> Unix seconds. 0 or -1. */
int x509_asn1_time_to_unix(const ASN1_TIME *t, int64_t *out);

/* Unix seconds -> "2026-12-01T00:00:00Z" in buf (>= 21 bytes; years 0001-9999). */
int x509_format_rfc3339(int64_t t, char *buf, size_t len);

#endif
