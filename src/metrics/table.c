/*
 * The set's families and samples: two hash tables (FNV-1a, chained,
 * doubled at three quarters) and the rule that a name means the same
 * thing in every worker.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "metrics/set-int.h"

#define NS ZC__MNS

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
    for (struct mfam *f =
             m->fams.b[hash(name, strlen(name)) & (m->fams.cap - 1)];
         f; f = f->hnext)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

static struct sample *sample_find(struct zc__mset *m, const char *key,
                                  size_t len)
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

int zc__mset_sample(struct zc__mset *m, struct mfam *f, const char *key,
                    size_t len, struct sample **out)
{
    struct sample *s = sample_find(m, key, len);
    size_t at;

    *out = NULL;
    if (s && s->f != f)
        return -EEXIST;
    if (s) {
        *out = s;
        return 0;
    }
    if (m->samples.n >= ZC__FLEET_SERIES_MAX) {
        m->refused++;
        return -ENOSPC;
    }
    if (rehash(&m->samples, false) < 0 || !(s = calloc(1, sizeof(*s))))
        return -ENOMEM;
    if (!(s->key = malloc(len + 1))) {
        free(s);
        return -ENOMEM;
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
    *out = s;
    return 0;
}

size_t zc__mset_series(const struct zc__mset *m)
{
    return m->samples.n;
}

uint64_t zc__mset_refused(const struct zc__mset *m)
{
    return m->refused;
}

const char *zc__mset_type_name(int type)
{
    static const char *const names[] = {
        "counter", "gauge", "histogram", "untyped", "summary"
    };

    return type >= 0 && type <= T_SUMMARY ? names[type] : "?";
}

void zc__mview_series_limit(struct zc__mview *v, const char *why)
{
    if (!v->said_limit)
        zc_log(ZC_LOG_WARN, NS, "worker %llu (slot %d): %s (%d a snapshot, "
               "%d in the fleet): its new series are left out of /metrics "
               "(zcluster_metrics_series_refused_total counts them)",
               (unsigned long long) v->id, v->slot, why,
               ZC__SNAPSHOT_SERIES_MAX, ZC__FLEET_SERIES_MAX);
    v->said_limit = true;
}

void zc__mview_conflict(struct zc__mview *v, const char *name, const char *why)
{
    if (!v->warned)
        zc_log(ZC_LOG_WARN, NS, "worker %llu (slot %d): metric '%s' %s; it is "
               "left out of /metrics (said once per worker)",
               (unsigned long long) v->id, v->slot, name, why);
    v->warned = true;
}

bool zc__mset_grow(void **arr, size_t *cap, size_t n, size_t size)
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

/* A histogram's or summary's samples are named with these suffixes; a
 * family named so beside it would give two families the same sample. */
static const char *const fam_suffixes[] = { "_bucket", "_sum", "_count" };

static bool fam_has_suffixes(int type)
{
    return type == ZC_HISTOGRAM || type == T_SUMMARY;
}

static bool fam_clashes(struct zc__mset *m, const char *name, int type)
{
    size_t n = strlen(name);
    char other[ZC__METRICS_NAME_MAX + 16];

    for (size_t i = 0; i < sizeof(fam_suffixes) / sizeof(*fam_suffixes); i++) {
        const char *sfx = fam_suffixes[i];
        size_t sl = strlen(sfx);
        struct mfam *f;

        if (fam_has_suffixes(type) && n + sl < sizeof(other)) {
            snprintf(other, sizeof(other), "%s%s", name, sfx);
            if (fam_find(m, other))
                return true;
        }
        if (n > sl && n - sl < sizeof(other) &&
            strcmp(name + n - sl, sfx) == 0) {
            memcpy(other, name, n - sl);
            other[n - sl] = '\0';
            f = fam_find(m, other);
            if (f && fam_has_suffixes(f->type))
                return true;
        }
    }
    return false;
}

/* The same name must mean the same thing in every worker. */
struct mfam *zc__mset_family(struct zc__mview *v, const char *name,
                             const char *help, int type, uint32_t flags,
                             const double *bounds, uint32_t n_b,
                             bool check_bounds)
{
    struct mfam *f = fam_find(v->m, name);

    if (!f && fam_clashes(v->m, name, type)) {
        zc__mview_conflict(v, name,
                           "shares its samples' names with another "
                           "family (a histogram's _bucket, _sum, _count)");
        return NULL;
    }
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
                 zc__mset_type_name(type), zc__mset_type_name(f->type));
        zc__mview_conflict(v, name, why);
        return NULL;
    }
    if (f->flags != flags) {
        zc__mview_conflict(v, name, "is per worker in some workers and "
                           "summed in others");
        return NULL;
    }
    if (check_bounds && f->has_bounds &&
        (f->n_buckets != n_b ||
         (n_b &&
          (!f->bounds || memcmp(f->bounds, bounds, n_b * sizeof(double)))))) {
        zc__mview_conflict(v, name,
                           "has other bucket bounds than in other workers");
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
