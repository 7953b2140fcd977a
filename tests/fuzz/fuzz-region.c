/*
 * libFuzzer target for a worker's metrics region as the primary reads it
 * (metrics/region.c): shared memory a buggy worker, or one of another
 * version, could have filled with anything. The input is the region: its
 * header (magic, size, the published end), descriptors and cells. Beyond
 * "no crash, no sanitizer report, no read out of bounds, no leak": what
 * the set writes is whole lines, and parsing again finds nothing new.
 * The seeds are regions the library wrote itself
 * (build/test-runner --helper metrics_region FILE).
 *
 *   make fuzz && build-fuzz/fuzz-region -max_total_time=60 NEW_DIR tests/fuzz/corpus-region
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

/* The text, checked; NULL if the buffer failed. */
static char *exposition(struct zc__mset *m, size_t *len)
{
    struct zc__buf b = { 0 };

    zc__mset_expose(m, &b);
    if (!b.failed && b.len && (b.data[b.len - 1] != '\n' ||
                               memchr(b.data, '\0', b.len)))
        abort();
    *len = b.failed ? 0 : b.len;
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    return b.data;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zc__mset *m;
    struct zc__mview *v;
    size_t len, n1, n2;
    uint64_t *region;

    zc_log_set_sink(quiet, NULL);
    /* Mapped memory is 8-byte aligned and whole cells; the input is not. */
    len = (size + 7) & ~(size_t) 7;
    if (len < sizeof(struct zc__mhead))
        len = sizeof(struct zc__mhead);
    region = calloc(len / 8, 8);
    m = zc__mset_new();
    if (region && m) {
        memcpy(region, data, size);
        v = zc__mview_new(m, 3, 0, region, len);
        if (v) {
            char *one = exposition(m, &n1), *two = exposition(m, &n2);

            /* Nothing was published since: the same text again, to the
             * byte (a series read twice would count twice). */
            if (one && two && (n1 != n2 || memcmp(one, two, n1)))
                abort();
            free(one);
            free(two);
            zc__mview_fold(v);
            zc__mview_free(v);
            free(exposition(m, &n1));
        }
    }
    zc__mset_free(m);
    free(region);
    return 0;
}
