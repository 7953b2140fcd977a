/*
 * zcluster-hello: a small, fast HTTP/1.1 server to run as a fleet.
 *
 *   zcluster -w 4 -l 127.0.0.1:8080 -- zcluster-hello   workers of the tool
 *   zcluster-hello --cluster 4 -l 127.0.0.1:8080        its own primary
 *   zcluster-hello -l 127.0.0.1:8080 --reuseport        alone, no manager
 *   zcluster --sticky -w 4 -l 127.0.0.1:8080 -- zcluster-hello
 *                               sticky sessions: the primary accepts and
 *                               hands each client to its slot's worker
 *
 * GET /burn?us=N spins the CPU for N microseconds first, GET /grow?kb=N
 * keeps N KiB more memory for good (benches and the recycling demo).
 * Every response names the worker (X-Worker-Slot, X-Worker-Pid,
 * X-Worker-Id, X-Worker-Generation). --log FILE appends its log there,
 * and SIGUSR1 reopens FILE (after logrotate moved it). On SIGTERM, SIGINT
 * or the primary's shutdown message (its
 * link, in its own epoll loop) it drains: stops accepting, answers
 * the next request of each keep-alive connection with "Connection: close",
 * closes connections still idle after --drain-idle (default 1000 ms), and
 * exits 0 when none is left.
 *
 * Its metrics (served by the primary's --metrics endpoint): requests by
 * status code, the time from the read that completed a request to its
 * answer, and its open connections, one series per worker.
 *
 * The request parser only frames requests (request line, Connection,
 * Content-Length): enough for a demo that must never misread a keep-alive
 * stream, and it answers anything it does not handle with an error and a
 * close rather than guessing.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "zcluster.h"

#define NS "hello"
#define IN_MAX 8192             /* request head limit: 431 past it */
#define OUT_MAX 16384
#define BODY_MAX (1u << 20)     /* request bodies are read and dropped */
#define MAX_CONNS 16384
#define MAX_LISTEN 64

struct conn {
    struct conn *prev, *next;   /* every open connection, for the drain */
    int fd;
    size_t in_len;
    char in[IN_MAX];
    size_t out_len, out_off;
    char out[OUT_MAX];
    size_t body_left;           /* request body bytes still to discard */
    bool close_after;           /* close once out is flushed */
    bool want_out;              /* registered for EPOLLOUT */
    bool watched;               /* in the epoll set */
    bool handed;                /* the primary handed it to us */
};

static struct {
    const char *listen[MAX_LISTEN];
    int n_listen;
    bool reuseport;
    bool sticky;
    unsigned cluster;
    unsigned startup_delay_ms;
    unsigned drain_idle_ms;
    const char *log_path;       /* --log: stderr goes there */
} arg = { .drain_idle_ms = 1000 };

static struct {
    int ep, sigfd, timerfd;
    int lfd[MAX_LISTEN];
    int n_lfd;
    struct conn *conns;         /* list head */
    unsigned n_conns;
    bool draining;
    zc_worker *link;            /* to the primary, for its shutdown message */
    char ident[160];            /* the X-Worker-* headers */
    char body[128];
    size_t body_len;
    uint64_t read_ns;           /* when the last read returned */
} srv = { .ep = -1, .sigfd = -1, .timerfd = -1 };

/* The codes hello answers with; anything else counts as "other". */
static const int codes[] = { 200, 400, 413, 431, 501 };
#define N_CODES (sizeof(codes) / sizeof(codes[0]))

static struct {
    zc_metric *requests[N_CODES + 1];
    zc_metric *latency;
    zc_metric *open;
} metric;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);    /* the vDSO: no system call */
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* Registered once; on failure (logged by the library) hello serves
 * without them: the update calls take NULL. */
static void metrics_init(void)
{
    static const double buckets[] = {
        1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 1e-3, 1e-2,
    };
    zc_metric *requests;
    char code[16];

    if (zc_metric_new(&requests, ZC_COUNTER, "hello_requests_total",
                      "Requests answered, by status code.", "code", 0) == 0)
        for (size_t i = 0; i <= N_CODES; i++) {
            const char *v = code;

            if (i < N_CODES)
                snprintf(code, sizeof(code), "%d", codes[i]);
            else
                v = "other";
            (void) zc_metric_with(requests, &metric.requests[i], &v);
        }
    (void) zc_histogram_new(&metric.latency, "hello_request_duration_seconds",
                            "From the read that completed a request to its "
                            "answer.", NULL, buckets,
                            sizeof(buckets) / sizeof(buckets[0]));
    (void) zc_metric_new(&metric.open, ZC_GAUGE, "hello_open_connections",
                         "Connections open in the worker.", NULL,
                         ZC_METRIC_PER_WORKER);
}

static void count_response(int code)
{
    size_t i = 0;

    while (i < N_CODES && codes[i] != code)
        i++;
    zc_metric_inc(metric.requests[i]);
    zc_metric_observe(metric.latency, (double) (now_ns() - srv.read_ns) / 1e9);
}

/* epoll data for listeners and the signal/timer fds: small tags below
 * this; anything else is a struct conn pointer. */
enum { TAG_SIGNAL = 1, TAG_TIMER = 2, TAG_LINK = 3, TAG_LISTEN0 = 16 };

static void conn_close(struct conn *c)
{
    /* Out of the epoll set first: close() removes it only when no other
     * process holds the socket, and a sticky primary may still hold its
     * copy of one it has just handed us, for a moment. */
    if (c->watched)
        (void) epoll_ctl(srv.ep, EPOLL_CTL_DEL, c->fd, NULL);
    (void) close(c->fd);
    /* A least-conn primary counts it as ours until we say so. */
    if (c->handed)
        zc_self_conn_closed();
    if (c->prev)
        c->prev->next = c->next;
    else
        srv.conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
    srv.n_conns--;
    zc_metric_set(metric.open, srv.n_conns);
    /* The library's drain waits for the in-flight count to reach 0. */
    if (srv.draining)
        zc_worker_drain_progress(srv.link);
}

/* Idle: no part of a request received, nothing left to send. */
static bool conn_is_idle(const struct conn *c)
{
    return c->in_len == 0 && c->out_len == 0 && c->body_left == 0;
}

/* The drain grace is over: keep-alive connections that sent nothing more
 * are closed; ones in the middle of a request are answered first (with
 * "Connection: close") and close after. The primary's shutdown timeout
 * bounds a client that never finishes. */
static void close_idle(void)
{
    unsigned closed = 0;

    for (struct conn *c = srv.conns, *next; c; c = next) {
        next = c->next;
        if (conn_is_idle(c)) {
            conn_close(c);
            closed++;
        }
    }
    zc_log(ZC_LOG_INFO, NS, "drain grace of %u ms over: closed %u idle "
           "connection%s, %u still busy", arg.drain_idle_ms, closed,
           closed == 1 ? "" : "s", srv.n_conns);
}

static void out_append(struct conn *c, const char *s, size_t n)
{
    if (n > OUT_MAX - c->out_len)
        n = OUT_MAX - c->out_len;   /* cannot happen: checked before */
    memcpy(c->out + c->out_len, s, n);
    c->out_len += n;
}

static void respond(struct conn *c, int code, const char *reason, bool head,
                    bool close_conn)
{
    char hdr[512];
    const char *body = code == 200 ? srv.body : reason;
    size_t blen = code == 200 ? srv.body_len : strlen(reason);
    int n;

    if (srv.draining)
        close_conn = true;
    n = snprintf(hdr, sizeof(hdr),
                 "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
                 "Content-Length: %zu\r\n%s%s\r\n",
                 code, reason, code == 200 ? blen : blen + 1, srv.ident,
                 close_conn ? "Connection: close\r\n" : "");
    out_append(c, hdr, (size_t) n);
    if (!head) {
        out_append(c, body, blen);
        if (code != 200)
            out_append(c, "\n", 1);
    }
    if (close_conn)
        c->close_after = true;
    count_response(code);
}

/* Header value of name in the head [p, end), or NULL. */
static const char *header(const char *p, const char *end, const char *name,
                          size_t *len)
{
    size_t nlen = strlen(name);

    while (p < end) {
        const char *eol = memmem(p, (size_t) (end - p), "\r\n", 2);

        if (!eol)
            eol = end;
        if ((size_t) (eol - p) > nlen && p[nlen] == ':' &&
            strncasecmp(p, name, nlen) == 0) {
            p += nlen + 1;
            while (p < eol && (*p == ' ' || *p == '\t'))
                p++;
            *len = (size_t) (eol - p);
            return p;
        }
        p = eol + 2;
    }
    return NULL;
}

static bool has_token(const char *v, size_t len, const char *token)
{
    size_t t = strlen(token);

    for (size_t i = 0; i + t <= len; i++)
        if (strncasecmp(v + i, token, t) == 0 &&
            (i == 0 || v[i - 1] == ',' || v[i - 1] == ' ') &&
            (i + t == len || v[i + t] == ',' || v[i + t] == ' '))
            return true;
    return false;
}

/* N of a path "PREFIXN" (capped at max), 0 for any other path. */
static unsigned long query_arg(const char *path, const char *end,
                               const char *prefix, unsigned long max)
{
    size_t n = strlen(prefix);
    unsigned long v = 0;

    if ((size_t) (end - path) <= n || memcmp(path, prefix, n) != 0)
        return 0;
    for (path += n; path < end && *path >= '0' && *path <= '9'; path++)
        if ((v = v * 10 + (unsigned long) (*path - '0')) > max)
            v = max;
    return v;
}

/* GET /burn?us=N spins the CPU for N microseconds (at most a second)
 * before answering, so a bench can make some requests costly and see
 * where the load goes. GET /grow?kb=N keeps N KiB more (at most 64 MiB a
 * request), touched, for good: a leak on demand, to see --max-memory
 * recycle a worker. */
static void burn_or_grow(const char *path, const char *end)
{
    static void *kept;          /* a chain of the blocks: kept, not lost */
    unsigned long us = query_arg(path, end, "/burn?us=", 1000000);
    unsigned long kb = query_arg(path, end, "/grow?kb=", 65536);
    uint64_t until = now_ns() + us * 1000;
    char *p;

    while (now_ns() < until)
        ;
    if (kb == 0 || !(p = malloc(kb * 1024)))
        return;
    memset(p, 1, kb * 1024);        /* resident, and never freed */
    memcpy(p, &kept, sizeof(kept));
    kept = p;
}

/* Handles one complete request head of n bytes. Returns false when the
 * connection must stop reading (an error response was queued). */
static bool handle_request(struct conn *c, const char *req, size_t n)
{
    const char *end = req + n, *line_end = memmem(req, n, "\r\n", 2);
    const char *sp1 = memchr(req, ' ', (size_t) (line_end - req));
    const char *sp2 =
        sp1 ? memchr(sp1 + 1, ' ', (size_t) (line_end - sp1 - 1)) : NULL;
    const char *v;
    size_t vlen;
    bool http11, keep;
    unsigned long clen = 0;

    if (!sp1 || !sp2 || line_end - sp2 != 9 || strncmp(sp2 + 1, "HTTP/1.", 7) ||
        (sp2[8] != '0' && sp2[8] != '1')) {
        respond(c, 400, "Bad Request", false, true);
        return false;
    }
    http11 = sp2[8] == '1';
    if (header(line_end + 2, end, "Transfer-Encoding", &vlen)) {
        respond(c, 501, "Not Implemented", false, true);
        return false;
    }
    v = header(line_end + 2, end, "Content-Length", &vlen);
    if (v) {
        char *e;

        clen = strtoul(v, &e, 10);
        if (e == v || (size_t) (e - v) != vlen || *v == '-') {
            respond(c, 400, "Bad Request", false, true);
            return false;
        }
        if (clen > BODY_MAX) {
            respond(c, 413, "Content Too Large", false, true);
            return false;
        }
    }
    v = header(line_end + 2, end, "Connection", &vlen);
    keep = http11 ? !(v && has_token(v, vlen, "close"))
                  : (v && has_token(v, vlen, "keep-alive"));
    c->body_left = clen;
    burn_or_grow(sp1 + 1, sp2);
    respond(c, 200, "OK", sp1 - req == 4 && strncmp(req, "HEAD", 4) == 0,
            !keep);
    return true;
}

/* Frames as many pipelined requests as the buffers allow. */
static void process_input(struct conn *c)
{
    size_t off = 0;

    while (!c->close_after && off < c->in_len) {
        size_t avail = c->in_len - off, skip;
        const char *head_end;

        if (c->body_left) {
            skip = c->body_left < avail ? c->body_left : avail;
            c->body_left -= skip;
            off += skip;
            continue;
        }
        /* Keep room for the largest response before taking a request. */
        if (OUT_MAX - c->out_len < 1024)
            break;
        head_end = memmem(c->in + off, avail, "\r\n\r\n", 4);
        if (!head_end) {
            if (off == 0 && c->in_len == IN_MAX)
                respond(c, 431, "Request Header Fields Too Large", false, true);
            break;
        }
        skip = (size_t) (head_end - (c->in + off)) + 4;
        handle_request(c, c->in + off, skip);
        off += skip;
    }
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
}

static void set_out_interest(struct conn *c, bool want)
{
    struct epoll_event ev = { .events = EPOLLIN | (want ? EPOLLOUT : 0),
                              .data.ptr = c };

    if (!c->watched)
        c->want_out = want;     /* registered with it, see add_conn() */
    else if (want != c->want_out &&
             epoll_ctl(srv.ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
        c->want_out = want;
}

/* Returns false if the connection was closed. */
static bool flush(struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL);

        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1 && errno == EAGAIN) {
            set_out_interest(c, true);
            return true;
        }
        if (n <= 0) {
            conn_close(c);
            return false;
        }
        c->out_off += (size_t) n;
    }
    c->out_off = c->out_len = 0;
    set_out_interest(c, false);
    if (c->close_after) {
        /* Half-close first so the client reads the whole response before
         * it sees the end, instead of a reset. */
        (void) shutdown(c->fd, SHUT_WR);
        conn_close(c);
        return false;
    }
    return true;
}

/* Returns false if the connection was closed. */
static bool on_conn(struct conn *c, uint32_t events)
{
    if (events & (EPOLLERR | EPOLLHUP)) {
        conn_close(c);
        return false;
    }
    if ((events & EPOLLOUT) && !flush(c))
        return false;
    if (!(events & EPOLLIN) || c->close_after)
        return true;
    for (int rounds = 0; rounds < 4 && c->in_len < IN_MAX; rounds++) {
        ssize_t n = recv(c->fd, c->in + c->in_len, IN_MAX - c->in_len, 0);

        if (n == -1 && (errno == EAGAIN || errno == EINTR))
            break;
        if (n <= 0) {
            conn_close(c);
            return false;
        }
        c->in_len += (size_t) n;
        srv.read_ns = now_ns();
        process_input(c);
        if (!flush(c))
            return false;
        if (c->close_after)
            return true;
    }
    return true;
}

/*
 * One connection per wake-up (nginx's "multi_accept off"). The socket is
 * shared with every other worker and watched with EPOLLEXCLUSIVE, which
 * wakes the first idle worker in registration order: a worker that took a
 * whole burst would end up with most of a load generator's keep-alive
 * connections. Taking one and going back to epoll lets the others, idle
 * while this one works, be woken for the next.
 */
static void add_conn(int fd, bool has_data, bool handed);

static bool accept_one(int lfd)
{
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (fd == -1)
        return false;   /* EAGAIN: another worker took it; EMFILE: next time */
    add_conn(fd, false, false);
    return true;
}

/* Sticky mode: the primary accepted it for us (non-blocking already). */
static int on_handed(zc_worker *w, const zc_conn *hc, void *userdata)
{
    (void) w;
    (void) userdata;
    /* Accepted a moment ago by the primary: the request has often
     * arrived by now, and is answered without a trip through epoll. */
    add_conn(hc->fd, true, true);
    return 0;
}

static void add_conn(int fd, bool has_data, bool handed)
{
    struct epoll_event ev = { .events = EPOLLIN };
    struct conn *c;
    int one = 1;

    c = srv.n_conns < MAX_CONNS ? calloc(1, sizeof(*c)) : NULL;
    if (!c) {
        (void) close(fd);
        if (handed)
            zc_self_conn_closed();
        return;
    }
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->fd = fd;
    c->handed = handed;
    c->next = srv.conns;
    if (c->next)
        c->next->prev = c;
    srv.conns = c;
    srv.n_conns++;
    zc_metric_set(metric.open, srv.n_conns);
    if (has_data && !on_conn(c, EPOLLIN))
        return;                 /* answered and closed */
    ev.events = EPOLLIN | (c->want_out ? EPOLLOUT : 0);
    ev.data.ptr = c;
    if (epoll_ctl(srv.ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
        conn_close(c);
        return;
    }
    c->watched = true;
}

/* sig: the signal that asked, or 0 for the primary's shutdown message. */
static void start_drain(int sig)
{
    struct itimerspec its = { .it_value = {
        .tv_sec = arg.drain_idle_ms / 1000,
        .tv_nsec = (long) (arg.drain_idle_ms % 1000) * 1000000 + 1 } };

    if (srv.draining)
        return;
    srv.draining = true;
    zc_log(ZC_LOG_INFO, NS, "%s: draining %u connection%s",
           sig == 0 ? "shutdown message" : sig == SIGINT ? "received SIGINT"
           : "received SIGTERM", srv.n_conns, srv.n_conns == 1 ? "" : "s");
    (void) zc_notify("STOPPING=1");
    /*
     * Stop accepting. The sockets are shared with the other workers, so
     * close() alone would not take them out of our epoll set (the file
     * stays open elsewhere) and, with EPOLLEXCLUSIVE, we would go on being
     * the one woken for new connections. Delete them from the set first;
     * then take what is already queued and may have woken only us: those
     * connections are served here, with "Connection: close". Anything
     * that arrives later wakes a worker still serving.
     */
    for (int i = 0; i < srv.n_lfd; i++) {
        (void) epoll_ctl(srv.ep, EPOLL_CTL_DEL, srv.lfd[i], NULL);
        for (int n = 0; n < 1024 && accept_one(srv.lfd[i]); n++)
            ;
        (void) close(srv.lfd[i]);
    }
    srv.n_lfd = 0;
    (void) timerfd_settime(srv.timerfd, 0, &its, NULL);
}

/* --log FILE becomes our stderr, where the log goes; at start and on
 * SIGUSR1, so a rotated file is let go of. */
static int open_log(void)
{
    int fd;

    if (!arg.log_path)
        return 0;
    fd = open(arg.log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd == -1 || dup2(fd, 2) == -1) {
        zc_log(ZC_LOG_ERROR, NS, "cannot open the log %s: %s", arg.log_path,
               strerror(errno));
        if (fd >= 0)
            (void) close(fd);
        return -1;
    }
    (void) close(fd);
    return 0;
}

static void on_signal(int sig)
{
    if (sig != SIGUSR1)
        start_drain(sig);
    else if (!arg.log_path)
        zc_log(ZC_LOG_INFO, NS, "received SIGUSR1: no log file to reopen "
               "(the log goes to stderr; --log FILE)");
    else if (open_log() == 0)
        zc_log(ZC_LOG_INFO, NS, "received SIGUSR1: reopened %s", arg.log_path);
}

static int serve_loop(void)
{
    struct epoll_event ev[64];

    while (!srv.draining || srv.n_conns > 0) {
        int n = epoll_wait(srv.ep, ev, 64, -1);

        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            return 1;
        for (int i = 0; i < n; i++) {
            uintptr_t tag = (uintptr_t) ev[i].data.ptr;
            struct signalfd_siginfo si;

            if (tag == TAG_SIGNAL) {
                if (read(srv.sigfd, &si, sizeof(si)) == (ssize_t) sizeof(si))
                    on_signal((int) si.ssi_signo);
            } else if (tag == TAG_LINK) {
                /* Messages from the primary; a "shutdown" one starts the
                 * drain hooks below. */
                (void) zc_worker_dispatch(srv.link);
            } else if (tag == TAG_TIMER) {
                uint64_t expirations;

                (void) !read(srv.timerfd, &expirations, sizeof(expirations));
                close_idle();
            } else if (tag >= TAG_LISTEN0 && tag < TAG_LISTEN0 + MAX_LISTEN) {
                if (!srv.draining)
                    (void) accept_one(srv.lfd[tag - TAG_LISTEN0]);
            } else {
                (void) on_conn(ev[i].data.ptr, ev[i].events);
            }
        }
    }
    return 0;
}

/* The library's drain, in the spec's order, mapped onto ours. */
static int drain_hook(zc_worker *w, int phase, void *userdata)
{
    (void) w;
    (void) userdata;
    switch (phase) {
    case ZC_DRAIN_STOP_ACCEPTING:
        start_drain(0);
        return 0;
    case ZC_DRAIN_IN_FLIGHT:
        return (int) srv.n_conns;
    case ZC_DRAIN_FORCE_CLOSE:
        while (srv.conns)
            conn_close(srv.conns);
        return 0;
    default:
        return 0;
    }
}

static int watch(int fd, uintptr_t tag, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = (void *) tag };

    return epoll_ctl(srv.ep, EPOLL_CTL_ADD, fd, &ev);
}

static int open_listeners(void)
{
    int n = zc_listen_fds();

    /* Sticky: connections come over the link, see serve(). */
    if (zc_self_is_sticky())
        return 0;
    if (n > 0) {
        for (int i = 0; i < n && i < MAX_LISTEN; i++)
            srv.lfd[srv.n_lfd++] = 3 + i;
        return 0;
    }
    for (int i = 0; i < arg.n_listen; i++) {
        int r =
            zc_listen(arg.listen[i], arg.reuseport ? ZC_LISTEN_REUSEPORT : 0,
                      &srv.lfd[srv.n_lfd]);

        if (r < 0) {
            zc_log(ZC_LOG_ERROR, NS, "cannot listen on %s: %s", arg.listen[i],
                   zc_strerror(r));
            return -1;
        }
        srv.n_lfd++;
    }
    if (srv.n_lfd == 0) {
        zc_log(ZC_LOG_ERROR, NS, "nothing to listen on: give -l ADDR, or run "
               "under zcluster");
        return -1;
    }
    return 0;
}

static int serve(int argc, char **argv, void *unused)
{
    struct timespec delay = { .tv_sec = arg.startup_delay_ms / 1000,
                              .tv_nsec = (long) (arg.startup_delay_ms % 1000) *
                                         1000000 };
    sigset_t set;
    int r;

    (void) argc;
    (void) argv;
    (void) unused;
    /* A slow start-up, to show readiness and reloads with a real delay. */
    while (nanosleep(&delay, &delay) == -1 && errno == EINTR)
        ;
    if (open_log() < 0)
        return 1;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    (void) sigprocmask(SIG_BLOCK, &set, NULL);
    srv.ep = epoll_create1(EPOLL_CLOEXEC);
    srv.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    srv.timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (srv.ep == -1 || srv.sigfd == -1 || srv.timerfd == -1 ||
        open_listeners() < 0)
        return 1;
    snprintf(srv.ident, sizeof(srv.ident),
             "X-Worker-Slot: %d\r\nX-Worker-Pid: %ld\r\nX-Worker-Id: %llu\r\n"
             "X-Worker-Generation: %llu\r\n",
             zc_self_slot(), (long) getpid(),
             (unsigned long long) zc_self_id(),
             (unsigned long long) zc_self_generation());
    srv.body_len =
        (size_t) snprintf(srv.body, sizeof(srv.body),
                          "hello from worker %llu (slot %d, pid %ld)\n",
                          (unsigned long long) zc_self_id(), zc_self_slot(),
                          (long) getpid());
    if (watch(srv.sigfd, TAG_SIGNAL, EPOLLIN) == -1 ||
        watch(srv.timerfd, TAG_TIMER, EPOLLIN) == -1)
        return 1;
    /* Our own loop with the library's link in it: one more fd to watch,
     * one call when it is readable. Run alone, there is no link and the
     * fd never becomes readable. */
    if (zc_worker_new(&srv.link, 0) < 0 ||
        watch(zc_worker_fd(srv.link), TAG_LINK, EPOLLIN) == -1)
        return 1;
    (void) zc_worker_on_connection(srv.link, on_handed, NULL);
    for (int phase = ZC_DRAIN_STOP_ACCEPTING; phase <= ZC_DRAIN_FORCE_CLOSE;
         phase++)
        if (phase != ZC_DRAIN_CLOSE_LONG_LIVED)
            (void) zc_worker_on_drain(srv.link, phase, drain_hook, NULL);
    for (int i = 0; i < srv.n_lfd; i++) {
        /* Shared by every worker: non-blocking so a lost accept race is
         * EAGAIN, exclusive so one connection wakes one worker. */
        (void) fcntl(srv.lfd[i], F_SETFL,
                     fcntl(srv.lfd[i], F_GETFL) | O_NONBLOCK);
        if (watch(srv.lfd[i], TAG_LISTEN0 + (uintptr_t) i,
                  EPOLLIN | EPOLLEXCLUSIVE) == -1)
            return 1;
    }
    metrics_init();
    (void) zc_self_ready();
    r = serve_loop();
    zc_worker_free(srv.link);
    return r;
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: zcluster-hello [-l ADDR]... [--reuseport] [--cluster N]\n"
            "                      [--sticky] [--startup-delay MS] "
            "[--drain-idle MS]\n"
            "                      [--log FILE]\n"
            "Under zcluster it serves the sockets it inherits, or the "
            "connections\n"
            "a sticky primary hands it; --cluster N runs its own fleet of N\n"
            "workers through libzcluster (--sticky: with sticky sessions);\n"
            "otherwise it serves the -l addresses alone (--reuseport: several\n"
            "may bind one port). --log FILE: the log goes there, reopened on\n"
            "SIGUSR1.\n");
}

static int parse_args(int argc, char **argv)
{
    static const struct option opts[] = {
        { "listen", required_argument, NULL, 'l' },
        { "reuseport", no_argument, NULL, 'r' },
        { "sticky", no_argument, NULL, 's' },
        { "cluster", required_argument, NULL, 'c' },
        { "startup-delay", required_argument, NULL, 'd' },
        { "drain-idle", required_argument, NULL, 'i' },
        { "log", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    while ((c = getopt_long(argc, argv, "l:h", opts, NULL)) != -1) {
        char *end = NULL;
        unsigned long v = optarg ? strtoul(optarg, &end, 10) : 0;

        if (optarg && c != 'l' && c != 'o' &&
            (*end || end == optarg || v > 100000000)) {
            fprintf(stderr, "zcluster-hello: invalid value '%s'\n", optarg);
            return 2;
        }
        switch (c) {
        case 'l':
            if (arg.n_listen == MAX_LISTEN || zc_address_check(optarg) < 0) {
                fprintf(stderr, "zcluster-hello: invalid address '%s'\n",
                        optarg);
                return 2;
            }
            arg.listen[arg.n_listen++] = optarg;
            break;
        case 'r': arg.reuseport = true; break;
        case 's': arg.sticky = true; break;
        case 'c': arg.cluster = (unsigned) v; break;
        case 'd': arg.startup_delay_ms = (unsigned) v; break;
        case 'i': arg.drain_idle_ms = (unsigned) v; break;
        case 'o': arg.log_path = optarg; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return 2;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    zc_options o;
    int r = parse_args(argc, argv);

    if (r)
        return r;
    if (arg.cluster == 0 || zc_self_is_worker())
        return serve(argc, argv, NULL);
    zc_options_init(&o);
    o.workers = arg.cluster;
    o.listen = arg.listen;
    o.n_listen = (size_t) arg.n_listen;
    o.sticky = arg.sticky;
    return zc_cluster_run(argc, argv, serve, NULL, &o);
}
