/* Small parsers shared by the tool and the library (unit-tested). */
#ifndef ZC_PARSE_H
#define ZC_PARSE_H

#include <stdint.h>

/* "250", "250ms", "2s", "1.5s", "1m". Returns 0 with *ret in ms (at most
 * max_ms), or -EINVAL / -ERANGE. */
int zc__parse_duration_ms(const char *s, uint32_t max_ms, uint32_t *ret);

/* A whole decimal number in [min, max], nothing else. 0 or -EINVAL/-ERANGE. */
int zc__parse_uint(const char *s, unsigned long min, unsigned long max,
                   unsigned long *ret);

#endif
