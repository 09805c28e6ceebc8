/*
 * inject_objects: values for the injected sidecars and volumes (see
 * inject_objects.h), written as JSON text. The security context is the same
 * for both sidecars: non-root with one explicit uid/gid (1337 by default,
 * which kagenti's proxy-init does not redirect and which can read the 0640
 * key file), read-only root filesystem, no capabilities, RuntimeDefault
 * seccomp. Member order is fixed (the golden files show it).
 */
#include "injector/inject_objects.h"

#include <string.h>

/* ,"key":"value" (no comma when first); a NULL value fails the buffer. */
static void kv_str(jbuf *b, int first, const char *key, const char *value)
{
    if (value == NULL) {
        b->failed = 1;
        return;
    }
    if (!first) {
        jbuf_putc(b, ',');
    }
    jbuf_str(b, key);
    jbuf_putc(b, ':');
    jbuf_str(b, value);
}

/* ,"key": (no comma when first), for a value written next. */
static void key(jbuf *b, int first, const char *k)
{
    if (!first) {
        jbuf_putc(b, ',');
    }
    jbuf_str(b, k);
    jbuf_putc(b, ':');
}

static void security_context(jbuf *b, const inject_config *cfg)
{
    jbuf_puts(b, "{\"runAsNonRoot\":true,\"runAsUser\":");
    jbuf_int(b, cfg->run_as_user);
    jbuf_puts(b, ",\"runAsGroup\":");
    jbuf_int(b, cfg->run_as_group);
    jbuf_puts(b, ",\"readOnlyRootFilesystem\":true,\"allowPrivilegeEscalation\":false,"
                 "\"capabilities\":{\"drop\":[\"ALL\"]},"
                 "\"seccompProfile\":{\"type\":\"RuntimeDefault\"}}");
}

static void resources(jbuf *b, const inject_resources *r)
{
    jbuf_puts(b, "{\"requests\":{");
    kv_str(b, 1, "cpu", r->cpu_request);
    kv_str(b, 0, "memory", r->memory_request);
    jbuf_puts(b, "},\"limits\":{");
    kv_str(b, 1, "cpu", r->cpu_limit);
    kv_str(b, 0, "memory", r->memory_limit);
    jbuf_puts(b, "}}");
}

void inject_mount(jbuf *b, const char *volume, const char *path)
{
    jbuf_putc(b, '{');
    kv_str(b, 1, "name", volume);
    kv_str(b, 0, "mountPath", path);
    jbuf_puts(b, ",\"readOnly\":true}");
}

void inject_env(jbuf *b, const char *name, const char *value)
{
    jbuf_putc(b, '{');
    kv_str(b, 1, "name", name);
    kv_str(b, 0, "value", value);
    jbuf_putc(b, '}');
}

/* ,"resources":...,"securityContext":...,"volumeMounts":[ (the caller writes the mounts). */
static void limits_and_mounts(jbuf *b, const inject_config *cfg, const inject_resources *r)
{
    key(b, 0, "resources");
    resources(b, r);
    key(b, 0, "securityContext");
    security_context(b, cfg);
    key(b, 0, "volumeMounts");
    jbuf_putc(b, '[');
}

/* restartPolicy Always for a native sidecar, then the closing brace. */
static void finish(jbuf *b, int native)
{
    if (native) {
        jbuf_puts(b, ",\"restartPolicy\":\"Always\"");
    }
    jbuf_putc(b, '}');
}

void inject_helper_container(jbuf *b, const inject_config *cfg, int native)
{
    jbuf_putc(b, '{');
    kv_str(b, 1, "name", cfg->helper_container);
    kv_str(b, 0, "image", cfg->helper_image);
    kv_str(b, 0, "imagePullPolicy", cfg->pull_policy);
    jbuf_puts(b, ",\"args\":[\"-config\",\"" INJECT_CA_DIR "/helper.conf\"]");
    /*
     * The startup probe holds back the next container until the SVID files are
     * written (spiffe-helper's /ready turns 200 after the first SVID). 1 s x 120
     * leaves two minutes for a slow SPIRE agent.
     */
    jbuf_puts(b, ",\"startupProbe\":{\"httpGet\":{\"path\":\"/ready\",\"port\":");
    jbuf_int(b, cfg->health_port);
    jbuf_puts(b, "},\"periodSeconds\":1,\"timeoutSeconds\":1,\"failureThreshold\":120}");
    jbuf_puts(b, ",\"livenessProbe\":{\"httpGet\":{\"path\":\"/live\",\"port\":");
    jbuf_int(b, cfg->health_port);
    jbuf_puts(b, "},\"periodSeconds\":10,\"failureThreshold\":3}");
    limits_and_mounts(b, cfg, &cfg->helper_resources);
    inject_mount(b, cfg->socket_volume, INJECT_AGENT_SOCKET_DIR);
    jbuf_puts(b, ",{");
    kv_str(b, 1, "name", cfg->svid_volume);
    kv_str(b, 0, "mountPath", INJECT_SVID_DIR);
    jbuf_puts(b, "},");
    inject_mount(b, cfg->ca_volume, INJECT_CA_DIR);
    jbuf_putc(b, ']');
    finish(b, native);
}

/* ,"<prefix><value>" as one JSON string (args are built per pod: no printf here). */
static void arg(jbuf *b, const char *prefix, const char *value)
{
    char buf[600];
    size_t a = strlen(prefix), v = strlen(value);
    if (a + v >= sizeof buf) {
        b->failed = 1;
        return;
    }
    memcpy(buf, prefix, a + 1);
    memcpy(buf + a, value, v + 1); /* with its NUL */
    jbuf_putc(b, ',');
    jbuf_strn(b, buf, a + v);
}

void inject_egress_container(jbuf *b, const inject_config *cfg, int native, const char *target)
{
    jbuf_putc(b, '{');
    kv_str(b, 1, "name", cfg->egress_container);
    kv_str(b, 0, "image", cfg->egress_image);
    kv_str(b, 0, "imagePullPolicy", cfg->pull_policy);
    /* No SPIFFE_ENDPOINT_SOCKET: it would switch ghostunnel to workload-API mode. */
    jbuf_puts(b, ",\"args\":[\"client\",\"--listen=127.0.0.1:");
    jbuf_int(b, cfg->egress_port);
    jbuf_putc(b, '"');
    arg(b, "--target=", target);
    jbuf_puts(b, ",\"--cert=" INJECT_SVID_DIR "/svid.pem\",\"--key=" INJECT_SVID_DIR
                 "/svid_key.pem\",\"--cacert=" INJECT_CA_DIR "/ca.crt\"");
    arg(b, "--timed-reload=", cfg->reload_interval);
    jbuf_putc(b, ']');
    limits_and_mounts(b, cfg, &cfg->egress_resources);
    inject_mount(b, cfg->svid_volume, INJECT_SVID_DIR);
    jbuf_putc(b, ',');
    inject_mount(b, cfg->ca_volume, INJECT_CA_DIR);
    jbuf_putc(b, ']');
    finish(b, native);
}

void inject_socket_volume(jbuf *b, const inject_config *cfg)
{
    jbuf_putc(b, '{');
    kv_str(b, 1, "name", cfg->socket_volume);
    jbuf_puts(b, ",\"csi\":{");
    kv_str(b, 1, "driver", INJECT_CSI_DRIVER);
    jbuf_puts(b, ",\"readOnly\":true}}");
}

void inject_svid_volume(jbuf *b, const inject_config *cfg)
{
    jbuf_putc(b, '{');
    kv_str(b, 1, "name", cfg->svid_volume);
    jbuf_puts(b, ",\"emptyDir\":{\"medium\":\"Memory\"}}");
}

void inject_ca_volume(jbuf *b, const inject_config *cfg, const char *configmap)
{
    jbuf_putc(b, '{');
    kv_str(b, 1, "name", cfg->ca_volume);
    jbuf_puts(b, ",\"configMap\":{");
    kv_str(b, 1, "name", configmap);
    jbuf_puts(b, "}}");
}
