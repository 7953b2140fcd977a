/*
 * Metrics: the layout of a registry in memory, shared by a worker (which
 * writes it) and its primary (which reads it), and the primary's side,
 * which merges every worker's registry into one exposition.
 *
 * A registry is one region: a header, then descriptors growing up from
 * the header, then value cells growing down from the end. A worker appends
 * a descriptor (a family, or one label set of a family) and only then
 * publishes the new end with a release store; the primary reads the end
 * with an acquire load and parses what it has not seen, trusting nothing
 * in it: the worker may be buggy, or a different version. Cells are
 * 8-byte atomics the worker updates with relaxed operations; the primary
 * maps the same memory, so a value counted is a value seen, even when the
 * worker is killed with SIGKILL right after counting it.
 */
#ifndef ZC_METRICS_H
#define ZC_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zcluster.h"

#define ZC__METRICS_MAGIC 0x314d435au  /* "ZCM1" */
#define ZC__METRICS_VERSION 1
#define ZC__METRICS_MIN_SIZE 4096
#define ZC__METRICS_MAX_LABELS 16
#define ZC__METRICS_MAX_BUCKETS 64
#define ZC__METRICS_NAME_MAX 200

struct zc__mhead {
    uint32_t magic;
    uint32_t version;
    uint64_t size;                  /* of the whole region */
    _Atomic uint64_t desc_end;      /* offset: descriptors published so far */
    /* Connections the primary handed to this worker that it has closed
     * (zc_worker_conn_closed), for least-conn balancing. Was reserved (0)
     * in the first workers of this version: they simply never count. */
    _Atomic uint64_t conns_closed;
    /* Watchdog pings (--watchdog): the worker's library adds one each time
     * its loop turns; the primary only looks whether it moved. Reserved
     * (0) before: such workers are simply never watched by it. */
    _Atomic uint64_t pings;
    uint64_t reserved[3];
};

enum { ZC__MREC_FAMILY = 1, ZC__MREC_SERIES = 2 };

/* A descriptor. len is a multiple of 8, so the next one stays aligned.
 * Family: name\0help\0labelnames (comma-separated)\0, padded to 8, then
 * n_buckets doubles. Series: one \0-terminated value per label name. */
struct zc__mrec {
    uint32_t len;
    uint16_t kind;          /* ZC__MREC_* */
    uint16_t type;          /* family: ZC_COUNTER, ZC_GAUGE, ZC_HISTOGRAM */
    uint32_t family; /* family: its id (0, 1, ...); series: its family's */
    uint32_t flags;         /* family: ZC_METRIC_* flags */
    uint32_t n_buckets;     /* family: histogram bounds, +Inf not counted */
    uint32_t cell;          /* series: its first cell, in 8-byte units */
};

/* A cell's size: every counter, gauge, bucket and sum is one 8-byte atomic,
 * and layout offsets count in cells. */
#define ZC__CELL_BYTES sizeof(uint64_t)

/* Cells per series: a histogram has its buckets (+Inf last, counts not
 * cumulative) and then its sum (double bits). */
static inline uint32_t zc__mcells(int type, uint32_t n_buckets)
{
    return type == ZC_HISTOGRAM ? n_buckets + 2 : 1;
}

/* Whether type is a ZC_COUNTER, ZC_GAUGE or ZC_HISTOGRAM, whatever their
 * values' order. */
static inline bool zc__metric_type_known(int type)
{
    switch (type) {
    case ZC_COUNTER: case ZC_GAUGE: case ZC_HISTOGRAM: return true;
    default: return false;
    }
}

/* Prometheus names. Each returns NULL when s is valid, else why not. */
const char *zc__metric_name_check(const char *s);
const char *zc__label_name_check(const char *s);
bool zc__utf8_valid(const char *s, size_t len);

/* This process's own registry, once something has been registered in it
 * (a library-mode primary's metrics are served with the fleet's). */
bool zc__metrics_own_region(const void **base, size_t *size);

/* The watchdog ping cell of this worker's region shared with its primary,
 * mapping it if need be; NULL without one (no ZC_METRICS_FD). */
_Atomic uint64_t *zc__metrics_ping_cell(void);

/* Writes the header of a fresh (zeroed) region. */
void zc__metrics_format(void *base, size_t size);

#endif
