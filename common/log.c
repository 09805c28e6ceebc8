/*
 * log: JSON-lines logger. Values are escaped by jansson, so a field can never
 * break the line format; lines are assembled in memory and written with one
 * write(2) so concurrent threads do not interleave.
 */
#include "common/log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static atomic_int min_level = LOG_INFO;
static atomic_int out_fd = 2;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(log_level level)
{
    atomic_store(&min_level, (int)level);
}

int log_level_parse(const char *name, log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (log_level)i;
            return 0;
        }
    }
    return -1;
}

void log_set_fd(int fd)
{
    atomic_store(&out_fd, fd);
}

static void format_now(char *buf, size_t len)
{
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03ldZ", (long)(tv.tv_usec / 1000));
}

static void write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n <= 0) {
            return; /* nowhere left to report a logging failure */
        }
        p += n;
        len -= (size_t)n;
    }
}

int log_enabled(log_level level)
{
    return (int)level >= atomic_load(&min_level);
}

void log_event(log_level level, const char *msg, ...)
{
    if ((int)level < atomic_load(&min_level)) {
        return;
    }
    char ts[40];
    format_now(ts, sizeof ts);
    json_t *obj = json_object();
    if (obj == NULL) {
        return;
    }
    json_object_set_new(obj, "ts", json_string(ts));
    json_object_set_new(obj, "level", json_string(level_names[level]));
    json_object_set_new(obj, "msg", json_string(msg ? msg : ""));
    va_list ap;
    va_start(ap, msg);
    for (;;) {
        const char *key = va_arg(ap, const char *);
        if (key == NULL) {
            break;
        }
        const char *val = va_arg(ap, const char *);
        json_object_set_new(obj, key, val ? json_string(val) : json_null());
    }
    va_end(ap);
    char *line = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(obj);
    if (line == NULL) {
        return;
    }
    size_t len = strlen(line);
    char *withnl = malloc(len + 2);
    if (withnl != NULL) {
        memcpy(withnl, line, len + 1);
        withnl[len] = '\n';
        write_all(atomic_load(&out_fd), withnl, len + 1);
        free(withnl);
    }
    free(line);
}
