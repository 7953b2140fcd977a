/*
 * The primary's end of each worker's link (ZC_IPC_FD): messages queued
 * during a batch of events and written, many per write, before the loop
 * waits again; EPOLLOUT watched only while something waits; a link that
 * fails costs that worker its link and nothing else, and what could not be
 * delivered is counted. Reading the link is inputs.c's.
 */
#include <errno.h>
#include <stdbool.h>
#include <sys/epoll.h>

#include "base/log.h"
#include "primary/core/link.h"
#include "primary/core/node.h"

#define NS ZC__PNS

/* EPOLLOUT only while messages wait: a writable socket would otherwise
 * wake the loop forever. */
void zc__link_update_events(struct zc_primary *p, struct worker *w)
{
    uint32_t want = EPOLLIN | (zc__ipc_pending(&w->ipc) || w->sticky.blocked ||
                               (p->opt.node && zc__node_pending(w))
                               ? EPOLLOUT : 0);

    if (w->ipc.fd >= 0 && want != w->ipc_events &&
        zc__loop_mod(&p->loop, &w->ipc_io, want) == 0)
        w->ipc_events = want;
}

void zc__link_close(struct zc_primary *p, struct worker *w)
{
    if (w->ipc.fd >= 0)
        zc__loop_del(&p->loop, &w->ipc_io);
    zc__ipc_close(&w->ipc);
    w->linked = false;
    w->link_error = NULL;
}

/* Whatever went wrong costs this worker its link and nothing else. */
void zc__link_failed(struct zc_primary *p, struct worker *w, int r)
{
    if (r == 1) {
        zc_log(ZC_LOG_DEBUG, NS, "worker %llu (slot %u) closed its IPC link",
               (unsigned long long) w->id, w->slot_index);
    } else {
        p->ipc_dropped++;           /* the frame it was refused for */
        zc_log(ZC_LOG_WARN, NS, "worker %llu (slot %u, pid %d): IPC: %s (%s); "
               "closing its link", (unsigned long long) w->id, w->slot_index,
               (int) w->pid, w->link_error ? w->link_error :
               w->ipc.why ? w->ipc.why : "error", zc_strerror(r));
    }
    zc__link_close(p, w);
}

/* Queues for one worker; written by zc__link_flush_dirty() when the
 * batch ends. */
int zc__link_queue(struct zc_primary *p, struct worker *w, const char *type,
                   const void *data, size_t len, const int *fds, size_t n_fds)
{
    int r;

    if (w->ipc.fd < 0)
        return -ENOTCONN;
    if (p->opt.node) {
        /* Node's channel: JSON lines, no fds with typed messages. */
        r = n_fds ? -EINVAL : zc__node_send(p, w, type, data, len);
        if (r == -ENOBUFS)
            p->ipc_dropped++;
        if (r == 0)
            zc__link_update_events(p, w);
        return r;
    }
    r = zc__ipc_send(&w->ipc, type, data, len, fds, n_fds, false);
    if (r == -ENOBUFS)
        p->ipc_dropped++;
    if (r == 0 && !w->dirty) {
        w->dirty = true;
        w->dirty_next = p->dirty;
        p->dirty = w;
    }
    return r;
}

/* Nothing queued by us, but something to watch for (sticky: its link
 * was full): flushed and watched with the dirty ones. */
void zc__link_watch(struct zc_primary *p, struct worker *w)
{
    if (!w->dirty) {
        w->dirty = true;
        w->dirty_next = p->dirty;
        p->dirty = w;
    }
}

/* The primary's end is always corked: messages wait for the end of the
 * batch and leave many per write. */
int zc__link_open(struct zc_primary *p, struct worker *w, int fd)
{
    zc__ipc_init(&w->ipc, fd, p->opt.ipc_max_message, p->opt.ipc_queue_max);
    w->ipc.corked = true;
    w->ipc_io = (struct zc__io) { .fd = fd, .cb = p->hooks.link_io };
    w->ipc_events = EPOLLIN;
    return zc__loop_add(&p->loop, &w->ipc_io, EPOLLIN);
}

/* Before each wait: write what the batch queued, and watch for EPOLLOUT
 * where the socket did not take it all. */
void zc__link_flush_dirty(struct zc_primary *p)
{
    while (p->dirty) {
        struct worker *w = p->dirty;
        int r;

        p->dirty = w->dirty_next;
        w->dirty = false;
        if (w->ipc.fd < 0)
            continue;
        r = zc__ipc_flush(&w->ipc);
        if (r < 0)
            zc__link_failed(p, w, r);
        else
            zc__link_update_events(p, w);
    }
}
