/*
 * The primary is one thread blocked in epoll_wait. Every input is an fd:
 * sockets, one signalfd (so no signal handler ever runs and SIGCHLD is just
 * a readable fd), and one timerfd armed for the earliest deadline in a heap.
 * The timerfd is only re-armed when that earliest deadline changes, and an
 * idle primary has no deadline at all, so it never wakes up for nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "base/loop.h"

/* Signals per signalfd read, events per epoll_wait: bounds the work of one
 * wake-up so a burst on one fd cannot starve the others. */
#define MAX_EVENTS 64

uint64_t zc__now_us(void)
{
    struct timespec ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

/*
 * The deadlines: a binary min-heap of pointers to timers embedded in their
 * owners (a slot's respawn timer, the shutdown deadline). Each timer knows
 * its index, so stopping one is O(log n) with no search, and the heap only
 * grows, once, past the size hinted at init: with a thousand workers a
 * timer operation never allocates on the hot path.
 */
static void heap_swap(struct zc__loop *l, size_t a, size_t b)
{
    struct zc__timer *t = l->heap[a];

    l->heap[a] = l->heap[b];
    l->heap[b] = t;
    l->heap[a]->heap_index = a;
    l->heap[b]->heap_index = b;
}

static void heap_up(struct zc__loop *l, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;

        if (l->heap[parent]->deadline_us <= l->heap[i]->deadline_us)
            break;
        heap_swap(l, i, parent);
        i = parent;
    }
}

static void heap_down(struct zc__loop *l, size_t i)
{
    for (;;) {
        size_t left = 2 * i + 1, right = left + 1, min = i;

        if (left < l->n_timers &&
            l->heap[left]->deadline_us < l->heap[min]->deadline_us)
            min = left;
        if (right < l->n_timers &&
            l->heap[right]->deadline_us < l->heap[min]->deadline_us)
            min = right;
        if (min == i)
            return;
        heap_swap(l, i, min);
        i = min;
    }
}

void zc__timer_init(struct zc__timer *t,
                    void (*cb)(struct zc__loop *, struct zc__timer *))
{
    t->deadline_us = 0;
    t->heap_index = SIZE_MAX;
    t->cb = cb;
}

bool zc__timer_is_active(const struct zc__timer *t)
{
    return t->heap_index != SIZE_MAX;
}

void zc__timer_stop(struct zc__loop *l, struct zc__timer *t)
{
    size_t i = t->heap_index;

    if (i == SIZE_MAX)
        return;
    t->heap_index = SIZE_MAX;
    l->n_timers--;
    if (i == l->n_timers)
        return;
    /* The last element fills the hole; it may belong above or below it. */
    l->heap[i] = l->heap[l->n_timers];
    l->heap[i]->heap_index = i;
    heap_up(l, i);
    heap_down(l, l->heap[i]->heap_index);
}

int zc__timer_start(struct zc__loop *l, struct zc__timer *t,
                    uint64_t deadline_us)
{
    /* Restarting is stop + insert: a timer is in the heap at most once. */
    zc__timer_stop(l, t);
    if (l->n_timers == l->cap_timers) {
        size_t cap = l->cap_timers ? 2 * l->cap_timers : 16;
        struct zc__timer **h = realloc(l->heap, cap * sizeof(*h));

        if (!h)
            return -ENOMEM;
        l->heap = h;
        l->cap_timers = cap;
    }
    t->deadline_us = deadline_us;
    t->heap_index = l->n_timers;
    l->heap[l->n_timers++] = t;
    heap_up(l, t->heap_index);
    return 0;
}

unsigned zc__loop_run_due(struct zc__loop *l, uint64_t now_us)
{
    unsigned n = 0;

    /* A callback may start or stop timers, including this one: take the
     * top off the heap before calling it. */
    while (l->n_timers > 0 && l->heap[0]->deadline_us <= now_us) {
        struct zc__timer *t = l->heap[0];

        zc__timer_stop(l, t);
        t->cb(l, t);
        n++;
    }
    return n;
}

static int rearm(struct zc__loop *l)
{
    uint64_t want = l->n_timers ? l->heap[0]->deadline_us : 0;
    struct itimerspec its = { { 0, 0 }, { 0, 0 } };

    if (want == l->armed_us)
        return 0;
    /* Absolute time on CLOCK_MONOTONIC: no drift from the time spent
     * between computing the deadline and arming it. */
    if (want) {
        /* 0 would disarm: a deadline at the epoch start is "now". */
        its.it_value.tv_sec = (time_t) (want / 1000000u);
        its.it_value.tv_nsec = (long) (want % 1000000u) * 1000;
        if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
            its.it_value.tv_nsec = 1;
    }
    if (timerfd_settime(l->timerfd, TFD_TIMER_ABSTIME, &its, NULL) == -1)
        return -errno;
    l->armed_us = want;
    return 0;
}

static void on_timerfd(struct zc__loop *l, struct zc__io *io, uint32_t ev)
{
    uint64_t expirations;

    (void) ev;
    /* EAGAIN is fine: the deadline may have moved since it fired. */
    (void) !read(io->fd, &expirations, sizeof(expirations));
    l->armed_us = 0;
    zc__loop_run_due(l, zc__now_us());
}

static void on_sigfd(struct zc__loop *l, struct zc__io *io, uint32_t ev)
{
    struct signalfd_siginfo si[16];

    (void) ev;
    /* Standard signals coalesce: one SIGCHLD may stand for many exits, so
     * the callback reaps in a loop rather than once per siginfo. */
    for (int round = 0; round < MAX_EVENTS / 16 && !l->stop; round++) {
        ssize_t n = read(io->fd, si, sizeof(si));

        if (n <= 0)
            return;
        for (size_t i = 0; i < (size_t) n / sizeof(si[0]); i++)
            l->on_signal(l, &si[i]);
    }
}

int zc__loop_init(struct zc__loop *l, const sigset_t *signals,
                  zc__signal_fn on_signal, size_t timer_hint)
{
    int r;

    memset(l, 0, sizeof(*l));
    l->epfd = l->sigfd = l->timerfd = -1;
    l->heap = calloc(timer_hint ? timer_hint : 16, sizeof(*l->heap));
    if (!l->heap)
        return -ENOMEM;
    l->cap_timers = timer_hint ? timer_hint : 16;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd == -1)
        goto fail_errno;
    l->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (l->timerfd == -1)
        goto fail_errno;
    l->timer_io = (struct zc__io) { .fd = l->timerfd, .cb = on_timerfd };
    r = zc__loop_add(l, &l->timer_io, EPOLLIN);
    if (r < 0)
        goto fail;
    if (signals) {
        l->sigfd = signalfd(-1, signals, SFD_NONBLOCK | SFD_CLOEXEC);
        if (l->sigfd == -1)
            goto fail_errno;
        l->on_signal = on_signal;
        l->sig_io = (struct zc__io) { .fd = l->sigfd, .cb = on_sigfd };
        r = zc__loop_add(l, &l->sig_io, EPOLLIN);
        if (r < 0)
            goto fail;
    }
    return 0;
fail_errno:
    r = -errno;
fail:
    zc__loop_free(l);
    return r;
}

void zc__loop_free(struct zc__loop *l)
{
    if (l->sigfd >= 0)
        (void) close(l->sigfd);
    if (l->timerfd >= 0)
        (void) close(l->timerfd);
    if (l->epfd >= 0)
        (void) close(l->epfd);
    free(l->heap);
    l->heap = NULL;
    l->n_timers = l->cap_timers = 0;
    l->epfd = l->sigfd = l->timerfd = -1;
}

int zc__loop_add(struct zc__loop *l, struct zc__io *io, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = io };

    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, io->fd, &ev) == -1)
        return -errno;
    return 0;
}

int zc__loop_mod(struct zc__loop *l, struct zc__io *io, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = io };

    return epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev) == -1 ? -errno : 0;
}

void zc__loop_del(struct zc__loop *l, struct zc__io *io)
{
    /* ENOENT/EBADF only mean it was never added or is already closed. */
    (void) epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
}

void zc__loop_stop(struct zc__loop *l)
{
    l->stop = true;
}

int zc__loop_run(struct zc__loop *l)
{
    struct epoll_event ev[MAX_EVENTS];
    int r;

    while (!l->stop) {
        int n;

        /* Work the callbacks deferred to the end of the batch (writes of
         * queued messages, many per system call). */
        if (l->before_poll)
            l->before_poll(l);
        /* Once per iteration, after every callback has had its say: the
         * timerfd is touched only when the earliest deadline changed. */
        r = rearm(l);
        if (r < 0)
            return r;
        n = epoll_wait(l->epfd, ev, MAX_EVENTS, -1);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        /* Stop at once when a callback ended the loop: the rest of the
         * batch may name objects that are being torn down. */
        for (int i = 0; i < n && !l->stop; i++) {
            struct zc__io *io = ev[i].data.ptr;

            io->cb(l, io, ev[i].events);
        }
    }
    return 0;
}
