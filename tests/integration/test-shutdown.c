/* Shutdown: drain, the timeout's SIGKILL, a second signal, QUIT, and a
 * primary killed with SIGKILL leaving nothing behind. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

/* Waits for exit status 0; returns how long that took. */
static int expect_exit_0(struct zt_proc *p, int timeout_ms)
{
    uint64_t t0 = zt_now_ms();

    ASSERT_EQ(zt_exit_code(p, timeout_ms), 0);
    return (int) (zt_now_ms() - t0);
}

void test_term_drains_and_exits(void)
{
    char sock[300], unix_arg[320];
    pid_t pids[2];
    int port, fd;
    struct zt_proc *p;
    struct zt_resp r;

    snprintf(sock, sizeof(sock), "%s/d.sock", zt_tmpdir());
    snprintf(unix_arg, sizeof(unix_arg), "unix:%s", sock);
    p = zt_fleet(2, pids, &port, "-w", "2", "-l", "127.0.0.1:0", "-l", unix_arg,
                 "--shutdown-timeout", "8000", "--", zt_hello(), NULL);
    /* A keep-alive connection in the middle of its life. */
    fd = zt_http_connect(port);
    ASSERT(fd >= 0);
    ASSERT_EQ(zt_http_request(fd, &r), 200);
    ASSERT(!r.closing);
    ASSERT(kill(p->pid, SIGTERM) == 0);
    /* hello is linked: the shutdown message goes first. */
    zt_wait_line(p, "received SIGTERM: stopping 2 workers with a shutdown message "
                    "(SIGTERM if unanswered), waiting up to 8000 ms", 5000);
    p->scan = 0;
    zt_wait_line(p, "draining 1 connection", 5000);
    /* Its next request is answered, and told the connection ends. */
    ASSERT_EQ(zt_http_request(fd, &r), 200);
    ASSERT(r.closing);
    close(fd);
    ASSERT_LE(expect_exit_0(p, 8000), 3000);
    ASSERT_CONTAINS(p->log, "all workers stopped in");
    ASSERT_EQ(zt_count(p, "exited with status 0 during shutdown"), 2);
    for (int i = 0; i < 2; i++)
        ASSERT(zt_wait_gone(pids[i], 1000));
    ASSERT(access(sock, F_OK) == -1);
    zt_reap_all(2000);
    zt_proc_free(p);
}

void test_term_timeout_sigkills(void)
{
    pid_t pids[2];
    int port, ms;
    struct zt_proc *p;

    p = zt_fleet(2, pids, &port, "-w", "2", "--shutdown-timeout", "300", "--",
                 zt_self(), "--helper", "ignore_term", NULL);
    ASSERT(kill(p->pid, SIGTERM) == 0);
    ms = expect_exit_0(p, 5000);
    ASSERT_GE(ms, 290);
    ASSERT_LE(ms, 3000);
    ASSERT_CONTAINS(p->log, "shutdown timeout of 300 ms reached: killing 2 "
                            "remaining workers with SIGKILL");
    ASSERT_EQ(zt_count(p, "was killed by signal KILL during shutdown"), 2);
    for (int i = 0; i < 2; i++)
        ASSERT(zt_wait_gone(pids[i], 1000));
    zt_reap_all(2000);
    zt_proc_free(p);
}

void test_second_signal_kills_now(void)
{
    pid_t pids[1];
    int port, ms;
    struct zt_proc *p;

    p = zt_fleet(1, pids, &port, "-w", "1", "--shutdown-timeout", "20000", "--",
                 zt_self(), "--helper", "ignore_term", NULL);
    ASSERT(kill(p->pid, SIGINT) == 0);
    zt_wait_line(p, "received SIGINT: stopping 1 worker", 5000);
    ASSERT(kill(p->pid, SIGTERM) == 0);
    ms = expect_exit_0(p, 5000);
    ASSERT_LE(ms, 3000);
    ASSERT_CONTAINS(p->log, "received SIGTERM again: killing 1 worker now with SIGKILL");
    ASSERT(zt_wait_gone(pids[0], 1000));
    zt_reap_all(2000);
    zt_proc_free(p);
}

/* TERM twice from one sender within a second (timeout(1) signals the
 * process, then its group) is one request: the drain goes on. Then under
 * timeout(1) itself, twice: the fleet drains and exits 0. */
void test_duplicate_term_drains(void)
{
    pid_t pids[1];
    int port;
    struct zt_proc *p;

    p = zt_fleet(1, pids, &port, "-w", "1", "--shutdown-timeout", "1500ms",
                 "--", zt_self(), "--helper", "ignore_term", NULL);
    ASSERT(kill(p->pid, SIGTERM) == 0);
    zt_wait_line(p, "received SIGTERM: stopping 1 worker", 5000);
    ASSERT(kill(p->pid, SIGTERM) == 0);
    zt_wait_line(p, "received SIGTERM again from pid", 5000);
    ASSERT_CONTAINS(p->log, "the same request");
    /* still draining: the worker is killed at the timeout, not now */
    zt_wait_line(p, "shutdown timeout of 1500 ms reached", 5000);
    ASSERT_EQ(zt_count(p, "killing 1 worker now"), 0);
    (void) expect_exit_0(p, 5000);
    zt_proc_free(p);
    zt_reap_all(2000);
    if (access("/usr/bin/timeout", X_OK) != 0)
        return;
    for (int i = 0; i < 2; i++) {
        char *argv[] = { (char *) "/usr/bin/timeout", (char *) "--preserve-status",
                         (char *) "0.3", (char *) zt_zcluster(), (char *) "-w",
                         (char *) "2", (char *) "-l", (char *) "127.0.0.1:0",
                         (char *) "--", (char *) zt_hello(), NULL };

        p = zt_start(argv, NULL);
        (void) expect_exit_0(p, 10000);
        ASSERT_CONTAINS(p->log, "received SIGTERM: stopping 2 workers");
        ASSERT_EQ(zt_count(p, "with SIGKILL"), 0);
        ASSERT_EQ(zt_count(p, "exited with status 0 during shutdown"), 2);
        zt_proc_free(p);
        zt_reap_all(2000);
    }
}

void test_quit_kills_now(void)
{
    pid_t pids[2];
    int port;
    struct zt_proc *p;

    p = zt_fleet(2, pids, &port, "-w", "2", "--shutdown-timeout", "20000", "--",
                 zt_self(), "--helper", "ignore_term", NULL);
    ASSERT(kill(p->pid, SIGQUIT) == 0);
    ASSERT_LE(expect_exit_0(p, 5000), 3000);
    ASSERT_CONTAINS(p->log, "received SIGQUIT: killing 2 workers now with SIGKILL");
    zt_reap_all(2000);
    zt_proc_free(p);
}

void test_primary_sigkill_no_orphans(void)
{
    pid_t pids[3];
    int port, st;
    struct zt_proc *p;
    uint64_t t0;

    p = zt_fleet(3, pids, &port, "-w", "3", "-l", "127.0.0.1:0", "--",
                 zt_hello(), NULL);
    ASSERT(kill(p->pid, SIGKILL) == 0);
    st = zt_wait_exit(p, 5000);
    ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    /* Every worker is gone within a second (we are their subreaper now,
     * so we see the moment each one dies). */
    t0 = zt_now_ms();
    for (int i = 0; i < 3; i++)
        if (!zt_wait_gone(pids[i], 1000 - (int) (zt_now_ms() - t0)))
            zt_fail(__FILE__, __LINE__, "worker pid %d outlived its primary",
                    (int) pids[i]);
    ASSERT_LE(zt_now_ms() - t0, 1000);
    zt_reap_all(2000);
    zt_proc_free(p);
}

static long context_switches(pid_t pid)
{
    char path[64], line[256];
    long total = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
    f = fopen(path, "r");
    ASSERT(f);
    while (fgets(line, sizeof(line), f))
        if (strstr(line, "ctxt_switches:"))
            total += atol(strchr(line, ':') + 1);
    fclose(f);
    return total;
}

/* An idle primary sleeps in epoll_wait: no timer ticks, no polling. There
 * is no event to wait for here, only an absence, so the test watches for
 * a bounded time. */
void test_idle_primary_sleeps(void)
{
    pid_t pids[2];
    int port;
    struct zt_proc *p;
    long before;
    struct timespec ts = { 0, 700 * 1000000 };

    p = zt_fleet(2, pids, &port, "-w", "2", "-l", "127.0.0.1:0", "--",
                 zt_hello(), NULL);
    /* Asleep in epoll_wait: the switch that put it there is counted. */
    zt_wait_state(p->pid, 'S');
    before = context_switches(p->pid);
    nanosleep(&ts, NULL);
    ASSERT_EQ(context_switches(p->pid), before);
    kill(p->pid, SIGTERM);
    expect_exit_0(p, 5000);
    zt_reap_all(2000);
    zt_proc_free(p);
}

/* hello's drain, end to end: idle keep-alive connections are closed when
 * the grace ends, a request half-received at TERM is still answered. */
void test_drain_finishes_requests_in_flight(void)
{
    static const char head[] = "GET /slow HTTP/1.1\r\nHost: t\r\n";
    pid_t pids[1];
    int port, a, b, c;
    struct zt_proc *p;
    struct zt_resp r;
    char byte;

    p = zt_fleet(1, pids, &port, "-w", "1", "-l", "127.0.0.1:0", "--",
                 zt_hello(), "--drain-idle", "200", NULL);
    a = zt_http_connect(port);
    ASSERT_EQ(zt_http_request(a, &r), 200);
    b = zt_http_connect(port);
    ASSERT(send(b, head, sizeof(head) - 1, MSG_NOSIGNAL) == (ssize_t) sizeof(head) - 1);
    /* Accepts are FIFO: once c is answered, b has been accepted too. */
    c = zt_http_connect(port);
    ASSERT_EQ(zt_http_request(c, &r), 200);
    ASSERT(kill(p->pid, SIGTERM) == 0);
    zt_wait_line(p, "draining 3 connections", 5000);
    zt_wait_line(p, "closed 2 idle connections, 1 still busy", 5000);
    /* a and c: closed by the worker (EOF, not a reset). */
    ASSERT_EQ(recv(a, &byte, 1, 0), 0);
    ASSERT_EQ(recv(c, &byte, 1, 0), 0);
    /* b finishes its request and gets its answer, then the end. */
    ASSERT(send(b, "\r\n", 2, MSG_NOSIGNAL) == 2);
    {
        char buf[1024];
        ssize_t n, got = 0;

        while ((n = recv(b, buf + got, sizeof(buf) - 1 - (size_t) got, 0)) > 0)
            got += n;
        ASSERT_EQ(n, 0);
        buf[got] = '\0';
        ASSERT_CONTAINS(buf, "HTTP/1.1 200 OK");
        ASSERT_CONTAINS(buf, "Connection: close");
    }
    close(a);
    close(b);
    close(c);
    ASSERT_LE(expect_exit_0(p, 5000), 3000);
    ASSERT_CONTAINS(p->log, "exited with status 0 during shutdown");
    zt_reap_all(2000);
    zt_proc_free(p);
}

/* zcluster started with INT, TERM, HUP and CHLD ignored (a shell's
 * "zcluster &" ignores INT) still reaps, respawns and drains on INT. */
void test_inherited_sig_ign(void)
{
    char *env[] = { (char *) "ZT_SIG_IGN=1", NULL };
    char *argv[] = { (char *) zt_zcluster(), (char *) "-w", (char *) "1",
                     (char *) "--respawn-delay", (char *) "0", (char *) "--",
                     (char *) zt_self(), (char *) "--helper", (char *) "ready_then_exit",
                     (char *) "1", NULL };
    struct zt_proc *p = zt_start(argv, env);

    /* Reaped and respawned: SIGCHLD was not left ignored. */
    zt_wait_line(p, "worker 3 (slot 0", 5000);
    ASSERT(kill(p->pid, SIGINT) == 0);
    zt_wait_line(p, "received SIGINT", 5000);
    expect_exit_0(p, 5000);
    zt_reap_all(2000);
    zt_proc_free(p);
}
