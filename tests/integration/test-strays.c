/*
 * What a worker leaves behind (--kill-mode): the children it started in
 * its process group end with it, the one that left the group and was
 * re-parented to the primary is stopped, reaped and logged, never taken
 * for a worker; at a crash, at shutdown, and not at all with --kill-mode
 * process.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

/* Starts a one-worker fleet of leaves_children; the three pids it left. */
static struct zt_proc *fleet(const char *mode, const char *exit_code,
                             pid_t *worker, pid_t kids[3])
{
    char file[300], *text = NULL;
    struct zt_proc *p;

    snprintf(file, sizeof(file), "%s/kids", zt_tmpdir());
    p = zt_fleet(1, worker, NULL, "-w", "1", "--kill-mode", mode,
                 "--shutdown-timeout", "1500ms", "--respawn-delay", "20s",
                 "--", zt_self(), "--helper", "leaves_children", file,
                 exit_code, NULL);
    for (uint64_t t0 = zt_now_ms(); !(text = zt_read_file(file)) ||
         !strchr(text, '\n'); zt_pump(p, 20)) {
        free(text);
        ASSERT(zt_now_ms() - t0 < 5000);
    }
    ASSERT_EQ(sscanf(text, "%d %d %d", &kids[0], &kids[1], &kids[2]), 3);
    free(text);
    return p;
}

/* A crash: the two in its group get the stop signal (the deaf one SIGKILL
 * at the drain deadline), the one that left its group is found among the
 * primary's children and stopped; each reaped and logged as a stray. */
void test_strays_end_with_their_worker(void)
{
    pid_t worker[1], kids[3];
    struct zt_proc *p = fleet("group", "1", worker, kids);
    uint64_t t0;
    char want[96];

    ASSERT(kill(worker[0], SIGUSR1) == 0);
    t0 = zt_now_ms();
    zt_wait_line(p, "exited with status 1; restarting in", 5000);
    for (int i = 0; i < 3; i++)
        ASSERT(zt_wait_gone(kids[i], 3000));
    printf("# its three children gone %llu ms after its exit (deadline "
           "1500 ms)\n", (unsigned long long) (zt_now_ms() - t0));
    ASSERT_LE(zt_now_ms() - t0, 2500);
    zt_wait_line(p, "left processes in its group: sending them the stop "
                 "signal, SIGKILL in", 2000);
    snprintf(want, sizeof(want), "pid %d (test-runner) was re-parented to "
             "the primary", (int) kids[1]);
    zt_wait_line(p, want, 2000);
    zt_wait_line(p, "still running at its stop deadline: killing it with "
                 "SIGKILL", 3000);
    for (int i = 0; i < 3; i++) {
        snprintf(want, sizeof(want), "stray pid %d (", (int) kids[i]);
        for (uint64_t t1 = zt_now_ms(); !strstr(p->log, want); zt_pump(p, 20))
            ASSERT(zt_now_ms() - t1 < 3000);
    }
    ASSERT_EQ(zt_count(p, "was killed by signal KILL; restarting"), 0);
    ASSERT_EQ(zt_count(p, "was killed by signal TERM; restarting"), 0);
    zt_stop_fleet(p);
}

/* At shutdown: what the worker left gets the stop signal with it, and
 * SIGKILL at the drain deadline; the fleet ends once all of it is gone. */
void test_strays_end_at_shutdown(void)
{
    pid_t worker[1], kids[3];
    struct zt_proc *p = fleet("group", "stay", worker, kids);
    uint64_t t0 = zt_now_ms();
    char want[96];

    ASSERT(kill(p->pid, SIGTERM) == 0);
    ASSERT_EQ(zt_exit_code(p, 10000), 0);
    ASSERT_LE(zt_now_ms() - t0, 3000);
    for (int i = 0; i < 3; i++)
        ASSERT(!zt_alive(kids[i]));
    /* named if it was found before it died, "left by a worker" if not */
    snprintf(want, sizeof(want), "stray pid %d (", (int) kids[0]);
    {
        const char *l = strstr(p->log, want);
        char line[256];

        ASSERT(l);
        snprintf(line, sizeof(line), "%.*s", (int) strcspn(l, "\n"), l);
        ASSERT_CONTAINS(line, ") was killed by signal TERM");
    }
    snprintf(want, sizeof(want), "stray pid %d (test-runner) still running at "
             "its stop deadline", (int) kids[2]);
    ASSERT_CONTAINS(p->log, want);
    ASSERT_CONTAINS(p->log, "all workers stopped in");
    zt_proc_free(p);
    zt_reap_all(2000);
}

/* At a reload's retirement: the old worker's children go with it. */
void test_strays_end_at_retirement(void)
{
    pid_t worker[1], kids[3];
    struct zt_proc *p = fleet("group", "stay", worker, kids);

    ASSERT(kill(p->pid, SIGHUP) == 0);
    zt_wait_line(p, "reload to generation 2 done", 10000);
    for (int i = 0; i < 3; i++)
        ASSERT(zt_wait_gone(kids[i], 3000));
    zt_stop_fleet(p);
}

/* --kill-mode process: the worker alone; what it started goes on. */
void test_strays_kill_mode_process(void)
{
    pid_t worker[1], kids[3];
    struct zt_proc *p = fleet("process", "1", worker, kids);

    ASSERT(kill(worker[0], SIGUSR1) == 0);
    zt_wait_line(p, "exited with status 1; restarting in", 5000);
    zt_wait_line(p, "they go on (--kill-mode process)", 2000);
    /* past the drain deadline: still running */
    for (uint64_t t0 = zt_now_ms(); zt_now_ms() - t0 < 1800; )
        zt_pump(p, 50);
    for (int i = 0; i < 3; i++)
        ASSERT(zt_alive(kids[i]));
    for (int i = 0; i < 3; i++)
        (void) kill(kids[i], SIGKILL);
    zt_stop_fleet(p);
}
