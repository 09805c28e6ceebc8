/*
 * fuzz_kube_watch: the watch-stream decoder on arbitrary bytes. The first
 * byte picks a chunk size so that every way of splitting events is explored;
 * a small line limit makes the over-long-line path reachable.
 */
#include "common/kube_watch.h"

#include <stddef.h>
#include <stdint.h>

static int on_event(kube_watch_type t, json_t *obj, void *ud)
{
    size_t *n = ud;
    (*n)++;
    /* touch the object the way the reflector does */
    json_t *md = json_object_get(obj, "metadata");
    (void)json_string_value(json_object_get(md, "resourceVersion"));
    (void)kube_watch_type_name(t);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    size_t chunk = (size_t)data[0] % 64 + 1;
    data++;
    size--;
    kube_watch_decoder *dec = kube_watch_decoder_new(4096);
    if (dec == NULL) {
        return 0;
    }
    size_t events = 0;
    char err[128];
    for (size_t off = 0; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        if (kube_watch_decoder_feed(dec, (const char *)data + off, n, on_event, &events, err,
                                    sizeof err) != 0) {
            break;
        }
    }
    (void)kube_watch_decoder_pending(dec);
    kube_watch_decoder_free(dec);
    return 0;
}
