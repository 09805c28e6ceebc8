/*
 * fuzz_yaml: yaml_json_load on arbitrary bytes; whatever loads is dumped and
 * loaded again, and must come back equal (the dumper's quoting is checked).
 */
#include "common/yaml_json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *docs = NULL, *lines = NULL;
    char err[256];
    if (yaml_json_load_lines((const char *)data, size, "fuzz", &docs, &lines, err, sizeof err) !=
        0) {
        return 0;
    }
    if (json_array_size(docs) != json_array_size(lines)) {
        abort();
    }
    char *text = yaml_json_dump_all(docs);
    if (text != NULL) {
        json_t *back = NULL;
        if (yaml_json_load(text, strlen(text), "dump", &back, err, sizeof err) != 0) {
            fprintf(stderr, "dump does not load again: %s\n%s\n", err, text);
            abort();
        }
        if (!json_equal(back, docs)) {
            fprintf(stderr, "dump round trip differs:\n%s\n", text);
            abort();
        }
        json_decref(back);
        free(text);
    }
    json_decref(docs);
    json_decref(lines);
    return 0;
}
