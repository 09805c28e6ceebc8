/*
 * fuzz_policy: policy_validate_object (parse + pure rules) on arbitrary JSON,
 * as an AIRoutingPolicy or AIAccessPolicy (first byte picks), with and
 * without an UPDATE's old object, plus the endpoint and duration parsers.
 */
#include "policy/validate.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run(json_t *obj, const json_t *old)
{
    field_errors errs;
    policy_warnings warns;
    field_errors_init(&errs);
    policy_warnings_init(&warns);
    policy_validate_object(obj, old, NULL, &errs, &warns);
    char *joined = field_errors_join(&errs);
    json_t *causes = field_errors_causes(&errs);
    free(joined);
    json_decref(causes);
    policy_warnings_free(&warns);
    field_errors_free(&errs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    char *s = malloc(len + 1);
    if (s == NULL) {
        return 0;
    }
    memcpy(s, text, len);
    s[len] = '\0';
    policy_endpoint ep;
    char err[128];
    if (policy_endpoint_parse(s, &ep, err, sizeof err) == 0) {
        policy_endpoint_free(&ep);
    }
    (void)policy_duration_parse_ms(s);
    const char *why = NULL;
    (void)policy_trust_domain_valid(s, &why);
    free(s);

    json_t *spec = json_loadb(text, len, JSON_DECODE_ANY, NULL);
    if (spec == NULL) {
        return 0;
    }
    int access = data[0] & 1;
    json_t *obj = json_pack(
        "{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "aigateway.kagenti.dev/v1alpha1", "kind",
        access ? "AIAccessPolicy" : "AIRoutingPolicy", "metadata", "name", "f", "namespace", "ns");
    if (obj != NULL) {
        json_object_set(obj, "spec", spec);
        run(obj, NULL);
        if (data[0] & 2) {
            json_t *old = json_deep_copy(obj);
            if (old != NULL) {
                json_object_set_new(old, "spec", json_object());
                run(obj, old);
                json_decref(old);
            }
        }
        /* the whole input as an object, too */
        if (json_is_object(spec)) {
            run(spec, NULL);
        }
    }
    json_decref(obj);
    json_decref(spec);
    return 0;
}
