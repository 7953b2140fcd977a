/* Least-connections balancing (leastconn.c). */
#ifndef ZC_LEASTCONN_H
#define ZC_LEASTCONN_H

#include <stdint.h>

#include "primary/fleet.h"

struct zc__least_stats {
    uint64_t handoffs;          /* connections handed to a worker */
    uint64_t waiting;           /* accepted, waiting for a worker now */
    uint64_t holds;             /* times accepting was held: all full */
    uint64_t closed;            /* closed without a worker (shutdown) */
    uint64_t closed_proxy;      /* bad, late or missing PROXY header */
    uint64_t accept_pauses;     /* out of fds or memory */
};

/* Starts accepting on every listener. Returns 0 or -errno (logged). */
int zc__least_start(struct zc_primary *p);
/* A worker may take connections again (ready, or its link drained). */
void zc__least_kick(struct zc_primary *p);
/* Shutdown: stops accepting; closes what waits. */
void zc__least_stop(struct zc_primary *p);
void zc__least_before_poll(struct zc_primary *p);
void zc__least_free(struct zc_primary *p);
/* w's open connections: handed to it, less those it said it closed. */
uint64_t zc__least_open(const struct worker *w);
void zc__least_stats(const struct zc_primary *p, struct zc__least_stats *ret);

#endif
