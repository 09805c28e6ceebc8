/*
 * serve_cmd: `aigw serve`, the admission webhook process (flags in
 * docs/operations.md). Returns the exit status: 0 after a graceful stop on
 * SIGTERM/SIGINT, 2 on a usage error or when the servers cannot start.
 */
#ifndef AIGW_WEBHOOK_SERVE_CMD_H
#define AIGW_WEBHOOK_SERVE_CMD_H

int webhook_cmd_serve(int argc, char **argv);

#endif
