/* What a Node.js worker's channel keeps (node.c owns these fields; the
 * core only embeds them). */
#ifndef ZC_NODE_T_H
#define ZC_NODE_T_H

#include <stdbool.h>

#include "proto/nodemsg.h"

struct node_worker {
    struct zc__node_lines lines;    /* what its channel sent, cut in lines */
    long long seq;                  /* of the next message we send */
    bool online;                    /* it said "online" */
    bool handle_out;                /* a handle sent and not acknowledged */
    bool disconnected;              /* we sent "disconnect" */
    bool exiting;                   /* it said "exitedAfterDisconnect" */
    unsigned bad_lines;             /* lines we could not read, said once */
    bool cut;                       /* we closed its channel: its exit 0,
                                       which Node then makes, is a failure */
};

#endif
