/*
 * dispatch: what the watchdog's ping costs a linked worker.
 *
 *   zcluster -w 1 [--watchdog 1s] -- dispatch N
 *       As the fleet's worker: N calls of zc_worker_dispatch() in a busy
 *       loop, as a server's own loop makes them, then the time per call.
 *       With --watchdog each call is also a ping (an atomic add into the
 *       memory shared with the primary); run the two side by side, and
 *       under strace -f -c to count the system calls (bench/health.sh).
 *
 *   zcluster -w 1 --watchdog 1s -- dispatch --notify N
 *       The systemd protocol's ping instead, as any other worker sends it:
 *       N datagrams "WATCHDOG=1" to NOTIFY_SOCKET (zc_notify), timed.
 *
 * Prints "dispatch: N calls, X ns each, watchdog on|off" (or "notify: ...")
 * and exits 0.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zcluster.h"

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    bool notify = argc > 1 && strcmp(argv[1], "--notify") == 0;
    long n = argc > 1 + notify ? atol(argv[1 + notify]) : 1000000;
    zc_worker *w;
    double t0;

    if (notify) {
        zc_notify("READY=1");
        t0 = now_ns();
        for (long i = 0; i < n; i++)
            if (zc_notify("WATCHDOG=1") < 0)
                return 1;
        printf("notify: %ld pings, %.1f ns each\n", n,
               (now_ns() - t0) / (double) n);
        return 0;
    }
    if (n <= 0 || zc_worker_new(&w, 0) < 0) {
        fprintf(stderr, "usage: zcluster -w 1 -- dispatch N (N > 0)\n");
        return 2;
    }
    zc_worker_ready();
    t0 = now_ns();
    for (long i = 0; i < n; i++)
        if (zc_worker_dispatch(w) < 0)
            return 1;
    printf("dispatch: %ld calls, %.1f ns each, watchdog %s\n", n,
           (now_ns() - t0) / (double) n,
           getenv("WATCHDOG_USEC") ? "on" : "off");
    zc_worker_free(w);
    return 0;
}
