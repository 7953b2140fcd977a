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

struct router {
    /* Starts accepting on every listener. 0 or -errno (logged). */
    int (*start)(struct zc_primary *p);
    /* Slot s (NULL: any) may take connections now: its worker became
     * ready, said hello, or its link drained. */
    void (*kick)(struct zc_primary *p, struct slot *s);
    /* s's worker takes no hand-offs: what is meant for it goes on. */
    void (*deaf)(struct zc_primary *p, struct slot *s);
    /* Slot s is being removed: what waits for it goes elsewhere. */
    void (*slot_removed)(struct zc_primary *p, struct slot *s);
    /* Shutdown: stops accepting; closes what waits for a worker. */
    void (*stop)(struct zc_primary *p);
    /* Before the loop waits: frees what the batch was done with. */
    void (*before_poll)(struct zc_primary *p);
    /* Teardown: frees everything, closing what is left. */
    void (*free)(struct zc_primary *p);
    /* Its families for /metrics, in the exposition format. */
    void (*metrics)(const struct zc_primary *p, struct zc__buf *b);
};

/* The router of a ZC_BALANCE_* mode; NULL where the kernel spreads
 * connections (shared, reuseport). */
const struct router *zc__router_for(int balance);

extern const struct router zc__sticky_router;   /* sticky.c */
extern const struct router zc__least_router;    /* leastconn.c */

/* The core's calls: each a no-op without a router. */
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

static inline void zc__router_stop(struct zc_primary *p)
{
    if (p->router)
        p->router->stop(p);
}

static inline void zc__router_before_poll(struct zc_primary *p)
{
    if (p->router)
        p->router->before_poll(p);
}

static inline void zc__router_free(struct zc_primary *p)
{
    if (p->router)
        p->router->free(p);
}

#endif
