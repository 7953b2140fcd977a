/* What the fleet tells others: events, and STATUS= (events.c). */
#ifndef ZC_EVENTS_H
#define ZC_EVENTS_H

#include "primary/core/fleet.h"

/* Tells the control socket (hooks.event), then calls every callback
 * registered with zc_primary_on_event(), in order; one that fails is
 * logged and the others still run. */
void zc__emit(struct zc_primary *p, const zc_event *e);
/* Once, when every slot has a ready worker (or was given up on, with at
 * least one ready): said in the log, and READY=1 to our manager. */
void zc__announce_if_ready(struct zc_primary *p);
/* Tells our manager (systemd's STATUS=) how many workers are ready, when
 * that changed. No-op without NOTIFY_SOCKET. */
void zc__notify_status(struct zc_primary *p);
/* The same for an event about w (status: its wait status, for EXITED). */
void zc__emit_worker(struct zc_primary *p, int type, const struct worker *w,
                     int status);

#endif
