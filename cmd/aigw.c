/*
 * aigw: command dispatch only. Each command lives in its module and returns
 * the process exit status (0 ok, 1 failure/invalid input, 2 usage or I/O
 * error); this file is the only place that exits.
 */
#include "injector/inject_cmd.h"
#include "policy/validate_cmd.h"
#include "certs/certgen.h"
#include "webhook/serve_cmd.h"
#include "reconciler/reconcile_cmd.h"
#include "reconciler/render_cmd.h"
#include "webhook/serve_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef AIGW_VERSION
#define AIGW_VERSION "0.1.0"
#endif

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    const char *summary;
} command;

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("aigw %s\n", AIGW_VERSION);
    return 0;
}

static const command commands[] = {
    {"version", cmd_version, "print the version"},
    {"certgen", certs_cmd_certgen, "make the webhook serving certificate / patch caBundle"},
    {"serve", webhook_cmd_serve, "run the admission webhook (HTTPS) and its metrics port"},
    {"validate", policy_cmd_validate, "validate AIRoutingPolicy/AIAccessPolicy files offline"},
    {"render", reconciler_cmd_render, "print the resources the reconciler would apply"},
    {"inject", injector_cmd_inject, "print a pod as the injector would admit it"},
    {"reconcile", reconciler_cmd_reconcile, "run the controller that writes the Envoy resources"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: aigw COMMAND [flags]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    }
    fprintf(out, "\nRun 'aigw COMMAND --help' for a command's flags.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            int rc = commands[i].run(argc - 1, argv + 1);
            exit(rc);
        }
    }
    fprintf(stderr, "aigw: unknown command %s\n", argv[1]);
    usage(stderr);
    return 2;
}
