/*
 * Sticky sessions: the primary accepts, picks a slot from the client's
 * address, and hands the connection to that slot's worker over its link
 * (docs/protocol.md, "Sticky sessions"). The wire formats it uses are in
 * proto/handoff.h and proto/proxy.h.
 */
#ifndef ZC_STICKY_H
#define ZC_STICKY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "primary/core/fleet.h"
#include "proto/handoff.h"
#include "proto/proxy.h"

/* The primary's side (sticky.c) is zc__sticky_router (router.h). */

/* Sets up a new slot's fields (always: the fleet may not be sticky). */
void zc__sticky_slot_init(struct slot *s);

#endif
