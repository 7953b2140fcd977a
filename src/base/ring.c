/*
 * The last lines a fleet's workers wrote, for `zclusterctl logs`: a queue
 * of copies bounded in bytes, the oldest dropped first. One allocation a
 * line: the lines come from pipes read in 64 KiB pieces, so this costs
 * little beside the write that carries each of them out.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/ring.h"

struct zc__ring_line {
    struct zc__ring_line *next;
    unsigned slot;
    size_t n;
    char s[];
};

static size_t cost(size_t n)
{
    return sizeof(struct zc__ring_line) + n;
}

static void drop_oldest(struct zc__ring *r)
{
    struct zc__ring_line *l = r->head;

    r->head = l->next;
    if (!r->head)
        r->tail = NULL;
    r->bytes -= cost(l->n);
    r->n--;
    free(l);
}

int zc__ring_add(struct zc__ring *r, unsigned slot, const char *s, size_t n)
{
    struct zc__ring_line *l;

    if (cost(n) > r->max_bytes)
        return 0;
    while (r->head && r->bytes + cost(n) > r->max_bytes)
        drop_oldest(r);
    l = malloc(cost(n));
    if (!l)
        return -ENOMEM;
    l->next = NULL;
    l->slot = slot;
    l->n = n;
    memcpy(l->s, s, n);
    if (r->tail)
        r->tail->next = l;
    else
        r->head = l;
    r->tail = l;
    r->bytes += cost(n);
    r->n++;
    return 0;
}

void zc__ring_each(const struct zc__ring *r, size_t last,
                   int (*want)(void *arg, unsigned slot),
                   void (*fn)(void *arg, const char *s, size_t n), void *arg)
{
    size_t match = 0, skip;
    const struct zc__ring_line *l;

    for (l = r->head; l; l = l->next)
        match += want(arg, l->slot) != 0;
    skip = match > last ? match - last : 0;
    for (l = r->head; l; l = l->next)
        if (want(arg, l->slot) && (skip ? (skip--, 0) : 1))
            fn(arg, l->s, l->n);
}

void zc__ring_walk(const struct zc__ring *r,
                   void (*fn)(void *arg, unsigned slot, const char *s,
                              size_t n),
                   void *arg)
{
    for (const struct zc__ring_line *l = r->head; l; l = l->next)
        fn(arg, l->slot, l->s, l->n);
}

void zc__ring_free(struct zc__ring *r)
{
    while (r->head)
        drop_oldest(r);
}
