/* The control socket (control.c, docs/control.md). */
#ifndef ZC_CONTROL_H
#define ZC_CONTROL_H

#include <stdbool.h>

#include "primary/core/fleet.h"

/* Opens it, unless zc_options.control is "none". Returns 0 (also when the
 * fleet must run without it: one warning says why), or -EADDRINUSE when
 * a live fleet has the same socket (logged). */
int zc__control_start(struct zc_primary *p);
/* Ends every stream with the primary's exit, closes and unlinks it. */
void zc__control_stop(struct zc_primary *p);
/* The control socket as an upgrade hands it over: its listening fd, its
 * lock's fd, its path. false without one. */
bool zc__control_handover(const struct zc_primary *p, int *fd, int *lock,
                          const char **path);
/* The fleet's worker events (fleet_hooks.event). */
void zc__control_event(struct zc_primary *p, const zc_event *e);
/* A walk ended: its waiters get the outcome (fleet_hooks.walk_ended). */
void zc__control_walk_ended(struct zc_primary *p, const struct walk_end *end);
/* hooks.output_line: a line of slot's output to those who follow it. */
void zc__control_output_line(struct zc_primary *p, unsigned slot, const char *s,
                             size_t n);

#endif
