/*
 * fuzz_inject: libFuzzer target over the pure injector planner.
 *
 * Input: one flag byte, then a pod as JSON text. The flag byte picks the
 * namespace state (known, opted in), 0-2 AIAccessPolicies with or without an
 * endpoint, and native vs regular sidecars. Invariants checked beyond "no
 * crash, no leak":
 *   - the patch always applies to the pod (json_patch_apply);
 *   - an injected pod has each sidecar name and each added volume name once;
 *   - planning the patched pod again yields an empty patch (reinvocation).
 */
#include "common/json_patch.h"
#include "injector/inject.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t count_named(const json_t *spec, const char *list, const char *name)
{
    size_t n = 0, i;
    json_t *v;
    json_array_foreach(json_object_get(spec, list), i, v)
    {
        const char *s = json_string_value(json_object_get(v, "name"));
        n += s != NULL && strcmp(s, name) == 0;
    }
    return n;
}

static void check_injected(const inject_config *cfg, const json_t *patched)
{
    const json_t *spec = json_object_get(patched, "spec");
    const char *containers[] = {cfg->helper_container, cfg->egress_container};
    for (size_t i = 0; i < 2; i++) {
        if (count_named(spec, "containers", containers[i]) +
                count_named(spec, "initContainers", containers[i]) >
            1) {
            abort();
        }
    }
    const char *volumes[] = {cfg->socket_volume, cfg->svid_volume, cfg->ca_volume};
    for (size_t i = 0; i < 3; i++) {
        if (count_named(spec, "volumes", volumes[i]) > 1) {
            abort();
        }
    }
}

/* Plans `pod` (read as the webhook reads it) and applies the patch. -1 when not planned. */
static int plan(inject_input *in, const json_t *pod, inject_result *res, json_t **patched)
{
    jv_doc doc;
    if (jv_from_json(&doc, pod, NULL, 0) != 0) {
        return -1; /* out of memory, or nested deeper than jv reads */
    }
    in->pod = doc.root;
    int rc = inject_plan(in, res);
    jv_doc_free(&doc);
    in->pod = NULL;
    if (rc != 0) {
        return -1;
    }
    json_t *patch =
        res->patch != NULL ? json_loadb(res->patch, res->patch_len, 0, NULL) : json_array();
    char err[256];
    if (patch == NULL || json_patch_apply(pod, patch, patched, err, sizeof err) != 0) {
        abort(); /* the planner produced a patch that does not parse or apply */
    }
    json_decref(patch);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    uint8_t flags = data[0];
    json_error_t jerr;
    json_t *pod = json_loadb((const char *)data + 1, size - 1, JSON_DECODE_ANY, &jerr);
    if (pod == NULL) {
        return 0;
    }
    inject_config cfg;
    char err[256];
    if (inject_config_build(NULL, &cfg, err, sizeof err) != 0) {
        abort();
    }
    json_t *labels =
        json_pack("{s:s}", "aigateway.kagenti.dev/inject", (flags & 0x02) ? "enabled" : "disabled");
    const char *ep = (flags & 0x10) ? NULL : "https://gw.envoy-gateway-system.svc:8443";
    inject_gateway gws[2] = {
        {"one-mtls", "gateway-one", ep, "one-mtls-gateway-ca"},
        {"two-mtls", "gateway-two", "https://[fd00::2]/x/", "two-mtls-gateway-ca"},
    };
    inject_input in = {
        .pod = NULL,
        .ns = (flags & 0x20) ? "kube-system" : NULL,
        .ns_known = (flags & 0x01) != 0,
        .ns_labels = labels,
        .gateways = gws,
        .n_gateways = (size_t)((flags >> 2) & 0x03) % 3,
        .native_sidecars = (flags & 0x40) != 0,
        .cfg = &cfg,
    };
    inject_result res;
    json_t *patched = NULL;
    if (labels != NULL && plan(&in, pod, &res, &patched) == 0) {
        if (res.outcome == INJECT_DONE) {
            check_injected(&cfg, patched);
            inject_input again = in;
            inject_result res2;
            json_t *patched2 = NULL;
            if (plan(&again, patched, &res2, &patched2) == 0) {
                if (res2.patch != NULL) {
                    abort(); /* reinvocation must be a no-op */
                }
                inject_result_free(&res2);
                json_decref(patched2);
            }
        } else if (res.patch != NULL) {
            abort(); /* a skip never carries a patch */
        }
        inject_result_free(&res);
        json_decref(patched);
    }
    json_decref(labels);
    inject_config_free(&cfg);
    json_decref(pod);
    return 0;
}
