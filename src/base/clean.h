/* Text a worker (or any other process) supplies, made safe for a log line
 * and a terminal (clean.c). */
#ifndef ZC_CLEAN_H
#define ZC_CLEAN_H

#include <stddef.h>

/*
 * Copies n bytes of s into out (size bytes, NUL-terminated, cut short
 * rather than split an escape): printable ASCII and valid UTF-8 of
 * printable characters as they are, every other byte (controls, DEL, C1
 * controls, invalid UTF-8) as the four characters \xHH, so that what a
 * worker says can never move a terminal's cursor, set its title or
 * forge a log line. Returns the length written.
 */
size_t zc__clean(char *out, size_t size, const char *s, size_t n);

#endif
