/* What sticky sessions keep on each slot and worker (sticky.c owns these
 * fields; the core only embeds them). */
#ifndef ZC_STICKY_T_H
#define ZC_STICKY_T_H

#include <stdbool.h>

#include "base/loop.h"

struct conn;

struct sticky_slot {
    /* connections waiting for this slot's worker, oldest first, and the
     * deadline of the oldest */
    struct conn *wait_head, *wait_tail;
    unsigned n_waiting;
    struct zc__timer wait_timer;
    bool down;                  /* waited out: its clients go elsewhere */
};

struct sticky_worker {
    bool blocked;               /* its link took no more: EPOLLOUT says when */
};

#endif
