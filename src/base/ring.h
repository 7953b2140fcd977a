/* The recent lines of a fleet's output, bounded (ring.c). */
#ifndef ZC_RING_H
#define ZC_RING_H

#include <stddef.h>
#include <stdint.h>

struct zc__ring_line;

/* Zero it and set max_bytes to start: the lines' bytes and their records
 * together stay within it; the oldest go first. */
struct zc__ring {
    size_t max_bytes;
    size_t bytes; /* held now, records included */
    size_t n;
    struct zc__ring_line *head, *tail; /* oldest, newest */
};

/* Keeps a copy of line s (n bytes) of slot; the oldest lines make room.
 * A line larger than the whole ring is not kept. -ENOMEM: not kept. */
int zc__ring_add(struct zc__ring *r, unsigned slot, const char *s, size_t n);

/* Calls fn with the last `last` lines (all: SIZE_MAX) whose slot
 * want(slot) accepts, oldest first. */
void zc__ring_each(const struct zc__ring *r, size_t last,
                   int (*want)(void *arg, unsigned slot),
                   void (*fn)(void *arg, const char *s, size_t n), void *arg);

/* Every line, oldest first, with its slot (an upgrade hands them over). */
void zc__ring_walk(const struct zc__ring *r,
                   void (*fn)(void *arg, unsigned slot, const char *s,
                              size_t n),
                   void *arg);

void zc__ring_free(struct zc__ring *r);

#endif
