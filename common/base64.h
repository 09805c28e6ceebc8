/*
 * base64: standard (RFC 4648 §4) base64 over OpenSSL's EVP block coder, as
 * Kubernetes uses it for Secret data, caBundle and JSON Patch replies.
 *
 * Ownership: returned buffers are malloc'ed, NUL-terminated, and freed by the
 * caller. NULL means invalid input or allocation failure.
 */
#ifndef AIGW_COMMON_BASE64_H
#define AIGW_COMMON_BASE64_H

#include <stddef.h>

/* Padded standard base64 of `len` bytes. */
char *base64_encode(const void *data, size_t len);

/*
 * Strict decoding: standard alphabet, correct padding, no whitespace, length
 * a multiple of 4 (what the API server accepts for `[]byte` fields). The
 * result is NUL-terminated for convenience; *len_out (may be NULL) is the
 * decoded length.
 */
unsigned char *base64_decode(const char *in, size_t len, size_t *len_out);

#endif
