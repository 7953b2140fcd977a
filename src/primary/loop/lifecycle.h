/* A worker became ready, or exited: what it decides (lifecycle.c). */
#ifndef ZC_LIFECYCLE_H
#define ZC_LIFECYCLE_H

#include "primary/core/fleet.h"

/* w's ready deadline passed (err 0) or could not be armed (-ENOMEM).
 * Set as p->hooks.not_ready. */
void zc__lifecycle_not_ready(struct zc_primary *p, struct worker *w, int err);
/* w is ready (how: why, for the log). Set as p->hooks.ready. */
void zc__lifecycle_ready(struct zc_primary *p, struct worker *w,
                         const char *how);
/* Reaps every child that has exited, and handles each exit once. */
void zc__lifecycle_reap(struct zc_primary *p);

#endif
