/* What worker health keeps on each worker, slot and fleet (watchdog.c,
 * recycle.c and respawn.c's give-up own these fields; the core only
 * embeds them). */
#ifndef ZC_HEALTH_T_H
#define ZC_HEALTH_T_H

#include <stdbool.h>
#include <stdint.h>

#include "base/loop.h"

/* The failures a slot's give-up window remembers (--give-up N/DUR: N at
 * most this). */
#define ZC__FAILS_KEPT 100
/* The reasons status shows for a failed slot. */
#define ZC__WHYS_KEPT 3
/* The values of ZC_WATCHDOG_* and ZC_RECYCLE_* (health.c checks them). */
#define ZC__WATCHDOG_ACTIONS 2
#define ZC__RECYCLE_REASONS 2

struct health_worker {
    /* watchdog.c */
    uint64_t pings_seen;        /* its shared cell at the last look */
    uint64_t heard_us; /* when it was last heard from; 0: not watched */
    bool missed;                /* this silence was judged (log action) */
    bool hung;                  /* killed by the watchdog, replaced already */
    /* recycle.c: its own limits, jitter taken off; 0: none */
    bool limits_set;
    uint64_t lifetime_end_us;
    uint64_t memory_limit;
    int recycle_reason;         /* ZC_RECYCLE_*, once due; -1 (if limits_set) */
};

struct health_slot {
    /* respawn.c's give-up: when its last failures were, a ring */
    uint64_t fails_us[ZC__FAILS_KEPT];
    unsigned n_fails, next_fail;
    char why[ZC__WHYS_KEPT][160];   /* its last failures, newest first */
    unsigned n_why;
    uint64_t failed_us;             /* when it was given up on */
};

struct health_fleet {
    struct zc__timer timer;     /* the watchdog's next look */
    struct zc__timer recycle_timer; /* the next recycle, or read of memory */
    uint64_t tick_due_us;       /* the watchdog's next judgement; 0: none */
    uint64_t memory_due_us;     /* the next read of resident memory */
    uint64_t recycle_started_us;    /* of the last recycle; 0: none yet */
    uint64_t rng;               /* xorshift state for the jitters */
    uint64_t misses[ZC__WATCHDOG_ACTIONS];  /* by ZC_WATCHDOG_* action */
    uint64_t recycles[ZC__RECYCLE_REASONS]; /* by ZC_RECYCLE_* reason */
    uint64_t give_ups;
    bool said_stranger;         /* WATCHDOG=1 from a non-worker: said once */
    bool said_usec;             /* WATCHDOG_USEC= from a worker: said once */
};

/* What reporters may know of worker health (health.c). */
struct health_snapshot {
    uint64_t misses[ZC__WATCHDOG_ACTIONS];
    uint64_t recycles[ZC__RECYCLE_REASONS];
    uint64_t misses_all, recycles_all;
    uint64_t give_ups;
};

#endif
