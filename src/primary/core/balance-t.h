/* What load spreading keeps on each listener, worker and on the fleet
 * (balance.c owns the listener's and the fleet's fields, leastconn.c the
 * worker's; the core only embeds them). */
#ifndef ZC_BALANCE_T_H
#define ZC_BALANCE_T_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/roundrobin.h"

struct balance_listener {
    /* --balance reuseport, TCP: the group's sockets, fds[k] slot k's
     * (fds[0] is the listener's own fd). Sockets of slots scaled away stay
     * in the group, left out by the steering, so that a socket's place in
     * the group is its slot for the fleet's life; with the eBPF
     * round-robin (slots are map keys, not places) a slot abandoned has
     * its socket closed, -1 here, made again when the slot is served.
     * n 0: shared. */
    int *fds;
    unsigned n, cap;
    struct zc__rr rr;           /* its round-robin maps, if round_robin */
};

/* leastconn.c's */
struct balance_worker {
    uint64_t handed;            /* connections handed to it (least-conn) */
    uint64_t full_since_us;     /* at --max-conns-per-worker with no close
                                   ever said: since when; 0 if not */
    bool untrusted;             /* its count cannot fall: not limited */
};

struct balance_fleet {
    unsigned *live;             /* slots steered to, as last attached */
    unsigned n_live, cap_live;
    bool steered;               /* a program is attached */
    bool said_no_steering;      /* the kernel refused one: steering is off */
    bool round_robin; /* eBPF round-robin (roundrobin.c), not random */
    uint64_t steer_changes;     /* programs attached */
    uint64_t waited;            /* queued on a slot whose worker died */
    uint64_t moved, reset;      /* queued on a slot abandoned (migrated by
                                   the kernel, or reset by us) */
};

#endif
