/*
 * Recycling: planned replacement that users never see. A worker up
 * --max-lifetime, or whose resident memory is over --max-memory (read from
 * /proc every MEMORY_EVERY_MS), is replaced the way a reload replaces a
 * slot: the new worker first, ready, then the old one drains. So the fleet
 * never has fewer ready workers than before, and requests in flight on the
 * old one finish (a memory limit that kills, as PM2's does, loses them).
 *
 * Each worker's limits are its own: lowered by a random part of up to
 * --recycle-jitter when it starts, so workers started together do not all
 * come due together. Due workers then wait their turn: at most
 * --recycle-concurrency at once, at least --recycle-spacing between two
 * starts, never during a reload, a restart or a shutdown (they wait, and
 * go after it). Recycles are counted apart from failures.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/compat.h"
#include "base/log.h"
#include "primary/core/events.h"
#include "primary/core/sample.h"
#include "primary/health/health.h"
#include "primary/health/recycle.h"
#include "primary/life/respawn.h"
#include "primary/life/walk.h"

#define NS ZC__PNS

/* How often resident memory is read (a /proc read per worker, ~8 us). */
#define MEMORY_EVERY_MS 2000
/* How soon a due recycle held back by a walk under way looks again. */
#define WAIT_WALK_MS 500

static bool serving(const struct worker *w)
{
    return w->pid > 0 && w->state == W_READY && w->slot && w->slot->w == w &&
           !w->slot->next;
}

/* w's own limits, drawn once: the options less a random part. */
static void limits(struct zc_primary *p, struct worker *w)
{
    struct health_worker *h = &w->health;
    double keep;

    if (h->limits_set)
        return;
    h->limits_set = true;
    h->recycle_reason = -1;
    keep = 1.0 - p->opt.recycle_jitter * zc__respawn_uniform(p);
    if (p->opt.max_lifetime_ms)
        h->lifetime_end_us =
            w->started_us +
            (uint64_t) ((double) p->opt.max_lifetime_ms * 1000.0 * keep);
    if (p->opt.max_memory)
        h->memory_limit = (uint64_t) ((double) p->opt.max_memory * keep);
}

/* "812 MiB", "31.4 MiB", "900 KiB" */
static void mib(char *buf, size_t size, uint64_t n)
{
    if (n >= 100ull << 20)
        snprintf(buf, size, "%llu MiB", (unsigned long long) (n >> 20));
    else if (n >= 1ull << 20)
        snprintf(buf, size, "%.1f MiB", (double) n / 1048576.0);
    else
        snprintf(buf, size, "%llu KiB", (unsigned long long) (n >> 10));
}

/* Marks what is due; returns the earliest lifetime end still to come. */
static uint64_t find_due(struct zc_primary *p, uint64_t now, bool memory)
{
    long page = sysconf(_SC_PAGESIZE);
    uint64_t next = 0;
    int proc = memory ? zc__proc_open() : -1;

    for (struct worker *w = p->workers; w; w = w->next) {
        struct health_worker *h = &w->health;
        char a[32], b[32];
        uint64_t cpu;
        long long pages;

        if (!serving(w))
            continue;
        limits(p, w);
        if (h->recycle_reason >= 0)
            continue;
        if (h->lifetime_end_us && now >= h->lifetime_end_us) {
            h->recycle_reason = ZC_RECYCLE_LIFETIME;
            zc_log(ZC_LOG_INFO, NS, "worker %llu (slot %u) is up %llu s, past "
                   "its lifetime (--max-lifetime %u ms, less %.0f%% jitter); "
                   "recycling", (unsigned long long) w->id, w->slot_index,
                   (unsigned long long) ((now - w->started_us) / 1000000),
                   p->opt.max_lifetime_ms, 100.0 - 100.0 *
                   (double) (h->lifetime_end_us - w->started_us) /
                   ((double) p->opt.max_lifetime_ms * 1000.0));
            continue;
        }
        if (h->lifetime_end_us && (!next || h->lifetime_end_us < next))
            next = h->lifetime_end_us;
        if (!h->memory_limit || !memory)
            continue;
        w->sample.at_us = 0;    /* a fresh figure, not status's cached one */
        if (zc__sample_worker(w, proc, now, &cpu, &pages) &&
            (uint64_t) pages * (uint64_t) page > h->memory_limit) {
            h->recycle_reason = ZC_RECYCLE_MEMORY;
            mib(a, sizeof(a), (uint64_t) pages * (uint64_t) page);
            mib(b, sizeof(b), h->memory_limit);
            zc_log(ZC_LOG_INFO, NS, "worker %llu (slot %u) uses %s > %s "
                   "(--max-memory, less its jitter); recycling",
                   (unsigned long long) w->id, w->slot_index, a, b);
        }
    }
    if (proc >= 0)
        (void) close(proc);
    return next;
}

static bool picked(const uint64_t *pick, unsigned slot)
{
    return (pick[slot / 64] >> (slot % 64)) & 1;
}

/* The due worker that started first, not picked yet: the first due go
 * first, whatever their replacements' lifetimes say. */
static struct worker *oldest_due(struct zc_primary *p, const uint64_t *pick)
{
    struct worker *best = NULL;

    for (struct worker *w = p->workers; w; w = w->next)
        if (serving(w) && w->health.limits_set &&
            w->health.recycle_reason >= 0 && !picked(pick, w->slot_index) &&
            (!best || w->started_us < best->started_us))
            best = w;
    return best;
}

/* Starts the due ones the rules allow; returns when to look again for
 * them (0: nothing is waiting). */
static uint64_t start_due(struct zc_primary *p, uint64_t now)
{
    uint64_t pick[ZC_MAX_WORKERS / 64] = { 0 }, spacing_end;
    struct health_fleet *H = &p->health;
    unsigned n = 0, waiting = 0;
    int r;

    for (struct worker *w = p->workers; w; w = w->next)
        waiting += serving(w) && w->health.limits_set &&
                   w->health.recycle_reason >= 0;
    if (!waiting)
        return 0;
    if (p->walk.active)
        return now + WAIT_WALK_MS * 1000ull;
    spacing_end = H->recycle_started_us + p->opt.recycle_spacing_ms * 1000ull;
    if (H->recycle_started_us && now < spacing_end)
        return spacing_end;
    while (n < p->opt.recycle_concurrency) {
        struct worker *w = oldest_due(p, pick);
        struct health_worker *h;
        zc_event e;

        if (!w)
            break;
        h = &w->health;
        e = (zc_event) { .type = ZC_EVENT_RECYCLE, .worker_id = w->id,
                         .slot = (int) w->slot_index, .pid = w->pid,
                         .generation = w->generation };
        pick[w->slot_index / 64] |= 1ull << (w->slot_index % 64);
        e.status = h->recycle_reason;
        H->recycles[h->recycle_reason]++;
        zc__emit(p, &e);
        n++;
    }
    r = zc__walk_start(p, WALK_RECYCLE, pick, "recycling");
    if (r < 0)
        return now + WAIT_WALK_MS * 1000ull;
    H->recycle_started_us = now;
    return waiting > n ? now + p->opt.recycle_spacing_ms * 1000ull : 0;
}

static void on_timer(struct zc__loop *l, struct zc__timer *t)
{
    struct zc_primary *p =
        zc__container_of(t, struct zc_primary, health.recycle_timer);
    struct health_fleet *H = &p->health;
    uint64_t now = zc__now_us(), next, due;
    bool memory = p->opt.max_memory && now >= H->memory_due_us;

    (void) l;
    if (p->shutting_down)
        return;
    if (memory)
        H->memory_due_us = now + MEMORY_EVERY_MS * 1000ull;
    next = find_due(p, now, memory);
    due = start_due(p, now);
    if (due && (!next || due < next))
        next = due;
    if (p->opt.max_memory && (!next || H->memory_due_us < next))
        next = H->memory_due_us;
    /* Workers started since are picked up at the next look at the
     * latest; zc__recycle_ready() brings a sooner end forward. */
    if (next && zc__timer_start(&p->loop, t, next) < 0)
        zc_log(ZC_LOG_ERROR, NS, "out of memory for the recycling timer: "
               "workers are no longer recycled");
}

void zc__recycle_start(struct zc_primary *p)
{
    zc__timer_init(&p->health.recycle_timer, on_timer);
    if (!p->opt.max_lifetime_ms && !p->opt.max_memory)
        return;
    p->health.memory_due_us = zc__now_us() + MEMORY_EVERY_MS * 1000ull;
    (void) zc__timer_start(&p->loop, &p->health.recycle_timer,
                           p->health.memory_due_us);
}

void zc__recycle_ready(struct zc_primary *p, struct worker *w)
{
    struct zc__timer *t = &p->health.recycle_timer;

    if (!p->opt.max_lifetime_ms)
        return;
    limits(p, w);
    if (!zc__timer_is_active(t) || t->deadline_us > w->health.lifetime_end_us)
        (void) zc__timer_start(&p->loop, t, w->health.lifetime_end_us);
}
