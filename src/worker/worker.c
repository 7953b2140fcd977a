/*
 * The worker's end: its link to the primary (ZC_IPC_FD), the drain helper
 * and a small event loop.
 *
 * Everything the worker waits on sits in one private epoll instance, so an
 * application with its own loop watches a single fd (the epoll fd) and
 * calls zc_worker_dispatch(); one without calls zc_worker_run(), which is
 * the same dispatch behind a blocking wait. sd-event and sd-bus offer
 * their users the same shape.
 *
 * The drain follows the spec's lifecycle order, phase by phase; only the
 * in-flight phase waits, on the application's word (drain_progress) or on
 * a timerfd deadline, never on a sleep.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "proto/handlers.h"
#include "proto/handoff.h"
#include "proto/ipc.h"
#include "proto/types.h"
#include "base/log.h"
#include "base/loop.h"
#include "base/parse.h"
#include "metrics/layout.h"

#define NS "zc:worker"
#define LINK_QUEUE_MAX (1024 * 1024)
#define SIGNAL_DRAIN_MS 30000       /* drain time after SIGTERM/SIGINT */
#define ORPHAN_DRAIN_MS 5000        /* drain time once the primary is gone */
#define MAX_EVENTS 32
#define LINK_READS 16               /* 64 KiB reads per wake-up */

enum source_kind { SRC_LINK, SRC_SIGNAL, SRC_TIMER, SRC_WATCHDOG, SRC_APP };

/* Something in the epoll set; epoll's data.ptr points here. */
struct source {
    enum source_kind kind;
    int fd;
    bool dead;              /* unwatched during a dispatch: freed after it */
    zc_io_fn fn;
    void *userdata;
};

struct hook {
    int phase;
    zc_drain_fn fn;
    void *userdata;
};

enum drain_state { DRAIN_NONE, DRAIN_WAITING, DRAIN_DONE };

struct zc_worker {
    int epfd;
    struct zc__ipc link;        /* fd -1: no link, or it ended */
    uint32_t link_events;       /* what the link is registered for */
    struct source link_src, sig_src, timer_src, wd_src;
    int sigfd, timerfd;
    /* --watchdog: the cell the primary watches, bumped at every turn of
     * the loop; wdfd wakes the loop twice a period so an idle worker
     * pings too. NULL and -1 without a watchdog. */
    _Atomic uint64_t *ping;
    int wdfd;
    sigset_t old_mask;          /* restored by zc_worker_free */
    struct zc__handlers handlers;
    struct source **watches;
    size_t n_watches, cap_watches;
    struct hook *hooks;
    size_t n_hooks, cap_hooks;
    enum drain_state drain;
    uint64_t drain_start_us;
    bool in_dispatch;
    bool in_flight_running;     /* re-entrancy guard for drain_progress */
    bool recheck;
    zc_conn_fn conn_fn;         /* sticky: takes handed-off connections */
    void *conn_userdata;
    bool said_no_conn_fn, said_bad_record;
};

static int epoll_set(struct zc_worker *w, int op, struct source *s,
                     uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = s };

    return epoll_ctl(w->epfd, op, s->fd, &ev) == -1 ? -errno : 0;
}

/* EPOLLOUT only while something waits to be written: a writable socket
 * would otherwise wake the loop forever. */
static void link_update_events(struct zc_worker *w)
{
    uint32_t want = EPOLLIN | (zc__ipc_pending(&w->link) ? EPOLLOUT : 0);

    if (w->link.fd >= 0 && want != w->link_events &&
        epoll_set(w, EPOLL_CTL_MOD, &w->link_src, want) == 0)
        w->link_events = want;
}

static void link_close(struct zc_worker *w)
{
    if (w->link.fd >= 0)
        (void) epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->link.fd, NULL);
    zc__ipc_close(&w->link);
}

/* -- drain ---------------------------------------------------------------- */

static const char *const phase_names[ZC_DRAIN_PHASES] = {
    "before-shutdown", "stop-accepting", "close-long-lived", "in-flight",
    "force-close", "close-resources", "shutdown",
};

/* Runs a phase's hooks in order; returns the sum of positive returns. */
static long run_phase(struct zc_worker *w, int phase)
{
    long busy = 0;

    for (size_t i = 0; i < w->n_hooks; i++) {
        int r;

        if (w->hooks[i].phase != phase)
            continue;
        r = w->hooks[i].fn(w, phase, w->hooks[i].userdata);
        if (r < 0)
            zc_log(ZC_LOG_ERROR, NS, "drain: a %s hook failed: %s; going on",
                   phase_names[phase], zc_strerror(r));
        else
            busy += r;
    }
    return busy;
}

static void drain_finish(struct zc_worker *w)
{
    struct itimerspec off = { 0 };

    (void) timerfd_settime(w->timerfd, 0, &off, NULL);
    run_phase(w, ZC_DRAIN_CLOSE_RESOURCES);
    run_phase(w, ZC_DRAIN_AFTER);
    w->drain = DRAIN_DONE;
    zc_log(ZC_LOG_INFO, NS, "drained in %llu ms",
           (unsigned long long) ((zc__now_us() - w->drain_start_us) / 1000));
}

static void check_in_flight(struct zc_worker *w)
{
    long busy;

    if (w->drain != DRAIN_WAITING)
        return;
    if (w->in_flight_running) {
        w->recheck = true;  /* a hook reported progress: ask again after */
        return;
    }
    w->in_flight_running = true;
    do {
        w->recheck = false;
        busy = run_phase(w, ZC_DRAIN_IN_FLIGHT);
    } while (w->recheck && busy > 0);
    w->in_flight_running = false;
    if (busy == 0)
        drain_finish(w);
}

int zc_worker_drain(zc_worker *w, uint32_t timeout_ms)
{
    struct itimerspec at = {
        .it_value = { timeout_ms / 1000, (long) (timeout_ms % 1000) * 1000000 },
    };

    if (!w)
        return -EINVAL;
    if (w->drain != DRAIN_NONE)
        return 0;
    w->drain = DRAIN_WAITING;
    w->drain_start_us = zc__now_us();
    zc_log(ZC_LOG_INFO, NS, "draining, up to %u ms for requests in flight",
           timeout_ms);
    /* The primary hears it before anything closes, so it holds back the
     * stop signal: we are already doing what it would ask. */
    if (w->link.fd >= 0)
        (void) zc__ipc_send(&w->link, ZC__MSG_STOPPING, NULL, 0, NULL, 0,
                            false);
    else
        (void) zc_notify("STOPPING=1");
    link_update_events(w);
    run_phase(w, ZC_DRAIN_BEFORE);
    run_phase(w, ZC_DRAIN_STOP_ACCEPTING);
    run_phase(w, ZC_DRAIN_CLOSE_LONG_LIVED);
    if (at.it_value.tv_sec == 0 && at.it_value.tv_nsec == 0)
        at.it_value.tv_nsec = 1;        /* 0 would disarm: expire at once */
    (void) timerfd_settime(w->timerfd, 0, &at, NULL);
    check_in_flight(w);
    return 0;
}

void zc_worker_drain_progress(zc_worker *w)
{
    if (w)
        check_in_flight(w);
}

bool zc_worker_is_draining(const zc_worker *w)
{
    return w && w->drain != DRAIN_NONE;
}

static void on_drain_timeout(struct zc_worker *w)
{
    uint64_t n;

    /* How many expiries does not matter: the drain's state decides. */
    if (read(w->timerfd, &n, sizeof(n)) < 0)
        n = 0;
    if (w->drain != DRAIN_WAITING)
        return;
    zc_log(ZC_LOG_WARN, NS, "drain timeout reached with requests still in "
           "flight: closing them");
    run_phase(w, ZC_DRAIN_FORCE_CLOSE);
    drain_finish(w);
}

int zc_worker_on_drain(zc_worker *w, int phase, zc_drain_fn fn, void *userdata)
{
    if (!w || !fn || phase < 0 || phase >= ZC_DRAIN_PHASES)
        return -EINVAL;
    if (w->n_hooks == w->cap_hooks) {
        size_t cap = w->cap_hooks ? w->cap_hooks * 2 : 8;
        struct hook *v = realloc(w->hooks, cap * sizeof(*v));

        if (!v)
            return -ENOMEM;
        w->hooks = v;
        w->cap_hooks = cap;
    }
    w->hooks[w->n_hooks++] = (struct hook) { phase, fn, userdata };
    return 0;
}

/* -- the link -------------------------------------------------------------- */

/* "shutdown" carries the primary's deadline in ms (ASCII decimal). */
static uint32_t shutdown_timeout(const struct zc__ipc_frame *f)
{
    unsigned long v = 0;
    size_t i;

    for (i = 0; i < f->len && i < 10; i++) {
        if (f->data[i] < '0' || f->data[i] > '9')
            break;
        v = v * 10 + (unsigned long) (f->data[i] - '0');
    }
    if (i == 0 || v > 24u * 3600 * 1000)
        return SIGNAL_DRAIN_MS;
    /* Leave a tenth (at most a second) for the phases after in-flight. */
    return (uint32_t) (v - (v / 10 < 1000 ? v / 10 : 1000));
}

/* A sticky primary's "zc.conn": each fd goes to the connection callback,
 * which owns it from then on. */
static void take_connections(struct zc_worker *w, struct zc__ipc_frame *f)
{
    const char *p = (const char *) f->data, *end = p + f->len;

    for (size_t i = 0; i < f->n_fds; i++) {
        char client[128], server[128];
        zc_conn c = { .fd = f->fds[i] };
        int r;

        if (!zc__handoff_parse(&p, end, &c, client, server, sizeof(client))) {
            if (!w->said_bad_record)
                zc_log(ZC_LOG_ERROR, NS, "a handed-off connection comes with "
                       "a record that does not parse; closing it");
            w->said_bad_record = true;
            return;             /* this fd and the rest are closed */
        }
        if (!w->conn_fn) {
            if (!w->said_no_conn_fn)
                zc_log(ZC_LOG_WARN, NS, "the primary hands us connections "
                       "(sticky sessions), but nothing takes them: closing "
                       "them (zc_worker_on_connection)");
            w->said_no_conn_fn = true;
            return;
        }
        f->fds[i] = -1;
        r = w->conn_fn(w, &c, w->conn_userdata);
        if (r < 0)
            zc_log(ZC_LOG_ERROR, NS, "the connection callback failed: %s",
                   zc_strerror(r));
    }
}

int zc_worker_on_connection(zc_worker *w, zc_conn_fn fn, void *userdata)
{
    if (!w)
        return -EINVAL;
    w->conn_fn = fn;
    w->conn_userdata = userdata;
    return 0;
}

static void on_frame(struct zc__ipc *c, struct zc__ipc_frame *f, void *userdata)
{
    struct zc_worker *w = userdata;
    zc_msg m = { .type = f->type, .data = f->data, .len = f->len,
                 .fds = f->fds, .n_fds = f->n_fds, .slot = -1 };

    (void) c;
    if (strcmp(f->type, ZC__MSG_SHUTDOWN) == 0 && w->drain == DRAIN_NONE) {
        zc_log(ZC_LOG_INFO, NS, "the primary asks us to shut down");
        zc_worker_drain(w, shutdown_timeout(f));
    } else if (strcmp(f->type, ZC__MSG_CONN) == 0) {
        take_connections(w, f);
    }
    zc__handlers_run(&w->handlers, &m, NS);
}

static void on_link(struct zc_worker *w, uint32_t events)
{
    int r = 0;

    if (events & EPOLLOUT)
        r = zc__ipc_flush(&w->link);
    if (r == 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        r = zc__ipc_read(&w->link, LINK_READS, on_frame, w);
    if (r == 0) {
        link_update_events(w);
        return;
    }
    if (r == 1 || r == -ECONNRESET || r == -EPIPE)
        zc_log(ZC_LOG_WARN, NS, "the primary is gone (%s); draining",
               r == 1 ? "its link closed" : w->link.why);
    else
        zc_log(ZC_LOG_ERROR, NS, "link to the primary: %s: %s; closing it "
               "and draining", w->link.why ? w->link.why : "error",
               zc_strerror(r));
    link_close(w);
    zc_worker_drain(w, ORPHAN_DRAIN_MS);
}

static void on_signal(struct zc_worker *w)
{
    struct signalfd_siginfo si;

    while (read(w->sigfd, &si, sizeof(si)) == sizeof(si)) {
        if (w->drain != DRAIN_NONE)
            continue;
        zc_log(ZC_LOG_INFO, NS, "received SIG%s", si.ssi_signo == SIGINT
               ? "INT" : "TERM");
        zc_worker_drain(w, SIGNAL_DRAIN_MS);
    }
}

int zc_worker_on(zc_worker *w, const char *type, zc_msg_fn fn, void *userdata)
{
    return w ? zc__handlers_add(&w->handlers, type, fn, userdata) : -EINVAL;
}

int zc_worker_send(zc_worker *w, const char *type, const void *data,
                   size_t len, const int *fds, size_t n_fds)
{
    int r;

    if (!w || zc__ipc_type_check(type, false) < 0 || (len && !data) ||
        (n_fds && !fds))
        return -EINVAL;
    if (w->link.fd < 0)
        return -ENOTCONN;
    r = zc__ipc_send(&w->link, type, data, len, fds, n_fds, false);
    if (!w->in_dispatch)
        link_update_events(w);
    return r == -EPIPE || r == -ECONNRESET ? -ENOTCONN : r;
}

bool zc_worker_is_linked(const zc_worker *w)
{
    return w && w->link.fd >= 0;
}

/* -- loop ------------------------------------------------------------------ */

static void process(struct zc_worker *w, const struct epoll_event *ev, int n)
{
    w->in_dispatch = true;
    w->link.corked = true;      /* answers go out together, below */
    for (int i = 0; i < n; i++) {
        struct source *s = ev[i].data.ptr;
        int r;

        if (s->dead)
            continue;
        switch (s->kind) {
        case SRC_LINK:
            if (w->link.fd >= 0)
                on_link(w, ev[i].events);
            break;
        case SRC_SIGNAL:
            on_signal(w);
            break;
        case SRC_TIMER:
            on_drain_timeout(w);
            break;
        case SRC_WATCHDOG: {
            uint64_t ticks;

            (void) !read(w->wdfd, &ticks, sizeof(ticks));
            break;
        }
        case SRC_APP:
            r = s->fn(s->fd, ev[i].events, s->userdata);
            if (r < 0)
                zc_log(ZC_LOG_ERROR, NS, "callback for fd %d failed: %s",
                       s->fd, zc_strerror(r));
            break;
        }
    }
    w->link.corked = false;
    w->in_dispatch = false;
    if (w->link.fd >= 0 && zc__ipc_flush(&w->link) < 0)
        zc_log(ZC_LOG_DEBUG, NS, "link: %s", w->link.why);
    link_update_events(w);
    /* Sources unwatched by callbacks are freed only now: events for them
     * may have been in this very batch. */
    for (size_t i = 0; i < w->n_watches;) {
        if (w->watches[i]->dead) {
            free(w->watches[i]);
            w->watches[i] = w->watches[--w->n_watches];
        } else {
            i++;
        }
    }
}

static int wait_and_process(struct zc_worker *w, int timeout_ms)
{
    struct epoll_event ev[MAX_EVENTS];
    int n;

    /* The watchdog's ping: a store the primary sees, no system call. A
     * loop that stops turning stops it, which is the point. */
    if (w->ping)
        atomic_fetch_add_explicit(w->ping, 1, memory_order_relaxed);
    n = epoll_wait(w->epfd, ev, MAX_EVENTS, timeout_ms);

    if (n == -1)
        return errno == EINTR ? 0 : -errno;
    process(w, ev, n);
    return w->drain == DRAIN_DONE ? 1 : 0;
}

int zc_worker_dispatch(zc_worker *w)
{
    if (!w)
        return -EINVAL;
    if (w->drain == DRAIN_DONE)
        return 1;
    return wait_and_process(w, 0);
}

int zc_worker_run(zc_worker *w)
{
    if (!w)
        return -EINVAL;
    for (;;) {
        int r;

        if (w->drain == DRAIN_DONE)
            return 0;
        /* Nothing could ever wake us: say so rather than hang. */
        if (w->link.fd < 0 && w->sigfd < 0 && w->n_watches == 0 &&
            w->drain == DRAIN_NONE)
            return -ENOENT;
        r = wait_and_process(w, -1);
        if (r < 0)
            return r;
    }
}

int zc_worker_fd(const zc_worker *w)
{
    return w ? w->epfd : -EINVAL;
}

int zc_worker_watch(zc_worker *w, int fd, uint32_t events, zc_io_fn fn,
                    void *userdata)
{
    struct source *s;
    int r;

    if (!w || fd < 0 || !fn)
        return -EINVAL;
    if (w->n_watches == w->cap_watches) {
        size_t cap = w->cap_watches ? w->cap_watches * 2 : 16;
        struct source **v = realloc(w->watches, cap * sizeof(*v));

        if (!v)
            return -ENOMEM;
        w->watches = v;
        w->cap_watches = cap;
    }
    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    *s = (struct source) { .kind = SRC_APP, .fd = fd, .fn = fn,
                           .userdata = userdata };
    r = epoll_set(w, EPOLL_CTL_ADD, s, events);
    if (r < 0) {
        free(s);
        return r;
    }
    w->watches[w->n_watches++] = s;
    return 0;
}

int zc_worker_unwatch(zc_worker *w, int fd)
{
    if (!w)
        return -EINVAL;
    for (size_t i = 0; i < w->n_watches; i++) {
        struct source *s = w->watches[i];

        if (s->dead || s->fd != fd)
            continue;
        (void) epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL);
        s->dead = true;
        if (!w->in_dispatch) {
            free(s);
            w->watches[i] = w->watches[--w->n_watches];
        }
        return 0;
    }
    return -ENOENT;
}

/* -- set-up ---------------------------------------------------------------- */

static int take_signals(struct zc_worker *w)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, &w->old_mask) == -1)
        return -errno;
    w->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (w->sigfd == -1) {
        int r = -errno;

        (void) sigprocmask(SIG_SETMASK, &w->old_mask, NULL);
        return r;
    }
    w->sig_src = (struct source) { .kind = SRC_SIGNAL, .fd = w->sigfd };
    return epoll_set(w, EPOLL_CTL_ADD, &w->sig_src, EPOLLIN);
}

/* The link, if this process is a worker with one. */
static int open_link(struct zc_worker *w)
{
    unsigned long v, max_payload = ZC_IPC_MAX_MESSAGE;
    struct stat st;
    int fd, r;

    if (!zc_self_is_worker() ||
        zc__parse_uint(getenv("ZC_IPC_FD"), 3, 65535, &v) < 0)
        return 0;
    fd = (int) v;
    if (fstat(fd, &st) == -1 || !S_ISSOCK(st.st_mode))
        return -EBADF;
    /* Absent or unreadable: the protocol's default. */
    (void) zc__parse_uint(getenv("ZC_IPC_MAX_MESSAGE"), 1, UINT32_MAX,
                          &max_payload);
    /* Our children must not hold the link open: the primary would not see
     * it close when we exit. */
    (void) fcntl(fd, F_SETFD, FD_CLOEXEC);
    (void) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    zc__ipc_init(&w->link, fd, (uint32_t) max_payload, LINK_QUEUE_MAX);
    w->link_src = (struct source) { .kind = SRC_LINK, .fd = fd };
    w->link_events = EPOLLIN;
    r = epoll_set(w, EPOLL_CTL_ADD, &w->link_src, EPOLLIN);
    if (r < 0)
        return r;
    /* Protocol version 1; the primary treats the worker as linked now. */
    return zc__ipc_send(&w->link, ZC__MSG_HELLO, "1", 1, NULL, 0, false);
}

/*
 * --watchdog, for a worker that shares a region with its primary: the
 * period comes as systemd gives it (WATCHDOG_USEC, for WATCHDOG_PID), and
 * a timerfd at half of it keeps an idle loop turning. Without a region
 * the application may still send WATCHDOG=1 itself (sd_notify).
 */
static int watchdog_open(struct zc_worker *w)
{
    const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
    unsigned long us, who;
    struct itimerspec its;

    if (!usec || zc__parse_uint(usec, 1, UINT32_MAX * 1000ul, &us) < 0 ||
        (pid && (zc__parse_uint(pid, 1, INT32_MAX, &who) < 0 ||
                 who != (unsigned long) getpid())))
        return 0;
    w->ping = zc__metrics_ping_cell();
    if (!w->ping)
        return 0;
    /* Watched from now on, not from the first turn of a loop that may
     * not have started yet. */
    atomic_fetch_add_explicit(w->ping, 1, memory_order_relaxed);
    w->wdfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (w->wdfd == -1)
        return -errno;
    us /= 2;
    its.it_value.tv_sec = its.it_interval.tv_sec = (time_t) (us / 1000000);
    its.it_value.tv_nsec = its.it_interval.tv_nsec =
        (long) (us % 1000000) * 1000;
    if (timerfd_settime(w->wdfd, 0, &its, NULL) == -1)
        return -errno;
    w->wd_src = (struct source) { .kind = SRC_WATCHDOG, .fd = w->wdfd };
    return epoll_set(w, EPOLL_CTL_ADD, &w->wd_src, EPOLLIN);
}

int zc_worker_new(zc_worker **ret, int flags)
{
    struct zc_worker *w;
    int r;

    if (!ret || (flags & ~ZC_WORKER_SIGNALS))
        return -EINVAL;
    w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->link.fd = w->sigfd = w->wdfd = -1;
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    w->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (w->epfd == -1 || w->timerfd == -1) {
        r = -errno;
        goto fail;
    }
    w->timer_src = (struct source) { .kind = SRC_TIMER, .fd = w->timerfd };
    r = epoll_set(w, EPOLL_CTL_ADD, &w->timer_src, EPOLLIN);
    if (r == 0 && (flags & ZC_WORKER_SIGNALS))
        r = take_signals(w);
    if (r == 0)
        r = open_link(w);
    if (r == 0)
        r = watchdog_open(w);
    if (r < 0)
        goto fail;
    *ret = w;
    return 0;
fail:
    zc_worker_free(w);
    return r;
}

void zc_worker_free(zc_worker *w)
{
    struct signalfd_siginfo si;

    if (!w)
        return;
    link_close(w);
    if (w->sigfd >= 0) {
        /* A TERM still pending would kill us once unblocked, after a
         * clean drain: it has been answered, so consume it. */
        while (read(w->sigfd, &si, sizeof(si)) == sizeof(si))
            ;
        (void) close(w->sigfd);
        (void) sigprocmask(SIG_SETMASK, &w->old_mask, NULL);
    }
    if (w->timerfd >= 0)
        (void) close(w->timerfd);
    if (w->wdfd >= 0)
        (void) close(w->wdfd);
    if (w->epfd >= 0)
        (void) close(w->epfd);
    for (size_t i = 0; i < w->n_watches; i++)
        free(w->watches[i]);
    free(w->watches);
    free(w->hooks);
    zc__handlers_free(&w->handlers);
    free(w);
}
