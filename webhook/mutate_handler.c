/*
 * mutate_handler: /mutate-pods. Injection lands with the injector module;
 * until then pods are admitted without a patch.
 */
#include "webhook/handlers.h"

void webhook_handle_mutate_pods(const webhook_context *ctx, const admission_request *req,
                                admission_response *resp)
{
    (void)ctx;
    (void)req;
    resp->allowed = 1;
}
