/* The default spread and the queue watch: every worker gets its share
 * without --balance, and a worker that takes nothing from its socket
 * (deaf, stopped) is steered around without stranding a connection. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

/* With no --balance: 200 keep-alive connections over 4 workers, every
 * worker at least half its share (as root, round-robin: 50 each). */
void test_spread_default_keepalive(void)
{
    int per_slot[4] = { 0 }, port, mport;
    pid_t pids[4];
    struct zt_proc *p;

    p = zt_fleet(4, pids, &port, "-w", "4", "-l", "127.0.0.1:0", "--metrics",
                 "127.0.0.1:0", "--", zt_hello(), NULL);
    mport = zt_metrics_port(p);
    ASSERT_CONTAINS(p->log, "a SO_REUSEPORT group of 4 sockets");
    zt_keepalive_spread(port, 200, per_slot, 4);
    printf("# default mode: %d %d %d %d per slot\n", per_slot[0], per_slot[1],
           per_slot[2], per_slot[3]);
    for (int k = 0; k < 4; k++)
        ASSERT_GE(per_slot[k], 25);
    ASSERT_EQ(zt_metric(mport, "zcluster_balance_slots_steered"), 4);
    /* An idle fleet that proved nothing is not looked at: the watch
     * waits for a connection, and its ticks end with the queues. */
    zt_pump(p, 300);
    {
        double t0 = zt_metric(mport, "zcluster_balance_queue_watch_ticks_"
                                     "total");

        zt_pump(p, 500);
        ASSERT_EQ(zt_metric(mport, "zcluster_balance_queue_watch_ticks_total"),
                  t0);
    }
    zt_stop_fleet(p);
}

/*
 * 3 workers, slot 2's never accepts (ready by --ready auto's timer): of
 * 40 new connections a third land on its socket; the watch sees its
 * queue untouched for 500 ms, steers around it and moves what waited
 * (as root, the eBPF program picks). All 40 answered, the slowest
 * within a second and a half (the design: 500 ms plus a 100 ms tick;
 * printed). Without eBPF see test_spread_deaf_unprivileged.
 */
void test_spread_deaf_worker(void)
{
    int fds[40], port, mport;
    pid_t pids[3];
    struct zt_proc *p;
    const char *line;
    uint64_t t0, slowest = 0;

    if (geteuid() != 0)
        zt_skip("moving what waits takes the eBPF round-robin (root)");
    p = zt_fleet(3, pids, &port, "-w", "3", "-l", "127.0.0.1:0", "--metrics",
                 "127.0.0.1:0", "--", "/bin/sh", "-c", zt_deaf_in_slot(2),
                 NULL);
    mport = zt_metrics_port(p);
    t0 = zt_now_ms();
    zt_http_send_all(port, fds, 40);
    for (int i = 0; i < 40; i++) {
        struct zt_resp r;

        ASSERT_EQ(zt_http_read(fds[i], &r), 200);
        ASSERT(r.slot != 2);
        close(fds[i]);
        if (zt_now_ms() - t0 > slowest)
            slowest = zt_now_ms() - t0;
    }
    printf("# 40 of 40 answered, the slowest after %llu ms\n",
           (unsigned long long) slowest);
    ASSERT_LE(slowest, 1500);
    line = zt_wait_line(p, "took none of the connections waiting", 2000);
    ASSERT_CONTAINS(line, "(slot 2, pid");
    ASSERT_GE(zt_metric(mport, "zcluster_balance_requeued_total"
                               "{fate=\"moved\"}"),
              1);
    ASSERT_EQ(zt_metric(mport, "zcluster_balance_taken_out_total"), 1);
    ASSERT_EQ(zt_metric(mport, "zcluster_balance_slots_out"), 1);
    /* Logged once, however often it is tried again. */
    zt_http_send_all(port, fds, 20);
    for (int i = 0; i < 20; i++) {
        struct zt_resp r;

        ASSERT_EQ(zt_http_read(fds[i], &r), 200);
        close(fds[i]);
    }
    ASSERT_EQ(zt_count(p, "took none of the connections waiting"), 1);
    zt_stop_fleet(p);
}

/*
 * A worker stopped under load (SIGSTOP) is steered around at once (its
 * parent sees it stop), and back when continued (SIGCONT): the load,
 * a new connection per request, loses nothing, and the slot takes new
 * connections again afterwards.
 */
void test_spread_stopped_worker(void)
{
    struct zt_load_result res;
    struct zt_load *l;
    int port, mport;
    pid_t pids[3];
    struct zt_proc *p;
    char key[96];
    double before;

    p = zt_fleet(3, pids, &port, "-w", "3", "-l", "127.0.0.1:0", "--metrics",
                 "127.0.0.1:0", "--", zt_hello(), NULL);
    mport = zt_metrics_port(p);
    l = zt_load_start(port, 16, false);
    zt_pump(p, 200);
    ASSERT(kill(pids[1], SIGSTOP) == 0);
    zt_wait_line(p, "is stopped: new connections go to the other slots", 2000);
    ASSERT_EQ(zt_metric(mport, "zcluster_balance_slots_out"), 1);
    zt_pump(p, 400);
    ASSERT(kill(pids[1], SIGCONT) == 0);
    zt_wait_line(p, "is continued: new connections go to it again", 2000);
    snprintf(key, sizeof(key),
             "zcluster_slot_connections_steered_total"
             "{slot=\"1\"}");
    before = zt_metric(mport, key);
    zt_pump(p, 300);
    zt_load_stop(l, &res);
    printf("# %llu requests, %llu failed across the stop\n",
           (unsigned long long) res.ok, (unsigned long long) res.failed);
    ASSERT_EQ(res.failed, 0);
    ASSERT_GE(res.ok, 100);
    ASSERT_EQ(zt_metric(mport, "zcluster_balance_slots_out"), 0);
    /* Counted only with the eBPF round-robin (root). */
    if (!isnan(before))
        ASSERT(zt_metric(mport, key) > before);
    zt_stop_fleet(p);
}

/*
 * Every worker deaf: nobody to move anything to. The log says so once,
 * /readyz answers 503 with why, and the fleet still stops at once.
 */
void test_spread_all_deaf(void)
{
    char buf[512];
    const char *body;
    int fds[6], port, mport;
    pid_t pids[2];
    struct zt_proc *p;

    p = zt_fleet(2, pids, &port, "-w", "2", "-l", "127.0.0.1:0", "--metrics",
                 "127.0.0.1:0", "--respawn-delay", "20s", "--", "/bin/sleep",
                 "600", NULL);
    mport = zt_metrics_port(p);
    zt_http_send_all(port, fds, 6);
    zt_wait_line(p, "no worker takes connections", 3000);
    ASSERT_EQ(zt_http_fetch(mport, "/readyz", buf, sizeof(buf), &body), 503);
    ASSERT_CONTAINS(body, "no worker takes connections");
    ASSERT_EQ(zt_count(p, "no worker takes connections"), 1);
    /* Judged again at every look: with the stuck workers gone (their
     * respawn 20 s away) it is no longer what /readyz says. */
    for (int i = 0; i < 2; i++)
        ASSERT(kill(pids[i], SIGKILL) == 0);
    zt_wait_line(p, "no connection waits for a stuck worker any more", 3000);
    ASSERT_EQ(zt_http_fetch(mport, "/readyz", buf, sizeof(buf), &body), 503);
    ASSERT(!strstr(body, "no worker takes connections"));
    for (int i = 0; i < 6; i++)
        close(fds[i]);
    zt_stop_fleet(p);
}

/*
 * Without CAP_BPF the kernel cannot move a queue: the deaf slot is still
 * steered around once seen, so new connections are all answered, and
 * what waited on its socket is reset after a few seconds, counted, rather
 * than left to time out.
 */
void test_spread_deaf_unprivileged(void)
{
    static const char *const opts[] = { NULL };
    int fds[30], later[30], port, mport, answered, reset;
    struct zt_proc *p;

    if (access("/usr/bin/setpriv", X_OK) != 0 || geteuid() != 0)
        zt_skip("needs root and setpriv (util-linux)");
    p = zt_as_nobody("3", opts, zt_deaf_in_slot(2));
    zt_wait_line(p, "all 3 workers ready", 10000);
    port = zt_parse_port(p->log);
    mport = zt_metrics_port(p);
    zt_http_send_all(port, fds, 30);
    zt_wait_line(p, "took none of the connections waiting", 3000);
    /* Steered around: every new connection answered at once, while what
     * waited on slot 2's socket still waits. */
    zt_http_send_all(port, later, 30);
    for (int i = 0; i < 30; i++) {
        struct zt_resp r;

        ASSERT_EQ(zt_http_read(later[i], &r), 200);
        close(later[i]);
    }
    answered = zt_http_read_all(fds, 30);
    reset = 30 - answered;
    printf("# at random: %d answered, %d reset after the wait\n", answered,
           reset);
    ASSERT_EQ(answered + reset, 30);
    ASSERT_GE(reset, 1);
    ASSERT_EQ(zt_metric(mport, "zcluster_balance_requeued_total"
                               "{fate=\"reset\"}"),
              reset);
    zt_stop_fleet(p);
}

/*
 * A worker that takes one connection and then no more (python3, on the
 * socket it inherits): seen taking one, it gets the half second a worker
 * that may only be busy gets, then is steered around; every one of 40
 * connections is answered, the one it took by itself.
 */
void test_spread_accepts_once(void)
{
    static const char once[] =
        "import socket, time\n"
        "s = socket.socket(fileno=3)\n"
        "c, _ = s.accept()\n"
        "c.recv(4096)\n"
        "c.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\n'\n"
        "          b'X-Worker-Slot: 2\\r\\nConnection: close\\r\\n\\r\\n')\n"
        "c.close()\n"
        "time.sleep(600)\n";
    char cmd[1024];
    int fds[40], port, by_it = 0;
    pid_t pids[3];
    struct zt_proc *p;
    const char *line;
    uint64_t t0;

    if (geteuid() != 0)
        zt_skip("moving what waits takes the eBPF round-robin (root)");
    if (access("/usr/bin/python3", X_OK) != 0)
        zt_skip("needs /usr/bin/python3");
    snprintf(cmd, sizeof(cmd),
             "[ \"$ZC_WORKER_SLOT\" = 2 ] && exec /usr/bin/python3 -c \"%s\"; "
             "exec %s",
             once, zt_hello());
    p = zt_fleet(3, pids, &port, "-w", "3", "-l", "127.0.0.1:0", "--",
                 "/bin/sh", "-c", cmd, NULL);
    t0 = zt_now_ms();
    zt_http_send_all(port, fds, 40);
    for (int i = 0; i < 40; i++) {
        struct zt_resp r;

        ASSERT_EQ(zt_http_read(fds[i], &r), 200);
        by_it += r.slot == 2;
        close(fds[i]);
    }
    printf("# 40 of 40 answered (%d by the worker that took one) in %llu ms\n",
           by_it, (unsigned long long) (zt_now_ms() - t0));
    ASSERT_EQ(by_it, 1);
    ASSERT_LE(zt_now_ms() - t0, 2000);
    line = zt_wait_line(p, "took none of the connections waiting", 2000);
    ASSERT_CONTAINS(line, "(slot 2, pid");
    ASSERT_CONTAINS(line, "for 500 ms:");
    zt_stop_fleet(p);
}
