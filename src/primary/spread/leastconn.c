/*
 * Least-connections balancing (--balance least-conn): the primary accepts
 * (accept.c) and hands each connection, over the worker's link as a
 * "zc.conn" frame (proto/handoff.c), to the ready worker with the fewest
 * open. For long-lived connections (WebSocket, SSE), where counts matter
 * more than hashing.
 *
 * A worker's open count is what it was handed minus what it says it has
 * closed: zc_self_conn_closed() adds to a cell of the registry it shares
 * with the primary, so the primary reads closes without a message or a
 * system call. A worker that never says has every connection counted as
 * open, and the counts still rise together: connections go round in turn.
 * A worker whose link is full (it falls behind reading its hand-offs) is
 * passed over until the link drains. Ties go round, from after the last
 * one chosen.
 *
 * Backpressure: with max_conns_per_worker, a worker that has that many is
 * passed over; when no worker can take a connection, what was accepted
 * waits here (at most two batches) and accepting is held, so the kernel's
 * backlog holds the rest. Closes come with no wake-up, so a held primary
 * looks again every HOLD_RETRY_MS, and at once when a worker becomes ready
 * or its link drains.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "metrics/layout.h"
#include "primary/core/link.h"
#include "primary/core/node.h"
#include "primary/spread/accept.h"
#include "primary/spread/leastconn.h"
#include "primary/spread/router.h"
#include "proto/handoff.h"
#include "proto/types.h"

#define NS "zc:balance"
#define PENDING_MAX (2 * ZC__ACCEPT_BATCH)
#define HOLD_RETRY_MS 10
/* Full, and no close ever said, for this long: its count is not trusted. */
#define UNTRUSTED_AFTER_US 1000000ull

/* The router's state (p->router_state): one router runs at a time. */
#define LEAST(p) ((struct zc__least *) (p)->router_state)

struct least_stats {
    uint64_t handoffs;          /* connections handed to a worker */
    uint64_t waiting;           /* accepted, waiting for a worker now */
    uint64_t holds;             /* times accepting was held: all full */
    uint64_t closed;            /* closed without a worker (shutdown) */
    uint64_t closed_proxy;      /* bad, late or missing PROXY header */
    uint64_t accept_pauses;     /* out of fds or memory */
};

struct zc__least {
    struct zc_primary *p;
    bool stopped;
    bool held;
    /* accepted, waiting for a worker that can take them: a ring */
    struct conn pending[PENDING_MAX];
    size_t head, n_pending;
    struct zc__timer hold_timer;
    unsigned next;              /* where the next search for a worker starts */
    struct least_stats stats;
    bool said_hopeless;         /* "no worker can take them", said */
    bool said_no_closes;        /* a worker that says no close, said once */
};

/* A close is said by a worker's zc_self_conn_closed(); one handed this
 * many (or its limit) that said none is told about. */
#define CLOSES_EXPECTED 64

/* What it has said it closed, from the cell it shares with us. */
static uint64_t closes_of(const struct worker *w)
{
    const struct zc__mhead *h = w->metrics.map;

    return h ? atomic_load_explicit(&((struct zc__mhead *) (uintptr_t) h)
                                         ->conns_closed,
                                    memory_order_relaxed)
             : 0;
}

uint64_t zc__least_open(const struct worker *w)
{
    uint64_t closed = closes_of(w);

    /* A worker cannot close more than it was given; one that says so is
     * wrong, and counts as having none open. */
    return closed < w->balance.handed ? w->balance.handed - closed : 0;
}

/*
 * Whether w is held back by --max-conns-per-worker. A worker full that has
 * never said a close (one not linked with libzcluster, one that does not
 * call zc_self_conn_closed()) may hold its connections for ever, or may
 * just not say: after a second full, its count is not trusted to fall and
 * the limit lets it go, said once, so that no connection waits for ever
 * on a count that cannot go down. A close said later trusts it again.
 */
static bool full(struct zc__least *lc, struct worker *w)
{
    const struct zc_primary *p = lc->p;
    uint64_t now;

    if (!p->opt.max_conns_per_worker ||
        zc__least_open(w) < p->opt.max_conns_per_worker) {
        w->balance.full_since_us = 0;
        return false;
    }
    if (closes_of(w)) {
        w->balance.untrusted = false;
        return true;
    }
    if (w->balance.untrusted)
        return false;
    now = zc__now_us();
    if (!w->balance.full_since_us)
        w->balance.full_since_us = now;
    if (now - w->balance.full_since_us < UNTRUSTED_AFTER_US)
        return true;
    w->balance.untrusted = true;
    zc_log(ZC_LOG_WARN, NS, "worker %llu (slot %u, pid %d) has held %u "
           "connections for %llu ms and said none closed: its count may "
           "never fall, so --max-conns-per-worker no longer holds it back "
           "(it takes connections in turn). Have it call "
           "zc_self_conn_closed() (or add to the conns_closed cell, "
           "docs/protocol.md), or drop the limit", (unsigned long long) w->id,
           w->slot_index, (int) w->pid, p->opt.max_conns_per_worker,
           (unsigned long long) ((now - w->balance.full_since_us) / 1000));
    return false;
}

static bool takes(struct zc__least *lc, struct worker *w)
{
    return w && w->state == W_READY && (w->linked || w->node.online) &&
           w->ipc.fd >= 0 &&
           !w->sticky.blocked && w->slot && w->slot->w == w && !full(lc, w);
}

/* The worker with the fewest open connections that can take one; NULL. */
static struct worker *pick(struct zc__least *lc)
{
    struct zc_primary *p = lc->p;
    struct worker *best = NULL;
    uint64_t fewest = UINT64_MAX;
    unsigned n = p->n_slots, at = 0;

    for (unsigned i = 0; i < n; i++) {
        unsigned k = (lc->next + i) % n;
        struct worker *w = p->slots[k]->w;
        uint64_t open;

        if (!takes(lc, w))
            continue;
        open = zc__least_open(w);
        if (open < fewest) {
            fewest = open;
            best = w;
            at = k;
        }
    }
    if (best)
        lc->next = (at + 1) % n;
    return best;
}

static uint64_t closes_expected(const struct zc_primary *p)
{
    unsigned max = p->opt.max_conns_per_worker;

    return max && max < CLOSES_EXPECTED ? max : CLOSES_EXPECTED;
}

/* Whether some worker takes, or will take, hand-offs: none, when every
 * slot's worker was found to take none and nothing else is coming. */
static bool any_taker_coming(const struct zc_primary *p)
{
    for (unsigned i = 0; i < p->n_slots; i++)
        if (zc__slot_awaits_taker(p->slots[i]))
            return true;
    return false;
}

static uint64_t close_pending(struct zc__least *lc)
{
    uint64_t n = lc->n_pending;

    while (lc->n_pending) {
        (void) close(lc->pending[lc->head].fd);
        lc->head = (lc->head + 1) % PENDING_MAX;
        lc->n_pending--;
    }
    return n;
}

/* No worker will ever take them: closed now rather than left to hang in
 * the backlog, so a client (or the balancer in front) fails over at once. */
static void close_hopeless(struct zc__least *lc)
{
    uint64_t n = close_pending(lc);

    lc->stats.closed += n;
    if (!lc->said_hopeless)
        zc_log(ZC_LOG_ERROR, NS,
               "no worker of the fleet can take connections "
               "(none said hello on its IPC link): closing them as they come "
               "(%llu so far) rather than holding them",
               (unsigned long long) n);
    lc->said_hopeless = true;
}

/* Hands c to w. Returns true when it went (our copy of the fd is closed);
 * false when w's link cannot take it now (w is passed over until it can). */
static bool hand_off(struct zc__least *lc, struct worker *w, struct conn *c)
{
    char line[ZC__CONN_LINE];
    size_t len =
        zc__handoff_line(line, c->listener, c->client, c->client_port,
                         c->proxied ? c->server : NULL, c->server_port);
    int r = lc->p->opt.node ? zc__node_handoff(w, c->fd)
          : zc__ipc_send_now(&w->ipc, ZC__MSG_CONN, line, len, &c->fd, 1);

    if (r == -ENOBUFS)
        r = -EAGAIN;        /* a Node worker's queue is full: it waits */
    if (r < 0 || zc__ipc_pending(&w->ipc) ||
        (lc->p->opt.node && zc__node_pending(w))) {
        /* Full (EPOLLOUT says when it drains), or broken (the worker is on
         * its way out, and its exit clears this with it). */
        w->sticky.blocked = true;
        zc__link_watch(lc->p, w);
        if (r == -EAGAIN)
            return false;
        if (r < 0) {
            zc_log(ZC_LOG_DEBUG, NS, "worker %llu (slot %u): cannot hand a "
                   "connection over: %s", (unsigned long long) w->id,
                   w->slot_index, zc_strerror(r));
            return false;
        }
    }
    (void) close(c->fd);
    w->balance.handed++;
    lc->stats.handoffs++;
    if (!lc->said_no_closes && w->balance.handed == closes_expected(lc->p) &&
        zc__least_open(w) == w->balance.handed) {
        lc->said_no_closes = true;
        zc_log(ZC_LOG_WARN, NS, "worker %llu (slot %u, pid %d) has been handed "
               "%llu connections under --balance least-conn and has said none "
               "is closed: its count only grows, so least-conn takes turns "
               "instead of picking the least busy%s. A worker says a close "
               "with zc_self_conn_closed() (or the conns_closed cell, "
               "docs/protocol.md); one that cannot is better served by "
               "--balance reuseport", (unsigned long long) w->id,
               w->slot_index, (int) w->pid,
               (unsigned long long) w->balance.handed,
               lc->p->opt.max_conns_per_worker
               ? ", and --max-conns-per-worker holds it back a second at "
                 "most, then no more" : "");
    }
    return true;
}

static void hold(struct zc__least *lc, bool on)
{
    struct zc_primary *p = lc->p;

    if (on)
        (void) zc__timer_start(&p->loop, &lc->hold_timer,
                               zc__now_us() + HOLD_RETRY_MS * 1000ull);
    else
        zc__timer_stop(&p->loop, &lc->hold_timer);
    if (lc->held == on)
        return;
    lc->held = on;
    if (on)
        lc->stats.holds++;
    zc__accept_hold(lc->p->router_acc, on);
    zc_log(ZC_LOG_DEBUG, NS, on ? "no worker can take a connection: holding "
           "new ones in the backlog" : "accepting again");
}

/* Hands out what waits, oldest first; holds accepting when some is left. */
static void flush(struct zc__least *lc)
{
    while (lc->n_pending && !lc->stopped) {
        struct conn *c = &lc->pending[lc->head];
        struct worker *w = pick(lc);

        if (!w && !any_taker_coming(lc->p))
            close_hopeless(lc);
        if (!w)
            break;
        lc->said_hopeless = false;
        if (!hand_off(lc, w, c))
            continue;           /* w is passed over now: look again */
        lc->head = (lc->head + 1) % PENDING_MAX;
        lc->n_pending--;
    }
    hold(lc, lc->n_pending > 0);
}

static void least_deliver(struct conn *c, size_t n, void *ud)
{
    struct zc__least *lc = ud;

    for (size_t i = 0; i < n; i++) {
        if (lc->n_pending == PENDING_MAX) {
            /* Cannot happen while held; a bound all the same. */
            (void) close(c[i].fd);
            lc->stats.closed++;
            continue;
        }
        lc->pending[(lc->head + lc->n_pending++) % PENDING_MAX] = c[i];
    }
    flush(lc);
}

static void on_hold_timer(struct zc__loop *l, struct zc__timer *t)
{
    (void) l;
    flush(zc__container_of(t, struct zc__least, hold_timer));
}

static void least_kick(struct zc_primary *p, struct slot *s)
{
    (void) s;           /* any slot's worker may take what waits */
    if (LEAST(p) && LEAST(p)->n_pending)
        flush(LEAST(p));
}

static void *least_create(struct zc_primary *p)
{
    struct zc__least *lc = calloc(1, sizeof(*lc));

    if (lc) {
        lc->p = p;
        zc__timer_init(&lc->hold_timer, on_hold_timer);
    }
    return lc;
}

static void least_stop(struct zc_primary *p, uint64_t unread)
{
    struct zc__least *lc = LEAST(p);
    uint64_t n;

    lc->stopped = true;
    zc__timer_stop(&p->loop, &lc->hold_timer);
    n = unread + close_pending(lc);
    lc->stats.closed += n;
    if (n)
        zc_log(ZC_LOG_INFO, NS, "stopped accepting; closed %llu connection%s "
               "that waited for a worker", (unsigned long long) n, PLURAL(n));
}

static void least_destroy(struct zc_primary *p)
{
    struct zc__least *lc = LEAST(p);

    (void) close_pending(lc);
    zc__timer_stop(&p->loop, &lc->hold_timer);
    free(lc);
}

static void least_stats(const struct zc_primary *p, struct least_stats *ret)
{
    const struct zc__accept_stats *a;

    memset(ret, 0, sizeof(*ret));
    if (!LEAST(p))
        return;
    *ret = LEAST(p)->stats;
    ret->waiting = LEAST(p)->n_pending;
    if (p->router_acc) {
        a = zc__accept_stats(p->router_acc);
        ret->accept_pauses = a->accept_pauses;
        ret->closed_proxy = a->closed_proxy;
    }
}

/* A worker may take connections again: what waits goes now. */
static void least_deaf(struct zc_primary *p, struct slot *s)
{
    least_kick(p, s);
}

/* What waits is not any slot's: nothing to move. */
static void least_slot_removed(struct zc_primary *p, struct slot *s)
{
    (void) p;
    (void) s;
}

/* -- an upgrade ------------------------------------------------------------ */

/* The counters in this order; a new one goes at the end. */
enum { C_HANDOFFS, C_HOLDS, C_CLOSED, C_COUNTS };

static size_t least_hand_over(
    const struct zc_primary *p, uint64_t *counts, size_t max,
    void (*conn)(void *arg, int slot, const struct conn *c), void *arg)
{
    const struct zc__least *lc = LEAST(p);
    const uint64_t v[C_COUNTS] = {
        [C_HANDOFFS] = lc->stats.handoffs,
        [C_HOLDS] = lc->stats.holds,
        [C_CLOSED] = lc->stats.closed,
    };
    size_t n = max < C_COUNTS ? max : C_COUNTS;

    memcpy(counts, v, n * sizeof(*v));
    for (size_t i = 0; i < lc->n_pending; i++)
        conn(arg, -1, &lc->pending[(lc->head + i) % PENDING_MAX]);
    return n;
}

static void least_take_counts(struct zc_primary *p, const uint64_t *counts,
                              size_t n)
{
    struct zc__least *lc = LEAST(p);

    lc->stats.handoffs = n > C_HANDOFFS ? counts[C_HANDOFFS] : 0;
    lc->stats.holds = n > C_HOLDS ? counts[C_HOLDS] : 0;
    lc->stats.closed = n > C_CLOSED ? counts[C_CLOSED] : 0;
}

/* Back in the queue, in its order; handed out at the first kick. */
static int least_take_conn(struct zc_primary *p, int slot, const struct conn *c)
{
    struct zc__least *lc = LEAST(p);

    if (slot != -1 || lc->n_pending == PENDING_MAX) {
        (void) close(c->fd);
        return -EINVAL;
    }
    lc->pending[(lc->head + lc->n_pending++) % PENDING_MAX] = *c;
    lc->pending[(lc->head + lc->n_pending - 1) % PENDING_MAX].next = NULL;
    return 0;
}

#define ROW(name, type, help, labels, field)             \
    {                                                    \
        "zcluster_least_conn_" name, type, help, labels, \
            offsetof(struct least_stats, field)          \
    }

static const struct zc__buf_row least_rows[] = {
    ROW("handoffs_total", "counter",
        "Connections the primary handed to a worker (least-conn).", "",
        handoffs),
    ROW("waiting", "gauge",
        "Connections accepted and waiting for a worker that can take them.", "",
        waiting),
    ROW("holds_total", "counter",
        "Times accepting was held because no worker could take more.", "",
        holds),
    ROW("closed_total", "counter",
        "Connections the primary closed without handing them off, by reason.",
        "{reason=\"proxy\"}", closed_proxy),
    ROW("closed_total", "counter", NULL, "{reason=\"shutdown\"}", closed),
};

static void least_metrics(const struct zc_primary *p, struct zc__buf *b)
{
    struct least_stats st;
    char l[48];

    least_stats(p, &st);
    zc__buf_family(b, "zcluster_slot_connections_open", "gauge",
                   "Connections handed to the slot's worker and not yet "
                   "closed, as least-conn counts them.");
    for (unsigned i = 0; i < p->n_slots; i++)
        if (p->slots[i]->w) {
            snprintf(l, sizeof(l), "{slot=\"%u\"}", i);
            zc__buf_sample(b, "zcluster_slot_connections_open", l,
                           (double) zc__least_open(p->slots[i]->w));
        }
    zc__buf_rows(b, least_rows, sizeof(least_rows) / sizeof(least_rows[0]),
                 &st);
}

const struct router zc__least_router = ZC__ROUTER(least);
