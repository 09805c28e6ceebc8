/*
 * base64: standard (RFC 4648 §4) base64 over OpenSSL's EVP block coder, the one
 * implementation aigw uses: Secret and ConfigMap binary data, SPIFFE bundle
 * `x5c` entries, caBundle, JSON Patch replies, kubeconfig data.
 *
 * Ownership: returned buffers are malloc'ed, NUL-terminated (so text values can
 * be used as C strings), and freed by the caller. NULL means invalid input or
 * allocation failure.
 */
#ifndef AIGW_COMMON_BASE64_H
#define AIGW_COMMON_BASE64_H

#include <stddef.h>

/* Padded standard base64 of `len` bytes. */
char *base64_encode(const void *data, size_t len);

/*
 * The same written at out, which has room for 4 * ((len + 2) / 3) + 1 bytes
 * (NUL-terminated). Returns the length written, or (size_t)-1 when len is too
 * large to encode.
 */
size_t base64_encode_into(char *out, const void *data, size_t len);

/*
 * Strict decoding: standard alphabet, correct padding, no whitespace, length a
 * multiple of 4, canonical final bits (the bits padding drops are zero), so
 * every byte string has exactly one accepted encoding. *len_out (may be NULL)
 * is the decoded length.
 */
unsigned char *base64_decode(const char *in, size_t len, size_t *len_out);

/*
 * Lenient decoding for hand-written files (kubeconfig *-data): whitespace is
 * ignored, padding is optional, and the URL-safe alphabet (-_) is accepted.
 */
unsigned char *base64_decode_lenient(const char *in, size_t len, size_t *len_out);

#endif
