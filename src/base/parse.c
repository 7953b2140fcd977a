/* Number and duration parsing: strict, so "10x" or "-1" is an error and
 * never a silent 10 or 4294967295. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdbool.h>
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

/* A number of digits with at most one '.', into *v, and where its unit
 * starts; false for anything else (strtod alone would also take "0x10",
 * "1e3" and "inf"). */
static bool read_number(const char *s, double *v, char **end)
{
    const char *c = s;
    bool dot = false;

    if (!s || *s < '0' || *s > '9')
        return false;
    for (; (*c >= '0' && *c <= '9') || (*c == '.' && !dot); c++)
        dot |= *c == '.';
    if (*c == 'x' || *c == 'X' || *c == 'e' || *c == 'E' || *c == '.')
        return false;
    errno = 0;
    *v = strtod(s, end);
    return !errno && __builtin_isfinite(*v);
}

int zc__parse_duration_ms(const char *s, uint32_t max_ms, uint32_t *ret)
{
    static const struct { const char *unit; double ms; } units[] = {
        { "", 1 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
        { "h", 3600000 },
    };
    char *end;
    double v;

    if (!read_number(s, &v, &end))
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

int zc__parse_size(const char *s, uint64_t max, uint64_t *ret)
{
    /* Powers of 1024 whichever way they are written, as systemd's
     * MemoryMax= and ps read them: "768M", "768MB" and "768MiB" agree. */
    static const char units[] = "KMGT";
    const char *unit;
    double v;
    char *end;

    if (!read_number(s, &v, &end))
        return -EINVAL;
    if (*end && strcmp(end, "B") != 0) {
        unit = strchr(units, toupper((unsigned char) *end));
        if (!unit || !*unit || (end[1] && strcmp(end + 1, "B") != 0 &&
                                strcmp(end + 1, "iB") != 0))
            return -EINVAL;
        for (const char *u = units; u <= unit; u++)
            v *= 1024;
    }
    if (v > (double) max)
        return -ERANGE;
    *ret = (uint64_t) (v + 0.5);
    return 0;
}

int zc__why(char *why, size_t size, const char *fmt, ...)
{
    va_list ap;

    if (why && size) {
        va_start(ap, fmt);
        vsnprintf(why, size, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}
