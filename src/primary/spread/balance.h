/* Load spread: SO_REUSEPORT groups and their steering (balance.c). */
#ifndef ZC_BALANCE_H
#define ZC_BALANCE_H

#include "primary/core/fleet.h"

/* With --balance reuseport: a group of n_slots sockets for every TCP
 * listener (the others are said to stay shared). Returns 0 or -errno
 * (logged). */
int zc__balance_open(struct zc_primary *p);
/* Sockets for n slots in every listener's group, before the fleet grows
 * to n slots. Returns 0 or -errno (logged). */
int zc__balance_scale(struct zc_primary *p, unsigned n);
/* What reporters may know of the spread (status, /metrics). */
struct balance_snapshot {
    bool round_robin;       /* eBPF round-robin chosen, not random */
    bool steered;           /* a program is attached now */
    unsigned n_live;        /* slots new connections go to */
    uint64_t steer_changes; /* programs attached, ever */
    uint64_t waited;        /* queued on a slot whose worker died */
    uint64_t moved, reset;  /* queued on a slot abandoned: their fate */
    uint64_t taken_out;     /* slots taken out for a stuck queue, ever */
    unsigned n_out;         /* ... and out now */
    bool all_stuck;         /* every ready worker's queue is stuck */
    uint64_t watch_ticks;   /* the watch's looks, ever */
};
void zc__balance_snapshot(const struct zc_primary *p,
                          struct balance_snapshot *out);
/* The connections the round-robin program sent to slot, every group
 * summed: true with *n, or false where nothing counts them (random
 * steering, a shared socket). */
bool zc__balance_steered(const struct zc_primary *p, unsigned slot,
                         uint64_t *n);
/* The listening fds slot's worker gets, one per listener, into fds; a
 * socket the slot gave up (zc__balance_abandon) is made again first.
 * Returns 0 or -errno (logged). */
int zc__balance_worker_fds(struct zc_primary *p, unsigned slot, int *fds);
/*
 * Slot is not served any more (scaled away, given up on: why says which)
 * and no process of it is left: what waits in its sockets must not wait
 * for ever. With the eBPF round-robin the socket is closed and the kernel
 * moves what was queued to the live slots' sockets; without it, the
 * queued connections are taken and reset at once. Logged and counted.
 */
void zc__balance_abandon(struct zc_primary *p, unsigned slot, const char *why);
/* Before the loop waits: if the slots whose worker is ready changed, the
 * groups' steering program is attached again. */
void zc__balance_steer(struct zc_primary *p);
/* Connections in the accept queue of ln's socket for slot. */
unsigned zc__balance_queued(const struct listener *ln, unsigned slot);
/* Slot s lost its worker: what waits in its sockets moves to the live
 * slots (eBPF, no process of it left) or waits for the next worker;
 * counted and said. */
void zc__balance_slot_lost(struct zc_primary *p, const struct slot *s);
/* Whether the queue watch keeps s out of the steering: its worker, the
 * one it judged (a new one starts in). */
static inline bool zc__slot_out(const struct slot *s)
{
    return s->stuck.out && s->w && s->stuck.worker == s->w->id;
}
/* Whether new connections go to s: its worker is ready and not steered
 * around. */
static inline bool zc__slot_live(const struct slot *s)
{
    return s->w && s->w->state == W_READY && !zc__slot_out(s);
}
/* Moves what waits on slot's sockets to the live slots and keeps the
 * sockets listening (the worker holds them): how many, or -EOPNOTSUPP
 * where the kernel cannot move them (no eBPF), or -errno (logged). The
 * slot must be out of the steering already. */
int zc__balance_flush(struct zc_primary *p, unsigned slot);
/* Takes what waits on slot's sockets and resets it: how many (counted). */
unsigned zc__balance_reset_slot(struct zc_primary *p, unsigned slot);
/* Drops the queue watch's registration of b's socket for slot, before the
 * socket is closed (the record is kept for the slot's next socket). */
void zc__balance_unwatch(struct zc_primary *p, struct balance_listener *b,
                         unsigned slot);
void zc__balance_close(struct zc_primary *p);

#endif
