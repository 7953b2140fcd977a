/*
 * IPC framing on a stream socket: typed frames, many per write, fds
 * carried with the write that starts their frame. Both ends use it; the
 * frame layout is docs/protocol.md "Typed messages".
 */
#ifndef ZC_IPC_H
#define ZC_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zcluster.h"

#define ZC__IPC_HDR 8               /* fixed header before the type */
#define ZC__IPC_RBUF (64 * 1024)    /* receive buffer for ordinary frames */
#define ZC__IPC_RFDS 64             /* received fds waiting for their frame */
#define ZC__IPC_MARKS 32            /* queued outgoing frames carrying fds */

/* A frame's header, decoded. */
struct zc__ipc_head {
    uint32_t len;       /* payload bytes */
    uint8_t type_len;   /* 1 .. ZC_IPC_TYPE_MAX */
    uint8_t n_fds;      /* 0 .. ZC_IPC_FDS_MAX */
    uint16_t flags;     /* 0 in version 1 */
};

/*
 * Decodes the frame at buf[0..len). Returns its total size when it is
 * complete, 0 when more bytes are needed (*need says how many in all, once
 * the header is in), or a negative errno with *why set: -EMSGSIZE for a
 * payload over max_payload, -EBADMSG for a malformed header or type.
 * Pure; the fuzz target drives it.
 */
int64_t zc__ipc_decode(const uint8_t *buf, size_t len, uint32_t max_payload,
                       struct zc__ipc_head *h, size_t *need, const char **why);

/* Writes the header for a frame into hdr[ZC__IPC_HDR]. */
void zc__ipc_encode(uint8_t *hdr, size_t type_len, size_t len, size_t n_fds);

/* Checks an application's type: 1..64 bytes of printable ASCII, not a
 * reserved name. Returns 0 or -EINVAL. */
int zc__ipc_type_check(const char *type, bool allow_reserved);

struct zc__ipc_mark {
    uint64_t off; /* stream offset of the frame's first byte */
    int n_fds;
    int fds[ZC_IPC_FDS_MAX];        /* ours: closed once sent */
};

/* One end of a connection. Embed it; zero it, then zc__ipc_init(). */
struct zc__ipc {
    int fd;                         /* -1 once closed */
    uint32_t max_payload;
    size_t queue_max;               /* bytes waiting in wbuf before -ENOBUFS */
    /* receive side */
    uint8_t *rbuf;                  /* allocated at the first read */
    size_t rcap, rpos, rlen;        /* unparsed bytes are rbuf[rpos..rlen) */
    int rfds[ZC__IPC_RFDS];         /* fds received, in order, not yet given */
    unsigned n_rfds;
    /* send side */
    uint8_t *wbuf;
    size_t wcap, wpos, wlen;        /* unsent bytes are wbuf[wpos..wlen) */
    uint64_t wstream;               /* stream offset of wbuf[wpos] */
    struct zc__ipc_mark *marks;     /* ring, allocated at the first fd */
    unsigned mark_head, n_marks;
    bool corked;                    /* hold frames back until a flush */
    const char *why;                /* what the last error was, for logs */
    uint64_t sent, received;        /* frames, for metrics and tests */
};

void zc__ipc_init(struct zc__ipc *c, int fd, uint32_t max_payload,
                  size_t queue_max);
/* Closes the fd and every fd still queued, frees the buffers. Idempotent. */
void zc__ipc_close(struct zc__ipc *c);

/* Bytes waiting to be written (the caller watches for EPOLLOUT while > 0). */
static inline size_t zc__ipc_pending(const struct zc__ipc *c)
{
    return c->wlen - c->wpos;
}

/*
 * Queues one frame. fds (n_fds <= ZC_IPC_FDS_MAX) are taken when take_fds
 * is true (closed here on every path), else duplicated. Unless corked, it
 * is written at once when nothing is waiting before it. Returns 0,
 * -EMSGSIZE, -ENOBUFS (queue full, or too many frames with fds waiting),
 * -ENOTCONN (closed), -EPIPE or another -errno from the socket.
 */
int zc__ipc_send(struct zc__ipc *c, const char *type, const void *data,
                 size_t len, const int *fds, size_t n_fds, bool take_fds);

/*
 * Writes one frame now, its fds with it, for a caller that keeps the fds
 * until they have gone (sticky hand-offs: an fd that could not be sent
 * stays the caller's to send elsewhere). Only when nothing is queued.
 * Returns 0 once the fds have gone, the caller then closing its copies
 * (a rest of the frame the socket did not take is queued: flush it);
 * -EAGAIN when nothing was written (or something is queued); -ENOTCONN,
 * -EMSGSIZE, -EINVAL, or another -errno from the socket. Never closes
 * the fds.
 */
int zc__ipc_send_now(struct zc__ipc *c, const char *type, const void *data,
                     size_t len, const int *fds, size_t n_fds);

/* Appends n bytes of frames another end queued and never sent (a queue
 * handed over by an upgrade), whole or in part: they are the stream's
 * continuation. No fds. Returns 0 or -ENOMEM. */
int zc__ipc_requeue(struct zc__ipc *c, const void *bytes, size_t n);

/* Writes what is queued. Returns 0 (done or would block) or -errno. */
int zc__ipc_flush(struct zc__ipc *c);

/* A received frame; fds are owned by the frame: set an entry to -1 to keep
 * it, the rest are closed after the callback. */
struct zc__ipc_frame {
    char type[ZC_IPC_TYPE_MAX + 1];
    const uint8_t *data;
    size_t len;
    int fds[ZC_IPC_FDS_MAX];
    size_t n_fds;
};

typedef void (*zc__ipc_frame_fn)(struct zc__ipc *c, struct zc__ipc_frame *f,
                                 void *userdata);

/*
 * Reads what is available (at most max_reads reads) and calls fn for each
 * complete frame. Returns 0 when the socket is drained or the read budget
 * is spent, 1 at a clean end of stream (EOF on a frame boundary), or a
 * negative errno with c->why set: -EBADMSG/-EMSGSIZE (bad frame), -EPROTO
 * (fds missing, unexpected, or too many), -ECONNRESET (closed mid-frame).
 */
int zc__ipc_read(struct zc__ipc *c, unsigned max_reads, zc__ipc_frame_fn fn,
                 void *userdata);

/* Feeds bytes as if read (no fds); for the fuzz target and unit tests.
 * Same returns as zc__ipc_read, without the end-of-stream cases. */
int zc__ipc_feed(struct zc__ipc *c, const uint8_t *buf, size_t len,
                 zc__ipc_frame_fn fn, void *userdata);

#endif
