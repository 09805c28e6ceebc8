/*
 * inject_objects: values for the injected sidecars and volumes (see
 * inject_objects.h). The security context is the same for both sidecars:
 * non-root with one explicit uid/gid (1337 by default, which kagenti's
 * proxy-init does not redirect and which can read the 0640 key file),
 * read-only root filesystem, no capabilities, RuntimeDefault seccomp.
 */
#include "injector/inject_objects.h"

#include <stdio.h>

static json_t *security_context(const inject_config *cfg)
{
    return json_pack("{s:b, s:I, s:I, s:b, s:b, s:{s:[s]}, s:{s:s}}", "runAsNonRoot", 1,
                     "runAsUser", (json_int_t)cfg->run_as_user, "runAsGroup",
                     (json_int_t)cfg->run_as_group, "readOnlyRootFilesystem", 1,
                     "allowPrivilegeEscalation", 0, "capabilities", "drop", "ALL", "seccompProfile",
                     "type", "RuntimeDefault");
}

static json_t *resources(const inject_resources *r)
{
    return json_pack("{s:{s:s, s:s}, s:{s:s, s:s}}", "requests", "cpu", r->cpu_request, "memory",
                     r->memory_request, "limits", "cpu", r->cpu_limit, "memory", r->memory_limit);
}

json_t *inject_mount(const char *volume, const char *path)
{
    return json_pack("{s:s, s:s, s:b}", "name", volume, "mountPath", path, "readOnly", 1);
}

json_t *inject_env(const char *name, const char *value)
{
    return json_pack("{s:s, s:s}", "name", name, "value", value);
}

/* Sets restartPolicy Always for a native sidecar; returns c (NULL on failure). */
static json_t *finish(json_t *c, int native)
{
    if (c != NULL && native && json_object_set_new(c, "restartPolicy", json_string("Always"))) {
        json_decref(c);
        return NULL;
    }
    return c;
}

json_t *inject_helper_container(const inject_config *cfg, int native)
{
    char conf[256];
    snprintf(conf, sizeof conf, "%s/helper.conf", INJECT_CA_DIR);
    json_t *sc = security_context(cfg);
    json_t *res = resources(&cfg->helper_resources);
    json_t *mounts =
        json_pack("[o, {s:s, s:s}, o]", inject_mount(cfg->socket_volume, INJECT_AGENT_SOCKET_DIR),
                  "name", cfg->svid_volume, "mountPath", INJECT_SVID_DIR,
                  inject_mount(cfg->ca_volume, INJECT_CA_DIR));
    /*
     * The startup probe holds back the next container until the SVID files are
     * written (spiffe-helper's /ready turns 200 after the first SVID). 1 s x 120
     * leaves two minutes for a slow SPIRE agent.
     */
    json_t *c = json_pack(
        "{s:s, s:s, s:s, s:[s, s], s:{s:{s:s, s:i}, s:i, s:i, s:i}, "
        "s:{s:{s:s, s:i}, s:i, s:i}, s:o, s:o, s:o}",
        "name", cfg->helper_container, "image", cfg->helper_image, "imagePullPolicy",
        cfg->pull_policy, "args", "-config", conf, "startupProbe", "httpGet", "path", "/ready",
        "port", cfg->health_port, "periodSeconds", 1, "timeoutSeconds", 1, "failureThreshold", 120,
        "livenessProbe", "httpGet", "path", "/live", "port", cfg->health_port, "periodSeconds", 10,
        "failureThreshold", 3, "resources", res, "securityContext", sc, "volumeMounts", mounts);
    return finish(c, native);
}

json_t *inject_egress_container(const inject_config *cfg, int native, const char *target)
{
    char listen[64], tgt[512], cert[256], key[256], cacert[256], reload[64];
    snprintf(listen, sizeof listen, "--listen=127.0.0.1:%d", cfg->egress_port);
    snprintf(tgt, sizeof tgt, "--target=%s", target);
    snprintf(cert, sizeof cert, "--cert=%s/svid.pem", INJECT_SVID_DIR);
    snprintf(key, sizeof key, "--key=%s/svid_key.pem", INJECT_SVID_DIR);
    snprintf(cacert, sizeof cacert, "--cacert=%s/ca.crt", INJECT_CA_DIR);
    snprintf(reload, sizeof reload, "--timed-reload=%s", cfg->reload_interval);
    json_t *sc = security_context(cfg);
    json_t *res = resources(&cfg->egress_resources);
    json_t *mounts = json_pack("[o, o]", inject_mount(cfg->svid_volume, INJECT_SVID_DIR),
                               inject_mount(cfg->ca_volume, INJECT_CA_DIR));
    /* No SPIFFE_ENDPOINT_SOCKET: it would switch ghostunnel to workload-API mode. */
    json_t *c = json_pack("{s:s, s:s, s:s, s:[s, s, s, s, s, s, s], s:o, s:o, s:o}", "name",
                          cfg->egress_container, "image", cfg->egress_image, "imagePullPolicy",
                          cfg->pull_policy, "args", "client", listen, tgt, cert, key, cacert,
                          reload, "resources", res, "securityContext", sc, "volumeMounts", mounts);
    return finish(c, native);
}

json_t *inject_socket_volume(const inject_config *cfg)
{
    return json_pack("{s:s, s:{s:s, s:b}}", "name", cfg->socket_volume, "csi", "driver",
                     INJECT_CSI_DRIVER, "readOnly", 1);
}

json_t *inject_svid_volume(const inject_config *cfg)
{
    return json_pack("{s:s, s:{s:s}}", "name", cfg->svid_volume, "emptyDir", "medium", "Memory");
}

json_t *inject_ca_volume(const inject_config *cfg, const char *configmap)
{
    return json_pack("{s:s, s:{s:s}}", "name", cfg->ca_volume, "configMap", "name", configmap);
}
