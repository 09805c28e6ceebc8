/* Tests for reconciler/owned_index: objects by controller owner uid. */
#include "reconciler/owned_index.h"
#include "tests/unit/unit.h"

#include <string.h>

static json_t *gen(const char *kind, const char *name, const char *uid)
{
    json_t *o = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind", kind, "metadata",
                          "name", name, "namespace", "team");
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    if (uid) {
        json_object_set_new(
            json_object_get(o, "metadata"), "ownerReferences",
            json_pack("[{s:s, s:s, s:b}]", "uid", uid, "kind", "AIRoutingPolicy", "controller", 1));
    }
    return o;
}

static const char *name_at(json_t *arr, size_t i)
{
    return json_string_value(json_object_get(json_array_get(arr, i), "name"));
}

static void test_put_list_move_remove(void)
{
    owned_index *ix = owned_index_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(ix);
    json_t *b = gen("Backend", "p-b", "u1"), *a = gen("Backend", "p-a", "u1"),
           *s = gen("Secret", "p-a-credentials", "u1"), *o = gen("Backend", "q-a", "u2"),
           *none = gen("Backend", "foreign", NULL);
    CU_ASSERT_EQUAL(owned_index_put(ix, b), 0);
    CU_ASSERT_EQUAL(owned_index_put(ix, a), 0);
    CU_ASSERT_EQUAL(owned_index_put(ix, s), 0);
    CU_ASSERT_EQUAL(owned_index_put(ix, o), 0);
    CU_ASSERT_EQUAL(owned_index_put(ix, none), 0);
    CU_ASSERT_EQUAL(owned_index_put(ix, a), 0); /* again: no duplicate */
    json_t *l = owned_index_list(ix, "u1");
    CU_ASSERT_EQUAL_FATAL(json_array_size(l), 3);
    CU_ASSERT_STRING_EQUAL(name_at(l, 0), "p-a");
    CU_ASSERT_STRING_EQUAL(name_at(l, 1), "p-b");
    CU_ASSERT_STRING_EQUAL(name_at(l, 2), "p-a-credentials");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(l, 2), "kind")),
                           "Secret");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(l, 2), "namespace")),
                           "team");
    json_decref(l);

    /* p-b changes owner to u2 */
    json_t *b2 = gen("Backend", "p-b", "u2");
    owned_index_put(ix, b2);
    l = owned_index_list(ix, "u1");
    CU_ASSERT_EQUAL(json_array_size(l), 2);
    json_decref(l);
    l = owned_index_list(ix, "u2");
    CU_ASSERT_EQUAL(json_array_size(l), 2);
    json_decref(l);

    /* the owner reference is dropped: forgotten */
    json_t *b3 = gen("Backend", "p-b", NULL);
    owned_index_put(ix, b3);
    l = owned_index_list(ix, "u2");
    CU_ASSERT_EQUAL(json_array_size(l), 1);
    json_decref(l);

    owned_index_remove(ix, a);
    owned_index_clear_kind(ix, "Secret");
    l = owned_index_list(ix, "u1");
    CU_ASSERT_EQUAL(json_array_size(l), 0);
    json_decref(l);
    l = owned_index_list(ix, "nobody");
    CU_ASSERT_PTR_NOT_NULL(l);
    CU_ASSERT_EQUAL(json_array_size(l), 0);
    json_decref(l);

    json_decref(a);
    json_decref(b);
    json_decref(b2);
    json_decref(b3);
    json_decref(s);
    json_decref(o);
    json_decref(none);
    owned_index_free(ix);
}

/* An unchanged generated Secret is known from its metadata: no read, no write. */
static void test_holds(void)
{
    owned_index *ix = owned_index_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(ix);
    json_t *s = gen("Secret", "p-openai-credentials", "uid-1");
    json_object_set_new(json_object_get(s, "metadata"), "annotations",
                        json_pack("{s:s}", "aigateway.kagenti.dev/applied-hash", "h1"));
    CU_ASSERT_EQUAL(owned_index_put(ix, s), 0);
    CU_ASSERT_TRUE(owned_index_holds(ix, "Secret", "team", "p-openai-credentials", "uid-1", "h1"));
    /* other content, other owner, other name: a read decides */
    CU_ASSERT_FALSE(owned_index_holds(ix, "Secret", "team", "p-openai-credentials", "uid-1", "h2"));
    CU_ASSERT_FALSE(owned_index_holds(ix, "Secret", "team", "p-openai-credentials", "uid-2", "h1"));
    CU_ASSERT_FALSE(owned_index_holds(ix, "Secret", "team", "other", "uid-1", "h1"));
    CU_ASSERT_FALSE(owned_index_holds(ix, "Secret", "team", "p-openai-credentials", "uid-1", NULL));
    /* a change seen by the watch replaces what is known */
    json_object_set_new(json_object_get(json_object_get(s, "metadata"), "annotations"),
                        "aigateway.kagenti.dev/applied-hash", json_string("h2"));
    CU_ASSERT_EQUAL(owned_index_put(ix, s), 0);
    CU_ASSERT_FALSE(owned_index_holds(ix, "Secret", "team", "p-openai-credentials", "uid-1", "h1"));
    CU_ASSERT_TRUE(owned_index_holds(ix, "Secret", "team", "p-openai-credentials", "uid-1", "h2"));
    owned_index_remove(ix, s);
    CU_ASSERT_FALSE(owned_index_holds(ix, "Secret", "team", "p-openai-credentials", "uid-1", "h2"));
    json_decref(s);
    owned_index_free(ix);
}

UNIT_SUITE(owned_index, UNIT_CASE(test_put_list_move_remove), UNIT_CASE(test_holds));
