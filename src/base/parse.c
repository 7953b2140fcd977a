/* Number and duration parsing: strict, so "10x" or "-1" is an error and
 * never a silent 10 or 4294967295. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/parse.h"

int zc__parse_uint(const char *s, unsigned long min, unsigned long max,
                   unsigned long *ret)
{
    unsigned long v = 0;

    if (!s || !*s)
        return -EINVAL;
    for (const char *c = s; *c; c++) {
        if (*c < '0' || *c > '9')
            return -EINVAL;
        if (v > (max - (unsigned long) (*c - '0')) / 10)
            return -ERANGE;
        v = v * 10 + (unsigned long) (*c - '0');
    }
    if (v < min)
        return -ERANGE;
    *ret = v;
    return 0;
}

int zc__parse_duration_ms(const char *s, uint32_t max_ms, uint32_t *ret)
{
    static const struct { const char *unit; double ms; } units[] = {
        { "", 1 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
    };
    char *end;
    double v;

    if (!s || *s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtod(s, &end);
    if (errno || !__builtin_isfinite(v))
        return -EINVAL;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end, units[i].unit) != 0)
            continue;
        v *= units[i].ms;
        if (v > max_ms)
            return -ERANGE;
        *ret = (uint32_t) (v + 0.5);   /* v >= 0: round half up */
        return 0;
    }
    return -EINVAL;
}
