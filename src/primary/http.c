/*
 * The endpoint, on libmicrohttpd driven by the primary's own loop: MHD
 * keeps its sockets in an epoll set of its own, whose fd our loop watches;
 * MHD_run() does what is ready without blocking, and MHD's next timeout
 * arms our timer.
 *
 * MHD's connection timeout only counts idle time, so a client that sends
 * one byte a second would hold a connection for ever. Each connection
 * here has a deadline as well: its request must be complete within
 * timeout_ms of the connection (or of the previous answer); past it, the
 * socket is shut down under MHD, which then closes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "primary/http.h"
#include "base/list.h"
#include "base/log.h"

#define NS "zc:http"
#define MAX_CONNECTIONS 64
#define REQUEST_MEMORY (16 * 1024)  /* a request's headers must fit */

struct conn {
    struct conn *prev, *next;
    struct MHD_Connection *c;
    int fd;
    uint64_t deadline_us;       /* 0: a request is being answered */
    bool waiting;               /* a scrape suspended for the workers */
    bool answer;                /* resumed: answer it now */
};

struct zc__http {
    struct MHD_Daemon *d;
    struct zc__loop *loop;
    struct zc__io io;
    struct zc__timer timer;
    struct conn *conns;
    uint32_t timeout_ms;
    struct zc__http_cb cb;
    bool running;               /* in MHD_run: do not re-enter */
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

static void on_connection(void *cls, struct MHD_Connection *c,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct zc__http *h = cls;
    struct conn *k = *socket_context;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

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
        k->deadline_us = zc__now_us() + h->timeout_ms * 1000ull;
        ZC__LIST_PUSH(h->conns, k);
        *socket_context = k;
        return;
    }
    if (!k)
        return;
    ZC__LIST_REMOVE(h->conns, k);
    free(k);
}

/* The answer is out: the connection gets timeout_ms for its next request. */
static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode code)
{
    struct zc__http *h = cls;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct conn *k = ci ? ci->socket_context : NULL;

    (void) req_cls;
    (void) code;
    if (k)
        k->deadline_us = zc__now_us() + h->timeout_ms * 1000ull;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code,
                             const char *type, char *body, size_t len,
                             bool take, const char *allow)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, body, take ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret;

    if (!r) {
        if (take)
            free(body);
        return MHD_NO;
    }
    (void) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    (void) MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (allow)
        (void) MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result text(struct MHD_Connection *c, unsigned code,
                            const char *msg)
{
    return reply(c, code, "text/plain; charset=utf-8", (char *) msg,
                 strlen(msg), false, NULL);
}

static enum MHD_Result metrics(struct zc__http *h, struct MHD_Connection *c,
                               struct conn *k)
{
    struct zc__buf out = { 0 };

    if (k && !k->answer && h->cb.scrape_wait(h->cb.ud)) {
        k->waiting = true;
        MHD_suspend_connection(c);
        return MHD_YES;
    }
    if (k)
        k->answer = k->waiting = false;
    h->cb.render(h->cb.ud, &out);
    if (out.failed) {
        free(out.data);
        return text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    }
    return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
                 out.data ? out.data : strdup(""), out.len, true, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
    struct zc__http *h = cls;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct conn *k = ci ? ci->socket_context : NULL;
    char why[160], body[200];

    (void) version;
    (void) upload;
    (void) upload_size;
    (void) req_cls;
    if (k)
        k->deadline_us = 0;     /* the request is in: no deadline now */
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
                     (char *) "only GET and HEAD are served here\n",
                     strlen("only GET and HEAD are served here\n"), false,
                     "GET, HEAD");
    if (strcmp(url, "/metrics") == 0)
        return metrics(h, c, k);
    if (strcmp(url, "/healthz") == 0)
        return text(c, MHD_HTTP_OK, "ok\n");
    if (strcmp(url, "/readyz") == 0) {
        if (h->cb.ready(h->cb.ud, why, sizeof(why)))
            return text(c, MHD_HTTP_OK, "ready\n");
        snprintf(body, sizeof(body), "not ready: %s\n", why);
        return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain; charset=utf-8",
                     strdup(body), strlen(body), true, NULL);
    }
    return text(c, MHD_HTTP_NOT_FOUND,
                "not found: this endpoint serves /metrics, /healthz and /readyz\n");
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
                   "request within %u ms", h->timeout_ms);
            (void) shutdown(k->fd, SHUT_RDWR);
            k->fd = -1;     /* shut once; MHD closes it */
        } else if (!next || k->deadline_us < next) {
            next = k->deadline_us;
        }
    }
    return next;
}

static void arm(struct zc__http *h, uint64_t next)
{
    MHD_UNSIGNED_LONG_LONG ms;

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
    struct zc__http *h = zc__container_of(t, struct zc__http, timer);

    (void) l;
    (void) enforce_deadlines(h, zc__now_us());
    http_run(h);
}

void zc__http_scrapes_ready(struct zc__http *h)
{
    for (struct conn *k = h->conns; k; k = k->next)
        if (k->waiting) {
            k->answer = true;
            MHD_resume_connection(k->c);
        }
    /* Called from outside MHD_run: run it now for the resumed ones. */
    http_run(h);
}

int zc__http_start(struct zc__http **ret, struct zc__loop *l, int listen_fd,
                   uint32_t timeout_ms, const struct zc__http_cb *cb)
{
    struct zc__http *h = calloc(1, sizeof(*h));
    const union MHD_DaemonInfo *info;
    int flags = fcntl(listen_fd, F_GETFL);
    int r;

    if (!h) {
        (void) close(listen_fd);
        return -ENOMEM;
    }
    (void) fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK);
    h->loop = l;
    h->timeout_ms = timeout_ms;
    h->cb = *cb;
    zc__timer_init(&h->timer, on_timer);
    h->d = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, on_request, h,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
        MHD_OPTION_LISTEN_SOCKET, listen_fd,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned) MAX_CONNECTIONS,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) REQUEST_MEMORY,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) ((timeout_ms + 999) / 1000),
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_END);
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

void zc__http_stop(struct zc__http *h)
{
    int fd;

    if (!h)
        return;
    zc__timer_stop(h->loop, &h->timer);
    zc__loop_del(h->loop, &h->io);
    /* MHD does not close a socket it was given. */
    fd = MHD_quiesce_daemon(h->d);
    MHD_stop_daemon(h->d);
    if (fd >= 0)
        (void) close(fd);
    free(h);
}
