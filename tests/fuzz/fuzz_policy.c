/*
 * fuzz_policy: policy_validate_object (parse, pure rules and, when the first
 * byte's bit 2 is set, the cross-object rules against a small in-memory
 * cluster) on arbitrary JSON as an AIRoutingPolicy or AIAccessPolicy (bit 0
 * picks), with and without an UPDATE's old object (bit 1), plus the
 * endpoint, duration and trust-domain parsers.
 */
#include "policy/validate.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A Secret, a bundle ConfigMap (not a valid bundle) and one policy of each kind. */
static const char CLUSTER[] =
    "[{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\","
    "\"namespace\":\"ns\"},\"data\":{\"k\":\"eA==\",\"tls.crt\":\"eA==\",\"tls.key\":\"eA==\"}},"
    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"spire-bundle\","
    "\"namespace\":\"spire-system\"},\"data\":{\"bundle.spiffe\":\"{\\\"keys\\\":[]}\"}},"
    "{\"apiVersion\":\"aigateway.kagenti.dev/v1alpha1\",\"kind\":\"AIRoutingPolicy\","
    "\"metadata\":{\"name\":\"other\",\"namespace\":\"ns\"},\"spec\":{\"targetRef\":{\"name\":"
    "\"gw\"},\"models\":[{\"name\":\"m\"}]}},"
    "{\"apiVersion\":\"aigateway.kagenti.dev/v1alpha1\",\"kind\":\"AIAccessPolicy\","
    "\"metadata\":{\"name\":\"other\",\"namespace\":\"ns\"},\"spec\":{\"targetRef\":{\"name\":"
    "\"gw\"}}}]";

static object_source *cluster(void)
{
    static object_source *src;
    if (src == NULL) {
        json_t *objs = json_loads(CLUSTER, 0, NULL);
        char err[256];
        src = objs != NULL ? object_source_mem_new(objs, err, sizeof err) : NULL;
        json_decref(objs);
    }
    return src;
}

static int with_lookups;

static void run(json_t *obj, const json_t *old)
{
    field_errors errs;
    policy_warnings warns;
    field_errors_init(&errs);
    policy_warnings_init(&warns);
    policy_lookup lk = {with_lookups ? cluster() : NULL, 0, 1795824000LL};
    policy_validate_object(obj, old, &lk, &errs, &warns);
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
    with_lookups = (data[0] & 4) != 0;
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
