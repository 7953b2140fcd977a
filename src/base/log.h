/* Namespaced, levelled logger: internal helpers. */
#ifndef ZC_LOG_H
#define ZC_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "zcluster.h"

/* Glob match with '*' (any run) and '?' (one char); no classes. */
bool zc__log_glob_match(const char *pattern, const char *s);

/*
 * Whether ns is selected by a ZC_DEBUG-style list ("a:*,-a:b"): the last
 * pattern that matches decides; a list that never matches selects nothing.
 */
bool zc__log_patterns_match(const char *list, const char *ns);

/* Parse "error".."trace" (or 0..4). Returns the level or -EINVAL. */
int zc__log_level_parse(const char *s);

/* Re-read ZC_LOG_LEVEL, ZC_DEBUG and ZC_LOG_FORMAT (tests; after
 * setenv). */
void zc__log_reload(void);

/* ZC_LOG_FORMAT_JSON when ZC_LOG_FORMAT=json, else ZC_LOG_FORMAT_TEXT. */
int zc__log_format_env(void);
/* The default sink's format, and the fleet its JSON lines name. */
void zc__log_set_format(int format, const char *fleet);
/* Where the default sink's whole lines go instead of a write to stderr
 * (the primary's output path, which never blocks); NULL: stderr. */
typedef void (*zc__log_writer_fn)(const char *line, size_t n, void *arg);
void zc__log_set_writer(zc__log_writer_fn fn, void *arg);
/* "2026-12-05T03:01:02.123" (local) or "...Z" (UTC, utc). */
int zc__log_time(char *buf, size_t size, bool utc);

#endif
