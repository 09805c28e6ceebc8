/*
 * metrics: Prometheus registry and text exposition (see metrics.h).
 *
 * Each family keeps its series in a small chained hash table (label values ->
 * series) guarded by a read-write lock, plus an insertion-ordered list for
 * rendering. Values are doubles stored as 64-bit patterns in atomics, updated
 * with compare-and-swap, so updates never lock.
 */
#include "common/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HASH_BUCKETS 64

const double metrics_latency_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                          0.1,    0.25,  0.5,    1,     2.5,  5};
const size_t metrics_latency_buckets_len =
    sizeof metrics_latency_buckets / sizeof metrics_latency_buckets[0];

struct metric_series {
    struct metric_series *hash_next;
    struct metric_series *next; /* insertion order */
    const metric *family;
    char **values;               /* n_labels copies */
    _Atomic uint64_t value_bits; /* counter/gauge value; histogram sum */
    _Atomic uint64_t count;      /* histogram observations */
    _Atomic uint64_t *buckets;   /* histogram: n_bounds + 1 non-cumulative counts */
};

struct metric {
    struct metric *next;
    metric_type type;
    char *name;
    char *help;
    char **label_names;
    size_t n_labels;
    double *bounds;
    size_t n_bounds;
    pthread_rwlock_t lock;
    metric_series *table[HASH_BUCKETS];
    metric_series *first, *last;
    size_t n_series;
};

struct metrics_registry {
    pthread_mutex_t lock; /* registration and the family list */
    metric *first, *last;
};

/* ---- doubles in atomics ---------------------------------------------------------------- */

static uint64_t dbl_bits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static double bits_dbl(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

static void atomic_add_double(_Atomic uint64_t *slot, double v)
{
    uint64_t old = atomic_load_explicit(slot, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(slot, &old, dbl_bits(bits_dbl(old) + v),
                                                  memory_order_relaxed, memory_order_relaxed)) {
    }
}

/* ---- registration ---------------------------------------------------------------------- */

metrics_registry *metrics_registry_new(void)
{
    metrics_registry *reg = calloc(1, sizeof *reg);
    if (reg != NULL && pthread_mutex_init(&reg->lock, NULL) != 0) {
        free(reg);
        return NULL;
    }
    return reg;
}

static void series_free(metric_series *s, size_t n_labels)
{
    if (s->values != NULL) {
        for (size_t i = 0; i < n_labels; i++) {
            free(s->values[i]);
        }
    }
    free(s->values);
    free(s->buckets);
    free(s);
}

static void family_free(metric *m)
{
    metric_series *s = m->first;
    while (s != NULL) {
        metric_series *next = s->next;
        series_free(s, m->n_labels);
        s = next;
    }
    if (m->label_names != NULL) {
        for (size_t i = 0; i < m->n_labels; i++) {
            free(m->label_names[i]);
        }
    }
    free(m->label_names);
    free(m->bounds);
    free(m->name);
    free(m->help);
    pthread_rwlock_destroy(&m->lock);
    free(m);
}

void metrics_registry_free(metrics_registry *reg)
{
    if (reg == NULL) {
        return;
    }
    metric *m = reg->first;
    while (m != NULL) {
        metric *next = m->next;
        family_free(m);
        m = next;
    }
    pthread_mutex_destroy(&reg->lock);
    free(reg);
}

static int valid_name(const char *s, int allow_colon)
{
    if (s == NULL || s[0] == '\0') {
        return 0;
    }
    for (size_t i = 0; s[i] != '\0'; i++) {
        char c = s[i];
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                    (allow_colon && c == ':');
        if (!alpha && !(i > 0 && c >= '0' && c <= '9')) {
            return 0;
        }
    }
    return 1;
}

static int valid_labels(const char *const *names, size_t n, metric_type type)
{
    if (n > METRICS_MAX_LABELS || (n > 0 && names == NULL)) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!valid_name(names[i], 0) || strncmp(names[i], "__", 2) == 0 ||
            (type == METRIC_HISTOGRAM && strcmp(names[i], "le") == 0)) {
            return 0;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(names[i], names[j]) == 0) {
                return 0;
            }
        }
    }
    return 1;
}

static int same_shape(const metric *m, metric_type type, const char *const *names, size_t n,
                      const double *bounds, size_t n_bounds)
{
    if (m->type != type || m->n_labels != n || m->n_bounds != n_bounds) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(m->label_names[i], names[i]) != 0) {
            return 0;
        }
    }
    for (size_t i = 0; i < n_bounds; i++) {
        if (m->bounds[i] != bounds[i]) {
            return 0;
        }
    }
    return 1;
}

static metric *family_new(metric_type type, const char *name, const char *help,
                          const char *const *names, size_t n, const double *bounds, size_t n_bounds)
{
    metric *m = calloc(1, sizeof *m);
    if (m == NULL) {
        return NULL;
    }
    if (pthread_rwlock_init(&m->lock, NULL) != 0) {
        free(m);
        return NULL;
    }
    m->type = type;
    m->n_labels = n;
    m->n_bounds = n_bounds;
    m->name = strdup(name);
    m->help = strdup(help != NULL ? help : "");
    m->label_names = calloc(n > 0 ? n : 1, sizeof *m->label_names);
    m->bounds = calloc(n_bounds > 0 ? n_bounds : 1, sizeof *m->bounds);
    int failed = m->name == NULL || m->help == NULL || m->label_names == NULL || m->bounds == NULL;
    for (size_t i = 0; !failed && i < n; i++) {
        m->label_names[i] = strdup(names[i]);
        failed = m->label_names[i] == NULL;
    }
    if (!failed && n_bounds > 0) {
        memcpy(m->bounds, bounds, n_bounds * sizeof *bounds);
    }
    if (failed) {
        family_free(m);
        return NULL;
    }
    return m;
}

static metric *register_family(metrics_registry *reg, metric_type type, const char *name,
                               const char *help, const char *const *names, size_t n,
                               const double *bounds, size_t n_bounds)
{
    if (reg == NULL || !valid_name(name, 1) || !valid_labels(names, n, type)) {
        return NULL;
    }
    if (n_bounds > METRICS_MAX_BUCKETS) {
        return NULL;
    }
    for (size_t i = 0; i < n_bounds; i++) {
        if (isnan(bounds[i]) || isinf(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1]))) {
            return NULL;
        }
    }
    pthread_mutex_lock(&reg->lock);
    metric *found = NULL;
    int clash = 0;
    for (metric *m = reg->first; m != NULL; m = m->next) {
        if (strcmp(m->name, name) == 0) {
            if (same_shape(m, type, names, n, bounds, n_bounds)) {
                found = m;
            } else {
                clash = 1;
            }
            break;
        }
    }
    if (found == NULL && !clash) {
        found = family_new(type, name, help, names, n, bounds, n_bounds);
        if (found != NULL) {
            if (reg->last != NULL) {
                reg->last->next = found;
            } else {
                reg->first = found;
            }
            reg->last = found;
        }
    }
    pthread_mutex_unlock(&reg->lock);
    if (found != NULL && n == 0) {
        (void)metric_with(found, NULL); /* an unlabeled family shows its 0 from the start */
    }
    return found;
}

metric *metrics_counter(metrics_registry *reg, const char *name, const char *help,
                        const char *const *label_names, size_t n_labels)
{
    return register_family(reg, METRIC_COUNTER, name, help, label_names, n_labels, NULL, 0);
}

metric *metrics_gauge(metrics_registry *reg, const char *name, const char *help,
                      const char *const *label_names, size_t n_labels)
{
    return register_family(reg, METRIC_GAUGE, name, help, label_names, n_labels, NULL, 0);
}

metric *metrics_histogram(metrics_registry *reg, const char *name, const char *help,
                          const char *const *label_names, size_t n_labels, const double *bounds,
                          size_t n_bounds)
{
    if (n_bounds > 0 && bounds == NULL) {
        return NULL;
    }
    return register_family(reg, METRIC_HISTOGRAM, name, help, label_names, n_labels, bounds,
                           n_bounds);
}

/* ---- series lookup --------------------------------------------------------------------- */

static size_t hash_values(const char *const *values, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        for (const unsigned char *p = (const unsigned char *)values[i]; *p != '\0'; p++) {
            h = (h ^ *p) * 1099511628211ULL;
        }
        h = (h ^ 0xff) * 1099511628211ULL; /* separator: ("ab","c") != ("a","bc") */
    }
    return (size_t)(h % HASH_BUCKETS);
}

static metric_series *find_series(const metric *m, size_t bucket, const char *const *values)
{
    for (metric_series *s = m->table[bucket]; s != NULL; s = s->hash_next) {
        size_t i = 0;
        while (i < m->n_labels && strcmp(s->values[i], values[i]) == 0) {
            i++;
        }
        if (i == m->n_labels) {
            return s;
        }
    }
    return NULL;
}

static metric_series *series_new(const metric *m, const char *const *values)
{
    metric_series *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return NULL;
    }
    s->family = m;
    s->values = calloc(m->n_labels > 0 ? m->n_labels : 1, sizeof *s->values);
    int failed = s->values == NULL;
    for (size_t i = 0; !failed && i < m->n_labels; i++) {
        s->values[i] = strdup(values[i]);
        failed = s->values[i] == NULL;
    }
    if (!failed && m->type == METRIC_HISTOGRAM) {
        s->buckets = calloc(m->n_bounds + 1, sizeof *s->buckets);
        failed = s->buckets == NULL;
    }
    if (failed) {
        series_free(s, m->n_labels);
        return NULL;
    }
    atomic_init(&s->value_bits, dbl_bits(0.0));
    atomic_init(&s->count, 0);
    for (size_t i = 0; s->buckets != NULL && i <= m->n_bounds; i++) {
        atomic_init(&s->buckets[i], 0);
    }
    return s;
}

metric_series *metric_with(metric *m, const char *const *label_values)
{
    if (m == NULL || (m->n_labels > 0 && label_values == NULL)) {
        return NULL;
    }
    for (size_t i = 0; i < m->n_labels; i++) {
        if (label_values[i] == NULL) {
            return NULL;
        }
    }
    size_t bucket = hash_values(label_values, m->n_labels);
    pthread_rwlock_rdlock(&m->lock);
    metric_series *s = find_series(m, bucket, label_values);
    pthread_rwlock_unlock(&m->lock);
    if (s != NULL) {
        return s;
    }
    pthread_rwlock_wrlock(&m->lock);
    s = find_series(m, bucket, label_values); /* another thread may have added it */
    if (s == NULL && m->n_series < METRICS_MAX_SERIES) {
        s = series_new(m, label_values);
        if (s != NULL) {
            s->hash_next = m->table[bucket];
            m->table[bucket] = s;
            if (m->last != NULL) {
                m->last->next = s;
            } else {
                m->first = s;
            }
            m->last = s;
            m->n_series++;
        }
    }
    pthread_rwlock_unlock(&m->lock);
    return s;
}

/* ---- updates --------------------------------------------------------------------------- */

void metric_series_add(metric_series *s, double v)
{
    if (s == NULL || isnan(v) || s->family->type == METRIC_HISTOGRAM ||
        (s->family->type == METRIC_COUNTER && v < 0)) {
        return;
    }
    atomic_add_double(&s->value_bits, v);
}

void metric_series_set(metric_series *s, double v)
{
    if (s != NULL && s->family->type == METRIC_GAUGE) {
        atomic_store_explicit(&s->value_bits, dbl_bits(v), memory_order_relaxed);
    }
}

void metric_series_observe(metric_series *s, double v)
{
    if (s == NULL || s->family->type != METRIC_HISTOGRAM || isnan(v)) {
        return;
    }
    const metric *m = s->family;
    size_t i = 0;
    while (i < m->n_bounds && v > m->bounds[i]) {
        i++;
    }
    atomic_fetch_add_explicit(&s->buckets[i], 1, memory_order_relaxed);
    atomic_add_double(&s->value_bits, v);
    atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
}

double metric_series_value(const metric_series *s)
{
    if (s == NULL) {
        return 0;
    }
    if (s->family->type == METRIC_HISTOGRAM) {
        return (double)atomic_load_explicit(&s->count, memory_order_relaxed);
    }
    return bits_dbl(atomic_load_explicit(&s->value_bits, memory_order_relaxed));
}

double metric_series_sum(const metric_series *s)
{
    if (s == NULL || s->family->type != METRIC_HISTOGRAM) {
        return 0;
    }
    return bits_dbl(atomic_load_explicit(&s->value_bits, memory_order_relaxed));
}

void metric_inc(metric *m, const char *const *label_values)
{
    metric_series_add(metric_with(m, label_values), 1);
}

void metric_add(metric *m, const char *const *label_values, double v)
{
    metric_series_add(metric_with(m, label_values), v);
}

void metric_set(metric *m, const char *const *label_values, double v)
{
    metric_series_set(metric_with(m, label_values), v);
}

void metric_observe(metric *m, const char *const *label_values, double v)
{
    metric_series_observe(metric_with(m, label_values), v);
}

/* ---- exposition ------------------------------------------------------------------------ */

typedef struct {
    char *data;
    size_t len, cap;
    int oom;
} text_buf;

static void buf_reserve(text_buf *b, size_t extra)
{
    if (b->oom || b->len + extra + 1 <= b->cap) {
        return;
    }
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + extra + 1) {
        cap *= 2;
    }
    char *d = realloc(b->data, cap);
    if (d == NULL) {
        b->oom = 1;
        return;
    }
    b->data = d;
    b->cap = cap;
}

static void buf_putn(text_buf *b, const char *s, size_t n)
{
    buf_reserve(b, n);
    if (!b->oom) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
    }
}

static void buf_puts(text_buf *b, const char *s)
{
    buf_putn(b, s, strlen(s));
}

/* HELP text escapes \ and newline; label values also escape ". */
static void buf_escaped(text_buf *b, const char *s, int quote)
{
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '\\') {
            buf_putn(b, "\\\\", 2);
        } else if (*p == '\n') {
            buf_putn(b, "\\n", 2);
        } else if (quote && *p == '"') {
            buf_putn(b, "\\\"", 2);
        } else {
            buf_putn(b, p, 1);
        }
    }
}

/* Shortest text that reads back as the same double; Prometheus spellings for the rest. */
static void format_double(char *out, size_t len, double v)
{
    if (isnan(v)) {
        snprintf(out, len, "NaN");
    } else if (isinf(v)) {
        snprintf(out, len, v > 0 ? "+Inf" : "-Inf");
    } else {
        for (int prec = 6; prec <= 17; prec++) {
            snprintf(out, len, "%.*g", prec, v);
            if (strtod(out, NULL) == v) {
                break;
            }
        }
    }
}

/* name{labels[,le="x"]} value\n */
static void put_sample(text_buf *b, const metric *m, const metric_series *s, const char *suffix,
                       const char *le, double v)
{
    buf_puts(b, m->name);
    buf_puts(b, suffix);
    if (m->n_labels > 0 || le != NULL) {
        buf_putn(b, "{", 1);
        for (size_t i = 0; i < m->n_labels; i++) {
            if (i > 0) {
                buf_putn(b, ",", 1);
            }
            buf_puts(b, m->label_names[i]);
            buf_putn(b, "=\"", 2);
            buf_escaped(b, s->values[i], 1);
            buf_putn(b, "\"", 1);
        }
        if (le != NULL) {
            buf_puts(b, m->n_labels > 0 ? ",le=\"" : "le=\"");
            buf_puts(b, le);
            buf_putn(b, "\"", 1);
        }
        buf_putn(b, "}", 1);
    }
    char num[64];
    format_double(num, sizeof num, v);
    buf_putn(b, " ", 1);
    buf_puts(b, num);
    buf_putn(b, "\n", 1);
}

static void put_histogram(text_buf *b, const metric *m, const metric_series *s)
{
    uint64_t cumulative = 0;
    char le[64];
    for (size_t i = 0; i <= m->n_bounds; i++) {
        cumulative += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
        if (i < m->n_bounds) {
            format_double(le, sizeof le, m->bounds[i]);
        } else {
            snprintf(le, sizeof le, "+Inf");
        }
        put_sample(b, m, s, "_bucket", le, (double)cumulative);
    }
    put_sample(b, m, s, "_sum", NULL, metric_series_sum(s));
    /* _count from the buckets read above, so it always equals the +Inf bucket. */
    put_sample(b, m, s, "_count", NULL, (double)cumulative);
}

static void put_family(text_buf *b, metric *m)
{
    static const char *const type_names[] = {"counter", "gauge", "histogram"};
    buf_puts(b, "# HELP ");
    buf_puts(b, m->name);
    buf_putn(b, " ", 1);
    buf_escaped(b, m->help, 0);
    buf_puts(b, "\n# TYPE ");
    buf_puts(b, m->name);
    buf_putn(b, " ", 1);
    buf_puts(b, type_names[m->type]);
    buf_putn(b, "\n", 1);
    pthread_rwlock_rdlock(&m->lock);
    for (const metric_series *s = m->first; s != NULL; s = s->next) {
        if (m->type == METRIC_HISTOGRAM) {
            put_histogram(b, m, s);
        } else {
            put_sample(b, m, s, "", NULL, metric_series_value(s));
        }
    }
    pthread_rwlock_unlock(&m->lock);
}

char *metrics_render(metrics_registry *reg, size_t *len_out)
{
    text_buf b = {0};
    buf_reserve(&b, 4096);
    if (b.data != NULL) {
        b.data[0] = '\0';
    }
    if (reg != NULL) {
        pthread_mutex_lock(&reg->lock);
        for (metric *m = reg->first; m != NULL; m = m->next) {
            put_family(&b, m);
        }
        pthread_mutex_unlock(&reg->lock);
    }
    if (b.oom) {
        free(b.data);
        return NULL;
    }
    if (len_out != NULL) {
        *len_out = b.len;
    }
    return b.data;
}
