/* Small parsers shared by the tool and the library (unit-tested). */
#ifndef ZC_PARSE_H
#define ZC_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* "250", "250ms", "2s", "1.5s", "1m", "1h". Returns 0 with *ret in ms (at most
 * max_ms), or -EINVAL / -ERANGE. */
int zc__parse_duration_ms(const char *s, uint32_t max_ms, uint32_t *ret);

/* A size in bytes: "1048576", "512K", "768M", "768MB", "768MiB", "1.5G"
 * (K, M, G, T are powers of 1024, in either case, with or without B or
 * iB). 0 with *ret (at most max), or -EINVAL / -ERANGE. */
int zc__parse_size(const char *s, uint64_t max, uint64_t *ret);

/* A whole decimal number in [min, max], nothing else. 0 or -EINVAL/-ERANGE. */
int zc__parse_uint(const char *s, unsigned long min, unsigned long max,
                   unsigned long *ret);

/* Writes the sentence for the user into why (of size bytes; may be NULL)
 * and returns -EINVAL: how a parser of text from outside says no. */
int zc__why(char *why, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
