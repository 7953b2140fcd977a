/* zcluster as a citizen of orchestrators: the lame duck before the drain
 * (--shutdown-delay), the worker count from what this process may use,
 * and zcluster as the first process of a PID namespace. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

static int readyz(int mport)
{
    char buf[512];

    return zt_http_fetch(mport, "/readyz", buf, sizeof(buf), NULL);
}

/* Under load, TERM with a 2 s delay: /readyz is 503 within a few ms, the
 * fleet serves on through the delay, and nothing fails through the
 * drain: requests in flight when it begins are answered. */
void test_container_lame_duck_under_load(void)
{
    pid_t pids[2];
    int port, mport;
    uint64_t t0, not_ready_ms;
    struct zt_proc *p;
    struct zt_load *l;
    struct zt_load_result res;
    long from_ms, to_ms;
    static const char burn[] = "GET /burn?us=400000 HTTP/1.1\r\nHost: x\r\n"
                               "Connection: close\r\n\r\n";
    int fds[2];

    p = zt_fleet(2, pids, &port, "-w", "2", "-l", "127.0.0.1:0", "--metrics",
                 "127.0.0.1:0", "--shutdown-delay", "2s", "--", zt_hello(),
                 NULL);
    mport = zt_metrics_port(p);
    ASSERT_EQ(readyz(mport), 200);
    l = zt_load_start(port, 8, true);
    usleep(200000);
    t0 = zt_now_ms();
    ASSERT_EQ(kill(p->pid, SIGTERM), 0);
    while (readyz(mport) != 503)
        ASSERT(zt_now_ms() - t0 < 1000);
    not_ready_ms = zt_now_ms() - t0;
    /* Serving on, not ready, until the delay is nearly over. */
    usleep(1500000);
    ASSERT_EQ(readyz(mport), 503);
    ASSERT(zt_alive(pids[0]) && zt_alive(pids[1]));
    zt_load_stop(l, &res);
    printf("# /readyz 503 %llu ms after TERM; %llu requests over %llu "
           "connections during the delay, %llu failed\n",
           (unsigned long long) not_ready_ms, (unsigned long long) res.ok,
           (unsigned long long) res.connects, (unsigned long long) res.failed);
    ASSERT_LE(not_ready_ms, 100);
    ASSERT_EQ(res.failed, 0);
    ASSERT(res.ok > 0);
    /* Requests still in flight when the drain begins are answered: one
     * per worker (the round-robin sends two new connections to the two
     * slots), each taking 400 ms, sent 200 ms before the delay ends. */
    while (zt_now_ms() - t0 < 1800)
        usleep(10000);
    for (int i = 0; i < 2; i++) {
        fds[i] = zt_http_connect(port);
        ASSERT(fds[i] >= 0);
        ASSERT_EQ(send(fds[i], burn, sizeof(burn) - 1, MSG_NOSIGNAL),
                  (ssize_t) sizeof(burn) - 1);
    }
    for (int i = 0; i < 2; i++) {
        struct zt_resp r;

        ASSERT_EQ(zt_http_read(fds[i], &r), 200);
        close(fds[i]);
    }
    ASSERT_GE(zt_now_ms() - t0, 2000); /* the last came after the drain */
    /* The log's buffer may move as it grows: the times are read at once. */
    from_ms = zt_log_ms(zt_wait_line(p, "lame duck for 2000 ms", 100));
    to_ms = zt_log_ms(zt_wait_line(p,
                                   "shutdown delay of 2000 ms over: "
                                   "draining",
                                   3000));
    ASSERT_GE(to_ms - from_ms, 1990);
    ASSERT_EQ(zt_exit_code(p, 10000), 0);
    zt_proc_free(p);
}

/* The duplicate a process-group kill delivers keeps the delay; a real
 * second TERM, later, drains at once. */
void test_container_second_term(void)
{
    pid_t pids[1];
    int port;
    uint64_t t0;
    struct zt_proc *p;

    p = zt_fleet(1, pids, &port, "-w", "1", "-l", "127.0.0.1:0",
                 "--shutdown-delay", "10s", "--", zt_hello(), NULL);
    t0 = zt_now_ms();
    ASSERT_EQ(kill(p->pid, SIGTERM), 0);
    zt_wait_line(p, "lame duck for 10000 ms", 2000);
    ASSERT_EQ(kill(p->pid, SIGTERM), 0);
    zt_wait_line(p, "within a second: the same request", 2000);
    ASSERT(zt_alive(pids[0]));
    usleep(1100000);
    ASSERT_EQ(kill(p->pid, SIGTERM), 0);
    zt_wait_line(p,
                 "received SIGTERM during the shutdown delay: draining "
                 "now",
                 2000);
    ASSERT_EQ(zt_exit_code(p, 10000), 0);
    ASSERT_LE(zt_now_ms() - t0, 5000);
    zt_proc_free(p);
}

/* zclusterctl stop takes the same path: it says the delay, waits for the
 * end; a second one during the delay drains at once. */
void test_container_stop_by_control(void)
{
    pid_t pids[1];
    int port;
    uint64_t t0;
    char *out;
    struct zt_proc *p;

    p = zt_fleet(1, pids, &port, "-n", "lame", "-w", "1", "-l", "127.0.0.1:0",
                 "--shutdown-delay", "800ms", "--", zt_hello(), NULL);
    t0 = zt_now_ms();
    ASSERT_EQ(zt_run(&out, 10000, zt_zclusterctl(), "-n", "lame", "stop", NULL),
              0);
    ASSERT_CONTAINS(out, "not ready from now (/readyz 503), serving for "
                         "800 ms more, then stopping 1 worker");
    free(out);
    ASSERT_GE(zt_now_ms() - t0, 790);
    ASSERT_EQ(zt_exit_code(p, 10000), 0);
    zt_proc_free(p);

    p = zt_fleet(1, pids, &port, "-n", "lame", "-w", "1", "-l", "127.0.0.1:0",
                 "--shutdown-delay", "10s", "--", zt_hello(), NULL);
    t0 = zt_now_ms();
    ASSERT_EQ(zt_run(&out, 10000, zt_zclusterctl(), "-n", "lame", "stop",
                     "--no-wait", NULL),
              0);
    free(out);
    zt_wait_line(p, "lame duck for 10000 ms", 2000);
    ASSERT_EQ(zt_run(&out, 10000, zt_zclusterctl(), "-n", "lame", "stop", NULL),
              0);
    ASSERT_CONTAINS(out, "the shutdown delay cut short");
    free(out);
    ASSERT_EQ(zt_exit_code(p, 10000), 0);
    ASSERT_LE(zt_now_ms() - t0, 5000);
    zt_proc_free(p);
}

/* Without -w, one worker per CPU this process may use: under taskset -c
 * 0, one, and the log says where the count came from. */
void test_container_workers_from_affinity(void)
{
    char *argv[] = { (char *) "/usr/bin/taskset",
                     (char *) "-c",
                     (char *) "0",
                     (char *) zt_zcluster(),
                     (char *) "-l",
                     (char *) "127.0.0.1:0",
                     (char *) "--",
                     (char *) zt_hello(),
                     NULL };
    struct zt_proc *p;

    if (access("/usr/bin/taskset", X_OK) != 0)
        zt_skip("no taskset (util-linux)");
    p = zt_start(argv, NULL);
    zt_wait_line(p,
                 "1 worker, one per CPU this process may use: 1 CPU in "
                 "this process's affinity",
                 5000);
    zt_wait_line(p, "1 worker ready", 5000);
    ASSERT_EQ(zt_children(p->pid), 1);
    zt_stop_fleet(p);
}

/*
 * zcluster as PID 1 of a PID namespace, as in a container: signals from
 * outside reach it (blocked, read from its signalfd, they are never the
 * ignored ones an init gets by default), a worker's child that left its
 * group and outlived it is re-parented to it, reaped and logged as a
 * stray, never taken for a worker, and TERM gives the lame duck and the
 * drain, with nothing left behind.
 */
void test_container_pid1(void)
{
    char file[300], *text = NULL;
    char *argv[] = { (char *) "/usr/bin/unshare",
                     (char *) "--pid",
                     (char *) "--fork",
                     (char *) "--mount-proc",
                     (char *) zt_zcluster(),
                     (char *) "-w",
                     (char *) "1",
                     (char *) "--respawn-delay",
                     (char *) "100ms",
                     (char *) "--shutdown-delay",
                     (char *) "300ms",
                     (char *) "--shutdown-timeout",
                     (char *) "1500ms",
                     (char *) "--control",
                     (char *) "none",
                     (char *) "--",
                     (char *) zt_self(),
                     (char *) "--helper",
                     (char *) "leaves_children",
                     file,
                     (char *) "1",
                     NULL };
    pid_t primary = -1, worker = -1, kids[8];
    struct zt_proc *p;
    int n;

    if (access("/usr/bin/unshare", X_OK) != 0 || geteuid() != 0)
        zt_skip("needs unshare and root for a PID namespace");
    snprintf(file, sizeof(file), "%s/kids", zt_tmpdir());
    p = zt_start(argv, NULL);
    zt_wait_line(p, "1 worker ready", 5000);
    for (uint64_t t0 = zt_now_ms();
         !(text = zt_read_file(file)) || !strchr(text, '\n'); zt_pump(p, 20)) {
        free(text);
        ASSERT(zt_now_ms() - t0 < 5000);
    }
    free(text);
    /* From outside: unshare, then zcluster (pid 1 inside), its worker,
     * and the worker's three children. */
    ASSERT_EQ(zt_children_of(p->pid, &primary, 1), 1);
    ASSERT_EQ(zt_children_of(primary, &worker, 1), 1);
    n = zt_children_of(worker, kids, 8);
    ASSERT_EQ(n, 3);
    ASSERT_CONTAINS(p->log, "zcluster[1]");
    /* The worker crashes; what it left ends, the one that left its group
     * after being re-parented to pid 1. */
    ASSERT_EQ(kill(worker, SIGUSR1), 0);
    zt_wait_line(p, "exited with status 1; restarting in", 5000);
    zt_wait_line(p, "was re-parented to the primary", 3000);
    for (int i = 0; i < 3; i++)
        ASSERT(zt_wait_gone(kids[i], 3000));
    zt_wait_line(p, "worker 2 (slot 0, pid", 3000);
    zt_wait_line(p, ") ready in", 5000);
    zt_wait_line(p, ") was killed by signal KILL", 3000);
    /* Only the new worker: no zombie, no stray taken for a worker. */
    ASSERT_EQ(zt_children(primary), 1);
    ASSERT_EQ(zt_count(p, ") was killed by signal"), 3);
    ASSERT_EQ(kill(primary, SIGTERM), 0);
    zt_wait_line(p, "lame duck for 300 ms", 2000);
    zt_wait_line(p, "shutdown delay of 300 ms over: draining", 2000);
    ASSERT_EQ(zt_exit_code(p, 10000), 0);
    ASSERT(!zt_alive(primary));
    zt_proc_free(p);
}
