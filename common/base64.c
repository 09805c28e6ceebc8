/*
 * base64: strict and lenient decoding and encoding over EVP_EncodeBlock /
 * EVP_DecodeBlock. OpenSSL's block decoder skips surrounding whitespace and
 * counts padding as zero bytes, so the input is checked first, the padding
 * subtracted after, and canonical form checked by re-encoding.
 */
#include "common/base64.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BASE64_MAX_IN ((size_t)1 << 30)

size_t base64_encode_into(char *out, const void *data, size_t len)
{
    if (len > BASE64_MAX_IN) {
        return (size_t)-1;
    }
    size_t out_len = 4 * ((len + 2) / 3);
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    out[out_len] = '\0';
    return out_len;
}

char *base64_encode(const void *data, size_t len)
{
    if (len > BASE64_MAX_IN) {
        return NULL;
    }
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    if (out != NULL) {
        base64_encode_into(out, data, len);
    }
    return out;
}

static int is_b64_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/* Decodes `in` (already checked: alphabet, padding only at the end). */
static unsigned char *decode_checked(const char *in, size_t len, size_t pad, size_t *len_out)
{
    unsigned char *out = malloc(len / 4 * 3 + 1);
    if (out == NULL) {
        return NULL;
    }
    int n = len ? EVP_DecodeBlock(out, (const unsigned char *)in, (int)len) : 0;
    if (n < 0 || (size_t)n < pad) {
        free(out);
        return NULL;
    }
    size_t real = (size_t)n - pad;
    out[real] = '\0';
    if (len_out != NULL) {
        *len_out = real;
    }
    return out;
}

unsigned char *base64_decode(const char *in, size_t len, size_t *len_out)
{
    if (len % 4 != 0 || len > BASE64_MAX_IN) {
        return NULL;
    }
    size_t pad = 0;
    if (len > 0 && in[len - 1] == '=') {
        pad = in[len - 2] == '=' ? 2 : 1;
    }
    for (size_t i = 0; i < len - pad; i++) {
        if (!is_b64_char((unsigned char)in[i])) {
            return NULL;
        }
    }
    size_t n = 0;
    unsigned char *out = decode_checked(in, len, pad, &n);
    if (out == NULL) {
        return NULL;
    }
    /* Canonical: encoding the result must give back the input exactly. */
    char *again = base64_encode(out, n);
    int canonical = again != NULL && memcmp(again, in, len) == 0;
    free(again);
    if (!canonical) {
        free(out);
        return NULL;
    }
    if (len_out != NULL) {
        *len_out = n;
    }
    return out;
}

unsigned char *base64_decode_lenient(const char *in, size_t len, size_t *len_out)
{
    if (len > BASE64_MAX_IN) {
        return NULL;
    }
    char *clean = malloc(len + 4);
    if (clean == NULL) {
        return NULL;
    }
    size_t n = 0;
    for (size_t i = 0; i < len && in[i] != '='; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            continue;
        }
        c = c == '-' ? '+' : c == '_' ? '/' : c;
        if (!is_b64_char(c)) {
            free(clean);
            return NULL;
        }
        clean[n++] = (char)c;
    }
    if (n % 4 == 1) {
        free(clean);
        return NULL;
    }
    size_t pad = (4 - n % 4) % 4;
    memset(clean + n, '=', pad);
    unsigned char *out = decode_checked(clean, n + pad, pad, len_out);
    free(clean);
    return out;
}
