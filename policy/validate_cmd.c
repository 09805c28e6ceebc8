/*
 * validate_cmd: `aigw validate -f FILE|DIR [-f ...] [--objects DIR]`, the
 * admission validation offline, for CI. Same pipeline as the webhook
 * (policy_validate_object).
 *
 * Every *.yaml, *.yml and *.json file below a DIR is read (sorted, recursive;
 * a file named with -f is read whatever its extension; "-" is stdin); multi-document files
 * and `kind: List` work. Objects that are not AIRoutingPolicy /
 * AIAccessPolicy are skipped and not counted.
 *
 * Cross-object checks run when --objects is given. They look objects up in
 * the files below --objects AND in the -f files (DESIGN §3: the other objects
 * of the -f files may serve as --objects too), so two policies of one change
 * set that serve the same model on one Gateway are caught before they reach a
 * cluster. An object present in both places counts once (--objects first).
 *
 * Output, one line each:
 *   <Kind>/<name>: <field path>: <message>
 *   <Kind>/<name>: warning: <text>
 *   <Kind>/<name>: valid
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
    json_t *docs; /* every object read, in file order (Lists expanded) */
    int io_error; /* some file could not be read or parsed */
} collection;

static void usage(FILE *out)
{
    fprintf(out, "usage: aigw validate -f FILE|DIR|- [-f FILE|DIR|- ...] [--objects DIR]\n"
                 "\n"
                 "Validates AIRoutingPolicy and AIAccessPolicy objects as the admission webhook\n"
                 "does. Directories are read recursively (*.yaml, *.yml, *.json); other kinds are\n"
                 "skipped. --objects DIR supplies the Secrets, ConfigMaps and other policies the\n"
                 "cross-object checks read (objects in the -f files count too); without it those\n"
                 "checks are skipped.\n"
                 "Exit status: 0 all valid, 1 any invalid, 2 usage or I/O error.\n");
}

/* ------------------------------------------------------------- reading */

static void add_doc(collection *c, json_t *doc)
{
    if (json_array_append(c->docs, doc) != 0) {
        fprintf(stderr, "aigw validate: out of memory\n");
        c->io_error = 1;
    }
}

/* Reads all of stdin into a malloc'ed buffer; NULL on error. */
static char *read_stdin(size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        size_t got = fread(buf + n, 1, cap - n, stdin);
        n += got;
        if (got == 0) {
            break;
        }
        if (n == cap) {
            char *nb = cap < ((size_t)1 << 30) ? realloc(buf, cap * 2) : NULL;
            if (nb == NULL) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (buf != NULL && ferror(stdin)) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Parses a file ("-" = stdin) into documents; 0 or -1 with err. */
static int load_path(const char *path, json_t **docs, char *err, size_t errlen)
{
    if (strcmp(path, "-") != 0) {
        return yaml_json_load_file(path, docs, err, errlen);
    }
    size_t len = 0;
    char *buf = read_stdin(&len);
    if (buf == NULL) {
        snprintf(err, errlen, "<stdin>: read error");
        return -1;
    }
    int rc = yaml_json_load(buf, len, "<stdin>", docs, err, errlen);
    free(buf);
    return rc;
}

static void read_file(collection *c, const char *path)
{
    json_t *docs = NULL;
    char err[512];
    if (load_path(path, &docs, err, sizeof err) != 0) {
        fprintf(stderr, "aigw validate: %s\n", err);
        c->io_error = 1;
        return;
    }
    size_t i;
    json_t *doc;
    json_array_foreach(docs, i, doc)
    {
        const char *kind = json_string_value(json_object_get(doc, "kind"));
        json_t *items = json_object_get(doc, "items");
        if (kind != NULL && strcmp(kind, "List") == 0 && json_is_array(items)) {
            size_t j;
            json_t *item;
            json_array_foreach(items, j, item)
            {
                add_doc(c, item);
            }
        } else {
            add_doc(c, doc);
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

static void visit(collection *c, const char *path, int depth, int explicit_file);

static void walk_dir(collection *c, const char *dir, int depth)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0) {
        fprintf(stderr, "aigw validate: %s: %s\n", dir, strerror(errno));
        c->io_error = 1;
        return;
    }
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        if (name[0] != '.') {
            size_t len = strlen(dir) + strlen(name) + 2;
            char *child = malloc(len);
            if (child == NULL) {
                c->io_error = 1;
            } else {
                snprintf(child, len, "%s/%s", dir, name);
                visit(c, child, depth + 1, 0);
                free(child);
            }
        }
        free(names[i]);
    }
    free(names);
}

static void visit(collection *c, const char *path, int depth, int explicit_file)
{
    struct stat sb;
    if (explicit_file && strcmp(path, "-") == 0) {
        read_file(c, path);
        return;
    }
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "aigw validate: %s: %s\n", path, strerror(errno));
        c->io_error = 1;
        return;
    }
    if (S_ISDIR(sb.st_mode)) {
        if (depth > MAX_DEPTH) {
            fprintf(stderr, "aigw validate: %s: directories nested too deeply\n", path);
            c->io_error = 1;
            return;
        }
        walk_dir(c, path, depth);
    } else if (explicit_file || (S_ISREG(sb.st_mode) && is_manifest(path))) {
        read_file(c, path);
    }
}

/* ------------------------------------------------------- lookup source */

static const char *str_at(const json_t *obj, const char *a, const char *b)
{
    const json_t *v = json_object_get(obj, a);
    if (b != NULL) {
        v = json_object_get(v, b);
    }
    return json_string_value(v);
}

/* Same apiVersion, kind, namespace ("" = default) and name. */
static int same_object(const json_t *a, const json_t *b)
{
    const char *na = str_at(a, "metadata", "namespace"), *nb = str_at(b, "metadata", "namespace");
    na = na != NULL && na[0] != '\0' ? na : "default";
    nb = nb != NULL && nb[0] != '\0' ? nb : "default";
    return strcmp(str_at(a, "apiVersion", NULL), str_at(b, "apiVersion", NULL)) == 0 &&
           strcmp(str_at(a, "kind", NULL), str_at(b, "kind", NULL)) == 0 &&
           strcmp(str_at(a, "metadata", "name"), str_at(b, "metadata", "name")) == 0 &&
           strcmp(na, nb) == 0;
}

static int is_addressable(const json_t *o)
{
    return str_at(o, "apiVersion", NULL) != NULL && str_at(o, "kind", NULL) != NULL &&
           str_at(o, "metadata", "name") != NULL;
}

/* Appends the addressable objects of `from` not already in `into`. */
static int merge_objects(json_t *into, const json_t *from)
{
    size_t i;
    json_t *o;
    json_array_foreach(from, i, o)
    {
        if (!is_addressable(o)) {
            continue;
        }
        int dup = 0;
        for (size_t j = 0; j < json_array_size(into) && !dup; j++) {
            dup = same_object(json_array_get(into, j), o);
        }
        if (!dup && json_array_append(into, o) != 0) {
            return -1;
        }
    }
    return 0;
}

static object_source *open_lookups(const char *objects_dir, const json_t *inputs, int *io_error)
{
    collection objs = {json_array(), 0};
    json_t *all = json_array();
    object_source *src = NULL;
    char err[512] = "out of memory";
    if (objs.docs != NULL && all != NULL) {
        visit(&objs, objects_dir, 0, 0);
        if (!objs.io_error && merge_objects(all, objs.docs) == 0 &&
            merge_objects(all, inputs) == 0) {
            src = object_source_mem_new(all, err, sizeof err);
        }
    }
    if (src == NULL) {
        if (!objs.io_error) {
            fprintf(stderr, "aigw validate: --objects %s: %s\n", objects_dir, err);
        }
        *io_error = 1;
    }
    json_decref(objs.docs);
    json_decref(all);
    return src;
}

/* ---------------------------------------------------------- validating */

static void print_result(const json_t *obj, const field_errors *errs, const policy_warnings *w)
{
    const char *kind = str_at(obj, "kind", NULL);
    const char *name = str_at(obj, "metadata", "name");
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

/* Validates every policy among docs. Returns 1 if any was invalid, -1 on OOM. */
static int validate_all(const json_t *docs, const policy_lookup *lk, size_t *checked)
{
    int invalid = 0;
    size_t i;
    const json_t *obj;
    json_array_foreach(docs, i, obj)
    {
        if (policy_kind_of(obj) == POLICY_KIND_UNKNOWN) {
            continue;
        }
        field_errors errs;
        policy_warnings warns;
        field_errors_init(&errs);
        policy_warnings_init(&warns);
        int rc = policy_validate_object(obj, NULL, lk, &errs, &warns);
        if (rc >= 0) {
            print_result(obj, &errs, &warns);
            (*checked)++;
            invalid = invalid || errs.len > 0;
        }
        policy_warnings_free(&warns);
        field_errors_free(&errs);
        if (rc < 0) {
            fprintf(stderr, "aigw validate: out of memory\n");
            return -1;
        }
    }
    return invalid;
}

/* Parses flags into files/objects_dir. 0 to run, 1 after --help, -1 usage error. */
static int parse_args(int argc, char **argv, const char **files, size_t *n_files,
                      const char **objects_dir)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 1;
        }
        if ((strcmp(a, "-f") == 0 || strcmp(a, "--filename") == 0) && i + 1 < argc) {
            files[(*n_files)++] = argv[++i];
        } else if (strncmp(a, "--filename=", 11) == 0) {
            files[(*n_files)++] = a + 11;
        } else if (strcmp(a, "--objects") == 0 && i + 1 < argc) {
            *objects_dir = argv[++i];
        } else if (strncmp(a, "--objects=", 10) == 0) {
            *objects_dir = a + 10;
        } else {
            fprintf(stderr, "aigw validate: unexpected argument %s\n", a);
            usage(stderr);
            return -1;
        }
    }
    if (*n_files == 0) {
        fprintf(stderr, "aigw validate: at least one -f FILE|DIR is required\n");
        usage(stderr);
        return -1;
    }
    return 0;
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
    int prc = parse_args(argc, argv, files, &n_files, &objects_dir);
    if (prc != 0) {
        free(files);
        return prc > 0 ? 0 : 2;
    }
    collection in = {json_array(), 0};
    if (in.docs == NULL) {
        free(files);
        fprintf(stderr, "aigw validate: out of memory\n");
        return 2;
    }
    for (size_t i = 0; i < n_files; i++) {
        visit(&in, files[i], 0, 1);
    }
    free(files);
    policy_lookup lk = {NULL, 0, (int64_t)time(NULL)};
    if (objects_dir != NULL && !in.io_error) {
        lk.src = open_lookups(objects_dir, in.docs, &in.io_error);
    }
    size_t checked = 0;
    int invalid = in.io_error ? 0 : validate_all(in.docs, &lk, &checked);
    object_source_free(lk.src);
    json_decref(in.docs);
    if (in.io_error || invalid < 0) {
        return 2;
    }
    if (checked == 0) {
        fprintf(stderr, "aigw validate: no AIRoutingPolicy or AIAccessPolicy found\n");
    }
    return invalid ? 1 : 0;
}
