/*
 * One worker process: started (fork and exec, with its link and its metrics
 * registry), told it is ready by its policy or its ready timer, asked to
 * drain (the shutdown message, then the stop signal, then SIGKILL on its
 * deadline), retired, reaped and forgotten. What each of these means for
 * its slot and the fleet is decided above: respawn.c, walk.c,
 * lifecycle.c.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/compat.h"
#include "base/list.h"
#include "base/log.h"
#include "base/spawn.h"
#include "primary/core/collect.h"
#include "primary/core/env.h"
#include "primary/core/events.h"
#include "primary/core/identity.h"
#include "primary/core/link.h"
#include "primary/core/node.h"
#include "primary/core/output.h"
#include "primary/life/worker.h"
#include "primary/spread/balance.h"
#include "primary/spread/router.h"
#include "proto/types.h"

#define NS ZC__PNS
/* --node: between the stop signal that follows a late disconnect and
 * SIGKILL. */
#define NODE_GRACE_MS 1000u
/* How long a linked worker has to answer "shutdown" with "stopping"
 * before it gets the stop signal as well (at most half the timeout). */
#define STOP_ACK_MS 1000

void zc__worker_describe_exit(int status, char *buf, size_t size)
{
    const char *name;

    if (WIFEXITED(status)) {
        snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
        return;
    }
    name = zc__signal_name(WTERMSIG(status));
    if (name)
        snprintf(buf, size, "was killed by signal %s%s", name,
                 WCOREDUMP(status) ? " (core dumped)" : "");
    else
        snprintf(buf, size, "was killed by signal %d%s", WTERMSIG(status),
                 WCOREDUMP(status) ? " (core dumped)" : "");
}

/* Keeps n_ready, and the reload's fewest-ready figure, in step. */
void zc__worker_set_state(struct zc_primary *p, struct worker *w,
                          enum worker_state state)
{
    if (w->state == W_READY && state != W_READY) {
        p->n_ready--;
        if (p->walk.active && p->n_ready < p->walk.min_ready)
            p->walk.min_ready = p->n_ready;
    } else if (w->state != W_READY && state == W_READY) {
        p->n_ready++;
    }
    w->state = state;
}

void zc__worker_signal(struct worker *w, int sig)
{
    /* The worker leads its own process group, so killpg also reaches its
     * children. One that moved to another group (setsid) gets kill(). Only
     * unreaped pids are signalled, so the pid cannot have been reused. */
    if (w->pid > 0 && killpg(w->pid, sig) == -1 && errno == ESRCH)
        (void) kill(w->pid, sig);
}

/* Arms the SIGKILL deadline of a worker asked to stop, if it has its own
 * (a retired one; at shutdown the shutdown timer does it for all). */
static void arm_kill(struct zc_primary *p, struct worker *w)
{
    if (!w->kill_at_us) {
        zc__timer_stop(&p->loop, &w->timer);
    } else if (zc__timer_start(&p->loop, &w->timer, w->kill_at_us) < 0) {
        zc_log(ZC_LOG_WARN, NS, "worker %llu (pid %d): no memory for its stop "
               "deadline: killing it with SIGKILL now",
               (unsigned long long) w->id, (int) w->pid);
        zc__worker_signal(w, SIGKILL);
    }
}

static void on_worker_timer(struct zc__loop *l, struct zc__timer *t)
{
    struct worker *w = zc__container_of(t, struct worker, timer);
    struct zc_primary *p = w->p;
    char how[64];

    (void) l;
    if (w->state == W_READY) {
        if (!w->linked && !w->node.online)
            zc__worker_found_deaf(p, w);
    } else if (w->state == W_STARTING) {
        snprintf(how, sizeof(how), p->opt.ready == ZC_READY_DELAY
                 ? "ready delay of %u ms elapsed" : p->opt.node
                 ? "online %u ms without listening or READY=1"
                 : "up %u ms without READY=1", p->opt.ready_delay_ms);
        p->hooks.ready(p, w, how);
    } else if (w->state == W_DRAINING && !w->signalled && !w->stop_acked) {
        zc_log(ZC_LOG_INFO, NS, "worker %llu (slot %u, pid %d) did not answer "
               "the shutdown message: sending it the stop signal",
               (unsigned long long) w->id, w->slot_index, (int) w->pid);
        zc__worker_signal(w, p->opt.stop_signal);
        w->signalled = true;
        arm_kill(p, w);
    } else if (w->state == W_DRAINING && p->opt.node && !w->signalled) {
        /* Node's disconnect did not end it in time, or it closed its
         * channel and lingers: the stop signal now, SIGKILL a second
         * later. */
        if (w->ipc.fd < 0)
            zc_log(ZC_LOG_INFO, NS, "worker %llu (slot %u, pid %d) closed its "
                   "channel after Node's disconnect but still runs %u ms later "
                   "(a timer or a socket of its own keeps it): sending it the "
                   "stop signal, SIGKILL in %u ms", (unsigned long long) w->id,
                   w->slot_index, (int) w->pid, NODE_GRACE_MS, NODE_GRACE_MS);
        else
            zc_log(ZC_LOG_WARN, NS, "worker %llu (slot %u, pid %d) still "
                   "running %u ms after Node's disconnect: sending it the stop "
                   "signal, SIGKILL in %u ms", (unsigned long long) w->id,
                   w->slot_index, (int) w->pid, p->opt.shutdown_timeout_ms,
                   NODE_GRACE_MS);
        zc__worker_signal(w, p->opt.stop_signal);
        w->signalled = true;
        w->kill_at_us = zc__now_us() + NODE_GRACE_MS * 1000ull;
        arm_kill(p, w);
    } else if (w->state == W_DRAINING && w->health.hung) {
        zc_log(ZC_LOG_WARN, NS, "worker %llu (slot %u, pid %d) still running "
               "%u ms after the watchdog's signal: killing it with SIGKILL",
               (unsigned long long) w->id, w->slot_index, (int) w->pid,
               p->opt.watchdog_grace_ms);
        zc__worker_signal(w, SIGKILL);
    } else if (w->state == W_DRAINING) {
        zc_log(ZC_LOG_WARN, NS, "worker %llu (slot %u, pid %d) still running "
               "%u ms after it was asked to stop: killing it with SIGKILL",
               (unsigned long long) w->id, w->slot_index, (int) w->pid,
               p->opt.shutdown_timeout_ms);
        zc__worker_signal(w, SIGKILL);
    }
}

/*
 * With sticky or least-conn the primary accepts and hands connections over
 * the worker's link: a worker that never said hello there (a server that
 * only reads LISTEN_FDS, which gets none in these modes) can take none,
 * and its clients must not wait for it. Said once, with what to do.
 */
void zc__worker_found_deaf(struct zc_primary *p, struct worker *w)
{
    char mode[16];

    if (w->deaf)
        return;
    w->deaf = true;
    (void) zc_option_format(&p->opt, "balance", mode, sizeof(mode));
    zc_log(ZC_LOG_WARN, NS, "worker %llu (slot %u, pid %d) is ready but "
           "cannot take connections under --balance %s: it has not said hello "
           "on its IPC link (ZC_IPC_FD), as a server that only reads "
           "LISTEN_FDS never does (it gets no listening socket in this mode); "
           "its clients go to other workers, or are closed. Use --balance "
           "reuseport or shared for such a server, or have it take "
           "connections (docs/protocol.md, \"Sticky sessions\")",
           (unsigned long long) w->id, w->slot_index, (int) w->pid, mode);
    zc__router_deaf(p, w->slot);
}

/* Still starting at its deadline: lifecycle.c says what that means. */
static void on_ready_deadline(struct zc__loop *l, struct zc__timer *t)
{
    struct worker *w = zc__container_of(t, struct worker, ready_deadline);

    (void) l;
    if (w->state == W_STARTING)
        w->p->hooks.not_ready(w->p, w, 0);
}

void zc__worker_ready_policy(struct zc_primary *p, struct worker *w)
{
    uint64_t at = w->started_us + p->opt.ready_timeout_ms * 1000ull;

    /* --ready-timeout binds a walk's replacement (a late one fails the
     * walk) and, with --give-up, every worker (one never ready counts as
     * a failure). Armed before the policy, which may say ready at once. */
    if ((w->slot && w->slot->next == w) || p->opt.give_up_count) {
        if (zc__timer_start(&p->loop, &w->ready_deadline, at) < 0) {
            p->hooks.not_ready(p, w, -ENOMEM);
            if (w->state != W_STARTING || w->stop_sent)
                return;
        }
    }
    /* A Node worker's second counts from its "online" (node.c starts the
     * timer then): Node itself takes longer than that to start. */
    if (p->opt.node && p->opt.ready == ZC_READY_AUTO)
        return;
    switch (p->opt.ready) {
    case ZC_READY_IMMEDIATE:
        p->hooks.ready(p, w, "immediate");
        break;
    case ZC_READY_AUTO:
    case ZC_READY_DELAY:
        at = w->started_us + p->opt.ready_delay_ms * 1000ull;
        if (zc__timer_start(&p->loop, &w->timer, at) < 0)
            p->hooks.ready(p, w, "no memory for a ready timer");
        break;
    default:            /* NOTIFY: only READY=1 will do */
        break;
    }
}

/* Whose limit a spawn ran into, for the log: the primary's own file
 * descriptors (each worker costs it one or two) or the system's, not the
 * program's. Any other failure keeps what the caller wrote in what. */
static void spawn_failure(const struct zc_primary *p, int r, char *what,
                          size_t size)
{
    struct rlimit lim;

    if (r == -EMFILE && getrlimit(RLIMIT_NOFILE, &lim) == 0)
        snprintf(what, size, "the primary has no file descriptor left for "
                 "it (its limit, RLIMIT_NOFILE, is %llu with %u workers "
                 "running: raise it with ulimit -n or LimitNOFILE=)",
                 (unsigned long long) lim.rlim_cur, p->n_alive);
    else if (r == -ENFILE)
        snprintf(what, size, "the system has no file descriptor left "
                 "(fs.file-max)");
}

/*
 * Starts a worker process for slot s, of generation gen, and logs it with
 * note appended. On failure returns -errno with what failed in what (the
 * program, or the socketpair of its link) for the caller to log; the id
 * it would have had is used up, as a failed fork's would be.
 */
int zc__worker_spawn(struct zc_primary *p, struct slot *s, uint64_t gen,
                     const char *note, struct worker **ret, char *what,
                     size_t what_size)
{
    char path[PATH_MAX];
    int fds[ZC_MAX_LISTEN + 2], pair[2], metrics_fd, out[2], ours[2];
    struct zc__spawn sp = {
        .path = path, .argv = p->argv, .envp = p->env.envp,
        .fds = fds, .n_fds = (int) zc__env_worker_listeners(p) + 1,
        .stdin_fd = p->devnull, .pdeath_signal = SIGKILL,
        .nofile = p->nofile_raised ? &p->nofile : NULL,
    };
    struct worker *w;
    pid_t pid = -1;
    int r, step = ZC__SPAWN_STEP_EXEC;

    zc__identity_spawn(p, &sp);
    s->last_id = p->next_worker_id++;
    r = zc__env_resolve_exec(p, path, sizeof(path));
    if (r < 0) {
        snprintf(what, what_size, "cannot execute '%s'",
                 p->self_path ? p->self_path : p->argv[0]);
        return r;
    }
    w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(what, what_size, "its record");
        return -ENOMEM;
    }
    *w = (struct worker) { .p = p, .slot = s, .slot_index = s->index,
                           .id = s->last_id, .generation = gen, .pid = -1 };
    w->ipc.fd = -1;
    zc__timer_init(&w->timer, on_worker_timer);
    zc__timer_init(&w->ready_deadline, on_ready_deadline);
    /* Non-blocking on both ends; the worker's end is placed after the
     * listeners and closed here once it has it. */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
                   pair) == -1) {
        r = -errno;
        snprintf(what, what_size, "socketpair for its IPC link");
        spawn_failure(p, r, what, what_size);
        free(w);
        return r;
    }
    if (zc__env_worker_listeners(p) &&
        (r = zc__balance_worker_fds(p, s->index, fds)) < 0) {
        snprintf(what, what_size, "its slot's listening socket");
        (void) close(pair[0]);
        (void) close(pair[1]);
        free(w);
        return r;
    }
    if ((r = zc__output_pipes(p, out, ours)) < 0) {
        snprintf(what, what_size, "pipes for its output");
        spawn_failure(p, r, what, what_size);
        (void) close(pair[0]);
        (void) close(pair[1]);
        free(w);
        return r;
    }
    if (out[0] >= 0)
        sp.output = out;
    fds[zc__env_worker_listeners(p)] = pair[1];
    (void) zc__collect_spawning(p, w, &metrics_fd);  /* logged; not fatal */
    if (metrics_fd >= 0)
        fds[sp.n_fds++] = metrics_fd;
    sp.listen_pid = zc__env_prepare(p, w, metrics_fd >= 0, &sp.watchdog_pid);
    r = zc__spawn(&sp, &pid, &step);
    (void) close(pair[1]);
    zc__output_close(out);
    zc__collect_spawned(p, w, metrics_fd);
    if (r < 0) {
        (void) close(pair[0]);
        zc__output_close(ours);
        zc__collect_exited(p, w, NULL);
        free(w);
        snprintf(what, what_size, "%s '%s'", r == -EAGAIN || r == -ENOMEM
                 ? "fork for" : "cannot execute", path);
        spawn_failure(p, r, what, what_size);
        zc__identity_failure(p, step, what, what_size);
        return r;
    }
    if (zc__link_open(p, w, pair[0]) < 0)
        zc__link_close(p, w);   /* it runs without a link: logged on use */
    w->pid = pid;
    zc__output_attach(p, w, ours);
    w->state = W_STARTING;
    w->started_us = zc__now_us();
    ZC__LIST_PUSH(p->workers, w);
    p->n_alive++;
    if (p->walk.active && p->n_alive > p->walk.max_alive)
        p->walk.max_alive = p->n_alive;
    zc_log(ZC_LOG_INFO, NS, "worker %llu (slot %u, pid %d) started: %s%s",
           (unsigned long long) w->id, s->index, (int) pid, path, note);
    zc__emit_worker(p, ZC_EVENT_SPAWNED, w, 0);
    *ret = w;
    return 0;
}

struct worker *zc__worker_adopt(struct zc_primary *p, struct slot *s,
                                unsigned slot_index, uint64_t id, uint64_t gen,
                                pid_t pid)
{
    struct worker *w = calloc(1, sizeof(*w));

    if (!w)
        return NULL;
    *w = (struct worker) { .p = p,
                           .slot = s,
                           .slot_index = slot_index,
                           .id = id,
                           .generation = gen,
                           .pid = pid,
                           .state = W_STARTING };
    w->ipc.fd = -1;
    zc__timer_init(&w->timer, on_worker_timer);
    zc__timer_init(&w->ready_deadline, on_ready_deadline);
    ZC__LIST_PUSH(p->workers, w);
    p->n_alive++;
    return w;
}

/*
 * Asks one worker to drain. A linked worker gets the "shutdown" message
 * (with the time it has) and a moment to answer "stopping" before the
 * stop signal follows; one that already said "stopping" gets nothing more.
 * kill_at_us is its own SIGKILL deadline (0: the shutdown timer's). Asking
 * twice changes nothing. Returns whether the message went, for the log.
 */
bool zc__worker_stop(struct zc_primary *p, struct worker *w,
                     uint64_t kill_at_us)
{
    uint32_t ack_ms = p->opt.shutdown_timeout_ms / 2;
    uint64_t now = zc__now_us();
    char ms[16];

    if (w->pid <= 0 || w->stop_sent)
        return w->pid > 0 && !w->signalled;
    zc__timer_stop(&p->loop, &w->ready_deadline);
    zc__worker_set_state(p, w, W_DRAINING);
    w->stop_sent = true;
    w->stop_us = now;
    w->kill_at_us = kill_at_us;
    if (w->stop_acked) {
        arm_kill(p, w);
        return true;
    }
    if (ack_ms > STOP_ACK_MS)
        ack_ms = STOP_ACK_MS;
    /* Node's graceful path is its own answer: the worker closes its
     * servers, lets its connections end and exits, within the deadline. */
    if (p->opt.node && zc__node_disconnect(p, w)) {
        w->stop_acked = true;
        arm_kill(p, w);
        return true;
    }
    snprintf(ms, sizeof(ms), "%u", p->opt.shutdown_timeout_ms);
    if (w->linked &&
        zc__link_queue(p, w, "shutdown", ms, strlen(ms), NULL, 0) == 0 &&
        zc__timer_start(&p->loop, &w->timer, now + ack_ms * 1000ull) == 0)
        return true;
    zc__worker_signal(w, p->opt.stop_signal);
    w->signalled = true;
    arm_kill(p, w);
    return false;
}

/* Out of its slot for good: it drains, with shutdown_timeout to do it. */
void zc__worker_retire(struct zc_primary *p, struct worker *w)
{
    w->retired = true;
    w->slot = NULL;
    (void) zc__worker_stop(p, w,
                           zc__now_us() + p->opt.shutdown_timeout_ms * 1000ull);
}

void zc__worker_kill_after(struct zc_primary *p, struct worker *w, int sig,
                           uint32_t grace_ms)
{
    uint64_t now = zc__now_us();

    w->retired = true;
    w->slot = NULL;
    zc__timer_stop(&p->loop, &w->ready_deadline);
    zc__worker_set_state(p, w, W_DRAINING);
    w->stop_sent = w->signalled = true;
    w->stop_us = now;
    w->kill_at_us = now + grace_ms * 1000ull;
    zc__worker_signal(w, sig);
    /* A stopped process would keep the signal pending until the grace
     * ends: continue it, so a core is written now. */
    zc__worker_signal(w, SIGCONT);
    arm_kill(p, w);
}

/*
 * Node closes a worker's channel after our disconnect once its servers
 * have closed, that is once its connections are done: its drain is over.
 * One still running a moment later is kept alive by something else (an
 * interval of a queue's consumer, a socket of its own), and gets the stop
 * signal, as Node's own primary sends it once the channel is closed.
 */
void zc__worker_node_closed(struct zc_primary *p, struct worker *w)
{
    if (w->state != W_DRAINING || w->signalled || w->pid <= 0)
        return;
    if (zc__timer_start(&p->loop, &w->timer,
                        zc__now_us() + NODE_GRACE_MS * 1000ull) < 0)
        zc__worker_signal(w, p->opt.stop_signal);
}

void zc__worker_stop_acked(struct zc_primary *p, struct worker *w)
{
    w->stop_acked = true;
    if (w->state == W_DRAINING && !w->signalled)
        arm_kill(p, w);
}

/* Reaped: out of the list, onto the dead one until before_poll. */
void zc__worker_forget(struct zc_primary *p, struct worker *w)
{
    zc__timer_stop(&p->loop, &w->timer);
    zc__timer_stop(&p->loop, &w->ready_deadline);
    zc__worker_set_state(p, w, W_EXITED);
    zc__node_forget(w);
    w->pid = -1;
    ZC__LIST_REMOVE(p->workers, w);
    w->next = p->dead;
    p->dead = w;
    p->n_alive--;
}

/* A linear scan: it runs once per exit or notify message, never per
 * request, and a thousand workers scan in a microsecond. */
struct worker *zc__worker_by_pid(struct zc_primary *p, pid_t pid)
{
    for (struct worker *w = p->workers; w; w = w->next)
        if (w->pid == pid)
            return w;
    return NULL;
}

/* Only on an error path: the library returns into its caller's process,
 * where no PDEATHSIG would fire, so no worker may be left running. */
void zc__worker_kill_and_reap_all(struct zc_primary *p)
{
    for (struct worker *w = p->workers; w; w = w->next) {
        zc__ipc_close(&w->ipc);
        zc__worker_signal(w, SIGKILL);
        while (waitpid(w->pid, NULL, 0) == -1 && errno == EINTR)
            ;
        w->pid = -1;
    }
}
