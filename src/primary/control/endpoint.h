/* The metrics endpoint: /metrics, /healthz, /readyz (endpoint.c). */
#ifndef ZC_ENDPOINT_H
#define ZC_ENDPOINT_H

#include "base/buf.h"

#include "primary/core/fleet.h"

/* Serves at p->opt.metrics, after zc__collect_start(). Returns 0 or
 * -errno (logged). */
int zc__endpoint_start(struct zc_primary *p);
void zc__endpoint_stop(struct zc_primary *p);
/* Its listening socket, for an upgrade to hand over; -1 without one. */
int zc__endpoint_listen_fd(const struct zc_primary *p);
/* The /metrics text (the workers' families only with --metrics), also
 * without an endpoint: the control socket serves it too. */
void zc__endpoint_render(struct zc_primary *p, struct zc__buf *out);

#endif
