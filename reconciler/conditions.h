/*
 * conditions: the policies' status of DESIGN §2, built as plain JSON.
 *
 * A status_builder starts from the policy's current status (for the
 * lastTransitionTime of conditions whose status does not change), collects
 * this reconcile's conditions and the providers[] / models[] / bundle /
 * endpoint fields, and finishes with Programmed (True when every other
 * condition is True, else False with the first failing one's reason and
 * message) and observedGeneration. status_equal() tells whether the result
 * differs from the live status, so an unchanged status is never written.
 *
 * Pure: no I/O, no globals; `now` is passed in. Ownership: the builder copies
 * what it is given; status_builder_finish() hands the caller a new reference.
 * Functions returning int give 0 on success, -1 on allocation failure.
 */
#ifndef AIGW_RECONCILER_CONDITIONS_H
#define AIGW_RECONCILER_CONDITIONS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Condition types. */
#define COND_ACCEPTED "Accepted"
#define COND_GATEWAY_BOUND "GatewayBound"
#define COND_PROVIDERS_CONFIGURED "ProvidersConfigured"
#define COND_ROUTING_ACTIVE "RoutingActive"
#define COND_BUNDLE_READY "BundleReady"
#define COND_MTLS_ACTIVE "MTLSActive"
#define COND_PROGRAMMED "Programmed"

/* Reasons (the positive ones first, then the failures per type). */
#define REASON_ACCEPTED "Accepted"
#define REASON_INVALID_SPEC "InvalidSpec"
#define REASON_CONFLICTED "Conflicted"
#define REASON_GATEWAY_BOUND "GatewayBound"
#define REASON_GATEWAY_NOT_FOUND "GatewayNotFound"
#define REASON_PROVIDERS_CONFIGURED "ProvidersConfigured"
#define REASON_PARTIAL_FAILURE "PartialFailure"
#define REASON_APPLY_FAILED "ApplyFailed"
#define REASON_CREDENTIAL_SECRET_NOT_FOUND "CredentialSecretNotFound"
#define REASON_NAME_CONFLICT "NameConflict"
#define REASON_ROUTING_ACTIVE "RoutingActive"
#define REASON_LOADED "Loaded"
#define REASON_BUNDLE_NOT_FOUND "BundleNotFound"
#define REASON_BUNDLE_EMPTY "BundleEmpty"
#define REASON_BUNDLE_PARSE_ERROR "BundleParseError"
#define REASON_APPLIED "Applied"
#define REASON_CERT_GENERATION_FAILED "CertGenerationFailed"
#define REASON_LISTENER_NOT_HTTPS "ListenerNotHTTPS"
#define REASON_PROGRAMMED "Programmed"

/* metav1.Condition.message limit. */
#define COND_MESSAGE_MAX 32768

typedef enum { STATUS_KIND_ROUTING = 0, STATUS_KIND_ACCESS = 1 } status_kind;

typedef struct {
    status_kind kind;
    int64_t generation;
    char now[32];       /* RFC 3339, UTC, seconds */
    json_t *old_conds;  /* borrowed reference into old status (may be NULL) */
    json_t *old_status; /* own copy of the live status (may be NULL) */
    json_t *conds;      /* conditions set in this pass */
    json_t *extra;      /* providers/models/bundle/endpoint */
    int failed;         /* an allocation failed on the way */
} status_builder;

/* Formats t as "2026-11-28T15:10:49Z" into buf (>= 21 bytes). */
void cond_format_time(time_t t, char *buf, size_t len);

/* True when `reason` matches metav1.Condition's reason pattern. */
bool cond_reason_valid(const char *reason);

/* Starts a builder; `live_status` (borrowed, may be NULL) is the object's current status. */
int status_builder_init(status_builder *b, status_kind kind, const json_t *live_status,
                        int64_t generation, time_t now);

/* Releases everything the builder holds (safe after finish). */
void status_builder_free(status_builder *b);

/*
 * Sets one condition (status "True" when ok, else "False"). The message is
 * printf-style and cut at COND_MESSAGE_MAX bytes. Setting a type twice keeps
 * the last call.
 */
int status_builder_condition(status_builder *b, const char *type, bool ok, const char *reason,
                             const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Status of a condition set in this pass: 1 True, 0 False, -1 not set. */
int status_builder_get(const status_builder *b, const char *type);

/* Sets a top-level status field (providers, models, bundle, endpoint); `value` is stolen. */
int status_builder_field(status_builder *b, const char *field, json_t *value);

/*
 * Adds Programmed and observedGeneration, orders the conditions canonically
 * for the kind, and returns the new status (new reference), or NULL on
 * allocation failure. The builder is empty afterwards.
 */
json_t *status_builder_finish(status_builder *b);

/* {name, ready, error?}: one providers[] / models[] entry (error omitted when NULL). */
json_t *status_item_new(const char *name, bool ready, const char *error);

/* {certificates, expired, nextExpiry?}: the bundle summary (nextExpiry omitted when NULL). */
json_t *status_bundle_new(int certificates, int expired, const char *next_expiry);

/* True when the two statuses are the same (NULL equals an empty object): no write needed. */
bool status_equal(const json_t *a, const json_t *b);

/* Looks a condition up in a status object (borrowed; NULL when absent). */
const json_t *status_find_condition(const json_t *status, const char *type);

#endif
