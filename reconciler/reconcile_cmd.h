/*
 * reconcile_cmd: `aigw reconcile`, the controller process (flags, metrics
 * listener, signals). Returns the exit status (0 after a clean SIGTERM, 2 on
 * usage or start-up errors).
 */
#ifndef AIGW_RECONCILER_RECONCILE_CMD_H
#define AIGW_RECONCILER_RECONCILE_CMD_H

int reconciler_cmd_reconcile(int argc, char **argv);

#endif
