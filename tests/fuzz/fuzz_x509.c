/*
 * fuzz_x509: x509_pem_load_certs and x509_from_der on arbitrary bytes, and
 * x509_check_tls_pair with the input split into a certificate and a key.
 */
#include "common/x509_pem.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    X509 **certs = NULL;
    size_t n = 0, blocks = 0;
    if (x509_pem_load_certs((const char *)data, size, &certs, &n, &blocks, err, sizeof err) == 0) {
        for (size_t i = 0; i < n; i++) {
            int64_t nb, na;
            (void)x509_validity(certs[i], &nb, &na);
            (void)x509_is_ca(certs[i]);
            char *pem = x509_to_pem(certs[i]);
            free(pem);
        }
        x509_certs_free(certs, n);
    }
    X509 *x = x509_from_der(data, size, err, sizeof err);
    X509_free(x);
    size_t half = size / 2;
    (void)x509_check_tls_pair((const char *)data, half, (const char *)data + half, size - half,
                              1795824000LL, err, sizeof err);
    return 0;
}
