/*
 * The primary's HTTP server in-process, on the primary's own loop and a
 * real unix socket: a stream reaches a client that reads all of it, and a
 * client that stops reading is cut off once stream_max is held for it,
 * so it cannot grow the server's memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "primary/control/http.h"
#include "test.h"

#define CHUNK 16384
#define TOTAL (1024 * 1024)
#define STREAM_MAX (64 * 1024)

struct world {
    struct zc__loop loop;
    struct zc__timer tick;
    struct zc__http *http;
    struct zc__http_req *req;
    int client;
    bool reading;           /* the client reads what it is sent */
    size_t written, received;
    int write_error;
    bool done, eof;
    uint64_t deadline;
};

static void on_request(void *ud, struct zc__http_req *r)
{
    struct world *w = ud;

    w->req = r;
    zc__http_stream(r, 200, "application/x-ndjson");
}

static void on_done(void *ud, struct zc__http_req *r)
{
    struct world *w = ud;

    ASSERT(r == w->req);
    w->req = NULL;
    w->done = true;
}

/* Every few ms: the server writes a chunk, the client reads (or not). */
static void on_tick(struct zc__loop *l, struct zc__timer *t)
{
    struct world *w = zc__container_of(t, struct world, tick);
    static char chunk[CHUNK], buf[65536];
    ssize_t n = -1;

    if (!chunk[0]) {
        memset(chunk, 'x', sizeof(chunk));
        chunk[sizeof(chunk) - 1] = '\n';
    }
    if (w->req && !w->write_error) {
        if (w->written < TOTAL) {
            int r = zc__http_write(w->req, chunk, sizeof(chunk));

            if (r < 0)
                w->write_error = r;
            else
                w->written += sizeof(chunk);
        } else {
            zc__http_end(w->req);
        }
    }
    while (w->reading && (n = recv(w->client, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
        w->received += (size_t) n;
    if (w->reading && n == 0)
        w->eof = true;
    if ((w->done && (!w->reading || w->received >= TOTAL)) ||
        zc__now_us() > w->deadline) {
        zc__loop_stop(l);
        return;
    }
    (void) zc__timer_start(l, t, zc__now_us() + 2000);
}

static void run(bool reading)
{
    const struct zc__http_limits lim = { .timeout_ms = 5000, .max_conns = 4,
                                         .stream_max = STREAM_MAX };
    struct zc__http_cb cb = { on_request, on_done, NULL };
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct world w = { .reading = reading };
    const char req[] = "GET /s HTTP/1.1\r\nHost: x\r\n\r\n";
    int fd;

    ASSERT_EQ(zc__loop_init(&w.loop, NULL, NULL, 4), 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%.90s/http.sock", zt_tmpdir());
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT(bind(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0);
    ASSERT(listen(fd, 4) == 0);
    cb.ud = &w;
    ASSERT_EQ(zc__http_start(&w.http, &w.loop, fd, &lim, &cb), 0);
    w.client = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT(connect(w.client, (struct sockaddr *) &sa, sizeof(sa)) == 0);
    ASSERT_EQ(send(w.client, req, sizeof(req) - 1, 0), (ssize_t) sizeof(req) - 1);
    w.deadline = zc__now_us() + 10 * 1000000ull;
    zc__timer_init(&w.tick, on_tick);
    ASSERT_EQ(zc__timer_start(&w.loop, &w.tick, zc__now_us()), 0);
    ASSERT_EQ(zc__loop_run(&w.loop), 0);
    ASSERT(w.done);
    if (reading) {
        /* All of it, in chunks: the head and the chunk framing besides. */
        ASSERT_EQ(w.write_error, 0);
        ASSERT_EQ(w.written, TOTAL);
        ASSERT_GE(w.received, TOTAL);
    } else {
        /* Cut off: what was taken is the socket's buffer and stream_max,
         * not the megabyte offered. */
        ASSERT_EQ(w.write_error, -ENOBUFS);
        printf("# a client that does not read: cut off after %zu bytes "
               "(stream_max %d)\n", w.written, STREAM_MAX);
        ASSERT_LE(w.written, 512 * 1024);
        /* and its connection is closed at once */
        {
            char c;

            ASSERT(recv(w.client, &c, 1, 0) >= 0);
        }
    }
    zc__http_stop(w.http);
    zc__loop_free(&w.loop);
    close(w.client);
}

void test_http_stream_reaches_reader(void)
{
    run(true);
}

void test_http_stream_cuts_off_non_reader(void)
{
    run(false);
}
