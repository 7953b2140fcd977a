/* Whether a slot's worker takes what waits on its sockets (stuck.c): the
 * judgement alone, from what the watch saw, pure with respect to the
 * clock so that tests drive it with a fake one. */
#ifndef ZC_STUCK_H
#define ZC_STUCK_H

#include "primary/core/balance-t.h"

/* How often the watch looks while connections wait somewhere. */
#define ZC__WATCH_TICK_MS 100
/* Connections waiting this long with none taken: the worker is out. A
 * worker that said it is ready (READY=1, Node's "listening") or was seen
 * taking one may be busy for a moment (a collection, a burst); one ready
 * by a timer's guess and never seen taking one is given a tick: under a
 * closed-loop load a deaf socket draws every client within milliseconds,
 * and each of them waits until the watch acts. */
#define ZC__STUCK_AFTER_MS 500
#define ZC__STUCK_UNPROVEN_MS 100
/* Out, not stopped: steered to again after this, doubled each time it is
 * found stuck again, up to the max; a worker that takes one is back. */
#define ZC__STUCK_RETRY_MS 1000
#define ZC__STUCK_RETRY_MAX_MS 30000
/* Out, its queue not movable (no eBPF) and not stopped: what waits there
 * is reset after this rather than left to time out, or at once if the
 * worker was never seen taking one; a stopped worker keeps it for when it
 * is continued. */
#define ZC__STUCK_RESET_MS 2000

/* A slot's sockets at a tick. */
struct stuck_seen {
    unsigned queued;  /* connections in their accept queues */
    bool counted;     /* steered is known (eBPF round-robin) */
    uint64_t steered; /* sent to the slot by the program, ever */
};

enum stuck_verdict {
    STUCK_IDLE,  /* nothing waits */
    STUCK_TAKES, /* it took some since the last look */
    STUCK_WAITS, /* some wait, none taken yet */
    STUCK_DEAF,  /* none taken for ZC__STUCK_AFTER_MS */
};

/* Judges s from seen at now_us and remembers seen for the next look;
 * trusted: its worker said it is ready (it gets ZC__STUCK_AFTER_MS even
 * before it is seen taking one). */
enum stuck_verdict zc__stuck_judge(struct stuck_slot *s,
                                   const struct stuck_seen *seen, bool trusted,
                                   uint64_t now_us);
/* The queue was emptied by us (moved, reset): seen is the new base, so
 * what left is not taken for the worker's doing. */
void zc__stuck_rebase(struct stuck_slot *s, const struct stuck_seen *seen);
/* Back in the steering (continued, tried again, or it took one): what
 * waited while it was out does not count against it; its wait starts at
 * the next look. */
void zc__stuck_back(struct stuck_slot *s);
/* A new worker in the slot: judged afresh. */
void zc__stuck_reset(struct stuck_slot *s, uint64_t worker);
/* How long the tries-th take-out lasts before the worker is tried. */
uint64_t zc__stuck_retry_ms(unsigned tries);

#endif
