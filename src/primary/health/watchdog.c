/*
 * The watchdog (--watchdog DUR): a worker that has not pinged for a period
 * is hung, however alive its process looks. Linked workers ping by adding
 * one to a cell of the memory they share with us (their library does it
 * at every turn of its loop; no system call); any other worker sends
 * WATCHDOG=1 on NOTIFY_SOCKET, as systemd's protocol has it. A worker is
 * watched from its first ping, or from readiness with --watchdog-require,
 * so one that never pings is never judged by a rule it does not know.
 *
 * One timer, once a period, judges every serving worker: silent since the
 * last look, and the look before it, is silent for a whole period. So a
 * worker that stops is caught within two periods, and an idle fleet wakes
 * the primary once a period. A miss is logged with what the worker said
 * last; then --watchdog-signal (ABRT: a core, a stack), SIGKILL after
 * --watchdog-grace, and the slot goes on as if its worker had died: the
 * next one is started at once, without waiting for the hung one to go
 * (after the backoff if the slot failed just before), and it is a failure
 * for the backoff and --give-up.
 *
 * Starvation is not a hang: when our own timer fires late by more than
 * half a period, the host did not schedule us, nor maybe the workers, and
 * the silence proves nothing. That look judges nobody and says so; every
 * watched worker gets one more period.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "base/compat.h"
#include "base/log.h"
#include "metrics/layout.h"
#include "primary/core/events.h"
#include "primary/health/watchdog.h"
#include "primary/life/respawn.h"
#include "primary/life/worker.h"
#include "primary/spread/balance.h"
#include "proto/notify.h"

#define NS ZC__PNS

static bool serving(const struct worker *w)
{
    return w->pid > 0 && w->slot && w->slot->w == w && !w->health.hung;
}

static void heard(struct worker *w, uint64_t now)
{
    struct health_worker *h = &w->health;

    if (h->missed)
        zc_log(ZC_LOG_INFO, NS, "worker %llu (slot %u, pid %d) pinged its "
               "watchdog again after %llu ms", (unsigned long long) w->id,
               w->slot_index, (int) w->pid,
               (unsigned long long) ((now - h->heard_us) / 1000));
    h->missed = false;
    h->heard_us = now;
}

/* w missed: logged, counted, told; then killed and replaced, or not. */
static void missed(struct zc_primary *p, struct worker *w, uint64_t now,
                   const char *how)
{
    struct health_worker *h = &w->health;
    int action = p->opt.watchdog_action;
    uint64_t silent_ms = (now - h->heard_us) / 1000;
    struct slot *s = w->slot;
    const char *sig = zc__signal_name(p->opt.watchdog_signal);
    zc_event e = { .type = ZC_EVENT_WATCHDOG, .worker_id = w->id,
                   .slot = (int) w->slot_index, .pid = w->pid,
                   .generation = w->generation, .status = action,
                   .delay_ms = silent_ms };
    char what[320], last[160] = "";

    if (w->status[0])
        snprintf(last, sizeof(last), ", last status: %s", w->status);
    p->health.misses[action]++;
    h->missed = true;
    zc__emit(p, &e);
    if (action == ZC_WATCHDOG_LOG) {
        zc_log(ZC_LOG_WARN, NS, "worker %llu (slot %u, pid %d) missed its "
               "watchdog: %s %llu ms (--watchdog %u ms)%s; "
               "--watchdog-action log: leaving it running",
               (unsigned long long) w->id, w->slot_index, (int) w->pid, how,
               (unsigned long long) silent_ms, p->opt.watchdog_ms, last);
        return;
    }
    zc_log(ZC_LOG_WARN, NS,
           "worker %llu (slot %u, pid %d) missed its watchdog: "
           "%s %llu ms (--watchdog %u ms)%s; sending it SIG%s, SIGKILL in "
           "%u ms",
           (unsigned long long) w->id, w->slot_index, (int) w->pid, how,
           (unsigned long long) silent_ms, p->opt.watchdog_ms, last,
           sig ? sig : "?", p->opt.watchdog_grace_ms);
    h->hung = true;
    zc__worker_kill_after(p, w, p->opt.watchdog_signal,
                          p->opt.watchdog_grace_ms);
    snprintf(what, sizeof(what), "worker %llu (slot %u, pid %d) missed its "
             "watchdog", (unsigned long long) w->id, s->index, (int) w->pid);
    zc__respawn_hung_worker(p, s, what);
    zc__balance_slot_lost(p, s);
}

/* One look at w: its cell, then the rule. */
static void judge(struct zc_primary *p, struct worker *w, uint64_t now)
{
    struct health_worker *h = &w->health;
    const struct zc__mhead *m = w->metrics.map;

    if (!serving(w))
        return;
    zc_log(ZC_LOG_TRACE, NS,
           "watchdog: worker %llu, cell %s, heard %llu ms ago",
           (unsigned long long) w->id, m ? "shared" : "none",
           h->heard_us ? (unsigned long long) ((now - h->heard_us) / 1000)
                       : 0ull);
    if (m) {
        uint64_t n =
            atomic_load_explicit(&((struct zc__mhead *) (uintptr_t) m)->pings,
                                 memory_order_relaxed);

        if (n != h->pings_seen) {
            h->pings_seen = n;
            heard(w, now);
            return;
        }
    }
    if (!h->heard_us) {
        if (p->opt.watchdog_require && w->state == W_READY)
            h->heard_us = now;
        return;
    }
    /* A millisecond of slack: the look before was a period ago, give or
     * take the timer's own precision. */
    if (!h->missed && now - h->heard_us + 1000 >= p->opt.watchdog_ms * 1000ull)
        missed(p, w, now, "silent for");
}

static void on_tick(struct zc__loop *l, struct zc__timer *t)
{
    struct zc_primary *p = zc__container_of(t, struct zc_primary, health.timer);
    uint64_t now = zc__now_us(), period = p->opt.watchdog_ms * 1000ull;
    uint64_t late =
        now > p->health.tick_due_us ? now - p->health.tick_due_us : 0;
    struct worker *next;

    (void) l;
    if (p->shutting_down)
        return;             /* draining has its own deadlines */
    p->health.tick_due_us = now + period;
    if (zc__timer_start(&p->loop, t, p->health.tick_due_us) < 0)
        zc_log(ZC_LOG_ERROR, NS, "out of memory for the watchdog's timer: "
               "workers are no longer watched");
    if (late > period / 2) {
        zc_log(ZC_LOG_WARN, NS,
               "the primary itself was not scheduled for %llu ms of its "
               "%u ms watchdog period (the host is starved or we were "
               "stopped): judging no worker until the next period",
               (unsigned long long) (late / 1000), p->opt.watchdog_ms);
        for (struct worker *w = p->workers; w; w = w->next)
            if (w->health.heard_us)
                w->health.heard_us = now;
        return;
    }
    /* missed() may retire w (it stays on the list) and spawn a worker
     * (added at the head, behind us): the walk is safe. */
    for (struct worker *w = p->workers; w; w = next) {
        next = w->next;
        judge(p, w, now);
    }
}

void zc__watchdog_start(struct zc_primary *p)
{
    zc__timer_init(&p->health.timer, on_tick);
    if (!p->opt.watchdog_ms)
        return;
    p->health.tick_due_us = zc__now_us() + p->opt.watchdog_ms * 1000ull;
    (void) zc__timer_start(&p->loop, &p->health.timer, p->health.tick_due_us);
    zc_log(ZC_LOG_INFO, NS, "watchdog: a worker silent for %u ms is %s; "
           "linked workers ping from their loop, others send WATCHDOG=1 "
           "(watched from %s)", p->opt.watchdog_ms,
           p->opt.watchdog_action == ZC_WATCHDOG_LOG ? "logged"
                                                     : "killed and replaced",
           p->opt.watchdog_require ? "readiness" : "their first ping");
}

void zc__watchdog_notify(struct zc_primary *p, struct worker *w, pid_t pid,
                         const char *msg)
{
    char v[32];

    /* Its children may say READY=1 for it (a wrapper's), but a ping is
     * the worker's own: a child pinging for a hung parent hides it. */
    if (pid != w->pid) {
        zc__watchdog_stranger(p, pid, msg);
        return;
    }

    if (zc__notify_get(msg, "WATCHDOG_USEC", v, sizeof(v)) &&
        !p->health.said_usec) {
        p->health.said_usec = true;
        zc_log(ZC_LOG_WARN, NS, "worker %llu (slot %u) sent WATCHDOG_USEC=%s: "
               "ignored, the period is the fleet's (--watchdog %u ms) for "
               "every worker", (unsigned long long) w->id, w->slot_index, v,
               p->opt.watchdog_ms);
    }
    if (!p->opt.watchdog_ms || !zc__notify_get(msg, "WATCHDOG", v, sizeof(v)) ||
        !serving(w))
        return;
    if (strcmp(v, "1") == 0)
        heard(w, zc__now_us());
    else if (strcmp(v, "trigger") == 0 && !w->health.missed) {
        /* systemd's way for a service to say it is broken. */
        if (!w->health.heard_us)
            w->health.heard_us = zc__now_us();
        missed(p, w, zc__now_us(), "asked for it (WATCHDOG=trigger) after");
    }
}

void zc__watchdog_stranger(struct zc_primary *p, pid_t pid, const char *msg)
{
    if (!p->opt.watchdog_ms || p->health.said_stranger ||
        !zc__notify_get(msg, "WATCHDOG", NULL, 0))
        return;
    p->health.said_stranger = true;
    zc_log(ZC_LOG_WARN, NS, "WATCHDOG= from pid %d, which is not a worker: "
           "ignored (only a worker's own pid, its WATCHDOG_PID, pings, not "
           "its children; said once)", (int) pid);
}
