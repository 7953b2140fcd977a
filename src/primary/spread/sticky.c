/*
 * Sticky sessions, the primary's side: pick a slot for each connection
 * the primary accepted (accept.c), and hand it off.
 *
 * The hash picks one of the N slots, never one of the live workers, so a
 * crash or a reload step moves nobody but that slot's own clients (the
 * spec hashes over the live workers: one death remaps everyone). What
 * the slot cannot take yet waits here, per slot, in arrival order, for
 * sticky_wait_ms; past that the slot counts as down and its clients go
 * to the next slot, in index order, whose worker takes connections, until
 * its own worker is back.
 *
 * The hot path is batched, since the primary's CPU per connection is the
 * price of the feature: up to BATCH accepts per wake-up, one sendmsg()
 * per worker for up to 16 connections (a "zc.conn" frame carries their
 * fds), and one close_range() for every fd handed off when they are
 * contiguous, which fresh accepts usually are. Once sent, an fd is the
 * kernel's: a worker that dies before reading it has it closed with its
 * socket, so nothing handed off can leak, and nothing that still waits
 * here is lost when a worker dies.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/compat.h"
#include "base/log.h"
#include "primary/core/link.h"
#include "primary/core/node.h"
#include "primary/spread/accept.h"
#include "primary/spread/router.h"
#include "primary/spread/sticky.h"

#define NS "zc:sticky"
#define BATCH ZC__ACCEPT_BATCH

/* The router's state (p->router_state): one router runs at a time. */
#define STICKY(p) ((struct zc__sticky *) (p)->router_state)

struct sticky_stats {
    uint64_t handoffs;          /* connections handed to a worker */
    uint64_t rerouted;          /* to another slot than their own */
    uint64_t waiting;           /* in the slots' queues now */
    uint64_t closed_no_worker;  /* no slot could take them */
    uint64_t closed_proxy;      /* bad, late or missing PROXY header */
    uint64_t closed_shutdown;   /* still waiting when the fleet stopped */
    uint64_t accept_pauses;     /* out of fds or memory */
};

struct zc__sticky {
    struct zc_primary *p;
    bool stopped;
    /* what dispatch() hands to whom: one batch at a time */
    struct conn *to[BATCH];
    struct worker *to_w[BATCH];
    struct sticky_stats stats;
    bool said_send_error;
};

/* -- slots and workers --------------------------------------------------- */

/* Whether w takes connections: ready, linked, serving its slot. */
static bool takes(const struct worker *w)
{
    return w && w->state == W_READY && (w->linked || w->node.online) &&
           w->ipc.fd >= 0 &&
           w->slot && w->slot->w == w;
}

static bool takes_now(const struct worker *w)
{
    return takes(w) && !w->sticky.blocked;
}

/* A worker is on its way: starting, restarting, or being replaced; not
 * one found to take no hand-offs. */
static bool expects_worker(const struct slot *s)
{
    return zc__slot_awaits_taker(s);
}

/* The next slot after s, in index order and round, whose worker takes
 * connections now; NULL if none. */
static struct slot *fallback(struct zc_primary *p, const struct slot *s)
{
    for (unsigned i = 1; i < p->n_slots; i++) {
        struct slot *t = p->slots[(s->index + i) % p->n_slots];

        if (takes_now(t->w) && t->sticky.n_waiting == 0)
            return t;
    }
    return NULL;
}

static unsigned pick(struct zc__sticky *st, const char *client)
{
    struct zc_primary *p = st->p;
    unsigned k;

    if (!p->opt.sticky_hash)
        return zc_default_ip_hash(client, p->n_slots);
    k = p->opt.sticky_hash(client, p->n_slots, p->opt.sticky_hash_arg);
    return k % p->n_slots;
}

static void wait_rearm(struct zc_primary *p, struct slot *s)
{
    if (s->sticky.wait_head)
        (void) zc__timer_start(&p->loop, &s->sticky.wait_timer,
                               s->sticky.wait_head->since_us +
                                   p->opt.sticky_wait_ms * 1000ull);
    else
        zc__timer_stop(&p->loop, &s->sticky.wait_timer);
}

/* Puts c at the end of s's queue (a heap copy unless it is one). */
static bool enqueue(struct zc_primary *p, struct slot *s, struct conn *c,
                    bool on_heap)
{
    struct conn *q = c;

    if (!on_heap && !(q = malloc(sizeof(*q))))
        return false;
    if (q != c)
        *q = *c;
    q->next = NULL;
    if (s->sticky.wait_tail)
        s->sticky.wait_tail->next = q;
    else
        s->sticky.wait_head = q;
    s->sticky.wait_tail = q;
    s->sticky.n_waiting++;
    STICKY(p)->stats.waiting++;
    if (s->sticky.wait_head == q)
        wait_rearm(p, s);
    return true;
}

static struct conn *dequeue(struct zc_primary *p, struct slot *s)
{
    struct conn *c = s->sticky.wait_head;

    s->sticky.wait_head = c->next;
    if (!s->sticky.wait_head)
        s->sticky.wait_tail = NULL;
    s->sticky.n_waiting--;
    STICKY(p)->stats.waiting--;
    return c;
}

static void drop(struct conn *c, bool on_heap, uint64_t *counter)
{
    (void) close(c->fd);
    (*counter)++;
    if (on_heap)
        free(c);
}

/* -- hand-off ------------------------------------------------------------ */

/* Sends c[0..n) to w, 16 to a frame. Returns how many went: their fds
 * are in flight and the caller closes its copies. */
static size_t hand_off(struct zc__sticky *st, struct worker *w,
                       struct conn **c, size_t n)
{
    size_t done = 0;

    /* Node workers take them as the module's primary gives them: one
     * socket per message, in order on the channel (node.c). */
    while (st->p->opt.node && done < n && zc__node_handoff(w, c[done]->fd) == 0)
        done++;
    if (st->p->opt.node) {
        if (done < n || zc__node_pending(w)) {
            w->sticky.blocked = true;
            zc__link_watch(st->p, w);
        }
        st->stats.handoffs += done;
        return done;
    }
    while (done < n) {
        char payload[ZC_IPC_FDS_MAX * ZC__CONN_LINE];
        int fds[ZC_IPC_FDS_MAX];
        size_t k = n - done < ZC_IPC_FDS_MAX ? n - done : ZC_IPC_FDS_MAX;
        size_t len = 0;
        int r;

        for (size_t i = 0; i < k; i++) {
            const struct conn *x = c[done + i];

            fds[i] = x->fd;
            len +=
                zc__handoff_line(payload + len, x->listener, x->client,
                                 x->client_port, x->proxied ? x->server : NULL,
                                 x->server_port);
        }
        r = zc__ipc_send_now(&w->ipc, "zc.conn", payload, len, fds, k);
        if (r == -EAGAIN) {
            /* Full: EPOLLOUT says when it has room again. */
            w->sticky.blocked = true;
            zc__link_watch(st->p, w);
            break;
        }
        if (r < 0) {
            /* Broken (the worker is on its way out: what is left waits
             * for its successor), or ETOOMANYREFS (too many fds in
             * flight for an unprivileged primary): what is left waits,
             * retried at the slot's wait deadline, not at every wake-up. */
            if (!st->said_send_error)
                zc_log(r == -EPIPE || r == -ECONNRESET ? ZC_LOG_DEBUG
                       : ZC_LOG_WARN, NS, "worker %llu (slot %u): cannot hand "
                       "connections over: %s", (unsigned long long) w->id,
                       w->slot_index, zc_strerror(r));
            st->said_send_error = r != -EPIPE && r != -ECONNRESET;
            break;
        }
        if (zc__ipc_pending(&w->ipc)) {     /* part of the frame is queued */
            w->sticky.blocked = true;
            zc__link_watch(st->p, w);
        }
        done += k;
    }
    st->stats.handoffs += done;
    return done;
}

/*
 * Hands to[i] to to_w[i] for i < n, grouped by worker in order. What a
 * worker could not take waits in its slot (or is closed if that is full).
 * Batch entries (not on the heap) are copied when they must wait.
 */
static void send_all(struct zc__sticky *st, size_t n, bool on_heap)
{
    struct zc_primary *p = st->p;
    int closing[BATCH] = { 0 };
    size_t n_closing = 0;

    for (size_t i = 0; i < n; i++) {
        struct worker *w = st->to_w[i];
        struct conn *group[BATCH];
        size_t k = 0, sent;

        if (!w)
            continue;
        for (size_t j = i; j < n; j++)
            if (st->to_w[j] == w) {
                group[k++] = st->to[j];
                st->to_w[j] = NULL;
            }
        sent = w->sticky.blocked ? 0 : hand_off(st, w, group, k);
        for (size_t j = 0; j < k; j++) {
            struct conn *c = group[j];

            if (j < sent) {
                closing[n_closing++] = c->fd;
                if (on_heap)
                    free(c);
            } else if (!enqueue(p, w->slot, c, on_heap)) {
                drop(c, on_heap, &st->stats.closed_no_worker);
            }
        }
    }
    /* The fds are in flight: ours go, in one call when they are a run. */
    zc__close_fds(closing, n_closing);
    if (n_closing)
        zc__accept_resume(st->p->router_acc);
}

/*
 * Where c goes now. Returns the worker to hand it to, or NULL when it
 * was queued or closed here.
 */
static struct worker *route(struct zc__sticky *st, struct conn *c, bool on_heap)
{
    struct zc_primary *p = st->p;
    struct slot *s = p->slots[c->home], *t;

    if (takes_now(s->w) && s->sticky.n_waiting == 0)
        return s->w;
    /* Its own worker is on the way: wait for it, within bounds. */
    if (!s->sticky.down && expects_worker(s) &&
        s->sticky.n_waiting < p->opt.sticky_queue && enqueue(p, s, c, on_heap))
        return NULL;
    t = fallback(p, s);
    if (t) {
        st->stats.rerouted++;
        return t->w;
    }
    if (expects_worker(s) && s->sticky.n_waiting < p->opt.sticky_queue &&
        enqueue(p, s, c, on_heap))
        return NULL;            /* nobody else either: wait anyway */
    drop(c, on_heap, &st->stats.closed_no_worker);
    return NULL;
}

static void dispatch(struct zc__sticky *st, struct conn *c, size_t n)
{
    size_t m = 0;

    for (size_t i = 0; i < n; i++) {
        struct worker *w = route(st, &c[i], false);

        if (w) {
            st->to[m] = &c[i];
            st->to_w[m++] = w;
        }
    }
    send_all(st, m, false);
}

static void sticky_kick(struct zc_primary *p, struct slot *s)
{
    struct zc__sticky *st = STICKY(p);
    struct worker *w = s ? s->w : NULL;

    if (!st || st->stopped || !takes_now(w))
        return;
    if (s->sticky.down) {
        s->sticky.down = false;
        zc_log(ZC_LOG_INFO, NS, "slot %u: worker %llu takes its clients' "
               "connections again", s->index, (unsigned long long) w->id);
    }
    while (s->sticky.wait_head && !w->sticky.blocked) {
        struct conn *c[ZC_IPC_FDS_MAX];
        int fds[ZC_IPC_FDS_MAX];
        size_t k = 0, sent;

        for (struct conn *x = s->sticky.wait_head; x && k < ZC_IPC_FDS_MAX;
             x = x->next)
            c[k++] = x;
        sent = hand_off(st, w, c, k);
        for (size_t i = 0; i < sent; i++) {
            fds[i] = dequeue(p, s)->fd;
            free(c[i]);
        }
        zc__close_fds(fds, sent);
        if (sent < k)
            break;
    }
    wait_rearm(p, s);
    zc__accept_resume(st->p->router_acc);
}

/* The oldest of s's connections have waited their time: the slot is
 * down, and they go to the next slot that takes connections. */
static void on_wait_timer(struct zc__loop *l, struct zc__timer *t)
{
    struct slot *s = zc__container_of(t, struct slot, sticky.wait_timer);
    struct zc_primary *p = s->p;
    struct zc__sticky *st = STICKY(p);
    uint64_t now = zc__now_us(), wait_us = p->opt.sticky_wait_ms * 1000ull;
    size_t m = 0;

    (void) l;
    /* Its worker may take them now: a link that was full, say. */
    sticky_kick(p, s);
    if (!s->sticky.wait_head)
        return;
    if (!s->sticky.down) {
        struct slot *to = fallback(p, s);

        s->sticky.down = true;
        zc_log(ZC_LOG_WARN, NS, "slot %u: no worker has taken its clients' "
               "connections for %u ms; %s%u until one does", s->index,
               p->opt.sticky_wait_ms, to ? "sending them to slot " :
               "closing them: no slot takes connections", to ? to->index : 0);
    }
    /* A slot whose worker takes nothing sends them on now, not after
     * their wait. */
    while (s->sticky.wait_head && m < BATCH &&
           (s->sticky.wait_head->since_us + wait_us <= now ||
            !expects_worker(s))) {
        struct conn *c = dequeue(p, s);
        struct slot *to = fallback(p, s);

        if (!to) {
            drop(c, true, &st->stats.closed_no_worker);
            continue;
        }
        st->stats.rerouted++;
        st->to[m] = c;
        st->to_w[m++] = to->w;
    }
    send_all(st, m, true);
    wait_rearm(p, s);
    /* More than a batch expired at once: the rest on the next round. */
    if (s->sticky.wait_head &&
        (s->sticky.wait_head->since_us + wait_us <= now || !expects_worker(s)))
        (void) zc__timer_start(&p->loop, &s->sticky.wait_timer, now);
}

static void sticky_deaf(struct zc_primary *p, struct slot *s)
{
    struct zc__sticky *st = STICKY(p);

    if (!st || st->stopped || !s)
        return;
    s->sticky.down = true;
    if (s->sticky.wait_head)
        (void) zc__timer_start(&p->loop, &s->sticky.wait_timer, zc__now_us());
}

static void sticky_slot_removed(struct zc_primary *p, struct slot *s)
{
    struct zc__sticky *st = STICKY(p);

    if (!st)
        return;
    zc__timer_stop(&p->loop, &s->sticky.wait_timer);
    while (s->sticky.wait_head) {
        struct conn *c = dequeue(p, s);
        struct worker *w;

        if (st->stopped) {
            drop(c, true, &st->stats.closed_shutdown);
            continue;
        }
        c->home = pick(st, c->client);
        w = route(st, c, true);
        if (w) {
            st->to[0] = c;
            st->to_w[0] = w;
            send_all(st, 1, true);
        }
    }
}

void zc__sticky_slot_init(struct slot *s)
{
    zc__timer_init(&s->sticky.wait_timer, on_wait_timer);
}

/* -- life cycle ------------------------------------------------------------ */

/* -- life cycle ------------------------------------------------------------ */

/* What the acceptor delivers: each goes to its client's slot. */
static void sticky_deliver(struct conn *c, size_t n, void *ud)
{
    struct zc__sticky *st = ud;

    for (size_t i = 0; i < n; i++)
        c[i].home = pick(st, c[i].client);
    dispatch(st, c, n);
}

static void *sticky_create(struct zc_primary *p)
{
    struct zc__sticky *st = calloc(1, sizeof(*st));

    if (st)
        st->p = p;
    return st;
}

static void close_waiting(struct zc__sticky *st)
{
    struct zc_primary *p = st->p;

    for (unsigned i = 0; i < p->n_slots; i++) {
        struct slot *s = p->slots[i];

        zc__timer_stop(&p->loop, &s->sticky.wait_timer);
        while (s->sticky.wait_head)
            drop(dequeue(p, s), true, &st->stats.closed_shutdown);
    }
}

static void sticky_stop(struct zc_primary *p, uint64_t unread)
{
    struct zc__sticky *st = STICKY(p);
    uint64_t before = st->stats.closed_shutdown;

    st->stopped = true;
    st->stats.closed_shutdown += unread;
    close_waiting(st);
    if (st->stats.closed_shutdown > before)
        zc_log(ZC_LOG_INFO, NS, "stopped accepting; closed %llu connection%s "
               "that waited for a worker",
               (unsigned long long) (st->stats.closed_shutdown - before),
               st->stats.closed_shutdown - before == 1 ? "" : "s");
    else
        zc_log(ZC_LOG_DEBUG, NS, "stopped accepting");
}

static void sticky_destroy(struct zc_primary *p)
{
    struct zc__sticky *st = STICKY(p);

    close_waiting(st);
    free(st);
}

static void sticky_stats(const struct zc_primary *p, struct sticky_stats *ret)
{
    const struct zc__accept_stats *a;

    memset(ret, 0, sizeof(*ret));
    if (!STICKY(p))
        return;
    *ret = STICKY(p)->stats;
    if (p->router_acc) {
        a = zc__accept_stats(p->router_acc);
        ret->accept_pauses = a->accept_pauses;
        ret->closed_proxy = a->closed_proxy;
    }
}

/* -- an upgrade ------------------------------------------------------------ */

/* The counters in this order; a new one goes at the end. Connections
 * waiting are counted as they are taken back. */
enum { C_HANDOFFS, C_REROUTED, C_NO_WORKER, C_SHUTDOWN, C_COUNTS };

static size_t sticky_hand_over(
    const struct zc_primary *p, uint64_t *counts, size_t max,
    void (*conn)(void *arg, int slot, const struct conn *c), void *arg)
{
    const struct zc__sticky *st = STICKY(p);
    const uint64_t v[C_COUNTS] = {
        [C_HANDOFFS] = st->stats.handoffs,
        [C_REROUTED] = st->stats.rerouted,
        [C_NO_WORKER] = st->stats.closed_no_worker,
        [C_SHUTDOWN] = st->stats.closed_shutdown,
    };
    size_t n = max < C_COUNTS ? max : C_COUNTS;

    memcpy(counts, v, n * sizeof(*v));
    for (unsigned i = 0; i < p->n_slots; i++)
        for (const struct conn *c = p->slots[i]->sticky.wait_head; c;
             c = c->next)
            conn(arg, (int) i, c);
    return n;
}

static void sticky_take_counts(struct zc_primary *p, const uint64_t *counts,
                               size_t n)
{
    struct zc__sticky *st = STICKY(p);

    st->stats.handoffs = n > C_HANDOFFS ? counts[C_HANDOFFS] : 0;
    st->stats.rerouted = n > C_REROUTED ? counts[C_REROUTED] : 0;
    st->stats.closed_no_worker = n > C_NO_WORKER ? counts[C_NO_WORKER] : 0;
    st->stats.closed_shutdown = n > C_SHUTDOWN ? counts[C_SHUTDOWN] : 0;
}

/* Back in its slot's queue, its wait counted from when it was accepted:
 * the slot's clients go elsewhere at the same time as they would have. */
static int sticky_take_conn(struct zc_primary *p, int slot,
                            const struct conn *c)
{
    struct conn copy = *c;

    if (slot < 0 || (unsigned) slot >= p->n_slots ||
        !enqueue(p, p->slots[slot], &copy, false)) {
        (void) close(c->fd);
        return slot < 0 || (unsigned) slot >= p->n_slots ? -EINVAL : -ENOMEM;
    }
    return 0;
}

#define ROW(name, type, help, labels, field)         \
    {                                                \
        "zcluster_sticky_" name, type, help, labels, \
            offsetof(struct sticky_stats, field)     \
    }

static const struct zc__buf_row sticky_rows[] = {
    ROW("handoffs_total", "counter",
        "Connections the primary handed to a worker (sticky sessions).", "",
        handoffs),
    ROW("rerouted_total", "counter",
        "Connections handed to another slot than their client's: its worker "
        "was down longer than --sticky-wait.",
        "", rerouted),
    ROW("waiting", "gauge",
        "Connections waiting in the primary for their slot's worker.", "",
        waiting),
    ROW("closed_total", "counter",
        "Connections the primary closed without handing them off, by reason.",
        "{reason=\"no_worker\"}", closed_no_worker),
    ROW("closed_total", "counter", NULL, "{reason=\"proxy\"}", closed_proxy),
    ROW("closed_total", "counter", NULL, "{reason=\"shutdown\"}",
        closed_shutdown),
    ROW("accept_pauses_total", "counter",
        "Times accepting paused for lack of fds or memory (retried "
        "every " ZC__ACCEPT_PAUSE_TEXT ").",
        "", accept_pauses),
};

static void sticky_metrics(const struct zc_primary *p, struct zc__buf *b)
{
    struct sticky_stats st;

    sticky_stats(p, &st);
    zc__buf_rows(b, sticky_rows, sizeof(sticky_rows) / sizeof(sticky_rows[0]),
                 &st);
}

const struct router zc__sticky_router = ZC__ROUTER(sticky);
