/* The metrics endpoint: /metrics, /healthz, /readyz (endpoint.c). */
#ifndef ZC_ENDPOINT_H
#define ZC_ENDPOINT_H

#include "primary/fleet.h"

/* Serves at p->opt.metrics, after zc__collect_start(). Returns 0 or
 * -errno (logged). */
int zc__endpoint_start(struct zc_primary *p);
void zc__endpoint_stop(struct zc_primary *p);

#endif
