/* Worker health: the watchdog (linked workers, systemd-protocol workers,
 * stopped ones, the log-only mode, the starvation guard, strangers),
 * recycling by memory and by lifetime under load, give-up and its
 * retries, and the backoff's jitter. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"

/* The watchdog periods here: long enough that a test under a sanitizer
 * is never starved out of one, short enough to keep the tests quick. */
#define PERIOD "300ms"
#define PERIOD_MS 300
/* Caught within two periods; the rest is the log's and our own latency. */
#define CAUGHT_MS (2 * PERIOD_MS + 300)

static const char *py_worker(void)
{
    if (access("/usr/bin/python3", X_OK) != 0)
        zt_skip("python3 is not installed");
    return zt_path("tests/data/watchdog-worker.py");
}

/* Waits until needle is anywhere in p's log (order-free, unlike
 * zt_wait_line: a respawn and a death race). */
static void wait_log(struct zt_proc *p, const char *needle, int timeout_ms)
{
    uint64_t end = zt_now_ms() + (uint64_t) timeout_ms;

    while (!strstr(p->log, needle)) {
        ASSERT(zt_now_ms() < end);
        zt_pump(p, 20);
    }
}

/* A linked worker whose loop blocks (zcluster-hello spinning a second on
 * /burn) misses within two periods, is killed and replaced; its
 * neighbour answers all along, on a connection it already had. */
void test_health_watchdog_linked_blocks(void)
{
    static const char burn[] = "GET /burn?us=1000000 HTTP/1.1\r\nHost: t\r\n\r\n";
    int fds[2] = { -1, -1 }, port, slot = -1;
    struct zt_resp r;
    struct zt_proc *p;
    pid_t pids[2], hung;
    uint64_t t0, caught;
    const char *line;
    char want[64];

    /* reuseport: a shared socket may give every new connection to one
     * worker, and the test needs one to each. */
    p = zt_fleet(2, pids, &port, "-w", "2", "-l", "127.0.0.1:0", "--balance",
                 "reuseport", "--watchdog", PERIOD, "--respawn-delay", "50",
                 "--backoff-jitter", "0", "--", zt_hello(), NULL);
    ASSERT_CONTAINS(p->log, "watchdog: a worker silent for 300 ms is killed");
    /* A keep-alive connection to each worker. */
    for (int i = 0; i < 200 && (fds[0] < 0 || fds[1] < 0); i++) {
        int fd = zt_http_connect(port);

        ASSERT(fd >= 0);
        ASSERT_EQ(zt_http_request(fd, &r), 200);
        if (fds[r.slot] < 0)
            fds[r.slot] = fd;
        else
            close(fd);
    }
    ASSERT(fds[0] >= 0 && fds[1] >= 0);
    t0 = zt_now_ms();
    ASSERT_EQ(send(fds[0], burn, sizeof(burn) - 1, MSG_NOSIGNAL),
              (ssize_t) sizeof(burn) - 1);
    /* Slot 1 answers while slot 0 spins, each at once. */
    for (int i = 0; i < 5; i++) {
        uint64_t t = zt_now_ms();

        ASSERT_EQ(zt_http_request(fds[1], &r), 200);
        ASSERT_EQ(r.slot, 1);
        ASSERT_LE(zt_now_ms() - t, 100);
    }
    line = zt_wait_line(p, "missed its watchdog: silent for", 3000);
    caught = zt_now_ms() - t0;
    printf("# caught %llu ms after its loop blocked (period %d ms)\n",
            (unsigned long long) caught, PERIOD_MS);
    ASSERT_LE(caught, CAUGHT_MS);
    ASSERT_CONTAINS(line, "sending it SIGABRT, SIGKILL in 5000 ms");
    ASSERT(sscanf(strstr(line, "(slot "), "(slot %d, pid %d)", &slot, &hung) == 2);
    ASSERT_EQ(slot, 0);
    ASSERT_EQ(hung, pids[0]);
    wait_log(p, "missed its watchdog; restarting in 0 ms (failure 1 in a row)", 1000);
    wait_log(p, "it had missed its watchdog and was replaced", 3000);
    ASSERT(zt_wait_gone(hung, 1000));
    snprintf(want, sizeof(want), "worker 3 (slot 0, pid");
    wait_log(p, want, 2000);
    ASSERT_EQ(zt_http_request(fds[1], &r), 200);
    close(fds[0]);
    close(fds[1]);
    ASSERT(zt_alive(pids[1]));
    zt_stop_fleet(p);
}

/* A systemd-protocol worker (Python) that stops sending WATCHDOG=1: the
 * miss names its last STATUS=, and only it is replaced. */
void test_health_watchdog_foreign_silent(void)
{
    struct zt_proc *p;
    pid_t pids[2];
    uint64_t t0, caught;
    const char *line;

    p = zt_fleet(2, pids, NULL, "-w", "2", "--ready", "notify", "--watchdog",
                 PERIOD, "--respawn-delay", "50", "--backoff-jitter", "0", "--",
                 "/usr/bin/python3", py_worker(), NULL);
    t0 = zt_now_ms();
    ASSERT(kill(pids[1], SIGUSR1) == 0);
    line = zt_wait_line(p, "missed its watchdog", 3000);
    caught = zt_now_ms() - t0;
    printf("# caught %llu ms after its last ping at the latest\n",
            (unsigned long long) caught);
    ASSERT_LE(caught, CAUGHT_MS);
    ASSERT_CONTAINS(line, "(slot 1,");
    ASSERT_CONTAINS(line, "last status: stopped pinging on purpose");
    ASSERT(zt_wait_gone(pids[1], 2000));
    wait_log(p, "worker 3 (slot 1, pid", 2000);
    ASSERT(zt_alive(pids[0]));
    ASSERT_EQ(zt_count(p, "missed its watchdog:"), 1);
    zt_stop_fleet(p);
}

/* A stopped (SIGSTOP) worker is caught; SIGCONT comes with the signal, so
 * it dies now, not at the end of the grace. */
void test_health_watchdog_stopped_worker(void)
{
    struct zt_proc *p;
    pid_t pids[2];
    uint64_t t0;
    int port;

    p = zt_fleet(2, pids, &port, "-w", "2", "-l", "127.0.0.1:0", "--watchdog",
                 PERIOD, "--respawn-delay", "50", "--backoff-jitter", "0", "--",
                 zt_hello(), NULL);
    zt_stop(pids[0]);
    t0 = zt_now_ms();
    zt_wait_line(p, "missed its watchdog: silent for", 3000);
    ASSERT_LE(zt_now_ms() - t0, CAUGHT_MS);
    ASSERT(zt_wait_gone(pids[0], 1000));       /* not 5 s later */
    wait_log(p, "was killed by signal ABRT", 2000);
    wait_log(p, "worker 3 (slot 0, pid", 2000);
    ASSERT(zt_alive(pids[1]));
    zt_stop_fleet(p);
}

/* Workers that ping on time, linked and idle (slots 0, 1) or by
 * WATCHDOG=1 (slot 2), are left alone for ten periods; so is one that
 * never pings (slot 3: not watched without --watchdog-require). */
void test_health_watchdog_on_time(void)
{
    char script[300], body[1500];
    struct zt_proc *p;
    pid_t pids[4];
    int mport;

    snprintf(script, sizeof(script), "%s/mixed", zt_tmpdir());
    snprintf(body, sizeof(body), "#!/bin/sh\ncase \"$ZC_WORKER_SLOT\" in\n"
             "0|1) exec %s ;;\n2) exec /usr/bin/python3 %s ping ;;\n"
             "*) exec /usr/bin/python3 %s never ;;\nesac\n", zt_hello(),
             py_worker(), py_worker());
    zt_write_script(script, body);
    p = zt_fleet(4, pids, NULL, "-w", "4", "-l", "127.0.0.1:0", "--ready",
                 "notify", "--watchdog", "200ms", "--metrics", "127.0.0.1:0",
                 "--", script, NULL);
    mport = zt_metrics_port(p);
    /* Watched from its first ping: within a few periods of being ready. */
    for (uint64_t end = zt_now_ms() + 2000; zt_now_ms() < end;) {
        if (!isnan(zt_metric(mport, "zcluster_worker_watchdog_heard_seconds{slot=\"0\"}")) &&
            !isnan(zt_metric(mport, "zcluster_worker_watchdog_heard_seconds{slot=\"1\"}")) &&
            !isnan(zt_metric(mport, "zcluster_worker_watchdog_heard_seconds{slot=\"2\"}")))
            break;
        usleep(20000);
    }
    /* Ten periods, looked at every half period: the three that ping are
     * heard from within two periods each time; the one that never pings
     * is not watched at all. */
    for (int round = 0; round < 20; round++) {
        char key[80];
        double heard;

        ASSERT(!zt_try_line(p, "missed", 100));
        for (int slot = 0; slot < 3; slot++) {
            snprintf(key, sizeof(key),
                     "zcluster_worker_watchdog_heard_seconds{slot=\"%d\"}", slot);
            heard = zt_metric(mport, key);
            if (!(heard >= 0 && heard <= 0.4))
                zt_fail(__FILE__, __LINE__, "slot %d heard %g s ago (round %d)", slot, heard, round);
        }
        ASSERT(isnan(zt_metric(mport, "zcluster_worker_watchdog_heard_seconds"
                               "{slot=\"3\"}")));
    }
    ASSERT_EQ(zt_metric(mport, "zcluster_watchdog_misses_total{action=\"kill\"}"), 0);
    for (int i = 0; i < 4; i++)
        ASSERT(zt_alive(pids[i]));
    zt_stop_fleet(p);
}

/* --watchdog-action log: a miss is said once per silence and counted;
 * nothing is killed; a ping again is said too. */
void test_health_watchdog_log_only(void)
{
    struct zt_proc *p;
    pid_t pids[2];
    int mport;

    p = zt_fleet(2, pids, NULL, "-w", "2", "-l", "127.0.0.1:0", "--watchdog",
                 "200ms", "--watchdog-action", "log", "--metrics", "127.0.0.1:0",
                 "--", zt_hello(), NULL);
    mport = zt_metrics_port(p);
    zt_stop(pids[0]);
    zt_wait_line(p, "--watchdog-action log: leaving it running", 2000);
    ASSERT(!zt_try_line(p, "missed its watchdog", 800));   /* once */
    ASSERT(zt_alive(pids[0]));
    zt_wait_state(pids[0], 'T');
    ASSERT_EQ(zt_metric(mport, "zcluster_watchdog_misses_total{action=\"log\"}"), 1);
    ASSERT_EQ(zt_metric(mport, "zcluster_watchdog_misses_total{action=\"kill\"}"), 0);
    ASSERT(kill(pids[0], SIGCONT) == 0);
    zt_wait_line(p, "pinged its watchdog again", 2000);
    ASSERT(zt_alive(pids[0]) && zt_alive(pids[1]));
    zt_stop_fleet(p);
}

/* The primary stopped for longer than a period and continued: its late
 * look judges nobody (the pings queued meanwhile are not read yet), and
 * says why. */
void test_health_watchdog_starved_primary(void)
{
    struct zt_proc *p;
    pid_t pids[2];

    p = zt_fleet(2, pids, NULL, "-w", "2", "--ready", "notify", "--watchdog",
                 PERIOD, "--", "/usr/bin/python3", py_worker(), NULL);
    zt_stop(p->pid);
    usleep(3 * PERIOD_MS * 1000);      /* the point is the time it is away */
    ASSERT(kill(p->pid, SIGCONT) == 0);
    zt_wait_line(p, "the primary itself was not scheduled for", 2000);
    ASSERT(!zt_try_line(p, "missed", 3 * PERIOD_MS));
    ASSERT(zt_alive(pids[0]) && zt_alive(pids[1]));
    zt_stop_fleet(p);
}

/* --watchdog-require watches from readiness: a worker that never pings is
 * caught; pings from its child do not count for it (said once), nor does
 * the WATCHDOG_USEC= it sends change the period (said once). */
void test_health_watchdog_require_and_strangers(void)
{
    struct zt_proc *p;
    pid_t pids[1];

    p = zt_fleet(1, pids, NULL, "-w", "1", "--ready", "notify", "--watchdog",
                 PERIOD, "--watchdog-require", "--respawn-delay", "5s", "--",
                 "/usr/bin/python3", py_worker(), "stranger", NULL);
    zt_wait_line(p, "sent WATCHDOG_USEC=1: ignored", 2000);
    zt_wait_line(p, "which is not a worker: ignored", 2000);
    zt_wait_line(p, "missed its watchdog: silent for", CAUGHT_MS + 500);
    ASSERT(zt_wait_gone(pids[0], 1000));
    ASSERT_EQ(zt_count(p, "which is not a worker"), 1);
    zt_stop_fleet(p);
}

/* "never fewer than N ready workers" in a walk's last line: N. */
static unsigned floor_of(const char *line)
{
    const char *at = strstr(line, "never fewer than ");

    ASSERT(at);
    return (unsigned) atoi(at + strlen("never fewer than "));
}

/* A worker past --max-memory is recycled under load: the new one first,
 * never fewer than N ready, no request lost, no failure counted. */
void test_health_recycle_memory(void)
{
    static const char grow[] = "GET /grow?kb=65536 HTTP/1.1\r\nHost: t\r\n\r\n";
    struct zt_load_result res;
    struct zt_load *l;
    struct zt_resp r;
    struct zt_proc *p;
    pid_t pids[2];
    int port, mport, fd;
    const char *line;

    p = zt_fleet(2, pids, &port, "-w", "2", "-l", "127.0.0.1:0", "--max-memory",
                 "100M", "--recycle-jitter", "0", "--metrics", "127.0.0.1:0",
                 "--", zt_hello(), NULL);
    mport = zt_metrics_port(p);
    l = zt_load_start(port, 8, true);
    /* 128 MiB more on whichever worker takes the connection. */
    fd = zt_http_connect(port);
    ASSERT(fd >= 0);
    for (int i = 0; i < 2; i++) {
        ASSERT_EQ(send(fd, grow, sizeof(grow) - 1, MSG_NOSIGNAL), (ssize_t) sizeof(grow) - 1);
        ASSERT_EQ(zt_http_read(fd, &r), 200);
    }
    close(fd);
    line = zt_wait_line(p, "MiB > 100 MiB (--max-memory, less its jitter); "
                        "recycling", 5000);
    printf("# %s\n", strstr(line, "worker "));
    line = zt_wait_line(p, "recycle of slot", 8000);
    line = zt_wait_line(p, "done in", 8000);
    ASSERT_EQ(floor_of(line), 2);
    zt_load_stop(l, &res);
    printf("# %llu requests over the recycle, %llu failed\n",
            (unsigned long long) res.ok, (unsigned long long) res.failed);
    ASSERT_EQ(res.failed, 0);
    ASSERT_GE(res.ok, 100);
    ASSERT_EQ(zt_metric(mport, "zcluster_recycles_total{reason=\"memory\"}"), 1);
    ASSERT_EQ(zt_count(p, "in a row"), 0);
    zt_stop_fleet(p);
}

/* Four workers with the same --max-lifetime are recycled one at a time,
 * --recycle-spacing apart, under load, with nothing lost. */
void test_health_recycle_lifetime(void)
{
    struct zt_load_result res;
    struct zt_load *l;
    struct zt_proc *p;
    pid_t pids[4];
    long at[4];
    int port;

    p = zt_fleet(4, pids, &port, "-w", "4", "-l", "127.0.0.1:0",
                 "--max-lifetime", "1s", "--recycle-jitter", "0",
                 "--recycle-spacing", "400ms", "--", zt_hello(), NULL);
    l = zt_load_start(port, 8, false);
    for (int i = 0; i < 4; i++) {
        const char *line = zt_wait_line(p, "recycling: recycle of slot", 6000);

        at[i] = zt_log_ms(line);
        line = zt_wait_line(p, "done in", 4000);
        ASSERT_EQ(floor_of(line), 4);
        if (i)
            printf("# recycle %d started %ld ms after the one before\n",
                    i + 1, at[i] - at[i - 1]);
        if (i)
            ASSERT_GE(at[i] - at[i - 1], 398);     /* log times: to the ms */
    }
    zt_load_stop(l, &res);
    printf("# %llu requests (a connection each) over 4 recycles, "
            "%llu failed\n", (unsigned long long) res.ok,
            (unsigned long long) res.failed);
    ASSERT_EQ(res.failed, 0);
    ASSERT_GE(zt_count(p, "past its lifetime (--max-lifetime 1000 ms, less 0% "
                       "jitter); recycling"), 4);
    for (int i = 0; i < 4; i++)
        ASSERT(zt_wait_gone(pids[i], 3000));
    ASSERT_EQ(zt_count(p, "in a row"), 0);
    zt_stop_fleet(p);
}

/* A script that exits 3 in slot 1 until FIXED exists. */
static const char *crashing_slot_1(char *fixed, size_t size)
{
    static char script[300];
    char body[900];

    snprintf(fixed, size, "%s/fixed", zt_tmpdir());
    snprintf(script, sizeof(script), "%s/shop", zt_tmpdir());
    snprintf(body, sizeof(body), "#!/bin/sh\n[ \"$ZC_WORKER_SLOT\" = 1 ] && "
             "[ ! -e %s ] && exit 3\nexec %s\n", fixed, zt_hello());
    zt_write_script(script, body);
    return script;
}

/* --give-up: a slot that always crashes is failed after N, the others
 * serve, /readyz says degraded; fixed, the retry brings it back. */
void test_health_give_up_and_retry(void)
{
    char fixed[300], buf[4096];
    const char *script = crashing_slot_1(fixed, sizeof(fixed)), *body, *line;
    struct zt_resp r;
    struct zt_proc *p;
    int port, mport;

    p = zt_zc("-w", "3", "-l", "127.0.0.1:0", "--give-up", "3/10s",
              "--failed-retry", "1500ms", "--respawn-delay", "50",
              "--backoff-jitter", "0", "--metrics", "127.0.0.1:0", "--", script,
              NULL);
    line = zt_wait_line(p, "; not restarting it: slot 1 has failed", 5000);
    ASSERT_CONTAINS(line, "exited with status 3; not restarting it: slot 1 has "
                    "failed 3 times within 10.0 s (--give-up)");
    line = zt_wait_line(p, "slot 1 given up on", 5000);
    ASSERT_CONTAINS(line, "slot 1 given up on, trying it again in 1.5 s; ");
    ASSERT_CONTAINS(line, " still serving");
    wait_log(p, "2 of 3 workers ready, 1 slot failed (given up on): serving, "
             "degraded", 2000);
    port = zt_parse_port(p->log);
    mport = zt_metrics_port(p);
    for (int i = 0; i < 10; i++) {
        ASSERT_EQ(zt_http_get(port, NULL, &r), 200);
        ASSERT(r.slot != 1);
    }
    ASSERT_EQ(zt_http_fetch(mport, "/readyz", buf, sizeof(buf), &body), 200);
    ASSERT_CONTAINS(body, "ready, degraded: 1 of 3 slots failed");
    ASSERT_EQ(zt_metric(mport, "zcluster_slot_state{state=\"failed\"}"), 1);
    ASSERT_EQ(zt_metric(mport, "zcluster_give_ups_total"), 1);
    ASSERT_EQ(zt_count(p, "(slot 1) could not be started"), 0);
    {
        /* Status shows it, and why. */
        char *argv[] = { (char *) zt_zclusterctl(), (char *) "-n", (char *) "shop",
                         (char *) "status", (char *) "--json", NULL };
        struct zt_proc *c = zt_start(argv, NULL);

        ASSERT_EQ(zt_exit_code(c, 5000), 0);
        ASSERT_CONTAINS(c->log, "{\"slot\": 1, \"role\": \"serving\", "
                        "\"state\": \"failed\", \"worker\": null");
        ASSERT_CONTAINS(c->log, "\"retry_left_ms\": ");
        ASSERT_CONTAINS(c->log, "\"last_failures\": [\"worker ");
        ASSERT_CONTAINS(c->log, "exited with status 3\", \"worker ");
        ASSERT_CONTAINS(c->log, "\"give_ups\": 1, \"failed_slots\": 1}");
        ASSERT_CONTAINS(c->log, "\"state\": \"degraded\"");
        zt_proc_free(c);
    }
    zt_write_file(fixed, "");
    zt_wait_line(p, "slot 1: trying it again", 3000);
    zt_wait_line(p, "(slot 1, pid", 2000);
    zt_wait_line(p, "ready in", 3000);
    ASSERT_EQ(zt_http_fetch(mport, "/readyz", buf, sizeof(buf), &body), 200);
    ASSERT_STREQ(body, "ready\n");
    ASSERT_EQ(zt_metric(mport, "zcluster_slot_state{state=\"ready\"}"), 3);
    zt_stop_fleet(p);
}

/* Without a retry, a restart of the slot (zclusterctl) tries it at once,
 * and so does a reload; when every slot fails with no retry, zcluster
 * exits 1 and says why. */
void test_health_give_up_restart_and_exit(void)
{
    char fixed[300];
    const char *script = crashing_slot_1(fixed, sizeof(fixed));
    char *argv[] = { (char *) zt_zclusterctl(), (char *) "-n", (char *) "shop",
                     (char *) "restart", (char *) "1", NULL };
    struct zt_proc *p, *c;

    p = zt_zc("-w", "2", "-l", "127.0.0.1:0", "--give-up", "2/10s",
              "--failed-retry", "0", "--respawn-delay", "20",
              "--backoff-jitter", "0", "--", script, NULL);
    zt_wait_line(p, "not trying it again (--failed-retry 0); ", 5000);
    zt_write_file(fixed, "");
    c = zt_start(argv, NULL);
    ASSERT_EQ(zt_exit_code(c, 10000), 0);
    zt_proc_free(c);
    zt_wait_line(p, "restart of slot 1 done", 3000);
    zt_stop_fleet(p);

    /* A reload, too, tries a failed slot at once. */
    unlink(fixed);
    p = zt_zc("-w", "2", "-l", "127.0.0.1:0", "--give-up", "2/10s",
              "--failed-retry", "0", "--respawn-delay", "20",
              "--backoff-jitter", "0", "--", script, NULL);
    zt_wait_line(p, "given up on", 5000);
    zt_write_file(fixed, "");
    ASSERT(kill(p->pid, SIGHUP) == 0);
    zt_wait_line(p, "reload to generation 2 done", 5000);
    ASSERT_CONTAINS(p->log, "(slot 1, pid");
    zt_stop_fleet(p);

    p = zt_zc("-w", "2", "--give-up", "2/10s", "--failed-retry", "0",
              "--respawn-delay", "20", "--backoff-jitter", "0", "--",
              "/bin/false", NULL);
    ASSERT_EQ(zt_exit_code(p, 10000), 1);
    ASSERT_EQ(zt_count(p, "given up on,"), 2);
    ASSERT_CONTAINS(p->log, "every slot failed or stopped, and a failed slot "
                    "is not tried again (--failed-retry 0); exiting with "
                    "status 1");
    zt_proc_free(p);
}

/* Eight slots killed together come back over [d/2, d] with the default
 * --backoff-jitter 0.5, not together. */
void test_health_backoff_jitter(void)
{
    long delay[8], lo = 1000000, hi = 0;
    struct zt_proc *p;
    pid_t pids[8];

    p = zt_fleet(8, pids, NULL, "-w", "8", "-l", "127.0.0.1:0",
                 "--respawn-delay", "1s", "--", zt_hello(), NULL);
    for (int i = 0; i < 8; i++)
        ASSERT(kill(pids[i], SIGKILL) == 0);
    for (int i = 0; i < 8; i++) {
        const char *line = zt_wait_line(p, "restarting in ", 3000);

        delay[i] = atol(strstr(line, "restarting in ") + strlen("restarting in "));
        lo = delay[i] < lo ? delay[i] : lo;
        hi = delay[i] > hi ? delay[i] : hi;
        ASSERT(delay[i] >= 500 && delay[i] <= 1000);
    }
    printf("# 8 respawn delays from %ld to %ld ms\n", lo, hi);
    ASSERT_GE(hi - lo, 100);
    for (int i = 0; i < 8; i++)
        zt_wait_line(p, "ready in", 3000);
    zt_stop_fleet(p);
}
