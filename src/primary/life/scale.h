/* Scaling the fleet (scale.c). */
#ifndef ZC_SCALE_H
#define ZC_SCALE_H

#include "primary/core/fleet.h"

/* To n slots (by: who asked, for the log). Returns 0, -EINVAL,
 * -ECANCELED during shutdown, or -ENOMEM. */
int zc__scale_to(struct zc_primary *p, unsigned n, const char *by);

#endif
