/* --balance reuseport: a socket per slot, the spread, dead slots left out,
 * nothing lost when a worker dies or the fleet is scaled; --balance
 * least-conn: even open counts, closes seen, backpressure. */
#include <dirent.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"

/* Sockets among pid's fds: its listener and link, and the connections it
 * has accepted. */
static int sockets_of(pid_t pid)
{
    char path[64], link[64];
    struct dirent *e;
    int n = 0;
    DIR *d;

    snprintf(path, sizeof(path), "/proc/%d/fd", (int) pid);
    d = opendir(path);
    ASSERT(d);
    while ((e = readdir(d))) {
        char fd[320];
        ssize_t len;

        snprintf(fd, sizeof(fd), "%s/%s", path, e->d_name);
        len = readlink(fd, link, sizeof(link) - 1);
        if (len > 0 && (link[len] = '\0', strncmp(link, "socket:", 7) == 0))
            n++;
    }
    closedir(d);
    return n;
}

/* n requests, each on a new connection: every one answered 200, within
 * limit_ms in all; returns how many each slot answered. */
static void requests(int port, int n, int *per_slot, int slots,
                     uint64_t limit_ms)
{
    uint64_t start = zt_now_ms();
    struct zt_resp r;

    for (int i = 0; i < n; i++) {
        ASSERT_EQ(zt_http_get(port, NULL, &r), 200);
        ASSERT(r.slot >= 0 && r.slot < slots);
        per_slot[r.slot]++;
    }
    ASSERT_LE(zt_now_ms() - start, limit_ms);
}

/* 200 keep-alive connections, opened one by one, over 4 slots: as root
 * the eBPF program goes round the ready slots, 50 each; a shared socket
 * gives most of them to one worker. */
void test_balance_reuseport_spread(void)
{
    char *status, cmd[600];
    int per_slot[4] = { 0 }, port;
    pid_t pids[4];
    struct zt_proc *p;

    if (geteuid() != 0)
        zt_skip("round-robin steering needs CAP_BPF (root)");
    p = zt_fleet(4, pids, &port, "-w", "4", "-l", "127.0.0.1:0", "--balance",
                 "reuseport", "--metrics", "127.0.0.1:0", "--", zt_hello(), NULL);
    ASSERT_CONTAINS(p->log, "a SO_REUSEPORT group of 4 sockets");
    ASSERT(!strstr(p->log, "not round-robin"));
    zt_keepalive_spread(port, 200, per_slot, 4);
    printf("# 200 keep-alive connections: %d %d %d %d per slot\n",
            per_slot[0], per_slot[1], per_slot[2], per_slot[3]);
    for (int k = 0; k < 4; k++)
        ASSERT_EQ(per_slot[k], 50);
    ASSERT_EQ(zt_metric(zt_metrics_port(p), "zcluster_balance_round_robin"), 1);
    /* The kernel counted them too, per slot, without a client that
     * counts: /metrics and status say the same 50 each. */
    for (int k = 0; k < 4; k++) {
        char key[80];

        snprintf(key, sizeof(key),
                 "zcluster_slot_connections_steered_total{slot=\"%d\"}", k);
        ASSERT_EQ(zt_metric(zt_metrics_port(p), key), 50);
    }
    snprintf(cmd, sizeof(cmd), "%s --json status", zt_zclusterctl());
    status = zt_capture(cmd);
    ASSERT_CONTAINS(status, "\"steering_counted\": true");
    ASSERT_EQ(zt_count_in(status, "\"connections_steered\": 50"), 4);
    free(status);
    snprintf(cmd, sizeof(cmd), "%s status", zt_zclusterctl());
    status = zt_capture(cmd);
    ASSERT_CONTAINS(status, "spread: 50 50 50 50 connections by slot");
    free(status);
    zt_stop_fleet(p);
}

/* Without CAP_BPF (the primary as nobody) the classic program picks at
 * random, says why, and still spreads: no slot under half its share. */
void test_balance_reuseport_unprivileged(void)
{
    int per_slot[4] = { 0 }, port;
    struct zt_proc *p;

    if (access("/usr/bin/setpriv", X_OK) != 0 || geteuid() != 0)
        zt_skip("needs root and setpriv (util-linux)");
    p = zt_as_nobody("4", NULL, NULL);
    zt_wait_line(p, "all 4 workers ready", 10000);
    ASSERT_CONTAINS(p->log, "at random, not round-robin: that needs an eBPF "
                    "program, which takes CAP_BPF (root)");
    port = zt_parse_port(p->log);
    zt_keepalive_spread(port, 200, per_slot, 4);
    printf("# at random: %d %d %d %d per slot\n",
            per_slot[0], per_slot[1], per_slot[2], per_slot[3]);
    for (int k = 0; k < 4; k++)
        ASSERT_GE(per_slot[k], 25);
    /* The classic program cannot count: no per-slot sample, not a 0. */
    ASSERT(isnan(
        zt_metric(zt_metrics_port(p),
                  "zcluster_slot_connections_steered_total{slot=\"0\"}")));
    ASSERT_EQ(zt_metric(zt_metrics_port(p), "zcluster_balance_round_robin"), 0);
    zt_stop_fleet(p);
}

/* A slot whose worker died takes no new connection while it waits for
 * its next one (5 s here): every request is answered at once, by the
 * others. How long the steering took is printed. */
void test_balance_dead_slot_skipped(void)
{
    int per_slot[4] = { 0 }, port;
    pid_t pids[4];
    struct zt_proc *p;
    uint64_t t0;

    p = zt_fleet(4, pids, &port, "-w", "4", "-l", "127.0.0.1:0", "--balance",
                 "reuseport", "--respawn-delay", "5s", "--", zt_hello(), NULL);
    t0 = zt_now_ms();
    ASSERT(kill(pids[2], SIGKILL) == 0);
    zt_wait_line(p, "new connections go to 3 of 4 slots (not to slot 2)", 2000);
    printf("# slot 2 left out %llu ms after kill -9 (as the test "
            "saw the log line)\n", (unsigned long long) (zt_now_ms() - t0));
    requests(port, 100, per_slot, 4, 4000);
    ASSERT_EQ(per_slot[2], 0);
    for (int k = 0; k < 4; k++)
        if (k != 2)
            ASSERT_GE(per_slot[k], 10);
    ASSERT_EQ(zt_count(p, "ready in"), 4);     /* not back yet */
    zt_stop_fleet(p);
}

/* kill -9 under load: the requests that fail are at most the connections
 * the killed worker had accepted; what was queued in its socket is served
 * by its replacement. The worker is stopped first, so its count is exact
 * and connections pile up in its queue. */
void test_balance_kill_under_load(void)
{
    struct zt_load_result res;
    struct zt_load *l;
    pid_t pids[4];
    int port, idle, accepted;
    struct zt_proc *p;
    const char *line;

    /* The default mode: a socket per slot. */
    p = zt_fleet(4, pids, &port, "-w", "4", "-l", "127.0.0.1:0",
                 "--respawn-delay", "0", "--metrics", "127.0.0.1:0", "--",
                 zt_hello(), NULL);
    idle = sockets_of(pids[1]);
    l = zt_load_start(port, 16, false);
    zt_pump(p, 300);
    ASSERT(kill(pids[1], SIGSTOP) == 0);
    zt_wait_state(pids[1], 'T');
    accepted = sockets_of(pids[1]) - idle;
    zt_pump(p, 100);
    ASSERT(kill(pids[1], SIGKILL) == 0);
    zt_wait_line(p, "was killed by signal KILL", 5000);
    line = zt_wait_line(p, "ready in", 5000);
    ASSERT_CONTAINS(line, "(slot 1,");
    zt_pump(p, 300);
    zt_load_stop(l, &res);
    printf("# %llu requests, %llu failed; the killed worker had "
            "accepted %d connections\n", (unsigned long long) res.ok,
            (unsigned long long) res.failed, accepted);
    ASSERT_LE(res.failed, (uint64_t) accepted);
    ASSERT_GE(res.ok, 100);
    /* Its parent saw it stop: steered around at once, and what its
     * socket held by then went to the other slots (as root, the eBPF
     * round-robin), or waited for the next worker. */
    ASSERT_CONTAINS(p->log, "(slot 1, pid");
    ASSERT_CONTAINS(p->log, "is stopped: new connections go to the other "
                            "slots");
    printf("# moved from its socket: %.0f\n",
           zt_metric(zt_metrics_port(p), "zcluster_balance_requeued_total"
                                         "{fate=\"moved\"}"));
    zt_stop_fleet(p);
}

/* 4 -> 2 -> 4 under load: nothing fails. A slot scaled away leaves the
 * choice first; its worker accepts what is queued, then drains. */
void test_balance_scale_under_load(void)
{
    struct zt_load_result res;
    struct zt_load *l;
    pid_t pids[4];
    int port;
    struct zt_proc *p;

    p = zt_fleet(4, pids, &port, "-w", "4", "-l", "127.0.0.1:0", "--",
                 zt_hello(), NULL); /* the default: reuseport */
    l = zt_load_start(port, 16, false);
    zt_pump(p, 200);
    for (int i = 0; i < 2; i++) {
        ASSERT(kill(p->pid, SIGTTOU) == 0);
        zt_wait_line(p, "retired, drained in", 5000);
    }
    zt_pump(p, 200);
    ASSERT_CONTAINS(p->log, "new connections go to 2 of 2 slots");
    ASSERT(kill(p->pid, SIGTTIN) == 0);
    zt_wait_line(p, "all 3 workers ready", 5000);
    ASSERT(kill(p->pid, SIGTTIN) == 0);
    zt_wait_line(p, "all 4 workers ready", 5000);
    zt_pump(p, 200);
    zt_load_stop(l, &res);
    printf("# scale 4 -> 2 -> 4: %llu requests over %llu "
            "connections, %llu failed\n", (unsigned long long) res.ok,
            (unsigned long long) res.connects, (unsigned long long) res.failed);
    if (res.failed)
        zt_fail(__FILE__, __LINE__, "%llu requests failed; the first: %s",
                (unsigned long long) res.failed, res.first_error);
    ASSERT_GE(res.ok, 100);
    /* The sockets of slots 2 and 3 came back with them: still 4. */
    ASSERT_EQ(zt_count(p, "cannot add slot"), 0);
    zt_stop_fleet(p);
}

/* A slot whose worker keeps crashing (backing off) takes no connection. */
void test_balance_crashing_slot(void)
{
    char script[300], body[600];
    int per_slot[3] = { 0 }, port;
    struct zt_proc *p;

    snprintf(script, sizeof(script), "%s/crash-slot-1", zt_tmpdir());
    snprintf(body, sizeof(body), "#!/bin/sh\n[ \"$ZC_WORKER_SLOT\" = 1 ] && "
             "exit 3\nexec %s\n", zt_hello());
    zt_write_script(script, body);
    p = zt_zc("-w", "3", "-l", "127.0.0.1:0", "--balance", "reuseport",
              "--respawn-delay", "100", "--", script, NULL);
    zt_wait_line(p, "failure 2 in a row", 5000);
    port = zt_parse_port(p->log);
    requests(port, 60, per_slot, 3, 3000);
    ASSERT_EQ(per_slot[1], 0);
    ASSERT_GE(per_slot[0], 10);
    ASSERT_GE(per_slot[2], 10);
    zt_stop_fleet(p);
}

/* zcluster_slot_connections_open{slot="k"} from /metrics, -1 if absent. */
static long open_of(int mport, int slot)
{
    char key[64];
    double v;

    snprintf(key, sizeof(key), "zcluster_slot_connections_open{slot=\"%d\"}", slot);
    v = zt_metric(mport, key);
    return isnan(v) ? -1 : (long) v;
}

/* A keep-alive connection that has had its first answer: its slot. */
static int open_one(int port, int *fd)
{
    struct zt_resp r;

    *fd = zt_http_connect(port);
    ASSERT(*fd >= 0);
    ASSERT_EQ(zt_http_request(*fd, &r), 200);
    return r.slot;
}

/* 100 long-lived connections opened one by one over 4 workers: the open
 * counts stay within one of each other; closes are seen through the
 * memory the workers share, and the next connections fill the gap. */
void test_least_conn_even(void)
{
    int fds[110], slot_of[110], per_slot[4] = { 0 }, port, mport, lo, hi;
    pid_t pids[4];
    struct zt_proc *p;
    uint64_t deadline;

    p = zt_fleet(4, pids, &port, "-w", "4", "-l", "127.0.0.1:0", "--balance",
                 "least-conn", "--metrics", "127.0.0.1:0", "--",
                 zt_hello(), NULL);
    mport = zt_metrics_port(p);
    for (int i = 0; i < 100; i++) {
        slot_of[i] = open_one(port, &fds[i]);
        ASSERT(slot_of[i] >= 0 && slot_of[i] < 4);
        per_slot[slot_of[i]]++;
        lo = hi = per_slot[0];
        for (int k = 1; k < 4; k++) {
            lo = per_slot[k] < lo ? per_slot[k] : lo;
            hi = per_slot[k] > hi ? per_slot[k] : hi;
        }
        ASSERT_LE(hi - lo, 1);
    }
    ASSERT_EQ(open_of(mport, 1), 25);
    /* Slot 1's worker loses 10: the next 10 are its. */
    for (int i = 0, n = 0; i < 100 && n < 10; i++)
        if (slot_of[i] == 1) {
            close(fds[i]);
            fds[i] = -1;
            n++;
        }
    deadline = zt_now_ms() + 5000;
    while (open_of(mport, 1) != 15)
        ASSERT(zt_now_ms() < deadline);
    for (int i = 100; i < 110; i++) {
        slot_of[i] = open_one(port, &fds[i]);
        ASSERT_EQ(slot_of[i], 1);
    }
    for (int i = 0; i < 110; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    zt_stop_fleet(p);
}

/* --max-conns-per-worker: when every worker is full, a new connection
 * waits in the backlog, unanswered, until one closes. */
void test_least_conn_backpressure(void)
{
    int fds[4], slots[4], port, fd;
    pid_t pids[2];
    struct zt_proc *p;
    struct zt_resp r;
    struct pollfd pfd;
    static const char req[] = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";

    p = zt_fleet(2, pids, &port, "-w", "2", "-l", "127.0.0.1:0", "--balance",
                 "least-conn", "--max-conns-per-worker", "2", "--",
                 zt_hello(), NULL);
    for (int i = 0; i < 4; i++)
        slots[i] = open_one(port, &fds[i]);
    ASSERT_EQ(slots[0] + slots[1] + slots[2] + slots[3], 2);   /* 0,1,0,1 */
    fd = zt_http_connect(port);     /* the kernel completes the handshake */
    ASSERT(fd >= 0);
    ASSERT_EQ(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t) sizeof(req) - 1);
    pfd = (struct pollfd) { .fd = fd, .events = POLLIN };
    ASSERT_EQ(poll(&pfd, 1, 300), 0);   /* held: no worker may take it */
    close(fds[0]);                      /* slot slots[0] has room again */
    ASSERT_EQ(poll(&pfd, 1, 3000), 1);
    ASSERT_EQ(zt_http_read(fd, &r), 200);
    ASSERT_EQ(r.slot, slots[0]);
    close(fd);
    for (int i = 1; i < 4; i++)
        close(fds[i]);
    zt_stop_fleet(p);
}

/* A client of a fleet whose workers take no hand-offs is closed at once
 * (read returns 0 or an error), not left hanging: how long it took. */
static uint64_t closed_within(int port)
{
    static const char req[] = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
    uint64_t t0 = zt_now_ms();
    int fd = zt_http_connect(port);
    struct pollfd pf = { .fd = fd, .events = POLLIN };
    char buf[256];

    ASSERT(fd >= 0);
    ASSERT_EQ(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t) sizeof(req) - 1);
    ASSERT_EQ(poll(&pf, 1, 5000), 1);
    ASSERT(read(fd, buf, sizeof(buf)) <= 0);
    close(fd);
    return zt_now_ms() - t0;
}

/* With least-conn or sticky the primary accepts and hands connections over
 * the worker's link. A server that only reads LISTEN_FDS (sleep, here)
 * cannot take them: said within a second of its readiness, naming the
 * slot, the mode and what to use, and its clients are closed at once
 * rather than left waiting. */
void test_balance_deaf_workers_said(void)
{
    static const char *const modes[] = { "least-conn", "sticky" };

    for (size_t m = 0; m < 2; m++) {
        char want[96];
        pid_t pids[2];
        int port;
        struct zt_proc *p;
        const char *l;

        p = zt_fleet(2, pids, &port, "-w", "2", "-l", "127.0.0.1:0",
                     "--balance", modes[m], "--", "/bin/sleep", "60", NULL);
        snprintf(want, sizeof(want), "cannot take connections under --balance "
                 "%s", modes[m]);
        for (int i = 0; i < 2; i++) {
            l = zt_wait_line(p, want, 1500);
            ASSERT_CONTAINS(l, "is ready but");
            ASSERT_CONTAINS(l, "Use --balance reuseport or shared");
        }
        ASSERT_CONTAINS(p->log, "(slot 0, pid");
        ASSERT_CONTAINS(p->log, "(slot 1, pid");
        for (int i = 0; i < 3; i++)
            ASSERT_LE(closed_within(port), 1000);
        zt_stop_fleet(p);
    }
}

/* A worker that takes hand-offs but never says a connection closed (a
 * worker not linked with libzcluster) is said once its count reaches 64. */
void test_least_conn_no_closes_said(void)
{
    pid_t pids[1];
    int port;
    struct zt_proc *p;

    p = zt_fleet(1, pids, &port, "-w", "1", "--ready", "notify", "-l",
                 "127.0.0.1:0", "--balance", "least-conn", "--",
                 "/usr/bin/python3", zt_worker_py(), NULL);
    for (int i = 0; i < 64; i++) {
        char buf[256];
        int fd = zt_http_connect(port);
        struct pollfd pf = { .fd = fd, .events = POLLIN };

        ASSERT(fd >= 0);
        ASSERT_EQ(poll(&pf, 1, 5000), 1);
        ASSERT(read(fd, buf, sizeof(buf)) > 0);
        close(fd);
    }
    zt_wait_line(p, "has been handed 64 connections under --balance least-conn "
                 "and has said none is closed", 5000);
    zt_stop_fleet(p);
}

/* --max-conns-per-worker with a worker that never says a close (not
 * linked with libzcluster): after a second full, its count is not trusted
 * and the limit lets it go, said at warning level; no client waits for
 * ever. */
void test_least_conn_limit_does_not_wedge(void)
{
    pid_t pids[1];
    int port;
    struct zt_proc *p;
    uint64_t t0 = 0;

    p = zt_fleet(1, pids, &port, "-w", "1", "--ready", "notify", "-l",
                 "127.0.0.1:0", "--balance", "least-conn",
                 "--max-conns-per-worker", "5", "--", "/usr/bin/python3",
                 zt_worker_py(), NULL);
    for (int i = 0; i < 20; i++) {
        char buf[256];
        int fd = zt_http_connect(port);
        struct pollfd pf = { .fd = fd, .events = POLLIN };
        uint64_t t1 = zt_now_ms();

        ASSERT(fd >= 0);
        ASSERT_EQ(poll(&pf, 1, 5000), 1);
        ASSERT(read(fd, buf, sizeof(buf)) > 0);
        close(fd);
        if (zt_now_ms() - t1 > t0)
            t0 = zt_now_ms() - t1;
    }
    printf("# 20 connections through a limit of 5, the longest waited %llu ms\n",
           (unsigned long long) t0);
    ASSERT_LE(t0, 2500);
    zt_wait_line(p, "said none closed: its count may never fall, so "
                 "--max-conns-per-worker no longer holds it back", 2000);
    zt_stop_fleet(p);
}

/*
 * A slot that dies with connections queued on its socket, and is then
 * not served any more (scaled away, or given up on): what waits there
 * goes to the live slots at once (the eBPF program picks, the kernel
 * moves it), at its worker's death, instead of waiting for a worker that
 * may never come. Slot 2's worker never accepts, so that its third of
 * 30 connections queue on its socket, then it is killed; every one of the
 * 30 is answered.
 */
static void abandoned_slot(const char *how)
{
    int fds[30], port, mport;
    pid_t pids[3];
    struct zt_proc *p;
    uint64_t t0;

    if (geteuid() != 0)
        zt_skip("moving what waits takes the eBPF round-robin (root)");
    if (strcmp(how, "scaled away") == 0)
        p = zt_fleet(3, pids, &port, "-w", "3", "-l", "127.0.0.1:0",
                     "--balance", "reuseport", "--respawn-delay", "20s",
                     "--metrics", "127.0.0.1:0", "--", "/bin/sh", "-c",
                     zt_deaf_in_slot(2), NULL);
    else
        p = zt_fleet(3, pids, &port, "-w", "3", "-l", "127.0.0.1:0",
                     "--balance", "reuseport", "--give-up", "1/60s",
                     "--metrics", "127.0.0.1:0", "--", "/bin/sh", "-c",
                     zt_deaf_in_slot(2), NULL);
    mport = zt_metrics_port(p);
    /* Killed well before the queue watch would take the slot out (a
     * tick, 100 ms, without an accept): what moves, moves at the death. */
    zt_http_send_all(port, fds, 30);
    ASSERT(kill(pids[2], SIGKILL) == 0);
    t0 = zt_now_ms();
    zt_wait_line(p, "was killed by signal KILL", 5000);
    zt_wait_line(p, "to the other slots", 5000);
    if (strcmp(how, "scaled away") == 0) {
        ASSERT(kill(p->pid, SIGTTOU) == 0);
        zt_wait_line(p, "slot 2 removed", 5000);
    }
    for (int i = 0; i < 30; i++) {
        struct zt_resp r;

        ASSERT_EQ(zt_http_read(fds[i], &r), 200);
        ASSERT(r.slot != 2);
        close(fds[i]);
    }
    printf("# slot 2 %s: 30 of 30 answered, the last %llu ms after\n", how,
           (unsigned long long) (zt_now_ms() - t0));
    ASSERT_LE(zt_now_ms() - t0, 2000);
    ASSERT_EQ(zt_metric(mport, "zcluster_balance_requeued_total"
                               "{fate=\"moved\"}"),
              10);
    ASSERT_EQ(zt_metric(mport, "zcluster_balance_requeued_total"
                               "{fate=\"reset\"}"),
              0);
    zt_stop_fleet(p);
}

void test_balance_abandoned_scaled_away(void)
{
    abandoned_slot("scaled away");
}

void test_balance_abandoned_given_up(void)
{
    abandoned_slot("given up on");
}

/* The same without CAP_BPF: the classic program's sockets stay (a place
 * in the group is a slot), so what waited on slot 2's is reset at once
 * and counted, never left to time out: every client has its answer or
 * its reset within the bound, and the count is the resets they saw. */
void test_balance_abandoned_unprivileged(void)
{
    static const char *const give_up[] = { "--give-up", "1/60s", NULL };
    int fds[30], port, mport, answered, reset;
    unsigned long id;
    int slot;
    pid_t w2;
    struct zt_proc *p;
    uint64_t t0;

    if (access("/usr/bin/setpriv", X_OK) != 0 || geteuid() != 0)
        zt_skip("needs root and setpriv (util-linux)");
    p = zt_as_nobody("3", give_up, zt_deaf_in_slot(2));
    ASSERT(zt_parse_worker(zt_wait_line(p, "(slot 2, pid", 10000), &id, &slot,
                           &w2));
    zt_wait_line(p, "all 3 workers ready", 10000);
    port = zt_parse_port(p->log);
    mport = zt_metrics_port(p);
    zt_http_send_all(port, fds, 30);
    ASSERT(kill(w2, SIGKILL) == 0);
    t0 = zt_now_ms();
    zt_wait_line(p, "given up on", 5000);
    answered = zt_http_read_all(fds, 30);
    reset = 30 - answered;
    printf("# slot 2 given up on at random: %d answered, %d reset, the last "
           "%llu ms after\n",
           answered, reset, (unsigned long long) (zt_now_ms() - t0));
    ASSERT_LE(zt_now_ms() - t0, 2000);
    ASSERT_GE(reset, 1);
    ASSERT_EQ(answered + reset, 30);
    ASSERT_EQ(zt_metric(mport, "zcluster_balance_requeued_total"
                               "{fate=\"reset\"}"),
              reset);
    zt_stop_fleet(p);
}
