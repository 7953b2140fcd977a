/* A delay that grows with each failure in a row (backoff.c). */
#ifndef ZC_BACKOFF_H
#define ZC_BACKOFF_H

#include <stdint.h>

/*
 * The delay after the n-th failure in a row: base * factor^(n-1), capped
 * at cap (n 0 counts as 1). Saturates instead of overflowing, so any
 * factor and count are safe. Pure. The respawns use it, and the queue
 * watch for the tries of a worker it steered around.
 */
uint64_t zc__backoff_ms(uint32_t base_ms, double factor, uint32_t cap_ms,
                        unsigned n);

#endif
