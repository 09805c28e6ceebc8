/*
 * kube_config: where the kube client's server, credentials and CA come from.
 * A kubeconfig (YAML through yaml_json, resolved the way kubectl resolves it:
 * current-context -> context -> cluster + user) or the in-cluster service
 * account. Key material is held in memory only, never logged or put in errors.
 */
#include "common/kube_client.h"

#include "common/base64.h"

#include "common/field_errors.h"
#include "common/yaml_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SA_DIR_DEFAULT "/var/run/secrets/kubernetes.io/serviceaccount"
#define MAX_CRED_FILE ((size_t)4 * 1024 * 1024)

void kube_config_free(kube_config *cfg)
{
    if (cfg == NULL) {
        return;
    }
    free(cfg->server);
    free(cfg->ca_pem);
    free(cfg->tls_server_name);
    if (cfg->token != NULL) {
        memset(cfg->token, 0, strlen(cfg->token));
    }
    free(cfg->token);
    free(cfg->token_file);
    free(cfg->client_cert_pem);
    if (cfg->client_key_pem != NULL) {
        memset(cfg->client_key_pem, 0, cfg->client_key_len);
    }
    free(cfg->client_key_pem);
    free(cfg->ns);
    memset(cfg, 0, sizeof *cfg);
}

/* Reads a whole (small) file; NUL-terminated; caller frees. */
static char *read_small_file(const char *path, size_t *len_out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(MAX_CRED_FILE + 1);
    if (buf == NULL) {
        fclose(f);
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    size_t n = fread(buf, 1, MAX_CRED_FILE + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || n > MAX_CRED_FILE) {
        free(buf);
        snprintf(err, errlen, "%s: %s", path, bad ? "read error" : "file too large");
        return NULL;
    }
    buf[n] = '\0';
    *len_out = n;
    return buf;
}

static const char *str_at(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s != NULL && s[0] != '\0' ? s : NULL;
}

/* The entry of `list` (clusters/users/contexts) named `name`, its inner `field`. */
static const json_t *named_entry(const json_t *root, const char *list, const char *field,
                                 const char *name)
{
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(root, list), i, e)
    {
        const char *n = json_string_value(json_object_get(e, "name"));
        if (n != NULL && strcmp(n, name) == 0) {
            const json_t *inner = json_object_get(e, field);
            return json_is_object(inner) ? inner : NULL;
        }
    }
    return NULL;
}

static char *resolve_path(const char *base_dir, const char *p)
{
    if (p[0] == '/' || base_dir == NULL || base_dir[0] == '\0') {
        return strdup(p);
    }
    return str_printf("%s/%s", base_dir, p);
}

/*
 * Material given as "<key>-data" (base64) or "<key>" (a file). Sets *out
 * (NULL when neither is present). -1 on error.
 */
static int load_material(const json_t *obj, const char *key, const char *base_dir,
                         const char *source, char **out, size_t *len_out, char *err, size_t errlen)
{
    char data_key[96];
    snprintf(data_key, sizeof data_key, "%s-data", key);
    const char *data = str_at(obj, data_key);
    const char *file = str_at(obj, key);
    *out = NULL;
    *len_out = 0;
    if (data != NULL) {
        *out = (char *)base64_decode_lenient(data, strlen(data), len_out);
        if (*out == NULL) {
            snprintf(err, errlen, "%s: %s is not valid base64", source, data_key);
            return -1;
        }
        return 0;
    }
    if (file != NULL) {
        char *path = resolve_path(base_dir, file);
        if (path == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        *out = read_small_file(path, len_out, err, errlen);
        free(path);
        return *out != NULL ? 0 : -1;
    }
    return 0;
}

static int dup_opt(const char *s, char **out)
{
    *out = NULL;
    if (s == NULL) {
        return 0;
    }
    *out = strdup(s);
    return *out != NULL ? 0 : -1;
}

static int parse_cluster(const json_t *cluster, const char *source, const char *base_dir,
                         kube_config *out, char *err, size_t errlen)
{
    const char *server = str_at(cluster, "server");
    if (server == NULL) {
        snprintf(err, errlen, "%s: cluster has no server", source);
        return -1;
    }
    out->server = strdup(server);
    if (out->server == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t n = strlen(out->server);
    while (n > 0 && out->server[n - 1] == '/') {
        out->server[--n] = '\0';
    }
    if (strncmp(out->server, "https://", 8) != 0 && strncmp(out->server, "http://", 7) != 0) {
        snprintf(err, errlen, "%s: server must be an http(s) URL", source);
        return -1;
    }
    out->insecure = json_is_true(json_object_get(cluster, "insecure-skip-tls-verify"));
    if (dup_opt(str_at(cluster, "tls-server-name"), &out->tls_server_name) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return load_material(cluster, "certificate-authority", base_dir, source, &out->ca_pem,
                         &out->ca_pem_len, err, errlen);
}

static int parse_user(const json_t *user, const char *source, const char *base_dir,
                      kube_config *out, char *err, size_t errlen)
{
    if (user == NULL) {
        return 0; /* anonymous */
    }
    if (json_object_get(user, "exec") != NULL || json_object_get(user, "auth-provider") != NULL) {
        snprintf(err, errlen,
                 "%s: exec and auth-provider credentials are not supported; use a "
                 "token, tokenFile or client certificate",
                 source);
        return -1;
    }
    if (json_object_get(user, "username") != NULL || json_object_get(user, "password") != NULL) {
        snprintf(err, errlen, "%s: basic authentication is not supported", source);
        return -1;
    }
    if (dup_opt(str_at(user, "token"), &out->token) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const char *tf = str_at(user, "tokenFile");
    if (tf != NULL && out->token == NULL) {
        out->token_file = resolve_path(base_dir, tf);
        if (out->token_file == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    if (load_material(user, "client-certificate", base_dir, source, &out->client_cert_pem,
                      &out->client_cert_len, err, errlen) != 0 ||
        load_material(user, "client-key", base_dir, source, &out->client_key_pem,
                      &out->client_key_len, err, errlen) != 0) {
        return -1;
    }
    if ((out->client_cert_pem == NULL) != (out->client_key_pem == NULL)) {
        snprintf(err, errlen, "%s: client certificate and client key must be given together",
                 source);
        return -1;
    }
    return 0;
}

int kube_config_parse(const char *text, size_t len, const char *source, const char *base_dir,
                      const char *context, kube_config *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_t *docs = NULL;
    if (yaml_json_load(text, len, source, &docs, err, errlen) != 0) {
        return -1;
    }
    const json_t *root = json_array_get(docs, 0);
    int rc = -1;
    if (!json_is_object(root)) {
        snprintf(err, errlen, "%s: not a kubeconfig (no mapping)", source);
        goto out;
    }
    const char *ctx_name = context != NULL ? context : str_at(root, "current-context");
    if (ctx_name == NULL) {
        snprintf(err, errlen, "%s: no current-context and no context given", source);
        goto out;
    }
    const json_t *ctx = named_entry(root, "contexts", "context", ctx_name);
    if (ctx == NULL) {
        snprintf(err, errlen, "%s: context \"%s\" not found", source, ctx_name);
        goto out;
    }
    const char *cluster_name = str_at(ctx, "cluster");
    const json_t *cluster =
        cluster_name ? named_entry(root, "clusters", "cluster", cluster_name) : NULL;
    if (cluster == NULL) {
        snprintf(err, errlen, "%s: cluster \"%s\" of context \"%s\" not found", source,
                 cluster_name ? cluster_name : "", ctx_name);
        goto out;
    }
    const char *user_name = str_at(ctx, "user");
    const json_t *user = user_name ? named_entry(root, "users", "user", user_name) : NULL;
    if (user_name != NULL && user == NULL) {
        snprintf(err, errlen, "%s: user \"%s\" of context \"%s\" not found", source, user_name,
                 ctx_name);
        goto out;
    }
    if (parse_cluster(cluster, source, base_dir, out, err, errlen) != 0 ||
        parse_user(user, source, base_dir, out, err, errlen) != 0 ||
        dup_opt(str_at(ctx, "namespace"), &out->ns) != 0) {
        goto out;
    }
    rc = 0;
out:
    json_decref(docs);
    if (rc != 0) {
        kube_config_free(out);
    }
    return rc;
}

int kube_config_load_file(const char *path, const char *context, kube_config *out, char *err,
                          size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t len = 0;
    char *text = read_small_file(path, &len, err, errlen);
    if (text == NULL) {
        return -1;
    }
    char *dir = strdup(path);
    if (dir == NULL) {
        free(text);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char *slash = strrchr(dir, '/');
    if (slash != NULL) {
        *slash = '\0';
    } else {
        dir[0] = '.';
        dir[1] = '\0';
    }
    int rc = kube_config_parse(text, len, path, dir[0] ? dir : "/", context, out, err, errlen);
    free(dir);
    free(text);
    return rc;
}

int kube_config_in_cluster(const char *sa_dir, kube_config *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");
    if (host == NULL || host[0] == '\0' || port == NULL || port[0] == '\0') {
        snprintf(err, errlen, "not in a cluster: KUBERNETES_SERVICE_HOST/PORT are not set");
        return -1;
    }
    const char *dir = sa_dir != NULL ? sa_dir : SA_DIR_DEFAULT;
    int v6 = strchr(host, ':') != NULL;
    out->server = str_printf("https://%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "", port);
    out->token_file = str_printf("%s/token", dir);
    char *ca_path = str_printf("%s/ca.crt", dir);
    char *ns_path = str_printf("%s/namespace", dir);
    int rc = -1;
    if (out->server == NULL || out->token_file == NULL || ca_path == NULL || ns_path == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    out->ca_pem = read_small_file(ca_path, &out->ca_pem_len, err, errlen);
    if (out->ca_pem == NULL) {
        goto out;
    }
    size_t nlen = 0;
    char ignored[8];
    out->ns = read_small_file(ns_path, &nlen, ignored, sizeof ignored);
    if (out->ns != NULL) {
        out->ns[strcspn(out->ns, "\r\n")] = '\0';
    }
    struct stat st;
    if (stat(out->token_file, &st) != 0) {
        snprintf(err, errlen, "%s: %s", out->token_file, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    free(ca_path);
    free(ns_path);
    if (rc != 0) {
        kube_config_free(out);
    }
    return rc;
}
