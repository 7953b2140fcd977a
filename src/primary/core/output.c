/*
 * The workers' output through the primary (--output prefix|json). Each
 * worker writes to its own two pipes; the primary reads them in its loop,
 * cuts lines (base/lines.c), names each (proto/record.c) and queues it for
 * its own stdout or stderr, which it writes without ever blocking: the
 * destination is reopened non-blocking (a pipe, a terminal) or written
 * with MSG_DONTWAIT (journald's socket), so a slow reader costs a full
 * queue, never a stuck primary. A full queue stops the reading (the
 * workers then wait in their writes, as they would on a slow terminal),
 * or, with --output-overflow drop, costs whole lines, counted. The
 * primary's own log lines go through the same queue, so that a worker's
 * last words come before the line that reports its exit.
 *
 * A pipe outlives its worker when the worker's children still hold it:
 * what they write keeps the worker's name. Its lines are also kept in a
 * small ring for `zclusterctl logs`.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/lines.h"
#include "base/list.h"
#include "base/log.h"
#include "base/ring.h"
#include "primary/core/output.h"
#include "proto/record.h"

#define NS ZC__PNS
#define READ_CHUNK 65536         /* a pipe's size: one read per event */
#define EXIT_DRAIN (1024 * 1024) /* read at most this at a worker's exit */
#define STOP_FLUSH_MS 1000       /* the primary's exit waits this at most */

struct outpipe {
    struct outpipe *prev, *next;
    struct output *o;
    struct zc__io io;
    struct zc__lines lines;
    struct worker *w; /* NULL once reaped: its children may write */
    bool polled;      /* in the loop */
    bool closed;      /* on o->closed until before the next wait */
    bool err;         /* stderr */
    unsigned slot;
    uint64_t id, gen;
    pid_t pid;
    const char *when; /* the time of the read being cut */
};

struct dest {
    struct output *o;
    struct zc__io io;
    int fd;
    bool own_fd; /* reopened: ours to close */
    bool sock;
    bool dead; /* EPIPE or another error: lines are dropped */
    bool polled;
    int std; /* 1 or 2, for the log */
    struct zc__buf q;
    size_t off; /* written of q */
};

struct output {
    struct zc_primary *p;
    int mode; /* ZC_OUTPUT_PREFIX or ZC_OUTPUT_JSON */
    bool drop;
    struct dest d[2];
    struct dest *to[2]; /* stdout's and stderr's: one if they are one */
    struct outpipe *pipes;
    /* Read to their end in this batch: epoll may still name them in it,
     * so they are freed before the next wait (zc__output_reap). */
    struct outpipe *closed;
    bool paused;
    struct zc__ring ring;
    struct zc__buf line; /* the record being made */
    struct zc__output_stats st;
    uint64_t unsaid; /* dropped since the last line that said so */
    bool in_write;   /* our own log from inside a write: not queued */
    bool batching;   /* lines of one read: written once it is cut */
};

static size_t queued(const struct dest *d)
{
    return d->q.len - d->off;
}

static size_t queued_all(const struct output *o)
{
    return queued(o->to[0]) + (o->to[1] != o->to[0] ? queued(o->to[1]) : 0);
}

/* --- the destinations --- */

static void dest_open(struct output *o, struct dest *d, int std)
{
    char path[32];
    struct stat st;
    int fd;

    *d = (struct dest) { .o = o, .fd = std, .std = std };
    if (fstat(std, &st) == -1) {
        d->dead = true;
        return;
    }
    if (S_ISSOCK(st.st_mode)) {
        d->sock = true;
        return;
    }
    if (!S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode))
        return; /* a file: its writes do not wait */
    /* Our own open file, non-blocking: O_NONBLOCK on fd 1 itself would
     * change the file a shell or a terminal shares with us. */
    snprintf(path, sizeof(path), "/proc/self/fd/%d", std);
    fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd >= 0) {
        d->fd = fd;
        d->own_fd = true;
    } else {
        zc_log(ZC_LOG_DEBUG, NS,
               "output: cannot reopen fd %d non-blocking "
               "(%s): writing it as it is",
               std, zc_strerror(errno));
    }
}

static void dest_poll(struct dest *d, bool on)
{
    if (on == d->polled)
        return;
    if (on && zc__loop_add(&d->o->p->loop, &d->io, EPOLLOUT) < 0)
        return; /* a file: never waits anyway */
    if (!on)
        zc__loop_del(&d->o->p->loop, &d->io);
    d->polled = on;
}

static uint64_t count_lines(const char *s, size_t n)
{
    uint64_t k = 0;

    for (const char *e = s + n; (s = memchr(s, '\n', (size_t) (e - s))); s++)
        k++;
    return k;
}

static void resume(struct output *o);

/* Everything it held is lost: count it, say it once. */
static void dest_died(struct dest *d, int err)
{
    struct output *o = d->o;
    uint64_t lost = count_lines(d->q.data + d->off, queued(d));

    d->dead = true;
    d->q.len = d->off = 0;
    o->st.dropped += lost;
    dest_poll(d, false);
    o->in_write = true;
    zc_log(ZC_LOG_WARN, NS,
           "the primary's %s cannot be written (%s): the "
           "workers' lines for it are dropped from now on (%llu so far)",
           d->std == 1 ? "stdout" : "stderr", zc_strerror(err),
           (unsigned long long) lost);
    o->in_write = false;
    resume(o);
}

static void caught_up(struct output *o);

static void dest_flush(struct dest *d)
{
    while (queued(d) && !d->dead) {
        ssize_t n = d->sock ? send(d->fd, d->q.data + d->off, queued(d),
                                   MSG_DONTWAIT | MSG_NOSIGNAL)
                            : write(d->fd, d->q.data + d->off, queued(d));

        if (n > 0) {
            d->off += (size_t) n;
        } else if (n < 0 && errno == EAGAIN) {
            dest_poll(d, true);
            return;
        } else if (n < 0 && errno != EINTR) {
            dest_died(d, -errno);
            return;
        } else if (n == 0) {
            dest_died(d, -EIO);
            return;
        }
    }
    d->q.len = d->off = 0;
    dest_poll(d, false);
    caught_up(d->o);
}

static void on_dest(struct zc__loop *l, struct zc__io *io, uint32_t events)
{
    (void) l;
    (void) events;
    dest_flush(zc__container_of(io, struct dest, io));
}

/* Appends a whole line. A worker's: past the high mark with drop, it is
 * dropped; with wait, never (reading stops instead, so what one read
 * made is the most it can pass the mark by). own: the primary's log,
 * kept up to the hard limit whatever the mode. */
static bool dest_add(struct dest *d, const char *s, size_t n, bool own)
{
    struct output *o = d->o;
    size_t limit = own       ? ZC__OUTPUT_QUEUE_HARD
                   : o->drop ? ZC__OUTPUT_QUEUE_HIGH
                             : SIZE_MAX;

    if (d->dead || queued(d) + n > limit || d->q.failed) {
        o->st.dropped++;
        o->unsaid++;
        return false;
    }
    if (d->off && d->off >= d->q.len / 2) {
        memmove(d->q.data, d->q.data + d->off, queued(d));
        d->q.len -= d->off;
        d->off = 0;
    }
    zc__buf_add(&d->q, s, n);
    if (!d->polled && !o->batching)
        dest_flush(d);
    return true;
}

/* --- reading the pipes --- */

static void pipe_poll(struct outpipe *op, bool on)
{
    if (on == op->polled)
        return;
    if (on && zc__loop_add(&op->o->p->loop, &op->io, EPOLLIN) < 0)
        return;
    if (!on)
        zc__loop_del(&op->o->p->loop, &op->io);
    op->polled = on;
}

/* Wait mode: the queues are full, reading stops; the workers' writes
 * wait in their pipes. */
static void pause_reading(struct output *o)
{
    if (o->paused)
        return;
    o->paused = true;
    o->st.waits++;
    for (struct outpipe *op = o->pipes; op; op = op->next)
        pipe_poll(op, false);
}

static void resume(struct output *o)
{
    if (!o->paused || queued_all(o) > ZC__OUTPUT_QUEUE_LOW)
        return;
    o->paused = false;
    for (struct outpipe *op = o->pipes; op; op = op->next)
        pipe_poll(op, true);
}

static void caught_up(struct output *o)
{
    char msg[160];

    resume(o);
    if (!o->unsaid || queued_all(o))
        return;
    snprintf(msg, sizeof(msg),
             "dropped %llu line%s of the workers' output: "
             "the primary's stdout or stderr was slower than the workers "
             "(--output-overflow drop)",
             (unsigned long long) o->unsaid, o->unsaid == 1 ? "" : "s");
    o->unsaid = 0;
    zc_log(ZC_LOG_WARN, NS, "%s", msg);
}

static void on_line(void *arg, const char *s, size_t n, unsigned part,
                    bool last)
{
    struct outpipe *op = arg;
    struct output *o = op->o;
    struct zc__record r = {
        .when = op->when,
        .fleet = o->p->name,
        .slot = op->slot,
        .worker = op->id,
        .pid = op->pid,
        .gen = op->gen,
        .err = op->err,
        .part = part,
        .last = last,
    };

    o->line.len = 0;
    if (o->mode == ZC_OUTPUT_JSON)
        zc__record_json(&o->line, &r, s, n);
    else
        zc__record_prefix(&o->line, &r, s, n);
    if (o->line.failed) {
        o->line = (struct zc__buf) { 0 };
        o->st.dropped++;
        return;
    }
    o->st.lines++;
    (void) zc__ring_add(&o->ring, op->slot, o->line.data, o->line.len);
    if (o->p->hooks.output_line)
        o->p->hooks.output_line(o->p, op->slot, o->line.data, o->line.len);
    (void) dest_add(o->to[op->err], o->line.data, o->line.len, false);
    if (!o->drop && queued_all(o) > ZC__OUTPUT_QUEUE_HIGH)
        pause_reading(o);
}

static void pipe_free(struct outpipe *op)
{
    struct output *o = op->o;

    pipe_poll(op, false);
    (void) close(op->io.fd);
    zc__lines_free(&op->lines);
    if (op->w)
        op->w->out[op->err] = NULL;
    ZC__LIST_REMOVE(o->pipes, op);
    op->closed = true;
    op->next = o->closed;
    o->closed = op;
}

void zc__output_reap(struct zc_primary *p)
{
    struct output *o = p->output;

    while (o && o->closed) {
        struct outpipe *op = o->closed;

        o->closed = op->next;
        free(op);
    }
}

/* One read of at most max bytes; false at its end (EOF or an error),
 * the pipe then freed. */
static bool pipe_read(struct outpipe *op, const char *when, size_t max,
                      size_t *got)
{
    char buf[READ_CHUNK];
    ssize_t n = read(op->io.fd, buf, max < sizeof(buf) ? max : sizeof(buf));

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return errno == EINTR;
    if (n <= 0) {
        op->when = when;
        zc__lines_end(&op->lines, on_line, op);
        pipe_free(op);
        return false;
    }
    op->o->st.bytes += (uint64_t) n;
    op->when = when;
    /* Out of memory for an unfinished line gives it as a part: nothing
     * is lost, so nothing is counted. */
    (void) zc__lines_feed(&op->lines, buf, (size_t) n, on_line, op);
    *got = (size_t) n;
    return true;
}

static void flush_all(struct output *o)
{
    if (!o->to[0]->polled)
        dest_flush(o->to[0]);
    if (o->to[1] != o->to[0] && !o->to[1]->polled)
        dest_flush(o->to[1]);
}

static void stamp(const struct output *o, char *when, size_t size)
{
    (void) zc__log_time(when, size, o->mode == ZC_OUTPUT_JSON);
}

static void on_pipe(struct zc__loop *l, struct zc__io *io, uint32_t events)
{
    struct outpipe *op = zc__container_of(io, struct outpipe, io);
    struct output *o = op->o;
    char when[40];
    size_t got = 0;

    (void) l;
    (void) events;
    if (op->closed)
        return;
    stamp(o, when, sizeof(when));
    o->batching = true;
    (void) pipe_read(op, when, READ_CHUNK, &got);
    o->batching = false;
    flush_all(o);
}

/* --- the fleet's side --- */

static void log_writer(const char *line, size_t n, void *arg)
{
    struct output *o = arg;

    /* From inside a write (a destination died): straight out. */
    if (o->in_write) {
        (void) !write(STDERR_FILENO, line, n);
        return;
    }
    (void) dest_add(o->to[1], line, n, true);
}

int zc__output_start(struct zc_primary *p)
{
    struct output *o;
    struct stat a, b;
    int mode = p->opt.output;

    if (mode == ZC_OUTPUT_AUTO)
        mode = p->opt.log_format == ZC_LOG_FORMAT_JSON ? ZC_OUTPUT_JSON
                                                       : ZC_OUTPUT_PREFIX;
    if (mode == ZC_OUTPUT_INHERIT)
        return 0;
    o = calloc(1, sizeof(*o));
    if (!o)
        return -ENOMEM;
    *o = (struct output) { .p = p,
                           .mode = mode,
                           .drop = p->opt.output_overflow == ZC_OVERFLOW_DROP,
                           .ring = { .max_bytes = ZC__OUTPUT_RING } };
    dest_open(o, &o->d[0], STDOUT_FILENO);
    o->to[0] = o->to[1] = &o->d[0];
    /* One file behind both (a terminal, journald's stream, a test's pipe):
     * one queue, so their lines keep the order they were made in. */
    if (fstat(STDOUT_FILENO, &a) != 0 || fstat(STDERR_FILENO, &b) != 0 ||
        a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
        dest_open(o, &o->d[1], STDERR_FILENO);
        o->to[1] = &o->d[1];
    }
    for (int i = 0; i < 2; i++)
        o->d[i].io = (struct zc__io) { .fd = o->d[i].fd, .cb = on_dest };
    p->output = o;
    zc__log_set_writer(log_writer, o);
    return 0;
}

int zc__output_pipes(struct zc_primary *p, int child[2], int ours[2])
{
    int a[2], b[2];

    child[0] = child[1] = ours[0] = ours[1] = -1;
    if (!p->output)
        return 0;
    if (pipe2(a, O_CLOEXEC) == -1)
        return -errno;
    if (pipe2(b, O_CLOEXEC) == -1) {
        int e = errno;

        (void) close(a[0]);
        (void) close(a[1]);
        return -e;
    }
    (void) fcntl(a[0], F_SETFL, O_NONBLOCK);
    (void) fcntl(b[0], F_SETFL, O_NONBLOCK);
    ours[0] = a[0];
    ours[1] = b[0];
    child[0] = a[1];
    child[1] = b[1];
    return 0;
}

void zc__output_close(int fds[2])
{
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0) {
            (void) close(fds[i]);
            fds[i] = -1;
        }
}

void zc__output_attach(struct zc_primary *p, struct worker *w, int ours[2])
{
    struct output *o = p->output;

    for (int i = 0; o && i < 2; i++) {
        struct outpipe *op = calloc(1, sizeof(*op));

        if (!op) {
            zc_log(ZC_LOG_WARN, NS,
                   "worker %llu: no memory to read its %s: "
                   "it is closed",
                   (unsigned long long) w->id, i ? "stderr" : "stdout");
            (void) close(ours[i]);
            continue;
        }
        *op = (struct outpipe) {
            .o = o,
            .io = { .fd = ours[i], .cb = on_pipe },
            .w = w,
            .err = i == 1,
            .slot = w->slot_index,
            .id = w->id,
            .gen = w->generation,
            .pid = w->pid,
            .lines = { .limit = ZC__OUTPUT_LINE_MAX },
        };
        ZC__LIST_PUSH(o->pipes, op);
        w->out[i] = op;
        if (!o->paused)
            pipe_poll(op, true);
    }
    ours[0] = ours[1] = -1;
}

void zc__output_worker_exited(struct zc_primary *p, struct worker *w)
{
    char when[40];

    if (!p->output)
        return;
    stamp(p->output, when, sizeof(when));
    for (int i = 0; i < 2; i++) {
        struct outpipe *op = w->out[i];
        size_t got = 1;
        int left = 0;

        if (!op)
            continue;
        /* What it wrote before it died, whatever the queues: its last
         * words come before the line that says it exited. Only what the
         * pipe holds now (its children may go on writing), and at least
         * one read, which finds its end if nobody else holds it. */
        if (ioctl(op->io.fd, FIONREAD, &left) < 0 || left > EXIT_DRAIN)
            left = left > EXIT_DRAIN ? EXIT_DRAIN : 0;
        do {
            got = 0;
            if (!pipe_read(op, when, left > 0 ? (size_t) left : READ_CHUNK,
                           &got))
                break;
            left -= (int) got;
        } while (got && left > 0);
        flush_all(p->output);
        if (w->out[i] != op)
            continue; /* read to its end: freed */
        /* Its children still hold it: their lines keep its name. */
        op->when = when;
        zc__lines_end(&op->lines, on_line, op);
        op->w = NULL;
        w->out[i] = NULL;
    }
}

void zc__output_recent(const struct zc_primary *p, size_t last,
                       int (*want)(void *arg, unsigned slot),
                       void (*fn)(void *arg, const char *s, size_t n),
                       void *arg)
{
    if (p->output)
        zc__ring_each(&p->output->ring, last, want, fn, arg);
}

void zc__output_each_recent(const struct zc_primary *p,
                            void (*fn)(void *arg, unsigned slot, const char *s,
                                       size_t n),
                            void *arg)
{
    if (p->output)
        zc__ring_walk(&p->output->ring, fn, arg);
}

void zc__output_keep_recent(struct zc_primary *p, unsigned slot, const char *s,
                            size_t n)
{
    if (p->output)
        (void) zc__ring_add(&p->output->ring, slot, s, n);
}

bool zc__output_stats(const struct zc_primary *p, struct zc__output_stats *st)
{
    const struct output *o = p->output;

    if (!o)
        return false;
    *st = o->st;
    st->queued = queued_all(o);
    st->ring_bytes = o->ring.bytes;
    st->ring_lines = o->ring.n;
    st->paused = o->paused;
    return true;
}

const char *zc__output_mode(const struct zc_primary *p)
{
    if (!p->output)
        return "inherit";
    return p->output->mode == ZC_OUTPUT_JSON ? "json" : "prefix";
}

/* Writes the queues out, waiting for a slow reader until `until`. */
static void wait_written(struct output *o, uint64_t until)
{
    for (int i = 0; i < 2; i++) {
        struct dest *d = &o->d[i];

        while (queued(d) && !d->dead && zc__now_us() < until) {
            struct pollfd pfd = { .fd = d->fd, .events = POLLOUT };

            dest_poll(d, false);
            (void) poll(&pfd, 1, (int) ((until - zc__now_us()) / 1000) + 1);
            dest_flush(d);
        }
        if (o->to[1] == o->to[0])
            break;
    }
}

void zc__output_write_out(struct zc_primary *p, unsigned ms)
{
    struct output *o = p->output;

    if (o)
        wait_written(o, zc__now_us() + ms * 1000ull);
}

void zc__output_each_pipe(const struct zc_primary *p,
                          void (*fn)(void *arg, const struct zc__output_pipe *),
                          void *arg)
{
    for (struct outpipe *op = p->output ? p->output->pipes : NULL; op;
         op = op->next) {
        struct zc__output_pipe d = {
            .fd = op->io.fd,
            .err = op->err,
            .slot = op->slot,
            .id = op->id,
            .gen = op->gen,
            .pid = op->pid,
            .has_worker = op->w != NULL,
            .held = op->lines.buf,
            .n_held = op->lines.len,
            .part = op->lines.part,
        };

        fn(arg, &d);
    }
}

int zc__output_adopt(struct zc_primary *p, struct worker *w,
                     const struct zc__output_pipe *d)
{
    struct output *o = p->output;
    struct outpipe *op;

    if (!o || !(op = calloc(1, sizeof(*op)))) {
        (void) close(d->fd);
        return o ? -ENOMEM : 0;
    }
    *op = (struct outpipe) {
        .o = o,
        .io = { .fd = d->fd, .cb = on_pipe },
        .w = w,
        .err = d->err,
        .slot = d->slot,
        .id = d->id,
        .gen = d->gen,
        .pid = d->pid,
        .lines = { .limit = ZC__OUTPUT_LINE_MAX },
    };
    ZC__LIST_PUSH(o->pipes, op);
    if (w)
        w->out[op->err] = op;
    /* The unfinished line goes on where it stopped: no line is cut in
     * two by an upgrade (one too long for this image is given now). */
    if (zc__lines_hold(&op->lines, d->held, d->n_held, d->part) < 0) {
        char when[40];

        stamp(o, when, sizeof(when));
        op->when = when;
        on_line(op, d->held, d->n_held, d->part, false);
        op->when = NULL;
    }
    if (!o->paused)
        pipe_poll(op, true);
    return 0;
}

/* At the end: what the workers' pipes still hold, then the queues,
 * waiting a second at most for a slow reader. */
void zc__output_stop(struct zc_primary *p)
{
    struct output *o = p->output;
    uint64_t until = zc__now_us() + STOP_FLUSH_MS * 1000ull;
    char when[40];

    if (!o)
        return;
    stamp(o, when, sizeof(when));
    for (struct outpipe *op = o->pipes, *next; op; op = next) {
        size_t got, total = 0;

        next = op->next;
        do {
            got = 0;
        } while (pipe_read(op, when, READ_CHUNK, &got) && got &&
                 (total += got) < EXIT_DRAIN);
    }
    while (o->pipes) {
        o->pipes->when = when;
        zc__lines_end(&o->pipes->lines, on_line, o->pipes);
        pipe_free(o->pipes);
    }
    zc__output_reap(p);
    zc__log_set_writer(NULL, NULL);
    wait_written(o, until);
    for (int i = 0; i < 2; i++) {
        struct dest *d = &o->d[i];

        dest_poll(d, false);
        if (d->own_fd)
            (void) close(d->fd);
        free(d->q.data);
        if (o->to[1] == o->to[0])
            break;
    }
    zc__ring_free(&o->ring);
    free(o->line.data);
    p->output = NULL;
    free(o);
}
