/* The records of the fleet's state (handover.c writes them, takeover.c
 * reads them): their tags, section by section. A number is never reused
 * for another meaning; a new record gets a new one. */
#ifndef ZC_CARRY_TAGS_H
#define ZC_CARRY_TAGS_H

#include "proto/state.h"

#define SEC ZC__STATE_SECTION

/* The fleet's own records. */
enum {
    F_NAME = 1,
    F_GENERATION = 2,
    F_RUNNING_GEN = 3,
    F_NEXT_ID = 4,
    F_WALKS = 5,
    F_START_US = 6,
    F_UPGRADES = 7,
    F_OUTCOMES = 8,
    F_IPC_DROPPED = 9,
    F_OPTIONS = 10,
    F_CONFIG = 11,
    F_SIGMASK = 12,
    F_EXE_FD = 13,
    F_EXE_PATH = 14,
    F_NOTIFY_FD = 15,
    F_NOTIFY_PATH = 16,
    F_CONTROL_FD = 17,
    F_CONTROL_LOCK = 18,
    F_CONTROL_PATH = 19,
    F_METRICS_FD = 20,
    F_FLAGS = 21,
    F_N_SLOTS = 22,
    F_SERIAL = 23,
    F_FROM = 24,
    F_EXEC_US = 25,
    F_IPC_GONE = 26,
    F_LAST_RELOAD = 27,
    F_RELOAD_AFTER = 28,
    F_BY = 29,
    F_BAL_LIVE = 30,
    F_BAL_FLAGS = 31,
    F_BAL_COUNTS = 32,
    F_ROUTER_COUNTS = 33,
    F_ACCEPT_COUNTS = 34,
    F_RECENT = 35, /* a line of the recent ones: u32 slot, text */
    F_NODE_IGNORED = 36,
};
/* Its sections: one per listener, slot, worker, output pipe, retained
 * metrics series. */
enum {
    F_LISTENER = SEC | 40,
    F_SLOT = SEC | 41,
    F_WORKER = SEC | 42,
    F_PIPE = SEC | 43,
    F_MBASE = SEC | 44,
    F_CONN = SEC | 45,
    F_NODE_SERVER = SEC | 46,
};
/* A listener's (L_GROUP_FD: one per slot, in order). */
enum {
    L_FD = 1,
    L_ADOPTED = 2,
    L_NAME = 3,
    L_GROUP_FD = 4,
    L_RR_PROG = 5,
    L_RR_SOCKS = 6,
    L_RR_STATE = 7,
    L_RR_COUNTS = 8,
};
/* A slot's (S_INDEX first). */
enum {
    S_INDEX = 1,
    S_STATE = 2,
    S_GENERATION = 3,
    S_LAST_ID = 4,
    S_CRASHES = 5,
    S_READY_US = 6,
    S_RESTARTS = 7,
    S_BACKOFF_MS = 8,
    S_RESPAWN_AT = 9,
    S_CPU_GONE = 10,
    S_FAILS = 11,
    S_FAILED_US = 12,
    S_STICKY_DOWN = 13,
};
/* A worker's. */
enum {
    W_PID = 1,
    W_ID = 2,
    W_SLOT = 3,
    W_GENERATION = 4,
    W_STATE = 5,
    W_STARTED_US = 6,
    W_FLAGS = 7,
    W_STATUS = 8,
    W_IPC_FD = 9,
    W_QUEUED = 10,
    W_UNREAD = 11,
    W_SENT = 12,
    W_RECEIVED = 13,
    W_MEMFD = 14,
    W_HEARD_US = 15,
    W_PINGS_SEEN = 16,
    W_LIFETIME_END_US = 17,
    W_MEMORY_LIMIT = 18,
    W_RECYCLE_REASON = 19,
    W_HANDED = 20,
    W_FULL_SINCE_US = 21,
    W_NODE_SEQ = 22, /* --node: its channel's */
    W_NODE_HANDLES = 23,
    W_NODE_ACKED = 24,
    W_NODE_QUERY = 25,
    W_NODE_BAD_LINES = 26,
    W_NODE_IGNORED = 27,
    W_NODE_HELD = 28,
};
/* An output pipe's. */
enum {
    P_FD = 1,
    P_ERR = 2,
    P_SLOT = 3,
    P_ID = 4,
    P_GEN = 5,
    P_PID = 6,
    P_WORKER = 7,
    P_HELD = 8,
    P_PART = 9,
};
/* A retained metrics series'. */
enum {
    M_NAME = 1,
    M_HELP = 2,
    M_TYPE = 3,
    M_FLAGS = 4,
    M_BOUNDS = 5,
    M_KEY = 6,
    M_BASE = 7,
};

/* The bits of F_FLAGS, F_BAL_FLAGS and W_FLAGS. */
enum { FL_ANY_READY = 1, FL_ANY_FAILED = 2, FL_ANNOUNCED = 4 };
enum { BF_ROUND_ROBIN = 1, BF_STEERED = 2, BF_NO_STEERING = 4, BF_MIGRATE = 8 };
enum {
    WF_LINKED = 1,
    WF_SAID_READY = 2,
    WF_DEAF = 4,
    WF_TEXT = 8,
    WF_MISSED = 16,
    WF_HUNG = 32,
    WF_LIMITS_SET = 64,
    WF_UNTRUSTED = 128,
    WF_NODE_ONLINE = 256,
    WF_NODE_DISCONNECTED = 512,
    WF_NODE_CUT = 1024,
};

/* A socket bound for Node workers. */
enum { N_WANT = 1, N_TEXT = 2, N_FD = 3 };

/* A connection waiting in the router (sticky, least-conn). */
enum {
    C_SLOT = 1, /* its slot's queue + 1; 0: the router's own */
    C_FD = 2,
    C_LISTENER = 3,
    C_HOME = 4,
    C_SINCE_US = 5,
    C_CLIENT_PORT = 6,
    C_SERVER_PORT = 7,
    C_PROXIED = 8,
    C_CLIENT = 9,
    C_SERVER = 10,
};

#endif
