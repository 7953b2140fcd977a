/* A configuration file's text (config.c): pure, fuzzed. The keys are the
 * tool's long options; what they mean is the option table's. */
#ifndef ZC_CONFIG_H
#define ZC_CONFIG_H

#include <stddef.h>

/* The largest file and line read: a fleet's options fit in far less,
 * and a file past these is a mistake (a log, a binary), not a config. */
#define ZC__CONF_MAX_BYTES (1024 * 1024)
#define ZC__CONF_MAX_LINE 8192

struct zc__conf_entry {
    unsigned line;     /* 1, 2, ... */
    const char *key;   /* [a-z0-9-], into the parsed copy */
    const char *value; /* trimmed, as written (quotes and all) */
};

struct zc__conf {
    char *text; /* a copy of the file, cut in place */
    struct zc__conf_entry *e;
    size_t n;
};

/*
 * Reads len bytes of a file: "key = value" lines, blank lines, and lines
 * whose first non-blank is '#'. Returns 0, or -EINVAL with *line (0: the
 * whole file) and a sentence in why that says what was expected. The
 * entries point into c->text; zc__conf_free() frees both.
 */
int zc__conf_parse(struct zc__conf *c, const char *text, size_t len,
                   unsigned *line, char *why, size_t size);
void zc__conf_free(struct zc__conf *c);

/*
 * Splits s into words as a POSIX shell splits a simple command, and does
 * nothing else (no variables, no globs, no ~): blanks separate words;
 * '...' keeps everything inside as it is; "..." keeps everything but \"
 * and \\ (and \$, \` as a shell would), which lose their backslash; a
 * backslash outside quotes keeps the next character as it is. Returns the
 * number of words (at least 1) with *argv, NULL-terminated, its strings
 * in the same allocation (one free()), or -EINVAL with why: an
 * unterminated quote, a trailing backslash, no word at all.
 */
int zc__conf_words(const char *s, char ***argv, char *why, size_t size);

/* The name of names (n of them) nearest to s by edit distance, if it is
 * at most 2 edits away (a typo, not another word), or NULL. */
const char *zc__conf_nearest(const char *s, const char *const *names, size_t n);

#endif
