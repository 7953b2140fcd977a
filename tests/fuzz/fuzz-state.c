/*
 * libFuzzer target for the state a primary hands to its next image
 * (proto/state.c). Beyond "no crash, no sanitizer report": a state that
 * opens is walked whole, sections within bounds, and written again record
 * by record it is the same bytes (the format has one way to say a thing).
 * Each input is tried as it is (the header's checks) and as the records
 * of a state with a right header, so that the checksum does not keep the
 * fuzzer away from the walk.
 *
 *   make fuzz && build-fuzz/fuzz-state -max_total_time=60 NEW_DIR tests/fuzz/corpus-state
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Copies the records of r into w; false if r is malformed. */
static bool copy(struct zc__state_r *r, struct zc__state_w *w, int depth)
{
    struct zc__state_rec rec;
    int n;

    while ((n = zc__state_next(r, &rec)) == 1) {
        if (rec.tag & ZC__STATE_SECTION && depth < 8) {
            struct zc__state_r in;

            zc__state_enter(&in, &rec);
            zc__state_open(w, (uint16_t) (rec.tag & ~ZC__STATE_SECTION));
            if (!copy(&in, w, depth + 1))
                return false;
            zc__state_close(w);
        } else {
            zc__state_bytes(w, rec.tag, rec.value, rec.len);
        }
    }
    return n == 0;
}

static void walk(const uint8_t *data, size_t size)
{
    struct zc__state_r r;
    struct zc__state_w w;
    uint32_t version;
    uint8_t *again;
    size_t len;
    char why[128];

    if (zc__state_open_read(&r, data, size, &version, why, sizeof(why)) < 0) {
        if (!why[0])
            abort();
        return;
    }
    zc__state_begin(&w);
    if (!copy(&r, &w, 0)) {
        free(zc__state_finish(&w, &len));
        return;
    }
    again = zc__state_finish(&w, &len);
    /* The same records, the same bytes (the version is ours). */
    if (version == ZC__STATE_VERSION &&
        (!again || len != size || memcmp(again, data, size) != 0))
        abort();
    free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *whole;

    walk(data, size);
    if (size > (1u << 20))
        return 0;
    whole = malloc(ZC__STATE_HEADER + size);
    if (!whole)
        return 0;
    memcpy(whole, "ZCST", 4);
    for (int i = 0; i < 4; i++) {
        uint32_t crc = zc__state_crc(data, size);

        whole[4 + i] = (uint8_t) (ZC__STATE_VERSION >> (8 * i));
        whole[8 + i] = (uint8_t) (size >> (8 * i));
        whole[12 + i] = (uint8_t) (crc >> (8 * i));
    }
    if (size)
        memcpy(whole + ZC__STATE_HEADER, data, size);
    walk(whole, ZC__STATE_HEADER + size);
    free(whole);
    return 0;
}
