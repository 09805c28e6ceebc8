/*
 * inject_config: the injector's settings (images, ports, resources, names,
 * env var names, sidecar user, native-sidecar mode, aigw's own namespace),
 * with built-in defaults. Pure: the config document is parsed by the caller
 * (injector/runtime reads the YAML file) and checked here.
 *
 * File format (every key optional; unknown keys are errors so typos show):
 *
 *   images:        {spiffeHelper: ghcr.io/spiffe/spiffe-helper:0.10.1,
 *                   egress: ghostunnel/ghostunnel:v1.8.4}
 *   imagePullPolicy: IfNotPresent
 *   ports:         {egress: 17080, helperHealth: 17081}
 *   runAsUser: 1337
 *   runAsGroup: 1337
 *   nativeSidecars: auto            # auto | true | false
 *   ownNamespace: aigw-system
 *   reloadInterval: 1m              # ghostunnel --timed-reload
 *   resources:     {spiffeHelper: {requests: {cpu: 10m, memory: 16Mi},
 *                                   limits: {cpu: 100m, memory: 64Mi}},
 *                   egress: {...}}
 *   names:         {spiffeHelperContainer, egressContainer, socketVolume,
 *                   svidVolume, caVolume}
 *   env:           {baseURL: [OPENAI_BASE_URL, OPENAI_API_BASE, LLM_API_BASE],
 *                   apiKey: [OPENAI_API_KEY, LLM_API_KEY], apiKeyPlaceholder,
 *                   gatewayURL, svidDir, caFile}
 *   ignoredContainers: [istio-proxy, spiffe-helper, envoy-proxy,
 *                       kagenti-client-registration]  # not agents: no env/mounts
 *
 * Ownership: an inject_config owns its document; every string field is
 * borrowed from it and lives until inject_config_free().
 */
#ifndef AIGW_INJECTOR_INJECT_CONFIG_H
#define AIGW_INJECTOR_INJECT_CONFIG_H

#include <jansson.h>
#include <stddef.h>

typedef enum {
    INJECT_NATIVE_AUTO = 0,
    INJECT_NATIVE_TRUE,
    INJECT_NATIVE_FALSE,
} inject_native_mode;

#define INJECT_MAX_ENV_NAMES 8
#define INJECT_MAX_IGNORED 16

/* Fixed paths: the reconciler's helper.conf (cert_dir, agent socket) depends on them. */
#define INJECT_SVID_DIR "/var/run/secrets/aigw/svid"
#define INJECT_CA_DIR "/var/run/secrets/aigw/gateway-ca"
#define INJECT_AGENT_SOCKET_DIR "/spiffe-workload-api"
#define INJECT_CSI_DRIVER "csi.spiffe.io"

typedef struct {
    const char *cpu_request, *memory_request, *cpu_limit, *memory_limit;
} inject_resources;

typedef struct {
    json_t *doc; /* the merged document (owned) */

    const char *helper_image;
    const char *egress_image;
    const char *pull_policy;
    int egress_port;
    int health_port;
    long long run_as_user;
    long long run_as_group;
    inject_native_mode native;
    const char *own_namespace;
    const char *reload_interval;
    inject_resources helper_resources;
    inject_resources egress_resources;

    const char *helper_container;
    const char *egress_container;
    const char *socket_volume;
    const char *svid_volume;
    const char *ca_volume;

    const char *base_url_env[INJECT_MAX_ENV_NAMES];
    size_t n_base_url_env;
    const char *api_key_env[INJECT_MAX_ENV_NAMES];
    size_t n_api_key_env;
    const char *api_key_placeholder;
    const char *gateway_url_env;
    const char *svid_dir_env;
    const char *ca_file_env;

    const char *ignored[INJECT_MAX_IGNORED];
    size_t n_ignored;
} inject_config;

/*
 * Builds a config from the built-in defaults overlaid with `user` (a JSON
 * object as read from the YAML file, borrowed; NULL = defaults only). Returns
 * 0, or -1 with "<key>: <problem>" in err; on failure *cfg holds nothing.
 */
int inject_config_build(const json_t *user, inject_config *cfg, char *err, size_t errlen);

void inject_config_free(inject_config *cfg);

/* "auto" | "true" | "false" -> mode; -1 on anything else. */
int inject_native_mode_parse(const char *s, inject_native_mode *out);

#endif
