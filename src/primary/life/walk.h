/* Walks: reloads, restarts and recycles, new worker first (walk.c). */
#ifndef ZC_WALK_H
#define ZC_WALK_H

#include "primary/core/fleet.h"

/*
 * Starts a walk of that kind (by: who asked, for the log); slots, a bit
 * per slot, are the ones a restart or a recycle replaces (NULL for a
 * reload). Returns 0 when it starts; for a reload, 1 when it is folded
 * into the walk under way; for the others, -EBUSY during a walk; and
 * -ECANCELED during shutdown.
 */
int zc__walk_start(struct zc_primary *p, enum walk_kind kind,
                   const uint64_t *slots, const char *by);
/* Starts the steps the limits allow; ends the walk when all are done. */
void zc__walk_pump(struct zc_primary *p);
/* Slot s's replacement is ready: it serves, the old worker retires. */
void zc__walk_promote(struct zc_primary *p, struct slot *s);
/* A replacement failed at slot s (why: for the log): the walk stops. */
void zc__walk_failed(struct zc_primary *p, const struct slot *s,
                     const char *why);
/* A shutdown (by: "received SIGTERM") ends the walk where it is. */
void zc__walk_interrupted(struct zc_primary *p, const char *by);

/* What reporters (status, control, STATUS=) may know of the walk. */
struct walk_snapshot {
    bool active;
    enum walk_kind kind;
    uint64_t generation;    /* a reload's target; else the fleet's */
    unsigned replaced, total;
    char name[64];          /* "reload to generation 3" */
};
void zc__walk_snapshot(const struct zc_primary *p, struct walk_snapshot *out);

#endif
