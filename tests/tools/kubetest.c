/*
 * kubetest: drives common/kube_client and the reflector against a (test) API
 * server for the integration tests. Every command prints one JSON object on
 * stdout: the result, plus "observed" (HTTP attempts by "verb code", from the
 * client's observer) so tests can see retries. Failures print
 * {"error":{...}} and exit 1; usage errors exit 2.
 *
 *   kubetest [--kubeconfig F | --sa-dir D] [--qps N] [--burst N] [--timeout-ms N]
 *            [--max-retries N] [--backoff-ms N] COMMAND ARGS
 *
 *   version | resolve AV KIND | get AV KIND NS NAME
 *   list AV KIND NS|- [--selector S] [--field-selector S] [--limit N]
 *   create FILE | create-all FILE (every document) | update FILE | update-status FILE
 *   apply FILE [--manager M] [--force] [--status]
 *   patch AV KIND NS NAME JSON [--status]
 *   delete AV KIND NS NAME [--propagation P]
 *   gets N AV KIND NS NAME            N sequential GETs (QPS tests); prints elapsed_ms
 *   gets-parallel T N AV KIND NS NAME T threads sharing the client, N GETs each
 *   watch-count AV KIND NS N [--rv RV] [--timeout S]
 *   churn NS N [--names K] [--seed S] [--marker NAME]
 *   reflect AV KIND NS --until-name NAME [--timeout S] [--out FILE] [--verify]
 *   objsrc-get AV KIND NS NAME [--budget-ms N]
 */
#include "common/kube_client.h"
#include "common/kube_watch.h"
#include "common/yaml_json.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- observer: attempts by "verb code" ---- */

static pthread_mutex_t obs_mu = PTHREAD_MUTEX_INITIALIZER;
static json_t *observed;

static void observe(const char *verb, int code, void *ud)
{
    (void)ud;
    char key[64];
    snprintf(key, sizeof key, "%s %d", verb, code);
    pthread_mutex_lock(&obs_mu);
    json_t *v = json_object_get(observed, key);
    json_object_set_new(observed, key, json_integer(v ? json_integer_value(v) + 1 : 1));
    pthread_mutex_unlock(&obs_mu);
}

static int emit(json_t *result)
{
    if (result == NULL) {
        fprintf(stderr, "kubetest: out of memory\n");
        return 1;
    }
    pthread_mutex_lock(&obs_mu);
    json_object_set(result, "observed", observed);
    pthread_mutex_unlock(&obs_mu);
    char *s = json_dumps(result, JSON_COMPACT);
    json_decref(result);
    if (s == NULL) {
        return 1;
    }
    printf("%s\n", s);
    free(s);
    return 0;
}

static int emit_error(const kube_error *e)
{
    json_t *r =
        json_pack("{s:{s:i,s:s,s:s,s:b,s:b}}", "error", "code", e->http_code, "reason", e->reason,
                  "message", e->message, "transport", e->transport, "timed_out", e->timed_out);
    emit(r);
    return 1;
}

static int usage(void)
{
    fprintf(stderr, "usage: kubetest [--kubeconfig F] [--qps N] [--burst N] [--timeout-ms N] "
                    "[--max-retries N] [--backoff-ms N] COMMAND ARGS (see the source)\n");
    return 2;
}

/* --name VALUE among argv[from..]; NULL when absent. */
static const char *flag(int argc, char **argv, int from, const char *name)
{
    for (int i = from; i + 1 < argc; i++) {
        if (strcmp(argv[i], name) == 0) {
            return argv[i + 1];
        }
    }
    return NULL;
}

static int has_flag(int argc, char **argv, int from, const char *name)
{
    for (int i = from; i < argc; i++) {
        if (strcmp(argv[i], name) == 0) {
            return 1;
        }
    }
    return 0;
}

static const char *ns_arg(const char *s)
{
    return strcmp(s, "-") == 0 ? NULL : s;
}

/* ---- simple verbs ---- */

static const char *md_str(const json_t *obj, const char *key);

/* create every document of FILE; prints the created objects' names. */
static int cmd_create_all(kube_client *kc, const json_t *docs)
{
    json_t *names = json_array();
    size_t i;
    const json_t *doc;
    json_array_foreach(docs, i, doc)
    {
        json_t *out = NULL;
        kube_error e;
        if (kube_create(kc, doc, &out, &e) != 0) {
            json_decref(names);
            return emit_error(&e);
        }
        json_array_append_new(names, json_string(md_str(out, "name")));
        json_decref(out);
    }
    return emit(json_pack("{s:o}", "created", names));
}

static int cmd_one_object(kube_client *kc, const char *verb, int argc, char **argv)
{
    if (argc < 3) {
        return usage();
    }
    json_t *docs = NULL;
    char err[512];
    if (yaml_json_load_file(argv[2], &docs, err, sizeof err) != 0) {
        fprintf(stderr, "kubetest: %s\n", err);
        return 2;
    }
    if (strcmp(verb, "create-all") == 0) {
        int rc = cmd_create_all(kc, docs);
        json_decref(docs);
        return rc;
    }
    if (json_array_size(docs) != 1) {
        fprintf(stderr, "kubetest: need exactly one document\n");
        json_decref(docs);
        return 2;
    }
    const json_t *obj = json_array_get(docs, 0);
    json_t *out = NULL;
    kube_error e;
    int rc;
    if (strcmp(verb, "create") == 0) {
        rc = kube_create(kc, obj, &out, &e);
    } else if (strcmp(verb, "update") == 0) {
        rc = kube_update(kc, obj, &out, &e);
    } else if (strcmp(verb, "update-status") == 0) {
        rc = kube_update_status(kc, obj, &out, &e);
    } else {
        const char *manager = flag(argc, argv, 3, "--manager");
        rc = kube_apply_subresource(kc, obj, has_flag(argc, argv, 3, "--status") ? "status" : NULL,
                                    manager ? manager : "kubetest",
                                    has_flag(argc, argv, 3, "--force"), &out, &e);
    }
    json_decref(docs);
    if (rc != 0) {
        return emit_error(&e);
    }
    return emit(json_pack("{s:o}", "object", out));
}

static int cmd_list(kube_client *kc, int argc, char **argv)
{
    if (argc < 5) {
        return usage();
    }
    const char *limit = flag(argc, argv, 5, "--limit");
    kube_list_options lo = {flag(argc, argv, 5, "--selector"),
                            flag(argc, argv, 5, "--field-selector"), limit ? atol(limit) : 0};
    json_t *list = NULL;
    kube_error e;
    if (kube_list(kc, argv[2], argv[3], ns_arg(argv[4]), &lo, &list, &e) != 0) {
        return emit_error(&e);
    }
    json_t *names = json_array();
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(list, "items"), i, it)
    {
        const json_t *md = json_object_get(it, "metadata");
        const char *ns = json_string_value(json_object_get(md, "namespace"));
        const char *name = json_string_value(json_object_get(md, "name"));
        char buf[512];
        snprintf(buf, sizeof buf, "%s%s%s", ns ? ns : "", ns ? "/" : "", name ? name : "");
        json_array_append_new(names, json_string(buf));
    }
    json_t *r = json_pack(
        "{s:I,s:O,s:o,s:O}", "count", (json_int_t)json_array_size(json_object_get(list, "items")),
        "resourceVersion", json_object_get(json_object_get(list, "metadata"), "resourceVersion"),
        "names", names, "kind", json_object_get(list, "kind"));
    json_decref(list);
    return emit(r);
}

static int cmd_patch(kube_client *kc, int argc, char **argv)
{
    if (argc < 7) {
        return usage();
    }
    json_error_t jerr;
    json_t *patch = json_loads(argv[6], 0, &jerr);
    if (patch == NULL) {
        fprintf(stderr, "kubetest: patch is not JSON: %s\n", jerr.text);
        return 2;
    }
    json_t *out = NULL;
    kube_error e;
    int rc =
        kube_merge_patch(kc, argv[2], argv[3], argv[4], argv[5],
                         has_flag(argc, argv, 7, "--status") ? "status" : NULL, patch, &out, &e);
    json_decref(patch);
    if (rc != 0) {
        return emit_error(&e);
    }
    return emit(json_pack("{s:o}", "object", out));
}

static int64_t now_ms(void)
{
    return objsrc_now_ms();
}

/* N GETs; --pause-ms between them; --tolerate counts failures instead of stopping. */
static int cmd_gets(kube_client *kc, int argc, char **argv)
{
    if (argc < 7) {
        return usage();
    }
    long n = atol(argv[2]);
    const char *pause = flag(argc, argv, 7, "--pause-ms");
    int tolerate = has_flag(argc, argv, 7, "--tolerate");
    int64_t t0 = now_ms();
    long ok = 0, failed = 0;
    kube_error e;
    for (long i = 0; i < n; i++) {
        json_t *obj = NULL;
        if (kube_get(kc, argv[3], argv[4], ns_arg(argv[5]), argv[6], &obj, &e) != 0) {
            if (!tolerate) {
                return emit_error(&e);
            }
            failed++;
        } else {
            ok++;
        }
        json_decref(obj);
        if (pause != NULL) {
            usleep((useconds_t)atol(pause) * 1000);
        }
    }
    return emit(json_pack("{s:I,s:I,s:I}", "ok", (json_int_t)ok, "failed", (json_int_t)failed,
                          "elapsed_ms", (json_int_t)(now_ms() - t0)));
}

/* T threads share one client, each doing N GETs: the pool and the bucket under load. */
typedef struct {
    kube_client *kc;
    char **argv;
    long n;
    long ok;
} par_arg;

static void *par_worker(void *p)
{
    par_arg *a = p;
    for (long i = 0; i < a->n; i++) {
        json_t *obj = NULL;
        kube_error e;
        if (kube_get(a->kc, a->argv[4], a->argv[5], ns_arg(a->argv[6]), a->argv[7], &obj, &e) ==
            0) {
            a->ok++;
        }
        json_decref(obj);
    }
    return NULL;
}

static int cmd_gets_parallel(kube_client *kc, int argc, char **argv)
{
    if (argc < 8) {
        return usage();
    }
    long t = atol(argv[2]);
    if (t < 1 || t > 64) {
        return usage();
    }
    pthread_t th[64];
    par_arg args[64];
    long started = 0, ok = 0;
    int64_t t0 = now_ms();
    for (long i = 0; i < t; i++) {
        args[i] = (par_arg){kc, argv, atol(argv[3]), 0};
        if (pthread_create(&th[i], NULL, par_worker, &args[i]) != 0) {
            break;
        }
        started++;
    }
    for (long i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        ok += args[i].ok;
    }
    return emit(json_pack("{s:I,s:I,s:I}", "threads", (json_int_t)started, "ok", (json_int_t)ok,
                          "elapsed_ms", (json_int_t)(now_ms() - t0)));
}

/* ---- watch-count ---- */

typedef struct {
    long want;
    long counts[5];
    long total;
    char last_rv[64];
} watch_counter;

static int count_event(kube_watch_type t, json_t *obj, void *ud)
{
    watch_counter *w = ud;
    w->counts[t]++;
    const char *rv =
        json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
    if (rv != NULL) {
        snprintf(w->last_rv, sizeof w->last_rv, "%s", rv);
    }
    if (t != KUBE_WATCH_BOOKMARK) {
        w->total++;
    }
    return w->total >= w->want || t == KUBE_WATCH_ERROR;
}

static int cmd_watch_count(kube_client *kc, int argc, char **argv)
{
    if (argc < 6) {
        return usage();
    }
    const char *tmo = flag(argc, argv, 6, "--timeout");
    kube_watch_options wo = {NULL, NULL, flag(argc, argv, 6, "--rv"), 1, tmo ? atol(tmo) : 30,
                             NULL};
    watch_counter w = {atol(argv[5]), {0}, 0, ""};
    kube_error e;
    if (kube_watch(kc, argv[2], argv[3], ns_arg(argv[4]), &wo, count_event, &w, &e) != 0) {
        return emit_error(&e);
    }
    return emit(json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:s}", "total", (json_int_t)w.total, "added",
                          (json_int_t)w.counts[0], "modified", (json_int_t)w.counts[1], "deleted",
                          (json_int_t)w.counts[2], "bookmarks", (json_int_t)w.counts[3], "errors",
                          (json_int_t)w.counts[4], "last_rv", w.last_rv));
}

/* ---- churn: a deterministic mix of creates, updates and deletes ---- */

static unsigned next_rand(unsigned *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static int churn_write(kube_client *kc, const char *ns, const char *name, int exists, long i,
                       unsigned *seed, int *now_exists, kube_error *e)
{
    if (!exists) {
        char step[32];
        snprintf(step, sizeof step, "%ld", i);
        json_t *cm =
            json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
                      "metadata", "name", name, "namespace", ns, "data", "step", step);
        int rc = kube_create(kc, cm, NULL, e);
        json_decref(cm);
        *now_exists = 1;
        return rc;
    }
    if (next_rand(seed) % 10 < 7) {
        char step[32];
        snprintf(step, sizeof step, "%ld", i);
        json_t *patch = json_pack("{s:{s:s}}", "data", "step", step);
        int rc = kube_merge_patch(kc, "v1", "ConfigMap", ns, name, NULL, patch, NULL, e);
        json_decref(patch);
        *now_exists = 1;
        return rc;
    }
    *now_exists = 0;
    return kube_delete(kc, "v1", "ConfigMap", ns, name, NULL, e);
}

static int cmd_churn(kube_client *kc, int argc, char **argv)
{
    if (argc < 4) {
        return usage();
    }
    const char *ns = argv[2];
    long n = atol(argv[3]);
    const char *names_s = flag(argc, argv, 4, "--names");
    const char *seed_s = flag(argc, argv, 4, "--seed");
    const char *marker = flag(argc, argv, 4, "--marker");
    long k = names_s ? atol(names_s) : 100;
    unsigned seed = seed_s ? (unsigned)atol(seed_s) : 12345u;
    if (k <= 0 || k > 100000 || seed == 0) {
        return usage();
    }
    char *exists = calloc((size_t)k, 1);
    if (exists == NULL) {
        return 2;
    }
    long counts[3] = {0, 0, 0};
    kube_error e;
    for (long i = 0; i < n; i++) {
        long idx = (long)(next_rand(&seed) % (unsigned)k);
        char name[64];
        snprintf(name, sizeof name, "churn-%05ld", idx);
        int now_exists = 0;
        if (churn_write(kc, ns, name, exists[idx], i, &seed, &now_exists, &e) != 0) {
            free(exists);
            return emit_error(&e);
        }
        counts[!exists[idx] ? 0 : (now_exists ? 1 : 2)]++;
        exists[idx] = (char)now_exists;
    }
    free(exists);
    if (marker != NULL) {
        json_t *cm = json_pack("{s:s,s:s,s:{s:s,s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
                               "metadata", "name", marker, "namespace", ns);
        int rc = kube_create(kc, cm, NULL, &e);
        json_decref(cm);
        if (rc != 0) {
            return emit_error(&e);
        }
    }
    return emit(json_pack("{s:I,s:I,s:I}", "created", (json_int_t)counts[0], "updated",
                          (json_int_t)counts[1], "deleted", (json_int_t)counts[2]));
}

/* ---- reflect: a reflector with a handler-side model that must stay consistent ---- */

typedef struct {
    pthread_mutex_t mu;
    json_t *model; /* key -> resourceVersion, built only from handler calls */
    long adds, updates, deletes, synced, violations;
    char until_name[256];
    int seen_until;
    kube_reflector *r;
} reflect_state;

static const char *md_str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(json_object_get(obj, "metadata"), key));
    return s ? s : "";
}

static void model_key(const json_t *obj, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", md_str(obj, "namespace"), md_str(obj, "name"));
}

static void violation(reflect_state *st, const char *what, const char *key)
{
    st->violations++;
    fprintf(stderr, "kubetest reflect: %s: %s\n", what, key);
}

static long rv_num(const char *rv)
{
    return strtol(rv, NULL, 10);
}

static void check_until(reflect_state *st, const json_t *obj)
{
    if (strcmp(md_str(obj, "name"), st->until_name) == 0) {
        st->seen_until = 1;
        kube_reflector_stop(st->r);
    }
}

static void h_add(const json_t *obj, void *ud)
{
    reflect_state *st = ud;
    char key[600];
    model_key(obj, key, sizeof key);
    pthread_mutex_lock(&st->mu);
    st->adds++;
    if (json_object_get(st->model, key) != NULL) {
        violation(st, "add of an object already present", key);
    }
    json_object_set_new(st->model, key, json_string(md_str(obj, "resourceVersion")));
    check_until(st, obj);
    pthread_mutex_unlock(&st->mu);
}

static void h_update(const json_t *old_obj, const json_t *new_obj, void *ud)
{
    reflect_state *st = ud;
    char key[600];
    model_key(new_obj, key, sizeof key);
    pthread_mutex_lock(&st->mu);
    st->updates++;
    const char *have = json_string_value(json_object_get(st->model, key));
    if (have == NULL) {
        violation(st, "update of an unknown object", key);
    } else if (strcmp(have, md_str(old_obj, "resourceVersion")) != 0) {
        violation(st, "update whose old object is not the last one seen", key);
    } else if (rv_num(md_str(new_obj, "resourceVersion")) <= rv_num(have)) {
        violation(st, "update going back in resourceVersion", key);
    }
    json_object_set_new(st->model, key, json_string(md_str(new_obj, "resourceVersion")));
    check_until(st, new_obj);
    pthread_mutex_unlock(&st->mu);
}

static void h_delete(const json_t *obj, void *ud)
{
    reflect_state *st = ud;
    char key[600];
    model_key(obj, key, sizeof key);
    pthread_mutex_lock(&st->mu);
    st->deletes++;
    if (json_object_get(st->model, key) == NULL) {
        violation(st, "delete of an unknown object", key);
    }
    json_object_del(st->model, key);
    pthread_mutex_unlock(&st->mu);
}

static void h_synced(void *ud)
{
    reflect_state *st = ud;
    pthread_mutex_lock(&st->mu);
    st->synced++;
    pthread_mutex_unlock(&st->mu);
}

static void *reflector_thread(void *arg)
{
    kube_reflector_run(arg);
    return NULL;
}

/* {"ns/name": rv} of a list of objects. */
static json_t *rv_map(const json_t *items)
{
    json_t *m = json_object();
    size_t i;
    const json_t *it;
    json_array_foreach(items, i, it)
    {
        char key[600];
        model_key(it, key, sizeof key);
        json_object_set_new(m, key, json_string(md_str(it, "resourceVersion")));
    }
    return m;
}

static int cmd_reflect(kube_client *kc, int argc, char **argv)
{
    if (argc < 5) {
        return usage();
    }
    const char *av = argv[2], *kind = argv[3], *ns = ns_arg(argv[4]);
    const char *until = flag(argc, argv, 5, "--until-name");
    const char *tmo = flag(argc, argv, 5, "--timeout");
    const char *out_path = flag(argc, argv, 5, "--out");
    long timeout_s = tmo ? atol(tmo) : 60;
    reflect_state st = {.model = json_object()};
    pthread_mutex_init(&st.mu, NULL);
    snprintf(st.until_name, sizeof st.until_name, "%s", until ? until : "");
    kube_reflector_handlers h = {h_add, h_update, h_delete, h_synced};
    kube_reflector_options ro = {.backoff_base_ms = 50, .backoff_max_ms = 2000};
    st.r = kube_reflector_new(kc, av, kind, ns, &ro, &h, &st);
    if (st.r == NULL || st.model == NULL) {
        return 2;
    }
    pthread_t th;
    if (pthread_create(&th, NULL, reflector_thread, st.r) != 0) {
        kube_reflector_free(st.r);
        return 2;
    }
    int64_t deadline = now_ms() + timeout_s * 1000;
    int timed_out = 0;
    for (;;) {
        pthread_mutex_lock(&st.mu);
        int done = st.seen_until || (until == NULL && st.synced > 0);
        pthread_mutex_unlock(&st.mu);
        if (done) {
            break;
        }
        if (now_ms() > deadline) {
            timed_out = 1;
            break;
        }
        usleep(20000);
    }
    kube_reflector_stop(st.r);
    pthread_join(th, NULL);
    json_t *store = kube_reflector_list(st.r);
    kube_reflector_stats stats;
    kube_reflector_get_stats(st.r, &stats);
    kube_reflector_free(st.r);

    json_t *store_map = rv_map(store);
    json_t *result =
        json_pack("{s:b,s:I,s:I,s:I,s:I,s:I,s:{s:I,s:I,s:I,s:I,s:I,s:I}}", "timed_out", timed_out,
                  "objects", (json_int_t)json_object_size(store_map), "adds", (json_int_t)st.adds,
                  "updates", (json_int_t)st.updates, "deletes", (json_int_t)st.deletes,
                  "violations", (json_int_t)st.violations, "stats", "lists",
                  (json_int_t)stats.lists, "relists_410", (json_int_t)stats.relists_410, "watches",
                  (json_int_t)stats.watches, "events", (json_int_t)stats.events, "bookmarks",
                  (json_int_t)stats.bookmarks, "errors", (json_int_t)stats.errors);
    /* the handler-built model must equal the store */
    json_object_set_new(result, "model_matches_store",
                        json_boolean(json_equal(store_map, st.model)));
    if (has_flag(argc, argv, 5, "--verify")) {
        json_t *list = NULL;
        kube_error e;
        if (kube_list(kc, av, kind, ns, NULL, &list, &e) != 0) {
            json_decref(result);
            json_decref(store_map);
            json_decref(store);
            json_decref(st.model);
            return emit_error(&e);
        }
        json_t *server_map = rv_map(json_object_get(list, "items"));
        json_object_set_new(result, "server_objects",
                            json_integer((json_int_t)json_object_size(server_map)));
        json_object_set_new(result, "matches_server",
                            json_boolean(json_equal(store_map, server_map)));
        json_decref(server_map);
        json_decref(list);
    }
    if (out_path != NULL) {
        json_dump_file(store_map, out_path, JSON_SORT_KEYS | JSON_INDENT(1));
    }
    json_decref(store_map);
    json_decref(store);
    json_decref(st.model);
    pthread_mutex_destroy(&st.mu);
    return emit(result);
}

/* ---- object source over the API server ---- */

static int cmd_objsrc_get(kube_client *kc, int argc, char **argv)
{
    if (argc < 6) {
        return usage();
    }
    const char *budget = flag(argc, argv, 6, "--budget-ms");
    object_source *src = object_source_kube_new(kc);
    if (src == NULL) {
        return 2;
    }
    json_t *obj = NULL;
    char err[640] = "";
    int64_t deadline = budget ? objsrc_now_ms() + atol(budget) : 0;
    int64_t t0 = now_ms();
    objsrc_status s = object_source_get(src, argv[2], argv[3], ns_arg(argv[4]), argv[5], deadline,
                                        &obj, err, sizeof err);
    object_source_free(src);
    const char *names[] = {"timeout", "error", "ok", "not_found"};
    json_t *r = json_pack("{s:s,s:s,s:I,s:o?}", "status", names[(int)s + 2], "message", err,
                          "elapsed_ms", (json_int_t)(now_ms() - t0), "object", obj);
    return emit(r);
}

/* ---- main ---- */

static int run(kube_client *kc, int argc, char **argv)
{
    const char *cmd = argv[1];
    kube_error e;
    if (strcmp(cmd, "version") == 0) {
        json_t *v = NULL;
        if (kube_version(kc, &v, &e) != 0) {
            return emit_error(&e);
        }
        return emit(json_pack("{s:o}", "version", v));
    }
    if (strcmp(cmd, "resolve") == 0 && argc >= 4) {
        kube_resource r;
        if (kube_resolve(kc, argv[2], argv[3], &r, &e) != 0) {
            return emit_error(&e);
        }
        return emit(json_pack("{s:s,s:s,s:s,s:b}", "group", r.group, "version", r.version,
                              "resource", r.resource, "namespaced", r.namespaced));
    }
    if (strcmp(cmd, "get") == 0 && argc >= 6) {
        json_t *obj = NULL;
        if (kube_get(kc, argv[2], argv[3], ns_arg(argv[4]), argv[5], &obj, &e) != 0) {
            return emit_error(&e);
        }
        return emit(json_pack("{s:o}", "object", obj));
    }
    if (strcmp(cmd, "delete") == 0 && argc >= 6) {
        if (kube_delete(kc, argv[2], argv[3], ns_arg(argv[4]), argv[5],
                        flag(argc, argv, 6, "--propagation"), &e) != 0) {
            return emit_error(&e);
        }
        return emit(json_pack("{s:b}", "deleted", 1));
    }
    if (strcmp(cmd, "list") == 0) {
        return cmd_list(kc, argc, argv);
    }
    if (strcmp(cmd, "create") == 0 || strcmp(cmd, "create-all") == 0 ||
        strcmp(cmd, "update") == 0 || strcmp(cmd, "update-status") == 0 ||
        strcmp(cmd, "apply") == 0) {
        return cmd_one_object(kc, cmd, argc, argv);
    }
    if (strcmp(cmd, "patch") == 0) {
        return cmd_patch(kc, argc, argv);
    }
    if (strcmp(cmd, "gets") == 0) {
        return cmd_gets(kc, argc, argv);
    }
    if (strcmp(cmd, "gets-parallel") == 0) {
        return cmd_gets_parallel(kc, argc, argv);
    }
    if (strcmp(cmd, "watch-count") == 0) {
        return cmd_watch_count(kc, argc, argv);
    }
    if (strcmp(cmd, "churn") == 0) {
        return cmd_churn(kc, argc, argv);
    }
    if (strcmp(cmd, "reflect") == 0) {
        return cmd_reflect(kc, argc, argv);
    }
    if (strcmp(cmd, "objsrc-get") == 0) {
        return cmd_objsrc_get(kc, argc, argv);
    }
    return usage();
}

int main(int argc, char **argv)
{
    kube_client_options o = {0};
    const char *kubeconfig = NULL, *sa_dir = NULL;
    int i = 1;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--kubeconfig") == 0) {
            kubeconfig = argv[i + 1];
        } else if (strcmp(argv[i], "--sa-dir") == 0) {
            sa_dir = argv[i + 1];
        } else if (strcmp(argv[i], "--qps") == 0) {
            o.qps = atof(argv[i + 1]);
        } else if (strcmp(argv[i], "--burst") == 0) {
            o.burst = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--timeout-ms") == 0) {
            o.timeout_ms = atol(argv[i + 1]);
        } else if (strcmp(argv[i], "--max-retries") == 0) {
            o.max_retries = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--backoff-ms") == 0) {
            o.backoff_base_ms = atol(argv[i + 1]);
        } else {
            return usage();
        }
    }
    if (i >= argc) {
        return usage();
    }
    if (kube_client_global_init() != 0) {
        fprintf(stderr, "kubetest: curl_global_init failed\n");
        return 2;
    }
    observed = json_object();
    o.observer = observe;
    char err[512];
    kube_client *kc = NULL;
    if (sa_dir != NULL) {
        /* in-cluster configuration from a given service-account folder */
        kube_config cfg;
        if (kube_config_in_cluster(sa_dir, &cfg, err, sizeof err) == 0) {
            kc = kube_client_new_config(&cfg, &o, err, sizeof err);
            kube_config_free(&cfg);
        }
    } else {
        kc = kube_client_new(kubeconfig, NULL, &o, err, sizeof err);
    }
    int rc;
    if (kc == NULL || observed == NULL) {
        fprintf(stderr, "kubetest: %s\n", kc == NULL ? err : "out of memory");
        rc = 2;
    } else {
        rc = run(kc, argc - i + 1, argv + i - 1);
    }
    kube_client_free(kc);
    json_decref(observed);
    kube_client_global_cleanup();
    return rc;
}
