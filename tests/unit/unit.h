/*
 * unit: CUnit suite registration for tests/unit/. Each test file ends with
 *
 *   UNIT_SUITE(envelope,
 *       UNIT_CASE(test_parse_ok),
 *       UNIT_CASE(test_parse_not_json));
 *
 * and is picked up by the Makefile's wildcard; main.c runs every suite.
 * `build/unit_tests -s NAME` runs one suite.
 *
 * unit_shared_path("testdata/...") gives the path of a file in ../shared
 * (AIGW_SHARED overrides the folder); unit_read_file() reads a whole file.
 */
#ifndef AIGW_TESTS_UNIT_H
#define AIGW_TESTS_UNIT_H

#include <CUnit/CUnit.h>
#include <stddef.h>

typedef struct {
    const char *name;
    CU_TestFunc fn;
} unit_case;

void unit_register_suite(const char *name, const unit_case *cases, size_t n);

/* Returns a static buffer: "<AIGW_SHARED or ../shared>/<rel>". */
const char *unit_shared_path(const char *rel);

/* Reads a file; caller frees. NULL on error. *len_out may be NULL. */
char *unit_read_file(const char *path, size_t *len_out);

#define UNIT_CASE(fn)                                                                              \
    {                                                                                              \
#fn, fn                                                                                    \
    }
#define UNIT_SUITE(sname, ...)                                                                     \
    static const unit_case sname##_cases[] = {__VA_ARGS__};                                        \
    __attribute__((constructor)) static void sname##_register(void)                                \
    {                                                                                              \
        unit_register_suite(#sname, sname##_cases,                                                 \
                            sizeof sname##_cases / sizeof sname##_cases[0]);                       \
    }

#endif
