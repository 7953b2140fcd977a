/*
 * The state a primary hands to the image it executes (loop/upgrade.c):
 * a versioned run of tagged records, pure, fuzzed. The writer
 * appends; the reader walks, trusting nothing: every length is checked
 * against what is left, a record inside a section never runs past it, and
 * a tag the reader does not know is skipped (a newer image may add
 * records; what it cannot do without is refused by version).
 *
 *   header   "ZCST" u32 version, u32 length of what follows, u32 crc32
 *   record   u16 tag, u32 length, value
 *   section  a record whose value is records (tag with ZC__STATE_SECTION)
 *
 * Integers are little-endian. The fds a record names travel beside the
 * bytes (the records say which index of the fd list is whose).
 */
#ifndef ZC_STATE_H
#define ZC_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The version this image writes, and the oldest it reads. A test build
 * gives others (-D), to stand for an image that cannot read ours. */
#ifndef ZC__STATE_VERSION
#define ZC__STATE_VERSION 1
#endif
#ifndef ZC__STATE_MIN
#define ZC__STATE_MIN 1
#endif
#define ZC__STATE_SECTION 0x8000 /* the tag's bit: records inside */
#define ZC__STATE_HEADER 16
#define ZC__STATE_MAX (64u << 20) /* a fleet's state fits in far less */

struct zc__state_w {
    uint8_t *data;
    size_t len, cap;
    size_t open[8]; /* offsets of the sections not yet closed */
    unsigned depth;
    bool failed; /* out of memory, too deep, or too large */
};

/* CRC-32 (IEEE) of n bytes: the header's checksum of the records. */
uint32_t zc__state_crc(const void *data, size_t n);

/* Starts a state (its header); zc__state_finish() fills it in. */
void zc__state_begin(struct zc__state_w *w);
void zc__state_u64(struct zc__state_w *w, uint16_t tag, uint64_t v);
void zc__state_bytes(struct zc__state_w *w, uint16_t tag, const void *p,
                     size_t n);
void zc__state_text(struct zc__state_w *w, uint16_t tag, const char *s);
void zc__state_open(struct zc__state_w *w, uint16_t tag);
void zc__state_close(struct zc__state_w *w);
/* The whole state, its length in *len; NULL if anything failed (the
 * buffer is then freed). The caller frees it. */
uint8_t *zc__state_finish(struct zc__state_w *w, size_t *len);

struct zc__state_r {
    const uint8_t *p, *end;
};

struct zc__state_rec {
    uint16_t tag;
    const uint8_t *value;
    size_t len;
};

/* Checks the header of len bytes at data: magic, version (as *version),
 * length and checksum. Returns 0 with *r over the records, or -EINVAL
 * with why (of size bytes). A version other than ours is for the caller
 * to refuse. */
int zc__state_open_read(struct zc__state_r *r, const void *data, size_t len,
                        uint32_t *version, char *why, size_t size);
/* The next record of r: 1, 0 at the end, -EINVAL for one that runs past
 * the end (the rest is not read). */
int zc__state_next(struct zc__state_r *r, struct zc__state_rec *rec);
/* The records inside a section's record. */
void zc__state_enter(struct zc__state_r *inner,
                     const struct zc__state_rec *section);
/* A record's value as an integer (-EINVAL unless 8 bytes), or as text
 * (-EINVAL if it holds a NUL; copied with one, truncated to size). */
int zc__state_get_u64(const struct zc__state_rec *rec, uint64_t *v);
int zc__state_get_text(const struct zc__state_rec *rec, char *buf, size_t size);

#endif
