/*
 * yaml_json: YAML <-> jansson conversion with libyaml, as kubectl reads YAML
 * (go-yaml v2 scalar rules: true/false/yes/no/on/off booleans, ints, floats,
 * ~/null, quoted scalars stay strings). JSON is a subset of YAML, so the loader
 * reads JSON files too.
 *
 * Ownership: returned json_t values are new references; returned strings are
 * malloc'ed and freed by the caller.
 */
#ifndef AIGW_COMMON_YAML_JSON_H
#define AIGW_COMMON_YAML_JSON_H

#include <jansson.h>
#include <stddef.h>

/*
 * Parses every document of `buf` into *docs_out (a JSON array; empty documents
 * are skipped; a `kind: List` document is NOT expanded here). On error returns
 * -1 and writes "<source_name>:<line>: <problem>" to err. Duplicate mapping keys
 * and aliases are errors.
 */
int yaml_json_load(const char *buf, size_t len, const char *source_name, json_t **docs_out,
                   char *err, size_t errlen);

/*
 * Like yaml_json_load, and also returns in *lines_out (a JSON array of
 * integers, one per document in *docs_out) the 1-based line where each
 * document's content starts, so callers can name the line of a document
 * that parses but is not acceptable. lines_out may be NULL.
 */
int yaml_json_load_lines(const char *buf, size_t len, const char *source_name, json_t **docs_out,
                         json_t **lines_out, char *err, size_t errlen);

/* Reads a file and calls yaml_json_load. */
int yaml_json_load_file(const char *path, json_t **docs_out, char *err, size_t errlen);

/*
 * Renders one value as a YAML document (block style, keys in insertion order,
 * strings quoted whenever a plain scalar would read back as another type).
 * NULL on allocation failure.
 */
char *yaml_json_dump(const json_t *value);

/* Renders several documents separated by "---". NULL on allocation failure. */
char *yaml_json_dump_all(const json_t *docs);

#endif
