/*
 * The state a primary hands to the image it executes: tagged records in
 * a versioned, checksummed run (state.h). Written and read here only, so
 * that the format is one file, and read as if it came from anywhere.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/parse.h"
#include "proto/state.h"

#define REC_HEAD 6 /* u16 tag, u32 length */

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t) (v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;

    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* CRC-32 (IEEE, reflected), bit by bit: a state is written once per
 * upgrade and is small, so no table. */
uint32_t zc__state_crc(const void *data, size_t n)
{
    const uint8_t *p = data;
    uint32_t c = 0xffffffffu;

    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c >> 1 ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

static uint8_t *room(struct zc__state_w *w, size_t n)
{
    if (w->failed || n > ZC__STATE_MAX - w->len) {
        w->failed = true;
        return NULL;
    }
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        uint8_t *d;

        while (cap < w->len + n)
            cap *= 2;
        d = realloc(w->data, cap);
        if (!d) {
            w->failed = true;
            return NULL;
        }
        w->data = d;
        w->cap = cap;
    }
    w->len += n;
    return w->data + w->len - n;
}

void zc__state_begin(struct zc__state_w *w)
{
    uint8_t *h;

    *w = (struct zc__state_w) { 0 };
    h = room(w, ZC__STATE_HEADER);
    if (h)
        memset(h, 0, ZC__STATE_HEADER);
}

void zc__state_bytes(struct zc__state_w *w, uint16_t tag, const void *p,
                     size_t n)
{
    uint8_t *r = n > UINT32_MAX ? NULL : room(w, REC_HEAD + n);

    if (!r) {
        w->failed = true;
        return;
    }
    put_le(r, tag, 2);
    put_le(r + 2, n, 4);
    if (n)
        memcpy(r + REC_HEAD, p, n);
}

void zc__state_u64(struct zc__state_w *w, uint16_t tag, uint64_t v)
{
    uint8_t b[8];

    put_le(b, v, 8);
    zc__state_bytes(w, tag, b, 8);
}

void zc__state_text(struct zc__state_w *w, uint16_t tag, const char *s)
{
    zc__state_bytes(w, tag, s, strlen(s));
}

void zc__state_open(struct zc__state_w *w, uint16_t tag)
{
    if (w->depth == sizeof(w->open) / sizeof(w->open[0])) {
        w->failed = true;
        return;
    }
    zc__state_bytes(w, tag | ZC__STATE_SECTION, NULL, 0);
    if (!w->failed)
        w->open[w->depth++] = w->len - REC_HEAD;
}

void zc__state_close(struct zc__state_w *w)
{
    size_t at;

    if (w->failed || w->depth == 0) {
        w->failed = true;
        return;
    }
    at = w->open[--w->depth];
    put_le(w->data + at + 2, w->len - at - REC_HEAD, 4);
}

uint8_t *zc__state_finish(struct zc__state_w *w, size_t *len)
{
    uint8_t *d = w->data;

    if (w->failed || w->depth || !d) {
        free(d);
        *w = (struct zc__state_w) { 0 };
        return NULL;
    }
    memcpy(d, "ZCST", 4);
    put_le(d + 4, ZC__STATE_VERSION, 4);
    put_le(d + 8, w->len - ZC__STATE_HEADER, 4);
    put_le(d + 12,
           zc__state_crc(d + ZC__STATE_HEADER, w->len - ZC__STATE_HEADER), 4);
    *len = w->len;
    *w = (struct zc__state_w) { 0 };
    return d;
}

int zc__state_open_read(struct zc__state_r *r, const void *data, size_t len,
                        uint32_t *version, char *why, size_t size)
{
    const uint8_t *d = data;
    uint64_t n;

    if (len < ZC__STATE_HEADER || memcmp(d, "ZCST", 4) != 0)
        return zc__why(why, size, "not a zcluster state (no ZCST header)");
    *version = (uint32_t) get_le(d + 4, 4);
    n = get_le(d + 8, 4);
    if (n != len - ZC__STATE_HEADER)
        return zc__why(why, size, "state of %zu bytes says %llu", len,
                       (unsigned long long) n + ZC__STATE_HEADER);
    if (zc__state_crc(d + ZC__STATE_HEADER, (size_t) n) != get_le(d + 12, 4))
        return zc__why(why, size,
                       "state corrupt: its checksum does not "
                       "match");
    r->p = d + ZC__STATE_HEADER;
    r->end = d + len;
    return 0;
}

int zc__state_next(struct zc__state_r *r, struct zc__state_rec *rec)
{
    size_t left = (size_t) (r->end - r->p), n;

    if (left == 0)
        return 0;
    if (left < REC_HEAD)
        return -EINVAL;
    n = (size_t) get_le(r->p + 2, 4);
    if (n > left - REC_HEAD) {
        r->p = r->end;
        return -EINVAL;
    }
    rec->tag = (uint16_t) get_le(r->p, 2);
    rec->value = r->p + REC_HEAD;
    rec->len = n;
    r->p += REC_HEAD + n;
    return 1;
}

void zc__state_enter(struct zc__state_r *inner,
                     const struct zc__state_rec *section)
{
    inner->p = section->value;
    inner->end = section->value + section->len;
}

int zc__state_get_u64(const struct zc__state_rec *rec, uint64_t *v)
{
    if (rec->len != 8)
        return -EINVAL;
    *v = get_le(rec->value, 8);
    return 0;
}

int zc__state_get_text(const struct zc__state_rec *rec, char *buf, size_t size)
{
    size_t n = rec->len < size ? rec->len : size - 1;

    if (size == 0 || memchr(rec->value, '\0', rec->len))
        return -EINVAL;
    memcpy(buf, rec->value, n);
    buf[n] = '\0';
    return 0;
}
