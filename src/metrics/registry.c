/*
 * The registry a process counts into (metrics.h has the memory layout).
 *
 * One per process: in a worker it lives in the memory the primary shares
 * with it (ZC_METRICS_FD), anywhere else in private memory, so the same
 * code runs with or without a primary. Registration takes a lock and may
 * allocate; updates are one relaxed atomic operation on a cell (two for a
 * histogram, plus a compare-and-swap loop for its sum).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "metrics/layout.h"
#include "base/parse.h"

#define NS "zc:metrics"
#define DEFAULT_SIZE (1u << 20)

struct family;

struct zc_metric {
    _Atomic uint64_t *cells;    /* NULL: a labelled family, not a series */
    int type;
    uint32_t n_buckets;
    const double *bounds;       /* histogram upper bounds, +Inf not kept */
    struct family *f;
    struct zc_metric *hnext;    /* the family's series table */
    char *key;                  /* label values, each \0-terminated */
    size_t key_len;
};

struct family {
    zc_metric root;
    char *name;
    uint32_t id, flags, n_labels;
    double *bounds;
    zc_metric **table;          /* series by label values */
    size_t n_series, cap;
};

static struct {
    pthread_mutex_t lock;
    bool opened;
    bool shared;                /* base is the region the primary reads */
    char *base;
    size_t size;
    size_t desc;                /* where the next descriptor goes */
    size_t low;                 /* the lowest cell in use */
    struct family **fams;
    size_t n_fams, cap_fams;
} reg = { .lock = PTHREAD_MUTEX_INITIALIZER };

static const double default_buckets[] = {
    .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10,
};

/* -- names ---------------------------------------------------------------- */

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

const char *zc__metric_name_check(const char *s)
{
    if (!s || !*s)
        return "it is empty";
    if (strlen(s) > ZC__METRICS_NAME_MAX)
        return "it is longer than 200 bytes";
    if (!is_alpha(*s) && *s != ':')
        return "it must start with a letter, '_' or ':'";
    for (const char *c = s; *c; c++)
        if (!is_alpha(*c) && !is_digit(*c) && *c != ':')
            return "only letters, digits, '_' and ':' are allowed";
    return NULL;
}

const char *zc__label_name_check(const char *s)
{
    if (!s || !*s)
        return "it is empty";
    if (strlen(s) > ZC__METRICS_NAME_MAX)
        return "it is longer than 200 bytes";
    if (!is_alpha(*s))
        return "it must start with a letter or '_'";
    if (s[0] == '_' && s[1] == '_')
        return "names starting with '__' are reserved";
    for (const char *c = s; *c; c++)
        if (!is_alpha(*c) && !is_digit(*c))
            return "only letters, digits and '_' are allowed";
    return NULL;
}

/* Well-formed UTF-8: no overlong forms, surrogates or values past U+10FFFF. */
bool zc__utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *) str, *end = s + len;

    while (s < end) {
        unsigned c = *s++, n, min;
        uint32_t v;

        if (c < 0x80)
            continue;
        if (c >= 0xc2 && c <= 0xdf)
            n = 1, min = 0x80, v = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            n = 2, min = 0x800, v = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            n = 3, min = 0x10000, v = c & 0x07;
        else
            return false;
        if ((size_t) (end - s) < n)
            return false;
        for (unsigned i = 0; i < n; i++, s++) {
            if ((*s & 0xc0) != 0x80)
                return false;
            v = v << 6 | (*s & 0x3f);
        }
        if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
            return false;
    }
    return true;
}

/* -- the region ----------------------------------------------------------- */

void zc__metrics_format(void *base, size_t size)
{
    struct zc__mhead *h = base;

    h->magic = ZC__METRICS_MAGIC;
    h->version = ZC__METRICS_VERSION;
    h->size = size;
    atomic_store_explicit(&h->desc_end, sizeof(*h), memory_order_release);
}

/* The primary's region when there is one: a worker whose region is
 * unusable still runs, counting into private memory, and says so. */
static bool map_shared(void)
{
    const char *env = getenv("ZC_METRICS_FD");
    struct zc__mhead *h;
    struct stat st;
    unsigned long fd;
    void *base;

    if (!env)
        return false;
    if (zc__parse_uint(env, 3, 65535, &fd) < 0 || fstat((int) fd, &st) < 0 ||
        st.st_size < ZC__METRICS_MIN_SIZE) {
        zc_log(ZC_LOG_WARN, NS, "ZC_METRICS_FD=%s is not a metrics region; "
               "this worker's metrics stay private", env);
        return false;
    }
    base = mmap(NULL, (size_t) st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
                (int) fd, 0);
    (void) close((int) fd);     /* the mapping stays; children need no fd */
    if (base == MAP_FAILED) {
        zc_log(ZC_LOG_WARN, NS, "cannot map the metrics region: %s; this "
               "worker's metrics stay private", zc_strerror(-errno));
        return false;
    }
    h = base;
    if (h->magic != ZC__METRICS_MAGIC || h->version != ZC__METRICS_VERSION ||
        h->size != (uint64_t) st.st_size ||
        atomic_load(&h->desc_end) != sizeof(*h)) {
        zc_log(ZC_LOG_WARN, NS, "the metrics region is of another version "
               "(%u) or already in use; this worker's metrics stay private",
               h->version);
        (void) munmap(base, (size_t) st.st_size);
        return false;
    }
    reg.base = base;
    reg.size = (size_t) st.st_size;
    reg.shared = true;
    return true;
}

static int open_region(void)
{
    if (reg.opened)
        return 0;
    if (!map_shared()) {
        void *base = mmap(NULL, DEFAULT_SIZE, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (base == MAP_FAILED)
            return -ENOMEM;
        zc__metrics_format(base, DEFAULT_SIZE);
        reg.base = base;
        reg.size = DEFAULT_SIZE;
    }
    reg.desc = sizeof(struct zc__mhead);
    reg.low = reg.size;
    reg.opened = true;
    return 0;
}

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t) 7;
}

/*
 * Appends a descriptor with its text (NULs included) and doubles, and
 * room for n_cells cells below the others; publishes it last, so the
 * primary never sees a descriptor whose cells are not there.
 */
static int append(struct zc__mrec *rec, const char *text, size_t text_len,
                  const double *dbl, size_t n_dbl, uint32_t n_cells)
{
    size_t tlen = align8(sizeof(*rec) + text_len);
    size_t len = tlen + n_dbl * sizeof(double);
    size_t cells = (size_t) n_cells * ZC__CELL_BYTES;
    char *at = reg.base + reg.desc;

    if (reg.low < reg.desc || reg.low - reg.desc < len + cells) {
        zc_log(ZC_LOG_ERROR, NS, "the metrics registry is full (%zu bytes): "
               "raise zc_options.metrics_memory, or use fewer label sets",
               reg.size);
        return -ENOSPC;
    }
    reg.low -= cells;
    rec->len = (uint32_t) len;
    rec->cell = (uint32_t) (reg.low / 8);
    memcpy(at, rec, sizeof(*rec));
    memcpy(at + sizeof(*rec), text, text_len);
    if (n_dbl)
        memcpy(at + tlen, dbl, n_dbl * sizeof(double));
    reg.desc += len;
    atomic_store_explicit(&((struct zc__mhead *) (void *) reg.base)->desc_end,
                          reg.desc, memory_order_release);
    return 0;
}

bool zc__metrics_own_region(const void **base, size_t *size)
{
    bool opened;

    (void) pthread_mutex_lock(&reg.lock);
    opened = reg.opened;
    *base = reg.base;
    *size = reg.size;
    (void) pthread_mutex_unlock(&reg.lock);
    return opened;
}

/* -- families and series -------------------------------------------------- */

static int check_labels(const char *name, const char *labels, int type,
                        int flags, uint32_t *n)
{
    char buf[ZC__METRICS_NAME_MAX + 1];
    const char *p = labels;

    *n = 0;
    if (!labels || !*labels)
        return 0;
    while (p) {
        const char *comma = strchr(p, ','), *why;
        size_t len = comma ? (size_t) (comma - p) : strlen(p);

        if (len > ZC__METRICS_NAME_MAX)
            len = ZC__METRICS_NAME_MAX;
        memcpy(buf, p, len);
        buf[len] = '\0';
        why = zc__label_name_check(buf);
        if (!why && type == ZC_HISTOGRAM && strcmp(buf, "le") == 0)
            why = "a histogram uses 'le' for its buckets";
        if (!why && (flags & ZC_METRIC_PER_WORKER) &&
            (strcmp(buf, "slot") == 0 || strcmp(buf, "worker") == 0))
            why = "a per-worker gauge adds 'slot' and 'worker' itself";
        for (const char *q = labels; !why && q < p; ) {
            const char *qc = strchr(q, ',');

            if ((size_t) (qc - q) == len && memcmp(q, buf, len) == 0)
                why = "it is there twice";
            q = qc + 1;
        }
        if (why) {
            zc_log(ZC_LOG_ERROR, NS, "metric '%s': label name '%s': %s", name,
                   buf, why);
            return -EINVAL;
        }
        if (++*n > ZC__METRICS_MAX_LABELS) {
            zc_log(ZC_LOG_ERROR, NS, "metric '%s': more than %d labels", name,
                   ZC__METRICS_MAX_LABELS);
            return -EINVAL;
        }
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}

static int check_family(int type, const char *name, const char *help,
                        int flags, const double *b, size_t n_b)
{
    const char *why = zc__metric_name_check(name);

    if (!why && strncmp(name, "zcluster_", 9) == 0)
        why = "names starting with 'zcluster_' are the fleet's own";
    if (!why && !zc__metric_type_known(type))
        why = "the type is not ZC_COUNTER, ZC_GAUGE or ZC_HISTOGRAM";
    if (!why && (flags & ~ZC_METRIC_PER_WORKER))
        why = "unknown flags";
    if (!why && (flags & ZC_METRIC_PER_WORKER) && type != ZC_GAUGE)
        why = "only a gauge can be per worker";
    if (!why && help &&
        (strchr(help, '\n') || !zc__utf8_valid(help, strlen(help))))
        why = "the help text must be one line of UTF-8";
    if (!why && n_b > ZC__METRICS_MAX_BUCKETS)
        why = "a histogram has at most 64 buckets";
    for (size_t i = 0; !why && i < n_b; i++)
        if (!isfinite(b[i]) || (i && b[i] <= b[i - 1]))
            why = "bucket bounds must be finite and strictly increasing";
    if (why && name && strlen(name) <= ZC__METRICS_NAME_MAX)
        zc_log(ZC_LOG_ERROR, NS, "metric '%s': %s", name, why);
    else if (why)
        zc_log(ZC_LOG_ERROR, NS, "metric name: %s", why);
    return why ? -EINVAL : 0;
}

static struct family *family_find(const char *name)
{
    for (size_t i = 0; i < reg.n_fams; i++)
        if (strcmp(reg.fams[i]->name, name) == 0)
            return reg.fams[i];
    return NULL;
}

static int series_add(struct family *f, zc_metric *s)
{
    struct zc__mrec rec = { .kind = ZC__MREC_SERIES, .type = (uint16_t) s->type,
                            .family = f->id };
    int r = append(&rec, s->key ? s->key : "", s->key_len, NULL, 0,
                   zc__mcells(s->type, s->n_buckets));

    if (r == 0)
        s->cells =
            (_Atomic uint64_t *) (void *) (reg.base +
                                           (size_t) rec.cell * ZC__CELL_BYTES);
    return r;
}

static int family_new(zc_metric **ret, int type, const char *name,
                      const char *help, const char *labels, uint32_t n_labels,
                      int flags, const double *b, size_t n_b)
{
    struct zc__mrec rec = { .kind = ZC__MREC_FAMILY,
                            .type = (uint16_t) type,
                            .flags = (uint32_t) flags,
                            .n_buckets = (uint32_t) n_b };
    size_t ln = strlen(name), lh = help ? strlen(help) : 0;
    size_t ll = labels ? strlen(labels) : 0;
    struct family *f = NULL;
    char *text = NULL;
    int r;

    if (reg.n_fams == reg.cap_fams) {
        size_t cap = reg.cap_fams ? 2 * reg.cap_fams : 16;
        struct family **fams = realloc(reg.fams, cap * sizeof(*fams));

        if (!fams)
            return -ENOMEM;
        reg.fams = fams;
        reg.cap_fams = cap;
    }
    f = calloc(1, sizeof(*f));
    text = malloc(ln + lh + ll + 3);
    if (!f || !text || !(f->name = strdup(name)) ||
        (n_b && !(f->bounds = malloc(n_b * sizeof(double))))) {
        r = -ENOMEM;
        goto fail;
    }
    memcpy(text, name, ln + 1);
    memcpy(text + ln + 1, help ? help : "", lh + 1);
    memcpy(text + ln + lh + 2, labels ? labels : "", ll + 1);
    if (n_b)
        memcpy(f->bounds, b, n_b * sizeof(double));
    f->id = rec.family = (uint32_t) reg.n_fams;
    f->flags = (uint32_t) flags;
    f->n_labels = n_labels;
    f->root = (zc_metric) { .type = type, .n_buckets = (uint32_t) n_b,
                            .bounds = f->bounds, .f = f };
    r = append(&rec, text, ln + lh + ll + 3, b, n_b, 0);
    if (r == 0 && f->n_labels == 0)
        r = series_add(f, &f->root);
    if (r < 0)
        goto fail;
    free(text);
    reg.fams[reg.n_fams++] = f;
    *ret = &f->root;
    return 0;
fail:
    /* A descriptor already published stays: a family with no series. */
    free(text);
    if (f) {
        free(f->name);
        free(f->bounds);
    }
    free(f);
    return r;
}

static int metric_new(zc_metric **ret, int type, const char *name,
                      const char *help, const char *labels, int flags,
                      const double *b, size_t n_b)
{
    uint32_t n_labels;
    int r;

    if (!ret)
        return -EINVAL;
    *ret = NULL;
    r = check_family(type, name, help, flags, b, n_b);
    if (r == 0)
        r = check_labels(name, labels, type, flags, &n_labels);
    if (r < 0)
        return r;
    (void) pthread_mutex_lock(&reg.lock);
    r = open_region();
    if (r == 0 && family_find(name)) {
        zc_log(ZC_LOG_ERROR, NS, "metric '%s' is already registered", name);
        r = -EEXIST;
    }
    if (r == 0)
        r = family_new(ret, type, name, help, labels, n_labels, flags, b, n_b);
    (void) pthread_mutex_unlock(&reg.lock);
    return r;
}

int zc_metric_new(zc_metric **ret, int type, const char *name, const char *help,
                  const char *labels, int flags)
{
    if (type == ZC_HISTOGRAM)
        return zc_histogram_new(ret, name, help, labels, NULL, 0);
    return metric_new(ret, type, name, help, labels, flags, NULL, 0);
}

int zc_histogram_new(zc_metric **ret, const char *name, const char *help,
                     const char *labels, const double *buckets, size_t n)
{
    if (!buckets) {
        buckets = default_buckets;
        n = sizeof(default_buckets) / sizeof(default_buckets[0]);
    }
    return metric_new(ret, ZC_HISTOGRAM, name, help, labels, 0, buckets, n);
}

static uint64_t hash_key(const char *k, size_t len)
{
    uint64_t h = 1469598103934665603ull;

    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char) k[i]) * 1099511628211ull;
    return h;
}

static int table_grow(struct family *f)
{
    size_t cap = f->cap ? 2 * f->cap : 16;
    zc_metric **t = calloc(cap, sizeof(*t));

    if (!t)
        return -ENOMEM;
    for (size_t i = 0; i < f->cap; i++)
        for (zc_metric *s = f->table[i], *next; s; s = next) {
            size_t b = hash_key(s->key, s->key_len) & (cap - 1);

            next = s->hnext;
            s->hnext = t[b];
            t[b] = s;
        }
    free(f->table);
    f->table = t;
    f->cap = cap;
    return 0;
}

/* The label values as one key: each value and its \0. */
static int make_key(const struct family *f, const char *const *values,
                    char *key, size_t size, size_t *ret_len)
{
    size_t len = 0;

    for (uint32_t i = 0; i < f->n_labels; i++) {
        size_t n = values[i] ? strlen(values[i]) : 0;

        if (!values[i] || !zc__utf8_valid(values[i], n)) {
            zc_log(ZC_LOG_ERROR, NS, "metric '%s': label value %u is %s",
                   f->name, i + 1, values[i] ? "not UTF-8" : "NULL");
            return -EINVAL;
        }
        if (n + 1 > size - len)
            return -E2BIG;
        memcpy(key + len, values[i], n + 1);
        len += n + 1;
    }
    *ret_len = len;
    return 0;
}

static int series_get(struct family *f, const char *key, size_t len,
                      zc_metric **ret)
{
    size_t b;
    zc_metric *s;
    int r;

    if (f->cap) {
        for (s = f->table[hash_key(key, len) & (f->cap - 1)]; s; s = s->hnext)
            if (s->key_len == len && memcmp(s->key, key, len) == 0) {
                *ret = s;
                return 0;
            }
    }
    if ((f->n_series + 1) * 4 > f->cap * 3 && (r = table_grow(f)) < 0)
        return r;
    s = calloc(1, sizeof(*s));
    if (!s || !(s->key = malloc(len))) {
        free(s);
        return -ENOMEM;
    }
    memcpy(s->key, key, len);
    s->key_len = len;
    s->type = f->root.type;
    s->n_buckets = f->root.n_buckets;
    s->bounds = f->bounds;
    s->f = f;
    r = series_add(f, s);
    if (r < 0) {
        free(s->key);
        free(s);
        return r;
    }
    b = hash_key(key, len) & (f->cap - 1);
    s->hnext = f->table[b];
    f->table[b] = s;
    f->n_series++;
    *ret = s;
    return 0;
}

int zc_metric_with(zc_metric *m, zc_metric **ret, const char *const *values)
{
    char key[4096];
    size_t len;
    int r;

    if (!ret)
        return -EINVAL;
    *ret = NULL;
    if (!m || m != &m->f->root || m->f->n_labels == 0 || !values) {
        zc_log(ZC_LOG_ERROR, NS, "zc_metric_with: %s", !m ? "no metric" :
               !values ? "no label values" : "not a labelled family");
        return -EINVAL;
    }
    r = make_key(m->f, values, key, sizeof(key), &len);
    if (r == -E2BIG) {
        zc_log(ZC_LOG_ERROR, NS, "metric '%s': label values longer than "
               "%zu bytes in all", m->f->name, sizeof(key));
        r = -EINVAL;
    }
    if (r < 0)
        return r;
    (void) pthread_mutex_lock(&reg.lock);
    r = series_get(m->f, key, len, ret);
    (void) pthread_mutex_unlock(&reg.lock);
    return r;
}

/* -- the hot path --------------------------------------------------------- */

static uint64_t dbits(double v)
{
    uint64_t u;

    memcpy(&u, &v, sizeof(u));
    return u;
}

static double bitsd(uint64_t u)
{
    double v;

    memcpy(&v, &u, sizeof(v));
    return v;
}

static void add_double(_Atomic uint64_t *cell, double d)
{
    uint64_t old = atomic_load_explicit(cell, memory_order_relaxed);

    while (!atomic_compare_exchange_weak_explicit(cell, &old,
                                                  dbits(bitsd(old) + d),
                                                  memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
}

void zc_metric_add(zc_metric *m, uint64_t n)
{
    if (m && m->cells && m->type == ZC_COUNTER)
        atomic_fetch_add_explicit(m->cells, n, memory_order_relaxed);
}

void zc_self_conn_closed(void)
{
    struct zc__mhead *h;

    /* Opened once, under the lock; from then on a relaxed add, like any
     * counter. A process with no primary counts into private memory. */
    if (!__atomic_load_n(&reg.opened, __ATOMIC_ACQUIRE)) {
        (void) pthread_mutex_lock(&reg.lock);
        (void) open_region();
        (void) pthread_mutex_unlock(&reg.lock);
        if (!reg.opened)
            return;
    }
    h = (struct zc__mhead *) (void *) reg.base;
    atomic_fetch_add_explicit(&h->conns_closed, 1, memory_order_relaxed);
}

void zc_worker_conn_closed(void) __attribute__((alias("zc_self_conn_closed")));

_Atomic uint64_t *zc__metrics_ping_cell(void)
{
    bool shared;

    (void) pthread_mutex_lock(&reg.lock);
    (void) open_region();
    shared = reg.opened && reg.shared;
    (void) pthread_mutex_unlock(&reg.lock);
    return shared ? &((struct zc__mhead *) (void *) reg.base)->pings : NULL;
}

void zc_metric_inc(zc_metric *m)
{
    zc_metric_add(m, 1);
}

void zc_metric_set(zc_metric *m, double v)
{
    if (m && m->cells && m->type == ZC_GAUGE)
        atomic_store_explicit(m->cells, dbits(v), memory_order_relaxed);
}

void zc_metric_adjust(zc_metric *m, double delta)
{
    if (m && m->cells && m->type == ZC_GAUGE)
        add_double(m->cells, delta);
}

void zc_metric_observe(zc_metric *m, double v)
{
    uint32_t lo = 0, hi;

    if (!m || !m->cells || m->type != ZC_HISTOGRAM)
        return;
    /* The first bound >= v (the +Inf bucket when none is, or v is NaN). */
    hi = m->n_buckets;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;

        if (v <= m->bounds[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    atomic_fetch_add_explicit(&m->cells[lo], 1, memory_order_relaxed);
    add_double(&m->cells[m->n_buckets + 1], v);
}
