/* Graceful shutdown (shutdown.c). */
#ifndef ZC_SHUTDOWN_H
#define ZC_SHUTDOWN_H

#include <stdbool.h>
#include <stddef.h>

#include "primary/core/fleet.h"

/* Drain (or kill at once when !drain); by says who asked, for the log
 * ("received SIGTERM"). A second call while draining kills at once. */
void zc__shutdown_begin(struct zc_primary *p, const char *by, bool drain);
/* A stop asked for (TERM, INT, zclusterctl stop): with --shutdown-delay
 * the lame duck first (/readyz 503, serving on), then the drain; during
 * the delay, a second request drains at once. */
void zc__shutdown_request(struct zc_primary *p, const char *by);
/* The shutdown delay's time left in ms (0 past its end, or none). */
unsigned long long zc__shutdown_left_ms(const struct zc_primary *p);
/* What zc__shutdown_request() will do, in words, for its asker. */
void zc__shutdown_plan(const struct zc_primary *p, char *buf, size_t size);
/* The lame duck timer's callback (p->lame_duck_timer). */
void zc__shutdown_on_delay(struct zc__loop *l, struct zc__timer *t);
/* The shutdown timer's callback (p->shutdown_timer). */
void zc__shutdown_on_timeout(struct zc__loop *l, struct zc__timer *t);

#endif
