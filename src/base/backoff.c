/* A delay that grows with each failure in a row. */
#include "base/backoff.h"

uint64_t zc__backoff_ms(uint32_t base_ms, double factor, uint32_t cap_ms,
                        unsigned n)
{
    double d = base_ms;

    for (unsigned i = 1; i < n && d < cap_ms; i++)
        d *= factor;
    if (!(d <= cap_ms)) /* also catches NaN */
        d = cap_ms;
    return (uint64_t) d;
}
