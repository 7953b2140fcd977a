/*
 * zcluster as the primary of a Node.js cluster (--node): each worker runs
 * with NODE_CHANNEL_FD on its link and NODE_UNIQUE_ID set, so Node makes
 * it a cluster worker, and it speaks Node's channel to us (JSON lines,
 * proto/nodemsg.c). What a primary must do for Node's cluster module:
 *
 *   online        said once; noted
 *   queryServer   server.listen(): we answer with a listening socket we
 *                 bind once and keep for the fleet's life (or an -l one),
 *                 sent with the reply as Node's primary does ("shared"
 *                 handles; Node's round-robin is replaced by --balance)
 *   listening     the worker serves: that is its readiness
 *   exitedAfterDisconnect  acknowledged: its exit is on purpose
 *   NODE_HANDLE_ACK        the worker took the socket
 *
 * The module we rebuild sends {"_zhttp":true,"type":T,"data":D}: those are
 * zcluster's typed messages both ways (T the type, D's JSON the payload);
 * "zc.metrics" with a string of Prometheus text is a metrics snapshot.
 *
 * To stop a Node worker we send {"act":"disconnect"}: it closes its
 * servers, lets its connections finish and closes its channel.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clean.h"
#include "base/log.h"
#include "primary/core/node.h"
#include "proto/json.h"
#include "proto/listen.h"
#include "proto/types.h"

#define NS "zc:node"
#define READ_MAX 65536
#define MAX_SERVERS 64
#define EXCERPT_SIZE (80 * 4 + 1)    /* 80 bytes, each \xHH at worst */

/* The sockets bound on workers' requests, kept until the fleet ends. */
struct zc__node {
    struct node_server {
        char want[160];     /* what was asked: address:port:type:index */
        char text[ZC__ADDR_TEXT_MAX];
        int fd;
    } servers[MAX_SERVERS];
    size_t n;
};

/* Writes what the queue holds, in order; a line is never cut short on
 * the channel (Node would read the rest as a broken message). Returns 0
 * (all out, or the socket is full: EPOLLOUT says when), or -errno. */
static int flush(struct worker *w)
{
    while (w->node.out) {
        struct node_out *o = w->node.out;
        char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
        struct iovec iov = { .iov_base = o->data + o->off,
                             .iov_len = o->len - o->off };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        ssize_t n;

        if (o->off == 0 && o->fd >= 0) {
            struct cmsghdr *c;

            mh.msg_control = cbuf;
            mh.msg_controllen = sizeof(cbuf);
            c = CMSG_FIRSTHDR(&mh);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(c), &o->fd, sizeof(int));
        }
        n = sendmsg(w->ipc.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        if (o->own_fd && o->fd >= 0) {
            (void) close(o->fd);    /* in flight now: the worker has it */
            o->fd = -1;
        }
        o->off += (size_t) n;
        w->node.out_bytes -= (size_t) n;
        if (o->off < o->len)
            return 0;
        w->node.out = o->next;
        if (!w->node.out)
            w->node.out_tail = NULL;
        free(o);
    }
    return 0;
}

/* Queues one line (with an fd or not) and writes what the socket takes.
 * The fd is ours to keep open until it went: it is a socket the primary
 * keeps anyway. A worker that lets ipc_queue_max pile up loses the line:
 * -ENOBUFS. */
static int queue_line(struct worker *w, const char *line, size_t len, int fd,
                      bool own_fd)
{
    struct node_out *o;

    if (w->ipc.fd < 0)
        return -ENOTCONN;
    if (w->node.out && w->node.out_bytes + len > w->p->opt.ipc_queue_max)
        return -ENOBUFS;
    o = malloc(sizeof(*o) + len);
    if (!o)
        return -ENOMEM;
    o->next = NULL;
    o->len = len;
    o->off = 0;
    o->fd = fd;
    o->own_fd = own_fd;
    memcpy(o->data, line, len);
    if (fd >= 0)
        w->node.handles++;
    if (w->node.out_tail)
        w->node.out_tail->next = o;
    else
        w->node.out = o;
    w->node.out_tail = o;
    w->node.out_bytes += len;
    return flush(w);
}

static int send_line(struct worker *w, const char *line, size_t len, int fd)
{
    return queue_line(w, line, len, fd, false);
}

int zc__node_handoff(struct worker *w, int fd)
{
    static const char line[] = "{\"cmd\":\"NODE_HANDLE\",\"type\":"
        "\"net.Socket\",\"msg\":{\"_zhttp\":true,\"type\":"
        "\"sticky:connection\"}}\n";
    int own = fcntl(fd, F_DUPFD_CLOEXEC, 3), r;

    if (own < 0)
        return -errno;
    r = queue_line(w, line, sizeof(line) - 1, own, true);
    if (r < 0 && (!w->node.out_tail || w->node.out_tail->fd != own))
        (void) close(own);
    else if (r < 0)
        r = 0;              /* queued, the socket broke: closed with it */
    return r;
}

int zc__node_flush(struct worker *w)
{
    return w->ipc.fd < 0 ? 0 : flush(w);
}

bool zc__node_pending(const struct worker *w)
{
    return w->node.out != NULL;
}

/* The socket that answers a queryServer. Its key names it to the
 * worker, which keeps its servers' handles by key and asserts each is
 * new (Node's primary says address:port:type:fd:index; ours: the socket
 * and the request's index, unique within a worker). */
struct server {
    int fd;
    bool fresh;                     /* bound for this request */
    char text[ZC__ADDR_TEXT_MAX];
    char key[48];
};

/* A -l listener on that port takes the request, else a socket of ours. */
static int listener_for(struct zc_primary *p, struct worker *w,
                        const struct zc__node_msg *m, struct server *sv)
{
    for (size_t i = 0; i < p->n_listeners; i++) {
        const struct listener *ln = &p->listeners[i];
        const char *colon = strrchr(ln->text, ':');

        if (m->address_type != ZC__NODE_UNIX && colon && m->port > 0 &&
            atoll(colon + 1) == m->port) {
            snprintf(sv->text, sizeof(sv->text), "%s", ln->text);
            snprintf(sv->key, sizeof(sv->key), "zc-l%zu-%lld", i, m->index);
            return zc__listener_fd(ln, w->slot_index);
        }
    }
    return -ENOENT;
}

/* What the worker asked for, as our address text. */
static int address_of(const struct zc__node_msg *m, char *out, size_t size)
{
    int n;

    if (m->address_type == ZC__NODE_UNIX)
        n = snprintf(out, size, "unix:%s", m->address);
    else if (m->address_null)
        n = snprintf(out, size, ":%lld", m->port);
    else if (m->address_type == ZC__NODE_IPV6)
        n = snprintf(out, size, "[%s]:%lld", m->address, m->port);
    else
        n = snprintf(out, size, "%s:%lld", m->address, m->port);
    return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

/*
 * Node's loop (libuv) accepts until EAGAIN and never makes a socket it is
 * handed non-blocking. The flag belongs to the socket, which every worker
 * and the primary share: a blocking one leaves a worker stuck in accept()
 * once the queue is empty, taking each new connection and serving none,
 * its disconnect never read. So every socket a Node worker gets is made
 * non-blocking, as Node's own primary binds them.
 */
static int nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);

    if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
        return -errno;
    return fd;
}

/* The socket for a queryServer: 0 with sv filled, or -errno (told to
 * the worker as Node's negative errno). */
static int server_for(struct zc_primary *p, struct worker *w,
                      const struct zc__node_msg *m, struct server *sv)
{
    char want[160], addr[sizeof(m->address) + 16];
    struct zc__node *t;
    struct zc__addr a;
    int r;

    if (m->udp || m->has_fd)
        return -ENOTSUP;
    r = listener_for(p, w, m, sv);
    if (r >= 0 && (r = nonblocking(r)) >= 0) {
        sv->fd = r;
        return 0;
    }
    if (r != -ENOENT)
        return r;
    if (address_of(m, addr, sizeof(addr)) < 0)
        return -ENAMETOOLONG;
    snprintf(want, sizeof(want), "%s:%d:%lld", addr, m->address_type, m->index);
    if (!p->node && !(p->node = calloc(1, sizeof(*p->node))))
        return -ENOMEM;
    t = p->node;
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->servers[i].want, want) == 0) {
            snprintf(sv->text, sizeof(sv->text), "%s", t->servers[i].text);
            snprintf(sv->key, sizeof(sv->key), "zc-n%zu-%lld", i, m->index);
            sv->fd = t->servers[i].fd;
            return 0;
        }
    if (t->n == MAX_SERVERS)
        return -EMFILE;
    r = zc__addr_parse(addr, &a);
    if (r < 0)
        return r;
    r = zc__addr_listen(&a, 0, &sv->fd);
    if (r == 0 && (r = nonblocking(sv->fd)) < 0)
        (void) close(sv->fd);
    if (r < 0)
        return r;
    {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);

        if (getsockname(sv->fd, (struct sockaddr *) &ss, &len) == 0)
            zc__addr_format((struct sockaddr *) &ss, len, sv->text,
                            sizeof(sv->text));
        else
            snprintf(sv->text, sizeof(sv->text), "%s", addr);
    }
    snprintf(sv->key, sizeof(sv->key), "zc-n%zu-%lld", t->n, m->index);
    t->servers[t->n].fd = sv->fd;
    snprintf(t->servers[t->n].want, sizeof(t->servers[t->n].want), "%s", want);
    snprintf(t->servers[t->n].text, sizeof(t->servers[t->n].text), "%s",
             sv->text);
    t->n++;
    sv->fresh = true;
    return 0;
}

/* The socket bound last is closed again: the worker that asked for it
 * was not told of it, so nobody would ever accept on it. */
static void unbind_last(struct zc_primary *p)
{
    struct node_server *sv = &p->node->servers[--p->node->n];

    if (strncmp(sv->text, "unix:/", 6) == 0)
        (void) unlink(sv->text + 5);
    (void) close(sv->fd);
}

static void query_server(struct zc_primary *p, struct worker *w,
                         const struct zc__node_msg *m)
{
    struct server sv = { .fd = -1, .key = "zc-none" };
    char line[512];
    int r;
    size_t n;

    r = server_for(p, w, m, &sv);
    if (r < 0)
        zc_log(ZC_LOG_ERROR, NS, "worker %llu (slot %u) asked to listen on "
               "%s port %lld: %s", (unsigned long long) w->id, w->slot_index,
               m->address_null ? "all interfaces" : m->address, m->port,
               r == -ENOTSUP ? "not supported (UDP, or an inherited fd)"
                             : zc_strerror(r));
    n = zc__node_query_reply(line, sizeof(line), m->seq, sv.key,
                             r < 0 ? r : 0, r == 0, w->node.seq++);
    r = send_line(w, line, n, r == 0 ? sv.fd : -1);
    if (r < 0) {
        zc_log(ZC_LOG_WARN, NS, "worker %llu: cannot answer on its channel: "
               "%s", (unsigned long long) w->id, zc_strerror(r));
        if (sv.fresh)
            unbind_last(p);
        return;
    }
    if (sv.fresh)
        zc_log(ZC_LOG_INFO, NS,
               "listening on %s for the Node workers (asked "
               "by worker %llu), one socket they all share%s",
               sv.text, (unsigned long long) w->id,
               p->opt.balance == ZC_BALANCE_REUSEPORT
                   ? ": give its port with -l for a socket per slot and an "
                     "even spread"
                   : "");
    if (sv.fd >= 0)
        w->node.query_handle = w->node.handles;
}

/*
 * Node's own primary sends nothing more on a channel while a handle it
 * sent is not acknowledged, so a worker's second server.listen() is
 * answered after the first socket's NODE_HANDLE_ACK, in order. Requests
 * wait here, not yet bound: one that is never answered (its worker never
 * acknowledges, or dies) leaves no socket behind.
 */
static void serve_queries(struct zc_primary *p, struct worker *w)
{
    struct node_worker *nw = &w->node;

    while (nw->queries && nw->acked >= nw->query_handle && w->ipc.fd >= 0) {
        struct node_query *q = nw->queries;

        nw->queries = q->next;
        if (!nw->queries)
            nw->queries_tail = NULL;
        nw->n_queries--;
        query_server(p, w, &q->m);
        free(q);
    }
}

static void queue_query(struct zc_primary *p, struct worker *w,
                        const struct zc__node_msg *m)
{
    struct node_worker *nw = &w->node;
    struct node_query *q = NULL;

    if (nw->n_queries < MAX_SERVERS)
        q = malloc(sizeof(*q));
    if (!q) {
        char line[256];
        size_t n = zc__node_query_reply(line, sizeof(line), m->seq, "zc0",
                                        -EAGAIN, false, nw->seq++);

        zc_log(ZC_LOG_WARN, NS, "worker %llu (slot %u) asked for more than %d "
               "servers before its sockets were acknowledged: refused with "
               "EAGAIN", (unsigned long long) w->id, w->slot_index,
               MAX_SERVERS);
        (void) send_line(w, line, n, -1);
        return;
    }
    q->next = NULL;
    q->m = *m;
    if (nw->queries_tail)
        nw->queries_tail->next = q;
    else
        nw->queries = q;
    nw->queries_tail = q;
    nw->n_queries++;
    if (nw->acked < nw->query_handle)
        zc_log(ZC_LOG_DEBUG, NS, "worker %llu: its queryServer waits for the "
               "last socket's acknowledgement", (unsigned long long) w->id);
    serve_queries(p, w);
}

/* A handle arrived (or did not): the next request may be answered. */
static void acknowledged(struct zc_primary *p, struct worker *w)
{
    if (w->node.acked < w->node.handles)
        w->node.acked++;
    serve_queries(p, w);
}

static void cluster(struct zc_primary *p, struct worker *w,
                    const struct zc__node_msg *m)
{
    char line[128];
    size_t n;

    if (strcmp(m->act, "online") == 0) {
        if (w->node.online)
            return;
        w->node.online = true;
        zc_log(ZC_LOG_DEBUG, NS, "worker %llu (slot %u) is online",
               (unsigned long long) w->id, w->slot_index);
        if (w->state != W_STARTING || p->opt.ready != ZC_READY_AUTO)
            return;
        /* When the primary accepts (sticky, least-conn), a worker does
         * not listen: online is all it will say. Otherwise a worker that
         * serves nothing (a queue's consumer) or binds its own socket
         * (listen({exclusive: true})) never says "listening": it is
         * ready by --ready auto's timer, counted from here. */
        if (ZC__PRIMARY_ACCEPTS(p))
            p->hooks.ready(p, w, "Node online");
        else if (zc__timer_start(&p->loop, &w->timer, zc__now_us() +
                                 p->opt.ready_delay_ms * 1000ull) < 0)
            p->hooks.ready(p, w, "Node online; no memory for a ready timer");
    } else if (strcmp(m->act, "queryServer") == 0) {
        queue_query(p, w, m);
    } else if (strcmp(m->act, "listening") == 0) {
        if (w->state == W_STARTING) {
            char how[64];

            snprintf(how, sizeof(how), "Node listening on port %lld", m->port);
            w->said_ready = true;
            p->hooks.ready(p, w, how);
        }
    } else if (strcmp(m->act, "exitedAfterDisconnect") == 0) {
        /* Its exit 0 will be on purpose, as any clean exit is. */
        n = zc__node_cluster_ack(line, sizeof(line), m->seq, w->node.seq++);
        (void) send_line(w, line, n, -1);
    }
    /* "close": the socket stays ours for the next worker */
}

/* The first 80 bytes of a worker's line, safe for the log. */
static const char *excerpt(const char *s, size_t len, char *buf, size_t size)
{
    (void) zc__clean(buf, size, s, len < 80 ? len : 80);
    return buf;
}

/*
 * What an app's worker sends to its primary with process.send() was read
 * by the app's own primary branch (cluster.on('message')), which does not
 * run under zcluster: zcluster is the primary. Counted, and said once per
 * worker, with what to do instead.
 */
static void not_ours(struct worker *w, const char *s, size_t len)
{
    char text[EXCERPT_SIZE];

    w->p->node_stats.ignored++;
    if (w->node.ignored++)
        return;
    zc_log(ZC_LOG_INFO, NS,
           "worker %llu (slot %u) sent a message with "
           "process.send() that is not a zcluster message: \"%s\"; ignoring "
           "it and its next ones (zcluster_node_messages_ignored_total counts "
           "them). Under zcluster the app's primary branch (cluster.isPrimary: "
           "cluster.on('message'), cluster.on('exit')) does not run; send "
           "{\"_zhttp\":true,\"type\":T,\"data\":D} to reach the primary's "
           "handlers, "
           "see docs/protocol.md, \"Node.js workers\"",
           (unsigned long long) w->id, w->slot_index,
           excerpt(s, len, text, sizeof(text)));
}

/* {"_zhttp":true,"type":T,"data":D}: a typed message, delivered as one
 * that came in a frame (D's JSON the payload; for "zc.metrics", the text
 * of the string D). Any other message is not ours: counted (not_ours). */
static void typed(struct worker *w, const char *s, size_t len,
                  zc__node_deliver_fn deliver)
{
    char flag[8], type[ZC_IPC_TYPE_MAX + 1];
    const char *data = "null";
    size_t dlen = 4;
    int n;

    if (zc__json_field(s, len, "_zhttp", flag, sizeof(flag)) != 4 ||
        strcmp(flag, "true") != 0) {
        not_ours(w, s, len);
        return;
    }
    n = zc__json_field(s, len, "type", type, sizeof(type));
    if (n <= 0 || (size_t) n >= sizeof(type)) {
        zc_log(ZC_LOG_DEBUG, NS, "worker %llu: a typed message without a "
               "usable type", (unsigned long long) w->id);
        return;
    }
    (void) zc__json_find(s, len, "data", &data, &dlen);
    if (strcmp(type, ZC__MSG_METRICS) == 0 && *data == '"') {
        char *text = malloc(dlen + 1);

        n = text ? zc__json_field(s, len, "data", text, dlen + 1) : -ENOMEM;
        if (n >= 0)
            deliver(w, type, text, (size_t) n);
        free(text);
        return;
    }
    deliver(w, type, data, dlen);
}

int zc__node_send(struct zc_primary *p, struct worker *w, const char *type,
                  const void *data, size_t len)
{
    struct zc__buf b = { 0 };
    int r;

    (void) p;
    if (w->ipc.fd < 0 || !w->node.online)
        return -ENOTCONN;
    if (len && memchr(data, '\0', len))
        return -EINVAL;
    ZC__BUF_LIT(&b, "{\"_zhttp\":true,\"type\":");
    zc__buf_json(&b, type);
    ZC__BUF_LIT(&b, ",\"data\":");
    if (!len) {
        ZC__BUF_LIT(&b, "null");
    } else if (zc__json_valid(data, len)) {
        zc__buf_add(&b, data, len);
    } else {
        /* Not JSON: the payload goes as a string. */
        char *text = strndup(data, len);

        if (text)
            zc__buf_json(&b, text);
        b.failed |= !text;
        free(text);
    }
    ZC__BUF_LIT(&b, "}\n");
    r = b.failed ? -ENOMEM : send_line(w, b.data, b.len, -1);
    free(b.data);
    return r;
}

struct reading {
    struct worker *w;
    zc__node_deliver_fn deliver;
};

static int on_line(const char *s, size_t len, void *ud)
{
    struct reading *rd = ud;
    struct worker *w = rd->w;
    struct zc_primary *p = w->p;
    struct zc__node_msg m;
    char why[128], text[EXCERPT_SIZE];

    if (len == 0)
        return 0;
    if (zc__node_parse(s, len, &m, why, sizeof(why)) < 0) {
        if (w->node.bad_lines++ == 0)
            zc_log(ZC_LOG_WARN, NS, "worker %llu (slot %u) sent a message we "
                   "cannot read on its channel (%s): \"%s\"; ignoring it and "
                   "the next ones like it", (unsigned long long) w->id,
                   w->slot_index, why, excerpt(s, len, text, sizeof(text)));
        return 0;
    }
    switch (m.kind) {
    case ZC__NODE_CLUSTER:
        cluster(p, w, &m);
        break;
    case ZC__NODE_HANDLE_ACK:
        acknowledged(p, w);
        break;
    case ZC__NODE_HANDLE_NACK:
        zc_log(ZC_LOG_WARN, NS, "worker %llu (slot %u) did not receive a "
               "socket sent to it (NODE_HANDLE_NACK)",
               (unsigned long long) w->id, w->slot_index);
        acknowledged(p, w);
        break;
    case ZC__NODE_USER:
        typed(w, s, len, rd->deliver);
        break;
    default:
        zc_log(ZC_LOG_DEBUG, NS, "worker %llu: message ignored: %s",
               (unsigned long long) w->id, excerpt(s, len, text, sizeof(text)));
        break;
    }
    return 0;
}

int zc__node_read(struct zc_primary *p, struct worker *w,
                  zc__node_deliver_fn deliver)
{
    struct reading rd = { w, deliver };
    char buf[READ_MAX];

    (void) p;
    for (int i = 0; i < 16 && w->ipc.fd >= 0; i++) {
        char cbuf[CMSG_SPACE(4 * sizeof(int))];
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                             .msg_control = cbuf,
                             .msg_controllen = sizeof(cbuf) };
        ssize_t n = recvmsg(w->ipc.fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        int r;

        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        /* A worker has no handle to give us: any fd it sends is closed. */
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                for (size_t k = 0;
                     k < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); k++) {
                    int fd;

                    memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
                    (void) close(fd);
                }
        if (n == 0)
            return 1;
        r = zc__node_lines_feed(&w->node.lines, buf, (size_t) n, on_line, &rd);
        if (r == -E2BIG) {
            zc_log(ZC_LOG_WARN, NS, "worker %llu (slot %u) sent a line over "
                   "%d bytes on its channel: closing it (Node then stops the "
                   "worker; its exit counts as a failure)",
                   (unsigned long long) w->id, w->slot_index,
                   ZC__NODE_LINE_MAX);
            w->node.cut = true;
            return -EMSGSIZE;
        }
        if (r < 0)
            return r;
    }
    return 0;
}

bool zc__node_disconnect(struct zc_primary *p, struct worker *w)
{
    char line[96], ms[48];
    size_t n;

    if (!w->node.online || w->node.disconnected || w->ipc.fd < 0)
        return false;
    /* The module's workers hear "shutdown" first, as its primary says it. */
    snprintf(ms, sizeof(ms), "{\"timeout\":%u}", p->opt.shutdown_timeout_ms);
    (void) zc__node_send(p, w, ZC__MSG_SHUTDOWN, ms, strlen(ms));
    n = zc__node_cluster_act(line, sizeof(line), "disconnect", w->node.seq++);
    if (send_line(w, line, n, -1) < 0)
        return false;
    w->node.disconnected = true;
    return true;
}

void zc__node_forget(struct worker *w)
{
    zc__node_lines_free(&w->node.lines);
    while (w->node.out) {
        struct node_out *o = w->node.out;

        w->node.out = o->next;
        if (o->own_fd && o->fd >= 0)
            (void) close(o->fd);
        free(o);
    }
    w->node.out_tail = NULL;
    w->node.out_bytes = 0;
    while (w->node.queries) {
        struct node_query *q = w->node.queries;

        w->node.queries = q->next;
        free(q);
    }
    w->node.queries_tail = NULL;
    w->node.n_queries = 0;
}

size_t zc__node_servers(const struct zc_primary *p)
{
    return p->node ? p->node->n : 0;
}

const char *zc__node_server_text(const struct zc_primary *p, size_t i)
{
    return p->node && i < p->node->n ? p->node->servers[i].text : NULL;
}

void zc__node_close_servers(struct zc_primary *p)
{
    struct zc__node *t = p->node;

    for (size_t i = 0; t && i < t->n; i++) {
        if (strncmp(t->servers[i].text, "unix:/", 6) == 0)
            (void) unlink(t->servers[i].text + 5);
        (void) close(t->servers[i].fd);
    }
    free(t);
    p->node = NULL;
}

bool zc__node_quiet(const struct worker *w)
{
    return !w->node.out && !w->node.queries && w->node.handles == w->node.acked;
}

void zc__node_hand_over(const struct worker *w, struct zc__node_carry *c)
{
    const struct node_worker *n = &w->node;

    *c = (struct zc__node_carry) {
        .seq = n->seq,
        .handles = n->handles,
        .acked = n->acked,
        .query_handle = n->query_handle,
        .bad_lines = n->bad_lines,
        .ignored = n->ignored,
        .online = n->online,
        .disconnected = n->disconnected,
        .cut = n->cut,
        .held = n->lines.b.data,
        .n_held = n->lines.b.len,
    };
}

int zc__node_take(struct worker *w, const struct zc__node_carry *c)
{
    struct node_worker *n = &w->node;

    n->seq = c->seq;
    n->handles = c->handles;
    n->acked = c->acked;
    n->query_handle = c->query_handle;
    n->bad_lines = c->bad_lines;
    n->ignored = c->ignored;
    n->online = c->online;
    n->disconnected = c->disconnected;
    n->cut = c->cut;
    /* What came after its last whole line: the next read ends it. */
    if (c->n_held > ZC__NODE_LINE_MAX)
        return -EINVAL;
    zc__buf_add(&n->lines.b, c->held, c->n_held);
    return n->lines.b.failed ? -ENOMEM : 0;
}

void zc__node_each_server(const struct zc_primary *p,
                          void (*fn)(void *arg, const char *want,
                                     const char *text, int fd),
                          void *arg)
{
    for (size_t i = 0; p->node && i < p->node->n; i++)
        fn(arg, p->node->servers[i].want, p->node->servers[i].text,
           p->node->servers[i].fd);
}

int zc__node_take_server(struct zc_primary *p, const char *want,
                         const char *text, int fd)
{
    struct node_server *sv;

    if ((!p->node && !(p->node = calloc(1, sizeof(*p->node)))) ||
        p->node->n == MAX_SERVERS) {
        (void) close(fd);
        return p->node ? -ENOSPC : -ENOMEM;
    }
    sv = &p->node->servers[p->node->n++];
    snprintf(sv->want, sizeof(sv->want), "%s", want);
    snprintf(sv->text, sizeof(sv->text), "%s", text);
    sv->fd = fd;
    return 0;
}

uint64_t zc__node_ignored(const struct zc_primary *p)
{
    return p->node_stats.ignored;
}
