/*
 * A worker's registry in shared memory, read by the primary. The worker
 * may be buggy, or of another version, and can still be writing: each
 * descriptor is copied out before it is checked, every offset and length
 * is checked against the region, and a region that breaks the layout
 * (metrics/layout.h) is marked broken and never read again, so random
 * bytes can cost a log line and nothing else (tests/fuzz/fuzz-region.c).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "metrics/set-int.h"

#define NS ZC__MNS

static void view_broken(struct zc__mview *v, const char *why)
{
    if (!v->broken)
        zc_log(ZC_LOG_WARN, NS, "worker %llu: its metrics region is corrupt "
               "(%s); what it counts from now on is not shown",
               (unsigned long long) v->id, why);
    v->broken = true;
}

/* Strings packed in [s, end): n of them, each \0-terminated. */
static bool strings(const char *s, const char *end, unsigned n,
                    const char **out)
{
    for (unsigned i = 0; i < n; i++) {
        const char *z = memchr(s, '\0', (size_t) (end - s));

        if (!z)
            return false;
        out[i] = s;
        s = z + 1;
    }
    return true;
}

static int parse_family(struct zc__mview *v, const struct zc__mrec *rec,
                        const char *rec_bytes)
{
    const char *text = rec_bytes + sizeof(*rec), *str[3], *why;
    size_t dbl = (size_t) rec->n_buckets * sizeof(double);
    const char *end;
    struct vfam *vf;
    double *bounds = NULL;

    if (rec->family != v->n_fams)
        return -EBADMSG;
    if (rec->n_buckets > ZC__METRICS_MAX_BUCKETS ||
        rec->len - sizeof(*rec) < dbl)
        return -EBADMSG;
    end = rec_bytes + rec->len - dbl;
    if (!strings(text, end, 3, str))
        return -EBADMSG;
    if (!zc__mset_grow((void **) &v->fams, &v->cap_fams, v->n_fams,
                       sizeof(*v->fams)))
        return -ENOMEM;
    vf = &v->fams[v->n_fams++];
    *vf = (struct vfam) { .type = rec->type, .flags = rec->flags,
                          .n_buckets = rec->n_buckets };
    why = zc__metric_name_check(str[0]);
    if (!why && strncmp(str[0], "zcluster_", 9) == 0)
        why = "uses the fleet's own prefix";
    if (!why && (!zc__metric_type_known(rec->type) ||
                 (rec->flags & ~ZC_METRIC_PER_WORKER)))
        why = "has an unknown type or flags";
    if (!why && !zc__utf8_valid(str[1], strlen(str[1])))
        why = "has a help text that is not UTF-8";
    if (why) {
        zc__mview_conflict(v,
                           zc__metric_name_check(str[0]) ? "(invalid)" : str[0],
                           why);
        return 0;
    }
    /* Label names, comma-separated in the record, \0-separated here. */
    vf->names = strdup(str[2]);
    if (!vf->names)
        return -ENOMEM;
    if (*vf->names) {
        vf->n_labels = 1;
        for (char *c = vf->names; *c; c++)
            if (*c == ',') {
                *c = '\0';
                vf->n_labels++;
            }
    }
    for (uint32_t i = 0, off = 0; i < vf->n_labels; i++) {
        if (zc__label_name_check(vf->names + off) ||
            vf->n_labels > ZC__METRICS_MAX_LABELS) {
            zc__mview_conflict(v, str[0], "has an invalid label name");
            return 0;
        }
        off += (uint32_t) strlen(vf->names + off) + 1;
    }
    if (dbl) {
        bounds = malloc(dbl);
        if (!bounds)
            return -ENOMEM;
        memcpy(bounds, end, dbl);
        for (uint32_t i = 0; i < rec->n_buckets; i++)
            if (!isfinite(bounds[i]) || (i && bounds[i] <= bounds[i - 1])) {
                free(bounds);
                zc__mview_conflict(v, str[0], "has invalid bucket bounds");
                return 0;
            }
    }
    vf->bounds = bounds;
    vf->f = zc__mset_family(v, str[0], str[1], rec->type, rec->flags, bounds,
                            rec->n_buckets, rec->type == ZC_HISTOGRAM);
    return 0;
}

/* The sample of key, fed from cell: 0, or zc__mset_sample's -errno. */
static int contribute(struct zc__mview *v, struct mfam *f,
                      const struct zc__buf *key, const _Atomic uint64_t *cell,
                      int kind, bool cumulative)
{
    struct sample *s;
    int r;

    if (key->failed)
        return -ENOMEM;
    r = zc__mset_sample(v->m, f, key->data, key->len, &s);
    if (r < 0)
        return r;
    if (!zc__mset_grow((void **) &v->c, &v->cap_c, v->n_c, sizeof(*v->c)))
        return -ENOMEM;
    v->c[v->n_c++] = (struct contrib) { .s = s, .cell = cell,
                                        .kind = (uint8_t) kind,
                                        .cumulative = cumulative };
    return 0;
}

/* "name{a="x",b="y",le="0.5"}" into b. */
static void sample_key(struct zc__buf *b, const char *name, const char *suffix,
                       const struct vfam *vf, const char *const *values,
                       const char *extra)
{
    const char *n = vf->names;

    b->len = 0;
    zc__buf_printf(b, "%s%s", name, suffix);
    if (!vf->n_labels && !extra)
        return;
    zc__buf_add(b, "{", 1);
    for (uint32_t i = 0; i < vf->n_labels; i++) {
        zc__buf_printf(b, "%s%s=\"", i ? "," : "", n);
        zc__buf_escaped(b, values[i], true);
        zc__buf_add(b, "\"", 1);
        n += strlen(n) + 1;
    }
    if (extra)
        zc__buf_printf(b, "%s%s", vf->n_labels ? "," : "", extra);
    zc__buf_add(b, "}", 1);
}

static int parse_series(struct zc__mview *v, const struct zc__mrec *rec,
                        const char *rec_bytes)
{
    const char *values[ZC__METRICS_MAX_LABELS];
    const _Atomic uint64_t *cells;
    struct zc__buf key = { 0 };
    struct vfam *vf;
    struct mfam *f;
    uint64_t first;
    size_t n_c = v->n_c;
    int r = 0;

    if (rec->family >= v->n_fams)
        return -EBADMSG;
    vf = &v->fams[rec->family];
    first = (uint64_t) rec->cell * ZC__CELL_BYTES;
    if (first < sizeof(struct zc__mhead) ||
        first + zc__mcells(vf->type, vf->n_buckets) * 8ull > v->size)
        return -EBADMSG;
    if (!strings(rec_bytes + sizeof(*rec), rec_bytes + rec->len, vf->n_labels,
                 values))
        return -EBADMSG;
    if (!(f = vf->f))
        return 0;
    for (uint32_t i = 0; i < vf->n_labels; i++)
        if (!zc__utf8_valid(values[i], strlen(values[i]))) {
            zc__mview_conflict(v, f->name,
                               "has a label value that is not UTF-8");
            return 0;
        }
    cells = (const _Atomic uint64_t *) (const void *) (v->base + first);
    if (vf->type == ZC_GAUGE && (vf->flags & ZC_METRIC_PER_WORKER)) {
        char extra[64];

        snprintf(extra, sizeof(extra), "slot=\"%d\",worker=\"%llu\"", v->slot,
                 (unsigned long long) v->id);
        sample_key(&key, f->name, "", vf, values, extra);
        if (key.failed || !zc__mset_grow((void **) &v->pw, &v->cap_pw, v->n_pw,
                                         sizeof(*v->pw)))
            r = -ENOMEM;
        else
            v->pw[v->n_pw++] =
                (struct pw) { .f = f, .key = key.data, .cell = cells };
        if (r < 0)
            free(key.data);
        return r;
    }
    if (vf->type != ZC_HISTOGRAM) {
        sample_key(&key, f->name, "", vf, values, NULL);
        r = contribute(v, f, &key, cells,
                       vf->type == ZC_COUNTER ? C_U64 : C_F64,
                       vf->type == ZC_COUNTER);
    }
    for (uint32_t i = 0; vf->type == ZC_HISTOGRAM && !r && i <= vf->n_buckets;
         i++) {
        char le[48] = "le=\"+Inf\"";

        if (i < vf->n_buckets) {
            char num[40];

            zc__buf_double_text(num, sizeof(num), vf->bounds[i]);
            snprintf(le, sizeof(le), "le=\"%s\"", num);
        }
        sample_key(&key, f->name, "_bucket", vf, values, le);
        r = contribute(v, f, &key, &cells[i], i ? C_BUCKET : C_BUCKET0, true);
    }
    if (vf->type == ZC_HISTOGRAM && !r) {
        sample_key(&key, f->name, "_sum", vf, values, NULL);
        r = contribute(v, f, &key, &cells[vf->n_buckets + 1], C_F64, true);
    }
    if (vf->type == ZC_HISTOGRAM && !r) {
        sample_key(&key, f->name, "_count", vf, values, NULL);
        r = contribute(v, f, &key, NULL, C_COUNT, true);
    }
    free(key.data);
    /* A series counts whole or not at all: one left out, or read again at
     * the next collect after ENOMEM, must not leave half a histogram in
     * the view, nor count its buckets twice. */
    if (r < 0)
        v->n_c = n_c;
    /* The records after one left out are still read. */
    if (r == -EEXIST)
        zc__mview_conflict(v, f->name,
                           "has a sample whose name another family uses");
    return r == -EEXIST ? 0 : r;
}

/* Descriptors are copied out before they are checked: the worker could
 * still write them. */
void zc__mview_parse(struct zc__mview *v)
{
    const struct zc__mhead *h = (const void *) v->base;
    uint64_t end;
    char *copy = NULL;
    size_t copy_cap = 0;

    if (!v->base || v->broken)
        return;
    end = atomic_load_explicit(&((struct zc__mhead *) (void *) (uintptr_t) h)
                                    ->desc_end,
                               memory_order_acquire);
    if (end > v->size || end < v->parsed) {
        view_broken(v, "its end is out of bounds");
        return;
    }
    while (v->parsed < end) {
        struct zc__mrec rec;
        int r;

        if (end - v->parsed < sizeof(rec)) {
            view_broken(v, "a descriptor is cut short");
            break;
        }
        memcpy(&rec, v->base + v->parsed, sizeof(rec));
        if (rec.len < sizeof(rec) || rec.len % 8 || rec.len > end - v->parsed) {
            view_broken(v, "a descriptor has a bad length");
            break;
        }
        if (rec.len > copy_cap) {
            char *c = realloc(copy, rec.len);

            if (!c)
                break;      /* tried again at the next collect */
            copy = c;
            copy_cap = rec.len;
        }
        memcpy(copy, v->base + v->parsed, rec.len);
        memcpy(&rec, copy, sizeof(rec));
        if (rec.kind == ZC__MREC_FAMILY)
            r = parse_family(v, &rec, copy);
        else if (rec.kind == ZC__MREC_SERIES)
            r = parse_series(v, &rec, copy);
        else
            r = -EBADMSG;
        if (r == -ENOSPC)
            zc__mview_series_limit(v, "the fleet holds as many series as it "
                                   "may keep");
        if (r == -ENOMEM)
            break;
        if (r < 0 && r != -ENOSPC) {
            view_broken(v, "a descriptor does not parse");
            break;
        }
        v->parsed += rec.len;
    }
    free(copy);
}
