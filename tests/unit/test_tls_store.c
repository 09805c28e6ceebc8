/*
 * Tests for common/tls_store: loading a pair from files or PEM, and the
 * reload rules (a change is loaded once stable; a mismatched or unreadable
 * pair is refused and the current one kept), driven step by step with
 * tls_store_check() instead of the thread.
 */
#include "common/cert_gen.h"
#include "common/log.h"
#include "common/tls_store.h"
#include "tests/unit/unit.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static char cert_path[128], key_path[128];
static cert_pair ca, one, two;

/* Writes text to path through a temporary file and rename, as Kubernetes and the tests do. */
static int write_atomic(const char *path, const char *text)
{
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.new", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        return -1;
    }
    int ok = fputs(text, f) >= 0;
    ok = fclose(f) == 0 && ok;
    return ok && rename(tmp, path) == 0 ? 0 : -1;
}

static void serial_of(const cert_pair *p, char *out, size_t len)
{
    cert_info info;
    char err[128];
    out[0] = '\0';
    if (cert_pem_info(p->cert_pem, 0, &info, err, sizeof err) == 0) {
        snprintf(out, len, "%s", info.serial_hex);
    }
}

static int setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/aigw-tls-store.XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    snprintf(cert_path, sizeof cert_path, "%s/tls.crt", dir);
    snprintf(key_path, sizeof key_path, "%s/tls.key", dir);
    char err[256];
    const char *dns[] = {"localhost"};
    cert_leaf_spec spec = {NULL, dns, 1, NULL, 0, 1};
    if (cert_gen_ca("test-ca", 1, &ca, err, sizeof err) != 0 ||
        cert_gen_leaf(&ca, &spec, &one, err, sizeof err) != 0 ||
        cert_gen_leaf(&ca, &spec, &two, err, sizeof err) != 0) {
        return -1;
    }
    int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null_fd >= 0) {
        log_set_fd(null_fd); /* refusals are logged; keep the test output readable */
    }
    return 0;
}

static void teardown(void)
{
    log_set_fd(2);
    unlink(cert_path);
    unlink(key_path);
    rmdir(dir);
    cert_pair_free(&ca);
    cert_pair_free(&one);
    cert_pair_free(&two);
}

static void test_files_and_reload(void)
{
    CU_ASSERT_EQUAL_FATAL(setup(), 0);
    CU_ASSERT_EQUAL_FATAL(write_atomic(cert_path, one.cert_pem), 0);
    CU_ASSERT_EQUAL_FATAL(write_atomic(key_path, one.key_pem), 0);
    char err[512] = "";
    tls_store *s = tls_store_open_files("test", cert_path, key_path, 0, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    char want[80], got[80];
    serial_of(&one, want, sizeof want);
    tls_store_serial(s, got, sizeof got);
    CU_ASSERT_STRING_EQUAL(got, want);
    gnutls_pcert_st *pcerts = NULL;
    unsigned n = 0;
    gnutls_privkey_t key = NULL;
    CU_ASSERT_EQUAL(tls_store_select(s, &pcerts, &n, &key), 0);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_PTR_NOT_NULL(pcerts);
    CU_ASSERT_PTR_NOT_NULL(key);
    CU_ASSERT_EQUAL(tls_store_check(s), 0); /* nothing changed */

    /* A new pair: seen once (not yet stable), then loaded. */
    CU_ASSERT_EQUAL_FATAL(write_atomic(key_path, two.key_pem), 0);
    CU_ASSERT_EQUAL_FATAL(write_atomic(cert_path, two.cert_pem), 0);
    CU_ASSERT_EQUAL(tls_store_check(s), 0);
    CU_ASSERT_EQUAL(tls_store_check(s), 1);
    serial_of(&two, want, sizeof want);
    tls_store_serial(s, got, sizeof got);
    CU_ASSERT_STRING_EQUAL(got, want);
    /* The retired credentials stay valid for in-progress handshakes. */
    CU_ASSERT_PTR_NOT_NULL(pcerts[0].pubkey);
    CU_ASSERT_EQUAL(tls_store_check(s), 0);

    /* One's certificate with two's key: refused once, current pair kept. */
    CU_ASSERT_EQUAL_FATAL(write_atomic(cert_path, one.cert_pem), 0);
    CU_ASSERT_EQUAL(tls_store_check(s), 0);
    CU_ASSERT_EQUAL(tls_store_check(s), -1);
    CU_ASSERT_EQUAL(tls_store_check(s), 0); /* the same files are not retried or re-logged */
    tls_store_serial(s, got, sizeof got);
    CU_ASSERT_STRING_EQUAL(got, want);

    /* Not a certificate at all: refused too. */
    CU_ASSERT_EQUAL_FATAL(write_atomic(cert_path, "garbage\n"), 0);
    CU_ASSERT_EQUAL(tls_store_check(s), 0);
    CU_ASSERT_EQUAL(tls_store_check(s), -1);
    tls_store_serial(s, got, sizeof got);
    CU_ASSERT_STRING_EQUAL(got, want);

    /* A missing key file: nothing happens until both exist again. */
    unlink(key_path);
    CU_ASSERT_EQUAL(tls_store_check(s), 0);
    CU_ASSERT_EQUAL(tls_store_check(s), 0);

    /* The matching pair one, both files: loaded. */
    CU_ASSERT_EQUAL_FATAL(write_atomic(key_path, one.key_pem), 0);
    CU_ASSERT_EQUAL_FATAL(write_atomic(cert_path, one.cert_pem), 0);
    CU_ASSERT_EQUAL(tls_store_check(s), 0);
    CU_ASSERT_EQUAL(tls_store_check(s), 1);
    serial_of(&one, want, sizeof want);
    tls_store_serial(s, got, sizeof got);
    CU_ASSERT_STRING_EQUAL(got, want);
    tls_store_close(s);
    teardown();
}

static void test_open_errors(void)
{
    CU_ASSERT_EQUAL_FATAL(setup(), 0);
    char err[512] = "";
    CU_ASSERT_PTR_NULL(tls_store_open_files("t", "/nonexistent/tls.crt", "/nonexistent/tls.key", 0,
                                            err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/tls.crt"));
    CU_ASSERT_PTR_NULL(tls_store_open_files("t", NULL, key_path, 0, err, sizeof err));

    err[0] = '\0';
    CU_ASSERT_PTR_NULL(tls_store_open_pem("t", one.cert_pem, two.key_pem, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "does not match"));
    CU_ASSERT_PTR_NULL(strstr(err, "PRIVATE KEY"));
    CU_ASSERT_PTR_NULL(tls_store_open_pem("t", "junk", one.key_pem, err, sizeof err));
    CU_ASSERT_PTR_NULL(tls_store_open_pem("t", one.cert_pem, "junk", err, sizeof err));
    CU_ASSERT_PTR_NULL(tls_store_open_pem("t", NULL, NULL, err, sizeof err));

    /* A chain (leaf then CA) loads with both certificates. */
    size_t len = strlen(one.cert_pem) + strlen(ca.cert_pem) + 1;
    char *chain = malloc(len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(chain);
    snprintf(chain, len, "%s%s", one.cert_pem, ca.cert_pem);
    tls_store *s = tls_store_open_pem("t", chain, one.key_pem, err, sizeof err);
    free(chain);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    gnutls_pcert_st *pcerts = NULL;
    unsigned n = 0;
    gnutls_privkey_t key = NULL;
    CU_ASSERT_EQUAL(tls_store_select(s, &pcerts, &n, &key), 0);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_EQUAL(tls_store_check(s), 0); /* a PEM store never reloads */
    tls_store_close(s);
    tls_store_close(NULL);
    CU_ASSERT_EQUAL(tls_store_select(NULL, &pcerts, &n, &key), -1);
    teardown();
}

UNIT_SUITE(tls_store, UNIT_CASE(test_files_and_reload), UNIT_CASE(test_open_errors))
