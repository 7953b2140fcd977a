/* Least-connections balancing (leastconn.c): zc__least_router (router.h). */
#ifndef ZC_LEASTCONN_H
#define ZC_LEASTCONN_H

#include <stdint.h>

#include "primary/core/fleet.h"

/* w's open connections: handed to it, less those it said it closed. */
uint64_t zc__least_open(const struct worker *w);

#endif
