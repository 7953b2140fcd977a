/* Text a worker (or any other process) supplies, made safe for a log line
 * and a terminal (clean.c). */
#ifndef ZC_CLEAN_H
#define ZC_CLEAN_H

#include <stdbool.h>
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

/*
 * The same for the inside of a JSON string: any n bytes become valid
 * JSON. Quotes, backslashes and controls are JSON escapes; printable
 * UTF-8 stays; a byte that is not UTF-8 becomes the text \xHH (a reader
 * sees the four characters \xHH). At most 6 bytes of out per byte of s;
 * cut short rather than split an escape. Returns the length written.
 */
size_t zc__json_escape(char *out, size_t size, const char *s, size_t n);

/* Whether zc__clean() would keep all n bytes of s as they are. */
bool zc__printable_utf8(const char *s, size_t n);

#endif
