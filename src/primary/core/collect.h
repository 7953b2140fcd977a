/* Collecting the workers' metrics (collect.c). */
#ifndef ZC_COLLECT_H
#define ZC_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>

#include "base/buf.h"
#include "primary/core/fleet.h"

struct zc__metrics {
    struct zc_primary *p;
    struct zc__mset *set;           /* every worker's, summed */
    /* Called when a round ends, so that scrapes waiting for it go on
     * (set by endpoint.c, which owns those scrapes); NULL: none. */
    void (*round_ended)(void *ud);
    void *round_ended_ud;
    struct zc__mview *own;          /* the primary's own registry */
    struct zc__timer round_timer;
    bool round;                     /* waiting for text snapshots */
    unsigned collecting;            /* workers asked and not answered */
    uint64_t ipc_sent_gone, ipc_received_gone; /* by workers gone */
};

/* Sets up p->metrics (with zc_options.metrics). Returns 0 or -ENOMEM. */
int zc__collect_start(struct zc_primary *p);
void zc__collect_stop(struct zc_primary *p);
/* A worker is about to be spawned: its shared registry, and the fd to
 * place in it (-1: none). Returns 0 or -errno (logged; not fatal). */
int zc__collect_spawning(struct zc_primary *p, struct worker *w, int *ret_fd);
/* The worker has started (or could not): the fd given to it is kept
 * for an upgrade while its registry is mapped, else closed. */
void zc__collect_spawned(struct zc_primary *p, struct worker *w, int fd);
/* A worker an upgrade handed over: its registry's memfd (taken, even on
 * failure) mapped again and read from its start. 0 or -errno. */
int zc__collect_adopt(struct zc_primary *p, struct worker *w, int fd);
/* A worker's text snapshot ("zc.metrics"). */
void zc__collect_text(struct zc_primary *p, struct worker *w, const void *data,
                      size_t len);
/* A worker was reaped (ru: its resources, or NULL): keep what it counted. */
void zc__collect_exited(struct zc_primary *p, struct worker *w,
                        const struct rusage *ru);
/* A scrape arrived: true when it must wait for workers that report by
 * message (round_ended is called when they have answered, or at
 * metrics_wait_ms). */
bool zc__collect_scrape_wait(struct zc_primary *p);
/* What reporters may know of the collection: the IPC counts of workers
 * gone (kept only with --metrics) and the series held and refused. */
struct collect_snapshot {
    bool on; /* --metrics: collecting at all */
    uint64_t ipc_sent_gone, ipc_received_gone;
    uint64_t series, refused;
};
void zc__collect_snapshot(const struct zc_primary *p,
                          struct collect_snapshot *out);
/* CPU time of slot s's workers that have exited, in seconds. */
double zc__collect_cpu_gone(const struct slot *s);
/* Every worker's metrics, summed, in text format 0.0.4. */
void zc__collect_render(struct zc_primary *p, struct zc__buf *out);

#endif
