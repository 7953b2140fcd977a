/* The primary accepts, for the modes that hand connections off (accept.c). */
#ifndef ZC_ACCEPT_H
#define ZC_ACCEPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "primary/core/fleet.h"
#include "proto/handoff.h"

#define ZC__ACCEPT_BATCH 64         /* accepts per wake-up and listener */
/* Out of fds or memory: accepting is tried again after this; a bare
 * number, so that help texts can say it (ZC__ACCEPT_PAUSE_TEXT). */
#define ZC__ACCEPT_PAUSE_MS 100
#define ZC__ACCEPT_STR_(x) #x
#define ZC__ACCEPT_STR(x) ZC__ACCEPT_STR_(x)
#define ZC__ACCEPT_PAUSE_TEXT ZC__ACCEPT_STR(ZC__ACCEPT_PAUSE_MS) " ms"

/* A connection on its way to a worker. In a batch, or, when it must wait,
 * a heap copy in its slot's queue (sticky.c). */
struct conn {
    struct conn *next;
    int fd;
    unsigned listener;
    unsigned home;              /* the slot its client hashes to */
    uint64_t since_us;          /* accepted at; its wait counts from here */
    unsigned client_port, server_port;
    bool proxied;               /* server is the PROXY header's */
    char client[ZC__ADDR_TEXT], server[ZC__ADDR_TEXT];
};

struct zc__accept;

/* Takes c[0..n): each fd is the callee's from here on. c is only valid
 * during the call (a batch that is reused). */
typedef void (*zc__accept_fn)(struct conn *c, size_t n, void *ud);

struct zc__accept_stats {
    uint64_t accept_pauses;     /* out of fds or memory */
    uint64_t closed_proxy;      /* bad, late or missing PROXY header */
};

/* Watches every listener of p, delivering what it accepts to deliver.
 * Returns 0 or -errno (logged but for -ENOMEM); *ret is set either way
 * once allocated, for zc__accept_free(). */
int zc__accept_start(struct zc__accept **ret, struct zc_primary *p,
                     zc__accept_fn deliver, void *ud);
/* The caller freed fds: if accepting paused for lack of them, go on now. */
void zc__accept_resume(struct zc__accept *a);
/* The caller has nowhere to put more connections (hold), or has again:
 * while held, connections wait in the kernel's backlog. */
void zc__accept_hold(struct zc__accept *a, bool hold);
/* Stops accepting for good; closes the connections still reading their
 * PROXY header and returns how many. */
uint64_t zc__accept_stop(struct zc__accept *a);
/* Before the loop waits: frees what the batch was done with. */
void zc__accept_before_poll(struct zc__accept *a);
void zc__accept_free(struct zc__accept *a);
const struct zc__accept_stats *zc__accept_stats(const struct zc__accept *a);
/* Whether PROXY headers are being read (an upgrade waits for none). */
bool zc__accept_reading(const struct zc__accept *a);
/* An upgraded image's acceptor goes on counting where the last stopped. */
void zc__accept_take_stats(struct zc__accept *a,
                           const struct zc__accept_stats *st);

#endif
