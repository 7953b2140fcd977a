/*
 * libFuzzer target for the text snapshots workers in other languages send
 * (metrics/text.c): Prometheus text from a peer the primary does not
 * trust. Beyond "no crash, no sanitizer report, no leak": what the set
 * writes afterwards is whole lines, each a "# " line or "KEY VALUE"; the
 * same snapshot from two workers is summed, not taken twice as families;
 * a worker that goes keeps its counters in the sum.
 *
 *   make fuzz && build-fuzz/fuzz-text -max_total_time=60 NEW_DIR tests/fuzz/corpus-text
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/set.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(int level, const char *ns, const char *msg, void *userdata)
{
    (void) level;
    (void) ns;
    (void) msg;
    (void) userdata;
}

/* Whole lines: comments, or a key, one space, a value. */
static void check_exposition(const struct zc__buf *b)
{
    const char *p, *end;

    if (b->failed || b->len == 0)
        return;
    if (b->data[b->len - 1] != '\n' || memchr(b->data, '\0', b->len))
        abort();
    for (p = b->data, end = b->data + b->len; p < end; ) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));

        if (!nl || nl == p)
            abort();
        if (*p != '#' && !memchr(p, ' ', (size_t) (nl - p)))
            abort();
        p = nl + 1;
    }
}

static void expose(struct zc__mset *m)
{
    struct zc__buf b = { 0 };

    zc__mset_expose(m, &b);
    check_exposition(&b);
    free(b.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zc__mset *m = zc__mset_new();
    struct zc__mview *a, *b;
    const char *why;
    unsigned line;
    int n;

    zc_log_set_sink(quiet, NULL);
    if (!m)
        return 0;
    a = zc__mview_new(m, 1, 0, NULL, 0);
    b = zc__mview_new(m, 2, 1, NULL, 0);
    if (a && b) {
        n = zc__mview_text(a, (const char *) data, size, &why, &line);
        if (n < 0 || (why && line == 0))
            abort();
        if (zc__mview_text(b, (const char *) data, size, &why, &line) != n)
            abort();
        expose(m);
        /* A second snapshot replaces the first. */
        (void) zc__mview_text(a, (const char *) data, size / 2, &why, &line);
        expose(m);
        zc__mview_fold(a);
        zc__mview_free(a);
        expose(m);
    }
    zc__mset_free(m);
    return 0;
}
