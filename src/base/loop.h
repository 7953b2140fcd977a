/* The primary's event loop: epoll + signalfd + one timerfd. */
#ifndef ZC_LOOP_H
#define ZC_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/signalfd.h>

#define zc__container_of(ptr, type, member) \
    ((type *) (void *) ((char *) (ptr) - offsetof(type, member)))

struct zc__loop;

/* An fd watched by the loop; embed it and use zc__container_of. */
struct zc__io {
    int fd;
    void (*cb)(struct zc__loop *l, struct zc__io *io, uint32_t events);
};

/* A deadline; embed it. Inactive while heap_index == SIZE_MAX. */
struct zc__timer {
    uint64_t deadline_us;   /* CLOCK_MONOTONIC */
    size_t heap_index;      /* position in the loop's heap */
    void (*cb)(struct zc__loop *l, struct zc__timer *t);
};

typedef void (*zc__signal_fn)(struct zc__loop *l,
                              const struct signalfd_siginfo *si);

struct zc__loop {
    int epfd;
    int sigfd;                  /* -1 when no signals are watched */
    int timerfd;
    struct zc__timer **heap;    /* min-heap on deadline_us */
    size_t n_timers, cap_timers;
    uint64_t armed_us;          /* what timerfd is set to; 0 = disarmed */
    zc__signal_fn on_signal;
    /* Runs before each wait, when the batch's callbacks are done; NULL. */
    void (*before_poll)(struct zc__loop *l);
    void *userdata;
    bool stop;
    struct zc__io sig_io, timer_io;
};

uint64_t zc__now_us(void);

/* Opens epoll, the timerfd and, when signals is non-NULL, a signalfd for
 * that set (the caller has blocked it). timer_hint sizes the heap. */
int zc__loop_init(struct zc__loop *l, const sigset_t *signals,
                  zc__signal_fn on_signal, size_t timer_hint);
/* Closes what init opened. Safe on a zeroed or half-initialised loop. */
void zc__loop_free(struct zc__loop *l);

int zc__loop_add(struct zc__loop *l, struct zc__io *io, uint32_t events);
int zc__loop_mod(struct zc__loop *l, struct zc__io *io, uint32_t events);
void zc__loop_del(struct zc__loop *l, struct zc__io *io);

void zc__timer_init(struct zc__timer *t,
                    void (*cb)(struct zc__loop *, struct zc__timer *));
/* (Re)schedules t at deadline_us. -ENOMEM if the heap cannot grow. */
int zc__timer_start(struct zc__loop *l, struct zc__timer *t,
                    uint64_t deadline_us);
void zc__timer_stop(struct zc__loop *l, struct zc__timer *t);
bool zc__timer_is_active(const struct zc__timer *t);

/* Runs the callbacks of every timer due at now_us, earliest first; pure
 * with respect to the clock, so tests drive it with a fake one. Returns how
 * many ran. */
unsigned zc__loop_run_due(struct zc__loop *l, uint64_t now_us);

/* Runs until zc__loop_stop(). Returns 0 or -errno from epoll. */
int zc__loop_run(struct zc__loop *l);
void zc__loop_stop(struct zc__loop *l);

#endif
