/*
 * What a worker leaves behind. A worker leads its own process group, and
 * what it starts is in that group unless it leaves it: when the worker
 * ends (a crash, a stop, a retirement), the rest of its group gets the
 * stop signal, and SIGKILL at the drain deadline. A process that left the
 * group (setsid) and outlived its parent is re-parented to the primary,
 * which is a child subreaper: such a stray is found among the primary's
 * children whenever one of them exits, stopped the same way, reaped and
 * logged, and never taken for a worker. With --kill-mode process, both
 * are left running (strays are still reaped and logged when they exit).
 *
 * Stops are kept in a small table, each with its SIGKILL deadline, on one
 * timer. A pid or group is only signalled while it cannot have been
 * reused: a stray is our unreaped child, and a group is signalled right
 * after its leader's exit or while one of our children is still in it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clean.h"
#include "base/compat.h"
#include "base/log.h"
#include "primary/life/strays.h"
#include "primary/life/worker.h"

#define NS ZC__PNS

/* Clock ticks since boot, as /proc/PID/stat says a process started. */
static unsigned long long boot_ticks(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (unsigned long long) ts.tv_sec *
               (unsigned long long) sysconf(_SC_CLK_TCK) +
           (unsigned long long) ts.tv_nsec *
               (unsigned long long) sysconf(_SC_CLK_TCK) / 1000000000ull;
}

/* When pid started (clock ticks since boot), 0 if it cannot be read. */
static unsigned long long start_of(pid_t pid)
{
    char path[48], buf[1024], *s;
    unsigned long long t = 0;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof(buf) - 1);
    (void) close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* after the name in parentheses (which may hold anything), field 3 */
    s = strrchr(buf, ')');
    if (!s || sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u "
                     "%*u %*d %*d %*d %*d %*d %*d %llu", &t) != 1)
        return 0;
    return t;
}

/* The name of pid, from /proc ("?" if gone). */
static void comm_of(pid_t pid, char *out, size_t size)
{
    char path[48], raw[17] = "";
    ssize_t n;
    int fd;

    snprintf(out, size, "?");
    snprintf(path, sizeof(path), "/proc/%d/comm", (int) pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    n = read(fd, raw, sizeof(raw) - 1);
    (void) close(fd);
    if (n <= 0)
        return;
    raw[strcspn(raw, "\n")] = '\0';
    /* A process names itself (prctl): the name is made safe for the log. */
    (void) zc__clean(out, size, raw, strnlen(raw, (size_t) n));
}

static struct stray *find(struct stray_table *t, pid_t id, bool group)
{
    for (unsigned i = 0; i < t->n; i++)
        if (t->v[i].id == id && t->v[i].group == group)
            return &t->v[i];
    return NULL;
}

static void forget(struct stray_table *t, struct stray *s)
{
    *s = t->v[--t->n];
}

static void rearm(struct zc_primary *p)
{
    struct stray_table *t = &p->strays;
    uint64_t first = 0;

    for (unsigned i = 0; i < t->n; i++)
        if (t->v[i].kill_at_us && (!first || t->v[i].kill_at_us < first))
            first = t->v[i].kill_at_us;
    if (!first || zc__timer_start(&p->loop, &t->timer, first) < 0)
        zc__timer_stop(&p->loop, &t->timer);
}

static void signal_stray(const struct stray *s, int sig)
{
    if (s->group)
        (void) killpg(s->id, sig);
    else
        (void) kill(s->id, sig);
}

/* The SIGKILL deadline of what is stopped now: the shutdown's, or a
 * retirement's drain time. */
static uint64_t deadline(const struct zc_primary *p)
{
    if (p->shutting_down)
        return p->shutdown_start_us + p->opt.shutdown_timeout_ms * 1000ull;
    return zc__now_us() + p->opt.shutdown_timeout_ms * 1000ull;
}

/* Tracks one more: stopped now (the stop signal, and SIGCONT so that a
 * stopped one hears it), killed at the deadline. */
static void track(struct zc_primary *p, pid_t id, bool group, const char *comm)
{
    struct stray_table *t = &p->strays;
    struct stray s = { .id = id, .group = group };

    snprintf(s.comm, sizeof(s.comm), "%s", comm);
    if (p->opt.kill_mode == ZC_KILL_GROUP) {
        s.kill_at_us = deadline(p);
        signal_stray(&s, p->opt.stop_signal);
        signal_stray(&s, SIGCONT);
    }
    if (t->n == ZC__STRAYS_MAX) {
        signal_stray(&s, SIGKILL);      /* no room to wait for it: now */
        return;
    }
    t->v[t->n++] = s;
    rearm(p);
}

static void on_timer(struct zc__loop *l, struct zc__timer *tm)
{
    struct zc_primary *p =
        zc__container_of(tm, struct zc_primary, strays.timer);
    struct stray_table *t = &p->strays;
    uint64_t now = zc__now_us();

    (void) l;
    for (unsigned i = 0; i < t->n; ) {
        struct stray *s = &t->v[i];

        if (!s->kill_at_us || s->kill_at_us > now) {
            i++;
            continue;
        }
        zc_log(ZC_LOG_WARN, NS,
               "%s %d (%s) still running at its stop deadline: "
               "killing it with SIGKILL",
               s->group ? "the process group" : "stray pid", (int) s->id,
               s->comm);
        signal_stray(s, SIGKILL);
        s->kill_at_us = 0;
        /* A group has no exit of its own to wait for: done with it (its
         * members are our children now, reaped as strays). */
        if (s->group)
            forget(t, s);
        else
            i++;
    }
    rearm(p);
}

void zc__strays_start(struct zc_primary *p)
{
    zc__timer_init(&p->strays.timer, on_timer);
    /* A program that runs its own fleet (the library) may have children
     * of its own from before: only what starts from here can be ours. */
    p->strays.since_ticks = boot_ticks();
    /* Orphans of our workers come to us, not to init: they can be
     * stopped, and a dead one's status is ours to reap. */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) == 0)
        p->strays.subreaper = true;
}

/* Our children that could be strays, in pids (at most max): how many. */
static unsigned children(const struct zc_primary *p, pid_t *pids, unsigned max)
{
    char path[64], buf[4096];
    unsigned n = 0;
    ssize_t k;
    int fd;

    snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int) getpid());
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    k = read(fd, buf, sizeof(buf) - 1);
    (void) close(fd);
    if (k <= 0)
        return 0;
    buf[k] = '\0';
    for (char *s = strtok(buf, " \n"); s && n < max; s = strtok(NULL, " \n")) {
        pid_t pid = (pid_t) atoi(s);

        if (pid > 0 && start_of(pid) >= p->strays.since_ticks)
            pids[n++] = pid;
    }
    return n;
}

void zc__strays_end(struct zc_primary *p)
{
    pid_t pids[ZC__STRAYS_MAX];
    unsigned n;

    if (!p->strays.subreaper)
        return;
    zc__timer_stop(&p->loop, &p->strays.timer);
    /* The library returns into its caller, and the tool exits: nothing a
     * worker started may be left running, unless asked to be. */
    if (p->opt.kill_mode == ZC_KILL_GROUP) {
        zc__strays_kill_all(p);
        n = children(p, pids, ZC__STRAYS_MAX);
        for (unsigned i = 0; i < n; i++) {
            (void) kill(pids[i], SIGKILL);
            while (waitpid(pids[i], NULL, 0) == -1 && errno == EINTR)
                ;
        }
    }
    (void) prctl(PR_SET_CHILD_SUBREAPER, 0);
    p->strays.subreaper = false;
}

void zc__strays_worker_gone(struct zc_primary *p, pid_t pid,
                            unsigned long long id, unsigned slot)
{
    char comm[16];

    /* Nothing of its group left: the usual case, one system call. */
    if (killpg(pid, 0) == -1)
        return;
    if (p->opt.kill_mode == ZC_KILL_PROCESS) {
        zc_log(ZC_LOG_INFO, NS, "worker %llu (slot %u, pid %d) left processes "
               "in its group; they go on (--kill-mode process)", id, slot,
               (int) pid);
        return;
    }
    zc_log(ZC_LOG_INFO, NS, "worker %llu (slot %u, pid %d) left processes in "
           "its group: sending them the stop signal, SIGKILL in %u ms", id,
           slot, (int) pid, (unsigned) ((deadline(p) - zc__now_us()) / 1000));
    snprintf(comm, sizeof(comm), "worker %llu", id);
    if (!find(&p->strays, pid, true))
        track(p, pid, true, comm);
}

void zc__strays_scan(struct zc_primary *p)
{
    pid_t pids[ZC__STRAYS_MAX];
    unsigned n;

    if (!p->strays.subreaper)
        return;
    n = children(p, pids, ZC__STRAYS_MAX);
    for (unsigned i = 0; i < n; i++) {
        pid_t pid = pids[i];
        char comm[16];

        if (zc__worker_by_pid(p, pid) || find(&p->strays, pid, false))
            continue;
        comm_of(pid, comm, sizeof(comm));
        /* One of a gone worker's group was said with its group; one that
         * leads a group of its own left it. */
        if (getpgid(pid) != pid)
            zc_log(ZC_LOG_DEBUG, NS, "pid %d (%s) outlived its worker in its "
                   "process group", (int) pid, comm);
        else
            zc_log(ZC_LOG_WARN, NS, "pid %d (%s) was re-parented to the "
                   "primary: it left a worker's process group and outlived "
                   "its parent; %s", (int) pid, comm,
                   p->opt.kill_mode == ZC_KILL_GROUP ? "stopping it"
                   : "leaving it running (--kill-mode process)");
        track(p, pid, false, comm);
    }
}

void zc__strays_reaped(struct zc_primary *p, pid_t pid, const char *what)
{
    struct stray *s = find(&p->strays, pid, false);

    zc_log(ZC_LOG_INFO, NS, "stray pid %d (%s) %s", (int) pid,
           s ? s->comm : "left by a worker", what);
    if (s) {
        forget(&p->strays, s);
        rearm(p);
    }
}

unsigned zc__strays_alive(const struct zc_primary *p)
{
    unsigned n = 0;

    if (p->opt.kill_mode != ZC_KILL_GROUP)
        return 0;           /* not ours to wait for */
    for (unsigned i = 0; i < p->strays.n; i++)
        n += !p->strays.v[i].group;
    return n;
}

void zc__strays_kill_all(struct zc_primary *p)
{
    if (p->opt.kill_mode != ZC_KILL_GROUP)
        return;
    for (unsigned i = 0; i < p->strays.n; i++)
        signal_stray(&p->strays.v[i], SIGKILL);
}
