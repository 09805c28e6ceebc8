/*
 * validate_cmd: `aigw validate -f FILE|DIR [-f ...] [--objects DIR]`, the
 * admission validation offline, for CI. Same pipeline as the webhook
 * (policy_validate_object); referenced cluster objects come from --objects.
 *
 * Every *.yaml, *.yml and *.json file below a DIR is read (sorted, recursive);
 * multi-document files and `kind: List` work. Objects that are not
 * AIRoutingPolicy / AIAccessPolicy are skipped and not counted. Output, one
 * line each:
 *
 *   <Kind>/<name>: <field path>: <message>
 *   <Kind>/<name>: warning: <text>
 *   <Kind>/<name>: valid
 *
 * Exit status: 0 all valid, 1 any invalid, 2 usage or I/O error.
 */
#include "policy/validate_cmd.h"

#include "common/object_source.h"
#include "common/yaml_json.h"
#include "policy/validate.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_DEPTH 32

typedef struct {
    policy_lookup lk;
    int invalid;  /* some object was invalid */
    int io_error; /* some file could not be read or parsed */
    size_t checked;
} run_state;

static void usage(FILE *out)
{
    fprintf(out, "usage: aigw validate -f FILE|DIR [-f FILE|DIR ...] [--objects DIR]\n"
                 "\n"
                 "Validates AIRoutingPolicy and AIAccessPolicy objects as the admission webhook\n"
                 "does. Directories are read recursively (*.yaml, *.yml, *.json); other kinds are\n"
                 "skipped. --objects DIR supplies the Secrets, ConfigMaps and other policies the\n"
                 "cross-object checks read; without it those checks are skipped.\n"
                 "Exit status: 0 all valid, 1 any invalid, 2 usage or I/O error.\n");
}

static void print_result(const json_t *obj, const field_errors *errs, const policy_warnings *w)
{
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
    if (name == NULL) {
        name = "<unnamed>";
    }
    for (size_t i = 0; i < errs->len; i++) {
        char *line = field_error_format(&errs->items[i]);
        printf("%s/%s: %s\n", kind, name, line ? line : "out of memory");
        free(line);
    }
    for (size_t i = 0; i < w->len; i++) {
        printf("%s/%s: warning: %s\n", kind, name, w->items[i]);
    }
    if (errs->len == 0) {
        printf("%s/%s: valid\n", kind, name);
    }
}

static void validate_one(run_state *st, const json_t *obj, const char *path)
{
    if (policy_kind_of(obj) == POLICY_KIND_UNKNOWN) {
        return;
    }
    field_errors errs;
    policy_warnings warns;
    field_errors_init(&errs);
    policy_warnings_init(&warns);
    int rc = policy_validate_object(obj, NULL, &st->lk, &errs, &warns);
    if (rc < 0) {
        fprintf(stderr, "aigw validate: %s: out of memory\n", path);
        st->io_error = 1;
    } else {
        print_result(obj, &errs, &warns);
        st->checked++;
        if (errs.len > 0) {
            st->invalid = 1;
        }
    }
    policy_warnings_free(&warns);
    field_errors_free(&errs);
}

static void validate_file(run_state *st, const char *path)
{
    json_t *docs = NULL;
    char err[512];
    if (yaml_json_load_file(path, &docs, err, sizeof err) != 0) {
        fprintf(stderr, "aigw validate: %s\n", err);
        st->io_error = 1;
        return;
    }
    size_t i;
    const json_t *doc;
    json_array_foreach(docs, i, doc)
    {
        const char *kind = json_string_value(json_object_get(doc, "kind"));
        const json_t *items = json_object_get(doc, "items");
        if (kind != NULL && strcmp(kind, "List") == 0 && json_is_array(items)) {
            size_t j;
            const json_t *item;
            json_array_foreach(items, j, item)
            {
                validate_one(st, item, path);
            }
        } else {
            validate_one(st, doc, path);
        }
    }
    json_decref(docs);
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int is_manifest(const char *name)
{
    return has_suffix(name, ".yaml") || has_suffix(name, ".yml") || has_suffix(name, ".json");
}

static void visit(run_state *st, const char *path, int depth, int explicit_file);

static void walk_dir(run_state *st, const char *dir, int depth)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0) {
        fprintf(stderr, "aigw validate: %s: %s\n", dir, strerror(errno));
        st->io_error = 1;
        return;
    }
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        if (name[0] != '.') {
            size_t len = strlen(dir) + strlen(name) + 2;
            char *child = malloc(len);
            if (child == NULL) {
                st->io_error = 1;
            } else {
                snprintf(child, len, "%s/%s", dir, name);
                visit(st, child, depth + 1, 0);
                free(child);
            }
        }
        free(names[i]);
    }
    free(names);
}

static void visit(run_state *st, const char *path, int depth, int explicit_file)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "aigw validate: %s: %s\n", path, strerror(errno));
        st->io_error = 1;
        return;
    }
    if (S_ISDIR(sb.st_mode)) {
        if (depth > MAX_DEPTH) {
            fprintf(stderr, "aigw validate: %s: directories nested too deeply\n", path);
            st->io_error = 1;
            return;
        }
        walk_dir(st, path, depth);
    } else if (explicit_file || (S_ISREG(sb.st_mode) && is_manifest(path))) {
        validate_file(st, path);
    }
}

int policy_cmd_validate(int argc, char **argv)
{
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    size_t n_files = 0;
    const char *objects_dir = NULL;
    if (files == NULL) {
        fprintf(stderr, "aigw validate: out of memory\n");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            free(files);
            return 0;
        }
        if ((strcmp(a, "-f") == 0 || strcmp(a, "--filename") == 0) && i + 1 < argc) {
            files[n_files++] = argv[++i];
        } else if (strncmp(a, "--filename=", 11) == 0) {
            files[n_files++] = a + 11;
        } else if (strcmp(a, "--objects") == 0 && i + 1 < argc) {
            objects_dir = argv[++i];
        } else if (strncmp(a, "--objects=", 10) == 0) {
            objects_dir = a + 10;
        } else {
            fprintf(stderr, "aigw validate: unexpected argument %s\n", a);
            usage(stderr);
            free(files);
            return 2;
        }
    }
    if (n_files == 0) {
        fprintf(stderr, "aigw validate: at least one -f FILE|DIR is required\n");
        usage(stderr);
        free(files);
        return 2;
    }
    run_state st;
    memset(&st, 0, sizeof st);
    st.lk.now = (int64_t)time(NULL);
    if (objects_dir != NULL) {
        char err[512];
        st.lk.src = object_source_dir_open(objects_dir, err, sizeof err);
        if (st.lk.src == NULL) {
            fprintf(stderr, "aigw validate: --objects: %s\n", err);
            free(files);
            return 2;
        }
    }
    for (size_t i = 0; i < n_files; i++) {
        visit(&st, files[i], 0, 1);
    }
    object_source_free(st.lk.src);
    free(files);
    if (st.checked == 0 && !st.io_error) {
        fprintf(stderr, "aigw validate: no AIRoutingPolicy or AIAccessPolicy found\n");
    }
    if (st.io_error) {
        return 2;
    }
    return st.invalid ? 1 : 0;
}
