/*
 * The reserved message types (docs/protocol.md, "Typed messages"), in one
 * place for both ends. An application may not send these, nor any type
 * that starts with "zc.": zc__ipc_type_check() refuses them.
 */
#ifndef ZC_TYPES_H
#define ZC_TYPES_H

/* worker → primary */
#define ZC__MSG_HELLO "hello" /* "1": the protocol version it speaks */
#define ZC__MSG_READY "ready"           /* it is ready (as READY=1) */
#define ZC__MSG_STATUS "status"         /* a line for display (as STATUS=) */
#define ZC__MSG_STOPPING "stopping"     /* it drains (as STOPPING=1) */
#define ZC__MSG_METRICS "zc.metrics"    /* a Prometheus text snapshot */

/* primary → worker */
#define ZC__MSG_SHUTDOWN "shutdown"     /* drain within this many ms */
#define ZC__MSG_METRICS_COLLECT "zc.metrics.collect" /* send a snapshot */
#define ZC__MSG_CONN "zc.conn"          /* handed-off connections (handoff.h) */

/* Every reserved name outside the "zc." prefix. */
#define ZC__MSG_RESERVED \
    { ZC__MSG_HELLO, ZC__MSG_READY, ZC__MSG_STATUS, ZC__MSG_STOPPING, \
      ZC__MSG_SHUTDOWN }

#endif
