/* The workers' output through the primary: --output prefix|json
 * (output.c). Nothing here when the output is inherited. */
#ifndef ZC_OUTPUT_H
#define ZC_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "primary/core/fleet.h"

/* The longest line written whole; longer ones go in parts. */
#define ZC__OUTPUT_LINE_MAX 16384
/* Queued for the primary's stdout and stderr: past HIGH reading stops
 * (or, with drop, the workers' lines are dropped) until LOW. With wait
 * no worker line is dropped: the queue passes HIGH by what one read (64
 * KiB) and a dying worker's last words made at most. The primary's own
 * lines are dropped past HARD only. */
#define ZC__OUTPUT_QUEUE_HIGH (256 * 1024)
#define ZC__OUTPUT_QUEUE_LOW (64 * 1024)
#define ZC__OUTPUT_QUEUE_HARD (4 * 1024 * 1024)
/* The recent lines kept for `zclusterctl logs`, whatever the fleet's
 * size. */
#define ZC__OUTPUT_RING (1024 * 1024)

struct zc__output_stats {
    uint64_t lines;   /* read from workers and written or queued */
    uint64_t bytes;   /* read from workers */
    uint64_t dropped; /* lines dropped: overflow, a dead stdout */
    uint64_t waits;   /* times reading stopped for a slow reader */
    size_t queued;    /* bytes waiting to be written */
    size_t ring_bytes, ring_lines;
    bool paused;
};

/* At set-up, before the first worker: the destinations opened, the
 * primary's log routed through them. 0 or -ENOMEM. */
int zc__output_start(struct zc_primary *p);
void zc__output_stop(struct zc_primary *p);
/* A worker's pipes before its spawn: child (its stdout, stderr) and ours;
 * all -1 when the output is inherited. 0 or -errno. */
int zc__output_pipes(struct zc_primary *p, int child[2], int ours[2]);
/* Closes those of fds that are open, and marks them -1. */
void zc__output_close(int fds[2]);
/* Spawned: our ends are read for w from now on (and owned here). */
void zc__output_attach(struct zc_primary *p, struct worker *w, int ours[2]);
/* Reaped: what it wrote is read and written now, before its exit is
 * logged; its pipes stay open while its children hold them. */
void zc__output_worker_exited(struct zc_primary *p, struct worker *w);
/* Before the loop waits: frees the pipes read to their end in its batch. */
void zc__output_reap(struct zc_primary *p);
/* The last `last` lines of the ring whose slot want() accepts. */
void zc__output_recent(const struct zc_primary *p, size_t last,
                       int (*want)(void *arg, unsigned slot),
                       void (*fn)(void *arg, const char *s, size_t n),
                       void *arg);
/* A pipe as an upgrade hands it over: whose it is, and the unfinished
 * line it holds (held, n_held: valid until the output changes). */
struct zc__output_pipe {
    int fd;
    bool err; /* stderr */
    unsigned slot;
    uint64_t id, gen;
    pid_t pid;
    bool has_worker; /* false: its worker was reaped, its children
                               still hold it */
    const char *held;
    size_t n_held;
    unsigned part;
};

void zc__output_each_pipe(const struct zc_primary *p,
                          void (*fn)(void *arg, const struct zc__output_pipe *),
                          void *arg);
/* Reads d->fd (taken, even on failure) from now on for w, or for the
 * children of a reaped worker when w is NULL. 0 or -ENOMEM. */
int zc__output_adopt(struct zc_primary *p, struct worker *w,
                     const struct zc__output_pipe *d);
/* Writes every queued line now, waiting ms at most for a slow reader:
 * before the image is replaced, so that nothing queued is lost. */
void zc__output_write_out(struct zc_primary *p, unsigned ms);
/* The recent lines as an upgrade hands them over: each, oldest first;
 * and one kept again in the next image, as if just written. */
void zc__output_each_recent(const struct zc_primary *p,
                            void (*fn)(void *arg, unsigned slot, const char *s,
                                       size_t n),
                            void *arg);
void zc__output_keep_recent(struct zc_primary *p, unsigned slot, const char *s,
                            size_t n);
/* false when the output is inherited. */
bool zc__output_stats(const struct zc_primary *p, struct zc__output_stats *st);
/* "prefix", "json" or "inherit": what the fleet does. */
const char *zc__output_mode(const struct zc_primary *p);

#endif
