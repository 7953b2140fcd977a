/* What worker health tells reporters (health.c). */
#ifndef ZC_HEALTH_H
#define ZC_HEALTH_H

#include "primary/core/fleet.h"

void zc__health_snapshot(const struct zc_primary *p,
                         struct health_snapshot *out);
/* Slot s's i-th last failure, newest first; NULL past the last. */
const char *zc__health_why(const struct slot *s, unsigned i);
/* How long since the watchdog last heard from w (a ping or WATCHDOG=1),
 * in seconds; false while w is not watched (no --watchdog, or no ping
 * yet without --watchdog-require). */
bool zc__health_heard(const struct worker *w, uint64_t now, double *seconds);
/* "kill", "log": a ZC_WATCHDOG_* as metrics label it. */
const char *zc__watchdog_action_name(int action);
/* "lifetime", "memory": a ZC_RECYCLE_* as metrics label it. */
const char *zc__recycle_reason_name(int reason);

#endif
