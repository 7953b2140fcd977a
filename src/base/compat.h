/* Platform probes and stubs, so logic never carries #ifdefs. */
#ifndef ZC_COMPAT_H
#define ZC_COMPAT_H

#include <stddef.h>

/* Closes every fd >= first. Only makes system calls: safe between fork and
 * exec. Uses close_range(2) and falls back to a bounded close loop. */
void zc__close_from(int first);

/* Closes fds[0..n): with one close_range(2) when they are a run of
 * consecutive numbers (fresh accepts usually are), else one by one. */
void zc__close_fds(const int *fds, size_t n);

/* "TERM" for SIGTERM; NULL for a number with no name. */
const char *zc__signal_name(int sig);

/* Parses "TERM", "SIGTERM", "term" or "15". Returns the number or -EINVAL. */
int zc__signal_parse(const char *s);

#endif
