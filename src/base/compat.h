/* Platform probes and stubs, so logic never carries #ifdefs. */
#ifndef ZC_COMPAT_H
#define ZC_COMPAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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

/* /proc, for zc__proc_stat() over many pids (one path step less each):
 * an fd, or -1. */
int zc__proc_open(void);
/* User and system CPU ticks and resident pages of pid, from
 * /proc/PID/stat; false if it cannot be read. */
bool zc__proc_stat(pid_t pid, unsigned long long *ticks, long long *rss);

/* The CPU time (user and system, ns) and resident pages of pid, with one
 * clock read and /proc/PID/statm (proc: from zc__proc_open(), or -1);
 * false if it is gone. Cheaper than zc__proc_stat() for many pids. */
bool zc__proc_usage(int proc, pid_t pid, uint64_t *cpu_ns, long long *rss);

#endif
