/*
 * The primary accepts: for the modes where connections come to the primary
 * first (sticky sessions), every listener is watched, accepted from in
 * batches, and each connection is handed to the deliver callback once it
 * is ready to go: at once, or, with proxy_protocol, when its PROXY header
 * (v1 text or v2 binary) has been read, watched on its own, with MSG_PEEK
 * until it is whole and then consumed exactly, so the worker's first byte
 * is the client's first byte.
 *
 * Out of fds or kernel memory, accepting pauses (the connections wait in
 * the kernel's backlog) and resumes on a timer, or as soon as the caller
 * says it freed fds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/list.h"
#include "base/log.h"
#include "primary/spread/accept.h"
#include "proto/proxy.h"

#define NS "zc:sticky"
#define PAUSE_MS ZC__ACCEPT_PAUSE_MS
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

/* Accepted, its PROXY header not all in yet. */
struct reading {
    struct zc__io io;
    struct zc__accept *a;
    struct reading *prev, *next;    /* by deadline: all wait as long */
    unsigned listener;
    uint64_t since_us;
};

struct lsn {
    struct zc__io io;
    struct zc__accept *a;
    unsigned index;
    bool polling;               /* muted in epoll, accepted from on a timer */
    uint64_t last_wake_us;
    struct zc__timer poll_timer;
};

struct zc__accept {
    struct zc_primary *p;
    zc__accept_fn deliver;
    void *ud;
    struct lsn *lsn;
    size_t n_lsn;
    bool stopped;
    bool held;                  /* the caller has nowhere to put more */
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
    struct conn batch[ZC__ACCEPT_BATCH];
    struct zc__accept_stats stats;
};

static void start_reading(struct zc__accept *a, int fd, unsigned listener,
                          uint64_t now);

static void watch_listeners(struct zc__accept *a, bool on)
{
    for (size_t i = 0; i < a->n_lsn; i++) {
        struct lsn *ln = &a->lsn[i];

        if (on) {
            (void) zc__loop_add(&a->p->loop, &ln->io, EPOLLIN);
        } else {
            zc__timer_stop(&a->p->loop, &ln->poll_timer);
            ln->polling = false;
            zc__loop_del(&a->p->loop, &ln->io);
        }
    }
}

void zc__accept_resume(struct zc__accept *a)
{
    zc__timer_stop(&a->p->loop, &a->pause_timer);
    if (!a->paused || a->stopped)
        return;
    a->paused = false;
    if (!a->held)
        watch_listeners(a, true);
}

void zc__accept_hold(struct zc__accept *a, bool hold)
{
    if (a->stopped || a->held == hold)
        return;
    a->held = hold;
    if (!a->paused)
        watch_listeners(a, !hold);
}

static void on_pause_timer(struct zc__loop *l, struct zc__timer *t)
{
    (void) l;
    zc__accept_resume(zc__container_of(t, struct zc__accept, pause_timer));
}

/* Out of fds (or kernel memory): the connection stays in the backlog.
 * Retrying at once would spin, so stop watching the listeners and try
 * again on a timer, or as soon as a hand-off frees fds. */
static void pause_accepting(struct zc__accept *a, const struct lsn *ln, int err)
{
    struct zc_primary *p = a->p;
    uint64_t now = zc__now_us();

    if (!a->paused) {
        a->paused = true;
        watch_listeners(a, false);
    }
    a->stats.accept_pauses++;
    if (a->pauses++ == 0) {
        a->pause_start_us = now;
        /* Once per episode, and at most one episode a minute. */
        a->pause_logged = !a->last_pause_log_us ||
                           now - a->last_pause_log_us >= PAUSE_LOG_EVERY_US;
        if (a->pause_logged) {
            a->last_pause_log_us = now;
            zc_log(ZC_LOG_WARN, NS, "cannot accept on %s: %s; pausing accepts, "
                   "retrying every %u ms (connections wait in the listen "
                   "queue)", p->listeners[ln->index].text, zc_strerror(-err),
                   PAUSE_MS);
        }
    }
    (void) zc__timer_start(&p->loop, &a->pause_timer, now + PAUSE_MS * 1000ull);
}

static void accepted_again(struct zc__accept *a)
{
    if (a->pause_logged)
        zc_log(ZC_LOG_INFO, NS, "accepting again after %llu ms (%u retries)",
               (unsigned long long) ((zc__now_us() - a->pause_start_us) / 1000),
               a->pauses);
    a->pauses = 0;
    a->pause_logged = false;
}

/* Returns true when accepting on this listener should stop for now. */
static bool accept_failed(struct zc__accept *a, const struct lsn *ln, int err)
{
    switch (err) {
    case EAGAIN:
        return true;
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
        pause_accepting(a, ln, err);
        return true;
    default:
        /* ECONNABORTED, EPROTO, EPERM (a firewall), network errors: that
         * one connection is gone, the next may be fine. */
        zc_log(ZC_LOG_DEBUG, NS, "accept on %s: %s",
               a->p->listeners[ln->index].text, zc_strerror(-err));
        return false;
    }
}

/* Accepts what is there, up to ZC__ACCEPT_BATCH, and hands it on.
 * Returns how many connections it took. */
static size_t accept_round(struct lsn *ln, uint64_t now)
{
    struct zc__accept *a = ln->a;
    size_t n = 0, taken = 0;

    for (int tries = 0; tries < ZC__ACCEPT_BATCH && !a->paused && !a->held;
         tries++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        struct conn *c = &a->batch[n];
        int fd = accept4(ln->io.fd, (struct sockaddr *) &ss, &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd == -1) {
            if (errno == EINTR)
                continue;
            if (accept_failed(a, ln, errno))
                break;
            continue;
        }
        taken++;
        if (a->pauses)
            accepted_again(a);
        if (a->p->opt.proxy_protocol) {
            start_reading(a, fd, ln->index, now);
            continue;
        }
        c->fd = fd;
        c->listener = ln->index;
        c->since_us = now;
        c->proxied = false;
        (void) zc__handoff_addr_text((struct sockaddr *) &ss, c->client,
                                     &c->client_port);
        n++;
    }
    if (n)
        a->deliver(a->batch, n, a->ud);
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
    if (accept_round(ln, now) == 0 || !hot || ln->a->paused || ln->a->held ||
        zc__loop_mod(&ln->a->p->loop, io, 0) < 0)
        return;
    ln->polling = true;
    (void) zc__timer_start(&ln->a->p->loop, &ln->poll_timer, now + POLL_US);
}

static void on_poll_timer(struct zc__loop *l, struct zc__timer *t)
{
    struct lsn *ln = zc__container_of(t, struct lsn, poll_timer);
    struct zc__accept *a = ln->a;
    uint64_t now = zc__now_us();
    size_t n;

    (void) l;
    if (!ln->polling || a->paused || a->held || a->stopped)
        return;
    n = accept_round(ln, now);
    if (a->paused || a->held || !ln->polling)
        return;
    ln->last_wake_us = now;
    if (n > 0) {
        /* A full batch: more is waiting, go on at once. */
        (void) zc__timer_start(&a->p->loop, &ln->poll_timer,
                               n == ZC__ACCEPT_BATCH ? now : now + POLL_US);
        return;
    }
    /* Quiet again: back to being woken by the next connection. */
    ln->polling = false;
    (void) zc__loop_mod(&a->p->loop, &ln->io, EPOLLIN);
}

/* An event already collected for a reading that is done with. */
static void on_dead(struct zc__loop *l, struct zc__io *io, uint32_t events)
{
    (void) l;
    (void) io;
    (void) events;
}

/* Out of the list and the epoll set, onto the dead list. */
static void reading_unlink(struct zc__accept *a, struct reading *r)
{
    ZC__LIST_REMOVE_TAIL(a->rhead, a->rtail, r);
    zc__loop_del(&a->p->loop, &r->io);
    r->io.cb = on_dead;
    r->next = a->rdead;
    a->rdead = r;
}

static void read_rearm(struct zc__accept *a)
{
    struct zc_primary *p = a->p;

    if (a->rhead)
        (void) zc__timer_start(&p->loop, &a->read_timer, a->rhead->since_us +
                               p->opt.proxy_timeout_ms * 1000ull);
    else
        zc__timer_stop(&p->loop, &a->read_timer);
}

static void refuse(struct zc__accept *a, int fd, const char *why)
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
    a->stats.closed_proxy++;
    (void) close(fd);
}

/*
 * Tries to complete fd's header into *c. Returns 1 when it is consumed
 * and c is filled, 0 when more bytes are needed, -errno when the
 * connection is to be refused (-EBADMSG: not a valid header; -ECONNRESET:
 * closed before it was whole; *why says it for the log). Closes nothing:
 * a connection watched by epoll must leave the set before its fd goes,
 * since the file lives on in the worker and would go on reporting events.
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
        return n == 0 ? -ECONNRESET : -errno;
    }
    r = zc__proxy_parse(buf, (size_t) n, &px, why);
    if (r == 0 && (size_t) n == sizeof(buf)) {
        *why = "PROXY header longer than " ZC__PROXY_MAX_TEXT " bytes";
        r = -EBADMSG;
    }
    if (r <= 0)
        return r;
    /* Exactly the header: what follows is the client's, for the worker. */
    do
        n = recv(fd, buf, (size_t) r, 0);
    while (n == -1 && errno == EINTR);
    if (n != r) {
        *why = "its PROXY header could not be consumed";
        return n < 0 ? -errno : -EIO;
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

static void header_done(struct zc__accept *a, struct conn *c)
{
    a->deliver(c, 1, a->ud);
}

static void on_reading(struct zc__loop *l, struct zc__io *io, uint32_t events)
{
    struct reading *r = zc__container_of(io, struct reading, io);
    struct zc__accept *a = r->a;
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
    reading_unlink(a, r);
    if (done > 0)
        header_done(a, &c);
    else
        refuse(a, r->io.fd, why);
    read_rearm(a);
}

static void start_reading(struct zc__accept *a, int fd, unsigned listener,
                          uint64_t now)
{
    struct conn c = { .listener = listener, .since_us = now };
    const char *why = NULL;
    struct reading *r;
    int done = try_header(fd, &c, &why);

    /* Usually the header came with the handshake's last packet. */
    if (done > 0) {
        header_done(a, &c);
        return;
    }
    if (done < 0) {
        refuse(a, fd, why);
        return;
    }
    r = calloc(1, sizeof(*r));
    if (!r) {
        refuse(a, fd, "no memory to wait for its PROXY header");
        return;
    }
    r->io = (struct zc__io) { .fd = fd, .cb = on_reading };
    r->a = a;
    r->listener = listener;
    r->since_us = now;
    if (zc__loop_add(&a->p->loop, &r->io, EPOLLIN | EPOLLRDHUP) < 0) {
        free(r);
        refuse(a, fd, "cannot watch it for its PROXY header");
        return;
    }
    ZC__LIST_APPEND(a->rhead, a->rtail, r);
    if (a->rhead == r)
        read_rearm(a);
}

static void on_read_timer(struct zc__loop *l, struct zc__timer *t)
{
    struct zc__accept *a = zc__container_of(t, struct zc__accept, read_timer);
    uint64_t now = zc__now_us(), limit = a->p->opt.proxy_timeout_ms * 1000ull;

    (void) l;
    while (a->rhead && a->rhead->since_us + limit <= now) {
        struct reading *r = a->rhead;

        reading_unlink(a, r);
        refuse(a, r->io.fd, "no complete PROXY header in time");
    }
    read_rearm(a);
}

/* Done with, freed before the loop waits. */
void zc__accept_before_poll(struct zc__accept *a)
{
    while (a && a->rdead) {
        struct reading *r = a->rdead;

        a->rdead = r->next;
        free(r);
    }
}

int zc__accept_start(struct zc__accept **ret, struct zc_primary *p,
                     zc__accept_fn deliver, void *ud)
{
    struct zc__accept *a = calloc(1, sizeof(*a));

    if (!a || !(a->lsn = calloc(p->n_listeners ? p->n_listeners : 1,
                                sizeof(*a->lsn)))) {
        free(a);
        return -ENOMEM;
    }
    a->p = p;
    a->deliver = deliver;
    a->ud = ud;
    *ret = a;
    zc__timer_init(&a->pause_timer, on_pause_timer);
    zc__timer_init(&a->read_timer, on_read_timer);
    for (size_t i = 0; i < p->n_listeners; i++) {
        struct lsn *ln = &a->lsn[i];
        int r;

        /* Ours alone (workers do not get them): never blocking. */
        (void) fcntl(p->listeners[i].fd, F_SETFL,
                     fcntl(p->listeners[i].fd, F_GETFL) | O_NONBLOCK);
        *ln =
            (struct lsn) { .io = { .fd = p->listeners[i].fd, .cb = on_listen },
                           .a = a,
                           .index = (unsigned) i };
        zc__timer_init(&ln->poll_timer, on_poll_timer);
        r = zc__loop_add(&p->loop, &ln->io, EPOLLIN);
        if (r < 0) {
            zc_log(ZC_LOG_ERROR, NS, "cannot start: watching %s: %s",
                   p->listeners[i].text, zc_strerror(r));
            return r;
        }
        a->n_lsn++;
    }
    return 0;
}

/* Closes the connections still reading their header; returns how many. */
static uint64_t close_readings(struct zc__accept *a)
{
    uint64_t n = 0;

    while (a->rhead) {
        struct reading *r = a->rhead;

        reading_unlink(a, r);
        (void) close(r->io.fd);
        n++;
    }
    zc__timer_stop(&a->p->loop, &a->read_timer);
    return n;
}

uint64_t zc__accept_stop(struct zc__accept *a)
{
    if (!a || a->stopped)
        return 0;
    a->stopped = true;
    zc__timer_stop(&a->p->loop, &a->pause_timer);
    if (!a->paused && !a->held)
        watch_listeners(a, false);
    return close_readings(a);
}

void zc__accept_free(struct zc__accept *a)
{
    if (!a)
        return;
    (void) close_readings(a);
    zc__accept_before_poll(a);
    zc__timer_stop(&a->p->loop, &a->pause_timer);
    for (size_t i = 0; i < a->n_lsn; i++)
        zc__timer_stop(&a->p->loop, &a->lsn[i].poll_timer);
    free(a->lsn);
    free(a);
}

const struct zc__accept_stats *zc__accept_stats(const struct zc__accept *a)
{
    return &a->stats;
}

bool zc__accept_reading(const struct zc__accept *a)
{
    return a && a->rhead != NULL;
}

void zc__accept_take_stats(struct zc__accept *a,
                           const struct zc__accept_stats *st)
{
    if (a)
        a->stats = *st;
}
