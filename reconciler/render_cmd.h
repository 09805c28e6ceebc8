/*
 * render_cmd: `aigw render`, the offline view of what the reconciler applies.
 * See render_cmd.c for flags, output and exit status.
 */
#ifndef AIGW_RECONCILER_RENDER_CMD_H
#define AIGW_RECONCILER_RENDER_CMD_H

/* Runs `aigw render`; argv[0] is "render". Returns the exit status (0, 1, 2). */
int reconciler_cmd_render(int argc, char **argv);

#endif
