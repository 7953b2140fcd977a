/*
 * A small HTTP load generator for the reload tests: a forked child keeps
 * n connections busy against 127.0.0.1:port until told to stop, and counts
 * every request that did not get a complete 200 response as failed.
 *
 * Strict on purpose: a keep-alive connection the server closes without
 * having said "Connection: close" fails the request sent on it, as it
 * would for a client that does not retry.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

#define LOAD_MAX_CONNS 64
#define REQ_TIMEOUT_MS 5000
#define LOAD_MAX_MS 120000      /* the child stops by itself after this */
#define STOP_WAIT_MS 3000       /* for the generation a stop asks to see */

struct lconn {
    int fd;
    bool connecting;
    bool broken;        /* connect failed at once: already counted */
    size_t len;
    uint64_t sent_ms;
    char buf[2048];
};

struct zt_load {
    pid_t pid;
    int stop_w;         /* write a byte: the child stops */
    int result_r;       /* the child writes a struct zt_load_result */
};

static struct {
    int port;
    bool keepalive;
    struct zt_load_result res;
    int ep;
} L;

static void fail(const char *what, int err)
{
    if (!L.res.first_error[0])
        snprintf(L.res.first_error, sizeof(L.res.first_error), "%s%s%s", what,
                 err ? ": " : "", err ? strerror(err) : "");
    L.res.failed++;
}

static void open_conn(struct lconn *c)
{
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t) L.port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
    int one = 1;

    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    (void) setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->len = 0;
    c->connecting = true;
    c->broken = false;
    c->sent_ms = zt_now_ms();
    L.res.connects++;
    if (connect(c->fd, (struct sockaddr *) &sa, sizeof(sa)) == -1 &&
        errno != EINPROGRESS) {
        fail("connect", errno);
        c->broken = true;       /* reported writable at once: retried */
    }
    (void) epoll_ctl(L.ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static void reopen(struct lconn *c)
{
    (void) close(c->fd);
    open_conn(c);
}

static void send_request(struct lconn *c)
{
    static const char ka[] = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
    static const char cl[] = "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    const char *req = L.keepalive ? ka : cl;
    size_t n = L.keepalive ? sizeof(ka) - 1 : sizeof(cl) - 1;
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

    c->len = 0;
    c->sent_ms = zt_now_ms();
    /* A request this small always fits an empty socket buffer. */
    if (send(c->fd, req, n, MSG_NOSIGNAL) != (ssize_t) n) {
        fail("send", errno);
        reopen(c);
        return;
    }
    (void) epoll_ctl(L.ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* 1: a whole response is in the buffer; 0: not yet; -1: malformed. */
static int parse(struct lconn *c, bool *closing, int *status, long *generation)
{
    char *end = memmem(c->buf, c->len, "\r\n\r\n", 4), *h;
    long clen = -1;

    if (!end)
        return c->len == sizeof(c->buf) ? -1 : 0;
    *end = '\0';
    if (sscanf(c->buf, "HTTP/1.%*d %d", status) != 1)
        return -1;
    *closing = false;
    *generation = -1;
    for (h = strstr(c->buf, "\r\n"); h; h = strstr(h + 2, "\r\n")) {
        if (strncasecmp(h + 2, "Content-Length:", 15) == 0)
            clen = atol(h + 17);
        else if (strncasecmp(h + 2, "Connection: close", 17) == 0)
            *closing = true;
        else if (strncasecmp(h + 2, "X-Worker-Generation:", 20) == 0)
            *generation = atol(h + 22);
    }
    *end = '\r';
    if (clen < 0)
        return -1;
    return (size_t) (end + 4 - c->buf) + (size_t) clen <= c->len ? 1 : 0;
}

static void on_readable(struct lconn *c)
{
    bool closing;
    int status = 0, r;
    long gen;
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);

    if (n == -1 && errno == EAGAIN)
        return;
    if (n <= 0) {
        fail(n == 0 ? "connection closed before a whole response" : "recv",
             n == 0 ? 0 : errno);
        reopen(c);
        return;
    }
    c->len += (size_t) n;
    r = parse(c, &closing, &status, &gen);
    if (r == 0)
        return;
    if (r < 0 || status != 200) {
        fail(r < 0 ? "malformed response" : "status other than 200", 0);
        reopen(c);
        return;
    }
    L.res.ok++;
    if (gen > L.res.max_generation)
        L.res.max_generation = gen;
    if (L.keepalive && !closing)
        send_request(c);
    else
        reopen(c);
}

static void on_event(struct lconn *c, uint32_t events)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (c->broken) {
        reopen(c);
        return;
    }
    if (c->connecting) {
        (void) getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            fail("connect", err);
            reopen(c);
            return;
        }
        c->connecting = false;
        send_request(c);
        return;
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        on_readable(c);
}

static void run_child(int port, int n, bool keepalive, int stop_r, int result_w)
{
    static struct lconn conns[LOAD_MAX_CONNS];
    struct epoll_event evs[LOAD_MAX_CONNS + 1];
    uint64_t t0 = zt_now_ms(), stop_ms = 0;
    long want_gen = 0;

    L.port = port;
    L.keepalive = keepalive;
    L.ep = epoll_create1(EPOLL_CLOEXEC);
    {
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

        (void) epoll_ctl(L.ep, EPOLL_CTL_ADD, stop_r, &ev);
    }
    for (int i = 0; i < n; i++)
        open_conn(&conns[i]);
    for (;;) {
        int k = epoll_wait(L.ep, evs, LOAD_MAX_CONNS + 1, 100);
        uint64_t now;

        for (int i = 0; i < k; i++) {
            if (evs[i].data.ptr) {
                on_event(evs[i].data.ptr, evs[i].events);
            } else if (!stop_ms) {
                /* The stop request: the generation to see first, if any. */
                if (read(stop_r, &want_gen, sizeof(want_gen)) != sizeof(want_gen))
                    want_gen = 0;
                stop_ms = zt_now_ms();
                (void) epoll_ctl(L.ep, EPOLL_CTL_DEL, stop_r, NULL);
            }
        }
        /* Read after the events: they move sent_ms forward. */
        now = zt_now_ms();
        if ((stop_ms && (L.res.max_generation >= want_gen ||
                         now - stop_ms > STOP_WAIT_MS)) ||
            now - t0 > LOAD_MAX_MS)
            break;
        /* A request with no answer in time fails; the connection is
         * replaced, so a stuck server cannot stall the count. */
        for (int i = 0; i < n; i++)
            if (now - conns[i].sent_ms > REQ_TIMEOUT_MS) {
                fail("no response within 5000 ms", 0);
                reopen(&conns[i]);
            }
    }
    (void) !write(result_w, &L.res, sizeof(L.res));
    _exit(0);
}

struct zt_load *zt_load_start(int port, int conns, bool keepalive)
{
    struct zt_load *l = calloc(1, sizeof(*l));
    int stop[2], result[2];

    ASSERT(l && conns > 0 && conns <= LOAD_MAX_CONNS);
    ASSERT(pipe2(stop, O_CLOEXEC) == 0 && pipe2(result, O_CLOEXEC) == 0);
    l->pid = fork();
    ASSERT(l->pid >= 0);
    if (l->pid == 0) {
        close(stop[1]);
        close(result[0]);
        run_child(port, conns, keepalive, stop[0], result[1]);
    }
    close(stop[0]);
    close(result[1]);
    l->stop_w = stop[1];
    l->result_r = result[0];
    return l;
}

void zt_load_stop_at(struct zt_load *l, long gen, struct zt_load_result *res)
{
    struct pollfd pf = { .fd = l->result_r, .events = POLLIN };

    ASSERT(write(l->stop_w, &gen, sizeof(gen)) == (ssize_t) sizeof(gen));
    /* The child answers within STOP_WAIT_MS, or its own time limit. */
    ASSERT(poll(&pf, 1, 10000) == 1);
    ASSERT(read(l->result_r, res, sizeof(*res)) == (ssize_t) sizeof(*res));
    ASSERT(zt_wait_gone(l->pid, 5000));
    close(l->stop_w);
    close(l->result_r);
    free(l);
}

void zt_load_stop(struct zt_load *l, struct zt_load_result *res)
{
    zt_load_stop_at(l, 0, res);
}

/* From /proc/PID/task/PID/children: processes, not records. Up to max
 * pids into out (NULL: only counted); how many there are, -1 if pid is
 * gone. */
int zt_children_of(pid_t pid, pid_t *out, int max)
{
    char path[64], buf[4096];
    FILE *f;
    size_t n;
    int count = 0;

    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int) pid, (int) pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    for (char *t = strtok(buf, " \n"); t; t = strtok(NULL, " \n")) {
        if (out && count < max)
            out[count] = (pid_t) atoi(t);
        count++;
    }
    return count;
}

int zt_children(pid_t pid)
{
    return zt_children_of(pid, NULL, 0);
}
