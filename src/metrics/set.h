/*
 * The primary's side of metrics: one view per worker registry (shared
 * memory, or the last text snapshot a worker sent), and the set of every
 * family and sample the fleet has shown, summed at exposition. Each view
 * is read by one of two parsers that trust nothing they read: region.c
 * for shared memory, text.c for text snapshots.
 */
#ifndef ZC_METRICS_SET_H
#define ZC_METRICS_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "metrics/layout.h"

struct zc__mset;        /* every family and series the fleet has shown */

/* What a worker's text snapshot may hold, and what the fleet keeps: past
 * either, new series are left out (said once per worker, counted), so
 * no worker can grow the primary without bound. A series, once shown, is
 * kept for the fleet's life, so that its sum never goes down. */
#define ZC__SNAPSHOT_SERIES_MAX 10000
#define ZC__FLEET_SERIES_MAX 50000
struct zc__mview;       /* one worker's registry, or text snapshot */

struct zc__mset *zc__mset_new(void);
void zc__mset_free(struct zc__mset *m);

/* A view of one registry in memory (base, size), for worker id/slot (id 0:
 * the primary's own). It is parsed at each collect. NULL on ENOMEM. */
struct zc__mview *zc__mview_new(struct zc__mset *m, uint64_t id, int slot,
                                const void *base, size_t size);
/*
 * Replaces the view's text snapshot with this one (Prometheus text format,
 * docs/protocol.md). Returns the samples taken; lines it cannot use are
 * skipped, and the first one is described in *why.
 */
int zc__mview_text(struct zc__mview *v, const char *text, size_t len,
                   const char **why, unsigned *line);
/* The worker is gone: what it counted moves into the fleet's retained
 * base, its gauges go. The memory is no longer read. */
void zc__mview_fold(struct zc__mview *v);
void zc__mview_free(struct zc__mview *v);

/* Parses what the registries published since last time, then writes
 * every family, summed over the views, in text format 0.0.4. */
void zc__mset_expose(struct zc__mset *m, struct zc__buf *out);
/* The series the fleet holds, and those it refused for the limit. */
size_t zc__mset_series(const struct zc__mset *m);
uint64_t zc__mset_refused(const struct zc__mset *m);

/* A series' retained base: what workers that are gone counted in it, with
 * its family, as an upgrade hands it to the next image. */
struct zc__mbase {
    const char *name, *help;
    int type;
    uint32_t flags;
    bool has_bounds;
    const double *bounds;
    uint32_t n_buckets;
    const char *key; /* the series' labels, as the set keys them */
    size_t key_len;
    double base;
};

/* Each series whose base is not 0, families in their order. */
void zc__mset_each_base(const struct zc__mset *m,
                        void (*fn)(void *arg, const struct zc__mbase *b),
                        void *arg);
/* Adds b's base to its series, made if new. 0 or -errno. */
int zc__mset_add_base(struct zc__mset *m, const struct zc__mbase *b);

/* Reads what v's registry published since the last time (region.c). */
void zc__mview_parse(struct zc__mview *v);

#endif
