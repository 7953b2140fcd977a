/* The metrics endpoint: exact sums over workers, kept across SIGKILL and
 * reloads, workers that report in text, and clients that misbehave. */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "test.h"

#define BODY_MAX (4 << 20)

static int dial(int port)
{
    int fd = zt_http_connect(port);

    ASSERT(fd >= 0);
    return fd;
}

#define raw zt_http_raw
#define get zt_http_fetch
#define value zt_sample
#define RAW(port, req, buf, size, body) raw(port, req, strlen(req), buf, size, body)

static int lines_with(const char *body, const char *prefix)
{
    int n = 0;

    for (const char *l = body; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
        n += strncmp(l, prefix, strlen(prefix)) == 0;
    return n;
}

#define ASSERT_VALUE(body, key, want) \
    do { double v_ = value(body, key); \
         if (!(v_ == (double) (want))) zt_fail(__FILE__, __LINE__, \
             "%s is %g, not %g", key, v_, (double) (want)); } while (0)

/* Cumulative buckets never go down, and +Inf is the count. */
static void check_histogram(const char *body, const char *name)
{
    char key[128];
    double last = 0, v;

    for (const char *l = body; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
        snprintf(key, sizeof(key), "%s_bucket{", name);
        if (strncmp(l, key, strlen(key)) == 0) {
            v = strtod(strchr(l, ' ') + 1, NULL);
            ASSERT(v >= last);
            last = v;
        }
    }
    snprintf(key, sizeof(key), "%s_bucket{le=\"+Inf\"}", name);
    ASSERT(value(body, key) == last);
    snprintf(key, sizeof(key), "%s_count", name);
    ASSERT(value(body, key) == last);
}

/* promtool's own check of the text, when the machine has it. */
static void promtool_check(const char *body)
{
    char path[600], cmd[1400];
    int r;

    if (access("/usr/bin/promtool", X_OK) != 0) {
        fprintf(stderr, "  (promtool is not installed: format not checked by it; "
                "scripts/deps.sh ci installs it)\n");
        return;
    }
    snprintf(path, sizeof(path), "%s/metrics.txt", zt_tmpdir());
    zt_write_file(path, body);
    snprintf(cmd, sizeof(cmd), "promtool check metrics < %s > %s.out 2>&1", path, path);
    r = system(cmd);
    if (r != 0) {
        snprintf(cmd, sizeof(cmd), "%s.out", path);
        zt_fail(__FILE__, __LINE__, "promtool check metrics: %s", zt_read_file(cmd));
    }
}

/* 3 workers count 1000 each: the sum is exact, right after one is killed
 * with SIGKILL too, and it only grows across its respawn and a reload. */
void test_metrics_sum_kill_reload(void)
{
    char *buf = malloc(BODY_MAX);
    const char *body;
    pid_t pids[3];
    int port, mport, scrapes = 0;
    double last = 0;
    struct zt_proc *p;

    ASSERT(buf);
    p = zt_fleet(3, pids, &port, "-w", "3", "--metrics", "127.0.0.1:0",
                 "--respawn-delay", "300", "--backoff-jitter", "0", "--", zt_self(), "--helper",
                 "metrics_worker", "1000", "100", NULL);
    mport = zt_metrics_port(p);
    ASSERT_EQ(get(mport, "/metrics", buf, BODY_MAX, &body), 200);
    ASSERT_CONTAINS(buf, "Content-Type: text/plain; version=0.0.4");
    ASSERT_VALUE(body, "events_total{kind=\"a\"}", 3000);
    ASSERT_VALUE(body, "events_total{kind=\"b\"}", 6000);
    ASSERT_VALUE(body, "test_level", 3);
    ASSERT_VALUE(body, "test_seconds_bucket{le=\"0.1\"}", 3000);
    ASSERT_VALUE(body, "test_seconds_bucket{le=\"1\"}", 6000);
    ASSERT_VALUE(body, "test_seconds_bucket{le=\"10\"}", 9000);
    ASSERT_VALUE(body, "test_seconds_count", 12000);
    ASSERT(fabs(value(body, "test_seconds_sum") - 3000 * 55.55) < 1e-6);
    check_histogram(body, "test_seconds");
    ASSERT_EQ(lines_with(body, "test_slot{slot="), 3);
    ASSERT_VALUE(body, "zcluster_workers{state=\"ready\"}", 3);
    promtool_check(body);

    /* SIGKILL: what it counted is still there, before and after the reap. */
    ASSERT_EQ(kill(pids[1], SIGKILL), 0);
    ASSERT_EQ(get(mport, "/metrics", buf, BODY_MAX, &body), 200);
    ASSERT_VALUE(body, "events_total{kind=\"a\"}", 3000);
    zt_wait_line(p, "was killed by signal KILL; restarting in 300 ms", 5000);
    ASSERT_EQ(get(mport, "/metrics", buf, BODY_MAX, &body), 200);
    ASSERT_VALUE(body, "events_total{kind=\"a\"}", 3000);
    ASSERT_VALUE(body, "events_total{kind=\"b\"}", 6000);
    ASSERT_VALUE(body, "test_seconds_count", 12000);
    ASSERT_VALUE(body, "test_level", 2);        /* gauges: live workers only */
    ASSERT_EQ(lines_with(body, "test_slot{slot="), 2);
    ASSERT_VALUE(body, "zcluster_slot_backoff_seconds{slot=\"1\"}", 0.3);
    ASSERT_VALUE(body, "zcluster_slot_failures{slot=\"1\"}", 1);
    check_histogram(body, "test_seconds");
    /* The respawned worker adds its own. */
    zt_wait_line(p, "(slot 1, pid", 5000);
    zt_wait_line(p, "ready in", 5000);
    ASSERT_EQ(get(mport, "/metrics", buf, BODY_MAX, &body), 200);
    ASSERT_VALUE(body, "events_total{kind=\"a\"}", 4000);
    ASSERT_VALUE(body, "test_level", 3);
    ASSERT_VALUE(body, "zcluster_slot_restarts_total{slot=\"1\"}", 1);
    ASSERT_VALUE(body, "zcluster_slot_backoff_seconds{slot=\"1\"}", 0);

    /* A reload: scraped all along, the sum never goes down; at its end
     * three new workers have added theirs. */
    ASSERT_EQ(kill(p->pid, SIGHUP), 0);
    while (!zt_try_line(p, "reload to generation 2 done", 5)) {
        double a;

        ASSERT_EQ(get(mport, "/metrics", buf, BODY_MAX, &body), 200);
        a = value(body, "events_total{kind=\"a\"}");
        ASSERT(a >= last);
        last = a;
        check_histogram(body, "test_seconds");
        ASSERT(++scrapes < 5000);
    }
    ASSERT_EQ(get(mport, "/metrics", buf, BODY_MAX, &body), 200);
    ASSERT_VALUE(body, "events_total{kind=\"a\"}", 7000);
    ASSERT_VALUE(body, "events_total{kind=\"b\"}", 14000);
    ASSERT_VALUE(body, "test_seconds_count", 28000);
    ASSERT_VALUE(body, "test_level", 3);
    ASSERT_EQ(lines_with(body, "test_slot{slot="), 3);
    ASSERT_VALUE(body, "zcluster_reloads_total{outcome=\"done\"}", 1);
    ASSERT_VALUE(body, "zcluster_generation", 2);
    check_histogram(body, "test_seconds");
    promtool_check(body);
    fprintf(stderr, "  %d scrapes during the reload\n", scrapes);
    ASSERT_GE(scrapes, 3);
    zt_stop_fleet(p);
    free(buf);
}

static struct zt_proc *python_fleet(const char *deaf, pid_t *pids)
{
    char *env[] = { (char *) deaf, NULL };
    char *argv[] = { (char *) zt_zcluster(), (char *) "-w", (char *) "2",
                     (char *) "--ready", (char *) "notify", (char *) "--metrics",
                     (char *) "127.0.0.1:0", (char *) "--metrics-wait",
                     (char *) "300", (char *) "--", (char *) "python3",
                     (char *) zt_worker_py(), NULL };
    struct zt_proc *p;
    unsigned long id;
    int slot;

    p = zt_start(argv, deaf ? env : NULL);
    for (int i = 0; i < 2; i++) {
        pid_t pid;

        ASSERT(zt_parse_worker(zt_wait_line(p, "started", 10000), &id, &slot, &pid));
        pids[slot] = pid;
    }
    zt_wait_line(p, "all 2 workers ready", 10000);
    return p;
}

/* Workers in another language report Prometheus text by message; each
 * scrape asks them for a fresh one. */
void test_metrics_text_workers(void)
{
    char *buf = malloc(BODY_MAX);
    const char *body;
    pid_t pids[2];
    struct zt_proc *p = python_fleet(NULL, pids);
    int mport = zt_metrics_port(p);
    uint64_t t0;

    for (int k = 1; k <= 3; k++) {
        ASSERT_EQ(get(mport, "/metrics", buf, BODY_MAX, &body), 200);
        /* Each worker counted the k collections it was asked for. */
        ASSERT_VALUE(body, "worker_py_messages_total", 2 * k);
        ASSERT_VALUE(body, "worker_py_up", 2);
        ASSERT_VALUE(body, "worker_py_start_seconds_bucket{le=\"+Inf\"}", 2);
        ASSERT_VALUE(body, "worker_py_start_seconds_count", 2);
    }
    promtool_check(body);
    /* Killed: its count stays, its gauge goes. Its slot is restarting
     * (1 s), so the scrape asks only the other one. */
    ASSERT_EQ(kill(pids[0], SIGKILL), 0);
    zt_wait_line(p, "was killed by signal KILL", 5000);
    t0 = zt_now_ms();
    ASSERT_EQ(get(mport, "/metrics", buf, BODY_MAX, &body), 200);
    ASSERT_LE(zt_now_ms() - t0, 250);
    ASSERT_VALUE(body, "worker_py_messages_total", 7);
    ASSERT_VALUE(body, "worker_py_up", 1);
    zt_stop_fleet(p);

    /* Workers that never answer: the scrape waits --metrics-wait, then
     * shows their last snapshot (the one sent at start). */
    p = python_fleet("WORKER_PY_DEAF_METRICS=1", pids);
    mport = zt_metrics_port(p);
    for (int k = 0; k < 2; k++) {
        t0 = zt_now_ms();
        ASSERT_EQ(get(mport, "/metrics", buf, BODY_MAX, &body), 200);
        ASSERT_GE(zt_now_ms() - t0, 290);
        ASSERT_LE(zt_now_ms() - t0, 1500);
        ASSERT_VALUE(body, "worker_py_messages_total", 0);
        ASSERT_VALUE(body, "worker_py_up", 2);
    }
    /* The loop was not held meanwhile: health answers at once. */
    t0 = zt_now_ms();
    ASSERT_EQ(get(mport, "/healthz", buf, BODY_MAX, &body), 200);
    ASSERT_LE(zt_now_ms() - t0, 250);
    zt_stop_fleet(p);
    free(buf);
}

/* Garbage, huge headers, a slow drip, other methods and paths: each gets
 * a clean answer or is cut off, and the endpoint keeps serving. */
void test_metrics_http_bad_requests(void)
{
    char *buf = malloc(BODY_MAX), *huge;
    const char *body;
    pid_t pids[1];
    int port, mport, fd;
    uint64_t t0;
    struct zt_proc *p;
    ssize_t r = 0;

    ASSERT(buf);
    p = zt_fleet(1, pids, &port, "-w", "1", "--metrics", "127.0.0.1:0",
                 "--metrics-timeout", "600", "--", zt_self(), "--helper",
                 "metrics_worker", "1", NULL);
    mport = zt_metrics_port(p);
    ASSERT_EQ(get(mport, "/nope", buf, BODY_MAX, &body), 404);
    ASSERT_EQ(get(mport, "/healthz", buf, BODY_MAX, &body), 200);
    ASSERT_STREQ(body, "ok\n");
    ASSERT_EQ(RAW(mport, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                  "Connection: close\r\n\r\nabc", buf, BODY_MAX, &body), 405);
    ASSERT_CONTAINS(buf, "Allow: GET, HEAD");
    ASSERT_EQ(RAW(mport, "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                  buf, BODY_MAX, &body), 200);
    ASSERT_STREQ(body, "");
    /* Garbage: refused (400, or closed) at once, not at the timeout. */
    t0 = zt_now_ms();
    {
        int st = RAW(mport, "\x01\x02garbage\r\n\r\n", buf, BODY_MAX, &body);

        ASSERT(st == 400 || st == 0);
    }
    ASSERT_LE(zt_now_ms() - t0, 400);
    /* 64 KiB of headers: more than a request may hold. */
    huge = malloc(70000);
    ASSERT(huge);
    strcpy(huge, "GET /metrics HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 1000; i++)
        strcat(huge, "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    strcat(huge, "\r\n");
    {
        int st = raw(mport, huge, strlen(huge), buf, BODY_MAX, &body);

        ASSERT(st == 431 || st == 413 || st == 400 || st == 0);
    }
    free(huge);
    /* A slow drip: one byte every 50 ms never completes a request in time. */
    fd = dial(mport);
    t0 = zt_now_ms();
    for (const char *s = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: "; ; s++) {
        char c = *s ? *s : 'a';
        char tmp[16];

        if (send(fd, &c, 1, MSG_NOSIGNAL) != 1)
            break;
        /* Others are served meanwhile. */
        if (zt_now_ms() - t0 < 300)
            ASSERT_EQ(get(mport, "/metrics", buf, BODY_MAX, &body), 200);
        usleep(50000);
        r = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno != EAGAIN))
            break;
        ASSERT(zt_now_ms() - t0 < 5000);
    }
    ASSERT_GE(zt_now_ms() - t0, 500);
    ASSERT_LE(zt_now_ms() - t0, 3000);
    close(fd);
    /* An idle connection is closed too, without a byte sent. */
    fd = dial(mport);
    t0 = zt_now_ms();
    ASSERT_EQ(recv(fd, buf, 16, 0), 0);
    ASSERT_GE(zt_now_ms() - t0, 500);
    ASSERT_LE(zt_now_ms() - t0, 3000);
    close(fd);
    ASSERT_EQ(get(mport, "/metrics", buf, BODY_MAX, &body), 200);
    ASSERT_VALUE(body, "events_total{kind=\"a\"}", 1);
    zt_stop_fleet(p);
    free(buf);
}

/* /readyz: 503 while no worker is ready, 200 once one is. */
void test_metrics_readyz(void)
{
    char buf[4096];
    const char *body;
    char *argv[] = { (char *) zt_zcluster(), (char *) "-w", (char *) "1",
                     (char *) "--ready", (char *) "notify", (char *) "--metrics",
                     (char *) "127.0.0.1:0", (char *) "--", (char *) zt_self(),
                     (char *) "--helper", (char *) "never_ready", NULL };
    struct zt_proc *p = zt_start(argv, NULL);
    pid_t pids[1];
    int port, mport;

    zt_wait_line(p, "started", 5000);
    mport = zt_metrics_port(p);
    ASSERT_EQ(get(mport, "/readyz", buf, sizeof(buf), &body), 503);
    ASSERT_CONTAINS(body, "not ready: no worker is ready yet (1 running)");
    ASSERT_EQ(get(mport, "/healthz", buf, sizeof(buf), &body), 200);
    zt_stop_fleet(p);

    p = zt_fleet(1, pids, &port, "-w", "1", "--metrics", "127.0.0.1:0", "--",
                 zt_self(), "--helper", "metrics_worker", "1", NULL);
    mport = zt_metrics_port(p);
    ASSERT_EQ(get(mport, "/readyz", buf, sizeof(buf), &body), 200);
    ASSERT_STREQ(body, "ready\n");
    zt_stop_fleet(p);
}

/*
 * Room for the next request: 1000 idle connections and one that drips a
 * byte every 50 ms hold the endpoint, and /healthz still answers within
 * 100 ms, every time: at its limit the endpoint closes the oldest
 * connections that have sent no complete request.
 */
void test_endpoint_room_for_probe(void)
{
    enum { IDLE = 1000, PROBES = 20 };
    static int idle[IDLE];
    pid_t pids[1];
    int port, mport, drip;
    uint64_t worst = 0, last_drip;
    struct rlimit rl;
    struct zt_proc *p;

    /* The clients' fds are this process's: the default 1024 is too few. */
    ASSERT(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    if (rl.rlim_cur < IDLE + 64) {
        if (rl.rlim_max < IDLE + 64)
            zt_skip("needs 1064 fds (ulimit -Hn)");
        rl.rlim_cur = IDLE + 64;
        ASSERT(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    }
    p = zt_fleet(1, pids, &port, "-w", "1", "-l", "127.0.0.1:0", "--metrics",
                 "127.0.0.1:0", "--", zt_hello(), NULL);

    mport = zt_metrics_port(p);
    for (int i = 0; i < IDLE; i++)
        idle[i] = zt_http_connect(mport);
    drip = zt_http_connect(mport);
    ASSERT(drip >= 0);
    ASSERT_EQ(write(drip, "GET /healthz HTTP/1.1\r\n", 23), 23);
    last_drip = zt_now_ms();
    for (int i = 0; i < PROBES; i++) {
        char buf[512];
        const char *body;
        uint64_t t0 = zt_now_ms();

        ASSERT_EQ(zt_http_fetch(mport, "/healthz", buf, sizeof(buf), &body), 200);
        if (zt_now_ms() - t0 > worst)
            worst = zt_now_ms() - t0;
        if (zt_now_ms() - last_drip >= 50) {
            (void) send(drip, "X", 1, MSG_NOSIGNAL);
            last_drip = zt_now_ms();
        }
        for (uint64_t t = zt_now_ms(); zt_now_ms() - t < 20; )
            zt_pump(p, 5);
    }
    printf("# /healthz behind %d idle connections and a drip: slowest of %d "
           "probes %llu ms\n", IDLE, PROBES, (unsigned long long) worst);
    /* Without room made, a probe waits out --metrics-timeout (5 s). A
     * primary under valgrind is ten times slower at everything. */
    ASSERT_LE(worst, getenv("ZC_TEST_VALGRIND") ? 1000 : 100);
    for (int i = 0; i < IDLE; i++)
        if (idle[i] >= 0)
            close(idle[i]);
    close(drip);
    zt_stop_fleet(p);
}

/* A worker that sends ever new series (20 snapshots of 100,000) leaves
 * the primary holding at most its limits, said once, counted; /metrics
 * stays small and quick. */
void test_metrics_series_bounded(void)
{
    char *buf = malloc(BODY_MAX);
    const char *body;
    pid_t pids[1];
    struct zt_proc *p;
    uint64_t t0;
    int mport;
    long rss;

    if (access("/usr/bin/python3", X_OK) != 0)
        zt_skip("python3 is not installed");
    p = zt_fleet(1, pids, NULL, "-w", "1", "--ready", "notify", "--metrics",
                 "127.0.0.1:0", "--", "/usr/bin/python3",
                 zt_path("tests/data/series-bomb.py"), NULL);
    mport = zt_metrics_port(p);
    t0 = zt_now_ms();
    ASSERT_EQ(get(mport, "/metrics", buf, BODY_MAX, &body), 200);
    printf("# /metrics: %zu bytes in %llu ms\n", strlen(body),
           (unsigned long long) (zt_now_ms() - t0));
    ASSERT_LE(zt_now_ms() - t0, 1000);
    ASSERT_VALUE(body, "zcluster_metrics_series", 50000);
    ASSERT_VALUE(body, "zcluster_metrics_series_refused_total", 1950000);
    ASSERT_LE(strlen(body), 2 << 20);
    rss = zt_rss_kib(p->pid);
    printf("# the primary holds %ld KiB after 2,000,000 series sent\n", rss);
    /* 14 MiB here; AddressSanitizer's shadow and quarantine add to it. */
    ASSERT_LE(rss, (zt_memory_kept() ? 128 : 32) * 1024);
    ASSERT_EQ(zt_count(p, "its new series are left out of /metrics"), 1);
    zt_stop_fleet(p);
    free(buf);
}

/* A connection to 127.0.0.1:port that has sent req (asserted). */
static int send_to(int port, const char *req)
{
    int fd = zt_http_connect(port);

    ASSERT(fd >= 0);
    ASSERT_EQ(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t) strlen(req));
    return fd;
}

/* What fd answers within ms (its first bytes), "" if it closed with none,
 * NULL if nothing came in time. */
static const char *answer_of(int fd, int ms, char *buf, size_t size)
{
    struct pollfd pf = { .fd = fd, .events = POLLIN };
    ssize_t n;

    if (poll(&pf, 1, ms) != 1)
        return NULL;
    n = read(fd, buf, size - 1);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

/* 100 scrapes that wait for workers that never answer fill every
 * connection: /healthz and /readyz are still answered within 100 ms each,
 * the scrapes that find no room are answered 503, none gets a bare EOF,
 * and a scrape that comes while 64 wait gets the last snapshots at once,
 * on the reserved lane. */
void test_metrics_probes_never_dark(void)
{
    static const char scrape[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    char *env[] = { (char *) "WORKER_PY_DEAF_METRICS=1", NULL };
    char *argv[] = { (char *) zt_zcluster(), (char *) "-w", (char *) "1",
                     (char *) "--ready", (char *) "notify", (char *) "--metrics",
                     (char *) "127.0.0.1:0", (char *) "--metrics-wait",
                     (char *) "10s", (char *) "--", (char *) "python3",
                     (char *) zt_worker_py(), NULL };
    int fds[100], mport, busy = 0, now = 0, waiting = 0;
    struct zt_proc *p = zt_start(argv, env);
    char buf[512];

    zt_wait_line(p, "1 worker ready", 10000);
    mport = zt_metrics_port(p);
    for (int i = 0; i < 100; i++)
        fds[i] = send_to(mport, scrape);
    /* Half a second for the answers that come at once, all together. */
    for (uint64_t t0 = zt_now_ms(); zt_now_ms() - t0 < 500; ) {
        struct pollfd pf[100];

        for (int i = 0; i < 100; i++)
            pf[i] = (struct pollfd) { .fd = fds[i], .events = POLLIN };
        if (poll(pf, 100, 50) < 0)
            break;
    }
    for (int i = 0; i < 100; i++) {
        const char *a = answer_of(fds[i], 0, buf, sizeof(buf));

        if (!a)
            waiting++;
        else if (strncmp(a, "HTTP/1.1 503", 12) == 0)
            busy++;
        else if (strncmp(a, "HTTP/1.1 200", 12) == 0)
            now++;
        else
            zt_fail(__FILE__, __LINE__, "scrape %d answered \"%.40s\"", i, a);
    }
    printf("# 100 scrapes: %d waiting, %d answered at once, %d told 503\n",
           waiting, now, busy);
    /* At most 64 wait. In a burst, a newcomer makes room by closing a
     * connection whose request is not read yet (told 503, and not acted
     * on), so few or none reach the lane; the rest are told. */
    ASSERT_LE(waiting, 64);
    ASSERT_GE(waiting, 48);
    ASSERT_GE(busy, 100 - 64 - now);
    {
        const char *body;
        uint64_t t0 = zt_now_ms();
        static char big[1 << 16];

        ASSERT_EQ(zt_http_fetch(mport, "/metrics", big, sizeof(big), &body), 200);
        printf("# a scrape while 64 wait: answered in %llu ms\n",
               (unsigned long long) (zt_now_ms() - t0));
        ASSERT_LE(zt_now_ms() - t0, 100);
        ASSERT_CONTAINS(body, "zcluster_workers");
    }
    for (int i = 0; i < 20; i++) {
        const char *path = i % 2 ? "/readyz" : "/healthz";
        const char *body;
        uint64_t t0 = zt_now_ms();

        ASSERT_EQ(zt_http_fetch(mport, path, buf, sizeof(buf), &body), 200);
        ASSERT_LE(zt_now_ms() - t0, 100);
    }
    for (int i = 0; i < 100; i++)
        close(fds[i]);
    zt_stop_fleet(p);
}

/* A slot's counters across a scale 4 -> 2 -> 4 never go down: its
 * restarts and CPU seconds go on where they were (and are shown while the
 * slot is away). */
void test_metrics_slot_counters_survive_scaling(void)
{
    const char *key = "zcluster_slot_restarts_total{slot=\"2\"}";
    const char *cpu = "zcluster_worker_cpu_seconds_total{slot=\"2\"}";
    char cmd[300], *out;
    pid_t pids[4];
    int port, mport;
    double c0, c1, c2;
    struct zt_proc *p;

    p = zt_fleet(4, pids, &port, "-n", "shop", "-w", "4", "-l", "127.0.0.1:0",
                 "--metrics", "127.0.0.1:0", "--respawn-delay", "0", "--",
                 zt_hello(), NULL);
    mport = zt_metrics_port(p);
    ASSERT(kill(pids[2], SIGKILL) == 0);
    zt_wait_line(p, "(slot 2, pid", 5000);
    zt_wait_line(p, "ready in", 5000);
    ASSERT_EQ(zt_metric(mport, key), 1);
    c0 = zt_metric(mport, cpu);
    snprintf(cmd, sizeof(cmd), "%s -n shop scale 2", zt_zclusterctl());
    free(zt_capture(cmd));
    ASSERT_EQ(zt_metric(mport, key), 1);
    c1 = zt_metric(mport, cpu);
    ASSERT(c1 >= c0);
    snprintf(cmd, sizeof(cmd), "%s -n shop scale 4", zt_zclusterctl());
    out = zt_capture(cmd);
    free(out);
    ASSERT_EQ(zt_metric(mport, key), 1);
    c2 = zt_metric(mport, cpu);
    ASSERT(c2 >= c1);
    zt_stop_fleet(p);
}
