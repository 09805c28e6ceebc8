/*
 * `aigw render -f POLICY [--objects DIR] [-o yaml|json] [--now RFC3339]`:
 * prints exactly what the reconciler would apply for every AIRoutingPolicy and
 * AIAccessPolicy in POLICY (other documents are skipped), reading the cluster
 * objects they reference from DIR (no DIR: an empty cluster).
 *
 * Output: `-o yaml` (default) multi-document YAML, each policy introduced by
 * comments (its status.endpoint and notes), the Gateway apply configuration
 * (field manager aigw-gateway) after the policy's objects; `-o json` one v1
 * List of the same objects, notes on stderr.
 *
 * Reproducibility: a policy without metadata.uid gets a placeholder uid made
 * from SHA-256 of namespace/kind/name (objname_placeholder_uid), and one
 * without a namespace is rendered in "default". Keys the AIAccessPolicy needs
 * (issuer CA, server certificate) are read from DIR when present there
 * (Secrets <policy>-gateway-issuer / <policy>-mtls-server); otherwise they are
 * generated and the output differs from run to run in key material only.
 * `--now` evaluates certificate and bundle validity at a fixed time.
 *
 * Exit status: 0 rendered, 1 a policy is invalid (its field errors on
 * stderr, nothing on stdout), 2 usage or I/O error.
 */
#include "common/field_errors.h"
#include "common/object_source.h"
#include "common/yaml_json.h"
#include "policy/policy.h"
#include "reconciler/desired.h"
#include "reconciler/envoy/render.h"
#include "reconciler/objname.h"
#include "reconciler/render_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    const char *file;
    const char *objects;
    int json;
    time_t now;
    int helper_health_port;
} render_args;

static void usage(FILE *out)
{
    fprintf(out, "usage: aigw render -f POLICY [--objects DIR] [-o yaml|json] [--now RFC3339]\n"
                 "                   [--helper-health-port N]\n"
                 "\n"
                 "Prints the objects the reconciler would apply for the policies in POLICY.\n"
                 "  -f, --file FILE     policies (YAML or JSON, several documents allowed)\n"
                 "  --objects DIR       cluster objects the policies reference (Secrets, Gateway,\n"
                 "                      Envoy Service, bundle ConfigMap, generated Secrets)\n"
                 "  -o, --output FMT    yaml (multi-document, default) or json (a v1 List)\n"
                 "  --now TIME          evaluate certificate validity at TIME (RFC 3339)\n"
                 "  --helper-health-port N  spiffe-helper health port in helper.conf (default\n"
                 "                      17081; must equal the injector's ports.helperHealth)\n");
}

static int parse_time(const char *s, time_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!end || *end) {
        return -1;
    }
    *out = timegm(&tm);
    return 0;
}

static int parse_args(int argc, char **argv, render_args *a)
{
    memset(a, 0, sizeof *a);
    a->now = time(NULL);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            usage(stdout);
            return 1;
        }
        if (!val) {
            fprintf(stderr, "aigw render: %s needs a value\n", arg);
            return -1;
        }
        i++;
        if (strcmp(arg, "-f") == 0 || strcmp(arg, "--file") == 0) {
            a->file = val;
        } else if (strcmp(arg, "--objects") == 0) {
            a->objects = val;
        } else if (strcmp(arg, "-o") == 0 || strcmp(arg, "--output") == 0) {
            if (strcmp(val, "json") != 0 && strcmp(val, "yaml") != 0) {
                fprintf(stderr, "aigw render: -o must be yaml or json\n");
                return -1;
            }
            a->json = strcmp(val, "json") == 0;
        } else if (strcmp(arg, "--helper-health-port") == 0) {
            char why[200];
            if (intent_helper_port_parse(val, &a->helper_health_port, why, sizeof why) != 0) {
                fprintf(stderr, "aigw render: --helper-health-port: %s\n", why);
                return -1;
            }
        } else if (strcmp(arg, "--now") == 0) {
            if (parse_time(val, &a->now)) {
                fprintf(stderr, "aigw render: --now wants YYYY-MM-DDTHH:MM:SSZ\n");
                return -1;
            }
        } else {
            fprintf(stderr, "aigw render: unknown flag %s\n", arg);
            return -1;
        }
    }
    if (!a->file) {
        fprintf(stderr, "aigw render: -f POLICY is required\n");
        return -1;
    }
    return 0;
}

/* The documents of the file that are policies, `kind: List` expanded. */
static json_t *load_policies(const char *file, char *err, size_t errlen)
{
    json_t *docs = NULL;
    if (yaml_json_load_file(file, &docs, err, errlen)) {
        return NULL;
    }
    json_t *out = json_array();
    size_t i, j;
    json_t *d, *item;
    json_array_foreach(docs, i, d)
    {
        const char *kind = json_string_value(json_object_get(d, "kind"));
        if (kind && strcmp(kind, "List") == 0) {
            json_array_foreach(json_object_get(d, "items"), j, item)
            {
                if (policy_kind_of(item) != POLICY_KIND_UNKNOWN) {
                    json_array_append(out, item);
                }
            }
        } else if (policy_kind_of(d) != POLICY_KIND_UNKNOWN) {
            json_array_append(out, d);
        }
    }
    json_decref(docs);
    return out;
}

/* A copy of the policy with a namespace ("default") and the placeholder uid noted. */
static json_t *prepare_policy(const json_t *pol, char uid[37])
{
    json_t *copy = json_deep_copy(pol);
    json_t *meta = json_object_get(copy, "metadata");
    if (!json_is_object(meta)) {
        return copy; /* parse reports it */
    }
    if (!json_is_string(json_object_get(meta, "namespace"))) {
        json_object_set_new(meta, "namespace", json_string("default"));
    }
    const char *ns = json_string_value(json_object_get(meta, "namespace"));
    const char *name = json_string_value(json_object_get(meta, "name"));
    const char *kind = json_string_value(json_object_get(copy, "kind"));
    objname_placeholder_uid(ns, kind ? kind : "", name ? name : "", uid);
    return copy;
}

static const char *policy_label(const json_t *pol, char *buf, size_t len)
{
    const json_t *meta = json_object_get(pol, "metadata");
    const char *ns = json_string_value(json_object_get(meta, "namespace"));
    const char *name = json_string_value(json_object_get(meta, "name"));
    const char *kind = json_string_value(json_object_get(pol, "kind"));
    snprintf(buf, len, "%s %s/%s", kind ? kind : "?", ns ? ns : "default", name ? name : "?");
    return buf;
}

static void print_errors(const char *label, const field_errors *errs)
{
    fprintf(stderr, "aigw render: %s is invalid:\n", label);
    for (size_t i = 0; i < errs->len; i++) {
        char *line = field_error_format(&errs->items[i]);
        fprintf(stderr, "  %s\n", line ? line : "(out of memory)");
        free(line);
    }
}

/* YAML: comments for the policy, then one document per object. */
static int emit_yaml(FILE *out, const char *label, const desired_state *d)
{
    size_t i;
    json_t *v;
    fprintf(out, "# %s\n", label);
    if (d->endpoint) {
        fprintf(out, "# status.endpoint: %s\n", d->endpoint);
    }
    json_array_foreach(d->notes, i, v)
    {
        fprintf(out, "# note: %s\n", json_string_value(v));
    }
    json_array_foreach(d->objects, i, v)
    {
        char *y = yaml_json_dump(v);
        if (!y) {
            return -1;
        }
        fprintf(out, "---\n%s", y);
        free(y);
    }
    if (d->gateway_apply) {
        char *y = yaml_json_dump(d->gateway_apply);
        if (!y) {
            return -1;
        }
        fprintf(out, "---\n# Gateway apply configuration (field manager %s, without force)\n%s",
                ENVOY_GATEWAY_FIELD_MANAGER, y);
        free(y);
    }
    return 0;
}

static void notes_to_stderr(const char *label, const desired_state *d)
{
    size_t i;
    json_t *v;
    if (d->endpoint) {
        fprintf(stderr, "aigw render: %s: status.endpoint: %s\n", label, d->endpoint);
    }
    json_array_foreach(d->notes, i, v)
    {
        fprintf(stderr, "aigw render: %s: %s\n", label, json_string_value(v));
    }
}

/* Renders every policy; 0, 1 (some invalid) or 2. */
static int render_all(object_source *src, const json_t *policies, const render_args *a, FILE *out)
{
    json_t *list_items = json_array();
    char *yaml_text = NULL;
    size_t yaml_len = 0;
    FILE *yaml = a->json ? NULL : open_memstream(&yaml_text, &yaml_len);
    int rc = (list_items && (a->json || yaml)) ? 0 : 2;
    size_t i;
    json_t *pol;
    json_array_foreach(policies, i, pol)
    {
        if (rc == 2) {
            break;
        }
        char uid[37], label[600], err[512] = "";
        json_t *copy = prepare_policy(pol, uid);
        policy_label(copy, label, sizeof label);
        desired_options opt = {policies, a->now, uid, 0, a->helper_health_port};
        desired_state d;
        field_errors errs;
        field_errors_init(&errs);
        memset(&d, 0, sizeof d);
        int r = copy ? desired_build(src, copy, &opt, &d, &errs, err, sizeof err) : -1;
        if (r == 1) {
            print_errors(label, &errs);
            rc = 1;
        } else if (r != 0) {
            fprintf(stderr, "aigw render: %s: %s\n", label, err[0] ? err : "out of memory");
            rc = 2;
        } else if (a->json) {
            notes_to_stderr(label, &d);
            json_array_extend(list_items, d.objects);
            if (d.gateway_apply) {
                json_array_append(list_items, d.gateway_apply);
            }
        } else if (emit_yaml(yaml, label, &d)) {
            rc = 2;
        }
        desired_free(&d);
        field_errors_free(&errs);
        json_decref(copy);
    }
    if (yaml) {
        fclose(yaml);
    }
    if (rc == 0 && a->json) {
        json_t *list =
            json_pack("{s:s, s:s, s:O}", "apiVersion", "v1", "kind", "List", "items", list_items);
        char *text = list ? json_dumps(list, JSON_INDENT(2)) : NULL;
        if (text) {
            fprintf(out, "%s\n", text);
        } else {
            rc = 2;
        }
        free(text);
        json_decref(list);
    } else if (rc == 0 && yaml_text) {
        fwrite(yaml_text, 1, yaml_len, out);
    }
    free(yaml_text);
    json_decref(list_items);
    return rc;
}

int reconciler_cmd_render(int argc, char **argv)
{
    render_args a;
    int pr = parse_args(argc, argv, &a);
    if (pr != 0) {
        if (pr < 0) {
            usage(stderr);
        }
        return pr > 0 ? 0 : 2;
    }
    char err[512] = "";
    json_t *policies = load_policies(a.file, err, sizeof err);
    if (!policies) {
        fprintf(stderr, "aigw render: %s\n", err[0] ? err : "out of memory");
        return 2;
    }
    object_source *src = NULL;
    if (a.objects) {
        src = object_source_dir_open(a.objects, err, sizeof err);
    } else {
        json_t *none = json_array();
        src = none ? object_source_mem_new(none, err, sizeof err) : NULL;
        json_decref(none);
    }
    if (!src) {
        fprintf(stderr, "aigw render: %s\n", err[0] ? err : "out of memory");
        json_decref(policies);
        return 2;
    }
    if (json_array_size(policies) == 0) {
        fprintf(stderr, "aigw render: %s holds no AIRoutingPolicy or AIAccessPolicy\n", a.file);
    }
    int rc = render_all(src, policies, &a, stdout);
    if (fflush(stdout) != 0 && rc == 0) {
        fprintf(stderr, "aigw render: cannot write the output\n");
        rc = 2;
    }
    object_source_free(src);
    json_decref(policies);
    return rc;
}
