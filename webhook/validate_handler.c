/*
 * validate_handler: /validate. Policy validation lands with the policy module;
 * until then every request is admitted.
 */
#include "webhook/handlers.h"

void webhook_handle_validate(const webhook_context *ctx, const admission_request *req,
                             admission_response *resp)
{
    (void)ctx;
    (void)req;
    resp->allowed = 1;
}
