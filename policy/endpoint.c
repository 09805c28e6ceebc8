/*
 * endpoint: provider endpoint URLs (scheme://host[:port][/path]) and Gateway
 * API durations. Only syntax lives here; which hosts are acceptable (single
 * label, loopback, in-cluster) is decided by the validator.
 */
#include "policy/policy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void policy_endpoint_free(policy_endpoint *ep)
{
    if (ep == NULL) {
        return;
    }
    free(ep->host);
    free(ep->path);
    memset(ep, 0, sizeof *ep);
}

static int fail(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return -1;
}

/*
 * A DNS name as Envoy Gateway's Backend accepts it: dot-separated labels of
 * 1-63 letters, digits and '-', not starting or ending with '-', and a last
 * label that is not all digits (that would be a malformed IPv4 address).
 */
static int host_chars_ok(const char *h)
{
    const char *label = h;
    int all_digits = 1;
    for (const char *c = h;; c++) {
        if (*c == '.' || *c == '\0') {
            size_t n = (size_t)(c - label);
            if (n == 0 || n > 63 || label[0] == '-' || c[-1] == '-') {
                return 0;
            }
            if (*c == '\0') {
                return !all_digits;
            }
            label = c + 1;
            all_digits = 1;
            continue;
        }
        if (!(isalnum((unsigned char)*c) || *c == '-')) {
            return 0;
        }
        all_digits = all_digits && isdigit((unsigned char)*c);
    }
}

/* Splits "host[:port]" or "[v6][:port]"; fills out->host/port. */
static int parse_authority(const char *a, size_t alen, policy_endpoint *out, char *err,
                           size_t errlen)
{
    const char *host = a;
    size_t hlen = alen;
    const char *port = NULL;
    size_t plen = 0;
    if (alen > 0 && a[0] == '[') {
        const char *close = memchr(a, ']', alen);
        if (close == NULL) {
            return fail(err, errlen, "host must be a DNS name or an IP address");
        }
        host = a + 1;
        hlen = (size_t)(close - a) - 1;
        size_t rest = alen - (size_t)(close - a) - 1;
        if (rest > 0) {
            if (close[1] != ':') {
                return fail(err, errlen, "host must be a DNS name or an IP address");
            }
            port = close + 2;
            plen = rest - 1;
        }
    } else {
        const char *colon = memchr(a, ':', alen);
        if (colon != NULL) {
            hlen = (size_t)(colon - a);
            port = colon + 1;
            plen = alen - hlen - 1;
        }
    }
    if (hlen == 0) {
        return fail(err, errlen, "host must not be empty");
    }
    if (hlen > 253) {
        return fail(err, errlen, "host must be no more than 253 characters");
    }
    out->host = strndup(host, hlen);
    if (out->host == NULL) {
        return fail(err, errlen, "out of memory");
    }
    for (char *c = out->host; *c; c++) {
        *c = (char)tolower((unsigned char)*c);
    }
    unsigned char buf[16];
    if (a[0] == '[') {
        if (inet_pton(AF_INET6, out->host, buf) != 1) {
            return fail(err, errlen, "host must be a DNS name or an IP address");
        }
        out->host_is_ip = 6;
    } else if (inet_pton(AF_INET, out->host, buf) == 1) {
        out->host_is_ip = 4;
    } else if (!host_chars_ok(out->host)) {
        return fail(err, errlen, "host must be a DNS name or an IP address");
    }
    out->port = out->https ? 443 : 80;
    if (port != NULL) {
        if (plen == 0 || plen > 5) {
            return fail(err, errlen,
                        plen == 0 ? "port must be a number" : "port must be between 1 and 65535");
        }
        long v = 0;
        for (size_t i = 0; i < plen; i++) {
            if (!isdigit((unsigned char)port[i])) {
                return fail(err, errlen, "port must be a number");
            }
            v = v * 10 + (port[i] - '0');
        }
        if (v < 1 || v > 65535) {
            return fail(err, errlen, "port must be between 1 and 65535");
        }
        out->port = (int)v;
        out->port_explicit = 1;
    }
    return 0;
}

int policy_endpoint_parse(const char *url, policy_endpoint *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (url == NULL || url[0] == '\0') {
        return fail(err, errlen, "must be an absolute URL (scheme://host)");
    }
    for (const char *c = url; *c; c++) {
        if ((unsigned char)*c <= 0x20 || *c == 0x7f) {
            return fail(err, errlen, "must not contain spaces or control characters");
        }
    }
    const char *sep = strstr(url, "://");
    if (sep == NULL) {
        return fail(err, errlen, "must be an absolute URL (scheme://host)");
    }
    size_t slen = (size_t)(sep - url);
    if (slen == 5 && strncasecmp(url, "https", 5) == 0) {
        out->https = 1;
    } else if (!(slen == 4 && strncasecmp(url, "http", 4) == 0)) {
        return fail(err, errlen, "scheme must be http or https");
    }
    const char *a = sep + 3;
    size_t alen = strcspn(a, "/?#");
    if (memchr(a, '@', alen) != NULL) {
        policy_endpoint_free(out);
        return fail(err, errlen, "must not contain user information");
    }
    if (parse_authority(a, alen, out, err, errlen) != 0) {
        policy_endpoint_free(out);
        return -1;
    }
    const char *path = a + alen;
    if (strpbrk(path, "?#") != NULL) {
        policy_endpoint_free(out);
        return fail(err, errlen, "must not have a query or fragment");
    }
    size_t plen = strlen(path);
    while (plen > 0 && path[plen - 1] == '/') {
        plen--;
    }
    out->path = strndup(path, plen);
    if (out->path == NULL) {
        policy_endpoint_free(out);
        return fail(err, errlen, "out of memory");
    }
    return 0;
}

long long policy_duration_parse_ms(const char *text)
{
    if (text == NULL || *text == '\0') {
        return -1;
    }
    long long total = 0;
    int groups = 0;
    const char *p = text;
    while (*p) {
        int digits = 0;
        long long v = 0;
        while (isdigit((unsigned char)*p)) {
            if (++digits > 5) {
                return -1;
            }
            v = v * 10 + (*p++ - '0');
        }
        if (digits == 0 || ++groups > 4) {
            return -1;
        }
        if (p[0] == 'm' && p[1] == 's') {
            total += v;
            p += 2;
        } else if (p[0] == 'h') {
            total += v * 3600000LL;
            p++;
        } else if (p[0] == 'm') {
            total += v * 60000LL;
            p++;
        } else if (p[0] == 's') {
            total += v * 1000LL;
            p++;
        } else {
            return -1;
        }
    }
    return total;
}
