/* Node.js cluster workers over Node's own IPC channel (node.c). */
#ifndef ZC_NODE_H
#define ZC_NODE_H

#include <stdbool.h>
#include <stddef.h>

#include "primary/core/fleet.h"

/* A typed message from a Node worker, handed to what handles frames. */
typedef void (*zc__node_deliver_fn)(struct worker *w, const char *type,
                                    const char *data, size_t len);

/* Reads w's channel (its link's fd): online, queryServer, listening,
 * handle acknowledgements; typed messages go to deliver. Returns 0, 1 at
 * EOF, or -errno: the caller closes the link. */
int zc__node_read(struct zc_primary *p, struct worker *w,
                  zc__node_deliver_fn deliver);
/* Node's graceful stop: {"act":"disconnect"} (the worker closes its
 * servers, then its channel, and exits). Returns whether it went. */
bool zc__node_disconnect(struct zc_primary *p, struct worker *w);
/* A typed message to a Node worker: {"_zhttp":true,"type":T,"data":D},
 * D the payload if it is JSON, else the payload as a string. Returns 0 or
 * -errno as zc_primary_send(). */
int zc__node_send(struct zc_primary *p, struct worker *w, const char *type,
                  const void *data, size_t len);
/* Hands connection fd (the caller keeps its copy and closes it) to w as
 * the module's primary does: {"_zhttp":true,"type":"sticky:connection"}
 * with the socket, a NODE_HANDLE of type net.Socket. Returns 0 (sent, or
 * queued in order), or -ENOBUFS / -errno: not taken. */
int zc__node_handoff(struct worker *w, int fd);
/* Writes what waits for w's channel (at EPOLLOUT): 0 or -errno. */
int zc__node_flush(struct worker *w);
/* Whether something waits to be written (the link watches EPOLLOUT). */
bool zc__node_pending(const struct worker *w);
/* The channel's state is dropped with the link. */
void zc__node_forget(struct worker *w);
/* The sockets bound on Node workers' requests: how many, and the address
 * of the i-th (NULL past the end), for status. */
size_t zc__node_servers(const struct zc_primary *p);
const char *zc__node_server_text(const struct zc_primary *p, size_t i);
/* The servers bound for Node workers are closed (at the fleet's end). */
void zc__node_close_servers(struct zc_primary *p);

/* An upgrade hands a Node worker's channel over only when nothing is on
 * its way on it: no line queued, no queryServer waiting, every socket
 * sent acknowledged. */
bool zc__node_quiet(const struct worker *w);
/* What the channel's state is, as it travels (held: the bytes after its
 * last whole line, valid until the channel is read again). */
struct zc__node_carry {
    long long seq;
    unsigned long long handles, acked, query_handle;
    unsigned bad_lines, ignored;
    bool online, disconnected, cut;
    const char *held;
    size_t n_held;
};
void zc__node_hand_over(const struct worker *w, struct zc__node_carry *c);
/* The same in the next image, the link opened already. 0 or -errno. */
int zc__node_take(struct worker *w, const struct zc__node_carry *c);
/* The sockets bound for Node workers, each with what was asked for; one
 * taken back in the next image (its fd, even on failure). */
void zc__node_each_server(const struct zc_primary *p,
                          void (*fn)(void *arg, const char *want,
                                     const char *text, int fd),
                          void *arg);
int zc__node_take_server(struct zc_primary *p, const char *want,
                         const char *text, int fd);

/* Messages Node workers sent that are not zcluster's, ever. */
uint64_t zc__node_ignored(const struct zc_primary *p);

#endif
