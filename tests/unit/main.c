/*
 * main: runs every registered CUnit suite (or one, with -s NAME) in basic
 * mode and exits non-zero when any assert failed.
 */
#include "tests/unit/unit.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SUITES 128

typedef struct {
    const char *name;
    const unit_case *cases;
    size_t n;
} suite_entry;

static suite_entry suites[MAX_SUITES];
static size_t n_suites;

void unit_register_suite(const char *name, const unit_case *cases, size_t n)
{
    if (n_suites < MAX_SUITES) {
        suites[n_suites++] = (suite_entry){name, cases, n};
    } else {
        fprintf(stderr, "unit: too many suites, raise MAX_SUITES\n");
        abort();
    }
}

const char *unit_shared_path(const char *rel)
{
    static char buf[4096];
    const char *base = getenv("AIGW_SHARED");
    snprintf(buf, sizeof buf, "%s/%s", base && base[0] ? base : "../shared", rel);
    return buf;
}

char *unit_read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0) {
            break;
        }
        if (cap - len - 1 == 0) {
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    int failed = ferror(f);
    fclose(f);
    if (buf == NULL || failed) {
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    if (len_out != NULL) {
        *len_out = len;
    }
    return buf;
}

static int compare_suites(const void *a, const void *b)
{
    return strcmp(((const suite_entry *)a)->name, ((const suite_entry *)b)->name);
}

int main(int argc, char **argv)
{
    const char *only = NULL;
    if (argc == 3 && strcmp(argv[1], "-s") == 0) {
        only = argv[2];
    } else if (argc != 1) {
        fprintf(stderr, "usage: %s [-s SUITE]\n", argv[0]);
        return 2;
    }
    if (CU_initialize_registry() != CUE_SUCCESS) {
        return 2;
    }
    qsort(suites, n_suites, sizeof suites[0], compare_suites);
    size_t added = 0;
    for (size_t i = 0; i < n_suites; i++) {
        if (only != NULL && strcmp(only, suites[i].name) != 0) {
            continue;
        }
        CU_pSuite s = CU_add_suite(suites[i].name, NULL, NULL);
        if (s == NULL) {
            CU_cleanup_registry();
            return 2;
        }
        for (size_t j = 0; j < suites[i].n; j++) {
            if (CU_add_test(s, suites[i].cases[j].name, suites[i].cases[j].fn) == NULL) {
                CU_cleanup_registry();
                return 2;
            }
        }
        added++;
    }
    if (added == 0) {
        fprintf(stderr, "unit: no suite matched\n");
        CU_cleanup_registry();
        return 2;
    }
    CU_basic_set_mode(CU_BRM_NORMAL);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned asserts = CU_get_number_of_asserts();
    CU_cleanup_registry();
    if (asserts == 0) {
        fprintf(stderr, "unit: no assert ran\n");
        return 1;
    }
    return failed == 0 ? 0 : 1;
}
