/*
 * The HTTP servers, on libmicrohttpd driven by the primary's own loop: MHD
 * keeps its sockets in an epoll set of its own, whose fd our loop watches;
 * MHD_run() does what is ready without blocking, and MHD's next timeout
 * arms our timer.
 *
 * MHD's connection timeout only counts idle time, so a client that sends
 * one byte a second would hold a connection for ever. Each connection
 * here has a deadline as well: its request must be complete within
 * timeout_ms of the connection (or of the previous answer); past it, the
 * socket is shut down under MHD, which then closes it.
 *
 * The same shutdown makes room: at max_conns, a new connection closes the
 * oldest one that has not sent a complete request, so idle or dripping
 * clients can never keep a probe from an answer. When every connection
 * holds a request that waits (a scrape waiting for workers, a stream), a
 * newcomer still comes in, on a reserved lane of MHD_SLACK connections:
 * a request answered at once (/healthz, /readyz, status) is served there,
 * and no more than max_conns requests may wait at once
 * (zc__http_may_wait()). A connection closed for lack of room is told so
 * in an HTTP answer, never with a bare EOF.
 *
 * Requests are read strictly (see bad_framing() and unescape()): what
 * MHD would let through and a proxy in front might read otherwise is
 * refused before a caller sees it.
 *
 * Nothing here calls MHD_run() from a caller's call (a write, a wake): a
 * timer due at once does, from the loop, so a done() callback never runs
 * under its caller's feet.
 */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/list.h"
#include "base/log.h"
#include "primary/control/http.h"

#define NS "zc:http"
#define REQUEST_MEMORY (16 * 1024)  /* a request's headers must fit */
#define MAX_BODY 4096               /* bodies are read and dropped */
#define MHD_SLACK 16                /* connections past max_conns: the
                                       reserved lane */
/* MHD's own limit is far above ours: a connection turned away is still
 * MHD's until it is closed, and at its limit MHD would stop accepting,
 * leaving a probe in the backlog unanswered. Ours turns away with 503. */
#define MHD_TURNED_AWAY 256

struct conn {
    struct conn *prev, *next;       /* newest first */
    struct MHD_Connection *c;
    int fd;                         /* -1 once shut down */
    uint64_t deadline_us;           /* 0: a request is being answered */
    bool has_peer;
    pid_t pid;
    uid_t uid;
    gid_t gid;
};

enum req_state { R_NEW, R_CALLING, R_WAITING, R_ANSWERED };

struct zc__http_req {
    struct zc__http_req *prev, *next;
    struct zc__http *h;
    struct MHD_Connection *c;
    struct conn *k;                 /* NULL if not tracked */
    const char *method, *path;      /* MHD's, valid for the request */
    size_t body;
    void *data;
    enum req_state state;
    enum MHD_Result ret;            /* of the request callback's answer */
    bool woken;
    bool suspended;
    bool refused;                   /* here, before the caller saw it */
    bool streaming, ended, cut;
    struct zc__buf out;             /* a stream's bytes, */
    size_t out_off;                 /* of which MHD has taken this many */
};

struct zc__http {
    struct MHD_Daemon *d;
    struct zc__loop *loop;
    struct zc__io io;
    struct zc__timer timer;
    struct conn *conns;
    unsigned live;                  /* conns not shut down */
    struct zc__http_req *reqs;
    struct zc__http_limits lim;
    struct zc__http_cb cb;
    bool running;                   /* in MHD_run: do not re-enter */
    int listen_fd;                  /* MHD's; handed over by an upgrade */
};

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[256];

    (void) cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    zc_log(ZC_LOG_DEBUG, NS, "libmicrohttpd: %s", msg);
}

/* MHD is run from the loop, at once: after a resume, or when a caller
 * queued bytes. */
static void kick(struct zc__http *h)
{
    (void) zc__timer_start(h->loop, &h->timer, zc__now_us());
}

static void shut(struct zc__http *h, struct conn *k)
{
    (void) shutdown(k->fd, SHUT_RDWR);
    k->fd = -1;                     /* shut once; MHD closes it */
    h->live--;
}

/* Closed for lack of room: the client is told, in HTTP, before the
 * socket goes (a fresh socket's buffer takes these few bytes). */
static void shut_busy(struct zc__http *h, struct conn *k)
{
#define BUSY_BODY "too many connections: this one is closed to make room\n"
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
        "Retry-After: 1\r\nContent-Length: %zu\r\n\r\n" BUSY_BODY;
    char text[sizeof(busy) + 16];
    int n = snprintf(text, sizeof(text), busy, sizeof(BUSY_BODY) - 1);

    (void) !send(k->fd, text, (size_t) n, MSG_NOSIGNAL | MSG_DONTWAIT);
    shut(h, k);
#undef BUSY_BODY
}

/* Bytes the client sent that MHD has not read yet: a request that came
 * in the same instant as the newcomer, not an idle client. */
static bool unread(const struct conn *k)
{
    int n = 0;

    return ioctl(k->fd, FIONREAD, &n) == 0 && n > 0;
}

/* At max_conns: the oldest connection with no request in goes (one with
 * nothing unread first); or else, every one holding a request being
 * answered, the newcomer k comes in on the reserved lane, or with that
 * full too, is turned away. */
static void make_room(struct zc__http *h, struct conn *k)
{
    struct conn *oldest = NULL;

    for (struct conn *o = h->conns; o; o = o->next)
        if (o != k && o->fd >= 0 && o->deadline_us)
            oldest = o;
    /* Rare: asked only of the one found, so a flood of idle clients
     * costs one system call each. */
    if (oldest && unread(oldest))
        for (struct conn *o = h->conns; o; o = o->next)
            if (o != k && o->fd >= 0 && o->deadline_us && !unread(o))
                oldest = o;
    if (oldest) {
        zc_log(ZC_LOG_DEBUG, NS, "%u connections: closing the oldest one "
               "without a complete request to make room", h->live);
        shut_busy(h, oldest);
        return;
    }
    if (h->live < h->lim.max_conns + MHD_SLACK)
        return;
    zc_log(ZC_LOG_DEBUG, NS, "%u connections, each with a request being "
           "answered: turning the new one away", h->live);
    shut_busy(h, k);
}

static void on_connection(void *cls, struct MHD_Connection *c,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct zc__http *h = cls;
    struct conn *k = *socket_context;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct ucred cred;
        socklen_t len = sizeof(cred);

        k = calloc(1, sizeof(*k));
        if (!k || !ci) {
            /* Not tracked, not served: MHD closes it when we shut it. */
            free(k);
            if (ci)
                (void) shutdown(ci->connect_fd, SHUT_RDWR);
            *socket_context = NULL;
            return;
        }
        k->c = c;
        k->fd = ci->connect_fd;
        k->deadline_us = zc__now_us() + h->lim.timeout_ms * 1000ull;
        if (getsockopt(k->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
            len == sizeof(cred) && cred.pid > 0) {
            k->has_peer = true;
            k->pid = cred.pid;
            k->uid = cred.uid;
            k->gid = cred.gid;
        }
        ZC__LIST_PUSH(h->conns, k);
        *socket_context = k;
        if (++h->live > h->lim.max_conns)
            make_room(h, k);
        return;
    }
    if (!k)
        return;
    if (k->fd >= 0)
        h->live--;
    ZC__LIST_REMOVE(h->conns, k);
    free(k);
}

static void resume(struct zc__http_req *r)
{
    if (!r->suspended)
        return;
    r->suspended = false;
    MHD_resume_connection(r->c);
    kick(r->h);
}

/* The request is over: its caller hears it last, then it is freed. */
static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode code)
{
    struct zc__http *h = cls;
    struct zc__http_req *r = *req_cls;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct conn *k = ci ? ci->socket_context : NULL;

    (void) code;
    /* The connection gets timeout_ms for its next request. */
    if (k)
        k->deadline_us = zc__now_us() + h->lim.timeout_ms * 1000ull;
    if (!r)
        return;
    *req_cls = NULL;
    ZC__LIST_REMOVE(h->reqs, r);
    if (r->state != R_NEW && !r->refused && h->cb.done)
        h->cb.done(h->cb.ud, r);
    free(r->out.data);
    free(r);
}

static void queue(struct zc__http_req *r, unsigned code, struct MHD_Response *m,
                  const char *type, const char *allow)
{
    r->state = R_ANSWERED;
    if (!m) {
        r->ret = MHD_NO;
        return;
    }
    (void) MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    (void) MHD_add_response_header(m, MHD_HTTP_HEADER_CACHE_CONTROL,
                                   "no-store");
    if (allow)
        (void) MHD_add_response_header(m, MHD_HTTP_HEADER_ALLOW, allow);
    r->ret = MHD_queue_response(r->c, code, m);
    MHD_destroy_response(m);
}

void zc__http_reply(struct zc__http_req *r, unsigned code, const char *type,
                    char *body, size_t len, const char *allow)
{
    struct MHD_Response *m;

    if (r->state != R_CALLING) {
        free(body);
        return;
    }
    m = MHD_create_response_from_buffer(len, body ? body : (char *) "",
                                        body ? MHD_RESPMEM_MUST_FREE
                                             : MHD_RESPMEM_PERSISTENT);
    if (!m)
        free(body);
    queue(r, code, m, type, allow);
}

void zc__http_reply_text(struct zc__http_req *r, unsigned code,
                         const char *type, const char *text)
{
    struct MHD_Response *m;

    if (r->state != R_CALLING)
        return;
    m = MHD_create_response_from_buffer(strlen(text), (char *) text,
                                        MHD_RESPMEM_PERSISTENT);
    queue(r, code, m, type, NULL);
}

/* MHD asks for the stream's next bytes. None yet: the connection sleeps
 * until zc__http_write() or zc__http_end() wakes it. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct zc__http_req *r = cls;
    size_t n = r->out.len - r->out_off;

    (void) pos;
    if (r->cut)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (n) {
        if (n > max)
            n = max;
        memcpy(buf, r->out.data + r->out_off, n);
        r->out_off += n;
        if (r->out_off == r->out.len)
            r->out_off = r->out.len = 0;
        return (ssize_t) n;
    }
    if (r->ended)
        return MHD_CONTENT_READER_END_OF_STREAM;
    r->suspended = true;
    MHD_suspend_connection(r->c);
    return 0;
}

void zc__http_stream(struct zc__http_req *r, unsigned code, const char *type)
{
    if (r->state != R_CALLING)
        return;
    r->streaming = true;
    queue(r, code, MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096,
                                                     stream_read, r, NULL),
          type, NULL);
}

/* A stream's client is dropped: its socket is shut, so MHD closes it at
 * once even if it is full (a client that does not read never makes it
 * writable again), and done() follows. */
static void cut_off(struct zc__http_req *r)
{
    r->cut = true;
    if (r->k && r->k->fd >= 0)
        shut(r->h, r->k);
    resume(r);
    kick(r->h);
}

int zc__http_write(struct zc__http_req *r, const char *s, size_t n)
{
    size_t held = r->out.len - r->out_off;

    if (!r->streaming || r->ended || r->cut)
        return -EPIPE;
    if (held + n > r->h->lim.stream_max) {
        zc_log(ZC_LOG_DEBUG, NS, "a client left %zu bytes unread: cutting it "
               "off", held);
        cut_off(r);
        return -ENOBUFS;
    }
    if (r->out_off) {
        memmove(r->out.data, r->out.data + r->out_off, held);
        r->out_off = 0;
        r->out.len = held;
    }
    zc__buf_add(&r->out, s, n);
    if (r->out.failed) {
        cut_off(r);
        return -ENOMEM;
    }
    resume(r);
    return 0;
}

void zc__http_end(struct zc__http_req *r)
{
    if (!r->streaming || r->ended)
        return;
    r->ended = true;
    resume(r);
}

bool zc__http_may_wait(const struct zc__http_req *r)
{
    unsigned held = 0;

    /* At most max_conns requests wait or stream; the rest of the room,
     * the reserved lane, is for what is answered at once. */
    for (const struct zc__http_req *o = r->h->reqs; o; o = o->next)
        held += o != r && (o->state == R_WAITING ||
                           (o->streaming && !o->ended && !o->cut));
    return held < r->h->lim.max_conns;
}

void zc__http_wait(struct zc__http_req *r)
{
    if (r->state == R_CALLING)
        r->state = R_WAITING;
}

bool zc__http_woken(const struct zc__http_req *r)
{
    return r->woken;
}

void zc__http_wake(struct zc__http *h)
{
    for (struct zc__http_req *r = h->reqs; r; r = r->next)
        if (r->state == R_WAITING) {
            r->woken = true;
            resume(r);
        }
}

const char *zc__http_method(const struct zc__http_req *r) { return r->method; }
const char *zc__http_path(const struct zc__http_req *r) { return r->path; }
void zc__http_set_data(struct zc__http_req *r, void *data) { r->data = data; }
void *zc__http_data(const struct zc__http_req *r) { return r->data; }

struct args_walk {
    void (*fn)(const char *key, const char *value, void *ud);
    void *ud;
    size_t n;
};

static enum MHD_Result each_arg(void *cls, enum MHD_ValueKind kind,
                                const char *key, const char *value)
{
    struct args_walk *a = cls;

    (void) kind;
    a->fn(key, value, a->ud);
    a->n++;
    return MHD_YES;
}

size_t zc__http_args(const struct zc__http_req *r,
                     void (*fn)(const char *key, const char *value, void *ud),
                     void *ud)
{
    struct args_walk a = { fn, ud, 0 };

    (void) MHD_get_connection_values(r->c, MHD_GET_ARGUMENT_KIND, each_arg, &a);
    return a.n;
}

bool zc__http_peer_in_group(const struct zc__http_req *r, gid_t gid)
{
    gid_t groups[256];
    socklen_t len = sizeof(groups);

    if (!r->k || r->k->fd < 0)
        return false;
    if (r->k->has_peer && r->k->gid == gid)
        return true;
    /* The client's supplementary groups (Linux 4.13). */
    if (getsockopt(r->k->fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1)
        return false;
    for (size_t i = 0; i < len / sizeof(gid_t); i++)
        if (groups[i] == gid)
            return true;
    return false;
}

bool zc__http_peer(const struct zc__http_req *r, pid_t *pid, uid_t *uid,
                   gid_t *gid)
{
    if (!r->k || !r->k->has_peer)
        return false;
    *pid = r->k->pid;
    *uid = r->k->uid;
    *gid = r->k->gid;
    return true;
}

/* Framing MHD lets through and a careful server refuses (RFC 9112, 6.3):
 * a length said twice, a length beside a coding, a coding other than
 * chunked (MHD would wait for the close as its end). No client of ours
 * needs any; each is how a request hides another behind a proxy. */
struct framing {
    unsigned lengths, codings;
    bool other;
};

static enum MHD_Result each_header(void *cls, enum MHD_ValueKind kind,
                                   const char *key, const char *value)
{
    struct framing *f = cls;

    (void) kind;
    if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH))
        f->lengths++;
    else if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
        f->codings++;
        f->other |= !value || strcasecmp(value, "chunked") != 0;
    }
    return MHD_YES;
}

static const char *bad_framing(struct MHD_Connection *c, unsigned *code)
{
    struct framing f = { 0, 0, false };

    (void) MHD_get_connection_values(c, MHD_HEADER_KIND, each_header, &f);
    *code = MHD_HTTP_BAD_REQUEST;
    if (f.lengths > 1)
        return "Content-Length is given more than once\n";
    if (f.lengths && f.codings)
        return "Content-Length and Transfer-Encoding are both given\n";
    if (f.codings > 1 || f.other) {
        *code = MHD_HTTP_NOT_IMPLEMENTED;
        return "no Transfer-Encoding but chunked is taken\n";
    }
    return NULL;
}

/* MHD's unescaping, except that %00 is left as it is: a NUL would end the
 * path or value early for every string function after, so "/status%00x"
 * would be taken for "/status". Left escaped, it matches nothing. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void) cls;
    (void) c;
    return strstr(s, "%00") ? strlen(s) : MHD_http_unescape(s);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
    struct zc__http *h = cls;
    struct zc__http_req *r = *req_cls;

    (void) version;
    (void) upload;
    if (!r) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        struct conn *k = ci ? ci->socket_context : NULL;

        /* Closed to make room (told 503) with its request already in
         * the socket, which MHD may still read: it is not acted on. */
        if (k && k->fd < 0)
            return MHD_NO;
        r = calloc(1, sizeof(*r));
        if (!r)
            return MHD_NO;
        r->h = h;
        r->c = c;
        r->k = k;
        r->method = method;
        r->path = url;
        ZC__LIST_PUSH(h->reqs, r);
        *req_cls = r;
        {
            unsigned code;
            const char *why = bad_framing(c, &code);

            if (!why)
                return MHD_YES;
            /* Answered before the body, which MHD then does not read:
             * the connection closes after the answer. */
            r->refused = true;
            r->state = R_CALLING;
            zc__http_reply_text(r, code, "text/plain; charset=utf-8", why);
            return r->ret;
        }
    }
    if (*upload_size) {
        r->body += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->k)
        r->k->deadline_us = 0;      /* the request is in: no deadline now */
    if (r->state == R_WAITING && !r->woken)
        return MHD_YES;             /* resumed for another reason */
    r->state = R_CALLING;
    if (r->body > MAX_BODY)
        zc__http_reply_text(r, MHD_HTTP_CONTENT_TOO_LARGE, "text/plain; "
                            "charset=utf-8", "request body too large\n");
    else
        h->cb.request(h->cb.ud, r);
    if (r->state == R_CALLING)      /* a caller's bug: answer anyway */
        zc__http_reply_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
                            "text/plain; charset=utf-8", "no answer\n");
    if (r->state == R_WAITING) {
        r->suspended = true;
        MHD_suspend_connection(c);
        return MHD_YES;
    }
    return r->ret;
}

/* Cuts off the connections past their deadline; returns the next one. */
static uint64_t enforce_deadlines(struct zc__http *h, uint64_t now)
{
    uint64_t next = 0;

    for (struct conn *k = h->conns; k; k = k->next) {
        if (!k->deadline_us || k->fd < 0)
            continue;
        if (k->deadline_us <= now) {
            zc_log(ZC_LOG_DEBUG, NS, "closing a connection: no complete "
                   "request within %u ms", h->lim.timeout_ms);
            shut(h, k);
        } else if (!next || k->deadline_us < next) {
            next = k->deadline_us;
        }
    }
    return next;
}

static void arm(struct zc__http *h, uint64_t next)
{
    MHD_UNSIGNED_LONG_LONG ms;

    if (zc__timer_is_active(&h->timer) &&
        (!next || h->timer.deadline_us < next))
        next = h->timer.deadline_us;    /* a kick from a callback */
    if (MHD_get_timeout(h->d, &ms) == MHD_YES) {
        uint64_t at = zc__now_us() + (uint64_t) ms * 1000;

        if (!next || at < next)
            next = at;
    }
    if (next)
        (void) zc__timer_start(h->loop, &h->timer, next);
    else
        zc__timer_stop(h->loop, &h->timer);
}

static void http_run(struct zc__http *h)
{
    if (h->running)
        return;
    h->running = true;
    zc__timer_stop(h->loop, &h->timer);
    (void) MHD_run(h->d);
    h->running = false;
    arm(h, enforce_deadlines(h, zc__now_us()));
}

static void on_io(struct zc__loop *l, struct zc__io *io, uint32_t events)
{
    (void) l;
    (void) events;
    http_run(zc__container_of(io, struct zc__http, io));
}

static void on_timer(struct zc__loop *l, struct zc__timer *t)
{
    (void) l;
    http_run(zc__container_of(t, struct zc__http, timer));
}

int zc__http_start(struct zc__http **ret, struct zc__loop *l, int listen_fd,
                   const struct zc__http_limits *lim,
                   const struct zc__http_cb *cb)
{
    struct zc__http *h = calloc(1, sizeof(*h));
    const union MHD_DaemonInfo *info;
    int flags = fcntl(listen_fd, F_GETFL);
    unsigned conn_limit = lim->max_conns + MHD_SLACK + MHD_TURNED_AWAY;
    unsigned timeout_s = (unsigned) ((lim->timeout_ms + 999) / 1000);
    int r;

    if (!h) {
        (void) close(listen_fd);
        return -ENOMEM;
    }
    (void) fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK);
    h->listen_fd = listen_fd;
    h->loop = l;
    h->lim = *lim;
    h->cb = *cb;
    zc__timer_init(&h->timer, on_timer);
    /* One option and its values a line, as MHD's documentation pairs them. */
    /* clang-format off */
    h->d = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, on_request, h,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
        /* HTTP/1.1 without Host is refused, as RFC 9112 says; every
         * client we know (curl, Prometheus, HAProxy, kubelet,
         * zclusterctl) sends one. */
        MHD_OPTION_STRICT_FOR_CLIENT, (int) 1,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
        MHD_OPTION_LISTEN_SOCKET, listen_fd,
        MHD_OPTION_CONNECTION_LIMIT, conn_limit,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) REQUEST_MEMORY,
        MHD_OPTION_CONNECTION_TIMEOUT, timeout_s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_END);
    /* clang-format on */
    if (!h->d) {
        (void) close(listen_fd);
        free(h);
        return -EIO;
    }
    info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
    h->io = (struct zc__io) { .fd = info ? info->epoll_fd : -1, .cb = on_io };
    r = h->io.fd < 0 ? -EIO : zc__loop_add(l, &h->io, EPOLLIN);
    if (r < 0) {
        MHD_stop_daemon(h->d);
        (void) close(listen_fd);
        free(h);
        return r;
    }
    *ret = h;
    return 0;
}

int zc__http_listen_fd(const struct zc__http *h)
{
    return h ? h->listen_fd : -1;
}

void zc__http_stop(struct zc__http *h)
{
    int fd;

    if (!h)
        return;
    zc__timer_stop(h->loop, &h->timer);
    zc__loop_del(h->loop, &h->io);
    /* MHD must not be stopped with a connection suspended; a stream cut
     * here ends with an error, so its client knows it is incomplete. */
    for (struct zc__http_req *r = h->reqs; r; r = r->next) {
        r->cut = r->streaming && !r->ended;
        if (r->suspended) {
            r->suspended = false;
            MHD_resume_connection(r->c);
        }
    }
    /* What ended streams still hold goes out now, if the sockets take it:
     * a client told "the primary exits" should read it. */
    for (int i = 0; i < 4 && h->reqs; i++)
        (void) MHD_run(h->d);
    /* MHD does not close a socket it was given. */
    fd = MHD_quiesce_daemon(h->d);
    MHD_stop_daemon(h->d);
    if (fd >= 0)
        (void) close(fd);
    free(h);
}
