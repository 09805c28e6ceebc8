/*
 * cert_gen: X.509 certificates and ECDSA P-256 keys with OpenSSL 3, PEM in and
 * PEM out. Used by `aigw serve --dev-self-signed`, certgen (the webhook's CA and
 * serving cert) and the reconciler (the gateway issuer CA and its server leaf).
 *
 *   cert_gen_ca("aigw-ca", 3650, &ca)                     self-signed CA
 *   cert_gen_leaf(&ca, &spec, &leaf)                      leaf signed by that CA
 *   cert_pem_info(leaf.cert_pem, &info)                   notBefore/notAfter/serial
 *   cert_pem_key_matches(leaf.cert_pem, leaf.key_pem)     pair check
 *
 * Ownership: a cert_pair owns its two malloc'ed PEM strings; free them with
 * cert_pair_free(). Inputs are borrowed. Errors: every function returns 0 on
 * success, -1 with a one-line reason in `err` (never key material).
 * Pure: no I/O besides OpenSSL's random generator, no globals, no logging.
 */
#ifndef AIGW_COMMON_CERT_GEN_H
#define AIGW_COMMON_CERT_GEN_H

#include <stddef.h>
#include <time.h>

typedef struct {
    char *cert_pem; /* "-----BEGIN CERTIFICATE-----..." */
    char *key_pem;  /* "-----BEGIN PRIVATE KEY-----..." (PKCS#8) */
} cert_pair;

/* Frees both strings and clears the struct; NULL and an empty pair are allowed. */
void cert_pair_free(cert_pair *pair);

/* A new ECDSA P-256 private key as PKCS#8 PEM. Caller frees. NULL on error. */
char *cert_gen_key_pem(char *err, size_t errlen);

/*
 * A self-signed CA: CN `common_name`, valid from now - 5 min (clock skew) for
 * `validity_days` days, basicConstraints CA:TRUE (critical), keyUsage
 * keyCertSign+cRLSign (critical), subjectKeyIdentifier, random 127-bit serial.
 */
int cert_gen_ca(const char *common_name, int validity_days, cert_pair *out, char *err,
                size_t errlen);

/* What a leaf certificate says. */
typedef struct {
    const char *common_name;      /* subject CN; NULL = first DNS name */
    const char *const *dns_names; /* subjectAltName DNS entries */
    size_t n_dns;
    const char *const *ip_addrs; /* subjectAltName IP entries, IPv4 or IPv6 text */
    size_t n_ips;
    int validity_days; /* > 0 */
} cert_leaf_spec;

/*
 * A leaf signed by `ca` (its cert and key PEM): a fresh P-256 key, the SANs of
 * `spec`, basicConstraints CA:FALSE, keyUsage digitalSignature (critical),
 * extendedKeyUsage serverAuth, authority/subject key identifiers, issuer = the
 * CA's subject, valid from now - 5 min for validity_days (never past the CA's
 * notAfter is NOT enforced: callers pick consistent lifetimes).
 */
int cert_gen_leaf(const cert_pair *ca, const cert_leaf_spec *spec, cert_pair *out, char *err,
                  size_t errlen);

/* What cert_pem_info reads from a certificate. */
typedef struct {
    time_t not_before;
    time_t not_after;
    char serial_hex[80]; /* uppercase hex, as `openssl x509 -serial` prints it */
    int is_ca;           /* basicConstraints CA:TRUE */
} cert_info;

/* Reads the first CERTIFICATE of a PEM text (len bytes, or NUL-terminated when len is 0). */
int cert_pem_info(const char *pem, size_t len, cert_info *out, char *err, size_t errlen);

/*
 * Returns 1 when the private key (PEM, any type OpenSSL reads) belongs to the
 * first certificate of cert_pem, 0 when it does not, -1 when either fails to
 * parse (err says which; never the key itself).
 */
int cert_pem_key_matches(const char *cert_pem, const char *key_pem, char *err, size_t errlen);

#endif
