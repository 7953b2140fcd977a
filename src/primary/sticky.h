/*
 * Sticky sessions: the primary accepts, picks a slot from the client's
 * address, and hands the connection to that slot's worker over its link
 * (docs/protocol.md, "Sticky sessions"). The wire formats it uses are in
 * proto/handoff.h and proto/proxy.h.
 */
#ifndef ZC_STICKY_H
#define ZC_STICKY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "proto/handoff.h"
#include "proto/proxy.h"

/* -- the primary's side (sticky.c), called from primary.c ---------------- */

/* Starts accepting on every listener. Returns 0 or -errno (logged). */
int zc__sticky_start(struct zc_primary *p);
/* Shutdown: stops accepting; closes what waits for a worker. */
void zc__sticky_stop(struct zc_primary *p);
/* Before the loop waits: frees what the batch was done with. */
void zc__sticky_before_poll(struct zc_primary *p);
/* Frees everything (teardown), closing what is left. */
void zc__sticky_free(struct zc_primary *p);
/* Slot s may now have a worker that takes connections (ready, linked,
 * or its link writable again): hand it what waits. */
void zc__sticky_kick(struct zc_primary *p, struct slot *s);
/* s's worker takes no hand-offs: its clients go to other slots now, and
 * new ones too, until a worker of s does. */
void zc__sticky_deaf(struct zc_primary *p, struct slot *s);
/* Slot s is being removed: what waits for it is hashed again over the
 * slots that remain. */
void zc__sticky_slot_removed(struct zc_primary *p, struct slot *s);
/* Sets up a new slot's fields (always: the fleet may not be sticky). */
void zc__sticky_slot_init(struct slot *s);

struct zc__sticky_stats {
    uint64_t handoffs;          /* connections handed to a worker */
    uint64_t rerouted;          /* to another slot than their own */
    uint64_t waiting;           /* in the slots' queues now */
    uint64_t closed_no_worker;  /* no slot could take them */
    uint64_t closed_proxy;      /* bad, late or missing PROXY header */
    uint64_t closed_shutdown;   /* still waiting when the fleet stopped */
    uint64_t accept_pauses;     /* out of fds or memory */
};
void zc__sticky_stats(const struct zc_primary *p, struct zc__sticky_stats *ret);

#endif
