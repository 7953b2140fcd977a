/* The rolling reload (reload.c). */
#ifndef ZC_RELOAD_H
#define ZC_RELOAD_H

#include "primary/fleet.h"

/* Starts a reload (by: who asked, for the log). Returns 0 when it
 * starts, 1 when it is folded into the one under way, -ECANCELED during
 * shutdown. */
int zc__reload_start(struct zc_primary *p, const char *by);
/* Starts the steps the limits allow; ends the reload when all are done. */
void zc__reload_pump(struct zc_primary *p);
/* Slot s's replacement is ready: it serves, the old worker retires. */
void zc__reload_promote(struct zc_primary *p, struct slot *s);
/* A replacement failed at slot s (why: for the log): the reload stops. */
void zc__reload_failed(struct zc_primary *p, const struct slot *s,
                       const char *why);
/* A shutdown (by: "received SIGTERM") ends the reload where it is. */
void zc__reload_interrupted(struct zc_primary *p, const char *by);
/* Replaces the workers of the slots whose bits are set, new one first,
 * like a reload's steps at the generation they run. Returns 0, -EBUSY
 * during a reload or restart, -ECANCELED during shutdown. */
int zc__restart_start(struct zc_primary *p, const uint64_t *slots,
                      const char *by);

/* The same walk for a recycle (recycle.c): --recycle-concurrency at a
 * time, named "recycle of ...". */
int zc__recycle_walk(struct zc_primary *p, const uint64_t *slots,
                     const char *by);

#endif
