/*
 * tls_store: the serving certificate and key of a TLS server, as GnuTLS
 * credentials, with hot reload from files.
 *
 *   tls_store *s = tls_store_open_files("webhook", "tls.crt", "tls.key", 2000, err, n);
 *   ... at each handshake: tls_store_select(s, &pcerts, &n, &key)
 *   tls_store_close(s);
 *
 * Reload: a thread checks the two files every interval (device, inode, size,
 * mtime of each; Kubernetes' symlink swap of Secret volumes changes them). A
 * change is loaded once it has stayed the same for one interval (so a cert and
 * key written one after the other are read together). A pair that does not
 * load, whose key does not match the certificate, or whose certificate is not
 * valid now is refused: the current pair stays and one error is logged per
 * version of the files (the reason and serial, never key material).
 *
 * Lifetime of credentials: selection is a lock-free atomic load. A reload
 * swaps the pointer and retires the old credentials, which are freed
 * TLS_STORE_RETIRE_GRACE_S later (GnuTLS uses the certificate and key while
 * handling the ClientHello, within the call that selected them, so nothing
 * still uses them then), or at tls_store_close().
 *
 * Ownership: strings are copied; the pointers tls_store_select() returns are
 * borrowed and valid for at least TLS_STORE_RETIRE_GRACE_S.
 */
#ifndef AIGW_COMMON_TLS_STORE_H
#define AIGW_COMMON_TLS_STORE_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include <stddef.h>

#define TLS_STORE_RETIRE_GRACE_S 120

typedef struct tls_store tls_store;

/*
 * Loads the pair from files. interval_ms > 0 starts the reload thread;
 * 0 means no thread (call tls_store_check() yourself, as tests do).
 * At start a certificate that is not valid now is accepted with a warning.
 * NULL with a one-line err on failure.
 */
tls_store *tls_store_open_files(const char *name, const char *cert_file, const char *key_file,
                                unsigned interval_ms, char *err, size_t errlen);

/* A fixed pair from PEM text (copied into credentials; never reloaded). */
tls_store *tls_store_open_pem(const char *name, const char *cert_pem, const char *key_pem,
                              char *err, size_t errlen);

/*
 * One reload step (what the thread does each interval): returns 1 when a new
 * pair was loaded, 0 when nothing changed or the change is not yet stable,
 * -1 when a changed pair was refused (logged). Also frees retired credentials
 * past their grace period. Not for concurrent use with itself.
 */
int tls_store_check(tls_store *s);

/* The current chain and key, for a GnuTLS certificate callback. -1 when none. */
int tls_store_select(tls_store *s, gnutls_pcert_st **pcerts, unsigned *n_pcerts,
                     gnutls_privkey_t *key);

/* The current leaf's serial, uppercase hex (as `openssl x509 -serial` prints it). */
void tls_store_serial(tls_store *s, char *out, size_t outlen);

/* Stops the reload thread and frees everything; NULL is allowed. */
void tls_store_close(tls_store *s);

#endif
