/* Recycling workers by lifetime and memory (recycle.c). */
#ifndef ZC_RECYCLE_H
#define ZC_RECYCLE_H

#include "primary/core/fleet.h"

/* Starts the looks, with --max-lifetime or --max-memory. */
void zc__recycle_start(struct zc_primary *p);
/* w serves now: its lifetime's end is due in the timer. */
void zc__recycle_ready(struct zc_primary *p, struct worker *w);

#endif
