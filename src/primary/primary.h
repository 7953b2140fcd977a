/* The primary: worker table, spawn, respawn with backoff, shutdown. */
#ifndef ZC_PRIMARY_H
#define ZC_PRIMARY_H

#include <stdint.h>

#include "zcluster.h"

/*
 * Delay before the respawn that follows the crashes-th crash in a row:
 * base * factor^(crashes-1), capped at cap. Saturates instead of
 * overflowing, so any factor and count are safe.
 */
uint64_t zc__backoff_ms(uint32_t base_ms, double factor, uint32_t cap_ms,
                        unsigned crashes);

/* Checks o (after defaults are applied). Returns 0 or -EINVAL, having
 * logged what is wrong. */
int zc__options_validate(const zc_options *o);

/* Runs the primary until shutdown. Returns an exit status (see
 * zc_cluster_run). */
int zc__primary_run(char **argv, const zc_options *o, void *arg);

#endif
