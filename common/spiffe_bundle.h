/*
 * spiffe_bundle: reads a SPIFFE trust bundle and keeps the X.509 CAs that are
 * usable now. Two formats, detected by content (first non-blank byte '{' =
 * JSON):
 *
 *   - SPIFFE JSON (a JWK set, what SPIRE's k8sbundle notifier writes under
 *     `bundle.spiffe`): `keys` MUST be present; entries with
 *     `use: "x509-svid"` carry the CA as standard padded base64 DER in
 *     `x5c[0]` (further x5c elements are ignored, as the X509-SVID spec says);
 *     jwt-svid entries, entries without `use` and unknown uses are ignored;
 *     duplicate JSON keys are rejected;
 *   - PEM (`bundle.crt`): CERTIFICATE blocks; other blocks are skipped.
 *
 * A certificate must be consumed whole (trailing bytes rejected). A CA counts
 * when X509_check_ca() == 1 and `now` is inside its validity window. Pure:
 * `now` is a parameter, nothing is read from the clock, disk or network.
 *
 * Ownership: spiffe_bundle_free() releases what spiffe_bundle_parse filled.
 */
#ifndef AIGW_COMMON_SPIFFE_BUNDLE_H
#define AIGW_COMMON_SPIFFE_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

typedef enum { SPIFFE_BUNDLE_JSON = 1, SPIFFE_BUNDLE_PEM = 2 } spiffe_bundle_format;

typedef struct {
    spiffe_bundle_format format;
    char *ca_pem;         /* the CAs valid now, PEM, "" when none (owned) */
    size_t total;         /* X.509 certificates found */
    size_t valid;         /* CAs valid now */
    size_t expired;       /* CAs whose notAfter is before now */
    size_t not_yet_valid; /* CAs whose notBefore is after now */
    size_t not_ca;        /* certificates that are not CAs (X509_check_ca() != 1) */
    int64_t next_expiry;  /* earliest notAfter among the valid CAs (Unix s), -1 when none */
} spiffe_bundle;

/*
 * Parses `data` (len bytes, need not be NUL-terminated) at Unix time `now`.
 * Returns 0 (an empty input or a bundle with no certificates is not an
 * error: total == 0), or -1 with a one-line reason in err when the document
 * does not parse. *out needs spiffe_bundle_free() only after success.
 */
int spiffe_bundle_parse(const char *data, size_t len, int64_t now, spiffe_bundle *out, char *err,
                        size_t errlen);

void spiffe_bundle_free(spiffe_bundle *b);

#endif
