/*
 * Cutting a worker's output into lines. A pipe gives bytes in whatever
 * pieces the writer's writes and the kernel's pages make, so a line may
 * arrive in many reads, and two workers' lines must never be mixed: each
 * stream has its own assembler, and only whole lines leave it. A line with
 * no end (a worker printing binary, or a 10 MiB line) must not grow
 * memory without bound, so past the limit it leaves in numbered parts.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/lines.h"

/* Where to cut s (more than limit bytes, no newline) near limit without
 * splitting a UTF-8 character: back over at most 3 continuation bytes. */
static size_t cut_at(const char *s, size_t limit)
{
    size_t c = limit;

    for (int i = 0; i < 3 && c > 1; i++, c--)
        if (((unsigned char) s[c] & 0xc0) != 0x80)
            return c;
    return ((unsigned char) s[c] & 0xc0) != 0x80 ? c : limit;
}

static void give(struct zc__lines *l, const char *s, size_t n, bool last,
                 zc__line_fn fn, void *arg)
{
    unsigned part = last && !l->part ? 0 : ++l->part;

    if (last)
        l->part = 0;
    fn(arg, s, n, part, last);
}

int zc__lines_feed(struct zc__lines *l, const char *data, size_t n,
                   zc__line_fn fn, void *arg)
{
    size_t limit = l->limit < 4 ? 4 : l->limit;

    while (n) {
        const char *nl;
        size_t take, c;

        if (l->len == 0) {
            /* Nothing held: lines straight from the input. */
            take = n < limit + 1 ? n : limit + 1;
            nl = memchr(data, '\n', take);
            if (nl) {
                give(l, data, (size_t) (nl - data), true, fn, arg);
                n -= (size_t) (nl - data) + 1;
                data = nl + 1;
                continue;
            }
            if (n > limit) {
                c = cut_at(data, limit);
                give(l, data, c, false, fn, arg);
                data += c;
                n -= c;
                continue;
            }
            if (!l->buf && !(l->buf = malloc(limit + 1))) {
                give(l, data, n, false, fn, arg);
                return -ENOMEM;
            }
            memcpy(l->buf, data, n);
            l->len = n;
            return 0;
        }
        take = limit + 1 - l->len;
        if (take > n)
            take = n;
        nl = memchr(data, '\n', take);
        if (nl) {
            memcpy(l->buf + l->len, data, (size_t) (nl - data));
            l->len += (size_t) (nl - data);
            give(l, l->buf, l->len, true, fn, arg);
            /* Held only while a line is unfinished: a thousand quiet
             * workers cost no buffers. */
            l->len = 0;
            free(l->buf);
            l->buf = NULL;
            n -= (size_t) (nl - data) + 1;
            data = nl + 1;
            continue;
        }
        memcpy(l->buf + l->len, data, take);
        l->len += take;
        data += take;
        n -= take;
        if (l->len == limit + 1) {
            c = cut_at(l->buf, limit);
            give(l, l->buf, c, false, fn, arg);
            memmove(l->buf, l->buf + c, l->len - c);
            l->len -= c;
        }
    }
    return 0;
}

void zc__lines_end(struct zc__lines *l, zc__line_fn fn, void *arg)
{
    if (l->len)
        give(l, l->buf, l->len, true, fn, arg);
    else if (l->part)
        give(l, "", 0, true, fn, arg);
    l->len = 0;
}

bool zc__lines_pending(const struct zc__lines *l)
{
    return l->len || l->part;
}

void zc__lines_free(struct zc__lines *l)
{
    free(l->buf);
    l->buf = NULL;
    l->len = 0;
    l->part = 0;
}

int zc__lines_hold(struct zc__lines *l, const char *s, size_t n, unsigned part)
{
    size_t limit = l->limit < 4 ? 4 : l->limit;

    if (l->len || n > limit)
        return -EINVAL;
    l->part = part;
    if (!n)
        return 0;
    if (!l->buf && !(l->buf = malloc(limit + 1)))
        return -ENOMEM;
    memcpy(l->buf, s, n);
    l->len = n;
    return 0;
}
