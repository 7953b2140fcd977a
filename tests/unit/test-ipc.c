/* The frame layer on real socketpairs: order, fds, bounds, bad input. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/ipc.h"
#include "test.h"

/* What the receiving callback saw. */
struct got {
    unsigned n;
    char types[64][ZC_IPC_TYPE_MAX + 1];
    size_t lens[64];
    uint32_t seq[64];
    int fds[64];            /* the first fd a frame carried, kept; or -1 */
    size_t n_fds[64];
    uint64_t bytes;
};

static void collect(struct zc__ipc *c, struct zc__ipc_frame *f, void *userdata)
{
    struct got *g = userdata;
    unsigned i = g->n % 64;

    (void) c;
    snprintf(g->types[i], sizeof(g->types[i]), "%s", f->type);
    g->lens[i] = f->len;
    g->seq[i] = 0;
    if (f->len >= 4)
        memcpy(&g->seq[i], f->data, 4);
    g->n_fds[i] = f->n_fds;
    g->fds[i] = -1;
    if (f->n_fds) {
        g->fds[i] = f->fds[0];
        f->fds[0] = -1;     /* keep it; the rest are closed for us */
    }
    g->bytes += f->len;
    g->n++;
}

static void pair(int sv[2])
{
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
                         0, sv), 0);
}

/* Reads what is there (the writes are done, so a few reads see it all)
 * until an error or the end; returns the last result. */
static int read_all(struct zc__ipc *c, struct got *g)
{
    int r = 0;

    for (int i = 0; i < 8 && r == 0; i++)
        r = zc__ipc_read(c, 4, collect, g);
    return r;
}

void test_ipc_frames_roundtrip(void)
{
    struct zc__ipc a, b;
    struct got *g = calloc(1, sizeof(*g));
    int sv[2], pipefd[2];
    char buf[8];

    pair(sv);
    zc__ipc_init(&a, sv[0], ZC_IPC_MAX_MESSAGE, 1 << 20);
    zc__ipc_init(&b, sv[1], ZC_IPC_MAX_MESSAGE, 1 << 20);
    ASSERT_EQ(zc__ipc_send(&a, "config", "\1\0\0\0abc", 7, NULL, 0, false), 0);
    ASSERT_EQ(zc__ipc_send(&a, "x", NULL, 0, NULL, 0, false), 0);
    /* Corked frames wait for the flush and leave in one write. */
    a.corked = true;
    ASSERT_EQ(zc__ipc_send(&a, "batch", "\2\0\0\0", 4, NULL, 0, false), 0);
    ASSERT(zc__ipc_pending(&a) > 0);
    ASSERT_EQ(read_all(&b, g), 0);
    ASSERT_EQ(g->n, 2);
    ASSERT_EQ(zc__ipc_flush(&a), 0);
    ASSERT_EQ(zc__ipc_pending(&a), 0);
    /* An fd goes with its frame, usable on the other side. */
    ASSERT_EQ(pipe2(pipefd, O_CLOEXEC), 0);
    ASSERT_EQ(zc__ipc_send(&a, "pipe", "\3\0\0\0", 4, &pipefd[1], 1, false), 0);
    ASSERT_EQ(close(pipefd[1]), 0);     /* the queue holds its own copy */
    ASSERT_EQ(zc__ipc_flush(&a), 0);
    ASSERT_EQ(read_all(&b, g), 0);
    ASSERT_EQ(g->n, 4);
    ASSERT_STREQ(g->types[0], "config");
    ASSERT_EQ(g->lens[0], 7);
    ASSERT_STREQ(g->types[1], "x");
    ASSERT_EQ(g->lens[1], 0);
    ASSERT_STREQ(g->types[2], "batch");
    ASSERT_EQ(g->seq[2], 2);
    ASSERT_STREQ(g->types[3], "pipe");
    ASSERT_EQ(g->n_fds[3], 1);
    ASSERT_EQ(write(g->fds[3], "hi", 2), 2);
    ASSERT_EQ(close(g->fds[3]), 0);
    ASSERT_EQ(read(pipefd[0], buf, sizeof(buf)), 2);
    ASSERT_EQ(memcmp(buf, "hi", 2), 0);
    close(pipefd[0]);
    /* A clean end of stream. */
    zc__ipc_close(&a);
    ASSERT_EQ(zc__ipc_read(&b, 4, collect, g), 1);
    zc__ipc_close(&b);
    free(g);
}

/* A reader that stops: the queue refuses past its bound, and once the
 * reader resumes every accepted frame arrives, in order, with its fds. */
void test_ipc_queue_bound_and_order(void)
{
    struct zc__ipc a, b;
    struct got *g = calloc(1, sizeof(*g));
    unsigned char payload[1100];  /* < 64 frames per 64 KiB read */
    uint32_t sent = 0, with_fd = 0, got_fd = 0;
    int sv[2], r = 0, devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

    pair(sv);
    zc__ipc_init(&a, sv[0], ZC_IPC_MAX_MESSAGE, 64 * 1024);
    zc__ipc_init(&b, sv[1], ZC_IPC_MAX_MESSAGE, 64 * 1024);
    memset(payload, 'p', sizeof(payload));
    while (sent < 100000) {
        bool fd = sent % 50 == 0;

        memcpy(payload, &sent, 4);
        r = zc__ipc_send(&a, "seq", payload, sizeof(payload), fd ? &devnull : NULL,
                         fd, false);
        if (r < 0)
            break;
        with_fd += fd;
        sent++;
        ASSERT_LE(zc__ipc_pending(&a), 64 * 1024 + sizeof(payload) + 16);
    }
    ASSERT_EQ(r, -ENOBUFS);
    ASSERT(sent > 64);          /* the kernel's buffer, then ours */
    /* Drain both sides alternately until everything arrived. */
    for (int i = 0; i < 100000 && g->n < sent; i++) {
        unsigned before = g->n;

        ASSERT_EQ(zc__ipc_flush(&a), 0);
        ASSERT_EQ(zc__ipc_read(&b, 1, collect, g), 0);
        for (unsigned k = before; k < g->n; k++) {
            ASSERT_EQ(g->seq[k % 64], k);
            ASSERT_EQ(g->n_fds[k % 64], k % 50 == 0);
            got_fd += (uint32_t) g->n_fds[k % 64];
            if (g->fds[k % 64] >= 0)
                close(g->fds[k % 64]);
        }
    }
    ASSERT_EQ(g->n, sent);
    ASSERT_EQ(got_fd, with_fd);
    ASSERT_EQ(zc__ipc_pending(&a), 0);
    zc__ipc_close(&a);
    zc__ipc_close(&b);
    close(devnull);
    free(g);
}

void test_ipc_large_message(void)
{
    size_t big = 3 * 1024 * 1024;
    unsigned char *data = malloc(big + 1);
    struct got *g = calloc(1, sizeof(*g));
    struct zc__ipc a, b;
    int sv[2];

    pair(sv);
    zc__ipc_init(&a, sv[0], 4 * 1024 * 1024, 1 << 20);
    zc__ipc_init(&b, sv[1], 4 * 1024 * 1024, 1 << 20);
    memset(data, 7, big + 1);
    memcpy(data, "\x2a\0\0\0", 4);
    /* Larger than the queue bound, but the queue is empty: it goes. */
    ASSERT_EQ(zc__ipc_send(&a, "big", data, big, NULL, 0, false), 0);
    ASSERT_EQ(zc__ipc_send(&a, "small", "\x2b\0\0\0", 4, NULL, 0, false), -ENOBUFS);
    for (int i = 0; i < 10000 && g->n < 1; i++) {
        ASSERT_EQ(zc__ipc_flush(&a), 0);
        ASSERT_EQ(zc__ipc_read(&b, 4, collect, g), 0);
    }
    ASSERT_EQ(g->n, 1);
    ASSERT_EQ(g->lens[0], big);
    ASSERT_EQ(g->seq[0], 42);
    /* The receive buffer shrank back after the large frame. */
    ASSERT_LE(b.rcap, ZC__IPC_RBUF);
    /* Over the limit: refused before anything is queued. */
    zc__ipc_close(&a);
    zc__ipc_init(&a, -1, 1000, 1 << 20);
    ASSERT_EQ(zc__ipc_send(&a, "big", data, 10, NULL, 0, false), -ENOTCONN);
    zc__ipc_close(&a);
    pair(sv);
    zc__ipc_close(&b);
    zc__ipc_init(&a, sv[0], 1000, 1 << 20);
    ASSERT_EQ(zc__ipc_send(&a, "big", data, 1001, NULL, 0, false), -EMSGSIZE);
    ASSERT_EQ(zc__ipc_pending(&a), 0);
    zc__ipc_close(&a);
    close(sv[1]);
    free(data);
    free(g);
}

/* Writes raw bytes (and fds) to a peer as a hostile sender would. */
static void raw(int fd, const void *buf, size_t len, const int *fds, size_t n_fds)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * 32)];
    } u;
    struct iovec iov = { (void *) buf, len };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

    if (n_fds) {
        struct cmsghdr *cm;

        memset(&u, 0, sizeof(u));
        msg.msg_control = u.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
        cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * n_fds);
    }
    ASSERT_EQ(sendmsg(fd, &msg, MSG_NOSIGNAL), (ssize_t) len);
}

/* One hostile input against a fresh receiver: its result and reason. */
static int against(const void *bytes, size_t len, const int *fds, size_t n_fds,
                   bool then_close, const char **why)
{
    struct got *g = calloc(1, sizeof(*g));
    struct zc__ipc b;
    int sv[2], r;

    pair(sv);
    zc__ipc_init(&b, sv[1], 1024, 1 << 20);
    raw(sv[0], bytes, len, fds, n_fds);
    if (then_close)
        close(sv[0]);
    r = read_all(&b, g);
    *why = b.why;
    for (unsigned i = 0; i < g->n && i < 64; i++)
        if (g->fds[i] >= 0)
            close(g->fds[i]);
    zc__ipc_close(&b);
    if (!then_close)
        close(sv[0]);
    free(g);
    return r;
}

void test_ipc_bad_frames(void)
{
    int fds[20];
    const char *why = NULL;

    for (int i = 0; i < 20; i++)
        fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
    /* Unknown flags, empty type, type too long, too many fds announced. */
    ASSERT_EQ(against("\1\0\0\0\1\0\1\0ab", 10, NULL, 0, false, &why), -EBADMSG);
    ASSERT_CONTAINS(why, "flags");
    ASSERT_EQ(against("\1\0\0\0\0\0\0\0a", 9, NULL, 0, false, &why), -EBADMSG);
    ASSERT_EQ(against("\1\0\0\0\101\0\0\0a", 9, NULL, 0, false, &why), -EBADMSG);
    ASSERT_CONTAINS(why, "longer than 64");
    ASSERT_EQ(against("\0\0\0\0\1\21\0\0a", 9, NULL, 0, false, &why), -EBADMSG);
    /* A type with a space or a NUL in it. */
    ASSERT_EQ(against("\0\0\0\0\2\0\0\0a b", 10, NULL, 0, false, &why), -EBADMSG);
    ASSERT_CONTAINS(why, "printable");
    /* An oversized length is refused from the header alone: nothing waits
     * for (or allocates) the 4 GiB it announces. */
    ASSERT_EQ(against("\xff\xff\xff\xff\1\0\0\0a", 9, NULL, 0, false, &why), -EMSGSIZE);
    ASSERT_EQ(against("\x01\x04\0\0\1\0\0\0a", 9, NULL, 0, false, &why), -EMSGSIZE);
    /* Truncated: the peer closes in the middle of a header, a type, a
     * payload. */
    ASSERT_EQ(against("\5\0\0", 3, NULL, 0, true, &why), -ECONNRESET);
    ASSERT_EQ(against("\5\0\0\0\3\0\0\0ab", 10, NULL, 0, true, &why), -ECONNRESET);
    ASSERT_EQ(against("\5\0\0\0\1\0\0\0abc", 11, NULL, 0, true, &why), -ECONNRESET);
    ASSERT_CONTAINS(why, "middle of a frame");
    /* fds nobody announced; fds announced that never came; more fds in
     * one write than a frame may carry. Every received fd is closed (the
     * runner checks the fd count after the test). */
    ASSERT_EQ(against("\0\0\0\0\1\0\0\0a", 9, fds, 2, false, &why), -EPROTO);
    ASSERT_CONTAINS(why, "no frame announced");
    ASSERT_EQ(against("\0\0\0\0\1\2\0\0a", 9, fds, 1, false, &why), -EPROTO);
    ASSERT_CONTAINS(why, "did not arrive");
    ASSERT_EQ(against("\0\0\0\0\1\20\0\0a", 9, fds, 20, false, &why), -EPROTO);
    ASSERT_CONTAINS(why, "more fds");
    /* The same frames, well formed, are fine. */
    ASSERT_EQ(against("\0\0\0\0\1\2\0\0a", 9, fds, 2, false, &why), 0);
    for (int i = 0; i < 20; i++)
        close(fds[i]);
}

void test_ipc_type_names(void)
{
    char long_type[ZC_IPC_TYPE_MAX + 2];

    ASSERT_EQ(zc__ipc_type_check("config:update", false), 0);
    ASSERT_EQ(zc__ipc_type_check("", false), -EINVAL);
    ASSERT_EQ(zc__ipc_type_check(NULL, false), -EINVAL);
    ASSERT_EQ(zc__ipc_type_check("a b", false), -EINVAL);
    ASSERT_EQ(zc__ipc_type_check("caf\xc3\xa9", false), -EINVAL);
    ASSERT_EQ(zc__ipc_type_check("shutdown", false), -EINVAL);
    ASSERT_EQ(zc__ipc_type_check("shutdown", true), 0);
    ASSERT_EQ(zc__ipc_type_check("zc.metrics", false), -EINVAL);
    memset(long_type, 'a', sizeof(long_type));
    long_type[ZC_IPC_TYPE_MAX] = '\0';
    ASSERT_EQ(zc__ipc_type_check(long_type, false), 0);
    long_type[ZC_IPC_TYPE_MAX] = 'a';
    long_type[ZC_IPC_TYPE_MAX + 1] = '\0';
    ASSERT_EQ(zc__ipc_type_check(long_type, false), -EINVAL);
}
