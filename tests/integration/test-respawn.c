/* Respawn: backoff per slot that grows and resets, exit-status policies,
 * commands that cannot run, readiness policies. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

static long delay_of(const char *line)
{
    const char *s = strstr(line, "in ");

    ASSERT(s);
    /* "restarting in 400 ms" / "retrying in 400 ms" */
    s = strstr(line, "ing in ");
    ASSERT(s);
    return atol(s + 7);
}

static void stop_and_reap(struct zt_proc *p)
{
    kill(p->pid, SIGTERM);
    ASSERT_EQ(zt_exit_code(p, 10000), 0);
    zt_reap_all(3000);
    zt_proc_free(p);
}

void test_backoff_grows_and_resets(void)
{
    /* Crash 4 times at once, then stay ready 500 ms (longer than the
     * 300 ms reset) before crashing, then crash once more, then stay. */
    static const long want[] = { 100, 200, 400, 400, 100, 200 };
    struct zt_proc *p = zt_zc("-w", "1", "--respawn-delay", "100", "--backoff-jitter", "0",
                              "--backoff-factor", "2", "--max-respawn-delay", "400",
                              "--backoff-reset", "300", "--", zt_self(), "--helper",
                              "counter", zt_tmpdir(), "c,c,c,c,s500,c", NULL);
    long exit_ms[6];

    for (int i = 0; i < 6; i++) {
        const char *l = zt_wait_line(p, "restarting in", 5000);

        ASSERT_CONTAINS(l, "exited with status 1");
        ASSERT_CONTAINS(l, "(slot 0,");
        if (delay_of(l) != want[i])
            zt_fail(__FILE__, __LINE__, "crash %d: delay %ld ms, want %ld: %s",
                    i + 1, delay_of(l), want[i], l);
        exit_ms[i] = zt_log_ms(l);
        /* The next start comes no sooner than the delay said. */
        l = zt_wait_line(p, ") started", 5000);
        ASSERT_GE(zt_log_ms(l) - exit_ms[i], want[i] - 1);
    }
    /* The seventh worker is stable: ready, and no more crashes. */
    ASSERT_CONTAINS(zt_wait_line(p, "ready in", 5000), "worker 7 (slot 0");
    ASSERT_EQ(zt_count(p, "restarting in"), 6);
    /* The crash count is reported on the slot: 4 in a row, then 1, 2. */
    ASSERT_EQ(zt_count(p, "(failure 4 in a row)"), 1);
    ASSERT_EQ(zt_count(p, "(failure 5 in a row)"), 0);
    stop_and_reap(p);
}

/* The failure count status and /metrics show clears once the slot's worker
 * has stayed ready for --backoff-reset, as the backoff's own count does:
 * an alert on it does not fire for ever after one crash. */
void test_failures_gauge_clears(void)
{
    pid_t pids[1];
    int port, mport;
    struct zt_proc *p;
    char cmd[300], *out;

    p = zt_fleet(1, pids, &port, "-n", "gauge", "-w", "1", "-l", "127.0.0.1:0",
                 "--metrics", "127.0.0.1:0", "--respawn-delay", "0",
                 "--backoff-reset", "500ms", "--", zt_hello(), NULL);
    mport = zt_metrics_port(p);
    ASSERT(kill(pids[0], SIGKILL) == 0);
    zt_wait_line(p, "was killed by signal KILL", 5000);
    zt_wait_line(p, "ready in", 5000);
    ASSERT_EQ(zt_metric(mport, "zcluster_slot_failures{slot=\"0\"}"), 1);
    snprintf(cmd, sizeof(cmd), "%s -n gauge status --json", zt_zclusterctl());
    out = zt_capture(cmd);
    ASSERT_CONTAINS(out, "\"failures\": 1");
    free(out);
    /* ready for longer than --backoff-reset: both say 0, with no crash */
    for (uint64_t t0 = zt_now_ms();
         zt_metric(mport, "zcluster_slot_failures{slot=\"0\"}") != 0; ) {
        ASSERT(zt_now_ms() - t0 < 5000);
        zt_pump(p, 50);
    }
    out = zt_capture(cmd);
    ASSERT_CONTAINS(out, "\"failures\": 0");
    free(out);
    snprintf(cmd, sizeof(cmd), "%s -n gauge status", zt_zclusterctl());
    out = zt_capture(cmd);
    {
        /* SLOT WORKER PID GEN STATE UPTIME RESTARTS FAILS */
        const char *row = strstr(out, "\n0 ");
        unsigned restarts = 9, fails = 9;

        ASSERT(row);
        ASSERT_EQ(sscanf(row, " 0 %*s %*s %*s ready %*s %u %u", &restarts,
                         &fails), 2);
        ASSERT_EQ(restarts, 1);
        ASSERT_EQ(fails, 0);
    }
    free(out);
    stop_and_reap(p);
}

void test_exit_status_policies(void)
{
    struct zt_proc *p;

    /* Exit 0 is "stopped on purpose": not respawned; when no worker is
     * left the primary exits 0. */
    p = zt_zc("-w", "2", "--respawn-delay", "0", "--backoff-jitter", "0", "--", zt_self(), "--helper",
              "ready_then_exit", "0", NULL);
    ASSERT_EQ(zt_exit_code(p, 10000), 0);
    ASSERT_EQ(zt_count(p, "not restarting it (it stopped on purpose)"), 2);
    ASSERT_EQ(zt_count(p, ") started"), 2);
    /* READY=1 was sent just before the exit: it is handled first. */
    ASSERT_EQ(zt_count(p, "ready in"), 2);
    ASSERT_CONTAINS(p->log, "none will be restarted; exiting with status 0");
    zt_proc_free(p);
    zt_reap_all(2000);

    /* --respawn never: a crash is final, and the fleet ends with status 1. */
    p = zt_zc("-w", "1", "--respawn", "never", "--", zt_self(), "--helper",
              "crash", "3", NULL);
    ASSERT_EQ(zt_exit_code(p, 10000), 1);
    ASSERT_CONTAINS(p->log, "exited with status 3; not restarting it (--respawn never)");
    zt_proc_free(p);
    zt_reap_all(2000);

    /* The last STATUS= a worker sent is told with its exit. */
    p = zt_zc("-w", "1", "--respawn", "never", "--", zt_self(), "--helper",
              "status_then_crash", NULL);
    ASSERT_EQ(zt_exit_code(p, 10000), 1);
    ASSERT_CONTAINS(p->log, "exited with status 3 (last status: loading config); "
                            "not restarting it");
    zt_proc_free(p);
    zt_reap_all(2000);

    /* --respawn always: exit 0 comes back too, at the base delay. */
    p = zt_zc("-w", "1", "--respawn", "always", "--respawn-delay", "10", "--backoff-jitter", "0", "--",
              zt_self(), "--helper", "ready_then_exit", "0", NULL);
    for (int i = 0; i < 3; i++) {
        const char *l = zt_wait_line(p, "exited with status 0; restarting in", 5000);

        ASSERT_EQ(delay_of(l), 10);
    }
    stop_and_reap(p);
}

/* At start, before any worker was ever ready, a command that cannot be
 * executed ends the fleet at once: status 1 and the reason, no retry. */
static void expect_exec_failure(const char *command, const char *why)
{
    struct zt_proc *p = zt_zc("-w", "2", "--respawn-delay", "50", "--", command,
                              NULL);
    uint64_t t0 = zt_now_ms();

    ASSERT_EQ(zt_exit_code(p, 5000), 1);
    ASSERT_LE(zt_now_ms() - t0, 2000);
    ASSERT_CONTAINS(p->log, "cannot start: worker 1 (slot 0) could not be "
                    "started: cannot execute");
    ASSERT_CONTAINS(p->log, why);
    ASSERT_CONTAINS(p->log, "exiting with status 1");
    ASSERT_EQ(zt_count(p, "retrying in"), 0);
    ASSERT_EQ(zt_count(p, ") started: "), 0);
    zt_proc_free(p);
    zt_reap_all(2000);
}

void test_exec_failure_at_start_ends(void)
{
    char path[300];

    snprintf(path, sizeof(path), "%s/does-not-exist", zt_tmpdir());
    expect_exec_failure(path, "No such file or directory");
    expect_exec_failure("zc-no-such-command-in-path", "No such file or directory");
    snprintf(path, sizeof(path), "%s/not-executable", zt_tmpdir());
    zt_write_file(path, "#!/bin/sh\nexit 0\n");
    expect_exec_failure(path, "Permission denied");
}

/* Once the fleet has served, a command gone from disk (a deploy under
 * way) is a failure like a crash: its slot backs off and tries again. */
void test_exec_failure_backs_off(void)
{
    /* the kill is the slot's first failure: its starts back off from 100 */
    static const long want[] = { 100, 200, 200, 200 };
    char path[300], body[400];
    pid_t pids[1];
    int port;
    struct zt_proc *p;
    uint64_t t0;

    snprintf(path, sizeof(path), "%s/release", zt_tmpdir());
    snprintf(body, sizeof(body), "#!/bin/sh\nexec %s\n", zt_hello());
    zt_write_script(path, body);
    p = zt_fleet(1, pids, &port, "-w", "1", "-l", "127.0.0.1:0",
                 "--respawn-delay", "50", "--backoff-jitter", "0",
                 "--max-respawn-delay", "200", "--", path, NULL);
    ASSERT(unlink(path) == 0);
    ASSERT(kill(pids[0], SIGKILL) == 0);
    t0 = zt_now_ms();
    for (int i = 0; i < 4; i++) {
        const char *l = zt_wait_line(p, "could not be started", 5000);

        ASSERT_CONTAINS(l, "No such file or directory");
        ASSERT_EQ(delay_of(l), want[i]);
    }
    /* No hot loop: 4 attempts took their backoff's worth of time. */
    ASSERT_GE(zt_now_ms() - t0, 50 + 100 + 200 + 200 - 20);
    zt_write_script(path, body);
    zt_wait_line(p, "ready in", 5000);
    stop_and_reap(p);
}

/* One worker under a --ready policy; returns the "ready in" line's ms. */
static long ready_after(const char *policy, const char *helper, const char *how)
{
    struct zt_proc *p;
    const char *l;
    long ms;

    if (helper)
        p = zt_zc("-w", "1", "--ready", policy, "--", zt_self(), "--helper",
                  helper, NULL);
    else
        p = zt_zc("-w", "1", "-l", "127.0.0.1:0", "--ready", policy, "--",
                  zt_hello(), NULL);
    l = zt_wait_line(p, "ready in", 5000);
    ASSERT_CONTAINS(l, how);
    ms = atol(strstr(l, "ready in ") + 9);
    stop_and_reap(p);
    return ms;
}

void test_ready_policies(void)
{
    struct zt_proc *p;

    ASSERT_LE(ready_after("auto", NULL, "(READY=1)"), 900);
    ASSERT_GE(ready_after("auto", "never_ready", "(up 1000 ms without READY=1)"), 1000);
    ASSERT_LE(ready_after("immediate", "never_ready", "(immediate)"), 5);
    ASSERT_GE(ready_after("delay:200", "never_ready", "(ready delay of 200 ms elapsed)"), 200);
    /* delay ignores READY=1 */
    ASSERT_GE(ready_after("delay:300", NULL, "(ready delay of 300 ms elapsed)"), 300);
    /* notify waits for READY=1, however long. */
    ASSERT_LE(ready_after("notify", NULL, "(READY=1)"), 900);
    p = zt_zc("-w", "1", "--ready", "notify", "--", zt_self(), "--helper",
              "never_ready", NULL);
    zt_wait_line(p, ") started", 5000);
    ASSERT(zt_try_line(p, "ready in", 1500) == NULL);
    stop_and_reap(p);
}

/* A thousand workers: started, 200 of them killed at once (their
 * SIGCHLDs coalesce into a few signalfd reads), every one respawned in its
 * slot, then all drained and reaped. */
void test_scale_thousand(void)
{
    enum { N = 1000, KILLED = 200 };
    static pid_t pids[N];
    struct zt_proc *p;
    uint64_t t0;
    int n = 0;

    p = zt_zc("-w", "1000", "--ready", "immediate", "--respawn-delay", "0", "--backoff-jitter", "0",
              "--", zt_self(), "--helper", "never_ready", NULL);
    /* Under ASan each fork of the primary copies its shadow's page
     * tables: 1000 of them took from 14 to 33 s on a 2-core machine (1 s
     * in the plain build), so 30 s was a coin toss there. */
    zt_wait_line(p, "all 1000 workers ready", zt_memory_kept() ? 60000 : 30000);
    for (const char *s = p->log; (s = strstr(s, "worker ")) && n < N; s++) {
        unsigned long id;
        int slot;
        pid_t pid;
        const char *eol = strchr(s, '\n');

        if (eol && memmem(s, (size_t) (eol - s), ") started", 9) &&
            zt_parse_worker(s, &id, &slot, &pid)) {
            ASSERT(slot >= 0 && slot < N);
            pids[slot] = pid;
            n++;
        }
    }
    ASSERT_EQ(n, N);
    for (int i = 0; i < KILLED; i++)
        ASSERT(kill(pids[i * (N / KILLED)], SIGKILL) == 0);
    t0 = zt_now_ms();
    while (zt_count(p, ") started") < N + KILLED) {
        ASSERT(zt_now_ms() - t0 < 20000);
        zt_pump(p, 100);
    }
    ASSERT_EQ(zt_count(p, "was killed by signal KILL; restarting in 0 ms"), KILLED);
    kill(p->pid, SIGTERM);
    ASSERT_EQ(zt_exit_code(p, 30000), 0);
    ASSERT_EQ(zt_count(p, "during shutdown"), N);
    zt_reap_all(5000);
    zt_proc_free(p);
}

/* Out of file descriptors in the primary is said as the primary's limit,
 * with its value and what raises it, not as a program that cannot be
 * executed. */
void test_fd_limit_said_as_the_primarys(void)
{
    char *argv[] = { (char *) "/usr/bin/prlimit",
                     (char *) "--nofile=22:22",
                     (char *) zt_zcluster(),
                     (char *) "-w",
                     (char *) "40",
                     (char *) "-l",
                     (char *) "127.0.0.1:0",
                     (char *) "--balance",
                     (char *) "shared",
                     (char *) "--control",
                     (char *) "none",
                     (char *) "--",
                     (char *) zt_hello(),
                     NULL };
    struct zt_proc *p;
    const char *l;

    if (access("/usr/bin/prlimit", X_OK) != 0)
        zt_skip("needs prlimit (util-linux)");
    p = zt_start(argv, NULL);
    l = zt_wait_line(p, "could not be started: ", 5000);
    ASSERT_CONTAINS(l, "the primary has no file descriptor left for it (its "
                    "limit, RLIMIT_NOFILE, is 22 with ");
    ASSERT_CONTAINS(l, "raise it with ulimit -n or LimitNOFILE=");
    ASSERT_EQ(zt_count(p, "cannot execute"), 0);
    ASSERT(kill(p->pid, SIGTERM) == 0);
    ASSERT_EQ(zt_exit_code(p, 10000), 0);
    zt_proc_free(p);
    /* The default spread takes a socket per slot at start: said the same
     * way, and the start fails (exit 1) rather than running short. */
    argv[7] = (char *) "reuseport";
    p = zt_start(argv, NULL);
    ASSERT_EQ(zt_exit_code(p, 5000), 1);
    zt_pump(p, 100);
    ASSERT_CONTAINS(p->log, "the primary has no file descriptor left (its "
                            "limit, RLIMIT_NOFILE, is 22");
    ASSERT_CONTAINS(p->log, "or use --balance shared");
    zt_proc_free(p);
    zt_reap_all(3000);
}
