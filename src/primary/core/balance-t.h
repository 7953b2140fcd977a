/* What load spreading keeps on each listener, worker and on the fleet
 * (balance.c owns the listener's and the fleet's fields, leastconn.c the
 * worker's; the core only embeds them). */
#ifndef ZC_BALANCE_T_H
#define ZC_BALANCE_T_H

#include <stdbool.h>
#include <stdint.h>

#include "base/loop.h"
#include "proto/roundrobin.h"

struct zc_primary;

/* One socket of a group as the queue watch sees it (watch.c): its
 * readiness wakes the primary once, then it is disarmed until every
 * queue is seen empty again. */
struct balance_io {
    struct zc__io io;
    struct zc_primary *p;
    unsigned slot;
    bool armed;
};

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
    /* Parallel to fds: the watch's registration of each socket, NULL
     * where none (watch.c makes them; balance.c unregisters one before
     * closing its socket, which a worker's copy may keep open, and frees
     * them with the listener: epoll's batch may still name one). */
    struct balance_io **io;
    unsigned cap_io;
};

/* A slot's worker as the queue watch judges it (stuck.c, watch.c). */
struct stuck_slot {
    uint64_t worker;   /* the id this is about; 0: none yet */
    uint64_t since_us; /* connections wait, none taken, since */
    uint64_t woke_us;  /* its socket woke the watch then; 0 */
    uint64_t steered;  /* the eBPF count, last seen */
    unsigned queued;   /* in its accept queues, last seen */
    bool out;          /* taken out of the steering */
    bool stopped;      /* SIGSTOPped, as its parent saw */
    bool said;         /* its take-out was logged */
    bool said_reset;   /* ... and a reset of its queue */
    bool proven;       /* seen taking a connection */
    unsigned tries;    /* taken out in a row: the retry's backoff */
    uint64_t retry_us; /* out and not stopped: steered to again */
    uint64_t reset_us; /* out, queue unmovable: reset then */
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
    /* The queue watch (watch.c). */
    struct zc__timer watch_timer; /* its tick, only while queues fill */
    bool migrate;                 /* the kernel can move a queue (eBPF, or
                                   net.ipv4.tcp_migrate_req) */
    bool said_all_stuck;          /* every ready worker stuck: said */
    bool all_stuck;               /* ... and still so */
    uint64_t taken_out;           /* slots taken out for a stuck queue */
    uint64_t watch_ticks;         /* ticks run, ever (bench, metrics) */
    uint64_t stuck_moved;         /* their queues: moved by the kernel */
    uint64_t stuck_reset;         /* ... or reset, not movable, after a wait */
};

#endif
