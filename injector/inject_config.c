/*
 * inject_config: defaults, overlay of the user's document, and the checks
 * that keep a bad file from producing invalid pods (see inject_config.h).
 */
#include "injector/inject_config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char default_config[] =
    "{"
    "\"images\": {\"spiffeHelper\": \"ghcr.io/spiffe/spiffe-helper:0.10.1\","
    "             \"egress\": \"ghostunnel/ghostunnel:v1.8.4\"},"
    "\"imagePullPolicy\": \"IfNotPresent\","
    "\"ports\": {\"egress\": 17080, \"helperHealth\": 17081},"
    "\"runAsUser\": 1337,"
    "\"runAsGroup\": 1337,"
    "\"nativeSidecars\": \"auto\","
    "\"ownNamespace\": \"aigw-system\","
    "\"reloadInterval\": \"1m\","
    "\"resources\": {"
    "  \"spiffeHelper\": {\"requests\": {\"cpu\": \"10m\", \"memory\": \"16Mi\"},"
    "                   \"limits\": {\"cpu\": \"100m\", \"memory\": \"64Mi\"}},"
    "  \"egress\": {\"requests\": {\"cpu\": \"10m\", \"memory\": \"16Mi\"},"
    "             \"limits\": {\"cpu\": \"500m\", \"memory\": \"128Mi\"}}},"
    "\"names\": {\"spiffeHelperContainer\": \"aigw-spiffe-helper\","
    "           \"egressContainer\": \"aigw-egress\","
    "           \"socketVolume\": \"spire-agent-socket\","
    "           \"svidVolume\": \"svid-output\","
    "           \"caVolume\": \"aigw-gateway-ca\"},"
    "\"env\": {\"baseURL\": [\"OPENAI_BASE_URL\", \"OPENAI_API_BASE\", \"LLM_API_BASE\"],"
    "         \"apiKey\": [\"OPENAI_API_KEY\", \"LLM_API_KEY\"],"
    "         \"apiKeyPlaceholder\": \"aigw-mtls-no-key-needed\","
    "         \"gatewayURL\": \"AIGW_GATEWAY_URL\","
    "         \"svidDir\": \"AIGW_SVID_DIR\","
    "         \"caFile\": \"AIGW_CA_FILE\"},"
    "\"ignoredContainers\": [\"istio-proxy\", \"spiffe-helper\", \"envoy-proxy\","
    "                        \"kagenti-client-registration\"]"
    "}";

static int failf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int failf(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int inject_native_mode_parse(const char *s, inject_native_mode *out)
{
    if (s == NULL) {
        return -1;
    }
    if (strcmp(s, "auto") == 0) {
        *out = INJECT_NATIVE_AUTO;
    } else if (strcmp(s, "true") == 0) {
        *out = INJECT_NATIVE_TRUE;
    } else if (strcmp(s, "false") == 0) {
        *out = INJECT_NATIVE_FALSE;
    } else {
        return -1;
    }
    return 0;
}

/* YAML reads `true` as a boolean; the mode also takes the strings. */
static json_t *normalise_native(const json_t *v)
{
    if (json_is_boolean(v)) {
        return json_string(json_is_true(v) ? "true" : "false");
    }
    return json_incref((json_t *)v);
}

/*
 * Overlays `user` onto `base` (both objects): keys must exist in base with
 * the same JSON type (integers and strings are not interchangeable); objects
 * merge, everything else is replaced.
 */
static int overlay(json_t *base, const json_t *user, const char *prefix, char *err, size_t errlen)
{
    const char *key;
    json_t *uv;
    json_object_foreach((json_t *)user, key, uv)
    {
        char path[160];
        snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", key);
        json_t *bv = json_object_get(base, key);
        if (bv == NULL) {
            return failf(err, errlen, "%s: unknown key", path);
        }
        json_t *val = strcmp(path, "nativeSidecars") == 0 ? normalise_native(uv) : json_incref(uv);
        if (val == NULL) {
            return failf(err, errlen, "out of memory");
        }
        if (json_typeof(val) != json_typeof(bv)) {
            json_decref(val);
            return failf(err, errlen, "%s: wrong type", path);
        }
        if (json_is_object(bv)) {
            int rc = overlay(bv, val, path, err, errlen);
            json_decref(val);
            if (rc != 0) {
                return rc;
            }
        } else if (json_object_set_new(base, key, val) != 0) {
            return failf(err, errlen, "out of memory");
        }
    }
    return 0;
}

static const char *get_str(const json_t *doc, const char *a, const char *b)
{
    const json_t *v = json_object_get(doc, a);
    if (b != NULL) {
        v = json_object_get(v, b);
    }
    return json_string_value(v);
}

static long long get_int(const json_t *doc, const char *a, const char *b)
{
    const json_t *v = json_object_get(doc, a);
    if (b != NULL) {
        v = json_object_get(v, b);
    }
    return json_integer_value(v);
}

/* RFC 1123 label: what container and volume names must be. */
static int is_dns_label(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-') {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            return 0;
        }
    }
    return 1;
}

/* An env var name the API server takes and shells can use: [A-Za-z_][A-Za-z0-9_]*. */
static int is_env_name(const char *s)
{
    if (s == NULL || s[0] == '\0' || (s[0] >= '0' && s[0] <= '9')) {
        return 0;
    }
    for (const char *c = s; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_')) {
            return 0;
        }
    }
    return 1;
}

/* A Kubernetes quantity in the simple forms people write: digits[.digits][suffix]. */
static int is_quantity(const char *s)
{
    static const char *const suffixes[] = {"",   "m",  "k",  "M",  "G",  "T",  "P", "E",
                                           "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", NULL};
    const char *c = s;
    int digits = 0;
    while (*c >= '0' && *c <= '9') {
        c++;
        digits++;
    }
    if (*c == '.') {
        c++;
        while (*c >= '0' && *c <= '9') {
            c++;
            digits++;
        }
    }
    if (digits == 0) {
        return 0;
    }
    for (size_t i = 0; suffixes[i] != NULL; i++) {
        if (strcmp(c, suffixes[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* A Go duration as ghostunnel takes it: one or more <digits><unit>, unit in h/m/s/ms. */
static int is_duration(const char *s)
{
    const char *c = s;
    if (*c == '\0') {
        return 0;
    }
    while (*c) {
        if (!(*c >= '0' && *c <= '9')) {
            return 0;
        }
        while (*c >= '0' && *c <= '9') {
            c++;
        }
        if (strncmp(c, "ms", 2) == 0) {
            c += 2;
        } else if (*c == 'h' || *c == 'm' || *c == 's') {
            c++;
        } else {
            return 0;
        }
    }
    return 1;
}

static int fill_resources(const json_t *doc, const char *which, inject_resources *r, char *err,
                          size_t errlen)
{
    const json_t *res = json_object_get(json_object_get(doc, "resources"), which);
    r->cpu_request = get_str(json_object_get(res, "requests"), "cpu", NULL);
    r->memory_request = get_str(json_object_get(res, "requests"), "memory", NULL);
    r->cpu_limit = get_str(json_object_get(res, "limits"), "cpu", NULL);
    r->memory_limit = get_str(json_object_get(res, "limits"), "memory", NULL);
    const char *vals[] = {r->cpu_request, r->memory_request, r->cpu_limit, r->memory_limit};
    const char *names[] = {"requests.cpu", "requests.memory", "limits.cpu", "limits.memory"};
    for (size_t i = 0; i < 4; i++) {
        if (vals[i] == NULL || !is_quantity(vals[i])) {
            return failf(err, errlen, "resources.%s.%s: not a quantity", which, names[i]);
        }
    }
    return 0;
}

static int fill_list(const json_t *arr, const char *what, const char **out, size_t max, size_t *n,
                     int env_names, char *err, size_t errlen)
{
    *n = 0;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *s = json_string_value(v);
        if (s == NULL || (env_names ? !is_env_name(s) : !is_dns_label(s))) {
            return failf(err, errlen, "%s[%zu]: invalid name", what, i);
        }
        if (*n == max) {
            return failf(err, errlen, "%s: at most %zu entries", what, max);
        }
        out[(*n)++] = s;
    }
    return 0;
}

static int check_names(const inject_config *c, char *err, size_t errlen)
{
    const char *labels[] = {c->helper_container, c->egress_container, c->socket_volume,
                            c->svid_volume, c->ca_volume};
    const char *keys[] = {"spiffeHelperContainer", "egressContainer", "socketVolume", "svidVolume",
                          "caVolume"};
    for (size_t i = 0; i < 5; i++) {
        if (labels[i] == NULL || !is_dns_label(labels[i])) {
            return failf(err, errlen, "names.%s: must be a DNS-1123 label", keys[i]);
        }
    }
    if (strcmp(c->helper_container, c->egress_container) == 0) {
        return failf(err, errlen, "names: the two sidecars need different names");
    }
    if (strcmp(c->socket_volume, c->svid_volume) == 0 ||
        strcmp(c->socket_volume, c->ca_volume) == 0 || strcmp(c->svid_volume, c->ca_volume) == 0) {
        return failf(err, errlen, "names: the three volumes need different names");
    }
    const char *envs[] = {c->gateway_url_env, c->svid_dir_env, c->ca_file_env};
    const char *ekeys[] = {"gatewayURL", "svidDir", "caFile"};
    for (size_t i = 0; i < 3; i++) {
        if (!is_env_name(envs[i])) {
            return failf(err, errlen, "env.%s: invalid variable name", ekeys[i]);
        }
    }
    return 0;
}

static int check_values(const inject_config *c, char *err, size_t errlen)
{
    if (c->helper_image == NULL || c->helper_image[0] == '\0' || c->egress_image == NULL ||
        c->egress_image[0] == '\0') {
        return failf(err, errlen, "images: both images are required");
    }
    if (c->pull_policy == NULL ||
        (strcmp(c->pull_policy, "Always") != 0 && strcmp(c->pull_policy, "IfNotPresent") != 0 &&
         strcmp(c->pull_policy, "Never") != 0)) {
        return failf(err, errlen, "imagePullPolicy: must be Always, IfNotPresent or Never");
    }
    if (c->egress_port < 1 || c->egress_port > 65535 || c->health_port < 1 ||
        c->health_port > 65535) {
        return failf(err, errlen, "ports: must be between 1 and 65535");
    }
    if (c->egress_port == c->health_port) {
        return failf(err, errlen, "ports: egress and helperHealth must differ");
    }
    if (c->health_port == 8081) {
        return failf(err, errlen, "ports.helperHealth: 8081 is kagenti AuthBridge's port");
    }
    if (c->run_as_user < 1 || c->run_as_user > 2147483647 || c->run_as_group < 0 ||
        c->run_as_group > 2147483647) {
        return failf(err, errlen, "runAsUser/runAsGroup: the sidecars must run as a non-root id");
    }
    if (c->own_namespace == NULL || !is_dns_label(c->own_namespace)) {
        return failf(err, errlen, "ownNamespace: must be a DNS-1123 label");
    }
    if (c->reload_interval == NULL || !is_duration(c->reload_interval)) {
        return failf(err, errlen, "reloadInterval: must be a duration such as 1m or 30s");
    }
    if (c->api_key_placeholder == NULL || c->api_key_placeholder[0] == '\0') {
        return failf(err, errlen, "env.apiKeyPlaceholder: must not be empty");
    }
    return 0;
}

static int fill(inject_config *c, char *err, size_t errlen)
{
    const json_t *d = c->doc;
    c->helper_image = get_str(d, "images", "spiffeHelper");
    c->egress_image = get_str(d, "images", "egress");
    c->pull_policy = get_str(d, "imagePullPolicy", NULL);
    c->egress_port = (int)get_int(d, "ports", "egress");
    c->health_port = (int)get_int(d, "ports", "helperHealth");
    if (get_int(d, "ports", "egress") != c->egress_port ||
        get_int(d, "ports", "helperHealth") != c->health_port) {
        return failf(err, errlen, "ports: must be between 1 and 65535");
    }
    c->run_as_user = get_int(d, "runAsUser", NULL);
    c->run_as_group = get_int(d, "runAsGroup", NULL);
    if (inject_native_mode_parse(get_str(d, "nativeSidecars", NULL), &c->native) != 0) {
        return failf(err, errlen, "nativeSidecars: must be auto, true or false");
    }
    c->own_namespace = get_str(d, "ownNamespace", NULL);
    c->reload_interval = get_str(d, "reloadInterval", NULL);
    c->helper_container = get_str(d, "names", "spiffeHelperContainer");
    c->egress_container = get_str(d, "names", "egressContainer");
    c->socket_volume = get_str(d, "names", "socketVolume");
    c->svid_volume = get_str(d, "names", "svidVolume");
    c->ca_volume = get_str(d, "names", "caVolume");
    c->api_key_placeholder = get_str(d, "env", "apiKeyPlaceholder");
    c->gateway_url_env = get_str(d, "env", "gatewayURL");
    c->svid_dir_env = get_str(d, "env", "svidDir");
    c->ca_file_env = get_str(d, "env", "caFile");
    const json_t *env = json_object_get(d, "env");
    if (fill_list(json_object_get(env, "baseURL"), "env.baseURL", c->base_url_env,
                  INJECT_MAX_ENV_NAMES, &c->n_base_url_env, 1, err, errlen) != 0 ||
        fill_list(json_object_get(env, "apiKey"), "env.apiKey", c->api_key_env,
                  INJECT_MAX_ENV_NAMES, &c->n_api_key_env, 1, err, errlen) != 0 ||
        fill_list(json_object_get(d, "ignoredContainers"), "ignoredContainers", c->ignored,
                  INJECT_MAX_IGNORED, &c->n_ignored, 0, err, errlen) != 0) {
        return -1;
    }
    if (fill_resources(d, "spiffeHelper", &c->helper_resources, err, errlen) != 0 ||
        fill_resources(d, "egress", &c->egress_resources, err, errlen) != 0) {
        return -1;
    }
    if (check_names(c, err, errlen) != 0) {
        return -1;
    }
    return check_values(c, err, errlen);
}

int inject_config_build(const json_t *user, inject_config *cfg, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    if (user != NULL && !json_is_null(user) && !json_is_object(user)) {
        return failf(err, errlen, "the injector config must be a mapping");
    }
    json_error_t jerr;
    cfg->doc = json_loads(default_config, 0, &jerr);
    if (cfg->doc == NULL) {
        return failf(err, errlen, "out of memory");
    }
    if ((json_is_object(user) && overlay(cfg->doc, user, "", err, errlen) != 0) ||
        fill(cfg, err, errlen) != 0) {
        inject_config_free(cfg);
        return -1;
    }
    return 0;
}

void inject_config_free(inject_config *cfg)
{
    json_decref(cfg->doc);
    memset(cfg, 0, sizeof *cfg);
}
