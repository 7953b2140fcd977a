/*
 * Text snapshots: the Prometheus text format (0.0.4) a worker in another
 * language sends by message (docs/protocol.md, "Metrics"). A line that
 * cannot be used is skipped and the first one described; nothing in the
 * text can make the primary read out of bounds or keep more than the
 * samples it names (tests/fuzz/fuzz-text.c).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/set-int.h"

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
            if (*p == '\\' &&
                (p + 1 == end || (p[1] != '\\' && p[1] != '"' && p[1] != 'n')))
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
static const char *text_line(struct zc__mview *v, const char *p,
                             const char *end, struct tfam **tf, size_t *n_tf,
                             size_t *cap_tf, struct tsample **ts, size_t *n_ts,
                             size_t *cap_ts)
{
    size_t n, ll = 0;
    const struct tfam *fam;
    struct mfam *f;
    struct sample *s;
    const char *name = p;
    bool ok, cumulative;
    double val;
    int r;
    char key[1024], fname[ZC__METRICS_NAME_MAX + 1];

    /* Kept out of /metrics, where a scraper would take it for the end. */
    if (memchr(p, '\0', (size_t) (end - p)))
        return "a NUL byte in the line";
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
            if (!zc__mset_grow((void **) tf, cap_tf, *n_tf, sizeof(**tf)))
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
    /* A sum of anything with NaN or an infinity in it is meaningless. */
    if (!isfinite(val))
        return "a value that is NaN or infinite";
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
        f = zc__mset_family(v, fname, help, fam ? fam->type : T_UNTYPED, 0,
                            NULL, 0, false);
    }
    if (!f)
        return NULL;        /* a conflict, logged by fam_for */
    if (cumulative && val < 0)
        return "a negative count";
    if (*n_ts >= ZC__SNAPSHOT_SERIES_MAX) {
        v->m->refused++;
        zc__mview_series_limit(v, "its snapshot holds more series than a "
                               "worker may show");
        return NULL;
    }
    r = zc__mset_sample(v->m, f, key, n + ll, &s);
    if (r == -ENOSPC) {
        zc__mview_series_limit(v,
                               "the fleet holds as many series as it may keep");
        return NULL;
    }
    if (r == -EEXIST)
        return "a sample whose name another family uses";
    if (r < 0)
        return "out of memory";
    if (!zc__mset_grow((void **) ts, cap_ts, *n_ts, sizeof(**ts)))
        return "out of memory";
    /* A count lower than the last snapshot's: the worker started counting
     * again. What it had counted stays in the fleet's sum. */
    if (cumulative && s->has_prev && val < s->prev)
        s->base += s->prev;
    s->has_prev = false;
    (*ts)[(*n_ts)++] =
        (struct tsample) { .s = s, .v = val, .cumulative = cumulative };
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
    size_t taken;

    *why = NULL;
    *line = 0;
    /* The last snapshot's counts, noted on their samples: a count that
     * went down, or a series that is gone, keeps what it had counted. */
    for (size_t i = 0; i < v->n_text; i++)
        if (v->text[i].cumulative) {
            v->text[i].s->prev = v->text[i].v;
            v->text[i].s->has_prev = true;
        }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t) (end - p)),
                   *e = nl ? nl : end;
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
    taken = n_ts;
    /* A count the new snapshot leaves out is carried as it was (it may
     * come back, higher), or, with no room, kept in the fleet's base. */
    for (size_t i = 0; i < v->n_text; i++) {
        struct sample *s = v->text[i].s;

        if (!s->has_prev)
            continue;
        s->has_prev = false;
        if (n_ts < ZC__SNAPSHOT_SERIES_MAX &&
            zc__mset_grow((void **) &ts, &cap_ts, n_ts, sizeof(*ts)))
            ts[n_ts++] = v->text[i];
        else
            s->base += s->prev;
    }
    free(v->text);
    v->text = ts;
    v->n_text = n_ts;
    return (int) taken;
}
