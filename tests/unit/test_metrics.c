/* Tests for common/metrics: families, labels, histograms, exposition text, threads. */
#include "common/metrics.h"
#include "tests/unit/unit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void test_counter_and_gauge(void)
{
    metrics_registry *reg = metrics_registry_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(reg);
    const char *labels[] = {"webhook", "result"};
    metric *c = metrics_counter(reg, "aigw_test_total", "Test requests.", labels, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    const char *v1[] = {"validate", "allowed"};
    const char *v2[] = {"mutate", "error"};
    metric_inc(c, v1);
    metric_inc(c, v1);
    metric_add(c, v2, 3);
    metric_add(c, v2, -5); /* counters never go down */
    CU_ASSERT_EQUAL(metric_series_value(metric_with(c, v1)), 2.0);
    CU_ASSERT_EQUAL(metric_series_value(metric_with(c, v2)), 3.0);
    CU_ASSERT_PTR_EQUAL(metric_with(c, v1), metric_with(c, v1));

    metric *g = metrics_gauge(reg, "aigw_leader", "1 when leader.", NULL, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    metric_set(g, NULL, 1);
    metric_add(g, NULL, -0.5);
    CU_ASSERT_EQUAL(metric_series_value(metric_with(g, NULL)), 0.5);

    size_t len = 0;
    char *text = metrics_render(reg, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL(len, strlen(text));
    CU_ASSERT_STRING_EQUAL(text, "# HELP aigw_test_total Test requests.\n"
                                 "# TYPE aigw_test_total counter\n"
                                 "aigw_test_total{webhook=\"validate\",result=\"allowed\"} 2\n"
                                 "aigw_test_total{webhook=\"mutate\",result=\"error\"} 3\n"
                                 "# HELP aigw_leader 1 when leader.\n"
                                 "# TYPE aigw_leader gauge\n"
                                 "aigw_leader 0.5\n");
    free(text);
    metrics_registry_free(reg);
}

static void test_registration_rules(void)
{
    metrics_registry *reg = metrics_registry_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(reg);
    const char *l1[] = {"kind"};
    const char *l2[] = {"verb"};
    const char *bad[] = {"__x"};
    const char *le[] = {"le"};
    const char *dup[] = {"a", "a"};
    metric *a = metrics_counter(reg, "x_total", "h", l1, 1);
    CU_ASSERT_PTR_NOT_NULL(a);
    CU_ASSERT_PTR_EQUAL(metrics_counter(reg, "x_total", "h", l1, 1), a);
    CU_ASSERT_PTR_NULL(metrics_counter(reg, "x_total", "h", l2, 1));
    CU_ASSERT_PTR_NULL(metrics_gauge(reg, "x_total", "h", l1, 1));
    CU_ASSERT_PTR_NULL(metrics_counter(reg, "9bad", "h", NULL, 0));
    CU_ASSERT_PTR_NULL(metrics_counter(reg, "bad-name", "h", NULL, 0));
    CU_ASSERT_PTR_NULL(metrics_counter(reg, "", "h", NULL, 0));
    CU_ASSERT_PTR_NULL(metrics_counter(reg, "y", "h", bad, 1));
    CU_ASSERT_PTR_NULL(metrics_counter(reg, "y", "h", dup, 2));
    CU_ASSERT_PTR_NOT_NULL(metrics_counter(reg, "ns:y", "h", le, 1));
    double b[] = {1, 1};
    CU_ASSERT_PTR_NULL(metrics_histogram(reg, "h1", "h", le, 1, b, 1));
    CU_ASSERT_PTR_NULL(metrics_histogram(reg, "h2", "h", NULL, 0, b, 2));
    CU_ASSERT_PTR_NULL(metrics_counter(NULL, "z", "h", NULL, 0));
    /* Wrong arity: a labeled family needs values. */
    CU_ASSERT_PTR_NULL(metric_with(a, NULL));
    const char *nullval[] = {NULL};
    CU_ASSERT_PTR_NULL(metric_with(a, nullval));
    metric_inc(NULL, NULL);
    metrics_registry_free(reg);
    metrics_registry_free(NULL);
}

static void test_escaping(void)
{
    metrics_registry *reg = metrics_registry_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(reg);
    const char *l[] = {"v"};
    metric *c = metrics_counter(reg, "esc_total", "back\\slash and\nnewline \"q\"", l, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    const char *v[] = {"a\"b\\c\nd"};
    metric_inc(c, v);
    char *text = metrics_render(reg, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_STRING_EQUAL(text, "# HELP esc_total back\\\\slash and\\nnewline \"q\"\n"
                                 "# TYPE esc_total counter\n"
                                 "esc_total{v=\"a\\\"b\\\\c\\nd\"} 1\n");
    free(text);
    metrics_registry_free(reg);
}

static void test_histogram(void)
{
    metrics_registry *reg = metrics_registry_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(reg);
    const double bounds[] = {0.005, 0.1, 1};
    const char *l[] = {"webhook"};
    metric *h = metrics_histogram(reg, "lat_seconds", "Latency.", l, 1, bounds, 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    const char *v[] = {"validate"};
    metric_observe(h, v, 0.001);
    metric_observe(h, v, 0.005); /* on the bound: counts in that bucket (le) */
    metric_observe(h, v, 0.5);
    metric_observe(h, v, 7);
    metric_series *s = metric_with(h, v);
    CU_ASSERT_EQUAL(metric_series_value(s), 4.0);
    CU_ASSERT_DOUBLE_EQUAL(metric_series_sum(s), 7.506, 1e-9);
    char *text = metrics_render(reg, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_STRING_EQUAL(text, "# HELP lat_seconds Latency.\n"
                                 "# TYPE lat_seconds histogram\n"
                                 "lat_seconds_bucket{webhook=\"validate\",le=\"0.005\"} 2\n"
                                 "lat_seconds_bucket{webhook=\"validate\",le=\"0.1\"} 2\n"
                                 "lat_seconds_bucket{webhook=\"validate\",le=\"1\"} 3\n"
                                 "lat_seconds_bucket{webhook=\"validate\",le=\"+Inf\"} 4\n"
                                 "lat_seconds_sum{webhook=\"validate\"} 7.506\n"
                                 "lat_seconds_count{webhook=\"validate\"} 4\n");
    free(text);
    /* Observing a counter or adding to a histogram does nothing. */
    metric_series_add(s, 5);
    CU_ASSERT_EQUAL(metric_series_value(s), 4.0);
    metric *u = metrics_histogram(reg, "plain_seconds", "P.", NULL, 0, metrics_latency_buckets,
                                  metrics_latency_buckets_len);
    CU_ASSERT_PTR_NOT_NULL(u);
    text = metrics_render(reg, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "plain_seconds_bucket{le=\"0.0005\"} 0\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "plain_seconds_count 0\n"));
    free(text);
    metrics_registry_free(reg);
}

typedef struct {
    metric *c;
    metric *h;
} thread_arg;

static void *hammer(void *p)
{
    thread_arg *a = p;
    char label[16];
    for (int i = 0; i < 20000; i++) {
        snprintf(label, sizeof label, "k%d", i % 7);
        const char *v[] = {label};
        metric_inc(a->c, v);
        metric_observe(a->h, NULL, 0.25);
    }
    return NULL;
}

static void test_threads(void)
{
    metrics_registry *reg = metrics_registry_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(reg);
    const char *l[] = {"k"};
    const double b[] = {0.1, 1};
    thread_arg a = {metrics_counter(reg, "t_total", "T.", l, 1),
                    metrics_histogram(reg, "t_seconds", "T.", NULL, 0, b, 2)};
    CU_ASSERT_PTR_NOT_NULL_FATAL(a.c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a.h);
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, hammer, &a), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
    }
    double total = 0;
    for (int i = 0; i < 7; i++) {
        char label[16];
        snprintf(label, sizeof label, "k%d", i);
        const char *v[] = {label};
        total += metric_series_value(metric_with(a.c, v));
    }
    CU_ASSERT_EQUAL(total, 80000.0);
    metric_series *hs = metric_with(a.h, NULL);
    CU_ASSERT_EQUAL(metric_series_value(hs), 80000.0);
    CU_ASSERT_DOUBLE_EQUAL(metric_series_sum(hs), 20000.0, 1e-6);
    metrics_registry_free(reg);
}

static void test_series_cap(void)
{
    metrics_registry *reg = metrics_registry_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(reg);
    const char *l[] = {"id"};
    metric *c = metrics_counter(reg, "cap_total", "C.", l, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    char label[16];
    int made = 0;
    for (int i = 0; i < METRICS_MAX_SERIES + 10; i++) {
        snprintf(label, sizeof label, "%d", i);
        const char *v[] = {label};
        made += metric_with(c, v) != NULL;
    }
    CU_ASSERT_EQUAL(made, METRICS_MAX_SERIES);
    const char *first[] = {"0"};
    CU_ASSERT_PTR_NOT_NULL(metric_with(c, first)); /* existing series stay usable */
    metrics_registry_free(reg);
}

UNIT_SUITE(metrics, UNIT_CASE(test_counter_and_gauge), UNIT_CASE(test_registration_rules),
           UNIT_CASE(test_escaping), UNIT_CASE(test_histogram), UNIT_CASE(test_threads),
           UNIT_CASE(test_series_cap))
