/* The primary's end of each worker's link (link.c). */
#ifndef ZC_LINK_H
#define ZC_LINK_H

#include <stddef.h>

#include "primary/core/fleet.h"

/* Opens w's link on fd (ours from here on), read by p->hooks.link_io.
 * Always corked: messages wait for the end of the batch and leave many
 * per write. Returns 0 or -errno from epoll. */
int zc__link_open(struct zc_primary *p, struct worker *w, int fd);
void zc__link_close(struct zc_primary *p, struct worker *w);
/* Logs r (1: the worker closed it; else an error, counted as a drop)
 * and closes the link. */
void zc__link_failed(struct zc_primary *p, struct worker *w, int r);
/* Queues a message for w, written when the batch ends; fds are copied.
 * Returns 0 or -errno as zc_primary_send(): -ENOTCONN without a link,
 * -ENOBUFS when its queue is full (counted as a drop). */
int zc__link_queue(struct zc_primary *p, struct worker *w, const char *type,
                   const void *data, size_t len, const int *fds, size_t n_fds);
/* w has something to write or wait for (sticky.blocked): flushed and
 * watched for EPOLLOUT before the loop waits. */
void zc__link_watch(struct zc_primary *p, struct worker *w);
/* Watches for EPOLLOUT exactly while something waits to be written. */
void zc__link_update_events(struct zc_primary *p, struct worker *w);
/* Writes what every dirty link queued (before the loop waits). */
void zc__link_flush_dirty(struct zc_primary *p);

#endif
