/*
 * validate: the admission rules of DESIGN §3 for both policy kinds.
 *
 *   policy_routing_validate / policy_access_validate   pure rules on a parsed policy
 *   policy_routing_check_refs / policy_access_check_refs   rules that read other
 *       objects through an object_source (Secrets, the trust bundle, other
 *       policies), ratcheted on UPDATE
 *   policy_validate_object   the whole pipeline the webhook and `aigw validate`
 *       share: kind, deletion / metadata-only bypass, parse, rules, lookups
 *
 * Errors accumulate in a field_errors list (path, type, value, detail), advice
 * in a policy_warnings list (short, one line, no Secret value ever). A lookup
 * that fails or runs past the deadline never denies: it becomes a warning that
 * names the check that could not run (the reconciler reports it later).
 *
 * Ownership: policy_warnings owns its strings; free with policy_warnings_free().
 * Everything else is borrowed. The pure functions do no I/O and keep no state.
 */
#ifndef AIGW_POLICY_VALIDATE_H
#define AIGW_POLICY_VALIDATE_H

#include "common/field_errors.h"
#include "common/object_source.h"
#include "policy/policy.h"

#include <jansson.h>
#include <stdint.h>

typedef struct {
    char **items;
    size_t len;
    size_t cap;
    int oom;
} policy_warnings;

void policy_warnings_init(policy_warnings *w);
void policy_warnings_free(policy_warnings *w);
/* Adds a warning (printf-style); an identical warning is not added twice. */
void policy_warnings_add(policy_warnings *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Pure rules (DESIGN §3) on a parsed AIRoutingPolicy. */
void policy_routing_validate(const policy_routing *p, field_errors *errs, policy_warnings *warns);

/* Pure rules on a parsed AIAccessPolicy. */
void policy_access_validate(const policy_access *p, field_errors *errs, policy_warnings *warns);

/* 1 when `td` is a valid SPIFFE trust domain name; else 0 and a reason in why. */
int policy_trust_domain_valid(const char *td, const char **why);

/* How cross-object checks reach the cluster. */
typedef struct {
    object_source *src;  /* NULL: cross-object checks are skipped (the caller says so) */
    int64_t deadline_ms; /* absolute objsrc_now_ms() deadline shared by every lookup; 0 none */
    int64_t now;         /* Unix seconds, for certificate and bundle validity */
} policy_lookup;

/*
 * Cross-object rules of an AIRoutingPolicy: credential Secrets exist and hold
 * a non-empty value under the named key; no model name is already served on
 * the same Gateway by another AIRoutingPolicy. `old` is the policy before an
 * UPDATE (NULL on CREATE): then only the parts whose spec changed are looked
 * up (ratcheting). Objects with the policy's own namespace/name are ignored.
 */
void policy_routing_check_refs(const policy_routing *p, const policy_routing *old,
                               const policy_lookup *lk, field_errors *errs, policy_warnings *warns);

/*
 * Cross-object rules of an AIAccessPolicy: no other AIAccessPolicy targets the
 * same Gateway; serverCertRef is a Secret with a matching tls.crt/tls.key pair
 * and a ca.crt; bundle health (missing ConfigMap = warning; key missing,
 * unparseable, or no CA valid now = error; expired CAs or one expiring within
 * 24 h = warning). Ratcheted like policy_routing_check_refs.
 */
void policy_access_check_refs(const policy_access *p, const policy_access *old,
                              const policy_lookup *lk, field_errors *errs, policy_warnings *warns);

/*
 * The whole admission pipeline for one object (the webhook and the CLI call
 * this). `old_obj` is the object before an UPDATE, or NULL. `lk` may be NULL
 * or have a NULL src: cross-object checks are then skipped. An object with
 * metadata.deletionTimestamp, or an UPDATE whose spec is unchanged
 * (metadata/finalizers/status only), is admitted without checks.
 * Returns the object's kind (POLICY_KIND_UNKNOWN: not ours, nothing checked),
 * or -1 on allocation failure.
 */
int policy_validate_object(const json_t *obj, const json_t *old_obj, const policy_lookup *lk,
                           field_errors *errs, policy_warnings *warns);

#endif
