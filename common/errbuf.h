/*
 * errbuf: the `char *err, size_t errlen` convention used across aigw for
 * one-line error messages. A NULL or zero-length buffer is allowed and
 * ignored. Messages never carry a Secret's value.
 */
#ifndef AIGW_COMMON_ERRBUF_H
#define AIGW_COMMON_ERRBUF_H

#include <stddef.h>

/* printf into err (truncated to errlen). */
void errbuf_set(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
