/*
 * Routers: the balance modes in which the primary accepts every
 * connection and hands it to a worker over its link (sticky, least-conn).
 * One interface, chosen once from the mode (router.c); the core calls
 * "the router" through these, never a mode by name. A new mode is one
 * file that fills a struct router.
 */
#ifndef ZC_ROUTER_H
#define ZC_ROUTER_H

#include "base/buf.h"
#include "primary/core/fleet.h"
#include "primary/spread/accept.h"

struct router {
    /* Its state for p, or NULL for lack of memory. */
    void *(*create)(struct zc_primary *p);
    /* What the acceptor took: c[0..n), each fd the router's from here. */
    void (*deliver)(struct conn *c, size_t n, void *state);
    /* Slot s (NULL: any) may take connections now: its worker became
     * ready, said hello, or its link drained. */
    void (*kick)(struct zc_primary *p, struct slot *s);
    /* s's worker takes no hand-offs: what is meant for it goes on. */
    void (*deaf)(struct zc_primary *p, struct slot *s);
    /* Slot s is being removed: what waits for it goes elsewhere. */
    void (*slot_removed)(struct zc_primary *p, struct slot *s);
    /* Shutdown, accepting stopped: closes what waits for a worker and
     * counts it with unread, the connections the acceptor closed while
     * they were still sending their PROXY header. */
    void (*stop)(struct zc_primary *p, uint64_t unread);
    /* Teardown: frees its state, closing what is left. */
    void (*destroy)(struct zc_primary *p);
    /* Its families for /metrics, in the exposition format. */
    void (*metrics)(const struct zc_primary *p, struct zc__buf *b);
    /* An upgrade (loop/handover.c): its counters into counts (max at
     * most, in its own order, a new one added at the end; returns how
     * many), and every connection that waits, oldest first, to conn
     * (slot: the slot whose queue holds it, or -1 for the router's own). */
    size_t (*hand_over)(const struct zc_primary *p, uint64_t *counts,
                        size_t max,
                        void (*conn)(void *arg, int slot, const struct conn *c),
                        void *arg);
    /* In the next image, before the loop runs: the counters, then each
     * connection in the same order, its fd the router's from here (0, or
     * -errno with the fd closed). */
    void (*take_counts)(struct zc_primary *p, const uint64_t *counts, size_t n);
    int (*take_conn)(struct zc_primary *p, int slot, const struct conn *c);
};

/* A router's table from its functions, each named PREFIX_OPERATION
 * (sticky_create, sticky_kick, ...): a mode that lacks one does not build. */
#define ZC__ROUTER(prefix)                                                    \
    {                                                                         \
        .create = prefix##_create, .deliver = prefix##_deliver,               \
        .kick = prefix##_kick, .deaf = prefix##_deaf,                         \
        .slot_removed = prefix##_slot_removed, .stop = prefix##_stop,         \
        .destroy = prefix##_destroy, .metrics = prefix##_metrics,             \
        .hand_over = prefix##_hand_over, .take_counts = prefix##_take_counts, \
        .take_conn = prefix##_take_conn,                                      \
    }

/* The router of a ZC_BALANCE_* mode; NULL where the kernel spreads
 * connections (shared, reuseport). */
const struct router *zc__router_for(int balance);

extern const struct router zc__sticky_router;   /* sticky.c */
extern const struct router zc__least_router;    /* leastconn.c */

/* The core's calls, each a no-op without a router (router.c). The
 * acceptor is the router's, started, stopped and freed with it. */
int zc__router_start(struct zc_primary *p);
void zc__router_stop(struct zc_primary *p);
void zc__router_before_poll(struct zc_primary *p);
void zc__router_free(struct zc_primary *p);

static inline void zc__router_kick(struct zc_primary *p, struct slot *s)
{
    if (p->router)
        p->router->kick(p, s);
}

static inline void zc__router_deaf(struct zc_primary *p, struct slot *s)
{
    if (p->router)
        p->router->deaf(p, s);
}

static inline void zc__router_slot_removed(struct zc_primary *p, struct slot *s)
{
    if (p->router)
        p->router->slot_removed(p, s);
}

#endif
