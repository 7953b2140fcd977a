/*
 * The two events of a worker's life that decide things: it became ready,
 * and it exited. Ready: a reload's replacement is promoted, a slot's worker
 * takes its clients, the fleet may announce itself ready. Exited: said once
 * in the log, then it is a retired worker drained, a reload's replacement
 * that failed, or a slot that lost its worker (respawn.c decides).
 *
 *   worker  STARTING --READY=1 / policy--> READY --stop / retire--> DRAINING
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "base/log.h"
#include "primary/core/output.h"
#include "primary/core/collect.h"
#include "primary/core/events.h"
#include "primary/health/recycle.h"
#include "primary/life/respawn.h"
#include "primary/life/strays.h"
#include "primary/life/walk.h"
#include "primary/life/worker.h"
#include "primary/loop/inputs.h"
#include "primary/loop/lifecycle.h"
#include "primary/spread/balance.h"
#include "primary/spread/router.h"
#include "primary/spread/watch.h"
#include "proto/notify.h"

#define NS ZC__PNS

void zc__lifecycle_ready(struct zc_primary *p, struct worker *w,
                         const char *how)
{
    uint64_t now = zc__now_us();
    struct slot *s = w->slot;

    zc__timer_stop(&p->loop, &w->timer);
    zc__timer_stop(&p->loop, &w->ready_deadline);
    zc__worker_set_state(p, w, W_READY);
    p->any_ready = true;
    zc_log(ZC_LOG_INFO, NS,
           "worker %llu (slot %u, pid %d) ready in %llu ms (%s)",
           (unsigned long long) w->id, w->slot_index, (int) w->pid,
           (unsigned long long) ((now - w->started_us) / 1000), how);
    zc__emit_worker(p, ZC_EVENT_READY, w, 0);
    if (s && s->next == w)
        zc__walk_promote(p, s);
    else if (s)
        s->ready_us = now;
    /* When the primary accepts, a worker that has not said hello within
     * a moment of being ready takes nothing it is handed (worker.c). */
    if (ZC__PRIMARY_ACCEPTS(p) && !w->linked && !w->node.online &&
        zc__timer_start(&p->loop, &w->timer,
                        now + ZC__HELLO_GRACE_MS * 1000ull) < 0)
        zc__worker_found_deaf(p, w);
    /* Its slot's clients, waiting or to come, are its own now; and its
     * socket takes new connections before anyone is told it is ready. */
    if (s && s->w == w) {
        zc__recycle_ready(p, w);
        zc__router_kick(p, s);
        zc__balance_steer(p);
    }
    zc__announce_if_ready(p);
    zc__notify_status(p);
}

/*
 * w's ready deadline passed while it was still starting (err 0), or could
 * not be armed (-ENOMEM). A walk's replacement fails the walk; a slot's
 * own worker is a failure for --give-up.
 */
void zc__lifecycle_not_ready(struct zc_primary *p, struct worker *w, int err)
{
    struct slot *s = w->slot;
    char why[160];

    if (!s)
        return;
    if (s->next == w) {
        if (err)
            snprintf(why, sizeof(why), "no memory for the replacement's "
                     "ready deadline");
        else
            snprintf(why, sizeof(why), "worker %llu (pid %d) was not ready "
                     "within %u ms; stopping it", (unsigned long long) w->id,
                     (int) w->pid, p->opt.ready_timeout_ms);
        zc__walk_failed(p, s, why);
    } else if (s->w == w && err) {
        zc_log(ZC_LOG_WARN, NS, "worker %llu (slot %u, pid %d): no memory for "
               "its ready deadline: --give-up will not count it if it is "
               "never ready", (unsigned long long) w->id, s->index,
               (int) w->pid);
    } else if (s->w == w) {
        zc__respawn_never_ready(p, w);
    }
}

/* Shutting down: the fleet ends once its workers, and what they left
 * behind, are gone. */
static void end_if_all_stopped(struct zc_primary *p)
{
    if (p->shutting_down && p->n_alive == 0 && zc__strays_alive(p) == 0)
        zc__respawn_all_stopped(p);
}

/* The worker left; decide, once, what happens next. */
static void on_worker_exit(struct zc_primary *p, struct worker *w, int status,
                           const struct rusage *ru)
{
    /* A Node worker whose channel we cut exits 0 (Node's way when its
     * primary goes): it did not stop on purpose. */
    bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0 && !w->node.cut;
    struct walk *R = &p->walk;
    struct slot *s;
    char what[320];
    size_t n;

    /* What it said last (a status, a result) is handled before its death. */
    zc__inputs_link_drain(p, w);
    zc__output_worker_exited(p, w);
    /* Its counts stay in the fleet's (a last text snapshot included). */
    zc__collect_exited(p, w, ru);
    /* "worker 3 (slot 1, pid 4121) exited with status 1", said once. */
    n = (size_t) snprintf(what, sizeof(what), "worker %llu (slot %u, pid %d) ",
                          (unsigned long long) w->id, w->slot_index,
                          (int) w->pid);
    zc__worker_describe_exit(status, what + n, sizeof(what) - n);
    zc__emit_worker(p, ZC_EVENT_EXITED, w, status);
    /* Its last STATUS= is the best clue to why it died. */
    if (w->status[0] && !clean)
        snprintf(what + strlen(what), sizeof(what) - strlen(what),
                 " (last status: %s)", w->status);
    /* Reaped: from here on the pid may belong to anyone. */
    zc__worker_forget(p, w);
    zc__notify_status(p);
    s = w->slot;
    if (p->shutting_down) {
        /* The end waits for what it left too (zc__lifecycle_reap). */
        zc_log(ZC_LOG_INFO, NS, "%s during shutdown; %u left", what,
               p->n_alive);
        return;
    }
    if (w->retired) {
        zc_log(clean ? ZC_LOG_INFO : ZC_LOG_WARN, NS, "%s; %s %llu ms", what,
               w->health.hung ? "it had missed its watchdog and was replaced; "
               "gone in" : "retired, drained in",
               (unsigned long long) ((zc__now_us() - w->stop_us) / 1000));
        if (R->active && w->step_of == R->serial)
            R->stepping--;
        /* The last worker of a slot scaled away: its socket's turn. */
        if (w->slot_index >= p->n_slots)
            zc__balance_abandon(p, w->slot_index, "scaled away");
        zc__walk_pump(p);
        zc__respawn_check_end(p);
        return;
    }
    if (s && s->next == w) {
        s->next = NULL;
        R->stepping--;
        snprintf(what + strlen(what), sizeof(what) - strlen(what),
                 " before it was ready");
        zc__walk_failed(p, s, what);
        return;
    }
    if (s) {
        zc__respawn_lost_worker(p, s, clean, what);
        zc__balance_slot_lost(p, s);
    }
}

void zc__lifecycle_reap(struct zc_primary *p)
{
    struct rusage ru;
    int status;
    pid_t pid;

    /* SIGCHLDs coalesce: reap until nothing is left, whatever woke us.
     * wait4 for the CPU time the worker used, for /metrics. */
    while ((pid = wait4(-1, &status, WNOHANG | WUNTRACED | WCONTINUED, &ru)) >
           0) {
        struct worker *w = zc__worker_by_pid(p, pid);
        char what[64];

        /* Stopped or continued, not gone: a stopped worker accepts
         * nothing, so its slot is steered around until it goes on. */
        if (WIFSTOPPED(status) || WIFCONTINUED(status)) {
            if (w)
                zc__watch_stopped(p, w, WIFSTOPPED(status));
            continue;
        }
        if (w) {
            unsigned long long id = w->id;
            unsigned slot = w->slot_index;

            on_worker_exit(p, w, status, &ru);
            /* What it started ends with it: said after its own exit. Its
             * group cannot be anyone else's yet, whatever is left of it
             * keeps the id. */
            zc__strays_worker_gone(p, pid, id, slot);
            continue;
        }
        /* Not a worker: one re-parented to us (we are a subreaper). */
        zc__worker_describe_exit(status, what, sizeof(what));
        zc__strays_reaped(p, pid, what);
    }
    /* Whoever died may have left orphans, now ours; a shutdown ends once
     * they are gone too. */
    zc__strays_scan(p);
    end_if_all_stopped(p);
}
