/* render_meta: the shared envelope of rendered objects. See render_meta.h. */
#include "reconciler/envoy/render_meta.h"
#include "reconciler/objname.h"

json_t *render_object(const intent_owner *owner, const char *api_version, const char *kind,
                      const char *name, const char *body_key, json_t *body)
{
    if (!body) {
        return NULL;
    }
    json_t *meta =
        objname_metadata(name, owner->ns, owner->api_version, owner->kind, owner->name, owner->uid);
    json_t *obj = NULL;
    if (meta) {
        obj = json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", api_version, "kind", kind, "metadata",
                        meta, body_key, body);
        return obj;
    }
    json_decref(body);
    return NULL;
}

int render_append(json_t *arr, json_t *obj)
{
    if (!obj) {
        return 0;
    }
    return json_array_append_new(arr, obj) == 0;
}
