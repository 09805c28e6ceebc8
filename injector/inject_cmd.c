/*
 * inject_cmd: `aigw inject` (see inject_cmd.h). It builds the same runtime
 * the server uses, fills its cache once from --objects, and either plans each
 * Pod of the input file and prints the patched pods (the patch is applied with
 * common/json_patch, so what is printed is what the API server would store),
 * or answers an AdmissionReview through the /mutate-pods handler itself.
 */
#include "injector/inject_cmd.h"

#include "common/json_patch.h"
#include "common/object_source.h"
#include "common/yaml_json.h"
#include "injector/runtime.h"
#include "webhook/admission.h"
#include "webhook/handlers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INPUT ((size_t)7 * 1024 * 1024)

typedef struct {
    const char *file;
    const char *ns;
    const char *objects;
    const char *config;
    const char *output;
    int native; /* -1 = config */
    int review;
} inject_args;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: aigw inject -f POD.yaml [--namespace NS] [--objects DIR] [-o yaml|json]\n"
            "       aigw inject --review -f REVIEW.json [--objects DIR]\n"
            "flags:\n"
            "  -f, --file FILE         the pod (YAML or JSON; - for stdin), or with --review\n"
            "                          an AdmissionReview request\n"
            "  -n, --namespace NS      namespace of the pod (default: its metadata.namespace,\n"
            "                          else default)\n"
            "      --objects DIR       cluster objects: Namespaces and AIAccessPolicies\n"
            "      --config FILE       injector config (YAML; default: built-in)\n"
            "      --native-sidecars M auto|true|false (overrides the config; offline auto\n"
            "                          means native)\n"
            "  -o, --output FORMAT     yaml (default) or json\n"
            "      --review            print the AdmissionReview reply of /mutate-pods\n");
}

/* Matches "--name VALUE" and "--name=VALUE"; advances *i. */
static int flag_value(int argc, char **argv, int *i, const char *s, const char *l, const char **out)
{
    const char *a = argv[*i];
    size_t ll = strlen(l);
    if (strncmp(a, l, ll) == 0 && a[ll] == '=') {
        *out = a + ll + 1;
        return 1;
    }
    if ((s != NULL && strcmp(a, s) == 0) || strcmp(a, l) == 0) {
        if (*i + 1 >= argc) {
            *out = NULL;
            return 1;
        }
        *out = argv[++*i];
        return 1;
    }
    return 0;
}

static int parse_args(int argc, char **argv, inject_args *a)
{
    memset(a, 0, sizeof *a);
    a->native = -1;
    a->output = "yaml";
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        const char *native = NULL;
        if (strcmp(argv[i], "--review") == 0) {
            a->review = 1;
            continue;
        }
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            return 1;
        }
        if (flag_value(argc, argv, &i, "-f", "--file", &v)) {
            a->file = v;
        } else if (flag_value(argc, argv, &i, "-n", "--namespace", &v)) {
            a->ns = v;
        } else if (flag_value(argc, argv, &i, NULL, "--objects", &v)) {
            a->objects = v;
        } else if (flag_value(argc, argv, &i, NULL, "--config", &v)) {
            a->config = v;
        } else if (flag_value(argc, argv, &i, "-o", "--output", &v)) {
            a->output = v;
        } else if (flag_value(argc, argv, &i, NULL, "--native-sidecars", &native)) {
            inject_native_mode m;
            if (native == NULL || inject_native_mode_parse(native, &m) != 0) {
                fprintf(stderr, "aigw inject: --native-sidecars takes auto, true or false\n");
                return -1;
            }
            a->native = (int)m;
            continue;
        } else {
            fprintf(stderr, "aigw inject: unknown flag %s\n", argv[i]);
            return -1;
        }
        if (v == NULL) {
            fprintf(stderr, "aigw inject: %s needs a value\n", argv[i]);
            return -1;
        }
    }
    if (a->file == NULL) {
        fprintf(stderr, "aigw inject: -f FILE is required\n");
        return -1;
    }
    if (strcmp(a->output, "yaml") != 0 && strcmp(a->output, "json") != 0) {
        fprintf(stderr, "aigw inject: -o takes yaml or json\n");
        return -1;
    }
    return 0;
}

/* Reads a whole file ("-" = stdin), at most MAX_INPUT bytes. */
static char *read_input(const char *path, size_t *len_out)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "aigw inject: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap + 1);
    const char *problem = buf == NULL ? "out of memory" : NULL;
    while (problem == NULL) {
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            problem = ferror(f) ? "read error" : NULL;
            break;
        }
        if (len > MAX_INPUT) {
            problem = "larger than 7 MiB";
        } else if (len == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (nb == NULL) {
                problem = "out of memory";
            } else {
                buf = nb;
                cap *= 2;
            }
        }
    }
    if (f != stdin) {
        fclose(f);
    }
    if (problem != NULL || buf == NULL) {
        fprintf(stderr, "aigw inject: %s: %s\n", path, problem ? problem : "out of memory");
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    *len_out = len;
    return buf;
}

static inject_runtime *open_runtime(const inject_args *a, object_source **src_out)
{
    char err[600];
    inject_runtime_options opts = {.config_path = a->config, .native_override = a->native};
    *src_out = NULL;
    inject_runtime *rt = inject_runtime_new(&opts, err, sizeof err);
    if (rt == NULL) {
        fprintf(stderr, "aigw inject: %s\n", err);
        return NULL;
    }
    if (a->objects == NULL) {
        inject_runtime_mark_synced(rt);
        return rt;
    }
    object_source *src = object_source_dir_open(a->objects, err, sizeof err);
    if (src == NULL || inject_runtime_load(rt, src, err, sizeof err) != 0) {
        fprintf(stderr, "aigw inject: %s\n", err);
        object_source_free(src);
        inject_runtime_free(rt);
        return NULL;
    }
    *src_out = src;
    return rt;
}

static int print_review(inject_runtime *rt, object_source *src, const char *buf, size_t len)
{
    admission_request req;
    char err[512];
    if (admission_request_parse(buf, len, &req, err, sizeof err) != 0) {
        fprintf(stderr, "aigw inject: %s\n", err);
        return 1;
    }
    webhook_context ctx = {.objects = src, .injector = rt, .lookup_budget_ms = 2000};
    admission_response resp;
    admission_response_init(&resp);
    webhook_handle_mutate_pods(&ctx, &req, &resp);
    size_t out_len = 0;
    char *out = admission_review_render(&req, &resp, &out_len);
    admission_response_free(&resp);
    admission_request_free(&req);
    if (out == NULL) {
        fprintf(stderr, "aigw inject: out of memory\n");
        return 2;
    }
    int ok = fwrite(out, 1, out_len, stdout) == out_len && fputc('\n', stdout) != EOF;
    free(out);
    return ok ? 0 : 2;
}

/* Plans one pod, prints warnings, and returns the patched pod (new reference). */
static json_t *inject_one(inject_runtime *rt, const json_t *pod, const char *ns, int *rc)
{
    const char *kind = json_string_value(json_object_get(pod, "kind"));
    const char *api = json_string_value(json_object_get(pod, "apiVersion"));
    if (kind == NULL || strcmp(kind, "Pod") != 0 || api == NULL || strcmp(api, "v1") != 0) {
        fprintf(stderr, "aigw inject: expected a v1 Pod, got %s %s\n", api ? api : "?",
                kind ? kind : "?");
        *rc = 1;
        return NULL;
    }
    /* The planner reads the webhook's tree (jv): hand it the pod as the API server would. */
    jv_doc doc;
    char why[160];
    if (jv_from_json(&doc, pod, why, sizeof why) != 0) {
        fprintf(stderr, "aigw inject: the pod cannot be read as an admission request: %s\n", why);
        *rc = strcmp(why, "out of memory") == 0 ? 2 : 1;
        return NULL;
    }
    inject_result res;
    int planned = inject_runtime_plan(rt, doc.root, ns, &res);
    jv_doc_free(&doc);
    if (planned != 0) {
        fprintf(stderr, "aigw inject: out of memory\n");
        *rc = 2;
        return NULL;
    }
    size_t i;
    json_t *w;
    json_array_foreach(res.warnings, i, w)
    {
        fprintf(stderr, "Warning: %s\n", json_string_value(w));
    }
    if (res.outcome == INJECT_SKIP_QUIET && res.skip_reason != NULL) {
        fprintf(stderr, "aigw inject: not injected: %s\n", res.skip_reason);
    }
    json_t *patched = NULL;
    char err[300] = "out of memory";
    json_t *patch =
        res.patch != NULL ? json_loadb(res.patch, res.patch_len, 0, NULL) : json_array();
    if (patch == NULL || json_patch_apply(pod, patch, &patched, err, sizeof err) != 0) {
        fprintf(stderr, "aigw inject: the planned patch does not apply: %s\n", err);
        *rc = 2;
    }
    json_decref(patch);
    inject_result_free(&res);
    return patched;
}

static int print_docs(const json_t *docs, const char *format)
{
    char *text;
    if (strcmp(format, "json") == 0) {
        const json_t *one = json_array_size(docs) == 1 ? json_array_get(docs, 0) : NULL;
        json_t *list =
            one ? NULL
                : json_pack("{s:s, s:s, s:O}", "apiVersion", "v1", "kind", "List", "items", docs);
        text = json_dumps(one ? one : list, JSON_INDENT(2));
        json_decref(list);
    } else {
        text = json_array_size(docs) == 1 ? yaml_json_dump(json_array_get(docs, 0))
                                          : yaml_json_dump_all(docs);
    }
    if (text == NULL) {
        fprintf(stderr, "aigw inject: out of memory\n");
        return 2;
    }
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, stdout) == n;
    if (ok && (n == 0 || text[n - 1] != '\n')) {
        ok = fputc('\n', stdout) != EOF;
    }
    free(text);
    return ok ? 0 : 2;
}

static int inject_pods(inject_runtime *rt, const inject_args *a, const char *buf, size_t len)
{
    json_t *docs = NULL;
    char err[512];
    if (yaml_json_load(buf, len, strcmp(a->file, "-") == 0 ? "<stdin>" : a->file, &docs, err,
                       sizeof err) != 0) {
        fprintf(stderr, "aigw inject: %s\n", err);
        return 1;
    }
    if (json_array_size(docs) == 0) {
        fprintf(stderr, "aigw inject: %s holds no document\n", a->file);
        json_decref(docs);
        return 1;
    }
    json_t *out = json_array();
    int rc = out ? 0 : 2;
    size_t i;
    json_t *pod;
    json_array_foreach(docs, i, pod)
    {
        if (rc != 0) {
            break;
        }
        json_t *patched = inject_one(rt, pod, a->ns, &rc);
        if (patched != NULL && json_array_append_new(out, patched) != 0) {
            rc = 2;
        }
    }
    if (rc == 0) {
        rc = print_docs(out, a->output);
    }
    json_decref(out);
    json_decref(docs);
    return rc;
}

int injector_cmd_inject(int argc, char **argv)
{
    inject_args a;
    int prc = parse_args(argc, argv, &a);
    if (prc != 0) {
        usage(prc > 0 ? stdout : stderr);
        return prc > 0 ? 0 : 2;
    }
    size_t len = 0;
    char *buf = read_input(a.file, &len);
    if (buf == NULL) {
        return 2;
    }
    object_source *src = NULL;
    inject_runtime *rt = open_runtime(&a, &src);
    int rc = 2;
    if (rt != NULL) {
        rc = a.review ? print_review(rt, src, buf, len) : inject_pods(rt, &a, buf, len);
    }
    inject_runtime_free(rt);
    object_source_free(src);
    free(buf);
    return rc;
}
