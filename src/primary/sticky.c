/*
 * Sticky sessions, the primary's side: accept, pick a slot, hand off.
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
 *
 * With proxy_protocol each connection first waits, watched on its own,
 * for its PROXY header (v1 text or v2 binary), read with MSG_PEEK until
 * it is whole and then consumed exactly, so the worker's first byte is
 * the client's first byte.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/compat.h"
#include "primary/fleet.h"
#include "base/log.h"
#include "primary/sticky.h"

#define NS "zc:sticky"
#define BATCH 64                    /* accepts per wake-up and listener */
#define PAUSE_MS 100                /* out of fds: retry accepting after this */
/*
 * Under a stream of connections, a wake-up per connection costs the
 * primary more than the connection itself: a context switch each, most
 * of its CPU. So when a listener wakes us again within HOT_GAP_US, it is
 * muted and accepted from every POLL_US instead, a batch at a time, until
 * a round finds nothing (NAPI's interrupt-to-polling switch). A quiet
 * listener never waits; a busy one adds at most POLL_US to a hand-off,
 * small beside a TCP handshake, and in exchange the primary's CPU per
 * connection drops by three (bench/README.md, "Sticky sessions").
 */
#define POLL_US 500
#define HOT_GAP_US 1000
#define PAUSE_LOG_EVERY_US (60 * 1000000ull)

/* A connection on its way to a worker. In a batch on the stack, or, when
 * it must wait, a heap copy in its slot's queue. */
struct conn {
    struct conn *next;
    int fd;
    unsigned listener;
    unsigned home;              /* the slot its client hashes to */
    uint64_t since_us;          /* accepted at; its wait counts from here */
    unsigned client_port, server_port;
    bool proxied;
    char client[ZC__ADDR_TEXT], server[ZC__ADDR_TEXT];
};

/* Accepted, its PROXY header not all in yet. */
struct reading {
    struct zc__io io;
    struct zc__sticky *st;
    struct reading *prev, *next;    /* by deadline: all wait as long */
    unsigned listener;
    uint64_t since_us;
};

struct lsn {
    struct zc__io io;
    struct zc__sticky *st;
    unsigned index;
    bool polling;               /* muted in epoll, accepted from on a timer */
    uint64_t last_wake_us;
    struct zc__timer poll_timer;
};

struct zc__sticky {
    struct zc_primary *p;
    struct lsn *lsn;
    size_t n_lsn;
    bool stopped;
    /* out of fds: not accepting until pause_timer */
    bool paused;
    uint64_t pause_start_us, last_pause_log_us;
    unsigned pauses;            /* in this episode */
    bool pause_logged;
    struct zc__timer pause_timer;
    /* proxy headers being read */
    struct reading *rhead, *rtail;
    /* done with, freed before the loop waits: the batch being handled may
     * still hold an event for one */
    struct reading *rdead;
    struct zc__timer read_timer;
    /* what dispatch() hands to whom: one batch at a time */
    struct conn *to[BATCH];
    struct worker *to_w[BATCH];
    struct conn batch[BATCH];
    struct zc__sticky_stats stats;
    bool said_send_error;
};

/* -- slots and workers --------------------------------------------------- */

/* Whether w takes connections: ready, linked, serving its slot. */
static bool takes(const struct worker *w)
{
    return w && w->state == W_READY && w->linked && w->ipc.fd >= 0 &&
           w->slot && w->slot->w == w;
}

static bool takes_now(const struct worker *w)
{
    return takes(w) && !w->sticky_blocked;
}

/* A worker is on its way: starting, restarting, or being replaced. */
static bool expects_worker(const struct slot *s)
{
    return s->w || s->next || s->state == SLOT_BACKOFF;
}

/* The next slot after s, in index order and round, whose worker takes
 * connections now; NULL if none. */
static struct slot *fallback(struct zc_primary *p, const struct slot *s)
{
    for (unsigned i = 1; i < p->n_slots; i++) {
        struct slot *t = p->slots[(s->index + i) % p->n_slots];

        if (takes_now(t->w) && t->n_waiting == 0)
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
    if (s->wait_head)
        (void) zc__timer_start(&p->loop, &s->wait_timer, s->wait_head->since_us +
                               p->opt.sticky_wait_ms * 1000ull);
    else
        zc__timer_stop(&p->loop, &s->wait_timer);
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
    if (s->wait_tail)
        s->wait_tail->next = q;
    else
        s->wait_head = q;
    s->wait_tail = q;
    s->n_waiting++;
    p->sticky->stats.waiting++;
    if (s->wait_head == q)
        wait_rearm(p, s);
    return true;
}

static struct conn *dequeue(struct zc_primary *p, struct slot *s)
{
    struct conn *c = s->wait_head;

    s->wait_head = c->next;
    if (!s->wait_head)
        s->wait_tail = NULL;
    s->n_waiting--;
    p->sticky->stats.waiting--;
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

static void resume_accepting(struct zc__sticky *st);

/* Sends c[0..n) to w, 16 to a frame. Returns how many went: their fds
 * are in flight and the caller closes its copies. */
static size_t hand_off(struct zc__sticky *st, struct worker *w,
                       struct conn **c, size_t n)
{
    size_t done = 0;

    while (done < n) {
        char payload[ZC_IPC_FDS_MAX * ZC__CONN_LINE];
        int fds[ZC_IPC_FDS_MAX];
        size_t k = n - done < ZC_IPC_FDS_MAX ? n - done : ZC_IPC_FDS_MAX;
        size_t len = 0;
        int r;

        for (size_t i = 0; i < k; i++) {
            const struct conn *x = c[done + i];

            fds[i] = x->fd;
            len += zc__handoff_line(payload + len, x->listener, x->client,
                                 x->client_port, x->proxied ? x->server : NULL,
                                 x->server_port);
        }
        r = zc__ipc_send_now(&w->ipc, "zc.conn", payload, len, fds, k);
        if (r == -EAGAIN) {
            /* Full: EPOLLOUT says when it has room again. */
            w->sticky_blocked = true;
            zc__primary_watch_link(st->p, w);
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
            w->sticky_blocked = true;
            zc__primary_watch_link(st->p, w);
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
        sent = w->sticky_blocked ? 0 : hand_off(st, w, group, k);
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
    if (n_closing && st->paused)
        resume_accepting(st);
}

/*
 * Where c goes now. Returns the worker to hand it to, or NULL when it
 * was queued or closed here.
 */
static struct worker *route(struct zc__sticky *st, struct conn *c, bool on_heap)
{
    struct zc_primary *p = st->p;
    struct slot *s = p->slots[c->home], *t;

    if (takes_now(s->w) && s->n_waiting == 0)
        return s->w;
    /* Its own worker is on the way: wait for it, within bounds. */
    if (!s->sticky_down && expects_worker(s) &&
        s->n_waiting < p->opt.sticky_queue && enqueue(p, s, c, on_heap))
        return NULL;
    t = fallback(p, s);
    if (t) {
        st->stats.rerouted++;
        return t->w;
    }
    if (expects_worker(s) && s->n_waiting < p->opt.sticky_queue &&
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

void zc__sticky_kick(struct zc_primary *p, struct slot *s)
{
    struct zc__sticky *st = p->sticky;
    struct worker *w = s->w;

    if (!st || st->stopped || !takes_now(w))
        return;
    if (s->sticky_down) {
        s->sticky_down = false;
        zc_log(ZC_LOG_INFO, NS, "slot %u: worker %llu takes its clients' "
               "connections again", s->index, (unsigned long long) w->id);
    }
    while (s->wait_head && !w->sticky_blocked) {
        struct conn *c[ZC_IPC_FDS_MAX];
        int fds[ZC_IPC_FDS_MAX];
        size_t k = 0, sent;

        for (struct conn *x = s->wait_head; x && k < ZC_IPC_FDS_MAX; x = x->next)
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
    if (st->paused)
        resume_accepting(st);
}

/* The oldest of s's connections have waited their time: the slot is
 * down, and they go to the next slot that takes connections. */
static void on_wait_timer(struct zc__loop *l, struct zc__timer *t)
{
    struct slot *s = zc__container_of(t, struct slot, wait_timer);
    struct zc_primary *p = s->p;
    struct zc__sticky *st = p->sticky;
    uint64_t now = zc__now_us(), wait_us = p->opt.sticky_wait_ms * 1000ull;
    size_t m = 0;

    (void) l;
    /* Its worker may take them now: a link that was full, say. */
    zc__sticky_kick(p, s);
    if (!s->wait_head)
        return;
    if (!s->sticky_down) {
        struct slot *to = fallback(p, s);

        s->sticky_down = true;
        /* A ready worker that never said hello can take nothing. */
        if (s->w && s->w->state == W_READY && !s->w->linked)
            zc_log(ZC_LOG_WARN, NS, "slot %u: worker %llu is ready but has "
                   "not said hello on its IPC link, so it cannot take "
                   "connections (docs/protocol.md, \"Sticky sessions\")",
                   s->index, (unsigned long long) s->w->id);
        zc_log(ZC_LOG_WARN, NS, "slot %u: no worker has taken its clients' "
               "connections for %u ms; %s%u until one does", s->index,
               p->opt.sticky_wait_ms, to ? "sending them to slot " :
               "closing them: no slot takes connections", to ? to->index : 0);
    }
    while (s->wait_head && s->wait_head->since_us + wait_us <= now && m < BATCH) {
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
    if (s->wait_head && s->wait_head->since_us + wait_us <= now)
        (void) zc__timer_start(&p->loop, &s->wait_timer, now);
}

void zc__sticky_slot_removed(struct zc_primary *p, struct slot *s)
{
    struct zc__sticky *st = p->sticky;

    if (!st)
        return;
    zc__timer_stop(&p->loop, &s->wait_timer);
    while (s->wait_head) {
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
    zc__timer_init(&s->wait_timer, on_wait_timer);
}

/* -- accepting ----------------------------------------------------------- */

static void watch_listeners(struct zc__sticky *st, bool on)
{
    for (size_t i = 0; i < st->n_lsn; i++) {
        struct lsn *ln = &st->lsn[i];

        if (on) {
            (void) zc__loop_add(&st->p->loop, &ln->io, EPOLLIN);
        } else {
            zc__timer_stop(&st->p->loop, &ln->poll_timer);
            ln->polling = false;
            zc__loop_del(&st->p->loop, &ln->io);
        }
    }
}

static void resume_accepting(struct zc__sticky *st)
{
    zc__timer_stop(&st->p->loop, &st->pause_timer);
    if (!st->paused || st->stopped)
        return;
    st->paused = false;
    watch_listeners(st, true);
}

static void on_pause_timer(struct zc__loop *l, struct zc__timer *t)
{
    (void) l;
    resume_accepting(zc__container_of(t, struct zc__sticky, pause_timer));
}

/* Out of fds (or kernel memory): the connection stays in the backlog.
 * Retrying at once would spin, so stop watching the listeners and try
 * again on a timer, or as soon as a hand-off frees fds. */
static void pause_accepting(struct zc__sticky *st, const struct lsn *ln, int err)
{
    struct zc_primary *p = st->p;
    uint64_t now = zc__now_us();

    if (!st->paused) {
        st->paused = true;
        watch_listeners(st, false);
    }
    st->stats.accept_pauses++;
    if (st->pauses++ == 0) {
        st->pause_start_us = now;
        /* Once per episode, and at most one episode a minute. */
        st->pause_logged = !st->last_pause_log_us ||
                           now - st->last_pause_log_us >= PAUSE_LOG_EVERY_US;
        if (st->pause_logged) {
            st->last_pause_log_us = now;
            zc_log(ZC_LOG_WARN, NS, "cannot accept on %s: %s; pausing accepts, "
                   "retrying every %u ms (connections wait in the listen "
                   "queue)", p->listeners[ln->index].text, zc_strerror(-err),
                   PAUSE_MS);
        }
    }
    (void) zc__timer_start(&p->loop, &st->pause_timer, now + PAUSE_MS * 1000ull);
}

static void accepted_again(struct zc__sticky *st)
{
    if (st->pause_logged)
        zc_log(ZC_LOG_INFO, NS, "accepting again after %llu ms (%u retries)",
               (unsigned long long) ((zc__now_us() - st->pause_start_us) / 1000),
               st->pauses);
    st->pauses = 0;
    st->pause_logged = false;
}

/* Returns true when accepting on this listener should stop for now. */
static bool accept_failed(struct zc__sticky *st, const struct lsn *ln, int err)
{
    switch (err) {
    case EAGAIN:
        return true;
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
        pause_accepting(st, ln, err);
        return true;
    default:
        /* ECONNABORTED, EPROTO, EPERM (a firewall), network errors: that
         * one connection is gone, the next may be fine. */
        zc_log(ZC_LOG_DEBUG, NS, "accept on %s: %s",
               st->p->listeners[ln->index].text, zc_strerror(-err));
        return false;
    }
}

static void start_reading(struct zc__sticky *st, int fd, unsigned listener,
                          uint64_t now);

/* Accepts what is there, up to BATCH, and hands it on. Returns how many
 * connections it took. */
static size_t accept_round(struct lsn *ln, uint64_t now)
{
    struct zc__sticky *st = ln->st;
    size_t n = 0, taken = 0;

    for (int tries = 0; tries < BATCH && !st->paused; tries++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        struct conn *c = &st->batch[n];
        int fd = accept4(ln->io.fd, (struct sockaddr *) &ss, &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd == -1) {
            if (errno == EINTR)
                continue;
            if (accept_failed(st, ln, errno))
                break;
            continue;
        }
        taken++;
        if (st->pauses)
            accepted_again(st);
        if (st->p->opt.proxy_protocol) {
            start_reading(st, fd, ln->index, now);
            continue;
        }
        c->fd = fd;
        c->listener = ln->index;
        c->since_us = now;
        c->proxied = false;
        (void) zc__handoff_addr_text((struct sockaddr *) &ss, c->client,
                                    &c->client_port);
        c->home = pick(st, c->client);
        n++;
    }
    if (n)
        dispatch(st, st->batch, n);
    return taken;
}

static void on_listen(struct zc__loop *l, struct zc__io *io, uint32_t events)
{
    struct lsn *ln = zc__container_of(io, struct lsn, io);
    uint64_t now = zc__now_us();
    bool hot = ln->last_wake_us && now - ln->last_wake_us < HOT_GAP_US;

    (void) l;
    (void) events;
    ln->last_wake_us = now;
    if (accept_round(ln, now) == 0 || !hot || ln->st->paused ||
        zc__loop_mod(&ln->st->p->loop, io, 0) < 0)
        return;
    ln->polling = true;
    (void) zc__timer_start(&ln->st->p->loop, &ln->poll_timer, now + POLL_US);
}

static void on_poll_timer(struct zc__loop *l, struct zc__timer *t)
{
    struct lsn *ln = zc__container_of(t, struct lsn, poll_timer);
    struct zc__sticky *st = ln->st;
    uint64_t now = zc__now_us();
    size_t n;

    (void) l;
    if (!ln->polling || st->paused || st->stopped)
        return;
    n = accept_round(ln, now);
    if (st->paused || !ln->polling)
        return;
    ln->last_wake_us = now;
    if (n > 0) {
        /* A full batch: more is waiting, go on at once. */
        (void) zc__timer_start(&st->p->loop, &ln->poll_timer,
                               n == BATCH ? now : now + POLL_US);
        return;
    }
    /* Quiet again: back to being woken by the next connection. */
    ln->polling = false;
    (void) zc__loop_mod(&st->p->loop, &ln->io, EPOLLIN);
}

/* -- PROXY headers --------------------------------------------------------- */

/* An event already collected for a reading that is done with. */
static void on_dead(struct zc__loop *l, struct zc__io *io, uint32_t events)
{
    (void) l;
    (void) io;
    (void) events;
}

/* Out of the list and the epoll set, onto the dead list. */
static void reading_unlink(struct zc__sticky *st, struct reading *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        st->rhead = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        st->rtail = r->prev;
    zc__loop_del(&st->p->loop, &r->io);
    r->io.cb = on_dead;
    r->next = st->rdead;
    st->rdead = r;
}

void zc__sticky_before_poll(struct zc_primary *p)
{
    struct zc__sticky *st = p->sticky;

    while (st && st->rdead) {
        struct reading *r = st->rdead;

        st->rdead = r->next;
        free(r);
    }
}

static void read_rearm(struct zc__sticky *st)
{
    struct zc_primary *p = st->p;

    if (st->rhead)
        (void) zc__timer_start(&p->loop, &st->read_timer, st->rhead->since_us +
                               p->opt.proxy_timeout_ms * 1000ull);
    else
        zc__timer_stop(&p->loop, &st->read_timer);
}

static void refuse(struct zc__sticky *st, int fd, const char *why)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char addr[ZC__ADDR_TEXT];
    unsigned port = 0;

    addr[0] = '\0';
    if (getpeername(fd, (struct sockaddr *) &ss, &len) == 0)
        (void) zc__handoff_addr_text((struct sockaddr *) &ss, addr, &port);
    zc_log(ZC_LOG_DEBUG, NS, "connection from %s port %u closed: %s",
           addr[0] ? addr : "a unix socket", port, why);
    st->stats.closed_proxy++;
    (void) close(fd);
}

/*
 * Tries to complete fd's header into *c. Returns 1 when it is consumed
 * and c is filled, 0 when more bytes are needed, -1 when the connection
 * is to be refused (*why says why). Closes nothing: a connection watched
 * by epoll must leave the set before its fd goes, since the file lives
 * on in the worker and would go on reporting events.
 */
static int try_header(int fd, struct conn *c, const char **why)
{
    uint8_t buf[ZC__PROXY_MAX];
    struct zc__proxy px;
    ssize_t n;
    int r;

    do
        n = recv(fd, buf, sizeof(buf), MSG_PEEK);
    while (n == -1 && errno == EINTR);
    if (n == -1 && errno == EAGAIN)
        return 0;
    if (n <= 0) {
        *why = n == 0 ? "closed before its PROXY header was complete"
                      : "error before its PROXY header was complete";
        return -1;
    }
    r = zc__proxy_parse(buf, (size_t) n, &px, why);
    if (r == 0 && (size_t) n == sizeof(buf)) {
        *why = "PROXY header longer than 1040 bytes";
        r = -EBADMSG;
    }
    if (r == 0)
        return 0;
    if (r < 0)
        return -1;
    /* Exactly the header: what follows is the client's, for the worker. */
    do
        n = recv(fd, buf, (size_t) r, 0);
    while (n == -1 && errno == EINTR);
    if (n != r) {
        *why = "its PROXY header could not be consumed";
        return -1;
    }
    c->fd = fd;
    c->proxied = !px.local;
    if (px.local) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);

        c->client[0] = '\0';
        c->client_port = 0;
        if (getpeername(fd, (struct sockaddr *) &ss, &len) == 0)
            (void) zc__handoff_addr_text((struct sockaddr *) &ss, c->client,
                                        &c->client_port);
    } else {
        memcpy(c->client, px.client, sizeof(c->client));
        memcpy(c->server, px.server, sizeof(c->server));
        c->client_port = px.client_port;
        c->server_port = px.server_port;
    }
    return 1;
}

static void header_done(struct zc__sticky *st, struct conn *c)
{
    c->home = pick(st, c->client);
    dispatch(st, c, 1);
}

static void on_reading(struct zc__loop *l, struct zc__io *io, uint32_t events)
{
    struct reading *r = zc__container_of(io, struct reading, io);
    struct zc__sticky *st = r->st;
    struct conn c = { .listener = r->listener, .since_us = r->since_us };
    const char *why = NULL;
    int done;

    (void) l;
    done = try_header(r->io.fd, &c, &why);
    /* All it will ever send is in, and it is not a whole header. */
    if (done == 0 && (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
        done = -1;
        why = "closed before its PROXY header was complete";
    }
    if (done == 0)
        return;
    reading_unlink(st, r);
    if (done > 0)
        header_done(st, &c);
    else
        refuse(st, r->io.fd, why);
    read_rearm(st);
}

static void start_reading(struct zc__sticky *st, int fd, unsigned listener,
                          uint64_t now)
{
    struct conn c = { .listener = listener, .since_us = now };
    const char *why = NULL;
    struct reading *r;
    int done = try_header(fd, &c, &why);

    /* Usually the header came with the handshake's last packet. */
    if (done > 0) {
        header_done(st, &c);
        return;
    }
    if (done < 0) {
        refuse(st, fd, why);
        return;
    }
    r = calloc(1, sizeof(*r));
    if (!r) {
        refuse(st, fd, "no memory to wait for its PROXY header");
        return;
    }
    r->io = (struct zc__io) { .fd = fd, .cb = on_reading };
    r->st = st;
    r->listener = listener;
    r->since_us = now;
    if (zc__loop_add(&st->p->loop, &r->io, EPOLLIN | EPOLLRDHUP) < 0) {
        free(r);
        refuse(st, fd, "cannot watch it for its PROXY header");
        return;
    }
    r->prev = st->rtail;
    if (st->rtail)
        st->rtail->next = r;
    else
        st->rhead = r;
    st->rtail = r;
    if (st->rhead == r)
        read_rearm(st);
}

static void on_read_timer(struct zc__loop *l, struct zc__timer *t)
{
    struct zc__sticky *st = zc__container_of(t, struct zc__sticky, read_timer);
    uint64_t now = zc__now_us(), limit = st->p->opt.proxy_timeout_ms * 1000ull;

    (void) l;
    while (st->rhead && st->rhead->since_us + limit <= now) {
        struct reading *r = st->rhead;

        reading_unlink(st, r);
        refuse(st, r->io.fd, "no complete PROXY header in time");
    }
    read_rearm(st);
}

/* -- life cycle ------------------------------------------------------------ */

int zc__sticky_start(struct zc_primary *p)
{
    struct zc__sticky *st = calloc(1, sizeof(*st));

    if (!st || !(st->lsn = calloc(p->n_listeners ? p->n_listeners : 1,
                                  sizeof(*st->lsn)))) {
        free(st);
        zc_log(ZC_LOG_ERROR, NS, "cannot start: no memory for sticky sessions");
        return -ENOMEM;
    }
    st->p = p;
    p->sticky = st;
    zc__timer_init(&st->pause_timer, on_pause_timer);
    zc__timer_init(&st->read_timer, on_read_timer);
    for (size_t i = 0; i < p->n_listeners; i++) {
        struct lsn *ln = &st->lsn[i];
        int r;

        /* Ours alone (workers do not get them): never blocking. */
        (void) fcntl(p->listeners[i].fd, F_SETFL,
                     fcntl(p->listeners[i].fd, F_GETFL) | O_NONBLOCK);
        *ln = (struct lsn) { .io = { .fd = p->listeners[i].fd, .cb = on_listen },
                             .st = st, .index = (unsigned) i };
        zc__timer_init(&ln->poll_timer, on_poll_timer);
        r = zc__loop_add(&p->loop, &ln->io, EPOLLIN);
        if (r < 0) {
            zc_log(ZC_LOG_ERROR, NS, "cannot start: watching %s: %s",
                   p->listeners[i].text, zc_strerror(r));
            return r;
        }
        st->n_lsn++;
    }
    return 0;
}

static void close_waiting(struct zc__sticky *st)
{
    struct zc_primary *p = st->p;

    for (unsigned i = 0; i < p->n_slots; i++) {
        struct slot *s = p->slots[i];

        zc__timer_stop(&p->loop, &s->wait_timer);
        while (s->wait_head)
            drop(dequeue(p, s), true, &st->stats.closed_shutdown);
    }
    while (st->rhead) {
        struct reading *r = st->rhead;

        reading_unlink(st, r);
        (void) close(r->io.fd);
        st->stats.closed_shutdown++;
    }
    zc__timer_stop(&p->loop, &st->read_timer);
}

void zc__sticky_stop(struct zc_primary *p)
{
    struct zc__sticky *st = p->sticky;
    uint64_t before;

    if (!st || st->stopped)
        return;
    st->stopped = true;
    zc__timer_stop(&p->loop, &st->pause_timer);
    if (!st->paused)
        watch_listeners(st, false);
    before = st->stats.closed_shutdown;
    close_waiting(st);
    if (st->stats.closed_shutdown > before)
        zc_log(ZC_LOG_INFO, NS, "stopped accepting; closed %llu connection%s "
               "that waited for a worker",
               (unsigned long long) (st->stats.closed_shutdown - before),
               st->stats.closed_shutdown - before == 1 ? "" : "s");
    else
        zc_log(ZC_LOG_DEBUG, NS, "stopped accepting");
}

void zc__sticky_free(struct zc_primary *p)
{
    struct zc__sticky *st = p->sticky;

    if (!st)
        return;
    close_waiting(st);
    zc__sticky_before_poll(p);
    zc__timer_stop(&p->loop, &st->pause_timer);
    for (size_t i = 0; i < st->n_lsn; i++)
        zc__timer_stop(&p->loop, &st->lsn[i].poll_timer);
    free(st->lsn);
    free(st);
    p->sticky = NULL;
}

void zc__sticky_stats(const struct zc_primary *p, struct zc__sticky_stats *ret)
{
    if (p->sticky)
        *ret = p->sticky->stats;
    else
        memset(ret, 0, sizeof(*ret));
}
