/*
 * base64: thin strict wrappers over EVP_EncodeBlock/EVP_DecodeBlock. OpenSSL's
 * block decoder skips leading/trailing whitespace and counts padding as zero
 * bytes, so the input is checked first and the padding subtracted after.
 */
#include "common/base64.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

char *base64_encode(const void *data, size_t len)
{
    if (len > (size_t)(INT32_MAX / 4 * 3 - 3)) {
        return NULL;
    }
    size_t out_len = 4 * ((len + 2) / 3);
    char *out = malloc(out_len + 1);
    if (out == NULL) {
        return NULL;
    }
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    out[out_len] = '\0';
    return out;
}

static int is_b64_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

unsigned char *base64_decode(const char *in, size_t len, size_t *len_out)
{
    if (len % 4 != 0 || len > (size_t)INT32_MAX) {
        return NULL;
    }
    size_t pad = 0;
    if (len > 0 && in[len - 1] == '=') {
        pad = (len > 1 && in[len - 2] == '=') ? 2 : 1;
    }
    for (size_t i = 0; i < len - pad; i++) {
        if (!is_b64_char((unsigned char)in[i])) {
            return NULL;
        }
    }
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
