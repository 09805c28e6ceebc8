/*
 * tls_store: serving credentials with hot reload (see tls_store.h). GnuTLS
 * only, so a production server never pulls OpenSSL's code into memory.
 */
#include "common/tls_store.h"
#include "common/errbuf.h"

#include "common/log.h"

#include <gnutls/x509.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_CHAIN 8             /* certificates in the served chain */
#define MAX_CERT_FILE (1 << 20) /* cert and key files larger than this are refused */

typedef struct tls_creds {
    gnutls_pcert_st pcerts[MAX_CHAIN];
    unsigned n_pcerts;
    gnutls_privkey_t key;
    char serial[80];
    time_t retired_at;
    struct tls_creds *next; /* retired list */
} tls_creds;

/* What identifies a version of the cert and key files. */
typedef struct {
    dev_t dev[2];
    ino_t ino[2];
    off_t size[2];
    struct timespec mtime[2];
    int ok;
} file_sig;

struct tls_store {
    char *name;
    char *cert_file, *key_file; /* NULL for a fixed PEM pair */
    unsigned interval_ms;
    _Atomic(tls_creds *) current;
    tls_creds *retired;
    file_sig loaded_sig, seen_sig, failed_sig;
    int wake_fd;
    pthread_t thread;
    int thread_started;
};

static void creds_free(tls_creds *c)
{
    if (c == NULL) {
        return;
    }
    for (unsigned i = 0; i < c->n_pcerts; i++) {
        gnutls_pcert_deinit(&c->pcerts[i]);
    }
    if (c->key != NULL) {
        gnutls_privkey_deinit(c->key);
    }
    free(c);
}

/* The serial as uppercase hex without leading zero bytes (as `openssl x509 -serial`). */
static void serial_hex(gnutls_x509_crt_t crt, char *out, size_t outlen)
{
    unsigned char raw[64];
    size_t len = sizeof raw;
    out[0] = '\0';
    if (gnutls_x509_crt_get_serial(crt, raw, &len) < 0) {
        return;
    }
    size_t i = 0;
    while (i + 1 < len && raw[i] == 0) {
        i++;
    }
    size_t o = 0;
    for (; i < len && o + 3 <= outlen; i++) {
        o += (size_t)snprintf(out + o, outlen - o, "%02X", raw[i]);
    }
}

/* 1 when the private key's public half is the certificate's public key. */
static int key_matches(gnutls_pcert_st *pcert, gnutls_privkey_t key)
{
    gnutls_pubkey_t pub = NULL;
    gnutls_datum_t a = {NULL, 0}, b = {NULL, 0};
    int match = 0;
    if (gnutls_pubkey_init(&pub) >= 0 && gnutls_pubkey_import_privkey(pub, key, 0, 0) >= 0 &&
        gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &a) >= 0 &&
        gnutls_pubkey_export2(pcert->pubkey, GNUTLS_X509_FMT_DER, &b) >= 0) {
        match = a.size == b.size && memcmp(a.data, b.data, a.size) == 0;
    }
    gnutls_free(a.data);
    gnutls_free(b.data);
    if (pub != NULL) {
        gnutls_pubkey_deinit(pub);
    }
    return match;
}

/* Serial and validity of the leaf; -1 when it does not parse. */
static int leaf_info(const gnutls_pcert_st *pcert, char *serial, size_t serial_len,
                     time_t *not_before, time_t *not_after)
{
    gnutls_x509_crt_t crt = NULL;
    if (gnutls_x509_crt_init(&crt) < 0) {
        return -1;
    }
    int rc = -1;
    if (gnutls_x509_crt_import(crt, &pcert->cert, GNUTLS_X509_FMT_DER) >= 0) {
        serial_hex(crt, serial, serial_len);
        *not_before = gnutls_x509_crt_get_activation_time(crt);
        *not_after = gnutls_x509_crt_get_expiration_time(crt);
        rc = 0;
    }
    gnutls_x509_crt_deinit(crt);
    return rc;
}

/*
 * Builds credentials from PEM text: the chain, the key, and checks that the
 * key belongs to the first certificate. `reload` also refuses a certificate
 * that is not valid now (keeping the old one is better). GnuTLS only, so a
 * production server never pulls OpenSSL's code into memory.
 */
static tls_creds *creds_from_pem(const char *cert_pem, const char *key_pem, int reload, char *err,
                                 size_t errlen)
{
    tls_creds *c = calloc(1, sizeof *c);
    if (c == NULL) {
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    gnutls_datum_t cd = {(unsigned char *)(uintptr_t)cert_pem, (unsigned)strlen(cert_pem)};
    unsigned n = MAX_CHAIN;
    int rc = gnutls_pcert_list_import_x509_raw(c->pcerts, &n, &cd, GNUTLS_X509_FMT_PEM, 0);
    if (rc < 0 || n == 0) {
        free(c);
        errbuf_set(err, errlen, "certificate: %s", rc < 0 ? gnutls_strerror(rc) : "none found");
        return NULL;
    }
    c->n_pcerts = n;
    gnutls_datum_t kd = {(unsigned char *)(uintptr_t)key_pem, (unsigned)strlen(key_pem)};
    rc = gnutls_privkey_init(&c->key);
    if (rc >= 0) {
        rc = gnutls_privkey_import_x509_raw(c->key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0);
    }
    if (rc < 0) {
        creds_free(c);
        errbuf_set(err, errlen, "private key: %s", gnutls_strerror(rc));
        return NULL;
    }
    time_t not_before = 0, not_after = 0;
    if (leaf_info(&c->pcerts[0], c->serial, sizeof c->serial, &not_before, &not_after) != 0) {
        creds_free(c);
        errbuf_set(err, errlen, "certificate does not parse");
        return NULL;
    }
    if (!key_matches(&c->pcerts[0], c->key)) {
        errbuf_set(err, errlen, "private key does not match the certificate (serial %s)",
                   c->serial);
        creds_free(c);
        return NULL;
    }
    time_t now = time(NULL);
    if (now < not_before || now > not_after) {
        if (reload) {
            errbuf_set(err, errlen, "certificate (serial %s) is not valid now", c->serial);
            creds_free(c);
            return NULL;
        }
        log_warn("TLS certificate is not valid now", "serial", c->serial, (char *)NULL);
    }
    return c;
}

/* Reads a whole (small) file. Caller frees (and cleanses, for keys). */
static char *read_small_file(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 8192, len = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        if (len + 1 == cap) {
            char *nb = cap < MAX_CERT_FILE ? realloc(buf, cap * 2) : NULL;
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                errbuf_set(err, errlen, "%s: too large or out of memory", path);
                break;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
            free(buf);
            buf = NULL;
            break;
        }
        if (r == 0) {
            buf[len] = '\0';
            break;
        }
        len += (size_t)r;
    }
    if (buf == NULL && (err == NULL || err[0] == '\0')) {
        errbuf_set(err, errlen, "%s: out of memory", path);
    }
    close(fd);
    return buf;
}

static void cleanse_free(char *s)
{
    if (s != NULL) {
        volatile char *p = s;
        while (*p != '\0') {
            *p++ = '\0';
        }
        free(s);
    }
}

static tls_creds *creds_from_files(const tls_store *s, int reload, char *err, size_t errlen)
{
    char *cert = read_small_file(s->cert_file, err, errlen);
    if (cert == NULL) {
        return NULL;
    }
    char *key = read_small_file(s->key_file, err, errlen);
    tls_creds *c = NULL;
    if (key != NULL) {
        char why[300] = "";
        c = creds_from_pem(cert, key, reload, why, sizeof why);
        if (c == NULL) {
            errbuf_set(err, errlen, "%s", why);
        }
    }
    cleanse_free(key);
    free(cert);
    return c;
}

static file_sig files_stat(const tls_store *s)
{
    file_sig sig;
    memset(&sig, 0, sizeof sig);
    const char *paths[2] = {s->cert_file, s->key_file};
    sig.ok = 1;
    for (int i = 0; i < 2; i++) {
        struct stat st;
        if (stat(paths[i], &st) != 0) {
            sig.ok = 0;
            continue;
        }
        sig.dev[i] = st.st_dev;
        sig.ino[i] = st.st_ino;
        sig.size[i] = st.st_size;
        sig.mtime[i] = st.st_mtim;
    }
    return sig;
}

static int sig_equal(const file_sig *a, const file_sig *b)
{
    for (int i = 0; i < 2; i++) {
        if (a->dev[i] != b->dev[i] || a->ino[i] != b->ino[i] || a->size[i] != b->size[i] ||
            a->mtime[i].tv_sec != b->mtime[i].tv_sec ||
            a->mtime[i].tv_nsec != b->mtime[i].tv_nsec) {
            return 0;
        }
    }
    return a->ok == b->ok;
}

/* Frees retired credentials older than the grace period (all of them when `all`). */
static void reap_retired(tls_store *s, int all)
{
    time_t now = time(NULL);
    tls_creds **pp = &s->retired;
    while (*pp != NULL) {
        tls_creds *c = *pp;
        if (all || now - c->retired_at >= TLS_STORE_RETIRE_GRACE_S) {
            *pp = c->next;
            creds_free(c);
        } else {
            pp = &c->next;
        }
    }
}

int tls_store_check(tls_store *s)
{
    reap_retired(s, 0);
    if (s->cert_file == NULL) {
        return 0;
    }
    file_sig sig = files_stat(s);
    int stable = sig_equal(&sig, &s->seen_sig);
    s->seen_sig = sig;
    /* Load a change only once it has stayed the same for one interval (both files written). */
    if (!stable || !sig.ok || sig_equal(&sig, &s->loaded_sig) || sig_equal(&sig, &s->failed_sig)) {
        return 0;
    }
    char err[400] = "";
    tls_creds *c = creds_from_files(s, 1, err, sizeof err);
    if (c == NULL) {
        s->failed_sig = sig; /* log once per version of the files */
        log_error("TLS pair not reloaded; keeping the current one", "server", s->name, "error", err,
                  "cert", s->cert_file, "key", s->key_file, (char *)NULL);
        return -1;
    }
    tls_creds *old = atomic_exchange_explicit(&s->current, c, memory_order_acq_rel);
    s->loaded_sig = sig;
    if (old != NULL) {
        old->retired_at = time(NULL);
        old->next = s->retired;
        s->retired = old;
    }
    log_info("TLS pair reloaded", "server", s->name, "serial", c->serial, "previous_serial",
             old != NULL ? old->serial : NULL, (char *)NULL);
    return 1;
}

static void *reloader_main(void *arg)
{
    tls_store *s = arg;
    struct pollfd pfd = {s->wake_fd, POLLIN, 0};
    for (;;) {
        int r = poll(&pfd, 1, (int)s->interval_ms);
        if (r > 0) {
            break; /* woken by tls_store_close */
        }
        tls_store_check(s);
    }
    return NULL;
}

static tls_store *store_new(const char *name)
{
    tls_store *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return NULL;
    }
    s->wake_fd = -1;
    s->name = strdup(name != NULL ? name : "tls");
    if (s->name == NULL) {
        free(s);
        return NULL;
    }
    return s;
}

tls_store *tls_store_open_files(const char *name, const char *cert_file, const char *key_file,
                                unsigned interval_ms, char *err, size_t errlen)
{
    if (cert_file == NULL || key_file == NULL) {
        errbuf_set(err, errlen, "TLS needs both a certificate file and a key file");
        return NULL;
    }
    tls_store *s = store_new(name);
    if (s == NULL) {
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    s->cert_file = strdup(cert_file);
    s->key_file = strdup(key_file);
    s->interval_ms = interval_ms;
    if (s->cert_file == NULL || s->key_file == NULL) {
        errbuf_set(err, errlen, "out of memory");
        tls_store_close(s);
        return NULL;
    }
    s->loaded_sig = files_stat(s);
    s->seen_sig = s->loaded_sig;
    char why[400] = "";
    tls_creds *c = creds_from_files(s, 0, why, sizeof why);
    if (c == NULL) {
        errbuf_set(err, errlen, "TLS pair: %s", why);
        tls_store_close(s);
        return NULL;
    }
    atomic_store(&s->current, c);
    log_info("TLS pair loaded", "server", s->name, "serial", c->serial, "cert", cert_file,
             (char *)NULL);
    if (interval_ms > 0) {
        s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (s->wake_fd < 0 || pthread_create(&s->thread, NULL, reloader_main, s) != 0) {
            errbuf_set(err, errlen, "cannot start the certificate reload thread");
            tls_store_close(s);
            return NULL;
        }
        s->thread_started = 1;
    }
    return s;
}

tls_store *tls_store_open_pem(const char *name, const char *cert_pem, const char *key_pem,
                              char *err, size_t errlen)
{
    if (cert_pem == NULL || key_pem == NULL) {
        errbuf_set(err, errlen, "TLS needs a certificate and a key");
        return NULL;
    }
    tls_store *s = store_new(name);
    if (s == NULL) {
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    char why[400] = "";
    tls_creds *c = creds_from_pem(cert_pem, key_pem, 0, why, sizeof why);
    if (c == NULL) {
        errbuf_set(err, errlen, "TLS pair: %s", why);
        tls_store_close(s);
        return NULL;
    }
    atomic_store(&s->current, c);
    log_info("TLS pair loaded", "server", s->name, "serial", c->serial, (char *)NULL);
    return s;
}

int tls_store_select(tls_store *s, gnutls_pcert_st **pcerts, unsigned *n_pcerts,
                     gnutls_privkey_t *key)
{
    tls_creds *c = s != NULL ? atomic_load_explicit(&s->current, memory_order_acquire) : NULL;
    if (c == NULL) {
        return -1;
    }
    *pcerts = c->pcerts;
    *n_pcerts = c->n_pcerts;
    *key = c->key;
    return 0;
}

void tls_store_serial(tls_store *s, char *out, size_t outlen)
{
    tls_creds *c = s != NULL ? atomic_load_explicit(&s->current, memory_order_acquire) : NULL;
    snprintf(out, outlen, "%s", c != NULL ? c->serial : "");
}

void tls_store_close(tls_store *s)
{
    if (s == NULL) {
        return;
    }
    if (s->thread_started) {
        uint64_t one = 1;
        (void)write(s->wake_fd, &one, sizeof one);
        pthread_join(s->thread, NULL);
    }
    if (s->wake_fd >= 0) {
        close(s->wake_fd);
    }
    creds_free(atomic_load(&s->current));
    reap_retired(s, 1);
    free(s->cert_file);
    free(s->key_file);
    free(s->name);
    free(s);
}
