/*
 * Typed messages with real processes: a library-mode primary
 * (tests/ipc-helpers.c) and its workers, a Python worker, and a worker
 * whose primary goes away.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

static struct zt_proc *ipc_fleet(const char *mode, const char *n, const char *arg)
{
    char *argv[] = { (char *) zt_self(), (char *) "--helper", (char *) "ipc_fleet",
                     (char *) mode, (char *) n, (char *) arg, NULL };

    return zt_start(argv, NULL);
}

/* Lines appear in this order in the log. */
static void assert_order(struct zt_proc *p, const char *const *lines, size_t n)
{
    const char *at = p->log;

    for (size_t i = 0; i < n; i++) {
        const char *next = strstr(at, lines[i]);

        if (!next)
            zt_fail(__FILE__, __LINE__, "\"%s\" missing, or before \"%s\"",
                    lines[i], i ? lines[i - 1] : "the start");
        at = next + strlen(lines[i]);
    }
}

/* Waits until needle is anywhere in the log: for lines of several
 * processes, whose order is not fixed. */
static void wait_anywhere(struct zt_proc *p, const char *needle, int timeout_ms)
{
    uint64_t end = zt_now_ms() + (uint64_t) timeout_ms;

    while (!p->log || !strstr(p->log, needle)) {
        if (zt_now_ms() >= end)
            zt_fail(__FILE__, __LINE__, "no \"%s\" within %d ms", needle,
                    timeout_ms);
        zt_pump(p, 50);
    }
}

static long field_after(const char *line, const char *key)
{
    const char *s = line ? strstr(line, key) : NULL;

    ASSERT(s);
    return atol(s + strlen(key));
}

void test_ipc_messages(void)
{
    struct zt_proc *p = ipc_fleet("basic", "3", NULL);
    static const char *const order[] = {
        "order handler 1", "handler 2 for 'order' from worker ", "order handler 3",
    };
    char want[64];

    zt_wait_line(p, "all 3 workers ready", 5000);
    /* Broadcast: every worker answers once, and the primary sees who
     * answered: the id in the payload is the sender's own. */
    for (int i = 0; i < 3; i++) {
        const char *line = zt_wait_line(p, "test: pong from worker ", 5000);
        long id = field_after(line, "pong from worker ");

        snprintf(want, sizeof(want), ": %ld:b1", id);
        ASSERT_CONTAINS(line, want);
    }
    wait_anywhere(p, "fd-back read: ", 5000);
    kill(p->pid, SIGTERM);
    ASSERT_EQ(zt_exit_code(p, 5000), 0);
    /* The rest is checked on the whole log: workers' lines interleave. */
    ASSERT_CONTAINS(p->log, "broadcast queued for 3");
    /* Send-to reaches the one worker named. */
    ASSERT_EQ(zt_count(p, "got direct: d1"), 1);
    ASSERT_CONTAINS(p->log, "send to nobody: No such process");
    ASSERT_CONTAINS(p->log, "reserved type: Invalid argument");
    /* fds both ways: a pipe from a worker is read by the primary, a pipe
     * from the primary by the worker; a taken fd cannot be taken twice. */
    ASSERT_CONTAINS(p->log, "carried: via-fd ");
    ASSERT_CONTAINS(p->log, "fd-back read: from-primary");
    ASSERT_CONTAINS(p->log, "second take: Bad file descriptor");
    /* Handlers run in order; the failing one is named and the next runs,
     * on the primary and on the workers (three pongs despite a failing
     * first ping handler each). */
    assert_order(p, order, 3);
    ASSERT_EQ(zt_count(p, "handler 1 for 'ping' from the primary failed"), 3);
    /* Events: spawned and ready for each. */
    ASSERT_EQ(zt_count(p, "test: event spawned"), 3);
    ASSERT_EQ(zt_count(p, "test: event ready"), 3);
    ASSERT_EQ(zt_count(p, "test: pong from worker"), 3);
    ASSERT_EQ(zt_count(p, "test: event exited"), 3);
    ASSERT_EQ(zt_count(p, "did not answer"), 0);
    zt_proc_free(p);
}

/* A killed worker: exited event with its status, then a respawn event. */
void test_ipc_events_on_crash(void)
{
    struct zt_proc *p = ipc_fleet("basic", "1", NULL);
    const char *line;
    unsigned long id;
    pid_t pid;
    int slot;

    ASSERT(zt_parse_worker(zt_wait_line(p, ") started", 5000), &id, &slot, &pid));
    zt_wait_line(p, "1 worker ready", 5000);
    kill(pid, SIGKILL);
    line = zt_wait_line(p, "test: event exited", 5000);
    ASSERT_EQ(field_after(line, "status "), SIGKILL);
    line = zt_wait_line(p, "test: event respawn", 5000);
    ASSERT_EQ(field_after(line, "delay "), 100);
    line = zt_wait_line(p, "test: event spawned", 5000);
    ASSERT(field_after(line, "worker ") > (long) id);
    zt_wait_line(p, "test: event ready", 5000);
    kill(p->pid, SIGTERM);
    ASSERT_EQ(zt_exit_code(p, 5000), 0);
    zt_proc_free(p);
}

void test_ipc_drain_by_message(void)
{
    struct zt_proc *p = ipc_fleet("drain", "1", NULL);
    static const char *const phases[] = {
        "with a shutdown message (SIGTERM if unanswered)", "the primary asks us to shut down",
        "phase before", "phase stop-accepting", "phase close-long-lived",
        "phase in-flight busy", "phase in-flight idle", "phase close-resources",
        "phase after", "drained in", "exited with status 0 during shutdown",
    };

    zt_wait_line(p, "1 worker ready", 5000);
    kill(p->pid, SIGTERM);
    ASSERT_EQ(zt_exit_code(p, 5000), 0);
    assert_order(p, phases, sizeof(phases) / sizeof(phases[0]));
    /* It answered "stopping": no stop signal, no force-close. */
    ASSERT_EQ(zt_count(p, "did not answer"), 0);
    ASSERT_EQ(zt_count(p, "phase force-close"), 0);
    ASSERT_EQ(zt_count(p, "received SIGTERM"), 1);
    zt_proc_free(p);
}

/* In-flight work that never ends: cut off at the drain deadline (a tenth
 * before the primary's), then the later phases still run. */
void test_ipc_drain_timeout(void)
{
    struct zt_proc *p = ipc_fleet("drain-timeout", "1", NULL);
    static const char *const phases[] = {
        "phase in-flight busy", "drain timeout reached", "phase force-close",
        "phase close-resources", "phase after", "exited with status 0",
    };
    long start, cut;

    zt_wait_line(p, "1 worker ready", 5000);
    kill(p->pid, SIGTERM);
    start = zt_log_ms(zt_wait_line(p, "draining, up to 540 ms", 5000));
    cut = zt_log_ms(zt_wait_line(p, "drain timeout reached", 5000));
    ASSERT_EQ(zt_exit_code(p, 5000), 0);
    assert_order(p, phases, sizeof(phases) / sizeof(phases[0]));
    ASSERT_GE(cut - start, 530);
    /* Done before the primary's deadline: nothing was killed. */
    ASSERT_EQ(zt_count(p, "SIGKILL"), 0);
    zt_proc_free(p);
}

/* Linked, but it never reads: the stop signal follows the message after
 * the answer window (half the 600 ms shutdown timeout). */
void test_ipc_unanswered_shutdown_signals(void)
{
    struct zt_proc *p = ipc_fleet("deaf", "1", NULL);
    const char *line;
    long sent, signalled;

    zt_wait_line(p, "1 worker ready", 5000);
    kill(p->pid, SIGTERM);
    sent = zt_log_ms(zt_wait_line(p, "received SIGTERM", 5000));
    line = zt_wait_line(p, "did not answer the shutdown message", 5000);
    signalled = zt_log_ms(line);
    zt_wait_line(p, "deaf worker got SIGTERM", 5000);
    ASSERT_EQ(zt_exit_code(p, 5000), 0);
    ASSERT_GE(signalled - sent, 290);
    ASSERT_LE(signalled - sent, 550);
    zt_proc_free(p);
}

/* A worker sends a million messages as fast as it can: the primary takes
 * every one, and its memory does not grow with the flood. */
void test_ipc_flood_bounded(void)
{
    struct zt_proc *p = ipc_fleet("flood", "2", "1000000");
    const char *line;
    long before, after;

    before = field_after(zt_wait_line(p, "test: primary fds", 5000), " rss ");
    line = zt_wait_line(p, "flood done", 30000);
    ASSERT_CONTAINS(line, "got 1000000 of 1000000");
    after = field_after(line, "primary rss ");
    ASSERT_LE(after - before, 2048);
    kill(p->pid, SIGTERM);
    ASSERT_EQ(zt_exit_code(p, 5000), 0);
    zt_proc_free(p);
}

/* A worker that never reads: the primary's sends fail with ENOBUFS at the
 * queue bound, its memory stays bounded, the other worker is unaffected. */
void test_ipc_slow_reader_bounded(void)
{
    struct zt_proc *p = ipc_fleet("slow", "2", NULL);
    const char *line;

    line = zt_wait_line(p, "slow: ", 10000);
    ASSERT_CONTAINS(line, "small messages queued, then: No buffer space available");
    ASSERT(field_after(line, "slow: ") > 1000);
    ASSERT_CONTAINS(zt_wait_line(p, "slow: big message refused", 5000),
                    "No buffer space available");
    ASSERT_LE(field_after(zt_wait_line(p, "primary rss grew", 5000), "grew "), 3 * 1024);
    ASSERT_CONTAINS(zt_wait_line(p, "broadcast queued for", 5000), "for 1");
    ASSERT_CONTAINS(zt_wait_line(p, "test: pong from worker", 5000), ":b2");
    kill(p->pid, SIGTERM);
    zt_wait_line(p, "deaf worker got SIGTERM", 5000);
    ASSERT_EQ(zt_exit_code(p, 5000), 0);
    zt_proc_free(p);
}

/* The primary's end closes: the worker drains and exits 0 on its own. */
void test_ipc_eof_ends_worker(void)
{
    char *argv[] = { (char *) zt_self(), (char *) "--helper", (char *) "link_eof", NULL };
    char *env[] = { (char *) "ZC_WORKER_ID=7", (char *) "ZC_IPC_FD=3", NULL };
    unsigned char hello[16];
    struct pollfd pf;
    struct zt_proc *p;
    int sv[2];

    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    p = zt_start_fd3(argv, env, sv[1]);
    close(sv[1]);
    /* Its first frame is hello, version 1, byte for byte. */
    pf = (struct pollfd) { .fd = sv[0], .events = POLLIN };
    ASSERT_EQ(poll(&pf, 1, 5000), 1);
    ASSERT_EQ(recv(sv[0], hello, sizeof(hello), MSG_DONTWAIT), 14);
    ASSERT_EQ(memcmp(hello, "\1\0\0\0\5\0\0\0hello1", 14), 0);
    zt_wait_line(p, "linked: yes", 5000);
    close(sv[0]);
    zt_wait_line(p, "the primary is gone", 5000);
    ASSERT_EQ(zt_exit_code(p, 5000), 0);
    ASSERT_CONTAINS(p->log, "run returned 0");
    zt_proc_free(p);
}

/* examples/worker.py speaks the protocol with the standard library only. */
void test_ipc_python_worker(void)
{
    struct zt_proc *p = ipc_fleet("python", "2", zt_worker_py());

    /* Ready by message, not by notify. */
    zt_wait_line(p, "ready in", 10000);
    ASSERT_CONTAINS(zt_wait_line(p, "ready in", 10000), "(ready message)");
    zt_wait_line(p, "all 2 workers ready", 5000);
    for (int i = 0; i < 2; i++) {
        const char *line = zt_wait_line(p, "test: pong from worker ", 5000);
        char want[64];

        snprintf(want, sizeof(want), ": %ld:b1", field_after(line, "pong from worker "));
        ASSERT_CONTAINS(line, want);
    }
    kill(p->pid, SIGTERM);
    ASSERT_EQ(zt_exit_code(p, 5000), 0);
    ASSERT_EQ(zt_count(p, "exited with status 0 during shutdown"), 2);
    ASSERT_EQ(zt_count(p, "did not answer"), 0);
    zt_proc_free(p);
}

/* A notify datagram carrying fds: received, and the fds closed. */
void test_notify_fds_closed(void)
{
    char *argv[] = { (char *) zt_self(), (char *) "--helper", (char *) "ipc_fleet",
                     (char *) "notify-fds", (char *) "1", NULL };
    char *env[] = { (char *) "ZC_DEBUG=zc:primary", NULL };
    struct zt_proc *p = zt_start(argv, env);
    long before;
    int now = 0;
    char path[64];

    before = field_after(zt_wait_line(p, "test: primary fds", 5000), "fds ");
    zt_wait_line(p, "status: fds-sent", 5000);
    for (int fd = 0; fd < 4096; fd++) {
        snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int) p->pid, fd);
        now += access(path, F_OK) == 0;
    }
    ASSERT_EQ(now, before);
    kill(p->pid, SIGTERM);
    ASSERT_EQ(zt_exit_code(p, 5000), 0);
    zt_proc_free(p);
}

/* Reads until EOF (bounded in time and size). */
static ssize_t read_until_eof(int fd, char *buf, size_t size, int timeout_ms)
{
    size_t len = 0;

    for (;;) {
        struct pollfd pf = { .fd = fd, .events = POLLIN };
        ssize_t n;

        if (poll(&pf, 1, timeout_ms) != 1)
            return -1;
        n = read(fd, buf + len, size - len);
        if (n <= 0 || (len += (size_t) n) == size)
            return n < 0 ? -1 : (ssize_t) len;
    }
}

/* examples/counter.c: the built-in loop, send to primary, send-to back. */
void test_counter_example(void)
{
    char bin[600], line[128];
    const char *hello = zt_hello();
    char *argv[] = { bin, (char *) "-w", (char *) "3", (char *) "-l",
                     (char *) "127.0.0.1:0", NULL };
    struct zt_proc *p;
    int port;

    snprintf(bin, sizeof(bin), "%.*s/zcluster-counter",
             (int) (strrchr(hello, '/') - hello), hello);
    p = zt_start(argv, NULL);
    port = zt_parse_port(zt_wait_line(p, "listening on 127.0.0.1:", 5000));
    zt_wait_line(p, "all 3 workers ready", 5000);
    for (int i = 1; i <= 20; i++) {
        int fd = zt_http_connect(port);
        ssize_t n;
        char want[48];

        ASSERT(fd >= 0);
        n = read_until_eof(fd, line, sizeof(line) - 1, 5000);
        close(fd);
        ASSERT(n > 0);
        line[n] = '\0';
        snprintf(want, sizeof(want), ": visit %d of the fleet\n", i);
        ASSERT_CONTAINS(line, want);
    }
    kill(p->pid, SIGTERM);
    ASSERT_EQ(zt_exit_code(p, 5000), 0);
    ASSERT_EQ(zt_count(p, "left after 20 visits"), 3);
    zt_proc_free(p);
}

/* Bad frames from a worker cost it its link, nothing else: the primary
 * says what was wrong, keeps running, and stops that worker by signal. */
void test_ipc_bad_frames_cost_the_link(void)
{
    static const struct {
        const char *kind, *says;
    } cases[] = {
        { "long-type", "frame type is empty or longer than 64 bytes" },
        { "oversize", "larger than the message size limit" },
        { "flags", "unknown flags" },
        { "stray-fds", "fds arrived that no frame announced" },
        { "mid-frame", "in the middle of a frame" },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pid_t pid;
        int port;
        struct zt_proc *p = zt_fleet(1, &pid, &port, "-w", "1", "--ready", "notify",
                                     "--", zt_self(), "--helper", "ipc_garbage",
                                     cases[i].kind, NULL);
        p->scan = 0;        /* it may come before "all workers ready" */
        ASSERT_CONTAINS(zt_wait_line(p, "closing its link", 5000), cases[i].says);
        ASSERT(zt_alive(pid));
        kill(p->pid, SIGTERM);
        ASSERT_CONTAINS(zt_wait_line(p, "received SIGTERM", 5000), "with SIGTERM");
        ASSERT_EQ(zt_exit_code(p, 5000), 0);
        zt_proc_free(p);
    }
}

/* The tool's own primary with a Python worker: linked, ready by message,
 * stopped by message. (CI also runs this one under valgrind.) */
void test_ipc_cli_python_worker(void)
{
    pid_t pids[2];
    int port;
    struct zt_proc *p;

    p = zt_fleet(2, pids, &port, "-w", "2", "--ready", "notify", "--", "python3",
                 zt_worker_py(), NULL);
    ASSERT_EQ(zt_count(p, "(ready message)"), 2);
    kill(p->pid, SIGTERM);
    zt_wait_line(p, "stopping 2 workers with a shutdown message", 5000);
    ASSERT_EQ(zt_exit_code(p, 10000), 0);
    ASSERT_EQ(zt_count(p, "exited with status 0 during shutdown"), 2);
    ASSERT_EQ(zt_count(p, "did not answer"), 0);
    zt_proc_free(p);
}

/* The health events reach zc_primary_on_event: a watchdog miss (slot 0's
 * first worker hangs), a recycle (a second's lifetime) and a give-up
 * (slot 2 always crashes). */
void test_ipc_health_events(void)
{
    struct zt_proc *p = ipc_fleet("health", "3", NULL);

    zt_wait_line(p, "test: event gave-up worker", 5000);
    zt_wait_line(p, "test: event watchdog worker 1 slot 0 status 0", 5000);
    zt_wait_line(p, "test: event recycle worker", 5000);
    ASSERT_EQ(zt_count(p, "test: event gave-up"), 1);
    zt_stop_fleet(p);
}
