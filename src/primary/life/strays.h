/* What a worker leaves behind: its group, and strays re-parented to the
 * primary (strays.c). */
#ifndef ZC_STRAYS_H
#define ZC_STRAYS_H

#include "primary/core/fleet.h"

/* The primary becomes a child subreaper; the table's timer. */
void zc__strays_start(struct zc_primary *p);
/* At the fleet's end: with --kill-mode group, every stray and what is
 * left of a group is killed and reaped; the primary is a subreaper no
 * more. */
void zc__strays_end(struct zc_primary *p);
/* Worker id (slot, pid) was reaped and its exit said: what is left of its
 * process group gets the stop signal, SIGKILL at the deadline (--kill-mode
 * group), or is said to go on. */
void zc__strays_worker_gone(struct zc_primary *p, pid_t pid,
                            unsigned long long id, unsigned slot);
/* Our children that are not workers: each is a stray, said, and stopped
 * (--kill-mode group). Cheap: one read of /proc. */
void zc__strays_scan(struct zc_primary *p);
/* A child that was not a worker was reaped (what: how it ended). */
void zc__strays_reaped(struct zc_primary *p, pid_t pid, const char *what);
/* Strays still to be reaped before the fleet may end (0 with
 * --kill-mode process, whose strays are not waited for). */
unsigned zc__strays_alive(const struct zc_primary *p);
/* SIGKILL to every stray and group now (--kill-mode group). */
void zc__strays_kill_all(struct zc_primary *p);

#endif
