/* Graceful shutdown (shutdown.c). */
#ifndef ZC_SHUTDOWN_H
#define ZC_SHUTDOWN_H

#include <stdbool.h>

#include "primary/core/fleet.h"

/* Drain (or kill at once when !drain); by says who asked, for the log
 * ("received SIGTERM"). A second call while draining kills at once. */
void zc__shutdown_begin(struct zc_primary *p, const char *by, bool drain);
/* The shutdown timer's callback (p->shutdown_timer). */
void zc__shutdown_on_timeout(struct zc__loop *l, struct zc__timer *t);

#endif
