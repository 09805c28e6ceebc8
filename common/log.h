/*
 * log: JSON-lines logging to stderr, one object per line:
 *   {"ts":"2026-11-28T15:10:49.123Z","level":"info","msg":"listening","addr":"127.0.0.1:9443"}
 *
 * Only the edges (servers, command loops) log; the pure core returns errors as
 * values. Never pass a Secret's value as a field. Thread-safe: each line is
 * written with one write(2).
 */
#ifndef AIGW_COMMON_LOG_H
#define AIGW_COMMON_LOG_H

#include <stdio.h>

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

/* Minimum level written (default LOG_INFO). */
void log_set_level(log_level level);

/* 1 when a line at this level would be written (skip building costly fields otherwise). */
int log_enabled(log_level level);

/* Parses "debug", "info", "warn", "error"; returns -1 on an unknown name. */
int log_level_parse(const char *name, log_level *out);

/* Redirects output to fd (default 2). For tests. */
void log_set_fd(int fd);

/*
 * Writes one line. The variadic part is key/value pairs of strings, ended by
 * NULL: log_event(LOG_INFO, "listening", "addr", addr, NULL). A NULL value is
 * written as JSON null.
 */
void log_event(log_level level, const char *msg, ...);

#define log_info(...) log_event(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_event(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_event(LOG_ERROR, __VA_ARGS__)
#define log_debug(...) log_event(LOG_DEBUG, __VA_ARGS__)

#endif
