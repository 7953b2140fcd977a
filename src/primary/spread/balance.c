/*
 * Load spread with --balance reuseport: every TCP address is a
 * SO_REUSEPORT group of sockets, one per slot, all bound and kept by the
 * primary, and slot k's worker gets slot k's socket (still LISTEN_FDS:
 * nothing changes for it). The kernel spreads new connections over the
 * group, so every worker gets its share; a shared socket instead wakes the
 * most recently idle worker and keep-alive bursts pile onto one.
 *
 * Because the primary holds every socket, a worker's death loses nothing
 * queued: those connections move to the live slots (eBPF) or wait in its
 * slot's socket for the replacement, and during a reload step the old and
 * new worker of a slot share it. New connections must not wait behind a
 * dead worker, so a program in the kernel picks among the sockets of the
 * slots whose worker is ready: round-robin with eBPF where the primary
 * may load it (proto/roundrobin.c: CAP_BPF, so as root), the set changed
 * by a map update; else at random with a classic program (proto/steer.c, no
 * privilege), attached again whenever the set changes. Both run before
 * the loop waits. For the classic program a socket's index in the group
 * is the order it started listening in, which is why its sockets are only
 * ever added (a slot scaled away keeps its socket, left out of the choice,
 * for the day the slot comes back) and the index of slot k's socket is k.
 * The eBPF program names sockets by slot in a map, so there a slot left
 * without a worker (dead, scaled away, given up on) has its socket closed
 * once no process of it holds it: the kernel asks the program where what
 * was queued on it goes (SELECT_OR_MIGRATE), and the slot's next worker
 * gets a new socket. Without eBPF, what was queued waits for the next
 * worker, or is reset at once when the slot will not have one.
 *
 * Unix sockets cannot form a SO_REUSEPORT group, nor can sockets systemd
 * gave us (bound without SO_REUSEPORT): those stay shared.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/log.h"
#include "primary/spread/balance.h"
#include "proto/steer.h"

#define NS "zc:balance"

static bool groupable(const struct zc_primary *p, const struct listener *ln)
{
    return p->opt.balance == ZC_BALANCE_REUSEPORT && !ln->adopted &&
           (ln->addr.ss.ss_family == AF_INET ||
            ln->addr.ss.ss_family == AF_INET6);
}

/* ln's address with the port its first socket got (port 0 binds one). */
static void bound_address(const struct listener *ln, struct zc__addr *a)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    in_port_t port = 0;

    *a = ln->addr;
    if (getsockname(ln->fd, (struct sockaddr *) &ss, &len) == 0)
        port = ss.ss_family == AF_INET
               ? ((struct sockaddr_in *) &ss)->sin_port
               : ((struct sockaddr_in6 *) &ss)->sin6_port;
    if (a->ss.ss_family == AF_INET)
        ((struct sockaddr_in *) &a->ss)->sin_port = port;
    else
        ((struct sockaddr_in6 *) &a->ss)->sin6_port = port;
}

/*
 * A listener bound to port 0 got its port from the kernel, which gives it
 * back when the socket stops listening: moving what waits on slot 0's
 * socket (zc__balance_flush) would then listen on another port. So the
 * socket is made again, bound to the port it got, in place (the same fd
 * number), before any worker or client can know the port.
 */
static int pin_port(struct listener *ln)
{
    const struct sockaddr_in6 *in6 = (const void *) &ln->addr.ss;
    const struct sockaddr_in *in = (const void *) &ln->addr.ss;
    struct zc__addr a;
    int fd = -1, r;

    if (ln->addr.ss.ss_family == AF_INET ? in->sin_port : in6->sin6_port)
        return 0;
    bound_address(ln, &a);
    r = zc__addr_listen(&a, ZC_LISTEN_REUSEPORT, &fd);
    if (r == 0 && dup3(fd, ln->fd, O_CLOEXEC) < 0)
        r = -errno;
    if (fd >= 0)
        (void) close(fd);
    return r;
}

/* Sockets for slots up to n in ln's group. Returns 0 or -errno (logged). */
static int group_grow(struct listener *ln, unsigned n, bool round_robin)
{
    struct balance_listener *b = &ln->balance;
    struct zc__addr a;
    struct rlimit lim;
    int r;

    if (n > b->cap) {
        unsigned cap = b->cap ? b->cap : 4;
        int *v;

        while (cap < n)
            cap *= 2;
        v = realloc(b->fds, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        b->fds = v;
        b->cap = cap;
    }
    if (b->n == 0) {
        if ((r = pin_port(ln)) < 0) {
            zc_log(ZC_LOG_ERROR, NS, "cannot pin %s to the port it got: %s",
                   ln->text, zc_strerror(r));
            return r;
        }
        b->fds[b->n++] = ln->fd;
    }
    bound_address(ln, &a);
    while (b->n < n) {
        r = zc__addr_listen(&a, ZC_LISTEN_REUSEPORT, &b->fds[b->n]);
        if (r == -EMFILE && getrlimit(RLIMIT_NOFILE, &lim) == 0) {
            zc_log(ZC_LOG_ERROR, NS,
                   "cannot add slot %u's socket to the "
                   "SO_REUSEPORT group of %s: the primary has no file "
                   "descriptor left (its limit, RLIMIT_NOFILE, is %llu, and "
                   "every slot takes a socket per TCP address): raise it with "
                   "ulimit -n or LimitNOFILE=, or use --balance shared",
                   b->n, ln->text, (unsigned long long) lim.rlim_cur);
            return r;
        }
        if (r < 0) {
            zc_log(ZC_LOG_ERROR, NS, "cannot add slot %u's socket to the "
                   "SO_REUSEPORT group of %s: %s", b->n, ln->text,
                   zc_strerror(r));
            return r;
        }
        if (round_robin && (r = zc__rr_add(&b->rr, b->n, b->fds[b->n])) < 0) {
            zc_log(ZC_LOG_ERROR, NS, "cannot add slot %u's socket on %s to "
                   "the round-robin map: %s", b->n, ln->text, zc_strerror(r));
            (void) close(b->fds[b->n]);
            return r;
        }
        b->n++;
    }
    return 0;
}

static void rr_close_all(struct zc_primary *p)
{
    for (size_t i = 0; i < p->n_listeners; i++)
        zc__rr_close(&p->listeners[i].balance.rr);
    p->balance.round_robin = false;
}

/* Round-robin maps for every group, or for none (then the classic random
 * pick, said once with why). */
static void rr_open(struct zc_primary *p)
{
    int r = 0;

    for (size_t i = 0; i < p->n_listeners; i++)
        p->listeners[i].balance.rr = ZC__RR_CLOSED;

    for (size_t i = 0; i < p->n_listeners && r == 0; i++) {
        struct balance_listener *b = &p->listeners[i].balance;

        if (b->n == 0)
            continue;
        r = zc__rr_open(&b->rr);
        for (unsigned k = 0; k < b->n && r == 0; k++)
            r = zc__rr_add(&b->rr, k, b->fds[k]);
    }
    if (r == 0) {
        p->balance.round_robin = true;
        p->balance.migrate = true;
        return;
    }
    rr_close_all(p);
    zc_log(ZC_LOG_INFO, NS, "new connections go to the ready slots at random, "
           "not round-robin: that needs an eBPF program, %s",
           r == -EPERM ? "which takes CAP_BPF (root)"
                       : "which this kernel refused");
    if (r != -EPERM)
        zc_log(ZC_LOG_DEBUG, NS, "eBPF round-robin: %s", zc_strerror(r));
}

static int grow(struct zc_primary *p, struct listener *ln, unsigned n)
{
    int r;

    if (!groupable(p, ln))
        return 0;
    r = group_grow(ln, n, p->balance.round_robin);
    if (r == -ENOMEM)
        zc_log(ZC_LOG_ERROR, NS, "no memory for the sockets of %u slots on %s",
               n, ln->text);
    return r;
}

/* Upgraded: every group as it was, its program still attached and its
 * round-robin counter going on, the slots it steers to unchanged (so
 * the next steering finds nothing to change). */
static int take_carried(struct zc_primary *p, struct carried *c)
{
    struct balance_fleet *f = &p->balance;

    for (size_t i = 0; i < p->n_listeners; i++) {
        struct balance_listener *b = &p->listeners[i].balance;
        struct carried_listener *cl = i < c->n_listen ? &c->listen[i] : NULL;

        b->rr = ZC__RR_CLOSED;
        if (!cl || !cl->n_group)
            continue;
        b->fds = cl->group;
        b->n = b->cap = cl->n_group;
        b->rr = cl->rr;
        cl->group = NULL;
        cl->n_group = 0;
        cl->rr = ZC__RR_CLOSED;
    }
    f->live = c->live;
    f->n_live = f->cap_live = c->n_live;
    c->live = NULL;
    f->round_robin = c->round_robin;
    f->steered = c->steered;
    f->said_no_steering = c->said_no_steering;
    f->migrate = c->migrate;
    f->steer_changes = c->counts[0];
    f->waited = c->counts[1];
    f->moved = c->counts[2];
    f->reset = c->counts[3];
    f->taken_out = c->counts[4];
    f->watch_ticks = c->counts[5];
    f->stuck_moved = c->counts[6];
    f->stuck_reset = c->counts[7];
    return 0;
}

int zc__balance_open(struct zc_primary *p)
{
    if (p->opt.balance != ZC_BALANCE_REUSEPORT)
        return 0;
    if (p->carried)
        return take_carried(p, p->carried);
    for (size_t i = 0; i < p->n_listeners; i++) {
        struct listener *ln = &p->listeners[i];
        int r;

        if (!groupable(p, ln)) {
            zc_log(ZC_LOG_INFO, NS, "%s stays one socket shared by every "
                   "worker: %s", ln->text, ln->adopted
                   ? "it was given to us (LISTEN_FDS) without SO_REUSEPORT"
                   : "a unix socket cannot be a SO_REUSEPORT group");
            continue;
        }
        r = grow(p, ln, p->n_slots);
        if (r < 0)
            return r;
        zc_log(ZC_LOG_INFO, NS, "%s: a SO_REUSEPORT group of %u socket%s, one "
               "per slot; new connections go to the slots whose worker is "
               "ready", ln->text, ln->balance.n, PLURAL(ln->balance.n));
    }
    rr_open(p);
    return 0;
}

int zc__balance_scale(struct zc_primary *p, unsigned n)
{
    for (size_t i = 0; i < p->n_listeners; i++) {
        int r = grow(p, &p->listeners[i], n);

        if (r < 0)
            return r;
    }
    return 0;
}

/* Slot k's socket in ln's group again, after zc__balance_abandon closed
 * it: 0 or -errno (logged). */
static int reopen(struct listener *ln, unsigned k)
{
    struct balance_listener *b = &ln->balance;
    struct zc__addr a;
    int r;

    bound_address(ln, &a);
    r = zc__addr_listen(&a, ZC_LISTEN_REUSEPORT, &b->fds[k]);
    if (r == 0 && (r = zc__rr_add(&b->rr, k, b->fds[k])) < 0) {
        (void) close(b->fds[k]);
        b->fds[k] = -1;
    }
    if (r < 0)
        zc_log(ZC_LOG_ERROR, NS, "cannot make slot %u's socket on %s again: %s",
               k, ln->text, zc_strerror(r));
    return r;
}

int zc__balance_worker_fds(struct zc_primary *p, unsigned slot, int *fds)
{
    for (size_t i = 0; i < p->n_listeners; i++) {
        struct listener *ln = &p->listeners[i];
        int r;

        if (slot < ln->balance.n && ln->balance.fds[slot] < 0 &&
            (r = reopen(ln, slot)) < 0)
            return r;
        fds[i] = zc__listener_fd(ln, slot);
    }
    return 0;
}

/*
 * Takes what waits in fd's queue and resets it (SO_LINGER 0): how many.
 * The socket's file is shared with the slot's workers, so its blocking
 * mode is theirs: a worker that accepts blocking keeps it, and a receive
 * timeout bounds our accepts instead (read by accept when it starts, so a
 * worker already waiting in accept is not affected). At most a backlog's
 * worth: the slot is out of the steering, nothing new arrives.
 */
static unsigned reset_queued(int fd)
{
    struct linger rst = { .l_onoff = 1, .l_linger = 0 };
    struct timeval brief = { .tv_usec = 1000 }, was;
    socklen_t len = sizeof(was);
    unsigned n = 0;
    int c;

    if (getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &was, &len) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &brief, sizeof(brief)) < 0)
        return 0;
    while (n < ZC__LISTEN_BACKLOG &&
           (c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        (void) setsockopt(c, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
        (void) close(c);
        n++;
    }
    (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &was, sizeof(was));
    return n;
}

/* Whether the slot's sockets are the primary's alone: no process of it
 * (a worker, a replacement, one still draining) is left to hold them. */
static bool unheld(const struct zc_primary *p, unsigned slot)
{
    for (const struct worker *w = p->workers; w; w = w->next)
        if (w->slot_index == slot)
            return false;
    return true;
}

/* Whether what waits on the slot's sockets can be moved: the eBPF
 * program names sockets by slot, so the slot's can close; for the classic
 * one a place in the group is a slot, and slot 0's socket is the listener
 * itself: those stay open. */
static bool movable(const struct zc_primary *p, unsigned slot)
{
    return p->opt.balance == ZC_BALANCE_REUSEPORT && !p->shutting_down &&
           p->balance.round_robin && slot > 0 && unheld(p, slot);
}

/* Closes the slot's sockets (movable ones): the last reference, so the
 * kernel hands what waited to the program (SELECT_OR_MIGRATE), which
 * picks a live slot. The slot's next worker gets new ones. How many. */
static unsigned move_queued(struct zc_primary *p, unsigned slot)
{
    unsigned moved = 0;

    for (size_t i = 0; i < p->n_listeners; i++) {
        struct balance_listener *b = &p->listeners[i].balance;

        if (slot >= b->n || b->fds[slot] < 0)
            continue;
        moved += zc__balance_queued(&p->listeners[i], slot);
        zc__balance_unwatch(p, b, slot);
        (void) close(b->fds[slot]);
        b->fds[slot] = -1;
    }
    p->balance.moved += moved;
    return moved;
}

void zc__balance_abandon(struct zc_primary *p, unsigned slot, const char *why)
{
    unsigned moved = 0, reset = 0;

    if (p->opt.balance != ZC_BALANCE_REUSEPORT || p->shutting_down ||
        !unheld(p, slot))
        return; /* a worker of it still holds them: at its exit */
    if (movable(p, slot)) {
        moved = move_queued(p, slot);
    } else {
        /* Not movable: reset now, not left to time out. */
        for (size_t i = 0; i < p->n_listeners; i++) {
            struct balance_listener *b = &p->listeners[i].balance;

            if (slot < b->n && b->fds[slot] >= 0)
                reset += reset_queued(b->fds[slot]);
        }
        p->balance.reset += reset;
    }
    if (moved)
        zc_log(ZC_LOG_INFO, NS,
               "slot %u is %s: its socket is closed and the "
               "%u connection%s queued there go%s to the other slots",
               slot, why, moved, PLURAL(moved), moved == 1 ? "es" : "");
    if (reset)
        zc_log(ZC_LOG_WARN, NS,
               "slot %u is %s: %u connection%s queued on its "
               "socket reset at once (%s)",
               slot, why, reset, PLURAL(reset),
               slot == 0 ? "slot 0's socket is the listener itself, which "
                           "stays open"
                         : "only the eBPF round-robin, as root, lets the "
                           "kernel move them to another slot");
    if (!moved && !reset)
        zc_log(ZC_LOG_DEBUG, NS, "slot %u is %s: nothing was queued on it",
               slot, why);
}

/* The slots to steer to, in p->balance.live; true when they changed. */
static bool live_changed(struct zc_primary *p, unsigned *n_live)
{
    struct balance_fleet *b = &p->balance;
    bool changed = false;
    unsigned n = 0;

    if (p->n_slots > b->cap_live) {
        unsigned *v = realloc(b->live, p->n_slots * sizeof(*v));

        if (!v)
            return false;       /* the old program stays: tried again later */
        b->live = v;
        b->cap_live = p->n_slots;
    }
    for (unsigned k = 0; k < p->n_slots; k++) {
        if (!zc__slot_live(p->slots[k]))
            continue;
        changed |= n >= b->n_live || b->live[n] != k;
        b->live[n++] = k;
    }
    changed |= n != b->n_live || !b->steered;
    *n_live = n;
    return changed;
}

/* Said when a slot drops out (at debug level as they come in, so a
 * starting fleet says nothing). */
static void say_left_out(const struct zc_primary *p, unsigned n_live,
                         bool shrank)
{
    char list[160];
    size_t len = 0;
    unsigned out = 0;

    list[0] = '\0';
    for (unsigned k = 0, j = 0; k < p->n_slots; k++) {
        if (j < n_live && p->balance.live[j] == k) {
            j++;
            continue;
        }
        if (out++ < 8 && len < sizeof(list))
            len += (size_t) snprintf(list + len, sizeof(list) - len, "%s%u",
                                     len ? ", " : "", k);
    }
    if (out > 8 && len < sizeof(list))
        snprintf(list + len, sizeof(list) - len, " and %u more", out - 8);
    zc_log(shrank ? ZC_LOG_INFO : ZC_LOG_DEBUG, NS, "new connections "
           "go to %u of %u slots%s%s%s", n_live, p->n_slots,
           !out ? "" : out > 1 ? " (not to slots " : " (not to slot ", list,
           out ? ")" : "");
}

/* The round-robin program's live set is a map: one update per group, and
 * the program attached the first time. False (logged) when the kernel
 * refused either: the classic program takes over. */
static bool steer_rr(struct zc_primary *p, unsigned n_live)
{
    int r = 0;

    for (size_t i = 0; i < p->n_listeners && r == 0; i++) {
        struct balance_listener *b = &p->listeners[i].balance;

        if (b->n == 0)
            continue;
        r = zc__rr_live(&b->rr, p->balance.live, n_live);
        if (r == 0 && !p->balance.steered)
            r = zc__rr_attach(&b->rr, b->fds[0]);
    }
    if (r == 0)
        return true;
    zc_log(ZC_LOG_WARN, NS, "round-robin steering failed (%s): new "
           "connections go to the ready slots at random from now on",
           zc_strerror(r));
    rr_close_all(p);
    return false;
}

static bool steer_random(struct zc_primary *p, unsigned n_live)
{
    struct balance_fleet *b = &p->balance;
    struct sock_filter code[2 * ZC__STEER_MAX + 8];
    struct sock_fprog prog = { .filter = code };
    int n;

    /* Past what one program can name: the kernel's own spread. */
    n = zc__steer_program(b->live, n_live > ZC__STEER_MAX ? 0 : n_live, code,
                          sizeof(code) / sizeof(code[0]));
    if (n < 0)
        return false;
    prog.len = (unsigned short) n;
    for (size_t i = 0; i < p->n_listeners; i++) {
        const struct listener *ln = &p->listeners[i];

        if (ln->balance.n == 0 ||
            setsockopt(ln->balance.fds[0], SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF,
                       &prog, sizeof(prog)) == 0)
            continue;
        zc_log(ZC_LOG_WARN, NS, "cannot steer %s's new connections away from "
               "dead slots (SO_ATTACH_REUSEPORT_CBPF: %s): the kernel spreads "
               "them over every slot from now on, and those of a slot with no "
               "worker wait for it", ln->text, zc_strerror(-errno));
        b->said_no_steering = true;
        return false;
    }
    return true;
}

void zc__balance_steer(struct zc_primary *p)
{
    struct balance_fleet *b = &p->balance;
    unsigned n_live = 0;

    /* A kernel that refused the program once refuses it again: the
     * fleet keeps the kernel's own spread, as logged then. */
    if (p->opt.balance != ZC_BALANCE_REUSEPORT || p->shutting_down ||
        b->said_no_steering || !live_changed(p, &n_live))
        return;
    if (!(b->round_robin && steer_rr(p, n_live)) && !steer_random(p, n_live))
        return;
    say_left_out(p, n_live, b->steered && n_live < b->n_live);
    b->n_live = n_live;
    b->steered = true;
    b->steer_changes++;
}

unsigned zc__balance_queued(const struct listener *ln, unsigned slot)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    if (getsockopt(zc__listener_fd(ln, slot), IPPROTO_TCP, TCP_INFO, &ti,
                   &len) < 0)
        return 0;
    return ti.tcpi_unacked;     /* a listener's accept queue */
}

void zc__balance_slot_lost(struct zc_primary *p, const struct slot *s)
{
    unsigned n = 0;

    /* What waited need not wait for the respawn where it can move. */
    if (movable(p, s->index)) {
        n = move_queued(p, s->index);
        if (n)
            zc_log(ZC_LOG_INFO, NS,
                   "slot %u lost its worker: its socket is "
                   "closed and the %u connection%s queued there go%s to the "
                   "other slots (its next worker gets a new socket)",
                   s->index, n, PLURAL(n), n == 1 ? "es" : "");
        return;
    }
    for (size_t i = 0; i < p->n_listeners; i++)
        if (p->listeners[i].balance.n > s->index)
            n += zc__balance_queued(&p->listeners[i], s->index);
    if (n == 0)
        return;
    p->balance.waited += n;
    zc_log(ZC_LOG_INFO, NS, "slot %u: %u connection%s queued in its socket "
           "wait%s for its next worker (the primary keeps the socket)",
           s->index, n, PLURAL(n), n == 1 ? "s" : "");
}

void zc__balance_close(struct zc_primary *p)
{
    for (size_t i = 0; i < p->n_listeners; i++) {
        struct balance_listener *b = &p->listeners[i].balance;

        for (unsigned k = 0; k < b->cap_io; k++) {
            zc__balance_unwatch(p, b, k);
            free(b->io[k]);
        }
        free(b->io);
        /* fds[0] is the listener's own, closed with it. */
        for (unsigned k = 1; k < b->n; k++)
            if (b->fds[k] >= 0)
                (void) close(b->fds[k]);
        free(b->fds);
        if (p->balance.round_robin)
            zc__rr_close(&b->rr);
        *b = (struct balance_listener) { 0 };
    }
    p->balance.round_robin = false;
    p->balance.migrate = false;
    zc__timer_stop(&p->loop, &p->balance.watch_timer);
    free(p->balance.live);
    p->balance.live = NULL;
}

void zc__balance_unwatch(struct zc_primary *p, struct balance_listener *b,
                         unsigned slot)
{
    struct balance_io *io = slot < b->cap_io ? b->io[slot] : NULL;

    /* The record stays until the listener goes (zc__balance_close): the
     * batch epoll returned may still name it, and the slot's next socket
     * takes it over. */
    if (!io || io->io.fd < 0)
        return;
    zc__loop_del(&p->loop, &io->io);
    io->io.fd = -1;
    io->armed = false;
}

/* Stops listening and listens again: the kernel moves what was queued to
 * the other sockets of the group (SELECT_OR_MIGRATE) and the socket, the
 * same one the worker holds, is empty and in the group again. */
static int relisten(struct balance_listener *b, unsigned k)
{
    if (shutdown(b->fds[k], SHUT_RD) < 0 ||
        listen(b->fds[k], ZC__LISTEN_BACKLOG) < 0)
        return -errno;
    return zc__rr_add(&b->rr, k, b->fds[k]);
}

int zc__balance_flush(struct zc_primary *p, unsigned slot)
{
    unsigned moved = 0;

    if (!p->balance.migrate)
        return -EOPNOTSUPP;
    for (size_t i = 0; i < p->n_listeners; i++) {
        struct listener *ln = &p->listeners[i];
        struct balance_listener *b = &ln->balance;
        unsigned n;
        int r;

        if (slot >= b->n || b->fds[slot] < 0)
            continue;
        n = zc__balance_queued(ln, slot);
        if ((r = relisten(b, slot)) < 0) {
            zc_log(ZC_LOG_ERROR, NS,
                   "cannot move what waits on slot %u's "
                   "socket on %s: %s",
                   slot, ln->text, zc_strerror(r));
            return r;
        }
        moved += n;
    }
    p->balance.moved += moved;
    return (int) moved;
}

unsigned zc__balance_reset_slot(struct zc_primary *p, unsigned slot)
{
    unsigned n = 0;

    for (size_t i = 0; i < p->n_listeners; i++) {
        struct balance_listener *b = &p->listeners[i].balance;

        if (slot < b->n && b->fds[slot] >= 0)
            n += reset_queued(b->fds[slot]);
    }
    p->balance.reset += n;
    return n;
}

void zc__balance_snapshot(const struct zc_primary *p,
                          struct balance_snapshot *out)
{
    const struct balance_fleet *b = &p->balance;

    *out = (struct balance_snapshot) { .round_robin = b->round_robin,
                                       .steered = b->steered,
                                       .n_live = b->n_live,
                                       .steer_changes = b->steer_changes,
                                       .waited = b->waited,
                                       .moved = b->moved,
                                       .reset = b->reset,
                                       .taken_out = b->taken_out,
                                       .all_stuck = b->all_stuck,
                                       .watch_ticks = b->watch_ticks };
    for (unsigned k = 0; k < p->n_slots; k++)
        out->n_out += zc__slot_out(p->slots[k]);
}

bool zc__balance_steered(const struct zc_primary *p, unsigned slot, uint64_t *n)
{
    bool counted = false;

    *n = 0;
    if (!p->balance.round_robin)
        return false;
    for (size_t i = 0; i < p->n_listeners; i++) {
        const struct balance_listener *b = &p->listeners[i].balance;
        uint64_t v;

        if (b->n && zc__rr_count(&b->rr, slot, &v) == 0) {
            *n += v;
            counted = true;
        }
    }
    return counted;
}
