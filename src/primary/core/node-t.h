/* What a Node.js worker's channel keeps (node.c owns these fields; the
 * core only embeds them). */
#ifndef ZC_NODE_T_H
#define ZC_NODE_T_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/nodemsg.h"

/* A line waiting to be written whole (node.c): a socket may take part of
 * one; the rest goes first when it has room. */
struct node_out {
    struct node_out *next;
    size_t len, off;
    int fd;                         /* goes with the line's first byte */
    bool own_fd;                    /* a handed-off connection: closed once
                                       it went (or with the queue) */
    char data[];
};

/* A queryServer waiting for the socket before it to be acknowledged. */
struct node_query {
    struct node_query *next;
    struct zc__node_msg m;
};

struct node_worker {
    struct zc__node_lines lines;    /* what its channel sent, cut in lines */
    struct node_out *out, *out_tail;    /* lines not yet written, in order */
    size_t out_bytes;
    long long seq;                  /* of the next message we send */
    bool online;                    /* it said "online" */
    /* Handles (sockets) queued for it and acknowledged by it, counted:
     * acknowledgements come in the order the handles went. */
    unsigned long long handles, acked;
    unsigned long long query_handle;    /* the last queryServer's handle */
    struct node_query *queries, *queries_tail;  /* waiting, in order */
    unsigned n_queries;
    bool disconnected;              /* we sent "disconnect" */
    unsigned bad_lines;             /* lines we could not read, said once */
    unsigned ignored;               /* process.send()s not for us, said once */
    bool cut;                       /* we closed its channel: its exit 0,
                                       which Node then makes, is a failure */
};

/* The fleet's count of them, for /metrics. */
struct node_fleet {
    uint64_t ignored;               /* process.send()s of no zcluster type */
};

#endif
