/*
 * object_source_dir: the --objects DIR source. Walks DIR recursively (entries
 * in name order; hidden entries, whose names start with '.', are ignored, as
 * they are in a mounted ConfigMap's "..data" plumbing), loads every *.yaml,
 * *.yml and *.json file, expands `kind: List`, and hands the objects to the
 * in-memory source. Any problem fails the whole open with "<file>:<line>: ..."
 * so nothing is silently skipped.
 */
#include "common/object_source.h"

#include "common/object_source_mem.h"
#include "common/yaml_json.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DIR_MAX_DEPTH 32

typedef struct {
    json_t *objects;
    json_t *origins;
    char *err;
    size_t errlen;
} dir_loader;

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

static int add_object(dir_loader *ld, json_t *obj, const char *path, long line)
{
    char origin[4200];
    snprintf(origin, sizeof origin, "%s:%ld", path, line);
    char why[160];
    if (objsrc_check_object(obj, why, sizeof why) != 0) {
        snprintf(ld->err, ld->errlen, "%s: %s", origin, why);
        return -1;
    }
    if (json_array_append(ld->objects, obj) != 0 ||
        json_array_append_new(ld->origins, json_string(origin)) != 0) {
        snprintf(ld->err, ld->errlen, "%s: out of memory", origin);
        return -1;
    }
    return 0;
}

/* One document: a List is expanded, anything else must be an object. */
static int add_document(dir_loader *ld, json_t *doc, const char *path, long line)
{
    const char *kind = json_string_value(json_object_get(doc, "kind"));
    if (kind != NULL && strcmp(kind, "List") == 0) {
        json_t *items = json_object_get(doc, "items");
        if (items != NULL && !json_is_array(items)) {
            snprintf(ld->err, ld->errlen, "%s:%ld: List items is not a sequence", path, line);
            return -1;
        }
        size_t i;
        json_t *item;
        json_array_foreach(items, i, item)
        {
            if (add_object(ld, item, path, line) != 0) {
                size_t used = strlen(ld->err);
                snprintf(ld->err + used, ld->errlen - used, " (List item %zu)", i);
                return -1;
            }
        }
        return 0;
    }
    return add_object(ld, doc, path, line);
}

static int load_json_file(dir_loader *ld, const char *path)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        snprintf(ld->err, ld->errlen, "%s:%d: %s", path, jerr.line > 0 ? jerr.line : 1, jerr.text);
        return -1;
    }
    int rc = add_document(ld, doc, path, 1);
    json_decref(doc);
    return rc;
}

static int load_yaml_file(dir_loader *ld, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(ld->err, ld->errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    int rc = mem == NULL ? -1 : 0;
    char chunk[8192];
    size_t n;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (fwrite(chunk, 1, n, mem) != n) {
            rc = -1;
        }
    }
    if (rc == 0 && ferror(f)) {
        rc = -1;
    }
    fclose(f);
    if (mem != NULL && fclose(mem) != 0) {
        rc = -1;
    }
    if (rc != 0) {
        snprintf(ld->err, ld->errlen, "%s: read error", path);
        free(buf);
        return -1;
    }
    json_t *docs = NULL, *lines = NULL;
    rc = yaml_json_load_lines(buf, len, path, &docs, &lines, ld->err, ld->errlen);
    free(buf);
    for (size_t i = 0; rc == 0 && i < json_array_size(docs); i++) {
        long line = (long)json_integer_value(json_array_get(lines, i));
        rc = add_document(ld, json_array_get(docs, i), path, line);
    }
    json_decref(docs);
    json_decref(lines);
    return rc;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(dir_loader *ld, const char *dir, int depth);

static int visit(dir_loader *ld, const char *path, int depth)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(ld->err, ld->errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        return walk(ld, path, depth + 1);
    }
    if (!S_ISREG(st.st_mode)) {
        return 0;
    }
    if (has_suffix(path, ".json")) {
        return load_json_file(ld, path);
    }
    if (has_suffix(path, ".yaml") || has_suffix(path, ".yml")) {
        return load_yaml_file(ld, path);
    }
    return 0;
}

static int walk(dir_loader *ld, const char *dir, int depth)
{
    if (depth > DIR_MAX_DEPTH) {
        snprintf(ld->err, ld->errlen, "%s: directories nested deeper than %d (a symlink loop?)",
                 dir, DIR_MAX_DEPTH);
        return -1;
    }
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(ld->err, ld->errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nn = realloc(names, ncap * sizeof(char *));
            if (nn == NULL) {
                rc = -1;
                break;
            }
            names = nn;
            cap = ncap;
        }
        names[n] = strdup(de->d_name);
        if (names[n] == NULL) {
            rc = -1;
            break;
        }
        n++;
    }
    closedir(d);
    if (rc != 0) {
        snprintf(ld->err, ld->errlen, "%s: out of memory", dir);
    } else if (n > 0) {
        qsort(names, n, sizeof names[0], compare_names);
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        size_t plen = strlen(dir) + strlen(names[i]) + 2;
        char *path = malloc(plen);
        if (path == NULL) {
            snprintf(ld->err, ld->errlen, "%s: out of memory", dir);
            rc = -1;
            break;
        }
        snprintf(path, plen, "%s/%s", dir, names[i]);
        rc = visit(ld, path, depth);
        free(path);
    }
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
    return rc;
}

object_source *object_source_dir_open(const char *dir, char *err, size_t errlen)
{
    char dummy[8];
    dir_loader ld = {json_array(), json_array(), err != NULL ? err : dummy,
                     err != NULL ? errlen : sizeof dummy};
    if (ld.objects == NULL || ld.origins == NULL) {
        snprintf(ld.err, ld.errlen, "out of memory");
        json_decref(ld.objects);
        json_decref(ld.origins);
        return NULL;
    }
    struct stat st;
    int rc;
    if (stat(dir, &st) != 0) {
        snprintf(ld.err, ld.errlen, "%s: %s", dir, strerror(errno));
        rc = -1;
    } else if (S_ISDIR(st.st_mode)) {
        rc = walk(&ld, dir, 0);
    } else {
        /* A single file is accepted too: `--objects cluster.yaml`. */
        rc = visit(&ld, dir, 0);
    }
    if (rc != 0) {
        json_decref(ld.objects);
        json_decref(ld.origins);
        return NULL;
    }
    size_t nlen = strlen(dir) + 5;
    char *name = malloc(nlen);
    if (name == NULL) {
        snprintf(ld.err, ld.errlen, "out of memory");
        json_decref(ld.objects);
        json_decref(ld.origins);
        return NULL;
    }
    snprintf(name, nlen, "dir:%s", dir);
    object_source *src = objsrc_mem_create(ld.objects, ld.origins, name, ld.err, ld.errlen);
    free(name);
    json_decref(ld.origins);
    return src;
}
