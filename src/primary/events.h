/* The application's event callbacks (events.c). */
#ifndef ZC_EVENTS_H
#define ZC_EVENTS_H

#include "primary/fleet.h"

/* Calls every callback registered with zc_primary_on_event(), in order;
 * one that fails is logged and the others still run. */
void zc__emit(struct zc_primary *p, const zc_event *e);
/* The same for an event about w (status: its wait status, for EXITED). */
void zc__emit_worker(struct zc_primary *p, int type, const struct worker *w,
                     int status);

#endif
