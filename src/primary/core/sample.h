/* A worker's CPU time and resident memory, from /proc (sample.c). */
#ifndef ZC_SAMPLE_H
#define ZC_SAMPLE_H

#include <stdbool.h>
#include <stdint.h>

#include "primary/core/fleet.h"

/* w's CPU time (ns) and resident pages (proc: zc__proc_open() or -1),
 * read again only when the last read is a second old. False when it is
 * reaped or /proc could not be read. */
bool zc__sample_worker(struct worker *w, int proc, uint64_t now,
                       uint64_t *cpu_ns, long long *pages);

#endif
