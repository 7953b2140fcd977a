/* Namespaced, levelled logger: internal helpers. */
#ifndef ZC_LOG_H
#define ZC_LOG_H

#include <stdbool.h>

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

/* Re-read ZC_LOG_LEVEL and ZC_DEBUG (tests; after setenv). */
void zc__log_reload(void);

#endif
