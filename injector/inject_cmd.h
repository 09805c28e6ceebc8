/*
 * inject_cmd: `aigw inject`, the offline injector (like istioctl kube-inject).
 *
 *   aigw inject -f POD.yaml [--namespace NS] [--objects DIR] [-o yaml|json]
 *               [--config FILE] [--native-sidecars auto|true|false]
 *       prints the pod as /mutate-pods would admit it; warnings and the skip
 *       reason go to stderr.
 *   aigw inject --review -f REVIEW.json [--objects DIR] [--config FILE] [...]
 *       prints the AdmissionReview reply exactly as /mutate-pods would send it.
 *
 * Exit status: 0 done (a pod that is not injected is not an error), 1 invalid
 * input, 2 usage or I/O error.
 */
#ifndef AIGW_INJECTOR_INJECT_CMD_H
#define AIGW_INJECTOR_INJECT_CMD_H

int injector_cmd_inject(int argc, char **argv);

#endif
