/*
 * Metrics benchmark helper (bench/metrics.sh).
 *
 *   metrics inc N          ns per zc_metric_inc on a labelled series
 *   metrics observe N      ns per zc_metric_observe (11 buckets)
 *   metrics inc2 N         the same counter from 2 threads at once
 *   metrics worker SERIES  a worker that registers SERIES series (families
 *                          of 10 label sets each), counts once in each,
 *                          says READY=1 and waits for TERM
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zcluster.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static zc_metric *series(void)
{
    const char *v[] = { "GET", "200" };
    zc_metric *fam, *s;

    if (zc_metric_new(&fam, ZC_COUNTER, "bench_requests_total", "Requests.",
                      "method,code", 0) < 0 || zc_metric_with(fam, &s, v) < 0)
        exit(1);
    return s;
}

static long n_ops;

static void *spin(void *arg)
{
    for (long i = 0; i < n_ops; i++)
        zc_metric_inc(arg);
    return NULL;
}

static int worker(long n)
{
    char name[64], val[24];    /* a long in decimal, sign included */
    zc_metric *fam, *s;
    sigset_t set;
    int sig;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    for (long f = 0; f < (n + 9) / 10; f++) {
        snprintf(name, sizeof(name), "bench_family_%ld_total", f);
        if (zc_metric_new(&fam, ZC_COUNTER, name, "A family of the benchmark.",
                          "shard", 0) < 0)
            return 1;
        for (long i = 0; i < 10 && f * 10 + i < n; i++) {
            const char *v = val;

            snprintf(val, sizeof(val), "%ld", i);
            if (zc_metric_with(fam, &s, &v) < 0)
                return 1;
            zc_metric_inc(s);
        }
    }
    zc_worker_ready();
    sigwait(&set, &sig);
    return 0;
}

int main(int argc, char **argv)
{
    double t0, t;
    zc_metric *s;

    if (argc < 3)
        return 2;
    n_ops = atol(argv[2]);
    if (strcmp(argv[1], "worker") == 0)
        return worker(n_ops);
    if (strcmp(argv[1], "observe") == 0) {
        zc_metric *h;

        if (zc_histogram_new(&h, "bench_seconds", "Latency.", NULL, NULL, 0) <
            0)
            return 1;
        t0 = now_s();
        for (long i = 0; i < n_ops; i++)
            zc_metric_observe(h, (double) (i & 1023) * 1e-4);
        t = now_s() - t0;
    } else if (strcmp(argv[1], "inc2") == 0) {
        pthread_t a, b;

        s = series();
        t0 = now_s();
        pthread_create(&a, NULL, spin, s);
        pthread_create(&b, NULL, spin, s);
        pthread_join(a, NULL);
        pthread_join(b, NULL);
        t = now_s() - t0;
        n_ops *= 2;
    } else {
        s = series();
        t0 = now_s();
        spin(s);
        t = now_s() - t0;
    }
    printf("%.2f\n", t * 1e9 / (double) n_ops);
    return 0;
}
