/* Rolling reload under load, a broken release, surge, scaling at run time,
 * and a shutdown in the middle of a reload. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

/* Waits for a line, sampling the primary's children (its workers) every
 * couple of milliseconds meanwhile; *most keeps the highest count. */
static const char *watch_until(struct zt_proc *p, const char *needle,
                               int timeout_ms, int *most)
{
    uint64_t t0 = zt_now_ms();
    const char *line;

    while (!(line = zt_try_line(p, needle, 2))) {
        int n = zt_children(p->pid);

        if (n > *most)
            *most = n;
        if (zt_now_ms() - t0 > (uint64_t) timeout_ms || p->out < 0)
            zt_fail(__FILE__, __LINE__, "no line containing \"%s\" within "
                    "%d ms", needle, timeout_ms);
    }
    return line;
}

static void wait_children(pid_t pid, int n, int timeout_ms);

static const char *reload(struct zt_proc *p, unsigned gen, const char *outcome,
                          int *most)
{
    char want[96];

    snprintf(want, sizeof(want), "reload to generation %u %s", gen, outcome);
    ASSERT(kill(p->pid, SIGHUP) == 0);
    return watch_until(p, want, 20000, most);
}

static void expect_no_failures(const struct zt_load_result *res)
{
    if (res->failed)
        zt_fail(__FILE__, __LINE__, "%llu of %llu requests failed; the first: %s",
                (unsigned long long) res->failed,
                (unsigned long long) (res->ok + res->failed), res->first_error);
}

/* 5 reloads of 2 workers that take 100 ms to start, under 8 busy
 * connections: not one request fails, never more than 3 processes; with
 * the shared socket, and with the default socket per slot (the old and new
 * worker of a slot share it during the step). */
static void reload_under_load(bool keepalive, const char *balance)
{
    pid_t pids[2];
    int port, most = 0;
    struct zt_proc *p;
    struct zt_load *l;
    struct zt_load_result res;

    p = zt_fleet(2, pids, &port, "-w", "2", "-l", "127.0.0.1:0", "--balance",
                 balance ? balance : "auto", "--", zt_hello(),
                 "--startup-delay", "100", NULL);
    l = zt_load_start(port, 8, keepalive);
    for (unsigned gen = 2; gen <= 6; gen++) {
        const char *line = reload(p, gen, "done in", &most);

        /* The primary's own count of the whole reload. */
        ASSERT_CONTAINS(line, "2 of 2 slots replaced; never fewer than 2 "
                              "workers ready, never more than 3 processes");
    }
    zt_load_stop_at(l, 6, &res);
    printf("# %s, %s: %llu requests over %llu connections, %llu "
           "failed, at most %d workers\n",
           balance ? balance : "default", keepalive ? "keep-alive" : "close",
           (unsigned long long) res.ok, (unsigned long long) res.connects,
           (unsigned long long) res.failed, most);
    expect_no_failures(&res);
    ASSERT_GE(res.ok, 100);
    ASSERT_EQ(res.max_generation, 6);
    ASSERT_GE(most, 2);
    ASSERT_LE(most, 3);
    /* Ten retired workers, each drained and gone, none respawned. */
    ASSERT_EQ(zt_count(p, "retired, drained in"), 10);
    ASSERT_EQ(zt_count(p, "restarting in"), 0);
    for (int i = 0; i < 2; i++)
        ASSERT(!zt_alive(pids[i]));
    ASSERT_EQ(zt_children(p->pid), 2);
    zt_stop_fleet(p);
}

void test_reload_under_load_close(void)
{
    reload_under_load(false, "shared");
}

void test_reload_under_load_keepalive(void)
{
    reload_under_load(true, "shared");
}

/* The default: a socket per slot (reuseport), and the queue watch. */
void test_reload_under_load_close_default(void)
{
    reload_under_load(false, NULL);
}

void test_reload_under_load_keepalive_default(void)
{
    reload_under_load(true, NULL);
}

/* The command is a script that we rewrite between reloads: what is on
 * disk at the reload is what runs. */
void test_reload_broken_release_keeps_old(void)
{
    char script[300], good[600];
    pid_t pids[2];
    int port, most = 0;
    struct zt_proc *p;
    struct zt_load *l;
    struct zt_load_result res;
    struct zt_resp r;
    const char *line;

    snprintf(script, sizeof(script), "%s/release", zt_tmpdir());
    snprintf(good, sizeof(good), "#!/bin/sh\nexec %s --startup-delay 50\n",
             zt_hello());
    zt_write_script(script, good);
    p = zt_fleet(2, pids, &port, "-w", "2", "-l", "127.0.0.1:0", "--ready",
                 "notify", "--ready-timeout", "800", "--", script, NULL);
    l = zt_load_start(port, 4, false);

    /* A release that cannot start. */
    zt_write_script(script, "#!/bin/sh\necho broken release >&2\nexit 1\n");
    line = reload(p, 2, "failed", &most);
    ASSERT_CONTAINS(line, "slot 0: worker 3 (slot 0, pid");
    ASSERT_CONTAINS(line, "exited with status 1 before it was ready");
    ASSERT_CONTAINS(line, "0 of 2 slots replaced; the other 2 keep their workers");

    /* A release that starts but never says it is ready. */
    zt_write_script(script, "#!/bin/sh\nexec sleep 60\n");
    line = reload(p, 3, "failed", &most);
    ASSERT_CONTAINS(line, "slot 0: worker 4 (pid");
    ASSERT_CONTAINS(line, "was not ready within 800 ms");
    /* It was stopped, not left behind. */
    line = watch_until(p, "worker 4 (slot 0, pid", 3000, &most);
    ASSERT_CONTAINS(line, "worker 4 (slot 0,");
    ASSERT_CONTAINS(line, "was killed by signal TERM");
    ASSERT_CONTAINS(line, "retired, drained in");

    /* The old workers are the same processes, and they serve. */
    for (int i = 0; i < 2; i++)
        ASSERT(zt_alive(pids[i]));
    ASSERT_EQ(zt_children(p->pid), 2);
    for (int i = 0; i < 10; i++) {
        ASSERT_EQ(zt_http_get(port, NULL, &r), 200);
        ASSERT(r.pid == pids[0] || r.pid == pids[1]);
    }

    /* A release that is not there at all. */
    ASSERT(unlink(script) == 0);
    line = reload(p, 4, "failed", &most);
    ASSERT_CONTAINS(line, "slot 0: worker 5 could not be started: cannot "
                          "execute");
    ASSERT_CONTAINS(line, "No such file or directory");

    /* A good release afterwards rolls out. */
    zt_write_script(script, good);
    line = reload(p, 5, "done in", &most);
    ASSERT_CONTAINS(line, "2 of 2 slots replaced; never fewer than 2 workers ready");
    for (int i = 0; i < 2; i++)
        ASSERT(zt_wait_gone(pids[i], 3000));
    zt_load_stop_at(l, 5, &res);
    expect_no_failures(&res);
    ASSERT_GE(res.ok, 20);
    ASSERT_EQ(res.max_generation, 5);
    ASSERT_LE(most, 3);
    ASSERT_EQ(zt_count(p, "restarting in"), 0);
    ASSERT_EQ(zt_count(p, "Send SIGHUP again to retry."), 3);
    zt_stop_fleet(p);
}

/* SIGHUPs during a reload: one more reload follows a success, however
 * many came; after a failure the one asked for is dropped. */
void test_hup_during_reload(void)
{
    char script[300], good[600];
    pid_t pids[2];
    int port;
    struct zt_proc *p;
    const char *line;

    snprintf(script, sizeof(script), "%s/release", zt_tmpdir());
    snprintf(good, sizeof(good), "#!/bin/sh\nexec %s --startup-delay 200\n",
             zt_hello());
    zt_write_script(script, good);
    p = zt_fleet(2, pids, &port, "-w", "2", "-l", "127.0.0.1:0", "--ready",
                 "notify", "--ready-timeout", "800", "--", script, NULL);
    ASSERT(kill(p->pid, SIGHUP) == 0);
    zt_wait_line(p, "received SIGHUP: rolling reload to generation 2", 5000);
    /* One at a time: signals of one kind pending together are one. */
    for (int i = 0; i < 2; i++) {
        ASSERT(kill(p->pid, SIGHUP) == 0);
        zt_wait_line(p, "received SIGHUP: the reload to generation 2 is under "
                        "way", 5000);
    }
    zt_wait_line(p, "reload to generation 2 done in", 5000);
    zt_wait_line(p, "a reload was asked for during the last one: rolling "
                    "reload to generation 3", 5000);
    zt_wait_line(p, "reload to generation 3 done in", 5000);
    ASSERT(zt_try_line(p, "generation 4", 300) == NULL);

    /* A release that never gets ready, and a SIGHUP during its attempt. */
    zt_write_script(script, "#!/bin/sh\nexec sleep 60\n");
    ASSERT(kill(p->pid, SIGHUP) == 0);
    zt_wait_line(p, "(reload to generation 4, step 1 of 2", 5000);
    ASSERT(kill(p->pid, SIGHUP) == 0);
    zt_wait_line(p, "the reload to generation 4 is under way", 5000);
    line = zt_wait_line(p, "reload to generation 4 failed", 5000);
    ASSERT_CONTAINS(line, "The reload asked for during this one is dropped: "
                          "send SIGHUP again to retry.");
    ASSERT(zt_try_line(p, "generation 5", 300) == NULL);
    ASSERT_EQ(zt_count(p, "restarting in"), 0);
    zt_stop_fleet(p);
}

/* The spec respawns an old worker killed at its timeout during a reload,
 * and its fleet grows. Workers deaf to SIGTERM, killed at 300 ms. */
void test_retired_never_respawned(void)
{
    pid_t pids[2];
    int port, most = 0;
    struct zt_proc *p;
    const char *line;

    p = zt_fleet(2, pids, &port, "-w", "2", "--shutdown-timeout", "300",
                 "--respawn-delay", "0", "--", zt_self(), "--helper",
                 "ignore_term", NULL);
    line = reload(p, 2, "done in", &most);
    ASSERT_CONTAINS(line, "2 of 2 slots replaced");
    /* No -l: the log says what a worker's own socket means for a reload. */
    ASSERT_EQ(zt_count(p, "no listening sockets of ours"), 1);
    ASSERT_CONTAINS(p->log, "net.ipv4.tcp_migrate_req is");
    ASSERT_EQ(zt_count(p, "still running 300 ms after it was asked to stop: "
                          "killing it with SIGKILL"), 2);
    ASSERT_EQ(zt_count(p, "was killed by signal KILL; retired, drained in"), 2);
    ASSERT_EQ(zt_count(p, "restarting in"), 0);
    ASSERT_EQ(zt_count(p, ") started"), 4);
    for (int i = 0; i < 2; i++)
        ASSERT(!zt_alive(pids[i]));
    ASSERT_EQ(zt_children(p->pid), 2);
    ASSERT_LE(most, 3);
    /* They ignore TERM: QUIT ends the test quickly. */
    ASSERT(kill(p->pid, SIGQUIT) == 0);
    ASSERT_EQ(zt_exit_code(p, 5000), 0);
    zt_reap_all(3000);
    zt_proc_free(p);
}

/* --max-surge 2 on 4 workers: two replacements start together, and the
 * fleet stays within 6 processes. */
void test_reload_surge(void)
{
    pid_t pids[4];
    int port, most = 0;
    struct zt_proc *p;
    const char *line, *first_ready;

    p = zt_fleet(4, pids, &port, "-w", "4", "-l", "127.0.0.1:0",
                 "--max-surge", "2", "--",
                 zt_hello(), "--startup-delay", "150", NULL);
    line = reload(p, 2, "done in", &most);
    ASSERT_CONTAINS(line, "4 of 4 slots replaced; never fewer than 4 "
                          "workers ready, never more than 6 processes");
    ASSERT_LE(most, 6);
    ASSERT_GE(most, 5);
    /* Slots 1 and 2 of 4 were both started before the first was ready. */
    first_ready = strstr(p->log, "reload to generation 2: slot");
    ASSERT(first_ready);
    for (int step = 1; step <= 2; step++) {
        char want[64];
        const char *started;

        snprintf(want, sizeof(want), "step %d of 4, replacing", step);
        started = strstr(p->log, want);
        ASSERT(started && started < first_ready);
    }
    zt_stop_fleet(p);
}

/* TTIN adds a worker, TTOU removes the highest slot, whose worker drains
 * (under keep-alive load: no request fails) and is not respawned. */
void test_scale_with_signals(void)
{
    pid_t pids[2];
    int port, most = 0;
    struct zt_proc *p;
    struct zt_load *l;
    struct zt_load_result res;
    struct zt_resp r;
    const char *line;

    /* The new worker takes 200 ms to start: the load runs meanwhile. */
    p = zt_fleet(2, pids, &port, "-w", "2", "-l", "127.0.0.1:0", "--",
                 zt_hello(), "--startup-delay", "200", NULL);
    l = zt_load_start(port, 8, true);
    ASSERT(kill(p->pid, SIGTTIN) == 0);
    zt_wait_line(p, "received SIGTTIN: scaling from 2 to 3 workers", 5000);
    ASSERT_CONTAINS(zt_wait_line(p, ") started", 5000), "(slot 2,");
    zt_wait_line(p, "all 3 workers ready", 5000);
    ASSERT_EQ(zt_children(p->pid), 3);

    ASSERT(kill(p->pid, SIGTTOU) == 0);
    zt_wait_line(p, "received SIGTTOU: scaling from 3 to 2 workers", 5000);
    zt_wait_line(p, "slot 2 removed: retiring worker 3", 5000);
    ASSERT_CONTAINS(watch_until(p, "retired, drained in", 5000, &most),
                    "worker 3 (slot 2, pid");
    ASSERT(kill(p->pid, SIGTTOU) == 0);
    zt_wait_line(p, "slot 1 removed: retiring worker 2", 5000);
    ASSERT_CONTAINS(watch_until(p, "retired, drained in", 5000, &most),
                    "worker 2 (slot 1, pid");
    ASSERT(kill(p->pid, SIGTTOU) == 0);
    zt_wait_line(p, "received SIGTTOU: already at 1 worker, the fewest; "
                    "ignoring it", 5000);
    ASSERT_EQ(zt_children(p->pid), 1);
    ASSERT(zt_alive(pids[0]));
    ASSERT(!zt_alive(pids[1]));
    zt_load_stop(l, &res);
    expect_no_failures(&res);
    ASSERT_GE(res.ok, 50);
    for (int i = 0; i < 5; i++) {
        ASSERT_EQ(zt_http_get(port, NULL, &r), 200);
        ASSERT_EQ(r.pid, pids[0]);
    }
    /* Nothing came back: the next worker is the one TTIN asks for. */
    ASSERT(kill(p->pid, SIGTTIN) == 0);
    line = zt_wait_line(p, ") started", 5000);
    ASSERT_CONTAINS(line, "worker 4 (slot 1,");
    zt_wait_line(p, "all 2 workers ready", 5000);
    ASSERT_EQ(zt_count(p, ") started"), 4);
    ASSERT_EQ(zt_count(p, "restarting in"), 0);
    zt_stop_fleet(p);
}

/* Things happen during a reload: the old worker of the slot being replaced
 * crashes (its replacement takes the slot, nothing is respawned), and a
 * scale down removes a slot not yet replaced (the reload ends without it). */
void test_reload_with_crash_and_scale_down(void)
{
    pid_t pids[3];
    int port, most = 0;
    struct zt_proc *p;
    const char *line;
    char want[128];

    p = zt_fleet(3, pids, &port, "-w", "3", "-l", "127.0.0.1:0",
                 "--respawn-delay", "0", "--", zt_hello(), "--startup-delay",
                 "300", NULL);
    ASSERT(kill(p->pid, SIGHUP) == 0);
    zt_wait_line(p, "(reload to generation 2, step 1 of 3, replacing worker 1)", 5000);
    ASSERT(kill(pids[0], SIGKILL) == 0);
    snprintf(want, sizeof(want), "worker 1 (slot 0, pid %d) was killed by "
             "signal KILL; its replacement, worker 4, is starting", (int) pids[0]);
    zt_wait_line(p, want, 5000);
    zt_wait_line(p, "reload to generation 2: slot 0 filled (1 of 3): worker 4", 5000);
    zt_wait_line(p, "(reload to generation 2, step 2 of 3, replacing worker 2)", 5000);
    ASSERT(kill(p->pid, SIGTTOU) == 0);
    zt_wait_line(p, "slot 2 removed: retiring worker 3", 5000);
    line = watch_until(p, "reload to generation 2 done in", 5000, &most);
    ASSERT_CONTAINS(line, "2 of 2 slots replaced");
    ASSERT_LE(most, 4);
    ASSERT_EQ(zt_count(p, "restarting in"), 0);
    wait_children(p->pid, 2, 5000);
    for (int i = 0; i < 3; i++)
        ASSERT(zt_wait_gone(pids[i], 3000));
    zt_stop_fleet(p);
}

/* TERM while a replacement is starting: the reload is abandoned and every
 * process, old and new, is stopped; the primary exits 0. */
void test_term_during_reload(void)
{
    pid_t pids[2], fresh;
    unsigned long id;
    int port, slot;
    struct zt_proc *p;
    const char *line;

    p = zt_fleet(2, pids, &port, "-w", "2", "-l", "127.0.0.1:0", "--",
                 zt_hello(), "--startup-delay", "400", NULL);
    ASSERT(kill(p->pid, SIGHUP) == 0);
    line = zt_wait_line(p, "(reload to generation 2, step 1 of 2", 5000);
    ASSERT(zt_parse_worker(line, &id, &slot, &fresh));
    ASSERT(kill(p->pid, SIGTERM) == 0);
    line = zt_wait_line(p, "received SIGTERM during the reload to generation 2: "
                           "abandoning it after", 5000);
    ASSERT_CONTAINS(line, "0 of 2 slots replaced");
    zt_wait_line(p, "received SIGTERM: stopping 3 workers", 5000);
    ASSERT_EQ(zt_exit_code(p, 8000), 0);
    ASSERT(zt_wait_gone(fresh, 2000));
    for (int i = 0; i < 2; i++)
        ASSERT(zt_wait_gone(pids[i], 2000));
    ASSERT_EQ(zt_count(p, "restarting in"), 0);
    ASSERT_EQ(zt_count(p, "during shutdown;"), 3);
    zt_reap_all(3000);
    zt_proc_free(p);
}

/* Library mode: HUP re-executes the program from its path as it is at the
 * reload; here a symlink that a deploy re-points to a new "release". */
void test_library_reload_new_binary(void)
{
    char link[300], release[300], marker[300], body[800], *text;
    char *argv[] = { link, (char *) "--cluster", (char *) "2", (char *) "-l",
                     (char *) "127.0.0.1:0", (char *) "--startup-delay",
                     (char *) "50", NULL };
    struct zt_proc *p;
    struct zt_resp r;
    const char *line;
    int port, most = 0;

    snprintf(link, sizeof(link), "%s/app", zt_tmpdir());
    snprintf(release, sizeof(release), "%s/release-2", zt_tmpdir());
    snprintf(marker, sizeof(marker), "%s/marker", zt_tmpdir());
    snprintf(body, sizeof(body), "#!/bin/sh\necho \"$ZC_GENERATION\" >> %s\n"
             "exec %s \"$@\"\n", marker, zt_hello());
    zt_write_script(release, body);
    ASSERT(symlink(zt_hello(), link) == 0);
    p = zt_start(argv, NULL);
    port = zt_parse_port(zt_wait_line(p, "listening on", 5000));
    zt_wait_line(p, "all 2 workers ready", 5000);
    ASSERT(zt_read_file(marker) == NULL);

    /* The deploy: the link now points at release 2. */
    ASSERT(unlink(link) == 0);
    ASSERT(symlink(release, link) == 0);
    line = reload(p, 2, "done in", &most);
    ASSERT_CONTAINS(line, "2 of 2 slots replaced");
    text = zt_read_file(marker);
    ASSERT(text);
    ASSERT_STREQ(text, "2\n2\n");
    free(text);
    ASSERT_EQ(zt_http_get(port, NULL, &r), 200);
    ASSERT_CONTAINS(r.head, "X-Worker-Generation: 2");
    zt_stop_fleet(p);
}

/* Waits until pid has n children, bounded. */
static void wait_children(pid_t pid, int n, int timeout_ms)
{
    uint64_t t0 = zt_now_ms();

    while (zt_children(pid) != n) {
        struct timespec ts = { 0, 2000000 };

        if (zt_now_ms() - t0 > (uint64_t) timeout_ms)
            zt_fail(__FILE__, __LINE__, "pid %d has %d children, not %d",
                    (int) pid, zt_children(pid), n);
        nanosleep(&ts, NULL);
    }
}

/* From the start of the log: when lines of two processes interleave. */
static void wait_anywhere(struct zt_proc *p, const char *needle)
{
    p->scan = 0;
    zt_wait_line(p, needle, 5000);
}

/* The library calls, made from the primary's message handlers. Which
 * worker asks for what is in tests/ipc-helpers.c (control_requests). */
void test_library_reload_and_scale_calls(void)
{
    char *argv[] = { (char *) zt_self(), (char *) "--helper",
                     (char *) "ipc_fleet", (char *) "control", (char *) "1", NULL };
    struct zt_proc *p = zt_start(argv, NULL);

    /* From primary_init: no reload yet, and 1 becomes 2 before the start. */
    zt_wait_line(p, "test: init: reload returned -11", 5000);
    zt_wait_line(p, "zc_primary_scale(): scaling from 1 to 2 workers", 5000);
    zt_wait_line(p, "test: init: scale returned 0", 5000);
    zt_wait_line(p, "starting 2 workers", 5000);

    /* The second call is the same reload: 0, then 1; it starts once the
     * handler has returned. */
    zt_wait_line(p, "test: reload calls returned 0 then 1", 5000);
    zt_wait_line(p, "zc_primary_reload(): rolling reload to generation 2", 5000);
    /* Asked for again during it: one more follows. */
    zt_wait_line(p, "test: reload calls returned 1 then 1", 5000);
    zt_wait_line(p, "zc_primary_reload(): the reload to generation 2 is "
                    "under way", 5000);
    zt_wait_line(p, "reload to generation 2 done in", 5000);
    zt_wait_line(p, "test: event reloaded worker 0 slot -1 status 0 delay 0 "
                    "generation 2", 5000);
    zt_wait_line(p, "a reload was asked for during the last one: rolling "
                    "reload to generation 3", 5000);
    /* Generation 3 asks for 3 workers, and the new slot for 0, then 1,
     * possibly while that reload is still under way. */
    wait_anywhere(p, "zc_primary_scale(): scaling from 2 to 3 workers");
    wait_anywhere(p, "test: scale to 3 returned 0; 3 workers");
    wait_anywhere(p, "test: scale to 0 returned -22; 3 workers");
    wait_anywhere(p, "zc_primary_scale(): scaling from 3 to 1 worker");
    wait_anywhere(p, "test: scale to 1 returned 0; 1 workers");
    wait_anywhere(p, "reload to generation 3 done in");
    wait_children(p->pid, 1, 5000);
    ASSERT_EQ(zt_count(p, "restarting in"), 0);
    zt_stop_fleet(p);
}

/* Any "1 workers", "1 slots", "1 processes" in a log; NULL if none. */
static const char *bad_grammar(const char *log)
{
    static const char *const plurals[] = { "workers", "slots", "processes",
                                           "sockets", "samples", "times" };

    for (const char *s = log; (s = strstr(s, " 1 ")); s++)
        for (size_t i = 0; i < sizeof(plurals) / sizeof(plurals[0]); i++)
            if (strncmp(s + 3, plurals[i], strlen(plurals[i])) == 0 &&
                !(s > log + 3 && strncmp(s - 3, " of", 3) == 0))
                return s;
    if (strstr(log, "keeps their") || strstr(log, "ready workers"))
        return strstr(log, "keeps their") ? strstr(log, "keeps their")
                                          : strstr(log, "ready workers");
    return NULL;
}

/* What a one-worker fleet, a restart of one slot of two and a reload that
 * fails on its second slot say: in grammar, and each walk counted over
 * the slots it steps. */
void test_reload_words(void)
{
    char script[300], body[500], cmd[300], *out;
    const char *line, *bad;
    pid_t pids[2];
    int port;
    struct zt_proc *p;

    p = zt_fleet(1, pids, &port, "-w", "1", "-l", "127.0.0.1:0", "--", zt_hello(),
                 NULL);
    ASSERT_CONTAINS(p->log, "1 worker ready");
    ASSERT(kill(p->pid, SIGHUP) == 0);
    line = zt_wait_line(p, "reload to generation 2 done in", 5000);
    ASSERT_CONTAINS(line, "1 of 1 slot replaced; never fewer than 1 worker "
                    "ready, never more than 2 processes");
    bad = bad_grammar(p->log);
    if (bad)
        zt_fail(__FILE__, __LINE__, "not in grammar: \"%.60s\"", bad);
    zt_stop_fleet(p);

    snprintf(script, sizeof(script), "%s/release", zt_tmpdir());
    snprintf(body, sizeof(body), "#!/bin/sh\n[ \"$ZC_GENERATION\" = 2 ] && "
             "[ \"$ZC_WORKER_SLOT\" = 1 ] && exit 1\nexec %s\n", zt_hello());
    zt_write_script(script, body);
    p = zt_fleet(2, pids, &port, "-n", "words", "-w", "2", "-l", "127.0.0.1:0",
                 "--", script, NULL);
    snprintf(cmd, sizeof(cmd), "%s -n words restart 1", zt_zclusterctl());
    out = zt_capture(cmd);
    free(out);
    line = zt_wait_line(p, "(restart of slot 1, step ", 5000);
    ASSERT_CONTAINS(line, "step 1 of 1, replacing worker 2)");
    line = zt_wait_line(p, "restart of slot 1: slot 1 replaced (", 5000);
    ASSERT_CONTAINS(line, "replaced (1 of 1)");
    line = zt_wait_line(p, "restart of slot 1 done in", 5000);
    ASSERT_CONTAINS(line, "1 of 1 slot replaced");
    ASSERT(kill(p->pid, SIGHUP) == 0);
    line = zt_wait_line(p, "reload to generation 2 failed", 5000);
    ASSERT_CONTAINS(line, "1 of 2 slots replaced; the other 1 keeps its worker");
    bad = bad_grammar(p->log);
    if (bad)
        zt_fail(__FILE__, __LINE__, "not in grammar: \"%.60s\"", bad);
    zt_stop_fleet(p);
}
