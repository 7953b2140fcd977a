/*
 * The primary's side of metrics: one view per worker registry (shared
 * memory, or the last text snapshot a worker sent), and the set of every
 * family and sample the fleet has shown, summed at exposition.
 *
 * The sum is taken at sample level: a sample is the text before its value
 * ("http_requests_total{code=\"200\"}"), its value the retained base plus
 * what each live view holds. When a worker goes, the views's counters and
 * histogram samples move into the base, so the sum never goes down across
 * restarts and reloads (the spec adds every periodic snapshot to the
 * total instead, counting the same requests again and again).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"

#define NS "zc:metrics"
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
};

struct table {
    void **b;
    size_t cap, n;
};

struct zc__mset {
    struct mfam *first, *last;
    struct table fams, samples;
    struct zc__mview *views;
};

/* -- text buffer ---------------------------------------------------------- */

static bool buf_reserve(struct zc__buf *b, size_t n)
{
    size_t cap;
    char *d;

    if (b->failed)
        return false;
    if (b->cap - b->len > n)
        return true;
    cap = b->cap ? b->cap : 4096;
    while (cap - b->len <= n)
        cap *= 2;
    d = realloc(b->data, cap);
    if (!d) {
        b->failed = true;
        return false;
    }
    b->data = d;
    b->cap = cap;
    return true;
}

void zc__buf_add(struct zc__buf *b, const char *s, size_t n)
{
    if (!buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void zc__buf_printf(struct zc__buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !buf_reserve(b, (size_t) n))
        return;
    va_start(ap, fmt);
    (void) vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t) n;
}

/* The shortest text that reads back as v. */
static void format_double(char *out, size_t size, double v)
{
    if (isnan(v))
        snprintf(out, size, "NaN");
    else if (isinf(v))
        snprintf(out, size, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 1e15)
        snprintf(out, size, "%.0f", v);
    else {
        snprintf(out, size, "%.15g", v);
        if (strtod(out, NULL) != v)
            snprintf(out, size, "%.17g", v);
    }
}

void zc__buf_value(struct zc__buf *b, double v)
{
    char s[40];

    format_double(s, sizeof(s), v);
    zc__buf_add(b, s, strlen(s));
}

/* A label value or help text, escaped as the text format wants. */
void zc__buf_escaped(struct zc__buf *b, const char *s, bool quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            zc__buf_add(b, "\\\\", 2);
        else if (*s == '\n')
            zc__buf_add(b, "\\n", 2);
        else if (*s == '"' && quote)
            zc__buf_add(b, "\\\"", 2);
        else
            zc__buf_add(b, s, 1);
    }
}

/* -- tables --------------------------------------------------------------- */

static uint64_t hash(const char *k, size_t len)
{
    uint64_t h = 1469598103934665603ull;

    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char) k[i]) * 1099511628211ull;
    return h;
}

static struct mfam *fam_find(struct zc__mset *m, const char *name)
{
    if (!m->fams.cap)
        return NULL;
    for (struct mfam *f = m->fams.b[hash(name, strlen(name)) & (m->fams.cap - 1)];
         f; f = f->hnext)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

static struct sample *sample_find(struct zc__mset *m, const char *key, size_t len)
{
    if (!m->samples.cap)
        return NULL;
    for (struct sample *s = m->samples.b[hash(key, len) & (m->samples.cap - 1)];
         s; s = s->hnext)
        if (s->key_len == len && memcmp(s->key, key, len) == 0)
            return s;
    return NULL;
}

/* Links e in front of head and returns e's old successor. */
static void *fam_relink(void *e, void *head)
{
    struct mfam *f = e, *old = f->hnext;

    f->hnext = head;
    return old;
}

static void *sample_relink(void *e, void *head)
{
    struct sample *s = e, *old = s->hnext;

    s->hnext = head;
    return old;
}

static uint64_t fam_hash(const void *e)
{
    const struct mfam *f = e;

    return hash(f->name, strlen(f->name));
}

static uint64_t sample_hash(const void *e)
{
    const struct sample *s = e;

    return hash(s->key, s->key_len);
}

/* Doubles t when it is three quarters full. */
static int rehash(struct table *t, bool fams)
{
    void **old = t->b;
    size_t cap;
    void **b;

    if ((t->n + 1) * 4 <= t->cap * 3)
        return 0;
    cap = t->cap ? 2 * t->cap : 64;
    b = calloc(cap, sizeof(*b));
    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < t->cap; i++)
        for (void *e = old[i], *n; e; e = n) {
            size_t at = (fams ? fam_hash(e) : sample_hash(e)) & (cap - 1);

            n = fams ? fam_relink(e, b[at]) : sample_relink(e, b[at]);
            b[at] = e;
        }
    free(old);
    t->b = b;
    t->cap = cap;
    return 0;
}

static struct mfam *fam_add(struct zc__mset *m, const char *name,
                            const char *help, int type, uint32_t flags)
{
    struct mfam *f;
    size_t at;

    if (rehash(&m->fams, true) < 0 || !(f = calloc(1, sizeof(*f))))
        return NULL;
    f->name = strdup(name);
    f->help = strdup(help ? help : "");
    if (!f->name || !f->help) {
        free(f->name);
        free(f->help);
        free(f);
        return NULL;
    }
    f->type = type;
    f->flags = flags;
    at = hash(name, strlen(name)) & (m->fams.cap - 1);
    f->hnext = m->fams.b[at];
    m->fams.b[at] = f;
    m->fams.n++;
    if (m->last)
        m->last->next = f;
    else
        m->first = f;
    m->last = f;
    return f;
}

static struct sample *sample_get(struct zc__mset *m, struct mfam *f,
                                 const char *key, size_t len)
{
    struct sample *s = sample_find(m, key, len);
    size_t at;

    if (s)
        return s->f == f ? s : NULL;
    if (rehash(&m->samples, false) < 0 || !(s = calloc(1, sizeof(*s))))
        return NULL;
    if (!(s->key = malloc(len + 1))) {
        free(s);
        return NULL;
    }
    memcpy(s->key, key, len);
    s->key[len] = '\0';
    s->key_len = len;
    s->f = f;
    at = hash(key, len) & (m->samples.cap - 1);
    s->hnext = m->samples.b[at];
    m->samples.b[at] = s;
    m->samples.n++;
    if (f->last)
        f->last->next = s;
    else
        f->first = s;
    f->last = s;
    return s;
}

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

/* -- views ---------------------------------------------------------------- */

static const char *type_name(int type)
{
    static const char *const names[] = {
        "counter", "gauge", "histogram", "untyped", "summary"
    };

    return type >= 0 && type <= T_SUMMARY ? names[type] : "?";
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
    v->next = m->views;
    if (v->next)
        v->next->prev = v;
    m->views = v;
    return v;
}

static void view_broken(struct zc__mview *v, const char *why)
{
    if (!v->broken)
        zc_log(ZC_LOG_WARN, NS, "worker %llu: its metrics region is corrupt "
               "(%s); what it counts from now on is not shown",
               (unsigned long long) v->id, why);
    v->broken = true;
}

/* A family or sample this view cannot take part in: said once per view. */
static void view_conflict(struct zc__mview *v, const char *name, const char *why)
{
    if (!v->warned)
        zc_log(ZC_LOG_WARN, NS, "worker %llu (slot %d): metric '%s' %s; it is "
               "left out of /metrics (said once per worker)",
               (unsigned long long) v->id, v->slot, name, why);
    v->warned = true;
}

static bool grow(void **arr, size_t *cap, size_t n, size_t size)
{
    size_t c;
    void *a;

    if (n < *cap)
        return true;
    c = *cap ? 2 * *cap : 16;
    a = realloc(*arr, c * size);
    if (!a)
        return false;
    *arr = a;
    *cap = c;
    return true;
}

/* The same name must mean the same thing in every worker. */
static struct mfam *fam_for(struct zc__mview *v, const char *name,
                            const char *help, int type, uint32_t flags,
                            const double *bounds, uint32_t n_b, bool check_bounds)
{
    struct mfam *f = fam_find(v->m, name);

    if (!f) {
        f = fam_add(v->m, name, help, type, flags);
        if (f && check_bounds && n_b) {
            f->bounds = malloc(n_b * sizeof(double));
            if (f->bounds)
                memcpy(f->bounds, bounds, n_b * sizeof(double));
        }
        if (f && check_bounds) {
            f->n_buckets = n_b;
            f->has_bounds = true;
        }
        return f;
    }
    if (f->type != type) {
        char why[96];

        snprintf(why, sizeof(why), "is a %s here but a %s in other workers",
                 type_name(type), type_name(f->type));
        view_conflict(v, name, why);
        return NULL;
    }
    if (f->flags != flags) {
        view_conflict(v, name, "is per worker in some workers and summed in others");
        return NULL;
    }
    if (check_bounds && f->has_bounds &&
        (f->n_buckets != n_b ||
         (n_b && (!f->bounds || memcmp(f->bounds, bounds, n_b * sizeof(double)))))) {
        view_conflict(v, name, "has other bucket bounds than in other workers");
        return NULL;
    }
    if (!*f->help && help && *help) {
        char *h = strdup(help);

        if (h) {
            free(f->help);
            f->help = h;
        }
    }
    return f;
}

/* Strings packed in [s, end): n of them, each \0-terminated. */
static bool strings(const char *s, const char *end, unsigned n, const char **out)
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
    if (!grow((void **) &v->fams, &v->cap_fams, v->n_fams, sizeof(*v->fams)))
        return -ENOMEM;
    vf = &v->fams[v->n_fams++];
    *vf = (struct vfam) { .type = rec->type, .flags = rec->flags,
                          .n_buckets = rec->n_buckets };
    why = zc__metric_name_check(str[0]);
    if (!why && strncmp(str[0], "zcluster_", 9) == 0)
        why = "uses the fleet's own prefix";
    if (!why && (rec->type > ZC_HISTOGRAM || (rec->flags & ~ZC_METRIC_PER_WORKER)))
        why = "has an unknown type or flags";
    if (!why && !zc__utf8_valid(str[1], strlen(str[1])))
        why = "has a help text that is not UTF-8";
    if (why) {
        view_conflict(v, zc__metric_name_check(str[0]) ? "(invalid)" : str[0], why);
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
        if (zc__label_name_check(vf->names + off) || vf->n_labels > ZC__METRICS_MAX_LABELS) {
            view_conflict(v, str[0], "has an invalid label name");
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
                view_conflict(v, str[0], "has invalid bucket bounds");
                return 0;
            }
    }
    vf->bounds = bounds;
    vf->f = fam_for(v, str[0], str[1], rec->type, rec->flags, bounds,
                    rec->n_buckets, rec->type == ZC_HISTOGRAM);
    return 0;
}

static bool add_contrib(struct zc__mview *v, struct sample *s,
                        const _Atomic uint64_t *cell, int kind, bool cumulative)
{
    if (!s || !grow((void **) &v->c, &v->cap_c, v->n_c, sizeof(*v->c)))
        return false;
    v->c[v->n_c++] = (struct contrib) { .s = s, .cell = cell,
                                        .kind = (uint8_t) kind,
                                        .cumulative = cumulative };
    return true;
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
    bool ok = true;
    int r = 0;

    if (rec->family >= v->n_fams)
        return -EBADMSG;
    vf = &v->fams[rec->family];
    first = (uint64_t) rec->cell * 8;
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
            view_conflict(v, f->name, "has a label value that is not UTF-8");
            return 0;
        }
    cells = (const _Atomic uint64_t *) (const void *) (v->base + first);
    if (vf->type == ZC_GAUGE && (vf->flags & ZC_METRIC_PER_WORKER)) {
        char extra[64];

        snprintf(extra, sizeof(extra), "slot=\"%d\",worker=\"%llu\"", v->slot,
                 (unsigned long long) v->id);
        sample_key(&key, f->name, "", vf, values, extra);
        if (key.failed || !grow((void **) &v->pw, &v->cap_pw, v->n_pw, sizeof(*v->pw)))
            r = -ENOMEM;
        else
            v->pw[v->n_pw++] = (struct pw) { .f = f, .key = key.data, .cell = cells };
        if (r < 0)
            free(key.data);
        return r;
    }
    if (vf->type != ZC_HISTOGRAM) {
        sample_key(&key, f->name, "", vf, values, NULL);
        ok = !key.failed && add_contrib(v, sample_get(v->m, f, key.data, key.len), cells,
                                        vf->type == ZC_COUNTER ? C_U64 : C_F64,
                                        vf->type == ZC_COUNTER);
    }
    for (uint32_t i = 0; vf->type == ZC_HISTOGRAM && ok && i <= vf->n_buckets; i++) {
        char le[48] = "le=\"+Inf\"";

        if (i < vf->n_buckets) {
            char num[40];

            format_double(num, sizeof(num), vf->bounds[i]);
            snprintf(le, sizeof(le), "le=\"%s\"", num);
        }
        sample_key(&key, f->name, "_bucket", vf, values, le);
        ok = !key.failed && add_contrib(v, sample_get(v->m, f, key.data, key.len),
                                        &cells[i], i ? C_BUCKET : C_BUCKET0, true);
    }
    if (vf->type == ZC_HISTOGRAM && ok) {
        sample_key(&key, f->name, "_sum", vf, values, NULL);
        ok = !key.failed && add_contrib(v, sample_get(v->m, f, key.data, key.len),
                                        &cells[vf->n_buckets + 1], C_F64, true);
    }
    if (vf->type == ZC_HISTOGRAM && ok) {
        sample_key(&key, f->name, "_count", vf, values, NULL);
        ok = !key.failed && add_contrib(v, sample_get(v->m, f, key.data, key.len),
                                        NULL, C_COUNT, true);
    }
    free(key.data);
    return ok ? 0 : -ENOMEM;
}

/* Reads what the worker published since the last time. Descriptors are
 * copied out before they are checked: the worker could still write them. */
static void view_parse(struct zc__mview *v)
{
    const struct zc__mhead *h = (const void *) v->base;
    uint64_t end;
    char *copy = NULL;
    size_t copy_cap = 0;

    if (!v->base || v->broken)
        return;
    end = atomic_load_explicit(&((struct zc__mhead *) (void *) (uintptr_t) h)->desc_end,
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
        if (r == -ENOMEM)
            break;
        if (r < 0) {
            view_broken(v, "a descriptor does not parse");
            break;
        }
        v->parsed += rec.len;
    }
    free(copy);
}

/* -- text snapshots ------------------------------------------------------- */

struct tfam {
    const char *name;
    size_t len;
    int type;
    const char *help;
    size_t help_len;
};

static int type_of(const char *s, size_t n)
{
    static const char *const names[] = {
        "counter", "gauge", "histogram", "untyped", "summary"
    };

    for (int i = 0; i <= T_SUMMARY; i++)
        if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0)
            return i;
    return -1;
}

static size_t name_len(const char *s, const char *end, bool metric)
{
    const char *p = s;

    while (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                       *p == '_' || (metric && *p == ':') ||
                       (p > s && *p >= '0' && *p <= '9')))
        p++;
    return (size_t) (p - s);
}

/* {name="value",...}: returns its length, 0 if it is not one. */
static size_t labels_len(const char *s, const char *end)
{
    const char *p = s + 1;

    if (p > end || *s != '{')
        return 0;
    while (p < end && *p != '}') {
        size_t n = name_len(p, end, false);

        if (!n || p + n + 1 >= end || p[n] != '=' || p[n + 1] != '"')
            return 0;
        p += n + 2;
        while (p < end && *p != '"') {
            if (*p == '\\' && (p + 1 == end || (p[1] != '\\' && p[1] != '"' && p[1] != 'n')))
                return 0;
            p += *p == '\\' ? 2 : 1;
        }
        if (p >= end)
            return 0;
        p++;
        if (p < end && *p == ',')
            p++;
    }
    if (p >= end)
        return 0;
    return (size_t) (p + 1 - s);
}

static const struct tfam *tfam_find(const struct tfam *t, size_t n,
                                    const char *name, size_t len)
{
    for (size_t i = n; i-- > 0; )
        if (t[i].len == len && memcmp(t[i].name, name, len) == 0)
            return &t[i];
    return NULL;
}

/* Which family a sample belongs to, and whether it is a counted one. */
static int sample_family(const struct tfam *t, size_t n, const char *name,
                         size_t len, const char *labels, size_t llen,
                         const struct tfam **ret, bool *cumulative)
{
    static const char *const suffixes[] = { "_bucket", "_sum", "_count" };
    const struct tfam *tf = tfam_find(t, n, name, len);

    *cumulative = false;
    if (tf && tf->type != ZC_HISTOGRAM && tf->type != T_SUMMARY) {
        *ret = tf;
        *cumulative = tf->type == ZC_COUNTER;
        return 0;
    }
    if (tf && tf->type == T_SUMMARY)   /* a quantile: not a sum of anything */
        return -1;
    for (size_t i = 0; i < 3; i++) {
        size_t sl = strlen(suffixes[i]);

        if (len > sl && memcmp(name + len - sl, suffixes[i], sl) == 0 &&
            (tf = tfam_find(t, n, name, len - sl)) &&
            (tf->type == ZC_HISTOGRAM || (tf->type == T_SUMMARY && i > 0))) {
            if (i == 0 && !memmem(labels, llen, "le=\"", 4))
                return -1;
            *ret = tf;
            *cumulative = true;
            return 0;
        }
    }
    *ret = NULL;
    return 0;
}

static double parse_value(const char *s, size_t n, bool *ok)
{
    char buf[64];
    char *end;
    double v;

    *ok = false;
    if (n == 0 || n >= sizeof(buf))
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    v = strtod(buf, &end);
    *ok = end == buf + n;
    return v;
}

/* One line; NULL when it is fine, else what is wrong with it. */
static const char *text_line(struct zc__mview *v, const char *p, const char *end,
                             struct tfam **tf, size_t *n_tf, size_t *cap_tf,
                             struct tsample **ts, size_t *n_ts, size_t *cap_ts)
{
    size_t n, ll = 0;
    const struct tfam *fam;
    struct mfam *f;
    struct sample *s;
    const char *name = p;
    bool ok, cumulative;
    double val;
    char key[1024], fname[ZC__METRICS_NAME_MAX + 1];

    if (*p == '#') {
        bool help = end - p > 7 && memcmp(p, "# HELP ", 7) == 0;
        bool type = end - p > 7 && memcmp(p, "# TYPE ", 7) == 0;
        struct tfam *t;

        if (!help && !type)
            return NULL;        /* a comment */
        p += 7;
        n = name_len(p, end, true);
        if (!n || n > ZC__METRICS_NAME_MAX || (p + n < end && p[n] != ' '))
            return "a bad metric name after # HELP or # TYPE";
        t = (struct tfam *) tfam_find(*tf, *n_tf, p, n);
        if (!t) {
            if (!grow((void **) tf, cap_tf, *n_tf, sizeof(**tf)))
                return "out of memory";
            t = &(*tf)[(*n_tf)++];
            *t = (struct tfam) { .name = p, .len = n, .type = T_UNTYPED };
        }
        p += n + (p + n < end);
        if (help) {
            t->help = p;
            t->help_len = (size_t) (end - p);
        } else if ((t->type = type_of(p, (size_t) (end - p))) < 0) {
            t->type = T_UNTYPED;
            return "an unknown type";
        }
        return NULL;
    }
    n = name_len(p, end, true);
    if (!n || n > ZC__METRICS_NAME_MAX)
        return "a sample without a valid metric name";
    p += n;
    if (p < end && *p == '{' && !(ll = labels_len(p, end)))
        return "labels that do not parse";
    if (n + ll >= sizeof(key) || !zc__utf8_valid(p, ll))
        return "labels too long, or not UTF-8";
    memcpy(key, name, n + ll);
    key[n + ll] = '\0';
    p += ll;
    if (p >= end || *p != ' ')
        return "no value";
    while (p < end && *p == ' ')
        p++;
    {
        const char *vend = memchr(p, ' ', (size_t) (end - p));

        val = parse_value(p, (size_t) ((vend ? vend : end) - p), &ok);
    }
    if (!ok)
        return "a value that is not a number";
    if (sample_family(*tf, *n_tf, name, n, key + n, ll, &fam, &cumulative) < 0)
        return NULL;        /* a summary's quantile: not summed, not shown */
    memcpy(fname, fam ? fam->name : name, fam ? fam->len : n);
    fname[fam ? fam->len : n] = '\0';
    if (zc__metric_name_check(fname) || strncmp(fname, "zcluster_", 9) == 0)
        return "a metric name that is invalid or the fleet's own";
    {
        char help[512] = "";
        size_t hl = fam && fam->help ? fam->help_len : 0;

        if (hl >= sizeof(help))
            hl = sizeof(help) - 1;
        if (hl && zc__utf8_valid(fam->help, hl))
            memcpy(help, fam->help, hl);
        help[hl] = '\0';
        /* Text help comes escaped; ours is kept raw and escaped on output. */
        for (char *h = help; *h; h++)
            if (h[0] == '\\' && (h[1] == 'n' || h[1] == '\\')) {
                h[0] = h[1] == 'n' ? ' ' : '\\';
                memmove(h + 1, h + 2, strlen(h + 2) + 1);
            }
        f = fam_for(v, fname, help, fam ? fam->type : T_UNTYPED, 0, NULL, 0, false);
    }
    if (!f)
        return NULL;        /* a conflict, logged by fam_for */
    s = sample_get(v->m, f, key, n + ll);
    if (!s)
        return "a sample whose name another family uses, or out of memory";
    if (!grow((void **) ts, cap_ts, *n_ts, sizeof(**ts)))
        return "out of memory";
    (*ts)[(*n_ts)++] = (struct tsample) { .s = s, .v = val, .cumulative = cumulative };
    return NULL;
}

int zc__mview_text(struct zc__mview *v, const char *text, size_t len,
                   const char **why, unsigned *line)
{
    struct tfam *tf = NULL;
    struct tsample *ts = NULL;
    size_t n_tf = 0, cap_tf = 0, n_ts = 0, cap_ts = 0;
    const char *p = text, *end = text + len;
    unsigned no = 0;

    *why = NULL;
    *line = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t) (end - p)), *e = nl ? nl : end;
        const char *w;

        no++;
        if (e > p && e[-1] == '\r')
            e--;
        if (e > p && (w = text_line(v, p, e, &tf, &n_tf, &cap_tf, &ts, &n_ts,
                                    &cap_ts)) && !*why) {
            *why = w;
            *line = no;
        }
        p = nl ? nl + 1 : end;
    }
    free(tf);
    free(v->text);
    v->text = ts;
    v->n_text = n_ts;
    return (int) n_ts;
}

/* -- exposition ----------------------------------------------------------- */

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
            val = bits_double(atomic_load_explicit(c->cell, memory_order_relaxed));
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
    view_parse(v);
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
    if (v->prev)
        v->prev->next = v->next;
    else
        v->m->views = v->next;
    if (v->next)
        v->next->prev = v->prev;
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
        view_parse(v);
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
        zc__buf_printf(out, "# TYPE %s %s\n", f->name, type_name(f->type));
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
