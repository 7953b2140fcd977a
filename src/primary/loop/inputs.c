/*
 * What workers say: the frames on each worker's link (its hello, readiness,
 * status, stopping, metrics snapshots, and the application's messages),
 * and the datagrams on the notify socket (READY=1, STATUS=, STOPPING=1).
 * Each is read here, bounded per wake-up, and handed to what it concerns;
 * a worker that says it is ready is reported through p->hooks.ready.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "base/clean.h"
#include "base/log.h"
#include "primary/core/collect.h"
#include "primary/core/link.h"
#include "primary/core/node.h"
#include "primary/health/watchdog.h"
#include "primary/life/worker.h"
#include "primary/loop/inputs.h"
#include "primary/spread/router.h"
#include "proto/notify.h"
#include "proto/types.h"

#define NS ZC__PNS
#define IPC_READS 16        /* 64 KiB reads per wake-up and worker */

/* Its link took everything: connections waiting for it may go now. */
static void link_writable(struct zc_primary *p, struct worker *w)
{
    if (w->sticky.blocked && !zc__ipc_pending(&w->ipc) &&
        !(p->opt.node && zc__node_pending(w))) {
        w->sticky.blocked = false;
        zc__router_kick(p, w->slot);
    }
}

static void on_hello(struct worker *w, const struct zc__ipc_frame *f)
{
    if (f->len == 1 && f->data[0] == '1') {
        w->linked = true;
        if (w->deaf) {
            w->deaf = false;
            zc_log(ZC_LOG_INFO, NS, "worker %llu (slot %u) said hello after "
                   "all: it takes connections now", (unsigned long long) w->id,
                   w->slot_index);
        }
        /* Ready before its hello (--ready immediate): it takes now. */
        if (w->slot && w->state == W_READY)
            zc__router_kick(w->p, w->slot);
        return;
    }
    w->link_error = "it speaks another protocol version (hello is not \"1\")";
}

static bool takes_ready_message(const struct zc_primary *p,
                                const struct worker *w)
{
    return w->state == W_STARTING &&
           (p->opt.ready == ZC_READY_AUTO || p->opt.ready == ZC_READY_NOTIFY);
}

/* The reserved types first (docs/protocol.md), then the application's
 * handlers, which may watch reserved types too. */
static void on_frame(struct zc__ipc *c, struct zc__ipc_frame *f, void *userdata)
{
    struct worker *w = userdata;
    struct zc_primary *p = w->p;
    zc_msg m = { .type = f->type, .data = f->data, .len = f->len,
                 .fds = f->fds, .n_fds = f->n_fds,
                 .worker_id = w->id, .slot = (int) w->slot_index };

    (void) c;
    if (w->link_error)
        return;
    if (strcmp(f->type, ZC__MSG_HELLO) == 0)
        on_hello(w, f);
    else if (strcmp(f->type, ZC__MSG_READY) == 0 && takes_ready_message(p, w)) {
        w->said_ready = true;
        p->hooks.ready(p, w, "ready message");
    } else if (strcmp(f->type, ZC__MSG_STATUS) == 0)
        (void) zc__clean(w->status, sizeof(w->status), (const char *) f->data,
                         f->len);
    else if (strcmp(f->type, ZC__MSG_STOPPING) == 0)
        zc__worker_stop_acked(p, w);
    else if (strcmp(f->type, ZC__MSG_METRICS) == 0)
        zc__collect_text(p, w, f->data, f->len);
    zc__handlers_run(&p->handlers, &m, NS);
}

/* A typed message from a Node worker (node.c): as a frame without fds. */
static void on_node_message(struct worker *w, const char *type,
                            const char *data, size_t len)
{
    struct zc__ipc_frame f = { .data = (const uint8_t *) data, .len = len };

    snprintf(f.type, sizeof(f.type), "%s", type);
    on_frame(NULL, &f, w);
}

void zc__inputs_link_io(struct zc__loop *l, struct zc__io *io, uint32_t events)
{
    struct worker *w = zc__container_of(io, struct worker, ipc_io);
    struct zc_primary *p = w->p;
    int r = 0;

    (void) l;
    if (w->ipc.fd < 0)
        return;         /* closed earlier in this batch */
    if (p->opt.node) {
        /* Node's channel, not our frames (node.c). */
        if (events & EPOLLOUT) {
            r = zc__node_flush(w);
            if (r == 0)
                link_writable(p, w);
        }
        if (r == 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            r = zc__node_read(p, w, on_node_message);
        if (r != 0)
            zc__link_failed(p, w, r);
        if (r == 1 && w->node.disconnected)
            zc__worker_node_closed(p, w);
        else if (r == 0)
            zc__link_update_events(p, w);
        return;
    }
    if (events & EPOLLOUT) {
        r = zc__ipc_flush(&w->ipc);
        if (r == 0)
            link_writable(p, w);
    }
    if (r == 0 && w->ipc.fd >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        r = zc__ipc_read(&w->ipc, IPC_READS, on_frame, w);
    if (r == 0 && w->link_error)
        r = -EPROTO;
    if (r != 0)
        zc__link_failed(p, w, r);
    else
        zc__link_update_events(p, w);
}

void zc__inputs_link_feed(struct zc_primary *p, struct worker *w,
                          const void *data, size_t len)
{
    int r = zc__ipc_feed(&w->ipc, data, len, on_frame, w);

    if (r == 0 && w->link_error)
        r = -EPROTO;
    if (r != 0)
        zc__link_failed(p, w, r);
}

/* At the worker's exit: what it said last is handled before its death,
 * as with notify messages. Bounded by what its socket can hold. */
void zc__inputs_link_drain(struct zc_primary *p, struct worker *w)
{
    int r = 0;

    if (w->ipc.fd >= 0 && p->opt.node)
        (void) zc__node_read(p, w, on_node_message);   /* closed next */
    else if (w->ipc.fd >= 0)
        r = zc__ipc_read(&w->ipc, 64, on_frame, w);
    if (r < 0 && r != -ECONNRESET)
        zc__link_failed(p, w, r);
    zc__link_close(p, w);
}

/* The sender is the worker, or a process in its group (a wrapper script's
 * child, say: systemd's NotifyAccess=all within the unit). */
static struct worker *worker_by_sender(struct zc_primary *p, pid_t pid)
{
    struct worker *w = zc__worker_by_pid(p, pid);
    pid_t pgid;

    if (w)
        return w;
    pgid = getpgid(pid);
    return pgid > 0 ? zc__worker_by_pid(p, pgid) : NULL;
}

static void on_notify_message(struct zc_primary *p, pid_t pid, const char *msg)
{
    struct worker *w = worker_by_sender(p, pid);
    char v[8], status[sizeof(w->status)];

    if (!w) {
        zc_log(ZC_LOG_DEBUG, NS, "ignoring a notify message from pid %d, "
               "which is not a worker", (int) pid);
        zc__watchdog_stranger(p, pid, msg);
        return;
    }
    zc__watchdog_notify(p, w, pid, msg);
    /* It reaches our log and status: made safe for a terminal first. */
    if (zc__notify_get(msg, "STATUS", status, sizeof(status))) {
        (void) zc__clean(w->status, sizeof(w->status), status, strlen(status));
        zc_log(ZC_LOG_DEBUG, NS, "worker %llu (slot %u) status: %s",
               (unsigned long long) w->id, w->slot_index, w->status);
    }
    if (zc__notify_get(msg, "STOPPING", NULL, 0)) {
        zc_log(ZC_LOG_DEBUG, NS, "worker %llu (slot %u) is stopping",
               (unsigned long long) w->id, w->slot_index);
        zc__worker_stop_acked(p, w);
    }
    if (zc__notify_get(msg, "READY", v, sizeof(v)) && strcmp(v, "1") == 0 &&
        takes_ready_message(p, w)) {
        w->said_ready = true;
        p->hooks.ready(p, w, "READY=1");
    }
}

void zc__inputs_notify_drain(struct zc_primary *p)
{
    char buf[ZC__NOTIFY_MAX];
    pid_t pid;

    /* Bounded per wake-up: a flood of datagrams cannot starve SIGCHLD. */
    for (int i = 0; i < 64; i++) {
        int n = zc__notify_recv(p->notify_fd, buf, sizeof(buf), &pid);

        if (n == -EAGAIN)
            return;
        if (n == -EBADMSG) {
            zc_log(ZC_LOG_DEBUG, NS, "dropped a truncated or anonymous "
                   "notify message");
            continue;
        }
        if (n < 0) {
            zc_log(ZC_LOG_WARN, NS, "notify socket: %s", zc_strerror(n));
            return;
        }
        on_notify_message(p, pid, buf);
    }
}

void zc__inputs_on_notify(struct zc__loop *l, struct zc__io *io,
                          uint32_t events)
{
    (void) l;
    (void) events;
    zc__inputs_notify_drain(zc__container_of(io, struct zc_primary, notify_io));
}
