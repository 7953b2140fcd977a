/* Number and duration parsing: strict, so "10x" or "-1" is an error and
 * never a silent 10 or 4294967295. */
#include <errno.h>
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

/* Digits with at most one '.': what strtod may read here (it would also
 * take "0x10", "1e3" and "inf"). */
static bool plain_number(const char *s)
{
    bool dot = false;

    for (; (*s >= '0' && *s <= '9') || (*s == '.' && !dot); s++)
        dot |= *s == '.';
    return !(*s == 'x' || *s == 'X' || *s == 'e' || *s == 'E' ||
             (*s >= '0' && *s <= '9') || *s == '.');
}

int zc__parse_duration_ms(const char *s, uint32_t max_ms, uint32_t *ret)
{
    static const struct { const char *unit; double ms; } units[] = {
        { "", 1 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
        { "h", 3600000 },
    };
    char *end;
    double v;

    if (!s || *s < '0' || *s > '9' || !plain_number(s))
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

int zc__parse_size(const char *s, uint64_t max, uint64_t *ret)
{
    /* Powers of 1024 whichever way they are written, as systemd's
     * MemoryMax= and ps read them: "768M", "768MB" and "768MiB" agree. */
    static const char *const units[] = { "K", "M", "G", "T" };
    double v, scale = 1;
    char *end;

    if (!s || *s < '0' || *s > '9' || !plain_number(s))
        return -EINVAL;
    errno = 0;
    v = strtod(s, &end);
    if (errno || !__builtin_isfinite(v))
        return -EINVAL;
    if (*end && strcmp(end, "B") != 0) {
        size_t i = 0;

        while (i < 4 && (end[0] != units[i][0] && end[0] != units[i][0] + 32))
            i++;
        if (i == 4 || (end[1] && strcmp(end + 1, "B") != 0 &&
                       strcmp(end + 1, "iB") != 0))
            return -EINVAL;
        for (size_t k = 0; k <= i; k++)
            scale *= 1024;
    }
    v *= scale;
    if (v > (double) max)
        return -ERANGE;
    *ret = (uint64_t) (v + 0.5);
    return 0;
}
