/*
 * Scaling: slots added (each starts a worker at once, or with the first
 * spawn round) or removed from the top (their workers drain like retired
 * ones, and sticky clients waiting for them are hashed again).
 */
#include <errno.h>
#include <stdlib.h>

#include "base/log.h"
#include "primary/life/respawn.h"
#include "primary/life/scale.h"
#include "primary/life/walk.h"
#include "primary/life/worker.h"
#include "primary/spread/balance.h"
#include "primary/spread/router.h"

#define NS ZC__PNS

/* The highest slot goes; its workers drain like retired ones. */
static void remove_slot(struct zc_primary *p, struct slot *s)
{
    zc__timer_stop(&p->loop, &s->timer);
    if (s->next) {
        p->walk.stepping--;
        zc__worker_retire(p, s->next);
    }
    if (s->w) {
        zc_log(ZC_LOG_INFO, NS, "slot %u removed: retiring worker %llu "
               "(pid %d)", s->index, (unsigned long long) s->w->id,
               (int) s->w->pid);
        zc__worker_retire(p, s->w);
    } else {
        zc_log(ZC_LOG_INFO, NS, "slot %u removed (it had no worker running)",
               s->index);
    }
    zc__router_slot_removed(p, s);
    /* Nothing queued on it waits for a worker that will not come (at once
     * if it had none; else when its last one is gone, lifecycle.c). */
    zc__balance_abandon(p, s->index, "scaled away");
    /* Kept in slots[], past n_slots: its counters, if it comes back. */
}

int zc__scale_to(struct zc_primary *p, unsigned n, const char *by)
{
    unsigned from = p->n_slots;
    int r;

    if (n < 1 || n > ZC_MAX_WORKERS)
        return -EINVAL;
    if (p->shutting_down || p->lame_duck) {
        zc_log(ZC_LOG_WARN, NS, "%s: shutting down, not scaling", by);
        return -ECANCELED;
    }
    if (n == from)
        return 0;
    if (zc__respawn_grow_slots(p, n) < 0) {
        zc_log(ZC_LOG_ERROR, NS, "%s: no memory to scale to %u worker%s", by,
               n, PLURAL(n));
        return -ENOMEM;
    }
    /* A new slot's socket joins each SO_REUSEPORT group first (logged). */
    r = zc__balance_scale(p, n);
    if (r < 0) {
        zc_log(ZC_LOG_ERROR, NS, "%s: staying at %u worker%s", by, from,
               PLURAL(from));
        return r;
    }
    zc_log(ZC_LOG_INFO, NS, "%s: scaling from %u to %u worker%s", by, from, n,
           PLURAL(n));
    while (p->n_slots > n)
        remove_slot(p, p->slots[--p->n_slots]);
    while (p->n_slots < n) {
        struct slot *s = zc__respawn_slot_new(p, p->n_slots);

        if (!s) {
            zc_log(ZC_LOG_ERROR, NS, "no memory for slot %u: staying at %u "
                   "workers", p->n_slots, p->n_slots);
            break;
        }
        p->slots[p->n_slots++] = s;
        p->announced_ready = false;
        /* From primary_init, the first spawn round starts it. */
        if (p->started)
            zc__respawn_spawn_slot(p, s);
    }
    zc__walk_pump(p);
    return 0;
}
