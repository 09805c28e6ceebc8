/*
 * fuzz_admission: the AdmissionReview envelope. Any input must parse or be
 * refused with a one-line error; a parsed request, answered with warnings,
 * a denial or a patch derived from the input, must render to a reply that is
 * valid JSON echoing the request's uid.
 */
#include "webhook/admission.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void answer(admission_response *resp, const admission_request *req, const uint8_t *data,
                   size_t size)
{
    uint8_t mode = size > 0 ? data[size - 1] : 0;
    /* Input bytes as warning text exercise the sanitiser (control bytes, broken UTF-8). */
    char text[300];
    size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    if (mode & 1) {
        admission_response_warn(resp, "%s", text);
    }
    if (mode & 2) {
        admission_response_deny(resp, 403, "Forbidden", text);
    }
    if (mode & 4) {
        field_errors errs;
        field_errors_init(&errs);
        field_errors_add(&errs, FIELD_INVALID, "spec.x", text, "%s", "bad");
        admission_response_deny_invalid(resp, req->kind, req->name, &errs);
        field_errors_free(&errs);
    }
    if (mode & 8) {
        jbuf b;
        jbuf_init(&b);
        jbuf_puts(&b, "[{\"op\":\"add\",\"path\":\"/x\",\"value\":");
        jbuf_str(&b, req->uid);
        jbuf_puts(&b, "}]");
        size_t len = 0;
        char *patch = jbuf_take(&b, &len);
        admission_response_set_patch(resp, patch, len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    admission_request req;
    char err[256];
    if (admission_request_parse((const char *)data, size, &req, err, sizeof err) != 0) {
        if (strchr(err, '\n') != NULL || req.doc.root != NULL) {
            abort();
        }
        return 0;
    }
    admission_response resp;
    admission_response_init(&resp);
    answer(&resp, &req, data, size);
    size_t len = 0;
    char *out = admission_review_render(&req, &resp, &len);
    if (out != NULL) {
        json_t *back = json_loadb(out, len, 0, NULL);
        json_t *uid = json_object_get(json_object_get(back, "response"), "uid");
        if (back == NULL || !json_is_string(uid) || strcmp(json_string_value(uid), req.uid) != 0) {
            abort();
        }
        json_decref(back);
        free(out);
    } else if (!resp.oom) {
        abort(); /* only an allocation failure may stop a reply */
    }
    admission_response_free(&resp);
    admission_request_free(&req);
    return 0;
}
