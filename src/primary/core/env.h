/* What a worker process is given: environment and executable (env.c). */
#ifndef ZC_ENV_H
#define ZC_ENV_H

#include <stdbool.h>
#include <stddef.h>

#include "primary/core/fleet.h"

/* Listening sockets a worker gets: none in sticky mode, where the
 * primary accepts. */
size_t zc__env_worker_listeners(const struct zc_primary *p);
/* Builds p->env once the listeners are open. Returns 0 or -ENOMEM. */
int zc__env_init(struct zc_primary *p);
/* Frees what zc__env_init() made; it may be called again after. */
void zc__env_free(struct zc_primary *p);
/* Whether e (KEY=VALUE) is one of the worker protocol's variables, which
 * the primary sets for each worker and never passes on. */
bool zc__env_reserved(const char *e);
/* Fills in w's values (metrics: it gets ZC_METRICS_FD); returns where
 * the child writes its pid for LISTEN_PID, or NULL when it has none. */
char *zc__env_prepare(struct zc_primary *p, const struct worker *w,
                      bool metrics, char **watchdog_pid);
/* The path the next worker executes, into buf. Returns 0 or -errno. */
int zc__env_resolve_exec(struct zc_primary *p, char *buf, size_t size);
/* p->self_path from argv0 (library mode). Returns 0 or -errno. */
int zc__env_self_path(struct zc_primary *p, const char *argv0);
/* The primary's own binary as an upgrade executes it: argv0 made
 * absolute, found in PATH if it has no '/', symlinks kept (into *out,
 * malloc'ed). 0 or -errno. */
int zc__env_own_path(const char *argv0, char **out);

#endif
