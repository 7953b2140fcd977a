/* Node.js cluster workers over Node's own IPC channel (node.c). */
#ifndef ZC_NODE_H
#define ZC_NODE_H

#include "primary/fleet.h"

/* Reads w's channel (its link's fd): online, queryServer, listening,
 * handle acknowledgements. Returns 0, 1 at EOF, or -errno: the caller
 * closes the link. */
int zc__node_read(struct zc_primary *p, struct worker *w);
/* Node's graceful stop: {"act":"disconnect"} (the worker closes its
 * servers, then its channel, and exits). Returns whether it went. */
bool zc__node_disconnect(struct zc_primary *p, struct worker *w);
/* The channel's state is dropped with the link. */
void zc__node_forget(struct worker *w);
/* The servers bound for Node workers are closed (at the fleet's end). */
void zc__node_close_servers(struct zc_primary *p);

#endif
