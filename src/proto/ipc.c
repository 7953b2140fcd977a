/*
 * Typed frames on an AF_UNIX stream socket.
 *
 * Why a stream and not SOCK_SEQPACKET: the kernel's cost per record caps a
 * seqpacket pair near a million small messages a second, while a stream
 * carrying many frames per write moves tens of millions. The price is
 * framing and fd bookkeeping, all of it here:
 *
 *   - Each frame is an 8-byte header (payload length, type length, fd
 *     count, flags), the type, the payload. Little-endian, so a worker in
 *     any language on any host reads the same bytes.
 *   - A frame's fds go with the sendmsg() that carries its first byte, and
 *     only that frame starts in that call. Linux ends a stream read right
 *     after the segment that carried fds, so by the time a frame's header
 *     is complete its fds have arrived: fewer queued than announced is a
 *     protocol error, and fds left over once every byte is parsed are
 *     unexpected ones.
 *   - Both directions are bounded: a frame larger than max_payload is
 *     refused before anything is buffered for it, and the send queue
 *     refuses frames past queue_max.
 *
 * Leaf module: errors are returned with a static reason in c->why; the
 * caller logs them once, with who the peer is.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "proto/ipc.h"
#include "proto/types.h"

#define WBUF_KEEP (1024 * 1024)     /* a larger idle send buffer is freed */

union fd_cmsg {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int) * ZC_IPC_FDS_MAX)];
};

static const char *const reserved_types[] = ZC__MSG_RESERVED;

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
           (uint32_t) p[3] << 24;
}

void zc__ipc_encode(uint8_t *hdr, size_t type_len, size_t len, size_t n_fds)
{
    hdr[0] = (uint8_t) len;
    hdr[1] = (uint8_t) (len >> 8);
    hdr[2] = (uint8_t) (len >> 16);
    hdr[3] = (uint8_t) (len >> 24);
    hdr[4] = (uint8_t) type_len;
    hdr[5] = (uint8_t) n_fds;
    hdr[6] = 0;
    hdr[7] = 0;
}

static bool type_chars_ok(const uint8_t *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (t[i] < 0x21 || t[i] > 0x7e)
            return false;
    return true;
}

int zc__ipc_type_check(const char *type, bool allow_reserved)
{
    size_t n = type ? strlen(type) : 0;

    if (n == 0 || n > ZC_IPC_TYPE_MAX ||
        !type_chars_ok((const uint8_t *) type, n))
        return -EINVAL;
    if (allow_reserved)
        return 0;
    if (strncmp(type, "zc.", 3) == 0)
        return -EINVAL;
    for (size_t i = 0; i < sizeof(reserved_types) / sizeof(reserved_types[0]);
         i++)
        if (strcmp(type, reserved_types[i]) == 0)
            return -EINVAL;
    return 0;
}

int64_t zc__ipc_decode(const uint8_t *buf, size_t len, uint32_t max_payload,
                       struct zc__ipc_head *h, size_t *need, const char **why)
{
    size_t total;

    *need = ZC__IPC_HDR;
    if (len < ZC__IPC_HDR)
        return 0;
    h->len = get_le32(buf);
    h->type_len = buf[4];
    h->n_fds = buf[5];
    h->flags = (uint16_t) (buf[6] | buf[7] << 8);
    if (h->flags) {
        *why = "frame has unknown flags set (a newer protocol version?)";
        return -EBADMSG;
    }
    if (h->type_len == 0 || h->type_len > ZC_IPC_TYPE_MAX) {
        *why = "frame type is empty or longer than 64 bytes";
        return -EBADMSG;
    }
    if (h->n_fds > ZC_IPC_FDS_MAX) {
        *why = "frame announces more than 16 fds";
        return -EBADMSG;
    }
    if (h->len > max_payload) {
        *why = "frame payload is larger than the message size limit";
        return -EMSGSIZE;
    }
    if (len >= ZC__IPC_HDR + (size_t) h->type_len &&
        !type_chars_ok(buf + ZC__IPC_HDR, h->type_len)) {
        *why = "frame type is not printable ASCII";
        return -EBADMSG;
    }
    total = ZC__IPC_HDR + (size_t) h->type_len + h->len;
    *need = total;
    return len >= total ? (int64_t) total : 0;
}

void zc__ipc_init(struct zc__ipc *c, int fd, uint32_t max_payload,
                  size_t queue_max)
{
    memset(c, 0, sizeof(*c));
    c->fd = fd;
    c->max_payload = max_payload;
    c->queue_max = queue_max;
}

static void close_fds(const int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= 0)
            (void) close(fds[i]);
}

void zc__ipc_close(struct zc__ipc *c)
{
    if (c->fd >= 0)
        (void) close(c->fd);
    c->fd = -1;
    close_fds(c->rfds, c->n_rfds);
    c->n_rfds = 0;
    for (; c->n_marks; c->n_marks--) {
        struct zc__ipc_mark *m = &c->marks[c->mark_head];

        close_fds(m->fds, (size_t) m->n_fds);
        c->mark_head = (c->mark_head + 1) % ZC__IPC_MARKS;
    }
    free(c->rbuf);
    free(c->wbuf);
    free(c->marks);
    c->rbuf = c->wbuf = NULL;
    c->marks = NULL;
    c->rcap = c->rpos = c->rlen = 0;
    c->wcap = c->wpos = c->wlen = 0;
}

/* -- sending -------------------------------------------------------------- */

static ssize_t send_fds(int fd, const struct iovec *iov, int n_iov,
                        const int *fds, size_t n_fds)
{
    union fd_cmsg u;
    struct msghdr msg = { .msg_iov = (struct iovec *) iov,
                          .msg_iovlen = (size_t) n_iov };
    ssize_t n;

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
    do
        n = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (n == -1 && errno == EINTR);
    return n;
}

static int wbuf_reserve(struct zc__ipc *c, size_t n)
{
    size_t cap;
    uint8_t *b;

    if (c->wcap - c->wlen >= n)
        return 0;
    if (c->wpos) {
        memmove(c->wbuf, c->wbuf + c->wpos, c->wlen - c->wpos);
        c->wlen -= c->wpos;
        c->wpos = 0;
        if (c->wcap - c->wlen >= n)
            return 0;
    }
    cap = c->wcap ? c->wcap * 2 : 16 * 1024;
    if (cap < c->wlen + n)
        cap = c->wlen + n;
    b = realloc(c->wbuf, cap);
    if (!b)
        return -ENOMEM;
    c->wbuf = b;
    c->wcap = cap;
    return 0;
}

int zc__ipc_requeue(struct zc__ipc *c, const void *bytes, size_t n)
{
    int r = wbuf_reserve(c, n);

    if (r < 0)
        return r;
    memcpy(c->wbuf + c->wlen, bytes, n);
    c->wlen += n;
    return 0;
}

/* Appends iov's bytes from offset skip on; fds (if any) mark the frame's
 * start, which is then still unsent (skip == 0). */
static int queue_frame(struct zc__ipc *c, const struct iovec *iov, int n_iov,
                       size_t skip, const int *fds, size_t n_fds)
{
    size_t total = 0;
    int r;

    for (int i = 0; i < n_iov; i++)
        total += iov[i].iov_len;
    if (n_fds && !c->marks &&
        !(c->marks = calloc(ZC__IPC_MARKS, sizeof(*c->marks))))
        return -ENOMEM;
    r = wbuf_reserve(c, total - skip);
    if (r < 0)
        return r;
    if (n_fds) {
        struct zc__ipc_mark *m =
            &c->marks[(c->mark_head + c->n_marks) % ZC__IPC_MARKS];

        m->off = c->wstream + (c->wlen - c->wpos);
        m->n_fds = (int) n_fds;
        memcpy(m->fds, fds, sizeof(int) * n_fds);
        c->n_marks++;
    }
    for (int i = 0; i < n_iov; i++) {
        size_t from = skip < iov[i].iov_len ? skip : iov[i].iov_len;

        skip -= from;
        if (iov[i].iov_len == from)
            continue;           /* an empty payload may be NULL */
        memcpy(c->wbuf + c->wlen, (const char *) iov[i].iov_base + from,
               iov[i].iov_len - from);
        c->wlen += iov[i].iov_len - from;
    }
    return 0;
}

/* Our own copies of the caller's fds, so that the caller may close its
 * own at once while the frame waits in the queue. */
static int own_fds(const int *fds, size_t n, bool take, int *own)
{
    for (size_t i = 0; i < n; i++) {
        own[i] = take ? fds[i] : fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
        if (own[i] == -1) {
            int r = -errno;

            close_fds(own, i);
            return r;
        }
    }
    return 0;
}

int zc__ipc_send(struct zc__ipc *c, const char *type, const void *data,
                 size_t len, const int *fds, size_t n_fds, bool take_fds)
{
    uint8_t hdr[ZC__IPC_HDR];
    size_t type_len = strlen(type), frame, pending = zc__ipc_pending(c);
    struct iovec iov[3];
    int own[ZC_IPC_FDS_MAX], r;
    ssize_t n = 0;

    if (c->fd < 0)
        r = -ENOTCONN;
    else if (n_fds > ZC_IPC_FDS_MAX || type_len == 0 ||
             type_len > ZC_IPC_TYPE_MAX)
        r = -EINVAL;
    else if (len > c->max_payload)
        r = -EMSGSIZE;
    else if (n_fds && c->n_marks == ZC__IPC_MARKS)
        r = -ENOBUFS;
    else
        r = 0;
    frame = ZC__IPC_HDR + type_len + len;
    /* A frame larger than the whole queue still goes when the queue is
     * empty, or no large message could ever be sent. */
    if (r == 0 && pending && pending + frame > c->queue_max)
        r = -ENOBUFS;
    if (r < 0) {
        if (take_fds)
            close_fds(fds, n_fds);
        return r;
    }
    r = own_fds(fds, n_fds, take_fds, own);
    if (r < 0)
        return r;
    zc__ipc_encode(hdr, type_len, len, n_fds);
    iov[0] = (struct iovec) { hdr, sizeof(hdr) };
    iov[1] = (struct iovec) { (void *) type, type_len };
    iov[2] = (struct iovec) { (void *) data, len };
    if (!pending && !c->corked) {
        n = send_fds(c->fd, iov, 3, own, n_fds);
        if (n == -1 && errno != EAGAIN) {
            r = -errno;
            close_fds(own, n_fds);
            c->why = "write failed";
            return r;
        }
        if (n == -1)
            n = 0;
        if (n > 0) {
            close_fds(own, n_fds);     /* they went with the first byte */
            n_fds = 0;
        }
        c->wstream += (uint64_t) n;
    }
    c->sent++;
    if ((size_t) n == frame)
        return 0;
    r = queue_frame(c, iov, 3, (size_t) n, own, n_fds);
    if (r < 0)
        close_fds(own, n_fds);
    return r;
}

int zc__ipc_send_now(struct zc__ipc *c, const char *type, const void *data,
                     size_t len, const int *fds, size_t n_fds)
{
    uint8_t hdr[ZC__IPC_HDR];
    size_t type_len = strlen(type), frame = ZC__IPC_HDR + type_len + len;
    struct iovec iov[3];
    ssize_t n;

    if (c->fd < 0)
        return -ENOTCONN;
    if (n_fds == 0 || n_fds > ZC_IPC_FDS_MAX || type_len == 0 ||
        type_len > ZC_IPC_TYPE_MAX)
        return -EINVAL;
    if (len > c->max_payload)
        return -EMSGSIZE;
    if (zc__ipc_pending(c))
        return -EAGAIN;
    zc__ipc_encode(hdr, type_len, len, n_fds);
    iov[0] = (struct iovec) { hdr, sizeof(hdr) };
    iov[1] = (struct iovec) { (void *) type, type_len };
    iov[2] = (struct iovec) { (void *) data, len };
    n = send_fds(c->fd, iov, 3, fds, n_fds);
    if (n == -1) {
        if (errno == EAGAIN)
            return -EAGAIN;
        c->why = "write failed";
        return -errno;
    }
    c->wstream += (uint64_t) n;
    c->sent++;
    /* The fds went with the first byte; the rest of the frame is queued.
     * Without memory for it the stream is broken: end it, so the peer
     * sees a truncated frame rather than a wrong one. */
    if ((size_t) n < frame && queue_frame(c, iov, 3, (size_t) n, NULL, 0) < 0) {
        c->why = "no memory for the rest of a frame";
        (void) shutdown(c->fd, SHUT_RDWR);
    }
    return 0;
}

int zc__ipc_flush(struct zc__ipc *c)
{
    while (c->wpos < c->wlen) {
        struct zc__ipc_mark *m = c->n_marks ? &c->marks[c->mark_head] : NULL;
        bool with_fds = m && m->off == c->wstream;
        size_t n = c->wlen - c->wpos;
        struct iovec iov;
        ssize_t r;

        /* A write may start a frame with fds, never contain another's. */
        if (with_fds && c->n_marks > 1) {
            uint64_t next = c->marks[(c->mark_head + 1) % ZC__IPC_MARKS].off;

            if (next - c->wstream < n)
                n = (size_t) (next - c->wstream);
        } else if (m && !with_fds && m->off - c->wstream < n) {
            n = (size_t) (m->off - c->wstream);
        }
        iov = (struct iovec) { c->wbuf + c->wpos, n };
        r = send_fds(c->fd, &iov, 1, with_fds ? m->fds : NULL,
                     with_fds ? (size_t) m->n_fds : 0);
        if (r == -1) {
            if (errno == EAGAIN)
                return 0;
            c->why = "write failed";
            return -errno;
        }
        if (with_fds) {
            close_fds(m->fds, (size_t) m->n_fds);
            c->mark_head = (c->mark_head + 1) % ZC__IPC_MARKS;
            c->n_marks--;
        }
        c->wpos += (size_t) r;
        c->wstream += (uint64_t) r;
    }
    c->wpos = c->wlen = 0;
    /* A burst may have grown the buffer a lot; an idle peer keeps little. */
    if (c->wcap > WBUF_KEEP) {
        free(c->wbuf);
        c->wbuf = NULL;
        c->wcap = 0;
    }
    return 0;
}

/* -- receiving ------------------------------------------------------------ */

/* Makes room for the unparsed bytes to grow to need (and for at least one
 * more read): slides them to the front, grows the buffer if it must. */
static int rbuf_reserve(struct zc__ipc *c, size_t need)
{
    size_t cap = need > ZC__IPC_RBUF ? need : ZC__IPC_RBUF;
    uint8_t *b;

    if (c->rpos && (c->rcap - c->rlen < 4096 || c->rcap - c->rpos < need)) {
        memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
        c->rlen -= c->rpos;
        c->rpos = 0;
    }
    if (c->rcap >= cap && c->rlen < c->rcap)
        return 0;
    b = realloc(c->rbuf, cap);
    if (!b)
        return -ENOMEM;
    c->rbuf = b;
    c->rcap = cap;
    return 0;
}

static int take_frame(struct zc__ipc *c, const struct zc__ipc_head *h,
                      struct zc__ipc_frame *f)
{
    const uint8_t *p = c->rbuf + c->rpos + ZC__IPC_HDR;

    if (h->n_fds > c->n_rfds) {
        c->why = "frame announces fds that did not arrive with it";
        return -EPROTO;
    }
    memcpy(f->type, p, h->type_len);
    f->type[h->type_len] = '\0';
    f->data = p + h->type_len;
    f->len = h->len;
    f->n_fds = h->n_fds;
    memcpy(f->fds, c->rfds, sizeof(int) * h->n_fds);
    c->n_rfds -= h->n_fds;
    memmove(c->rfds, c->rfds + h->n_fds, sizeof(int) * c->n_rfds);
    return 0;
}

/* Hands every complete frame in the buffer to fn. */
static int parse_frames(struct zc__ipc *c, zc__ipc_frame_fn fn, void *userdata)
{
    struct zc__ipc_head h;
    struct zc__ipc_frame f;
    size_t need;
    int64_t n;
    int r;

    for (;;) {
        n = zc__ipc_decode(c->rbuf + c->rpos, c->rlen - c->rpos, c->max_payload,
                           &h, &need, &c->why);
        if (n < 0)
            return (int) n;
        if (n == 0)
            break;
        r = take_frame(c, &h, &f);
        if (r < 0)
            return r;
        c->rpos += (size_t) n;
        c->received++;
        fn(c, &f, userdata);
        close_fds(f.fds, f.n_fds);
    }
    if (c->rpos == c->rlen) {
        c->rpos = c->rlen = 0;
        if (c->n_rfds) {
            c->why = "fds arrived that no frame announced";
            return -EPROTO;
        }
    }
    /* A partial large frame: make room for all of it (bounded by
     * max_payload, checked by the decoder before we get here). */
    return need > c->rlen - c->rpos ? rbuf_reserve(c, need) : 0;
}

/* Queues the fds of one read; false when they do not fit (closed). */
static bool take_cmsg_fds(struct zc__ipc *c, struct msghdr *msg)
{
    bool ok = true;

    for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm;
         cm = CMSG_NXTHDR(msg, cm)) {
        size_t n;
        int *fds;

        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        fds = (int *) (void *) CMSG_DATA(cm);
        for (size_t i = 0; i < n; i++) {
            if (c->n_rfds < ZC__IPC_RFDS) {
                c->rfds[c->n_rfds++] = fds[i];
            } else {
                (void) close(fds[i]);
                ok = false;
            }
        }
    }
    return ok;
}

/* Nothing half-read is kept: give the buffer back, whatever size a large
 * frame made it. A thousand idle workers then cost the primary no receive
 * buffers at all, and glibc hands the same block to the next read,
 * whichever worker it is for. */
static int rbuf_release_if_empty(struct zc__ipc *c, int r)
{
    if (c->rpos == c->rlen) {
        free(c->rbuf);
        c->rbuf = NULL;
        c->rcap = c->rpos = c->rlen = 0;
    }
    return r;
}

int zc__ipc_read(struct zc__ipc *c, unsigned max_reads, zc__ipc_frame_fn fn,
                 void *userdata)
{
    for (unsigned i = 0; i < max_reads && c->fd >= 0; i++) {
        union fd_cmsg u;
        struct iovec iov;
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                              .msg_control = u.buf,
                              .msg_controllen = sizeof(u.buf) };
        size_t room;
        ssize_t n;
        int r;

        r = rbuf_reserve(c, ZC__IPC_HDR);
        if (r < 0) {
            c->why = "out of memory for a frame";
            return r;
        }
        room = c->rcap - c->rlen;
        if (room == 0) {        /* cannot happen: parse_frames made room */
            c->why = "receive buffer full";
            return -ENOBUFS;
        }
        iov = (struct iovec) { c->rbuf + c->rlen, room };
        n = recvmsg(c->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return rbuf_release_if_empty(c, 0);
            c->why = "read failed";
            return -errno;
        }
        if (!take_cmsg_fds(c, &msg) || (msg.msg_flags & MSG_CTRUNC)) {
            c->why = "more fds arrived than a frame may carry";
            return -EPROTO;
        }
        if (n == 0) {
            if (c->rlen > c->rpos || c->n_rfds) {
                c->why = "peer closed the connection in the middle of a frame";
                return -ECONNRESET;
            }
            return 1;
        }
        c->rlen += (size_t) n;
        r = parse_frames(c, fn, userdata);
        if (r < 0)
            return r;
        if ((size_t) n < room)  /* the socket is very likely empty now */
            return rbuf_release_if_empty(c, 0);
    }
    return rbuf_release_if_empty(c, 0);
}

int zc__ipc_feed(struct zc__ipc *c, const uint8_t *buf, size_t len,
                 zc__ipc_frame_fn fn, void *userdata)
{
    while (len) {
        size_t room, n;
        int r = rbuf_reserve(c, ZC__IPC_HDR);

        if (r < 0)
            return r;
        room = c->rcap - c->rlen;
        n = len < room ? len : room;
        memcpy(c->rbuf + c->rlen, buf, n);
        c->rlen += n;
        buf += n;
        len -= n;
        r = parse_frames(c, fn, userdata);
        if (r < 0)
            return r;
    }
    return rbuf_release_if_empty(c, 0);
}
