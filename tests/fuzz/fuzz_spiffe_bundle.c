/*
 * fuzz_spiffe_bundle: spiffe_bundle_parse on arbitrary bytes (JSON and PEM
 * paths, chosen by content) and both base64 decoders.
 */
#include "common/base64.h"
#include "common/spiffe_bundle.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    spiffe_bundle b;
    char err[256];
    if (spiffe_bundle_parse((const char *)data, size, 1795824000LL, &b, err, sizeof err) == 0) {
        spiffe_bundle_free(&b);
    }
    free(base64_decode((const char *)data, size, NULL));
    free(base64_decode_lenient((const char *)data, size, NULL));
    return 0;
}
