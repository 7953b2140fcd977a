/*
 * The queue watch: with a socket per slot, a worker that does not accept
 * (deaf, wedged, stopped, still starting after --ready auto's timer)
 * strands what the kernel queued on its socket, where a shared socket
 * would have let another worker take it. The watch finds such a worker
 * from its socket's queue (stuck.c judges), takes its slot out of the
 * steering so that new connections go elsewhere, moves what waited there
 * to the live slots (the eBPF program picks; balance.c), and steers to it
 * again once it takes connections. A worker its parent sees stopped
 * (SIGSTOP) is out at once, back when continued.
 *
 * Cost: nothing while the fleet is idle. Every socket of every group is
 * in the loop with EPOLLONESHOT: the first connection anywhere wakes the
 * primary once and starts a tick (ZC__WATCH_TICK_MS); each tick reads
 * every slot's queue (TCP_INFO) and count (one map lookup); when every
 * queue is empty and nothing is out, the sockets are armed again and the
 * tick stops. Under load that is a few system calls per slot per tick.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "base/log.h"
#include "primary/spread/balance.h"
#include "primary/spread/stuck.h"
#include "primary/spread/watch.h"

#define NS "zc:balance"

static bool watching(const struct zc_primary *p)
{
    return p->opt.balance == ZC_BALANCE_REUSEPORT && !p->shutting_down;
}

static void tick_soon(struct zc_primary *p, uint64_t at_us)
{
    struct zc__timer *t = &p->balance.watch_timer;

    if (zc__timer_is_active(t) && t->deadline_us <= at_us)
        return;
    if (zc__timer_start(&p->loop, t, at_us) < 0)
        zc_log(ZC_LOG_WARN, NS,
               "no memory for the queue watch's timer: a "
               "worker that stops accepting is not noticed until it is");
}

static void on_readable(struct zc__loop *l, struct zc__io *io, uint32_t ev)
{
    struct balance_io *b = zc__container_of(io, struct balance_io, io);

    uint64_t now = zc__now_us();

    (void) l;
    (void) ev;
    b->armed = false; /* EPOLLONESHOT: disarmed by the kernel */
    if (b->slot < b->p->n_slots && !b->p->slots[b->slot]->stuck.woke_us)
        b->p->slots[b->slot]->stuck.woke_us = now;
    tick_soon(b->p, now + ZC__WATCH_TICK_MS * 1000ull);
}

/* Registers or re-arms b's socket for slot k. */
static void arm(struct zc_primary *p, struct balance_listener *b, unsigned k)
{
    struct balance_io *io;

    if (k >= b->cap_io) {
        unsigned cap = b->cap;
        struct balance_io **v = realloc(b->io, cap * sizeof(*v));

        if (!v)
            return;
        for (unsigned i = b->cap_io; i < cap; i++)
            v[i] = NULL;
        b->io = v;
        b->cap_io = cap;
    }
    io = b->io[k];
    if (!io) {
        if (!(io = calloc(1, sizeof(*io))))
            return;
        *io = (struct balance_io) { .io = { .fd = -1, .cb = on_readable },
                                    .p = p,
                                    .slot = k };
        b->io[k] = io;
    }
    if (io->io.fd == -1) {
        io->io.fd = b->fds[k];
        if (zc__loop_add(&p->loop, &io->io, EPOLLIN | EPOLLONESHOT) < 0) {
            io->io.fd = -1;
            return;
        }
        io->armed = true;
    } else if (!io->armed &&
               zc__loop_mod(&p->loop, &io->io, EPOLLIN | EPOLLONESHOT) == 0) {
        io->armed = true;
    }
}

/* Whether slot k's queue is looked at: a ready worker's, not stopped (a
 * stopped one is back by SIGCHLD). A socket with nobody to take from it
 * (a dead slot's, one scaled away) would only wake the watch for
 * nothing; it is armed once the slot has a ready worker again. */
static bool watched(const struct zc_primary *p, unsigned k)
{
    const struct slot *s = k < p->n_slots ? p->slots[k] : NULL;

    return s && s->w && s->w->state == W_READY &&
           !(zc__slot_out(s) && s->stuck.stopped);
}

void zc__watch_arm(struct zc_primary *p)
{
    if (!watching(p) || zc__timer_is_active(&p->balance.watch_timer))
        return;
    for (size_t i = 0; i < p->n_listeners; i++) {
        struct balance_listener *b = &p->listeners[i].balance;

        for (unsigned k = 0; k < b->n; k++)
            if (b->fds[k] >= 0 && watched(p, k))
                arm(p, b, k);
    }
}

static void look(struct zc_primary *p, unsigned k, struct stuck_seen *seen)
{
    *seen = (struct stuck_seen) { 0 };
    for (size_t i = 0; i < p->n_listeners; i++) {
        const struct listener *ln = &p->listeners[i];

        if (k < ln->balance.n && ln->balance.fds[k] >= 0)
            seen->queued += zc__balance_queued(ln, k);
    }
    seen->counted = zc__balance_steered(p, k, &seen->steered);
}

/* Slots whose worker is ready and steered to. */
static unsigned n_in(const struct zc_primary *p)
{
    unsigned n = 0;

    for (unsigned k = 0; k < p->n_slots; k++)
        n += zc__slot_live(p->slots[k]);
    return n;
}

/* Out of the steering, then what waited moved (or kept, to be reset
 * later where it cannot move). */
static void take_out(struct zc_primary *p, struct slot *s, const char *why,
                     uint64_t now)
{
    struct stuck_slot *st = &s->stuck;
    struct stuck_seen seen;
    unsigned waited = st->queued;
    int moved = -EOPNOTSUPP;

    st->out = true;
    st->tries++;
    p->balance.taken_out++;
    zc__balance_steer(p);
    if (p->balance.migrate) {
        moved = zc__balance_flush(p, s->index);
        look(p, s->index, &seen);
        zc__stuck_rebase(st, &seen);
    }
    st->retry_us = now + zc__stuck_retry_ms(st->tries) * 1000ull;
    /* Never seen taking one, nor saying it would: nothing suggests it
     * ever will, so what waits for it is reset at the next look. */
    st->reset_us =
        now +
        (st->proven || s->w->said_ready ? ZC__STUCK_RESET_MS * 1000ull : 0);
    /* Said once per worker; the metrics count every time. */
    if (st->said) {
        zc_log(ZC_LOG_DEBUG, NS, "slot %u %s again: out of the steering%s",
               s->index, why,
               moved > 0 ? ", what waited on its socket moved" : "");
        return;
    }
    zc_log(ZC_LOG_WARN, NS,
           "worker %llu (slot %u, pid %d) %s: new "
           "connections go to the other slots until it %s%s",
           (unsigned long long) s->w->id, s->index, (int) s->w->pid, why,
           st->stopped ? "is continued" : "takes one",
           moved > 0     ? "; what waited on its socket went there too"
           : !waited     ? ""
           : st->stopped ? "; what waits on its socket is its own when it "
                           "is continued"
           : st->reset_us <= now
               ? "; what waits on its socket is reset (only the eBPF "
                 "round-robin, as root, can move it)"
               : "; what waits on its socket waits for it, and is reset if "
                 "it still takes none in 2 s (only the eBPF round-robin, as "
                 "root, can move it)");
    st->said = true;
}

static void put_back(struct zc_primary *p, struct slot *s, int level,
                     const char *why)
{
    struct stuck_slot *st = &s->stuck;

    zc__stuck_back(st);
    if (st->said)
        zc_log(level, NS,
               "worker %llu (slot %u, pid %d) %s: new "
               "connections go to it again",
               (unsigned long long) s->w->id, s->index, (int) s->w->pid, why);
    zc__balance_steer(p);
}

/* A slot out of the steering at a look: back, tried again, or its
 * queue reset. Its next deadline into *next. */
static void judge_out(struct zc_primary *p, struct slot *s,
                      enum stuck_verdict v, uint64_t now, uint64_t *next)
{
    struct stuck_slot *st = &s->stuck;
    unsigned n;

    if (v == STUCK_TAKES) {
        st->tries = 0;
        put_back(p, s, ZC_LOG_INFO, "takes connections again");
        return;
    }
    if (st->stopped)
        return; /* back when continued */
    /* Tried again once nothing of it waits (moved, or reset). */
    if (now >= st->retry_us && (p->balance.migrate || !st->queued)) {
        put_back(p, s, ZC_LOG_DEBUG, "is tried again");
        return;
    }
    if (!p->balance.migrate && st->queued && now >= st->reset_us) {
        n = zc__balance_reset_slot(p, s->index);
        zc_log(st->said_reset ? ZC_LOG_DEBUG : ZC_LOG_WARN, NS,
               "worker %llu (slot %u, pid %d) still takes none of the "
               "connections waiting on its socket: %u connection%s reset "
               "rather than left to time out",
               (unsigned long long) s->w->id, s->index, (int) s->w->pid, n,
               PLURAL(n));
        st->said_reset = true;
        st->queued = 0;
        st->reset_us = now + ZC__STUCK_RESET_MS * 1000ull;
    }
    if (st->retry_us < *next)
        *next = st->retry_us;
    if (!p->balance.migrate && st->queued && st->reset_us < *next)
        *next = st->reset_us;
}

/* "took none of the connections waiting on its socket for 500 ms". */
static const char *deaf_why(const struct slot *s, char *buf, size_t size)
{
    bool trusted = s->stuck.proven || s->w->said_ready;

    snprintf(buf, size,
             "took none of the connections waiting on its socket for %u "
             "ms%s",
             trusted ? ZC__STUCK_AFTER_MS : ZC__STUCK_UNPROVEN_MS,
             trusted ? ""
                     : " (ready by --ready's timer, never seen taking one)");
    return buf;
}

static void say_all_stuck(struct zc_primary *p, const struct slot *s)
{
    p->balance.all_stuck = true;
    if (p->balance.said_all_stuck)
        return;
    p->balance.said_all_stuck = true;
    zc_log(ZC_LOG_ERROR, NS,
           "no worker takes connections: worker %llu (slot "
           "%u, pid %d), the last one steered to, takes none of what waits "
           "on its socket and there is nobody to move it to; /readyz says "
           "so until one takes a connection",
           (unsigned long long) s->w->id, s->index, (int) s->w->pid);
}

static void on_tick(struct zc__loop *l, struct zc__timer *t)
{
    struct zc_primary *p =
        zc__container_of(t, struct zc_primary, balance.watch_timer);
    uint64_t now = zc__now_us(), next = UINT64_MAX;
    bool busy = false, any_takes = false;
    struct slot *stuck = NULL;
    char deaf[160];

    (void) l;
    if (!watching(p))
        return;
    p->balance.watch_ticks++;
    for (unsigned k = 0; k < p->n_slots; k++) {
        struct slot *s = p->slots[k];
        struct stuck_seen seen;
        enum stuck_verdict v;

        if (!s->w || s->w->state != W_READY)
            continue;
        if (s->stuck.worker != s->w->id)
            zc__stuck_reset(&s->stuck, s->w->id);
        look(p, k, &seen);
        v = zc__stuck_judge(&s->stuck, &seen, s->w->said_ready, now);
        any_takes |= v == STUCK_TAKES;
        busy |= seen.queued > 0 && watched(p, k);
        if (s->stuck.out)
            judge_out(p, s, v, now, &next);
        else if (v == STUCK_DEAF && n_in(p) > 1)
            take_out(p, s, deaf_why(s, deaf, sizeof(deaf)), now);
        else if (v == STUCK_DEAF)
            stuck = s;
    }
    /* Judged afresh at every look: the stuck worker may have taken one,
     * died or been replaced, or what waited may be gone. */
    if (stuck)
        say_all_stuck(p, stuck);
    else if (p->balance.all_stuck) {
        p->balance.all_stuck = false;
        p->balance.said_all_stuck = false;
        zc_log(ZC_LOG_INFO, NS, "%s",
               any_takes ? "a worker takes connections again"
                         : "no connection waits for a stuck worker any more");
    }
    if (busy)
        next = now + ZC__WATCH_TICK_MS * 1000ull < next
                   ? now + ZC__WATCH_TICK_MS * 1000ull
                   : next;
    if (next != UINT64_MAX) {
        tick_soon(p, next);
        return;
    }
    zc__watch_arm(p);
}

void zc__watch_start(struct zc_primary *p)
{
    zc__timer_init(&p->balance.watch_timer, on_tick);
}

void zc__watch_stopped(struct zc_primary *p, struct worker *w, bool stopped)
{
    struct slot *s = w->slot;
    uint64_t now = zc__now_us();

    if (!watching(p) || !s || s->w != w || w->state != W_READY)
        return;
    if (s->stuck.worker != w->id)
        zc__stuck_reset(&s->stuck, w->id);
    s->stuck.stopped = stopped;
    if (stopped && !s->stuck.out && n_in(p) > 1)
        take_out(p, s, "is stopped", now);
    else if (!stopped && s->stuck.out)
        put_back(p, s, ZC_LOG_INFO, "is continued");
    tick_soon(p, now + ZC__WATCH_TICK_MS * 1000ull);
}
