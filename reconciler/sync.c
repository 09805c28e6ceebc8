/*
 * sync: one reconcile of one policy (DESIGN §5): read desired state, compare
 * with the live objects, apply what changed, delete what is no longer
 * wanted, report conditions. Called by the controller's workers; only the
 * leader gets here.
 *
 * Reads come from the controller's caches (reflectors) wherever a kind is
 * cached; Secrets are read by name and dropped after the reconcile. Writes
 * are server-side applies skipped when the live object already carries the
 * hash of what would be sent (reconciler/apply.h), deletes of objects owned by
 * the policy's uid, the status subresource when it changed, and Events.
 */
#include "common/field_errors.h"
#include "common/log.h"
#include "common/spiffe_bundle.h"
#include "policy/policy.h"
#include "policy/validate.h"
#include "reconciler/apply.h"
#include "reconciler/conditions.h"
#include "reconciler/controller_state.h"
#include "reconciler/envoy/render.h"
#include "reconciler/intent.h"
#include "reconciler/objname.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIELD_MANAGER "aigw"
#define ERRLEN 640

/* One reconcile's context. */
typedef struct {
    controller *c;
    const json_t *obj;
    const char *kind, *ns, *name, *uid, *api_version;
    char key[512];
    bool transient; /* a retryable failure happened: requeue with backoff */
} sync_ctx;

/* What applying the desired objects gave, per object name. */
typedef struct {
    json_t *failures; /* name -> {"kind","reason","message"} */
    int n_failed;
} apply_report;

const char *sync_result_name(sync_result r)
{
    switch (r) {
    case SYNC_OK:
        return "success";
    case SYNC_RETRY:
        return "error";
    case SYNC_INVALID:
        return "invalid";
    case SYNC_CONFLICT:
        return "conflict";
    case SYNC_GONE:
        return "deleted";
    }
    return "unknown";
}

static const char *meta_str(const json_t *obj, const char *field)
{
    return json_string_value(json_object_get(json_object_get(obj, "metadata"), field));
}

static bool kube_transient(const kube_error *ke)
{
    return ke->http_code == 0 || ke->http_code == 409 || ke->http_code == 429 ||
           ke->http_code >= 500;
}

/* ---------------------------------------------------------------- events */

static void event_time(char *buf, size_t len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    leader_format_microtime(&ts, buf, len);
}

/*
 * Reports a Warning Event on the policy, once per (reason, message) in a row:
 * a problem that persists across resyncs is not reported again (no write).
 */
static void emit_event(sync_ctx *s, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void emit_event(sync_ctx *s, const char *reason, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char sig[1200];
    snprintf(sig, sizeof sig, "%s\n%s", reason, msg);
    controller *c = s->c;
    pthread_mutex_lock(&c->ev_mu);
    const char *last = json_string_value(json_object_get(c->ev_last, s->key));
    bool dup = last && strcmp(last, sig) == 0;
    if (!dup) {
        json_object_set_new(c->ev_last, s->key, json_string(sig));
    }
    pthread_mutex_unlock(&c->ev_mu);
    if (dup) {
        return;
    }
    char now[40];
    event_time(now, sizeof now);
    char gen_name[300];
    snprintf(gen_name, sizeof gen_name, "%.240s.", s->name);
    json_t *ev = json_pack(
        "{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s?}, s:s, s:s, s:s, s:{s:s}, s:s, "
        "s:s, s:i, s:s, s:s, s:s}",
        "apiVersion", "v1", "kind", "Event", "metadata", "generateName", gen_name, "namespace",
        s->ns, "involvedObject", "apiVersion", s->api_version, "kind", s->kind, "name", s->name,
        "namespace", s->ns, "uid", s->uid, "reason", reason, "message", msg, "type", "Warning",
        "source", "component", "aigw-reconciler", "firstTimestamp", now, "lastTimestamp", now,
        "count", 1, "reportingComponent", "aigw-reconciler", "reportingInstance", c->identity,
        "action", "Reconcile");
    if (!ev) {
        return;
    }
    /* eventTime must be a MicroTime; firstTimestamp/lastTimestamp are Times */
    char t[32];
    snprintf(t, sizeof t, "%.19sZ", now);
    json_object_set_new(ev, "firstTimestamp", json_string(t));
    json_object_set_new(ev, "lastTimestamp", json_string(t));
    json_t *out = NULL;
    kube_error ke;
    if (kube_create(c->kc, ev, &out, &ke) != 0) {
        char buf[ERRLEN];
        log_warn("reconcile: cannot record event", "policy", s->key, "reason", reason, "error",
                 kube_error_format(&ke, buf, sizeof buf), (char *)NULL);
    }
    json_decref(out);
    json_decref(ev);
}

/* A healthy policy forgets its last event, so a recurrence is reported again. */
static void clear_event(sync_ctx *s)
{
    pthread_mutex_lock(&s->c->ev_mu);
    json_object_del(s->c->ev_last, s->key);
    pthread_mutex_unlock(&s->c->ev_mu);
}

/* ------------------------------------------------------------ live reads */

static int watch_of_kind(const char *api_version, const char *kind)
{
    for (int i = 0; i < W_COUNT; i++) {
        if (strcmp(controller_watches[i].kind, kind) == 0 &&
            strcmp(controller_watches[i].api_version, api_version) == 0) {
            return i;
        }
    }
    return -1;
}

/*
 * The live object (new reference) or NULL when absent. The cache answers for
 * cached kinds; an object not in a label-filtered cache may still exist
 * without our label (a name conflict), so that case asks the API server.
 * Returns -1 on a read error.
 */
static int live_get(sync_ctx *s, const char *api_version, const char *kind, const char *ns,
                    const char *name, json_t **out)
{
    *out = NULL;
    int w = watch_of_kind(api_version, kind);
    if (w >= 0) {
        *out = kube_reflector_get_shared(s->c->refl[w], ns, name);
        if (*out || !controller_watches[w].label_selector) {
            return 0;
        }
    }
    kube_error ke;
    if (kube_get(s->c->kc, api_version, kind, ns, name, out, &ke) == 0) {
        return 0;
    }
    if (ke.http_code == 404) {
        return 0;
    }
    char buf[ERRLEN];
    log_warn("reconcile: read failed", "kind", kind, "name", name, "error",
             kube_error_format(&ke, buf, sizeof buf), (char *)NULL);
    return -1;
}

/* --------------------------------------------------------------- writes */

static void report_failure(apply_report *rep, const char *kind, const char *name,
                           const char *reason, const char *message)
{
    json_t *f = json_pack("{s:s, s:s, s:s}", "kind", kind, "reason", reason, "message", message);
    if (f) {
        json_object_set_new(rep->failures, name, f);
    }
    rep->n_failed++;
}

/* Applies one desired object unless the live one already holds it. */
static void apply_object(sync_ctx *s, const json_t *desired, apply_report *rep)
{
    const char *kind = json_string_value(json_object_get(desired, "kind"));
    const char *av = json_string_value(json_object_get(desired, "apiVersion"));
    const char *name = meta_str(desired, "name");
    const char *ns = meta_str(desired, "namespace");
    if (!kind || !av || !name) {
        return;
    }
    json_t *stamped = apply_stamp(desired);
    json_t *live = NULL;
    char msg[ERRLEN];
    if (!stamped) {
        s->transient = true;
        report_failure(rep, kind, name, REASON_APPLY_FAILED, "out of memory");
        return;
    }
    /*
     * An uncached kind (Secret): the metadata the Secret watch keeps of aigw's
     * own Secrets tells when it already holds this content; then no read.
     */
    if (watch_of_kind(av, kind) < 0 &&
        owned_index_holds(s->c->owned, kind, ns ? ns : s->ns, name, s->uid,
                          json_string_value(json_object_get(
                              json_object_get(json_object_get(stamped, "metadata"), "annotations"),
                              APPLY_HASH_ANNOTATION)))) {
        json_decref(stamped);
        return;
    }
    if (live_get(s, av, kind, ns ? ns : s->ns, name, &live) != 0) {
        s->transient = true;
        snprintf(msg, sizeof msg, "%s %s: cannot read the live object", kind, name);
        report_failure(rep, kind, name, REASON_APPLY_FAILED, msg);
        json_decref(stamped);
        return;
    }
    char why[512];
    apply_decision d = apply_decide(stamped, live, s->uid, why, sizeof why);
    json_decref(live);
    if (d == APPLY_CONFLICT) {
        report_failure(rep, kind, name, REASON_NAME_CONFLICT, why);
        emit_event(s, REASON_NAME_CONFLICT, "%s", why);
    } else if (d != APPLY_SKIP) {
        json_t *out = NULL;
        kube_error ke;
        controller_note_write(s->c, stamped);
        if (kube_apply(s->c->kc, stamped, FIELD_MANAGER, 1, &out, &ke) != 0) {
            char buf[ERRLEN];
            snprintf(msg, sizeof msg, "apply %s %s: %s", kind, name,
                     kube_error_format(&ke, buf, sizeof buf));
            report_failure(rep, kind, name, REASON_APPLY_FAILED, msg);
            emit_event(s, REASON_APPLY_FAILED, "%s", msg);
            if (kube_transient(&ke)) {
                s->transient = true;
            }
        }
        json_decref(out);
    }
    json_decref(stamped);
}

static void apply_all(sync_ctx *s, const json_t *desired, apply_report *rep)
{
    size_t i;
    const json_t *d;
    json_array_foreach(desired, i, d)
    {
        apply_object(s, d, rep);
    }
}

/* Deletes the objects owned by this policy's uid that `desired` no longer lists. */
static void delete_stale(sync_ctx *s, const json_t *desired)
{
    json_t *owned = owned_index_list(s->c->owned, s->uid);
    if (!owned) {
        s->transient = true;
        return;
    }
    size_t i;
    const json_t *o;
    json_array_foreach(owned, i, o)
    {
        const char *kind = json_string_value(json_object_get(o, "kind"));
        const char *name = json_string_value(json_object_get(o, "name"));
        bool wanted = false;
        size_t j;
        const json_t *d;
        json_array_foreach(desired, j, d)
        {
            if (strcmp(json_string_value(json_object_get(d, "kind")), kind) == 0 &&
                strcmp(meta_str(d, "name"), name) == 0) {
                wanted = true;
                break;
            }
        }
        if (wanted) {
            continue;
        }
        kube_error ke;
        if (kube_delete(s->c->kc, json_string_value(json_object_get(o, "apiVersion")), kind,
                        json_string_value(json_object_get(o, "namespace")), name, "Background",
                        &ke) != 0 &&
            ke.http_code != 404) {
            char buf[ERRLEN];
            log_warn("reconcile: delete failed", "policy", s->key, "kind", kind, "name", name,
                     "error", kube_error_format(&ke, buf, sizeof buf), (char *)NULL);
            s->transient = true;
        } else {
            log_info("reconcile: deleted object no longer wanted", "policy", s->key, "kind", kind,
                     "name", name, (char *)NULL);
        }
    }
    json_decref(owned);
}

/* Writes status through the status subresource when it changed. */
static void write_status(sync_ctx *s, json_t *status)
{
    const json_t *old = json_object_get(s->obj, "status");
    if (!status) {
        s->transient = true;
        return;
    }
    if (status_equal(old, status)) {
        json_decref(status);
        return;
    }
    /* merge patch: fields that disappeared are set to null */
    json_t *body = json_deep_copy(status);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)old, k, v)
    {
        if (body && !json_object_get(body, k)) {
            json_object_set_new(body, k, json_null());
        }
    }
    json_t *patch = body ? json_pack("{s:o}", "status", body) : NULL;
    kube_error ke;
    if (!patch || kube_merge_patch(s->c->kc, s->api_version, s->kind, s->ns, s->name, "status",
                                   patch, NULL, &ke) != 0) {
        if (patch && ke.http_code != 404) {
            char buf[ERRLEN];
            log_warn("reconcile: status write failed", "policy", s->key, "error",
                     kube_error_format(&ke, buf, sizeof buf), (char *)NULL);
            s->transient = true;
        }
    }
    json_decref(patch);
    json_decref(status);
}

/* ------------------------------------------------------------ validation */

/* Accepted=False InvalidSpec with every field error; returns SYNC_INVALID. */
static sync_result report_invalid(sync_ctx *s, status_builder *b, const field_errors *errs)
{
    char *msg = field_errors_join(errs);
    status_builder_condition(b, COND_ACCEPTED, false, REASON_INVALID_SPEC, "%s",
                             msg ? msg : "invalid spec");
    emit_event(s, REASON_INVALID_SPEC, "%.900s", msg ? msg : "invalid spec");
    free(msg);
    write_status(s, status_builder_finish(b));
    return SYNC_INVALID;
}

static bool deleting(const json_t *obj)
{
    return json_object_get(json_object_get(obj, "metadata"), "deletionTimestamp") != NULL;
}

static const char *target_name(const json_t *obj)
{
    return json_string_value(
        json_object_get(json_object_get(json_object_get(obj, "spec"), "targetRef"), "name"));
}

/* ---------------------------------------------------------------- routing */

/* The referenced Secrets of a policy that exist (read now, dropped after the reconcile). */
static json_t *read_secrets(sync_ctx *s)
{
    json_t *refs = ref_index_refs_of(s->obj);
    json_t *out = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(refs, i, r)
    {
        const char *ref = json_string_value(r);
        if (strncmp(ref, "Secret/", 7) != 0) {
            continue;
        }
        const char *name = strrchr(ref, '/') + 1;
        json_t *sec = NULL;
        if (live_get(s, "v1", "Secret", s->ns, name, &sec) != 0) {
            s->transient = true;
        }
        if (sec) {
            json_array_append_new(out, sec);
        }
    }
    json_decref(refs);
    return out;
}

static bool gateway_has_access_policy(sync_ctx *s)
{
    return ref_index_gateway_has(s->c->refs, KIND_ACCESS, s->ns, target_name(s->obj));
}

static const json_t *failure_of(const apply_report *rep, const char *name)
{
    return name ? json_object_get(rep->failures, name) : NULL;
}

/* Provider status and the ProvidersConfigured condition. */
static void routing_providers_status(status_builder *b, const intent_routing *ir,
                                     const apply_report *rep, bool *ready)
{
    json_t *items = json_array();
    const char *first_reason = NULL;
    char first_msg[ERRLEN] = "";
    bool mixed = false;
    size_t n_bad = 0;
    for (size_t i = 0; i < ir->n_providers; i++) {
        const intent_provider *p = &ir->providers[i];
        const char *reason = p->error_reason;
        const char *err = p->error;
        const json_t *f = failure_of(rep, p->object_name);
        if (!f) {
            f = failure_of(rep, p->derived_secret);
        }
        if (!err && f) {
            reason = json_string_value(json_object_get(f, "reason"));
            err = json_string_value(json_object_get(f, "message"));
        }
        ready[i] = err == NULL;
        json_array_append_new(items, status_item_new(p->name, ready[i], err));
        if (!ready[i]) {
            n_bad++;
            reason = reason ? reason : REASON_APPLY_FAILED;
            if (!first_reason) {
                first_reason = reason;
                snprintf(first_msg, sizeof first_msg, "provider %s: %s", p->name, err);
            } else if (strcmp(first_reason, reason) != 0) {
                mixed = true;
            }
        }
    }
    status_builder_field(b, "providers", items);
    if (n_bad == 0) {
        status_builder_condition(b, COND_PROVIDERS_CONFIGURED, true, REASON_PROVIDERS_CONFIGURED,
                                 "%zu provider(s) configured", ir->n_providers);
    } else if (mixed) {
        status_builder_condition(b, COND_PROVIDERS_CONFIGURED, false, REASON_PARTIAL_FAILURE,
                                 "%zu of %zu provider(s) not ready; first: %s", n_bad,
                                 ir->n_providers, first_msg);
    } else {
        if (n_bad > 1) {
            status_builder_condition(b, COND_PROVIDERS_CONFIGURED, false, first_reason,
                                     "%s (and %zu more)", first_msg, n_bad - 1);
        } else {
            status_builder_condition(b, COND_PROVIDERS_CONFIGURED, false, first_reason, "%s",
                                     first_msg);
        }
    }
}

/* Model status and the RoutingActive condition. */
static void routing_models_status(status_builder *b, const intent_routing *ir,
                                  const apply_report *rep, const bool *prov_ready)
{
    json_t *items = json_array();
    const json_t *route_fail = NULL;
    const char *route_fail_name = NULL;
    for (size_t r = 0; r < ir->n_routes; r++) {
        const intent_route *rt = &ir->routes[r];
        const json_t *f = failure_of(rep, rt->name);
        if (f && !route_fail) {
            route_fail = f;
            route_fail_name = rt->name;
        }
        for (size_t m = 0; m < rt->n_models; m++) {
            const intent_model *md = &rt->models[m];
            bool any = false;
            const char *bad = NULL;
            for (size_t k = 0; k < md->n_backends; k++) {
                size_t pi = md->backends[k].provider;
                if (pi < ir->n_providers && prov_ready[pi]) {
                    any = true;
                } else if (pi < ir->n_providers && !bad) {
                    bad = ir->providers[pi].name;
                }
            }
            char err[ERRLEN];
            const char *e = NULL;
            if (f) {
                snprintf(err, sizeof err, "route %s: %s", rt->name,
                         json_string_value(json_object_get(f, "message")));
                e = err;
            } else if (!any) {
                snprintf(err, sizeof err, "no ready backend (provider %s not ready)",
                         bad ? bad : "?");
                e = err;
            }
            json_array_append_new(items, status_item_new(md->name, e == NULL, e));
        }
    }
    status_builder_field(b, "models", items);
    if (route_fail) {
        status_builder_condition(b, COND_ROUTING_ACTIVE, false,
                                 json_string_value(json_object_get(route_fail, "reason")),
                                 "route %s: %s", route_fail_name,
                                 json_string_value(json_object_get(route_fail, "message")));
    } else {
        status_builder_condition(b, COND_ROUTING_ACTIVE, true, REASON_ROUTING_ACTIVE,
                                 "%zu route(s) programmed", ir->n_routes);
    }
}

static sync_result sync_routing(sync_ctx *s, status_builder *b)
{
    if (deleting(s->obj)) {
        json_t *none = json_array();
        delete_stale(s, none); /* the garbage collector would too; do not wait for it */
        json_decref(none);
        status_builder_free(b);
        return s->transient ? SYNC_RETRY : SYNC_OK;
    }
    field_errors errs;
    field_errors_init(&errs);
    policy_warnings warns;
    policy_warnings_init(&warns);
    policy_routing p;
    sync_result res = SYNC_OK;
    int prc = policy_routing_parse(s->obj, &p, &errs);
    if (prc == 0) {
        policy_routing_validate(&p, &errs, &warns);
    }
    if (prc < 0 || field_errors_oom(&errs)) {
        res = SYNC_RETRY;
        status_builder_free(b);
        goto out;
    }
    if (errs.len > 0) {
        res = report_invalid(s, b, &errs);
        goto out;
    }
    char winner[256], model[256];
    if (ref_index_conflict(s->c->refs, s->obj, winner, sizeof winner, model, sizeof model)) {
        status_builder_condition(b, COND_ACCEPTED, false, REASON_CONFLICTED,
                                 "model %s on Gateway %s is already served by AIRoutingPolicy %s, "
                                 "which is older",
                                 model, target_name(s->obj), winner);
        emit_event(s, REASON_CONFLICTED, "model %s is already served by AIRoutingPolicy %s", model,
                   winner);
        json_t *none = json_array();
        delete_stale(s, none);
        json_decref(none);
        write_status(s, status_builder_finish(b));
        res = s->transient ? SYNC_RETRY : SYNC_CONFLICT;
        goto out;
    }
    status_builder_condition(b, COND_ACCEPTED, true, REASON_ACCEPTED, "the spec is valid");

    json_t *gateway = kube_reflector_get_shared(s->c->refl[W_GATEWAY], s->ns, target_name(s->obj));
    if (gateway) {
        status_builder_condition(b, COND_GATEWAY_BOUND, true, REASON_GATEWAY_BOUND,
                                 "Gateway %s found", target_name(s->obj));
    } else {
        status_builder_condition(b, COND_GATEWAY_BOUND, false, REASON_GATEWAY_NOT_FOUND,
                                 "Gateway %s not found in namespace %s", target_name(s->obj),
                                 s->ns);
    }
    json_t *secrets = read_secrets(s);
    intent_routing_input in = {.policy = &p,
                               .uid = s->uid,
                               .secrets = secrets,
                               .gateway = gateway,
                               .gateway_has_access_policy = gateway_has_access_policy(s)};
    intent_routing ir;
    memset(&ir, 0, sizeof ir);
    char err[ERRLEN];
    json_t *desired = NULL;
    if (intent_routing_build(&in, &ir, err, sizeof err) != 0 ||
        envoy_render_routing(&ir, &desired, err, sizeof err) != 0) {
        log_error("reconcile: render failed", "policy", s->key, "error", err, (char *)NULL);
        json_decref(secrets);
        json_decref(gateway);
        intent_routing_free(&ir);
        status_builder_free(b);
        res = SYNC_RETRY;
        goto out;
    }
    json_decref(secrets); /* values are not kept past this point */
    json_decref(gateway);
    apply_report rep = {json_object(), 0};
    apply_all(s, desired, &rep);
    delete_stale(s, desired);
    bool *ready = calloc(ir.n_providers ? ir.n_providers : 1, sizeof(bool));
    if (ready && rep.failures) {
        routing_providers_status(b, &ir, &rep, ready);
        routing_models_status(b, &ir, &rep, ready);
        for (size_t i = 0; i < ir.n_providers; i++) {
            if (ir.providers[i].error_reason &&
                strcmp(ir.providers[i].error_reason, REASON_CREDENTIAL_SECRET_NOT_FOUND) == 0) {
                emit_event(s, REASON_CREDENTIAL_SECRET_NOT_FOUND, "provider %s: %s",
                           ir.providers[i].name, ir.providers[i].error);
                break;
            }
        }
    } else {
        s->transient = true;
    }
    json_t *st = status_builder_finish(b);
    const json_t *prog = status_find_condition(st, COND_PROGRAMMED);
    if (prog && strcmp(json_string_value(json_object_get(prog, "status")), "True") == 0) {
        clear_event(s);
    }
    write_status(s, st);
    free(ready);
    json_decref(rep.failures);
    json_decref(desired);
    intent_routing_free(&ir);
    res = s->transient ? SYNC_RETRY : SYNC_OK;
out:
    policy_routing_free(&p);
    policy_warnings_free(&warns);
    field_errors_free(&errs);
    return res;
}

/* ---------------------------------------------------------------- access */

static bool has_finalizer(const json_t *obj)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "finalizers"), i, f)
    {
        if (json_string_value(f) && strcmp(json_string_value(f), APPLY_FINALIZER) == 0) {
            return true;
        }
    }
    return false;
}

/* Adds (add=true) or removes our finalizer with a merge patch guarded by resourceVersion. */
static int set_finalizer(sync_ctx *s, bool add)
{
    json_t *list = json_array();
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(json_object_get(s->obj, "metadata"), "finalizers"), i, f)
    {
        if (!json_string_value(f) || strcmp(json_string_value(f), APPLY_FINALIZER) != 0) {
            json_array_append(list, f);
        }
    }
    if (add) {
        json_array_append_new(list, json_string(APPLY_FINALIZER));
    }
    json_t *patch = json_pack("{s:{s:o, s:s}}", "metadata", "finalizers", list, "resourceVersion",
                              meta_str(s->obj, "resourceVersion"));
    kube_error ke;
    int rc = patch ? kube_merge_patch(s->c->kc, s->api_version, s->kind, s->ns, s->name, NULL,
                                      patch, NULL, &ke)
                   : -1;
    json_decref(patch);
    if (rc != 0 && patch) {
        char buf[ERRLEN];
        log_warn("reconcile: finalizer update failed", "policy", s->key, "error",
                 kube_error_format(&ke, buf, sizeof buf), (char *)NULL);
    }
    return rc;
}

/*
 * Gives up the Gateway listener fields: an apply by aigw-gateway with no
 * listener removes every field only that manager owned.
 */
static int release_gateway(sync_ctx *s)
{
    const char *gw = target_name(s->obj);
    json_t *live = gw ? kube_reflector_get_shared(s->c->refl[W_GATEWAY], s->ns, gw) : NULL;
    if (!live) {
        return 0;
    }
    json_decref(live);
    json_t *cfg = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", ENVOY_GATEWAY_API, "kind",
                            "Gateway", "metadata", "name", gw, "namespace", s->ns);
    json_t *out = NULL;
    kube_error ke;
    int rc = cfg ? kube_apply(s->c->kc, cfg, ENVOY_GATEWAY_FIELD_MANAGER, 0, &out, &ke) : -1;
    if (rc != 0 && cfg && ke.http_code == 404) {
        rc = 0;
    }
    if (rc != 0 && cfg) {
        char buf[ERRLEN];
        log_warn("reconcile: releasing Gateway listener fields failed", "policy", s->key, "error",
                 kube_error_format(&ke, buf, sizeof buf), (char *)NULL);
    }
    json_decref(out);
    json_decref(cfg);
    return rc;
}

/* The Envoy Gateway Service of the target Gateway (new reference) or NULL. */
static json_t *envoy_service(sync_ctx *s)
{
    json_t *all = kube_reflector_list(s->c->refl[W_SERVICE]);
    json_t *found = NULL;
    size_t i;
    json_t *svc;
    json_array_foreach(all, i, svc)
    {
        const json_t *labels = json_object_get(json_object_get(svc, "metadata"), "labels");
        const char *n = json_string_value(json_object_get(labels, LABEL_OWNING_GATEWAY_NAME));
        const char *ns = json_string_value(json_object_get(labels, LABEL_OWNING_GATEWAY_NS));
        if (n && ns && target_name(s->obj) && strcmp(n, target_name(s->obj)) == 0 &&
            strcmp(ns, s->ns) == 0) {
            found = json_incref(svc);
            break;
        }
    }
    json_decref(all);
    return found;
}

/* Reads and parses the trust bundle into `in` (pem owned by *bundle_out). */
static void read_bundle(sync_ctx *s, const policy_access *p, time_t now, spiffe_bundle *bundle,
                        bool *bundle_ok, char *err, size_t errlen, intent_bundle_input *in)
{
    memset(in, 0, sizeof *in);
    *bundle_ok = false;
    json_t *cm = kube_reflector_get_shared(s->c->refl[W_CONFIGMAP], p->bundle.ns, p->bundle.name);
    const char *data =
        json_string_value(json_object_get(json_object_get(cm, "data"), p->bundle.key));
    if (!data) {
        in->state = INTENT_BUNDLE_NOT_FOUND;
        snprintf(err, errlen, "ConfigMap %s/%s %s", p->bundle.ns, p->bundle.name,
                 cm ? "has no key " : "not found");
        if (cm) {
            size_t l = strlen(err);
            snprintf(err + l, errlen - l, "%s", p->bundle.key);
        }
        in->error = err;
        json_decref(cm);
        return;
    }
    if (spiffe_bundle_parse(data, strlen(data), (int64_t)now, bundle, err, errlen) != 0) {
        in->state = INTENT_BUNDLE_PARSE_ERROR;
        in->error = err;
        json_decref(cm);
        return;
    }
    json_decref(cm);
    *bundle_ok = true;
    in->certificates = (int)bundle->valid;
    in->expired = (int)(bundle->expired + bundle->not_yet_valid);
    in->next_expiry = bundle->next_expiry > 0 ? (time_t)bundle->next_expiry : 0;
    if (bundle->valid == 0) {
        in->state = INTENT_BUNDLE_EMPTY;
        snprintf(err, errlen, "no CA in %s/%s is valid now (%zu expired, %zu not yet valid)",
                 p->bundle.ns, p->bundle.name, bundle->expired, bundle->not_yet_valid);
        in->error = err;
        return;
    }
    in->state = INTENT_BUNDLE_READY;
    in->ca_pem = bundle->ca_pem;
}

static void bundle_condition(sync_ctx *s, status_builder *b, const intent_access *ia)
{
    static const char *const reasons[] = {REASON_LOADED, REASON_BUNDLE_NOT_FOUND,
                                          REASON_BUNDLE_EMPTY, REASON_BUNDLE_PARSE_ERROR};
    const char *reason = reasons[ia->bundle_state];
    if (ia->bundle_state == INTENT_BUNDLE_READY) {
        status_builder_condition(b, COND_BUNDLE_READY, true, reason, "%d CA(s) valid, %d skipped",
                                 ia->bundle_certificates, ia->bundle_expired);
    } else {
        status_builder_condition(b, COND_BUNDLE_READY, false, reason, "%s",
                                 ia->bundle_error ? ia->bundle_error : reason);
        emit_event(s, reason, "%s", ia->bundle_error ? ia->bundle_error : reason);
    }
    char next[32] = "";
    if (ia->bundle_next_expiry > 0) {
        cond_format_time(ia->bundle_next_expiry, next, sizeof next);
    }
    status_builder_field(
        b, "bundle",
        status_bundle_new(ia->bundle_certificates, ia->bundle_expired, next[0] ? next : NULL));
}

/* True when every listener of `cfg` already has the same tls in `live`. */
static bool gateway_already_set(const json_t *cfg, const json_t *live)
{
    const json_t *want = json_object_get(json_object_get(cfg, "spec"), "listeners");
    const json_t *have = json_object_get(json_object_get(live, "spec"), "listeners");
    size_t i, j;
    const json_t *w, *h;
    json_array_foreach(want, i, w)
    {
        bool ok = false;
        json_array_foreach(have, j, h)
        {
            if (json_equal(json_object_get(w, "name"), json_object_get(h, "name"))) {
                const json_t *wt = json_object_get(w, "tls"), *ht = json_object_get(h, "tls");
                const json_t *wr = json_object_get(wt, "certificateRefs");
                const json_t *hr = json_object_get(ht, "certificateRefs");
                ok = json_equal(json_object_get(wt, "mode"), json_object_get(ht, "mode")) &&
                     json_array_size(wr) == json_array_size(hr);
                for (size_t k = 0; ok && k < json_array_size(wr); k++) {
                    ok = json_equal(json_object_get(json_array_get(wr, k), "name"),
                                    json_object_get(json_array_get(hr, k), "name"));
                }
                break;
            }
        }
        if (!ok) {
            return false;
        }
    }
    return true;
}

/* Sets the HTTPS listeners' certificateRefs; returns 0, or -1 with msg (ApplyFailed). */
static int program_gateway(sync_ctx *s, const intent_access *ia, char *msg, size_t msglen)
{
    json_t *cfg = NULL;
    char err[ERRLEN];
    if (envoy_render_gateway_apply(ia, &cfg, err, sizeof err) != 0) {
        snprintf(msg, msglen, "Gateway apply configuration: %.400s", err);
        s->transient = true;
        return -1;
    }
    if (!cfg) {
        return 0;
    }
    json_t *live = kube_reflector_get_shared(s->c->refl[W_GATEWAY], s->ns, target_name(s->obj));
    bool same = live && gateway_already_set(cfg, live);
    json_decref(live);
    int rc = 0;
    if (!same) {
        json_t *out = NULL;
        kube_error ke;
        if (kube_apply(s->c->kc, cfg, ENVOY_GATEWAY_FIELD_MANAGER, 0, &out, &ke) != 0) {
            char buf[ERRLEN];
            kube_error_format(&ke, buf, sizeof buf);
            if (ke.http_code == 409) {
                snprintf(msg, msglen,
                         "Gateway %s: another field manager owns the listeners' "
                         "tls.certificateRefs: %s",
                         target_name(s->obj), ke.message);
            } else {
                snprintf(msg, msglen, "Gateway %s: %.400s", target_name(s->obj), buf);
                if (kube_transient(&ke)) {
                    s->transient = true;
                }
            }
            emit_event(s, REASON_APPLY_FAILED, "%s", msg);
            rc = -1;
        }
        json_decref(out);
    }
    json_decref(cfg);
    return rc;
}

static void mtls_condition(sync_ctx *s, status_builder *b, const intent_access *ia,
                           const apply_report *rep, const char *cert_err, const char *gw_err)
{
    if (!ia->gateway_found) {
        status_builder_condition(b, COND_MTLS_ACTIVE, false, REASON_GATEWAY_NOT_FOUND,
                                 "Gateway %s not found", target_name(s->obj));
    } else if (ia->n_https_listeners == 0) {
        status_builder_condition(
            b, COND_MTLS_ACTIVE, false, REASON_LISTENER_NOT_HTTPS,
            "Gateway %s has no HTTPS listener; add one, e.g. {name: https, port: 443, protocol: "
            "HTTPS, tls: {mode: Terminate}} (aigw sets its certificateRefs)",
            target_name(s->obj));
        emit_event(s, REASON_LISTENER_NOT_HTTPS, "Gateway %s has no HTTPS listener",
                   target_name(s->obj));
    } else if (cert_err) {
        status_builder_condition(b, COND_MTLS_ACTIVE, false, REASON_CERT_GENERATION_FAILED, "%s",
                                 cert_err);
    } else if (rep->n_failed > 0) {
        const char *k;
        json_t *f;
        json_object_foreach(rep->failures, k, f)
        {
            status_builder_condition(b, COND_MTLS_ACTIVE, false,
                                     json_string_value(json_object_get(f, "reason")), "%s",
                                     json_string_value(json_object_get(f, "message")));
            break;
        }
    } else if (gw_err) {
        status_builder_condition(b, COND_MTLS_ACTIVE, false, REASON_APPLY_FAILED, "%s", gw_err);
    } else {
        status_builder_condition(b, COND_MTLS_ACTIVE, true, REASON_APPLIED,
                                 "client certificates required on %zu HTTPS listener(s)",
                                 ia->n_https_listeners);
    }
}

/* Reads the Secrets aigw generated earlier (NULL when absent). */
static void read_generated(sync_ctx *s, json_t **issuer, json_t **server, json_t **client_ca)
{
    char *n_issuer = intent_name_issuer(s->name);
    char *n_server = intent_name_server(s->name);
    char *n_ca = intent_name_client_ca(s->name);
    *issuer = *server = *client_ca = NULL;
    if (!n_issuer || !n_server || !n_ca || live_get(s, "v1", "Secret", s->ns, n_issuer, issuer) ||
        live_get(s, "v1", "Secret", s->ns, n_server, server) ||
        live_get(s, "v1", "Secret", s->ns, n_ca, client_ca)) {
        s->transient = true;
    }
    /* only our own Secrets count as earlier output */
    json_t **all[] = {issuer, server, client_ca};
    for (size_t i = 0; i < 3; i++) {
        if (*all[i] && !apply_owned_by(*all[i], s->uid)) {
            json_decref(*all[i]);
            *all[i] = NULL;
        }
    }
    free(n_issuer);
    free(n_server);
    free(n_ca);
}

static sync_result sync_access_spec(sync_ctx *s, status_builder *b, const policy_access *p)
{
    char winner[256], unused[8];
    if (ref_index_conflict(s->c->refs, s->obj, winner, sizeof winner, unused, sizeof unused)) {
        status_builder_condition(b, COND_ACCEPTED, false, REASON_CONFLICTED,
                                 "Gateway %s already has AIAccessPolicy %s, which is older",
                                 target_name(s->obj), winner);
        emit_event(s, REASON_CONFLICTED, "Gateway %s already has AIAccessPolicy %s",
                   target_name(s->obj), winner);
        json_t *none = json_array();
        delete_stale(s, none);
        json_decref(none);
        write_status(s, status_builder_finish(b));
        return s->transient ? SYNC_RETRY : SYNC_CONFLICT;
    }
    status_builder_condition(b, COND_ACCEPTED, true, REASON_ACCEPTED, "the spec is valid");
    time_t now = time(NULL);
    json_t *gateway = kube_reflector_get_shared(s->c->refl[W_GATEWAY], s->ns, target_name(s->obj));
    json_t *svc = envoy_service(s);
    spiffe_bundle bundle;
    memset(&bundle, 0, sizeof bundle);
    bool bundle_ok = false;
    char bundle_err[ERRLEN] = "";
    intent_access_input in;
    memset(&in, 0, sizeof in);
    read_bundle(s, p, now, &bundle, &bundle_ok, bundle_err, sizeof bundle_err, &in.bundle);
    json_t *server_ref = NULL, *issuer = NULL, *server = NULL, *client_ca = NULL;
    if (p->server_cert_name &&
        live_get(s, "v1", "Secret", s->ns, p->server_cert_name, &server_ref) != 0) {
        s->transient = true;
    }
    read_generated(s, &issuer, &server, &client_ca);
    in.policy = p;
    in.uid = s->uid;
    in.gateway = gateway;
    in.envoy_service = svc;
    in.server_cert_secret = server_ref;
    in.existing_issuer = issuer;
    in.existing_server = server;
    in.existing_client_ca = client_ca;
    in.now = now;
    in.helper_health_port = s->c->helper_health_port;
    intent_access ia;
    memset(&ia, 0, sizeof ia);
    char err[ERRLEN];
    char cert_err[ERRLEN] = "";
    json_t *desired = NULL;
    int brc = intent_access_build(&in, &ia, err, sizeof err);
    if (brc == 0 &&
        (ia.issuer_action == INTENT_CERT_ISSUE || ia.server_action == INTENT_CERT_ISSUE)) {
        if (intent_access_issue_certs(&ia, cert_err, sizeof cert_err) != 0) {
            emit_event(s, REASON_CERT_GENERATION_FAILED, "%s", cert_err);
        } else {
            log_info("reconcile: issued server certificate", "policy", s->key, "why",
                     ia.server_reason, (char *)NULL);
        }
    }
    if (brc == 0 && !cert_err[0]) {
        brc = envoy_render_access(&ia, &desired, err, sizeof err);
    }
    json_decref(gateway);
    json_decref(svc);
    json_decref(server_ref);
    json_decref(issuer);
    json_decref(server);
    json_decref(client_ca);
    if (bundle_ok) {
        spiffe_bundle_free(&bundle);
    }
    if (brc != 0) {
        log_error("reconcile: render failed", "policy", s->key, "error", err, (char *)NULL);
        intent_access_free(&ia);
        status_builder_free(b);
        return SYNC_RETRY;
    }
    status_builder_condition(b, COND_GATEWAY_BOUND, ia.gateway_found != 0,
                             ia.gateway_found ? REASON_GATEWAY_BOUND : REASON_GATEWAY_NOT_FOUND,
                             "Gateway %s %s", target_name(s->obj),
                             ia.gateway_found ? "found" : "not found");
    apply_report rep = {json_object(), 0};
    char gw_err[ERRLEN] = "";
    if (desired) {
        apply_all(s, desired, &rep);
        delete_stale(s, desired);
        if (rep.n_failed == 0 && program_gateway(s, &ia, gw_err, sizeof gw_err) != 0 &&
            !gw_err[0]) {
            snprintf(gw_err, sizeof gw_err, "Gateway apply failed");
        }
    }
    bundle_condition(s, b, &ia);
    mtls_condition(s, b, &ia, &rep, cert_err[0] ? cert_err : NULL, gw_err[0] ? gw_err : NULL);
    if (ia.endpoint) {
        status_builder_field(b, "endpoint", json_string(ia.endpoint));
    }
    json_t *st = status_builder_finish(b);
    const json_t *prog = status_find_condition(st, COND_PROGRAMMED);
    if (prog && strcmp(json_string_value(json_object_get(prog, "status")), "True") == 0) {
        clear_event(s);
    }
    write_status(s, st);
    json_decref(rep.failures);
    json_decref(desired);
    intent_access_free(&ia);
    return s->transient ? SYNC_RETRY : SYNC_OK;
}

static sync_result sync_access(sync_ctx *s, status_builder *b)
{
    if (deleting(s->obj)) {
        status_builder_free(b);
        if (!has_finalizer(s->obj)) {
            return SYNC_OK;
        }
        if (release_gateway(s) != 0 || set_finalizer(s, false) != 0) {
            return SYNC_RETRY;
        }
        log_info("reconcile: released Gateway listeners, finalizer removed", "policy", s->key,
                 (char *)NULL);
        return SYNC_OK;
    }
    if (!has_finalizer(s->obj)) {
        /* the patch changes the object; its watch event brings the next reconcile */
        status_builder_free(b);
        return set_finalizer(s, true) == 0 ? SYNC_OK : SYNC_RETRY;
    }
    field_errors errs;
    field_errors_init(&errs);
    policy_warnings warns;
    policy_warnings_init(&warns);
    policy_access p;
    sync_result res;
    int prc = policy_access_parse(s->obj, &p, &errs);
    if (prc == 0) {
        policy_access_validate(&p, &errs, &warns);
    }
    if (prc < 0 || field_errors_oom(&errs)) {
        status_builder_free(b);
        res = SYNC_RETRY;
    } else if (errs.len > 0) {
        res = report_invalid(s, b, &errs);
    } else {
        res = sync_access_spec(s, b, &p);
    }
    policy_access_free(&p);
    policy_warnings_free(&warns);
    field_errors_free(&errs);
    return res;
}

/* ---------------------------------------------------------------- entry */

/* True when a cached policy in `ns` has this uid. */
static bool policy_uid_alive(controller *c, const char *ns, const char *uid)
{
    bool alive = false;
    for (int w = W_ROUTING; w <= W_ACCESS && !alive; w++) {
        json_t *all = kube_reflector_list(c->refl[w]);
        size_t i;
        json_t *p;
        json_array_foreach(all, i, p)
        {
            const char *puid = meta_str(p, "uid");
            const char *pns = meta_str(p, "namespace");
            if (puid && pns && strcmp(puid, uid) == 0 && strcmp(pns, ns) == 0) {
                alive = true;
                break;
            }
        }
        json_decref(all);
    }
    return alive;
}

/* Deletes the generated objects whose controller policy (uid) no longer exists. */
static sync_result sync_orphans(controller *c, const char *key, const char *ns, const char *uid)
{
    if (policy_uid_alive(c, ns, uid)) {
        return SYNC_OK;
    }
    sync_ctx s = {.c = c, .kind = SYNC_ORPHANS_KIND, .ns = ns, .name = uid, .uid = uid};
    snprintf(s.key, sizeof s.key, "%s", key);
    json_t *none = json_array();
    if (!none) {
        return SYNC_RETRY;
    }
    delete_stale(&s, none);
    json_decref(none);
    return s.transient ? SYNC_RETRY : SYNC_GONE;
}

sync_result sync_policy(controller *c, const char *key)
{
    char kind[256], ns[256], name[256];
    if (policy_key_split(key, kind, ns, name, sizeof kind) != 0) {
        return SYNC_GONE;
    }
    if (strcmp(kind, SYNC_ORPHANS_KIND) == 0) {
        return sync_orphans(c, key, ns, name);
    }
    bool routing = strcmp(kind, KIND_ROUTING) == 0;
    json_t *obj = kube_reflector_get_shared(c->refl[routing ? W_ROUTING : W_ACCESS], ns, name);
    if (!obj) {
        pthread_mutex_lock(&c->ev_mu);
        json_object_del(c->ev_last, key);
        pthread_mutex_unlock(&c->ev_mu);
        return SYNC_GONE;
    }
    sync_ctx s = {.c = c,
                  .obj = obj,
                  .kind = routing ? KIND_ROUTING : KIND_ACCESS,
                  .ns = ns,
                  .name = name,
                  .uid = meta_str(obj, "uid"),
                  .api_version = json_string_value(json_object_get(obj, "apiVersion"))};
    snprintf(s.key, sizeof s.key, "%s", key);
    if (!s.uid || !s.api_version) {
        json_decref(obj);
        return SYNC_GONE;
    }
    status_builder b;
    int64_t gen =
        json_integer_value(json_object_get(json_object_get(obj, "metadata"), "generation"));
    if (status_builder_init(&b, routing ? STATUS_KIND_ROUTING : STATUS_KIND_ACCESS,
                            json_object_get(obj, "status"), gen, time(NULL)) != 0) {
        json_decref(obj);
        return SYNC_RETRY;
    }
    sync_result r = routing ? sync_routing(&s, &b) : sync_access(&s, &b);
    if (r == SYNC_RETRY) {
        log_info("reconcile: will retry", "policy", key, (char *)NULL);
    }
    json_decref(obj);
    return r;
}
