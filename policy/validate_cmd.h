/*
 * validate_cmd: the `aigw validate` command (see validate_cmd.c for flags,
 * output format and exit status).
 */
#ifndef AIGW_POLICY_VALIDATE_CMD_H
#define AIGW_POLICY_VALIDATE_CMD_H

/* argv[0] is "validate". Returns 0 all valid, 1 any invalid, 2 usage or I/O error. */
int policy_cmd_validate(int argc, char **argv);

#endif
