/* The queue watch over --balance reuseport's sockets (watch.c). */
#ifndef ZC_WATCH_H
#define ZC_WATCH_H

#include "primary/core/fleet.h"

/* Once, before anything can fail (the teardown stops its timer). */
void zc__watch_start(struct zc_primary *p);
/* Before the loop waits: every socket of every group is watched for its
 * first connection (new sockets too), unless a tick already runs. */
void zc__watch_arm(struct zc_primary *p);
/* w's parent saw it stopped (SIGSTOP, SIGTSTP) or continued: out of the
 * steering at once, back when continued. */
void zc__watch_stopped(struct zc_primary *p, struct worker *w, bool stopped);

#endif
