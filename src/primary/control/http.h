/*
 * The primary's HTTP servers: the metrics endpoint (endpoint.c) over TCP
 * and the control socket (control.c) over a unix socket. One server is
 * libmicrohttpd driven from the primary's loop; this file owns the rules
 * every connection lives by (a deadline for each request, a bound on
 * connections that makes room for the next request, a bound on what a
 * stream may queue), the routes belong to its callers.
 */
#ifndef ZC_HTTP_H
#define ZC_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/buf.h"
#include "base/loop.h"

struct zc__http;
struct zc__http_req;        /* a request being answered */

struct zc__http_cb {
    /* A whole request is in. Answer it with zc__http_reply() or start a
     * stream with zc__http_stream(), or call zc__http_wait() to be called
     * again after zc__http_wake(). */
    void (*request)(void *ud, struct zc__http_req *r);
    /* r is over (answered, cut off, or its client left): its last call.
     * May be NULL. */
    void (*done)(void *ud, struct zc__http_req *r);
    void *ud;
};

struct zc__http_limits {
    /* A request must be complete within this of its connection (or of
     * the previous answer); an idle keep-alive connection goes after it. */
    uint32_t timeout_ms;
    /* Connections served at once. A new one past it closes the oldest
     * connection that has no complete request in; if there is none, the
     * new one is closed. */
    unsigned max_conns;
    /* Bytes a stream may hold for a client that does not read; past it,
     * the client is cut off. */
    size_t stream_max;
};

/*
 * Serves on listen_fd (ours from here on) from loop l. Returns 0 or
 * -errno.
 */
int zc__http_start(struct zc__http **ret, struct zc__loop *l, int listen_fd,
                   const struct zc__http_limits *lim,
                   const struct zc__http_cb *cb);
void zc__http_stop(struct zc__http *h);
/* The socket it serves on (still its own), for an upgrade to hand over. */
int zc__http_listen_fd(const struct zc__http *h);

/* The request's method and path (without the query). */
const char *zc__http_method(const struct zc__http_req *r);
const char *zc__http_path(const struct zc__http_req *r);
/* Calls fn for each query argument (value NULL for "?name" alone), in
 * order; returns how many. */
size_t zc__http_args(const struct zc__http_req *r,
                     void (*fn)(const char *key, const char *value, void *ud),
                     void *ud);
/* Whether the client (a unix socket's) has gid as its group or one of
 * its supplementary groups. */
bool zc__http_peer_in_group(const struct zc__http_req *r, gid_t gid);
/* The client's credentials (a unix socket's SO_PEERCRED); false if the
 * transport has none. */
bool zc__http_peer(const struct zc__http_req *r, pid_t *pid, uid_t *uid,
                   gid_t *gid);
/* One pointer for the caller, NULL at first. */
void zc__http_set_data(struct zc__http_req *r, void *data);
void *zc__http_data(const struct zc__http_req *r);

/* The answer, whole: body (malloc'ed, taken, may be NULL when len is 0)
 * of type. allow: the Allow header, or NULL. Only from the request
 * callback. */
void zc__http_reply(struct zc__http_req *r, unsigned code, const char *type,
                    char *body, size_t len, const char *allow);
/* The same for a body that is not the caller's to give (a constant). */
void zc__http_reply_text(struct zc__http_req *r, unsigned code,
                         const char *type, const char *text);
/* Answers with a body that follows by zc__http_write() until
 * zc__http_end(); only from the request callback. */
void zc__http_stream(struct zc__http_req *r, unsigned code, const char *type);
/* Queues n bytes for the client. A client that let stream_max pile up is
 * cut off: -ENOBUFS, and done() follows. */
int zc__http_write(struct zc__http_req *r, const char *s, size_t n);
/* The stream is complete once what is queued is sent. */
void zc__http_end(struct zc__http_req *r);

/* Whether r may wait or stream: not when max_conns requests already do,
 * so that what is answered at once always finds room: the caller answers
 * now instead (a scrape without waiting), or refuses (503). */
bool zc__http_may_wait(const struct zc__http_req *r);
/* The request callback waits: it is called again for r after the next
 * zc__http_wake() (zc__http_woken(r) is then true). */
void zc__http_wait(struct zc__http_req *r);
bool zc__http_woken(const struct zc__http_req *r);
void zc__http_wake(struct zc__http *h);

#endif
