/*
 * test_kubeconfig: kubeconfig parsing variants (current and named context,
 * token, tokenFile, client cert/key as data and as files relative to the
 * kubeconfig, CA data/file, insecure), refusals (exec, missing pieces), and
 * in-cluster configuration from a fake service-account folder. No server.
 */
#include "common/kube_client.h"
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* base64 of "CA-PEM", "CERT-PEM", "KEY-PEM" */
#define B64_CA "Q0EtUEVN"
#define B64_CERT "Q0VSVC1QRU0="
#define B64_KEY "S0VZLVBFTQ=="

static const char *const kubeconfig = "apiVersion: v1\n"
                                      "kind: Config\n"
                                      "current-context: dev\n"
                                      "clusters:\n"
                                      "- name: c1\n"
                                      "  cluster:\n"
                                      "    server: https://127.0.0.1:6443/\n"
                                      "    certificate-authority-data: " B64_CA "\n"
                                      "- name: c2\n"
                                      "  cluster:\n"
                                      "    server: https://10.0.0.1\n"
                                      "    insecure-skip-tls-verify: true\n"
                                      "users:\n"
                                      "- name: tok\n"
                                      "  user:\n"
                                      "    token: abc.def\n"
                                      "- name: cert\n"
                                      "  user:\n"
                                      "    client-certificate-data: " B64_CERT "\n"
                                      "    client-key-data: " B64_KEY "\n"
                                      "- name: exec\n"
                                      "  user:\n"
                                      "    exec: {command: aws}\n"
                                      "contexts:\n"
                                      "- name: dev\n"
                                      "  context: {cluster: c1, user: tok, namespace: team-a}\n"
                                      "- name: ops\n"
                                      "  context: {cluster: c2, user: cert}\n"
                                      "- name: cloud\n"
                                      "  context: {cluster: c1, user: exec}\n"
                                      "- name: nouser\n"
                                      "  context: {cluster: c1, user: ghost}\n"
                                      "- name: nocluster\n"
                                      "  context: {cluster: ghost}\n";

static void test_current_context_token(void)
{
    kube_config cfg;
    char err[256];
    int rc = kube_config_parse(kubeconfig, strlen(kubeconfig), "kc", "/tmp", NULL, &cfg, err,
                               sizeof err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_STRING_EQUAL(cfg.server, "https://127.0.0.1:6443");
    CU_ASSERT_EQUAL(cfg.ca_pem_len, 6);
    CU_ASSERT_EQUAL(memcmp(cfg.ca_pem, "CA-PEM", 6), 0);
    CU_ASSERT_STRING_EQUAL(cfg.token, "abc.def");
    CU_ASSERT_STRING_EQUAL(cfg.ns, "team-a");
    CU_ASSERT_PTR_NULL(cfg.client_cert_pem);
    CU_ASSERT_EQUAL(cfg.insecure, 0);
    kube_config_free(&cfg);
}

static void test_named_context_client_cert(void)
{
    kube_config cfg;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(kube_config_parse(kubeconfig, strlen(kubeconfig), "kc", "/tmp", "ops",
                                            &cfg, err, sizeof err),
                          0);
    CU_ASSERT_STRING_EQUAL(cfg.server, "https://10.0.0.1");
    CU_ASSERT_EQUAL(cfg.insecure, 1);
    CU_ASSERT_PTR_NULL(cfg.ca_pem);
    CU_ASSERT_PTR_NULL(cfg.token);
    CU_ASSERT_EQUAL(cfg.client_cert_len, 8);
    CU_ASSERT_EQUAL(memcmp(cfg.client_cert_pem, "CERT-PEM", 8), 0);
    CU_ASSERT_EQUAL(cfg.client_key_len, 7);
    CU_ASSERT_PTR_NULL(cfg.ns);
    kube_config_free(&cfg);
}

static void expect_parse_error(const char *text, const char *context, const char *want)
{
    kube_config cfg;
    char err[256] = "";
    CU_ASSERT_EQUAL(
        kube_config_parse(text, strlen(text), "kc", "/tmp", context, &cfg, err, sizeof err), -1);
    if (strstr(err, want) == NULL) {
        fprintf(stderr, "\n  err: %s (want %s)\n", err, want);
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
}

static void test_refusals(void)
{
    expect_parse_error(kubeconfig, "cloud", "exec and auth-provider");
    expect_parse_error(kubeconfig, "nouser", "user \"ghost\"");
    expect_parse_error(kubeconfig, "nocluster", "cluster \"ghost\"");
    expect_parse_error(kubeconfig, "missing", "context \"missing\" not found");
    expect_parse_error("apiVersion: v1\nkind: Config\n", NULL, "no current-context");
    expect_parse_error("- a\n", NULL, "not a kubeconfig");
    expect_parse_error("a: [\n", NULL, "kc:");
    expect_parse_error("current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n"
                       "clusters:\n- name: c\n  cluster: {server: ftp://x}\n",
                       NULL, "http(s) URL");
    expect_parse_error(
        "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
        "clusters:\n- name: c\n  cluster: {server: https://x}\n"
        "users:\n- name: u\n  user: {client-certificate-data: " B64_CERT "}\n",
        NULL, "given together");
    expect_parse_error("current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n"
                       "clusters:\n- name: c\n  cluster: {server: https://x, "
                       "certificate-authority-data: '!!!'}\n",
                       NULL, "not valid base64");
}

static char dir[64];

static void write_in_dir(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static void cleanup_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

static void test_files_relative_to_kubeconfig(void)
{
    snprintf(dir, sizeof dir, "/tmp/aigw-kc-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    write_in_dir("ca.crt", "CA FILE");
    write_in_dir("client.crt", "CERT FILE");
    write_in_dir("client.key", "KEY FILE");
    write_in_dir("token", "tok-from-file\n");
    write_in_dir("config", "current-context: x\n"
                           "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
                           "clusters:\n- name: c\n  cluster:\n    server: https://h:1\n"
                           "    certificate-authority: ca.crt\n"
                           "users:\n- name: u\n  user:\n    client-certificate: client.crt\n"
                           "    client-key: client.key\n    tokenFile: token\n");
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/config", dir);
    kube_config cfg;
    CU_ASSERT_EQUAL_FATAL(kube_config_load_file(path, NULL, &cfg, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(cfg.ca_pem, "CA FILE");
    CU_ASSERT_STRING_EQUAL(cfg.client_cert_pem, "CERT FILE");
    CU_ASSERT_STRING_EQUAL(cfg.client_key_pem, "KEY FILE");
    char want[128];
    snprintf(want, sizeof want, "%s/token", dir);
    CU_ASSERT_STRING_EQUAL(cfg.token_file, want);
    CU_ASSERT_PTR_NULL(cfg.token);
    kube_config_free(&cfg);

    /* a referenced file that is missing names the file */
    write_in_dir("config2", "current-context: x\n"
                            "contexts:\n- name: x\n  context: {cluster: c}\n"
                            "clusters:\n- name: c\n  cluster:\n    server: https://h:1\n"
                            "    certificate-authority: nope.crt\n");
    snprintf(path, sizeof path, "%s/config2", dir);
    CU_ASSERT_EQUAL(kube_config_load_file(path, NULL, &cfg, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "nope.crt"));

    /* in-cluster from a fake service-account folder */
    write_in_dir("namespace", "aigw-system\n");
    setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    CU_ASSERT_EQUAL_FATAL(kube_config_in_cluster(dir, &cfg, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(cfg.server, "https://10.96.0.1:443");
    CU_ASSERT_STRING_EQUAL(cfg.ns, "aigw-system");
    CU_ASSERT_STRING_EQUAL(cfg.ca_pem, "CA FILE");
    kube_config_free(&cfg);
    setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
    CU_ASSERT_EQUAL_FATAL(kube_config_in_cluster(dir, &cfg, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(cfg.server, "https://[fd00::1]:443");
    kube_config_free(&cfg);
    unsetenv("KUBERNETES_SERVICE_HOST");
    CU_ASSERT_EQUAL(kube_config_in_cluster(dir, &cfg, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "KUBERNETES_SERVICE_HOST"));
    unsetenv("KUBERNETES_SERVICE_PORT");
    cleanup_dir();
}

static void test_client_from_config(void)
{
    kube_config cfg;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(kube_config_parse(kubeconfig, strlen(kubeconfig), "kc", "/tmp", NULL,
                                            &cfg, err, sizeof err),
                          0);
    kube_client *kc = kube_client_new_config(&cfg, NULL, err, sizeof err);
    kube_config_free(&cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(kc);
    CU_ASSERT_STRING_EQUAL(kube_client_namespace(kc), "team-a");
    kube_resource r;
    kube_error e;
    /* built-in kinds resolve without a server */
    CU_ASSERT_EQUAL(kube_resolve(kc, "aigateway.kagenti.dev/v1alpha1", "AIRoutingPolicy", &r, &e),
                    0);
    CU_ASSERT_STRING_EQUAL(r.group, "aigateway.kagenti.dev");
    CU_ASSERT_STRING_EQUAL(r.version, "v1alpha1");
    CU_ASSERT_STRING_EQUAL(r.resource, "airoutingpolicies");
    CU_ASSERT_EQUAL(r.namespaced, 1);
    CU_ASSERT_EQUAL(kube_resolve(kc, "v1", "Namespace", &r, &e), 0);
    CU_ASSERT_STRING_EQUAL(r.group, "");
    CU_ASSERT_EQUAL(r.namespaced, 0);
    CU_ASSERT_EQUAL(kube_resolve(kc, "a/b/c", "X", &r, &e), -1);
    CU_ASSERT_EQUAL(e.http_code, 400);
    kube_client_free(kc);
}

static void test_error_format(void)
{
    kube_error e = {404, 0, 0, "NotFound", "secrets \"x\" not found"};
    char buf[128];
    CU_ASSERT_STRING_EQUAL(kube_error_format(&e, buf, sizeof buf),
                           "404 NotFound: secrets \"x\" not found");
    kube_error t = {0, 1, 1, "", "GET /x: Timeout was reached"};
    CU_ASSERT_STRING_EQUAL(kube_error_format(&t, buf, sizeof buf),
                           "timeout: GET /x: Timeout was reached");
    kube_error_clear(&t);
    CU_ASSERT_EQUAL(t.transport, 0);
}

UNIT_SUITE(kubeconfig, UNIT_CASE(test_current_context_token),
           UNIT_CASE(test_named_context_client_cert), UNIT_CASE(test_refusals),
           UNIT_CASE(test_files_relative_to_kubeconfig), UNIT_CASE(test_client_from_config),
           UNIT_CASE(test_error_format));
