/*
 * Inside the primary's metrics set: its families and samples, and what a
 * view holds. Shared by table.c (the set's hash tables), region.c and
 * text.c (the two parsers) and set.c (views and exposition); nothing
 * outside src/metrics/ includes it.
 */
#ifndef ZC_METRICS_SET_INT_H
#define ZC_METRICS_SET_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics/set.h"

#define ZC__MNS "zc:metrics"
#define T_UNTYPED 3
#define T_SUMMARY 4

struct sample {
    struct sample *next;        /* the family's, in first-seen order */
    struct sample *hnext;
    struct mfam *f;
    char *key;
    size_t key_len;
    double base;                /* counted by workers that are gone */
    double acc;                 /* the sum, during an exposition */
    double prev;                /* its count in the snapshot a view is
                                   replacing (text.c), while has_prev */
    bool has_prev;
    bool seen;                  /* a live view has it, this exposition */
};

struct mfam {
    struct mfam *next, *hnext;
    char *name;
    char *help;
    int type;
    uint32_t flags;
    uint32_t n_buckets;         /* from a registry: every one must agree */
    double *bounds;
    bool has_bounds;
    struct sample *first, *last;
};

/* How a contribution reads its cell. A histogram's contributions are
 * consecutive: its buckets (cumulated as they are read), sum, count. */
enum { C_U64, C_F64, C_BUCKET0, C_BUCKET, C_COUNT };

struct contrib {
    struct sample *s;
    const _Atomic uint64_t *cell;
    uint8_t kind;
    bool cumulative;            /* kept in the base when the worker goes */
};

/* A per-worker gauge series: its own key, with slot and worker. */
struct pw {
    struct mfam *f;
    char *key;
    const _Atomic uint64_t *cell;
};

struct tsample {
    struct sample *s;
    double v;
    bool cumulative;
};

struct vfam {
    struct mfam *f;             /* NULL: left out (conflicting, invalid) */
    int type;
    uint32_t flags, n_buckets, n_labels;
    char *names;                /* label names, each \0-terminated */
    double *bounds;
};

struct zc__mview {
    struct zc__mset *m;
    struct zc__mview *prev, *next;
    uint64_t id;
    int slot;
    const char *base;           /* NULL: text snapshots only */
    size_t size;
    uint64_t parsed;
    bool broken;                /* logged; not parsed any further */
    bool warned;                /* a conflict was logged */
    struct vfam *fams;
    size_t n_fams, cap_fams;
    struct contrib *c;
    size_t n_c, cap_c;
    struct pw *pw;
    size_t n_pw, cap_pw;
    struct tsample *text;
    size_t n_text;
    bool said_limit;            /* a series limit was logged */
};

struct table {
    void **b;
    size_t cap, n;
};

struct zc__mset {
    struct mfam *first, *last;
    struct table fams, samples;
    struct zc__mview *views;
    uint64_t refused;           /* series not added: the set was full */
};

/* -- table.c --------------------------------------------------------------- */

/* "counter", "gauge", ... for a ZC_* or T_* type; "?" for others. */
const char *zc__mset_type_name(int type);
/* Makes room for element n of *arr (of *cap, each size bytes), doubling. */
bool zc__mset_grow(void **arr, size_t *cap, size_t n, size_t size);
/* The family name means for this view: found, or added; NULL (said once
 * per view) when it conflicts with what other workers said it is. */
struct mfam *zc__mset_family(struct zc__mview *v, const char *name,
                             const char *help, int type, uint32_t flags,
                             const double *bounds, uint32_t n_b,
                             bool check_bounds);
/* The sample with this key in *out, added to f if new: 0, -EEXIST if
 * the key belongs to another family (a histogram's "h_sum" and a counter
 * named so), -ENOSPC at the fleet's series limit, or -ENOMEM. */
int zc__mset_sample(struct zc__mset *m, struct mfam *f, const char *key,
                    size_t len, struct sample **out);
/* New series of this view left out for a limit (why): said once. */
void zc__mview_series_limit(struct zc__mview *v, const char *why);
/* A family or sample this view cannot take part in: said once per view. */
void zc__mview_conflict(struct zc__mview *v, const char *name, const char *why);

#endif
