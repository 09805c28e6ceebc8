/*
 * metrics: a small thread-safe Prometheus registry (counters, gauges,
 * histograms with fixed buckets, label sets) and its text exposition format
 * (version 0.0.4, valid for `promtool check metrics`).
 *
 *   metrics_registry *reg = metrics_registry_new();
 *   const char *labels[] = {"webhook", "result"};
 *   metric *req = metrics_counter(reg, "aigw_requests_total", "Requests.", labels, 2);
 *   const char *vals[] = {"validate", "allowed"};
 *   metric_inc(req, vals);                                  // lookup + atomic add
 *   metric_series *s = metric_with(req, vals);              // or keep the series
 *   metric_series_add(s, 1);                                // atomic add, no lookup
 *   char *text = metrics_render(reg, &len);                 // GET /metrics
 *
 * Concurrency: updates are lock-free atomics on a series; finding a series by
 * label values takes the family's read lock (a write lock only the first time
 * a label set is seen). Hot paths can keep the metric_series pointer: it lives
 * as long as the registry. Rendering takes only read locks.
 *
 * Ownership: the registry owns every family and series; metric and
 * metric_series pointers are borrowed and valid until metrics_registry_free().
 * Names, help texts, label names and values are copied. No global registry:
 * the process creates one and passes it to whoever registers metrics.
 */
#ifndef AIGW_COMMON_METRICS_H
#define AIGW_COMMON_METRICS_H

#include <stddef.h>

typedef struct metrics_registry metrics_registry;
typedef struct metric metric;
typedef struct metric_series metric_series;

typedef enum { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM } metric_type;

/* At most this many label sets per family; further new sets are not recorded. */
#define METRICS_MAX_SERIES 10000
/* At most this many labels per family and buckets per histogram. */
#define METRICS_MAX_LABELS 16
#define METRICS_MAX_BUCKETS 64

/* NULL on allocation failure. */
metrics_registry *metrics_registry_new(void);
void metrics_registry_free(metrics_registry *reg);

/*
 * Registers a family. `name` must match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
 * [a-zA-Z_][a-zA-Z0-9_]* (not "__"-prefixed; "le" is reserved for histograms).
 * Registering the same name again with the same type and labels returns the
 * existing family; any other clash, an invalid name or OOM returns NULL.
 * A family without labels starts with its one series at 0.
 */
metric *metrics_counter(metrics_registry *reg, const char *name, const char *help,
                        const char *const *label_names, size_t n_labels);
metric *metrics_gauge(metrics_registry *reg, const char *name, const char *help,
                      const char *const *label_names, size_t n_labels);
/* `bounds`: strictly increasing upper bounds (the +Inf bucket is implicit). */
metric *metrics_histogram(metrics_registry *reg, const char *name, const char *help,
                          const char *const *label_names, size_t n_labels, const double *bounds,
                          size_t n_bounds);

/* Buckets for request latencies in seconds: 0.5 ms .. 5 s (13 bounds). */
extern const double metrics_latency_buckets[];
extern const size_t metrics_latency_buckets_len;

/*
 * The series for these label values (n_labels strings, in the family's label
 * order; NULL for an unlabeled family), created on first use. NULL when the
 * family is full (METRICS_MAX_SERIES), on OOM, or when m is NULL.
 */
metric_series *metric_with(metric *m, const char *const *label_values);

/* Counter: adds v (>= 0; negative values are ignored). Gauge: adds v. */
void metric_series_add(metric_series *s, double v);
/* Gauge: sets the value. */
void metric_series_set(metric_series *s, double v);
/* Histogram: records one observation. */
void metric_series_observe(metric_series *s, double v);
/* The current value (counter, gauge) or the observation count (histogram). */
double metric_series_value(const metric_series *s);
/* Histogram: the sum of observations. */
double metric_series_sum(const metric_series *s);

/* Shorthands: metric_with() then the operation; NULL-safe. */
void metric_inc(metric *m, const char *const *label_values);
void metric_add(metric *m, const char *const *label_values, double v);
void metric_set(metric *m, const char *const *label_values, double v);
void metric_observe(metric *m, const char *const *label_values, double v);

/*
 * The exposition text of every family, in registration order (series in
 * creation order): "# HELP", "# TYPE", samples; histograms as cumulative
 * _bucket{le=...}, _sum, _count. Caller frees; NULL on OOM.
 */
char *metrics_render(metrics_registry *reg, size_t *len_out);

#endif
