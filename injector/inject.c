/*
 * inject: decides whether a pod is injected and records the patch (see
 * inject.h and DESIGN §4). The order of the checks is the order a user
 * reading the warnings would expect: is this pod ours at all (quiet skips),
 * can it be injected (warned skips), then what to add.
 *
 * Every added name is checked against the pod first. The kagenti names
 * (spire-agent-socket, svid-output) are reused when the pod already has them
 * as the same kind of volume; any other clash leaves the pod unchanged with
 * a warning, so the patched pod is always a valid Pod.
 */
#include "injector/inject.h"

#include "common/field_errors.h"
#include "common/json_patch.h"
#include "injector/inject_objects.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const inject_input *in;
    const inject_config *cfg;
    inject_result *out;
    const jv *pod, *meta, *spec, *annotations;
    jbuf val;         /* scratch: the value of the operation being recorded */
    const jv *env_of; /* the container whose env names are in env */
    struct {
        const jv *entry;
        const char *name;
    } * env;
    size_t n_env;
    const char *ns;
    const inject_gateway *gw;
    char *endpoint; /* normalised https URL */
    char *target;   /* host:port */
    int files_mode;
    int have_socket, have_svid, have_ca; /* reuse the pod's volume of that name */
    int helper_provided;                 /* kagenti's spiffe-helper already writes the SVID */
    int oom;
} plan;

/* ---------------------------------------------------------------- results */

static void warn(plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(plan *p, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    json_t *s = json_string(buf);
    if (s == NULL || json_array_append_new(p->out->warnings, s) != 0) {
        p->oom = 1;
    }
}

/* Records a skip; warned skips also become the first warning. Returns 1. */
static int skip(plan *p, inject_outcome how, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int skip(plan *p, inject_outcome how, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    p->out->outcome = how;
    free(p->out->skip_reason);
    p->out->skip_reason = strdup(buf);
    if (p->out->skip_reason == NULL) {
        p->oom = 1;
    }
    if (how == INJECT_SKIP_WARN) {
        json_t *s = json_sprintf("aigw: pod not injected: %s", buf);
        if (s == NULL || json_array_insert_new(p->out->warnings, 0, s) != 0) {
            p->oom = 1;
        }
    }
    return 1;
}

/* ---------------------------------------------------------------- pod reading */

static const char *str_member(const jv *obj, const char *key)
{
    return jv_str(jv_get(obj, key));
}

/* The pod's name for messages: name, else generateName + "*", else "<unnamed>". */
static void pod_display_name(const jv *meta, char *buf, size_t len)
{
    const char *name = str_member(meta, "name");
    const char *gen = str_member(meta, "generateName");
    if (name != NULL && name[0] != '\0') {
        snprintf(buf, len, "%s", name);
    } else if (gen != NULL && gen[0] != '\0') {
        snprintf(buf, len, "%s*", gen);
    } else {
        snprintf(buf, len, "<unnamed>");
    }
}

static const jv *find_named(const jv *arr, const char *name)
{
    jv_foreach(arr, v)
    {
        const char *n = str_member(v, "name");
        if (n != NULL && strcmp(n, name) == 0) {
            return v;
        }
    }
    return NULL;
}

static int is_ignored(const inject_config *cfg, const char *name)
{
    for (size_t i = 0; name != NULL && i < cfg->n_ignored; i++) {
        if (strcmp(cfg->ignored[i], name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Does any container (regular or init) declare containerPort `port`? Name in *who. */
static int port_declared(const jv *spec, int port, const char **who)
{
    static const char *const lists[] = {"initContainers", "containers"};
    for (size_t l = 0; l < 2; l++) {
        jv_foreach(jv_get(spec, lists[l]), c)
        {
            jv_foreach(jv_get(c, "ports"), pt)
            {
                if (jv_int(jv_get(pt, "containerPort")) == port) {
                    *who = str_member(c, "name") ? str_member(c, "name") : "?";
                    return 1;
                }
            }
        }
    }
    return 0;
}

static const jv *any_container_named(const jv *spec, const char *name)
{
    const jv *c = find_named(jv_get(spec, "containers"), name);
    if (c == NULL) {
        c = find_named(jv_get(spec, "initContainers"), name);
    }
    if (c == NULL) {
        c = find_named(jv_get(spec, "ephemeralContainers"), name);
    }
    return c;
}

/* ---------------------------------------------------------------- the checks */

/* Quiet skips: pods that are simply not ours. Returns 1 when skipped. */
static int check_scope(plan *p)
{
    const inject_input *in = p->in;
    if (jv_get(p->annotations, INJECT_ANN_STATUS) != NULL) {
        return skip(p, INJECT_SKIP_QUIET, "already injected (annotation %s present)",
                    INJECT_ANN_STATUS);
    }
    static const char *const system_ns[] = {"kube-system", "kube-public", "kube-node-lease"};
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(p->ns, system_ns[i]) == 0) {
            return skip(p, INJECT_SKIP_QUIET, "namespace %s is never injected", p->ns);
        }
    }
    if (strcmp(p->ns, p->cfg->own_namespace) == 0) {
        return skip(p, INJECT_SKIP_QUIET, "namespace %s is aigw's own namespace", p->ns);
    }
    const char *pod_opt = str_member(jv_get(p->meta, "labels"), INJECT_LABEL);
    if (pod_opt != NULL && strcmp(pod_opt, "disabled") == 0) {
        return skip(p, INJECT_SKIP_QUIET, "pod opted out (label %s=disabled)", INJECT_LABEL);
    }
    if (!in->ns_known) {
        return skip(p, INJECT_SKIP_WARN,
                    "namespace %s is not known to the injector (not synced yet, or no "
                    "--objects entry)",
                    p->ns);
    }
    const char *ns_opt = json_string_value(json_object_get(in->ns_labels, INJECT_LABEL));
    if (ns_opt == NULL || strcmp(ns_opt, "enabled") != 0) {
        return skip(p, INJECT_SKIP_QUIET, "namespace %s is not opted in (label %s=enabled)", p->ns,
                    INJECT_LABEL);
    }
    return 0;
}

/* The AIAccessPolicy this pod uses and its endpoint. Returns 1 when skipped. */
static int choose_gateway(plan *p)
{
    const inject_input *in = p->in;
    const char *want = str_member(p->annotations, INJECT_ANN_GATEWAY);
    if (want != NULL) {
        for (size_t i = 0; i < in->n_gateways; i++) {
            const char *g = in->gateways[i].gateway;
            if (g != NULL && strcmp(g, want) == 0) {
                p->gw = &in->gateways[i];
                break;
            }
        }
        if (p->gw == NULL) {
            return skip(p, INJECT_SKIP_WARN,
                        "no AIAccessPolicy in namespace %s targets Gateway %s (annotation %s)",
                        p->ns, want, INJECT_ANN_GATEWAY);
        }
    } else if (in->n_gateways == 0) {
        return skip(p, INJECT_SKIP_WARN,
                    "no AIAccessPolicy in namespace %s: create one for the Gateway the agents "
                    "should use",
                    p->ns);
    } else if (in->n_gateways > 1) {
        return skip(p, INJECT_SKIP_WARN,
                    "%zu AIAccessPolicies in namespace %s: choose a Gateway with annotation %s",
                    in->n_gateways, p->ns, INJECT_ANN_GATEWAY);
    } else {
        p->gw = &in->gateways[0];
    }
    const char *url = str_member(p->annotations, INJECT_ANN_GATEWAY_URL);
    const char *source = INJECT_ANN_GATEWAY_URL;
    if (url == NULL) {
        url = p->gw->endpoint;
        source = "status.endpoint";
    }
    if (url == NULL || url[0] == '\0') {
        return skip(p, INJECT_SKIP_WARN,
                    "AIAccessPolicy %s has no status.endpoint yet (the reconciler sets it once "
                    "the Gateway's Service exists); annotation %s overrides it",
                    p->gw->policy, INJECT_ANN_GATEWAY_URL);
    }
    char why[200];
    if (inject_parse_endpoint(url, &p->target, &p->endpoint, why, sizeof why) != 0) {
        if (p->target == NULL && p->endpoint == NULL && strcmp(why, "out of memory") == 0) {
            p->oom = 1;
            return 1;
        }
        return skip(p, INJECT_SKIP_WARN, "gateway URL from %s: %s", source, why);
    }
    return 0;
}

/* Pod-level problems the user must fix. Returns 1 when skipped. */
static int check_pod(plan *p)
{
    if (jv_is_true(jv_get(p->spec, "hostNetwork"))) {
        return skip(p, INJECT_SKIP_WARN,
                    "hostNetwork pods are not injected (the egress listener on 127.0.0.1 would "
                    "be the node's)");
    }
    const char *mode = str_member(p->annotations, INJECT_ANN_MODE);
    if (mode != NULL && strcmp(mode, "files") == 0) {
        p->files_mode = 1;
    } else if (mode != NULL && strcmp(mode, "proxy") != 0) {
        return skip(p, INJECT_SKIP_WARN, "annotation %s: unknown mode \"%s\" (proxy or files)",
                    INJECT_ANN_MODE, mode);
    }
    const char *who = NULL;
    if (port_declared(p->spec, p->cfg->health_port, &who)) {
        return skip(p, INJECT_SKIP_WARN,
                    "container %s declares port %d, the spiffe-helper health port (change "
                    "ports.helperHealth in the injector config)",
                    who, p->cfg->health_port);
    }
    if (!p->files_mode && port_declared(p->spec, p->cfg->egress_port, &who)) {
        return skip(p, INJECT_SKIP_WARN,
                    "container %s declares port %d, the egress listener port (change "
                    "ports.egress in the injector config)",
                    who, p->cfg->egress_port);
    }
    const char *ours[] = {p->cfg->helper_container, p->cfg->egress_container};
    for (size_t i = 0; i < 2; i++) {
        if (any_container_named(p->spec, ours[i]) != NULL) {
            return skip(p, INJECT_SKIP_WARN,
                        "the pod already has a container named %s but no %s annotation", ours[i],
                        INJECT_ANN_STATUS);
        }
    }
    return 0;
}

static int volume_is(const jv *vol, const char *source)
{
    return jv_is(jv_get(vol, source), JV_OBJECT);
}

/* Reuse kagenti's volumes when they are the same thing. Returns 1 when skipped. */
static int check_volumes(plan *p)
{
    const jv *vols = jv_get(p->spec, "volumes");
    const inject_config *cfg = p->cfg;
    const jv *v = find_named(vols, cfg->socket_volume);
    if (v != NULL) {
        const char *driver = str_member(jv_get(v, "csi"), "driver");
        int same =
            (driver != NULL && strcmp(driver, INJECT_CSI_DRIVER) == 0) || volume_is(v, "hostPath");
        if (!same) {
            return skip(p, INJECT_SKIP_WARN,
                        "volume %s exists and is not the SPIFFE CSI (%s) or hostPath socket",
                        cfg->socket_volume, INJECT_CSI_DRIVER);
        }
        p->have_socket = 1;
    }
    v = find_named(vols, cfg->svid_volume);
    if (v != NULL) {
        if (!volume_is(v, "emptyDir")) {
            return skip(p, INJECT_SKIP_WARN, "volume %s exists and is not an emptyDir",
                        cfg->svid_volume);
        }
        p->have_svid = 1;
    }
    v = find_named(vols, cfg->ca_volume);
    if (v != NULL) {
        const char *cm = str_member(jv_get(v, "configMap"), "name");
        if (cm == NULL || strcmp(cm, p->gw->ca_configmap) != 0) {
            return skip(p, INJECT_SKIP_WARN, "volume %s exists and is not ConfigMap %s",
                        cfg->ca_volume, p->gw->ca_configmap);
        }
        p->have_ca = 1;
    }
    return 0;
}

/* A container other than ours that runs spiffe-helper into the SVID volume (kagenti). */
static int provides_svid(const plan *p, const jv *c)
{
    const char *name = str_member(c, "name");
    const char *image = str_member(c, "image");
    if (!((name != NULL && strstr(name, "spiffe-helper") != NULL) ||
          (image != NULL && strstr(image, "spiffe-helper") != NULL))) {
        return 0;
    }
    jv_foreach(jv_get(c, "volumeMounts"), m)
    {
        const char *vol = str_member(m, "name");
        if (vol != NULL && strcmp(vol, p->cfg->svid_volume) == 0 &&
            !jv_is_true(jv_get(m, "readOnly"))) {
            return 1;
        }
    }
    return 0;
}

static void detect_kagenti_helper(plan *p)
{
    static const char *const lists[] = {"initContainers", "containers"};
    if (!p->have_svid) {
        return;
    }
    for (size_t l = 0; l < 2; l++) {
        jv_foreach(jv_get(p->spec, lists[l]), c)
        {
            if (provides_svid(p, c)) {
                p->helper_provided = 1;
                return;
            }
        }
    }
}

/*
 * A mount at one of our paths in an app container: 0 = free, 1 = already the
 * same volume (nothing to add), -1 = another volume there (clash).
 */
static int mount_state(const jv *c, const char *path, const char *volume)
{
    jv_foreach(jv_get(c, "volumeMounts"), m)
    {
        const char *mp = str_member(m, "mountPath");
        if (mp != NULL && strcmp(mp, path) == 0) {
            const char *n = str_member(m, "name");
            return n != NULL && strcmp(n, volume) == 0 ? 1 : -1;
        }
    }
    return 0;
}

static int check_app_mounts(plan *p)
{
    jv_foreach(jv_get(p->spec, "containers"), c)
    {
        const char *name = str_member(c, "name");
        if (is_ignored(p->cfg, name)) {
            continue;
        }
        if (mount_state(c, INJECT_SVID_DIR, p->cfg->svid_volume) < 0 ||
            (p->files_mode && mount_state(c, INJECT_CA_DIR, p->cfg->ca_volume) < 0)) {
            return skip(p, INJECT_SKIP_WARN, "container %s already mounts another volume at %s",
                        name ? name : "?",
                        mount_state(c, INJECT_SVID_DIR, p->cfg->svid_volume) < 0 ? INJECT_SVID_DIR
                                                                                 : INJECT_CA_DIR);
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- the patch */

static char *container_path(const char *list, size_t i, const char *member)
{
    return str_printf("/spec/%s/%zu/%s", list, i, member);
}

/* Appends the value written into p->val to the array at path, then empties p->val. */
static void append_val(plan *p, json_patch_builder *b, const char *path)
{
    if (p->val.failed || json_patch_append(b, path, p->val.p, p->val.len) != 0) {
        p->oom = 1;
    }
    p->val.len = 0;
}

static void insert_val(plan *p, json_patch_builder *b, const char *path, size_t at)
{
    if (p->val.failed || json_patch_insert(b, path, at, p->val.p, p->val.len) != 0) {
        p->oom = 1;
    }
    p->val.len = 0;
}

static void member_val(plan *p, json_patch_builder *b, const char *obj_path, const char *key)
{
    if (p->val.failed || json_patch_set_member(b, obj_path, key, p->val.p, p->val.len) != 0) {
        p->oom = 1;
    }
    p->val.len = 0;
}

/*
 * The env entry of container c named `name` (its index in *index), NULL when
 * none. The container's names are read once (a pod may list hundreds of
 * variables and each is looked up for a dozen names).
 */
static const jv *env_entry(plan *p, const jv *c, const char *name, size_t *index)
{
    if (p->env_of != c) {
        size_t n = jv_size(jv_get(c, "env"));
        free(p->env);
        p->env = n > 0 ? calloc(n, sizeof *p->env) : NULL;
        p->n_env = 0;
        p->env_of = c;
        if (n > 0 && p->env == NULL) {
            p->oom = 1;
            p->env_of = NULL;
            return NULL;
        }
        jv_foreach(jv_get(c, "env"), e)
        {
            if (p->env == NULL || p->n_env == n) {
                break; /* not reached: n counted these entries */
            }
            p->env[p->n_env].entry = e;
            p->env[p->n_env].name = str_member(e, "name");
            p->n_env++;
        }
    }
    for (size_t i = 0; i < p->n_env; i++) {
        const char *n = p->env[i].name;
        if (n != NULL && n[0] == name[0] && strcmp(n, name) == 0) {
            *index = i;
            return p->env[i].entry;
        }
    }
    return NULL;
}

/* Adds name=value unless the container sets the variable already. */
static void add_env(plan *p, json_patch_builder *b, const jv *c, const char *env_path,
                    const char *name, const char *value)
{
    size_t idx;
    if (env_entry(p, c, name, &idx) != NULL) {
        return;
    }
    inject_env(&p->val, name, value);
    append_val(p, b, env_path);
}

static void warn_base_urls(plan *p, const jv *c, const char *cname, const char *base)
{
    for (size_t k = 0; k < p->cfg->n_base_url_env; k++) {
        size_t idx;
        const jv *e = env_entry(p, c, p->cfg->base_url_env[k], &idx);
        const char *v = str_member(e, "value");
        if (e != NULL && v != NULL && strcmp(v, base) != 0) {
            warn(p,
                 "aigw: container %s sets %s=%s, which bypasses the AI gateway (aigw would set "
                 "%s)",
                 cname, p->cfg->base_url_env[k], v, base);
        }
    }
}

/* NO_PROXY gains the loopback (and, in files mode, the gateway host) when a proxy is set. */
static void add_no_proxy(plan *p, json_patch_builder *b, const jv *c, const char *env_path,
                         const char *cname)
{
    size_t idx;
    if (env_entry(p, c, "HTTP_PROXY", &idx) == NULL &&
        env_entry(p, c, "HTTPS_PROXY", &idx) == NULL &&
        env_entry(p, c, "http_proxy", &idx) == NULL &&
        env_entry(p, c, "https_proxy", &idx) == NULL) {
        return;
    }
    char extra[300];
    if (p->files_mode) {
        char host[256];
        snprintf(host, sizeof host, "%s", p->target);
        char *colon = strrchr(host, ':');
        if (colon != NULL) {
            *colon = '\0';
        }
        snprintf(extra, sizeof extra, "127.0.0.1,localhost,%s", host);
    } else {
        snprintf(extra, sizeof extra, "127.0.0.1,localhost");
    }
    const char *var = "NO_PROXY";
    const jv *e = env_entry(p, c, var, &idx);
    if (e == NULL) {
        var = "no_proxy";
        e = env_entry(p, c, var, &idx);
    }
    if (e == NULL) {
        inject_env(&p->val, "NO_PROXY", extra);
        append_val(p, b, env_path);
        return;
    }
    const char *cur = str_member(e, "value");
    if (jv_get(e, "valueFrom") != NULL) {
        warn(p,
             "aigw: container %s sets %s from valueFrom; add %s to it so SDKs reach the "
             "gateway without the proxy",
             cname, var, extra);
        return;
    }
    if (cur != NULL && strstr(cur, "127.0.0.1") != NULL && strstr(cur, "localhost") != NULL &&
        (!p->files_mode || strstr(cur, extra + strlen("127.0.0.1,localhost,")) != NULL)) {
        return;
    }
    char *joined =
        cur != NULL && cur[0] != '\0' ? str_printf("%s,%s", cur, extra) : str_printf("%s", extra);
    char *path = str_printf("%s/%zu/value", env_path, idx);
    /* `add` on an existing member replaces it; an entry without value gets one. */
    if (joined != NULL) {
        jbuf_str(&p->val, joined);
    }
    if (joined == NULL || path == NULL || p->val.failed ||
        json_patch_add(b, path, p->val.p, p->val.len) != 0) {
        p->oom = 1;
    }
    p->val.len = 0;
    free(joined);
    free(path);
}

static void patch_app_container(plan *p, json_patch_builder *b, size_t i, const jv *c)
{
    const inject_config *cfg = p->cfg;
    const char *cname = str_member(c, "name") ? str_member(c, "name") : "?";
    char *mounts = container_path("containers", i, "volumeMounts");
    char *env = container_path("containers", i, "env");
    if (mounts == NULL || env == NULL) {
        p->oom = 1;
        free(mounts);
        free(env);
        return;
    }
    if (mount_state(c, INJECT_SVID_DIR, cfg->svid_volume) == 0) {
        inject_mount(&p->val, cfg->svid_volume, INJECT_SVID_DIR);
        append_val(p, b, mounts);
    }
    if (p->files_mode && mount_state(c, INJECT_CA_DIR, cfg->ca_volume) == 0) {
        inject_mount(&p->val, cfg->ca_volume, INJECT_CA_DIR);
        append_val(p, b, mounts);
    }
    char *base = NULL;
    if (!p->files_mode) {
        base = str_printf("http://127.0.0.1:%d/v1", cfg->egress_port);
    } else {
        size_t n = strlen(p->endpoint);
        int has_v1 = n >= 3 && strcmp(p->endpoint + n - 3, "/v1") == 0;
        base = str_printf("%s%s", p->endpoint, has_v1 ? "" : "/v1");
    }
    if (base == NULL) {
        p->oom = 1;
    } else if (jv_size(jv_get(c, "envFrom")) > 0) {
        warn(p,
             "aigw: container %s uses envFrom, so aigw cannot tell which variables it sets and "
             "adds none; set %s=%s yourself",
             cname, cfg->n_base_url_env > 0 ? cfg->base_url_env[0] : "OPENAI_BASE_URL", base);
    } else {
        warn_base_urls(p, c, cname, base);
        for (size_t k = 0; k < cfg->n_base_url_env; k++) {
            add_env(p, b, c, env, cfg->base_url_env[k], base);
        }
        for (size_t k = 0; k < cfg->n_api_key_env; k++) {
            add_env(p, b, c, env, cfg->api_key_env[k], cfg->api_key_placeholder);
        }
        add_env(p, b, c, env, cfg->gateway_url_env, p->endpoint);
        add_env(p, b, c, env, cfg->svid_dir_env, INJECT_SVID_DIR);
        if (p->files_mode) {
            char ca[256];
            snprintf(ca, sizeof ca, "%s/ca.crt", INJECT_CA_DIR);
            add_env(p, b, c, env, cfg->ca_file_env, ca);
        }
        add_no_proxy(p, b, c, env, cname);
    }
    free(base);
    free(mounts);
    free(env);
}

static void patch_volumes(plan *p, json_patch_builder *b)
{
    const inject_config *cfg = p->cfg;
    int need_socket = !p->helper_provided;
    if (need_socket && !p->have_socket) {
        inject_socket_volume(&p->val, cfg);
        append_val(p, b, "/spec/volumes");
    }
    if (!p->have_svid) {
        inject_svid_volume(&p->val, cfg);
        append_val(p, b, "/spec/volumes");
    }
    if (!p->have_ca) {
        inject_ca_volume(&p->val, cfg, p->gw->ca_configmap);
        append_val(p, b, "/spec/volumes");
    }
}

/* Files mode: the app (another uid) reads the 0640 key through the pod's fsGroup. */
static void patch_fs_group(plan *p, json_patch_builder *b)
{
    const jv *psc = jv_get(p->spec, "securityContext");
    if (jv_get(psc, "fsGroup") != NULL) {
        return;
    }
    static const char *const tokens[] = {"spec", "securityContext", "fsGroup"};
    jbuf_int(&p->val, p->cfg->run_as_group);
    if (p->val.failed || json_patch_set_tokens(b, tokens, 3, p->val.p, p->val.len) != 0) {
        p->oom = 1;
    }
    p->val.len = 0;
}

static void patch_sidecars(plan *p, json_patch_builder *b, int native)
{
    const char *list = native ? "/spec/initContainers" : "/spec/containers";
    size_t at = 0;
    if (!p->helper_provided) {
        inject_helper_container(&p->val, p->cfg, native);
        insert_val(p, b, list, at++);
    }
    if (!p->files_mode) {
        inject_egress_container(&p->val, p->cfg, native, p->target);
        insert_val(p, b, list, at);
    }
}

/* The status annotation's value: what was added, so a reinvocation and humans can tell. */
static void status_text(plan *p, jbuf *t, int native)
{
    const inject_config *cfg = p->cfg;
    jbuf_puts(t, "{\"version\":1,\"policy\":");
    jbuf_str(t, p->gw->policy);
    jbuf_puts(t, ",\"gateway\":");
    jbuf_str(t, p->gw->gateway ? p->gw->gateway : "");
    jbuf_puts(t, ",\"endpoint\":");
    jbuf_str(t, p->endpoint);
    jbuf_puts(t, p->files_mode ? ",\"mode\":\"files\"" : ",\"mode\":\"proxy\"");
    jbuf_puts(t, native ? ",\"sidecars\":\"native\"" : ",\"sidecars\":\"regular\"");
    jbuf_puts(t, ",\"containers\":[");
    if (!p->helper_provided) {
        jbuf_str(t, cfg->helper_container);
    }
    if (!p->files_mode) {
        if (!p->helper_provided) {
            jbuf_putc(t, ',');
        }
        jbuf_str(t, cfg->egress_container);
    }
    jbuf_puts(t, "],\"volumes\":[");
    if (!p->helper_provided) {
        jbuf_str(t, cfg->socket_volume);
        jbuf_putc(t, ',');
    }
    jbuf_str(t, cfg->svid_volume);
    jbuf_putc(t, ',');
    jbuf_str(t, cfg->ca_volume);
    jbuf_puts(t,
              p->helper_provided ? "],\"svidFromKagenti\":true}" : "],\"svidFromKagenti\":false}");
}

static void patch_annotations(plan *p, json_patch_builder *b, int native, const char *first_app)
{
    if (!native && first_app != NULL &&
        jv_get(p->annotations, INJECT_ANN_DEFAULT_CONTAINER) == NULL) {
        jbuf_str(&p->val, first_app);
        member_val(p, b, "/metadata/annotations", INJECT_ANN_DEFAULT_CONTAINER);
    }
    jbuf t;
    jbuf_init(&t);
    status_text(p, &t, native);
    size_t len = 0;
    char *text = jbuf_take(&t, &len);
    if (text == NULL) {
        p->oom = 1;
        return;
    }
    jbuf_strn(&p->val, text, len);
    free(text);
    member_val(p, b, "/metadata/annotations", INJECT_ANN_STATUS);
}

static void warn_regular_sidecars(plan *p)
{
    const char *rp = str_member(p->spec, "restartPolicy");
    if (rp != NULL && strcmp(rp, "Always") != 0) {
        warn(p,
             "aigw: the sidecars run as regular containers (cluster without native sidecars) "
             "and keep running, so this pod (restartPolicy %s) will not complete",
             rp);
    }
}

static void build_patch(plan *p)
{
    json_patch_builder b;
    if (json_patch_builder_init(&b, p->pod) != 0) {
        p->oom = 1;
        return;
    }
    int native = p->in->native_sidecars;
    const jv *containers = jv_get(p->spec, "containers");
    const char *first_app = NULL;
    size_t i = 0;
    jv_foreach(containers, c)
    {
        const char *name = str_member(c, "name");
        if (!is_ignored(p->cfg, name)) {
            if (first_app == NULL) {
                first_app = name;
            }
            patch_app_container(p, &b, i, c);
        }
        i++;
    }
    patch_volumes(p, &b);
    if (p->files_mode) {
        patch_fs_group(p, &b);
    }
    patch_sidecars(p, &b, native);
    if (!native && (!p->helper_provided || !p->files_mode)) {
        warn_regular_sidecars(p);
    }
    patch_annotations(p, &b, native, first_app);
    if (b.failed) {
        p->oom = 1;
    }
    if (!p->oom) {
        p->out->patch = json_patch_builder_take(&b, &p->out->patch_len);
        if (p->out->patch == NULL) {
            p->oom = 1;
        } else {
            p->out->outcome = INJECT_DONE;
        }
    }
    json_patch_builder_free(&b);
}

/* ---------------------------------------------------------------- entry */

int inject_plan(const inject_input *in, inject_result *out)
{
    memset(out, 0, sizeof *out);
    out->warnings = json_array();
    if (out->warnings == NULL) {
        inject_result_free(out);
        return -1;
    }
    plan p = {.in = in, .cfg = in->cfg, .out = out, .pod = in->pod};
    p.meta = jv_get(in->pod, "metadata");
    p.spec = jv_get(in->pod, "spec");
    p.annotations = jv_get(p.meta, "annotations");
    if (jv_is(p.annotations, JV_NULL)) {
        p.annotations = NULL; /* `annotations:` with no value reads as null: absent */
    }
    p.ns = in->ns;
    if (p.ns == NULL || p.ns[0] == '\0') {
        p.ns = str_member(p.meta, "namespace");
    }
    if (p.ns == NULL || p.ns[0] == '\0') {
        p.ns = "default";
    }
    char podname[300];
    pod_display_name(p.meta, podname, sizeof podname);
    if (!jv_is(in->pod, JV_OBJECT) || !jv_is(p.spec, JV_OBJECT) ||
        jv_size(jv_get(p.spec, "containers")) == 0) {
        skip(&p, INJECT_SKIP_QUIET, "pod %s has no containers to inject into", podname);
    } else if (!jv_is(p.meta, JV_OBJECT) ||
               (p.annotations != NULL && !jv_is(p.annotations, JV_OBJECT))) {
        skip(&p, INJECT_SKIP_QUIET, "pod %s has malformed metadata", podname);
    } else if (!check_scope(&p) && !check_pod(&p) && !choose_gateway(&p) && !check_volumes(&p) &&
               !check_app_mounts(&p)) {
        detect_kagenti_helper(&p);
        build_patch(&p);
    }
    free(p.endpoint);
    free(p.target);
    jbuf_free(&p.val);
    free(p.env);
    if (p.oom) {
        inject_result_free(out);
        return -1;
    }
    return 0;
}

void inject_result_free(inject_result *r)
{
    free(r->patch);
    json_decref(r->warnings);
    free(r->skip_reason);
    memset(r, 0, sizeof *r);
}

/* ---------------------------------------------------------------- endpoint URL */

static int host_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
}

static int endpoint_fail(char *err, size_t errlen, const char *url, const char *why)
{
    snprintf(err, errlen, "\"%.120s\": %s", url, why);
    return -1;
}

int inject_parse_endpoint(const char *url, char **target_out, char **normalised_out, char *err,
                          size_t errlen)
{
    *target_out = NULL;
    *normalised_out = NULL;
    static const char scheme[] = "https://";
    if (strncmp(url, scheme, sizeof scheme - 1) != 0) {
        return endpoint_fail(err, errlen, url,
                             "must be an https:// URL (the gateway requires mTLS)");
    }
    const char *h = url + sizeof scheme - 1;
    const char *end = h + strcspn(h, "/?#");
    if (*end == '?' || *end == '#') {
        return endpoint_fail(err, errlen, url, "must not have a query or fragment");
    }
    const char *port = NULL;
    const char *host_end;
    if (*h == '[') {
        const char *close = memchr(h, ']', (size_t)(end - h));
        if (close == NULL || close == h + 1) {
            return endpoint_fail(err, errlen, url, "bad IPv6 literal");
        }
        for (const char *c = h + 1; c < close; c++) {
            if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f') ||
                  (*c >= 'A' && *c <= 'F') || *c == ':' || *c == '.')) {
                return endpoint_fail(err, errlen, url, "bad IPv6 literal");
            }
        }
        host_end = close + 1;
        if (host_end < end && *host_end != ':') {
            return endpoint_fail(err, errlen, url, "bad host");
        }
    } else {
        host_end = h;
        while (host_end < end && *host_end != ':') {
            if (!host_char_ok(*host_end)) {
                return endpoint_fail(err, errlen, url, "bad character in host");
            }
            host_end++;
        }
        if (host_end == h) {
            return endpoint_fail(err, errlen, url, "empty host");
        }
    }
    long portnum = 443;
    if (host_end < end) {
        port = host_end + 1;
        if (port == end || end - port > 5) {
            return endpoint_fail(err, errlen, url, "bad port");
        }
        portnum = 0;
        for (const char *c = port; c < end; c++) {
            if (*c < '0' || *c > '9') {
                return endpoint_fail(err, errlen, url, "bad port");
            }
            portnum = portnum * 10 + (*c - '0');
        }
        if (portnum < 1 || portnum > 65535) {
            return endpoint_fail(err, errlen, url, "port out of range");
        }
    }
    for (const char *c = end; *c; c++) {
        if ((unsigned char)*c <= ' ' || *c == '"' || *c == '\\' || (unsigned char)*c >= 0x7f) {
            return endpoint_fail(err, errlen, url, "bad character in path");
        }
    }
    size_t len = strlen(url);
    while (len > (size_t)(end - url) && url[len - 1] == '/') {
        len--;
    }
    *target_out = str_printf("%.*s:%ld", (int)(host_end - h), h, portnum);
    *normalised_out = str_printf("%.*s", (int)len, url);
    if (*target_out == NULL || *normalised_out == NULL) {
        free(*target_out);
        free(*normalised_out);
        *target_out = NULL;
        *normalised_out = NULL;
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}
