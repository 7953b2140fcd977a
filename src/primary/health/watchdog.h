/* The workers' watchdog (watchdog.c). */
#ifndef ZC_WATCHDOG_H
#define ZC_WATCHDOG_H

#include <sys/types.h>

#include "primary/core/fleet.h"

/* Starts the periodic look, with --watchdog. */
void zc__watchdog_start(struct zc_primary *p);
/* A notify message from worker w's group (pid: its sender): WATCHDOG=1
 * and WATCHDOG=trigger count from w's own pid only, WATCHDOG_USEC= is
 * refused (said once). */
void zc__watchdog_notify(struct zc_primary *p, struct worker *w, pid_t pid,
                         const char *msg);
/* A notify message from a pid that is not a worker: a WATCHDOG= in it is
 * said once, and ignored. */
void zc__watchdog_stranger(struct zc_primary *p, pid_t pid, const char *msg);

#endif
