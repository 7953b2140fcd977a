/*
 * The primary's side of metrics: one view per worker registry, and the
 * set of every family and sample the fleet has shown, summed at
 * exposition.
 *
 * The sum is taken at sample level: a sample is the text before its value
 * ("http_requests_total{code=\"200\"}"), its value the retained base plus
 * what each live view holds. When a worker goes, the views's counters and
 * histogram samples move into the base, so the sum never goes down across
 * restarts and reloads (the spec adds every periodic snapshot to the
 * total instead, counting the same requests again and again).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/list.h"
#include "metrics/set-int.h"

struct zc__mset *zc__mset_new(void)
{
    return calloc(1, sizeof(struct zc__mset));
}

void zc__mset_free(struct zc__mset *m)
{
    if (!m)
        return;
    while (m->views)
        zc__mview_free(m->views);
    for (struct mfam *f = m->first, *fn; f; f = fn) {
        for (struct sample *s = f->first, *sn; s; s = sn) {
            sn = s->next;
            free(s->key);
            free(s);
        }
        fn = f->next;
        free(f->name);
        free(f->help);
        free(f->bounds);
        free(f);
    }
    free(m->fams.b);
    free(m->samples.b);
    free(m);
}

struct zc__mview *zc__mview_new(struct zc__mset *m, uint64_t id, int slot,
                                const void *base, size_t size)
{
    struct zc__mview *v = calloc(1, sizeof(*v));

    if (!v)
        return NULL;
    v->m = m;
    v->id = id;
    v->slot = slot;
    v->base = base;
    v->size = size;
    v->parsed = sizeof(struct zc__mhead);
    ZC__LIST_PUSH(m->views, v);
    return v;
}

static double bits_double(uint64_t u)
{
    double d;

    memcpy(&d, &u, sizeof(d));
    return d;
}

/* Calls fn(s, value, cumulative) for each of the view's samples. */
static void view_values(const struct zc__mview *v,
                        void (*fn)(struct sample *, double, bool))
{
    uint64_t running = 0;

    for (size_t i = 0; i < v->n_c; i++) {
        const struct contrib *c = &v->c[i];
        double val;

        switch (c->kind) {
        case C_U64:
            val = (double) atomic_load_explicit(c->cell, memory_order_relaxed);
            break;
        case C_F64:
            val = bits_double(
                atomic_load_explicit(c->cell, memory_order_relaxed));
            break;
        case C_BUCKET0:
            running = 0;
            /* fall through */
        case C_BUCKET:
            running += atomic_load_explicit(c->cell, memory_order_relaxed);
            val = (double) running;
            break;
        default:    /* C_COUNT: the +Inf bucket, read in the same pass */
            val = (double) running;
            break;
        }
        fn(c->s, val, c->cumulative);
    }
    for (size_t i = 0; i < v->n_text; i++)
        fn(v->text[i].s, v->text[i].v, v->text[i].cumulative);
}

static void add_acc(struct sample *s, double v, bool cumulative)
{
    (void) cumulative;
    s->acc += v;
    s->seen = true;
}

static void add_base(struct sample *s, double v, bool cumulative)
{
    if (cumulative)
        s->base += v;
}

void zc__mview_fold(struct zc__mview *v)
{
    zc__mview_parse(v);
    view_values(v, add_base);
    for (size_t i = 0; i < v->n_pw; i++)
        free(v->pw[i].key);
    v->n_c = 0;
    v->n_text = 0;
    v->n_pw = 0;
    v->base = NULL;
}

void zc__mview_free(struct zc__mview *v)
{
    if (!v)
        return;
    ZC__LIST_REMOVE(v->m->views, v);
    for (size_t i = 0; i < v->n_fams; i++) {
        free(v->fams[i].names);
        free(v->fams[i].bounds);
    }
    for (size_t i = 0; i < v->n_pw; i++)
        free(v->pw[i].key);
    free(v->fams);
    free(v->c);
    free(v->pw);
    free(v->text);
    free(v);
}

void zc__mset_expose(struct zc__mset *m, struct zc__buf *out)
{
    for (struct zc__mview *v = m->views; v; v = v->next)
        zc__mview_parse(v);
    for (struct mfam *f = m->first; f; f = f->next)
        for (struct sample *s = f->first; s; s = s->next) {
            s->acc = s->base;
            s->seen = false;
        }
    for (struct zc__mview *v = m->views; v; v = v->next)
        view_values(v, add_acc);
    for (struct mfam *f = m->first; f; f = f->next) {
        /* A gauge no live worker has is gone; counts stay. */
        bool counts = f->type == ZC_COUNTER || f->type == ZC_HISTOGRAM ||
                      f->type == T_SUMMARY;
        bool any = false;

        for (struct sample *s = f->first; s && !any; s = s->next)
            any = counts || s->seen;

        for (struct zc__mview *v = m->views; v && !any; v = v->next)
            for (size_t i = 0; i < v->n_pw && !any; i++)
                any = v->pw[i].f == f;
        if (!any)
            continue;
        if (*f->help) {
            zc__buf_printf(out, "# HELP %s ", f->name);
            zc__buf_escaped(out, f->help, false);
            zc__buf_add(out, "\n", 1);
        }
        zc__buf_printf(out, "# TYPE %s %s\n", f->name,
                       zc__mset_type_name(f->type));
        for (struct sample *s = f->first; s; s = s->next) {
            if (!counts && !s->seen)
                continue;
            zc__buf_add(out, s->key, s->key_len);
            zc__buf_add(out, " ", 1);
            zc__buf_value(out, s->acc);
            zc__buf_add(out, "\n", 1);
        }
        if (!(f->flags & ZC_METRIC_PER_WORKER))
            continue;
        for (struct zc__mview *v = m->views; v; v = v->next)
            for (size_t i = 0; i < v->n_pw; i++) {
                if (v->pw[i].f != f)
                    continue;
                zc__buf_printf(out, "%s ", v->pw[i].key);
                zc__buf_value(out, bits_double(atomic_load_explicit(
                    v->pw[i].cell, memory_order_relaxed)));
                zc__buf_add(out, "\n", 1);
            }
    }
}

void zc__mset_each_base(const struct zc__mset *m,
                        void (*fn)(void *arg, const struct zc__mbase *b),
                        void *arg)
{
    for (const struct mfam *f = m->first; f; f = f->next)
        for (const struct sample *s = f->first; s; s = s->next) {
            struct zc__mbase b = {
                .name = f->name,
                .help = f->help,
                .type = f->type,
                .flags = f->flags,
                .has_bounds = f->has_bounds,
                .bounds = f->bounds,
                .n_buckets = f->n_buckets,
                .key = s->key,
                .key_len = s->key_len,
                .base = s->base,
            };

            if (s->base != 0)
                fn(arg, &b);
        }
}

int zc__mset_add_base(struct zc__mset *m, const struct zc__mbase *b)
{
    /* A view of nobody's, only to say a conflict (there can be none: the
     * families came from a set that held them together). */
    struct zc__mview v = { .m = m, .slot = -1 };
    struct sample *s;
    struct mfam *f;
    int r;

    if (b->has_bounds && b->n_buckets && !b->bounds)
        return -EINVAL;
    f = zc__mset_family(&v, b->name, b->help, b->type, b->flags, b->bounds,
                        b->n_buckets, b->has_bounds);
    if (!f)
        return -EINVAL;
    r = zc__mset_sample(m, f, b->key, b->key_len, &s);
    if (r < 0)
        return r;
    s->base += b->base;
    return 0;
}
