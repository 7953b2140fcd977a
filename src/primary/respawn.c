/*
 * Slots and their respawns: a slot is a place in the fleet (0..N-1), not a
 * process. When its worker exits on its own, this decides: respawn now,
 * respawn after a backoff that grows with the slot's failures in a row, or
 * stop for good; and when nothing is left to supervise, the fleet ends.
 * Keying the backoff on the slot, not on the dead worker (as the spec
 * does), is what makes a crash loop actually back off.
 *
 *   slot  EMPTY --spawn--> RUNNING --crash--> BACKOFF --timer--> RUNNING
 *                             `-- exit 0, or --respawn never --> DONE
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "primary/events.h"
#include "primary/respawn.h"
#include "primary/sticky.h"
#include "primary/worker.h"

#define NS ZC__PNS

uint64_t zc__backoff_ms(uint32_t base_ms, double factor, uint32_t cap_ms,
                        unsigned crashes)
{
    double d = base_ms;

    for (unsigned i = 1; i < crashes && d < cap_ms; i++)
        d *= factor;
    if (!(d <= cap_ms))     /* also catches NaN */
        d = cap_ms;
    return (uint64_t) d;
}

void zc__respawn_schedule(struct zc_primary *p, struct slot *s, uint64_t delay_ms)
{
    zc_event e = { .type = ZC_EVENT_RESPAWN, .worker_id = s->last_id,
                   .slot = (int) s->index, .pid = -1,
                   .generation = s->generation, .delay_ms = delay_ms };

    s->state = SLOT_BACKOFF;
    s->backoff_ms = delay_ms;
    s->restarts++;
    if (zc__timer_start(&p->loop, &s->timer,
                        zc__now_us() + delay_ms * 1000u) < 0) {
        zc_log(ZC_LOG_ERROR, NS, "slot %u: out of memory for its respawn "
               "timer, leaving it empty", s->index);
        s->state = SLOT_DONE;
        p->any_failed = true;
        return;
    }
    zc__emit(p, &e);
}

/* A crash, or a failed start: count it on the slot and back off. */
uint64_t zc__respawn_count_crash(struct zc_primary *p, struct slot *s)
{
    uint64_t now = zc__now_us();

    /* A worker that stayed ready long enough wipes the slate; checked at
     * the crash rather than with a timer, so a stable fleet never wakes. */
    if (s->ready_us && now - s->ready_us >= p->opt.backoff_reset_ms * 1000ull)
        s->crashes = 0;
    if (s->crashes < UINT_MAX)
        s->crashes++;
    return zc__backoff_ms(p->opt.respawn_delay_ms, p->opt.backoff_factor,
                          p->opt.max_respawn_delay_ms, s->crashes);
}

static void on_slot_timer(struct zc__loop *l, struct zc__timer *t)
{
    struct slot *s = zc__container_of(t, struct slot, timer);

    (void) l;
    if (s->state == SLOT_BACKOFF)
        zc__respawn_spawn_slot(s->p, s);
}

static void spawn_failed(struct zc_primary *p, struct slot *s, const char *what,
                         int r)
{
    uint64_t delay = zc__respawn_count_crash(p, s);

    zc_log(ZC_LOG_ERROR, NS, "worker %llu (slot %u) could not be started: %s: "
           "%s; retrying in %llu ms (failure %u in a row)",
           (unsigned long long) s->last_id, s->index, what, zc_strerror(r),
           (unsigned long long) delay, s->crashes);
    zc__respawn_schedule(p, s, delay);
}

void zc__respawn_spawn_slot(struct zc_primary *p, struct slot *s)
{
    char what[PATH_MAX + 32];
    struct worker *w;
    int r = zc__worker_spawn(p, s, s->generation, "", &w, what, sizeof(what));

    if (r < 0) {
        spawn_failed(p, s, what, r);
        return;
    }
    s->w = w;
    s->state = SLOT_RUNNING;
    s->ready_us = 0;
    zc__worker_ready_policy(p, w);
}

/* A slot whose serving worker exited on its own: respawn, or not. */
void zc__respawn_lost_worker(struct zc_primary *p, struct slot *s, bool clean,
                             const char *what)
{
    uint64_t delay;

    s->w = NULL;
    if (s->next) {
        /* Its replacement takes the slot when ready; if it fails instead,
         * zc__reload_failed() schedules a respawn. */
        s->state = SLOT_EMPTY;
        zc_log(ZC_LOG_WARN, NS, "%s; its replacement, worker %llu, is starting",
               what, (unsigned long long) s->next->id);
        return;
    }
    if (p->opt.respawn == ZC_RESPAWN_NEVER ||
        (clean && p->opt.respawn == ZC_RESPAWN_ON_FAILURE)) {
        s->state = SLOT_DONE;
        p->any_failed |= !clean;
        zc_log(clean ? ZC_LOG_INFO : ZC_LOG_WARN, NS, "%s; not restarting it (%s)",
               what, clean ? "it stopped on purpose" : "--respawn never");
        zc__respawn_check_end(p);
        return;
    }
    if (clean) {
        s->crashes = 0;
        delay = p->opt.respawn_delay_ms;
    } else {
        delay = zc__respawn_count_crash(p, s);
    }
    zc_log(clean ? ZC_LOG_INFO : ZC_LOG_WARN, NS, "%s; restarting in %llu ms "
           "(failure %u in a row)", what, (unsigned long long) delay, s->crashes);
    zc__respawn_schedule(p, s, delay);
}

/* Everything ended on its own (exit 0 without --respawn always, or
 * --respawn never): nothing is left to supervise. */
void zc__respawn_check_end(struct zc_primary *p)
{
    if (p->n_alive > 0 || p->reload.active)
        return;
    for (unsigned i = 0; i < p->n_slots; i++)
        if (p->slots[i]->state != SLOT_DONE && p->slots[i]->state != SLOT_EMPTY)
            return;
    zc_log(p->any_failed ? ZC_LOG_WARN : ZC_LOG_INFO, NS,
           "no worker is running and none will be restarted; exiting with "
           "status %d", p->any_failed ? 1 : 0);
    p->exit_status = p->any_failed ? 1 : 0;
    zc__loop_stop(&p->loop);
}

/* Every worker is reaped: nothing can be left behind, so we may exit. */
void zc__respawn_all_stopped(struct zc_primary *p)
{
    zc_log(ZC_LOG_INFO, NS, "all workers stopped in %llu ms, exiting",
           (unsigned long long) ((zc__now_us() - p->shutdown_start_us) / 1000));
    p->exit_status = 0;
    zc__loop_stop(&p->loop);
}

struct slot *zc__respawn_slot_new(struct zc_primary *p, unsigned index)
{
    struct slot *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->p = p;
    s->index = index;
    s->generation = p->generation;
    zc__timer_init(&s->timer, on_slot_timer);
    zc__sticky_slot_init(s);
    return s;
}

int zc__respawn_grow_slots(struct zc_primary *p, unsigned n)
{
    unsigned cap = p->cap_slots ? p->cap_slots : 4;
    struct slot **v;

    if (n <= p->cap_slots)
        return 0;
    while (cap < n)
        cap *= 2;
    v = realloc(p->slots, cap * sizeof(*v));
    if (!v)
        return -ENOMEM;
    memset(v + p->cap_slots, 0, (cap - p->cap_slots) * sizeof(*v));
    p->slots = v;
    p->cap_slots = cap;
    return 0;
}
