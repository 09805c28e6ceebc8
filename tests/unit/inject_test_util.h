/*
 * inject_test_util: the injector tests hold pods as jansson values; the
 * planner reads a jv tree and writes the patch as text. These convert.
 */
#ifndef AIGW_TESTS_INJECT_TEST_UTIL_H
#define AIGW_TESTS_INJECT_TEST_UTIL_H

#include "common/jv.h"
#include "injector/inject.h"
#include "injector/runtime.h"

#include <jansson.h>

/* The result's patch as a jansson array ([] when none); NULL when the text does not parse. */
json_t *test_patch_json(const inject_result *r);

/* Number of operations in the result's patch (0 when none). */
size_t test_patch_ops(const inject_result *r);

/* inject_runtime_plan() for a jansson pod. */
int test_runtime_plan(inject_runtime *rt, const json_t *pod, const char *ns, inject_result *r);

/* json_patch_apply() of the result's text patch. */
int test_apply_result(const json_t *pod, const inject_result *r, json_t **out, char *err,
                      size_t errlen);

#endif
