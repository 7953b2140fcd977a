/* What workers say: link frames and notify datagrams (inputs.c). */
#ifndef ZC_INPUTS_H
#define ZC_INPUTS_H

#include <stddef.h>
#include <stdint.h>

#include "primary/core/fleet.h"

/* The loop's callback for a worker's link (p->hooks.link_io). */
void zc__inputs_link_io(struct zc__loop *l, struct zc__io *io, uint32_t events);
/* Bytes w sent that an upgrade handed over unread, read as if now. */
void zc__inputs_link_feed(struct zc_primary *p, struct worker *w,
                          const void *data, size_t len);
/* At w's exit: reads what it said last, then closes its link. */
void zc__inputs_link_drain(struct zc_primary *p, struct worker *w);
/* The loop's callback for the notify socket. */
void zc__inputs_on_notify(struct zc__loop *l, struct zc__io *io,
                          uint32_t events);
/* Reads the notify socket, a bounded number of datagrams. */
void zc__inputs_notify_drain(struct zc_primary *p);

#endif
