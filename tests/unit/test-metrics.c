/* The registry's rules, the text snapshot parser, and a region that lies. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "metrics/layout.h"
#include "metrics/set.h"
#include "test.h"

static char *expose(struct zc__mset *m)
{
    struct zc__buf b = { 0 };

    zc__mset_expose(m, &b);
    ASSERT(!b.failed);
    return b.data ? b.data : strdup("");
}

void test_metrics_registry_rules(void)
{
    static const double bad[] = { 1, 1 }, good[] = { 0.5, 1 };
    const char *ok[] = { "GET" }, *notutf8[] = { "\xff\xfe" }, *two[] = { "x", "y" };
    zc_metric *m, *s, *s2, *h;
    struct zc__mset *set;
    const void *base;
    size_t size;
    char *text;

    ASSERT_EQ(zc_metric_new(&m, ZC_COUNTER, "1abc", "", NULL, 0), -EINVAL);
    ASSERT_EQ(zc_metric_new(&m, ZC_COUNTER, "a-b", "", NULL, 0), -EINVAL);
    ASSERT_EQ(zc_metric_new(&m, ZC_COUNTER, "", "", NULL, 0), -EINVAL);
    ASSERT_EQ(zc_metric_new(&m, ZC_COUNTER, NULL, "", NULL, 0), -EINVAL);
    ASSERT_EQ(zc_metric_new(&m, ZC_COUNTER, "zcluster_mine", "", NULL, 0), -EINVAL);
    ASSERT_EQ(zc_metric_new(&m, ZC_COUNTER, "ok", "", "__x", 0), -EINVAL);
    ASSERT_EQ(zc_metric_new(&m, ZC_COUNTER, "ok", "", "a,a", 0), -EINVAL);
    ASSERT_EQ(zc_metric_new(&m, ZC_COUNTER, "ok", "", "a,,b", 0), -EINVAL);
    ASSERT_EQ(zc_metric_new(&m, ZC_COUNTER, "ok", "two\nlines", NULL, 0), -EINVAL);
    ASSERT_EQ(zc_metric_new(&m, ZC_COUNTER, "ok", "", NULL, ZC_METRIC_PER_WORKER),
              -EINVAL);
    ASSERT_EQ(zc_metric_new(&m, ZC_GAUGE, "ok", "", "slot", ZC_METRIC_PER_WORKER),
              -EINVAL);
    ASSERT_EQ(zc_metric_new(&m, 7, "ok", "", NULL, 0), -EINVAL);
    ASSERT_EQ(zc_histogram_new(&m, "ok", "", "le", NULL, 0), -EINVAL);
    ASSERT_EQ(zc_histogram_new(&m, "ok", "", NULL, bad, 2), -EINVAL);
    /* Nothing was registered by the refusals: the name is still free. */
    ASSERT_EQ(zc_metric_new(&m, ZC_COUNTER, "ok", "Fine.", "method", 0), 0);
    ASSERT_EQ(zc_metric_new(&s, ZC_GAUGE, "ok", "", NULL, 0), -EEXIST);
    ASSERT_EQ(zc_metric_with(m, &s, notutf8), -EINVAL);
    ASSERT_EQ(zc_metric_with(m, &s, ok), 0);
    ASSERT_EQ(zc_metric_with(m, &s2, ok), 0);
    ASSERT(s == s2);                        /* found, not made again */
    ASSERT_EQ(zc_metric_with(s, &s2, ok), -EINVAL);     /* a series */
    zc_metric_inc(m);                       /* a family: nothing */
    zc_metric_add(s, 41);
    zc_metric_inc(s);
    zc_metric_set(s, 5);                    /* a counter: nothing */
    ASSERT_EQ(zc_histogram_new(&h, "lat", "Latency.", "a,b", good, 2), 0);
    ASSERT_EQ(zc_metric_with(h, &s2, two), 0);
    zc_metric_observe(s2, 0.5);             /* on the bound: that bucket */
    zc_metric_observe(s2, 0.7);
    zc_metric_observe(s2, 9);
    zc_metric_observe(s2, NAN);             /* +Inf bucket */
    /* This process's registry, read the way the primary reads a worker's. */
    ASSERT(zc__metrics_own_region(&base, &size));
    set = zc__mset_new();
    ASSERT(zc__mview_new(set, 1, 0, base, size));
    text = expose(set);
    ASSERT_CONTAINS(text, "# HELP ok Fine.\n# TYPE ok counter\nok{method=\"GET\"} 42\n");
    ASSERT_CONTAINS(text, "lat_bucket{a=\"x\",b=\"y\",le=\"0.5\"} 1\n"
                          "lat_bucket{a=\"x\",b=\"y\",le=\"1\"} 2\n"
                          "lat_bucket{a=\"x\",b=\"y\",le=\"+Inf\"} 4\n");
    ASSERT_CONTAINS(text, "lat_sum{a=\"x\",b=\"y\"} NaN\n");
    ASSERT_CONTAINS(text, "lat_count{a=\"x\",b=\"y\"} 4\n");
    free(text);
    zc__mset_free(set);
}

void test_metrics_text_snapshots(void)
{
    const char *snap1 =
        "# HELP jobs_total Jobs \\\\ done.\n"
        "# TYPE jobs_total counter\n"
        "jobs_total{queue=\"a\\\"b\"} 10\n"
        "# TYPE temp gauge\n"
        "temp 3.5\n"
        "# TYPE rt histogram\n"
        "rt_bucket{le=\"1\"} 2\n"
        "rt_bucket{le=\"+Inf\"} 3\n"
        "rt_sum 4.5\n"
        "rt_count 3\n"
        "# TYPE s summary\n"
        "s{quantile=\"0.5\"} 7\n"
        "s_count 4\n"
        "untyped_thing 2 1700000000000\n";
    const char *snap2 = "# TYPE jobs_total counter\njobs_total{queue=\"a\\\"b\"} 15\n";
    const char *bad =
        "ok_total 1\n"
        "bad{x=\"unterminated} 1\n"
        "novalue\n"
        "x 12abc\n"
        "zcluster_fake 1\n"
        "# TYPE t weird\n";
    struct zc__mset *set = zc__mset_new();
    struct zc__mview *v1 = zc__mview_new(set, 1, 0, NULL, 0);
    struct zc__mview *v2 = zc__mview_new(set, 2, 1, NULL, 0);
    const char *why;
    unsigned line;
    char *text;

    ASSERT_EQ(zc__mview_text(v1, snap1, strlen(snap1), &why, &line), 8);
    ASSERT(why == NULL);
    ASSERT_EQ(zc__mview_text(v2, snap1, strlen(snap1), &why, &line), 8);
    text = expose(set);
    ASSERT_CONTAINS(text, "# HELP jobs_total Jobs \\\\ done.\n# TYPE jobs_total counter\n"
                          "jobs_total{queue=\"a\\\"b\"} 20\n");
    ASSERT_CONTAINS(text, "temp 7\n");
    ASSERT_CONTAINS(text, "rt_bucket{le=\"+Inf\"} 6\nrt_sum 9\nrt_count 6\n");
    ASSERT_CONTAINS(text, "# TYPE s summary\ns_count 8\n");
    ASSERT(!strstr(text, "quantile"));
    ASSERT_CONTAINS(text, "# TYPE untyped_thing untyped\nuntyped_thing 4\n");
    free(text);
    /* A newer snapshot replaces the old one; it is not added again. */
    ASSERT_EQ(zc__mview_text(v1, snap2, strlen(snap2), &why, &line), 1);
    text = expose(set);
    ASSERT_CONTAINS(text, "jobs_total{queue=\"a\\\"b\"} 25\n");
    free(text);
    /* A worker gone: its counts stay, its gauges go. */
    zc__mview_fold(v2);
    zc__mview_free(v2);
    text = expose(set);
    ASSERT_CONTAINS(text, "jobs_total{queue=\"a\\\"b\"} 25\n");
    /* v1's counts its last snapshot left out are kept, not lost */
    ASSERT_CONTAINS(text, "rt_count 6\n");
    ASSERT(!strstr(text, "temp "));     /* v1's last snapshot has none */
    free(text);
    /* Bad lines are skipped and the first is named. */
    v2 = zc__mview_new(set, 3, 1, NULL, 0);
    ASSERT_EQ(zc__mview_text(v2, bad, strlen(bad), &why, &line), 1);
    ASSERT_EQ(line, 2);
    ASSERT_STREQ(why, "labels that do not parse");
    /* The same name as another type elsewhere: left out. */
    ASSERT_EQ(zc__mview_text(v2, "# TYPE temp counter\ntemp 1\n", 27, &why, &line), 0);
    /* A NUL byte never reaches /metrics (found by tests/fuzz/fuzz-text.c). */
    ASSERT_EQ(zc__mview_text(v2, "nul{a=\"x\0y\"} 1\nfine 2\n", 21, &why, &line), 1);
    ASSERT_EQ(line, 1);
    ASSERT_STREQ(why, "a NUL byte in the line");
    text = expose(set);
    ASSERT(!strstr(text, "nul{"));
    ASSERT_CONTAINS(text, "fine 2\n");
    free(text);
    zc__mset_free(set);
}

/* A region whose descriptors lie about their lengths and cells. */
void test_metrics_corrupt_region(void)
{
    size_t size = 8192;
    char *r = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct zc__mhead *h = (struct zc__mhead *) (void *) r;
    struct zc__mrec rec = { .len = 48, .kind = ZC__MREC_FAMILY, .type = ZC_COUNTER };
    struct zc__mset *set = zc__mset_new();
    char *text;

    ASSERT(r != MAP_FAILED);
    zc__metrics_format(r, size);
    /* A family "c", then a series whose cell is past the end. */
    memcpy(r + sizeof(*h), &rec, sizeof(rec));
    memcpy(r + sizeof(*h) + sizeof(rec), "c\0\0", 3);
    rec = (struct zc__mrec) { .len = 24, .kind = ZC__MREC_SERIES, .family = 0,
                              .cell = (uint32_t) (size / 8) };
    memcpy(r + sizeof(*h) + 48, &rec, sizeof(rec));
    atomic_store(&h->desc_end, sizeof(*h) + 72);
    ASSERT(zc__mview_new(set, 9, 0, r, size));
    text = expose(set);
    ASSERT(!strstr(text, "c "));
    free(text);
    /* A length of 0 (would loop), and an end past the region. */
    zc__mset_free(set);
    set = zc__mset_new();
    memset(r + sizeof(*h), 0, 64);
    ASSERT(zc__mview_new(set, 10, 0, r, size));
    free(expose(set));
    atomic_store(&h->desc_end, size * 2);
    free(expose(set));
    zc__mset_free(set);
    munmap(r, size);
}

/* A worker's counts never make the fleet's sum go down: a count lower
 * than its last is a reset of that worker (what it had is kept), one left
 * out of a snapshot is carried; NaN, infinities and negative counts are
 * refused, and a gauge may go down. */
void test_metrics_text_values(void)
{
    struct zc__mset *set = zc__mset_new();
    struct zc__mview *v = zc__mview_new(set, 1, 0, NULL, 0);
    const char *why;
    unsigned line;
    char *text;

#define SNAP(s, taken) \
    ASSERT_EQ(zc__mview_text(v, s, strlen(s), &why, &line), taken)
    SNAP("# TYPE a_total counter\na_total 10\n# TYPE g gauge\ng 5\n", 2);
    SNAP("# TYPE a_total counter\na_total 3\n# TYPE g gauge\ng 1\n", 2);
    text = expose(set);
    ASSERT_CONTAINS(text, "a_total 13\n");      /* 10 kept, then 3 again */
    ASSERT_CONTAINS(text, "g 1\n");
    free(text);
    SNAP("# TYPE g gauge\ng 2\n", 1);           /* a_total left out */
    text = expose(set);
    ASSERT_CONTAINS(text, "a_total 13\n");
    free(text);
    SNAP("# TYPE a_total counter\na_total 7\n", 1);     /* back, higher */
    text = expose(set);
    ASSERT_CONTAINS(text, "a_total 17\n");
    free(text);
    SNAP("# TYPE b_total counter\nb_total NaN\nb_total +Inf\nb_total -2\n"
         "g2 -Inf\n", 0);
    ASSERT_STREQ(why, "a value that is NaN or infinite");
    ASSERT_EQ(line, 2);
    SNAP("# TYPE b_total counter\nb_total -2\n", 0);
    ASSERT_STREQ(why, "a negative count");
    SNAP("# TYPE g gauge\ng -2\n", 1);
    text = expose(set);
    ASSERT_CONTAINS(text, "g -2\n");
    ASSERT_CONTAINS(text, "a_total 17\n");
    ASSERT(!strstr(text, "b_total "));
    free(text);
#undef SNAP
    zc__mview_free(v);
    zc__mset_free(set);
}
