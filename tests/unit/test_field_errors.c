/* Tests for common/field_errors: wording and JSON causes. */
#include "common/field_errors.h"
#include "tests/unit/unit.h"

#include <stdlib.h>
#include <string.h>

static void check_format(field_error_type t, const char *path, const char *value,
                         const char *detail, const char *want)
{
    field_errors errs;
    field_errors_init(&errs);
    if (detail) {
        field_errors_add(&errs, t, path, value, "%s", detail);
    } else {
        field_errors_add(&errs, t, path, value, NULL);
    }
    CU_ASSERT_EQUAL_FATAL(errs.len, 1);
    char *s = field_error_format(&errs.items[0]);
    CU_ASSERT_STRING_EQUAL(s, want);
    free(s);
    field_errors_free(&errs);
}

static void test_messages(void)
{
    check_format(FIELD_DUPLICATE, "spec.models[2].name", "gpt-4o", NULL,
                 "spec.models[2].name: Duplicate value: \"gpt-4o\"");
    check_format(FIELD_INVALID, "spec.providers[0].endpoint", "ftp://x",
                 "scheme must be http or https",
                 "spec.providers[0].endpoint: Invalid value: \"ftp://x\": scheme must be http or "
                 "https");
    check_format(FIELD_NOT_FOUND, "spec.models[1].backends[0].provider", "azure", NULL,
                 "spec.models[1].backends[0].provider: Not found: \"azure\"");
    check_format(FIELD_REQUIRED, "spec.targetRef", NULL, NULL, "spec.targetRef: Required value");
    check_format(FIELD_NOT_SUPPORTED, "spec.x", "y", "\"a\", \"b\"",
                 "spec.x: Unsupported value: \"y\": supported values: \"a\", \"b\"");
    check_format(FIELD_INVALID, "a", "quo\"te\n", "d", "a: Invalid value: \"quo\\\"te\\n\": d");
}

static void test_int_and_causes(void)
{
    field_errors errs;
    field_errors_init(&errs);
    field_errors_add_int(&errs, FIELD_INVALID, "spec.models[0].backends[0].weight", -1,
                         "must be greater than or equal to 0");
    field_errors_add(&errs, FIELD_REQUIRED, "spec.targetRef.name", NULL, NULL);
    char *joined = field_errors_join(&errs);
    CU_ASSERT_STRING_EQUAL(joined,
                           "spec.models[0].backends[0].weight: Invalid value: -1: must be greater "
                           "than or equal to 0, spec.targetRef.name: Required value");
    free(joined);
    json_t *causes = field_errors_causes(&errs);
    CU_ASSERT_EQUAL(json_array_size(causes), 2);
    json_t *c0 = json_array_get(causes, 0);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(c0, "reason")), "FieldValueInvalid");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(c0, "field")),
                           "spec.models[0].backends[0].weight");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(causes, 1), "reason")),
                           "FieldValueRequired");
    json_decref(causes);
    CU_ASSERT_FALSE(field_errors_oom(&errs));
    field_errors_free(&errs);
}

UNIT_SUITE(field_errors, UNIT_CASE(test_messages), UNIT_CASE(test_int_and_causes))
