/*
 * libFuzzer target for the workers' output path's pure parts: the line
 * assembler (base/lines.c) fed the input in pieces of every size, and each
 * line it gives written as the primary writes it (proto/record.c). Beyond
 * "no crash, no sanitizer report":
 * - the lines and parts put back together are the input, newlines and all;
 * - no piece holds a newline or is longer than the limit, and parts are
 *   numbered 1, 2, ... with the last one marked;
 * - every JSON record is one valid JSON value on one line, whatever the
 *   bytes (merged with a worker's own object or not);
 * - the ring of recent lines never holds more than its bound.
 *
 *   make fuzz && build-fuzz/fuzz-output -max_total_time=60 NEW_DIR tests/fuzz/corpus-output
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/lines.h"
#include "base/ring.h"
#include "proto/json.h"
#include "proto/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct state {
    const uint8_t *in;
    size_t in_len, at; /* what the pieces must put back together */
    size_t limit;
    unsigned next_part;
    struct zc__buf rec;
    struct zc__ring ring;
};

static void on_line(void *arg, const char *s, size_t n, unsigned part,
                    bool last)
{
    struct state *st = arg;
    struct zc__record r = { .when = "2026-12-05T00:00:00.000Z",
                            .fleet = "fz",
                            .slot = 1,
                            .worker = 2,
                            .pid = 3,
                            .gen = 4,
                            .part = part,
                            .last = last };

    if (n > st->limit || memchr(s, '\n', n))
        abort();
    if (part ? part != st->next_part + 1 : st->next_part || !last)
        abort();
    st->next_part = last ? 0 : part;
    /* The input, in order. */
    if (st->at + n > st->in_len || memcmp(st->in + st->at, s, n))
        abort();
    st->at += n;
    if (last) {
        /* its newline, or the end of the input */
        if (st->at < st->in_len && st->in[st->at] != '\n')
            abort();
        st->at += st->at < st->in_len;
    }
    st->rec.len = 0;
    zc__record_json(&st->rec, &r, s, n);
    if (st->rec.failed || !st->rec.len ||
        st->rec.data[st->rec.len - 1] != '\n' ||
        memchr(st->rec.data, '\n', st->rec.len - 1) ||
        !zc__json_valid(st->rec.data, st->rec.len - 1))
        abort();
    st->rec.len = 0;
    zc__record_prefix(&st->rec, &r, s, n);
    if (memchr(st->rec.data, '\n', st->rec.len - 1))
        abort();
    (void) zc__ring_add(&st->ring, (unsigned) n % 4, st->rec.data, st->rec.len);
    if (st->ring.bytes > st->ring.max_bytes)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct state st = { .ring = { .max_bytes = 2048 } };
    struct zc__lines l = { 0 };
    unsigned seed;

    if (size < 2)
        return 0;
    l.limit = st.limit = 4 + data[0] % 200;
    seed = data[1];
    st.in = data + 2;
    st.in_len = size - 2;
    for (size_t off = 0; off < st.in_len;) {
        size_t k = 1 + (seed = seed * 1103515245u + 12345u) % 97;

        if (k > st.in_len - off)
            k = st.in_len - off;
        if (zc__lines_feed(&l, (const char *) st.in + off, k, on_line, &st))
            abort();
        off += k;
    }
    zc__lines_end(&l, on_line, &st);
    if (st.at != st.in_len || st.next_part)
        abort();
    zc__lines_free(&l);
    zc__ring_free(&st.ring);
    free(st.rec.data);
    return 0;
}
