/* Bytes from a pipe cut into lines (lines.c): pure, no system call. */
#ifndef ZC_LINES_H
#define ZC_LINES_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Zero it and set limit (at least 4) to start. Holds at most limit + 1
 * bytes, allocated only while a line that came in pieces is unfinished.
 */
struct zc__lines {
    size_t limit; /* the longest line given whole */
    char *buf;
    size_t len;
    unsigned part; /* parts of the current line already given */
};

/*
 * Called with each line, without its newline. part is 0 for a whole
 * line; a line longer than limit comes in parts 1, 2, ... of at most
 * limit bytes each (cut between UTF-8 characters where it can be), and
 * last is set on the part that ends it (its newline, or the end of the
 * stream).
 */
typedef void (*zc__line_fn)(void *arg, const char *s, size_t n, unsigned part,
                            bool last);

/* Feeds n bytes: every line they complete is given to fn. Returns 0, or
 * -ENOMEM when an unfinished line could not be kept (it is then given
 * to fn as it is, as a part, rather than lost). */
int zc__lines_feed(struct zc__lines *l, const char *data, size_t n,
                   zc__line_fn fn, void *arg);
/* Holds n bytes (at most the limit) as the unfinished line, the part'th
 * of it, as another reader of the same stream left it (an upgrade hands
 * it over); l holds nothing yet. 0, -EINVAL or -ENOMEM. */
int zc__lines_hold(struct zc__lines *l, const char *s, size_t n, unsigned part);
/* The stream ended: an unfinished line is given, as its last part. */
void zc__lines_end(struct zc__lines *l, zc__line_fn fn, void *arg);
/* Whether an unfinished line is held. */
bool zc__lines_pending(const struct zc__lines *l);
void zc__lines_free(struct zc__lines *l);

#endif
