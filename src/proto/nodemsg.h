/*
 * Node.js's IPC channel as a Node cluster worker speaks it to its primary
 * (docs/protocol.md, "Node.js workers"): NODE_CHANNEL_SERIALIZATION_MODE
 * json, one JSON value per line; a handle travels as SCM_RIGHTS with the
 * line that carries it, {"cmd":"NODE_HANDLE",...}, and is acknowledged by
 * {"cmd":"NODE_HANDLE_ACK"}. Lines are cut and read here, pure and fuzzed;
 * primary/node.c acts on them.
 */
#ifndef ZC_NODEMSG_H
#define ZC_NODEMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/un.h>

#include "base/buf.h"

/* A line longer than this closes the channel. */
#define ZC__NODE_LINE_MAX (1024 * 1024)

/* Cuts a byte stream into lines. Zero it to start. */
struct zc__node_lines {
    struct zc__buf b;       /* what came after the last complete line */
};

/* Appends n bytes and calls fn for each complete line (without its
 * newline); a negative return of fn stops and is returned. Returns 0,
 * -E2BIG for a line past ZC__NODE_LINE_MAX, -ENOMEM. */
int zc__node_lines_feed(struct zc__node_lines *l, const char *s, size_t n,
                        int (*fn)(const char *line, size_t len, void *ud),
                        void *ud);
void zc__node_lines_free(struct zc__node_lines *l);

enum zc__node_kind {
    ZC__NODE_USER,          /* not internal: the application's message */
    ZC__NODE_CLUSTER,       /* {"cmd":"NODE_CLUSTER", "act":...} */
    ZC__NODE_HANDLE_ACK,
    ZC__NODE_HANDLE_NACK,
    ZC__NODE_OTHER,         /* another NODE_ command: ignored */
};

/* Node's addressType: the numbers its cluster messages carry. */
enum { ZC__NODE_IPV4 = 4, ZC__NODE_IPV6 = 6, ZC__NODE_UNIX = -1 };
/* The longest address: a unix socket's path (sun_path). */
#define ZC__NODE_ADDRESS_MAX sizeof(((struct sockaddr_un *) 0)->sun_path)

/* What the primary reads of a cluster message. */
struct zc__node_msg {
    enum zc__node_kind kind;
    char act[32];           /* online, queryServer, listening, close, ... */
    bool has_seq;
    long long seq;
    /* queryServer and listening */
    bool address_null;      /* "address": null (all interfaces) */
    char address[ZC__NODE_ADDRESS_MAX];
    long long port;
    int address_type;       /* ZC__NODE_IPV4, _IPV6 or _UNIX */
    bool udp;               /* "addressType": "udp4" or "udp6" */
    bool has_fd;            /* "fd": a number: listen on an inherited fd */
    long long index;
    char key[128];          /* close */
};

/* Reads one line. Returns 0, or -EINVAL with why (not a JSON object, a
 * field of the wrong type). A user message only has its kind set. */
int zc__node_parse(const char *line, size_t len, struct zc__node_msg *m,
                   char *why, size_t size);

/* The primary's lines, each ending with '\n'. They return the length, or
 * 0 when out is too small. */
size_t zc__node_query_reply(char *out, size_t size, long long ack,
                            const char *key, int err, bool handle,
                            long long seq);
size_t zc__node_cluster_act(char *out, size_t size, const char *act,
                            long long seq);
size_t zc__node_cluster_ack(char *out, size_t size, long long ack,
                            long long seq);

#endif
