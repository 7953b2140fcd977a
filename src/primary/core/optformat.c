/*
 * An option's value written as the tool would take it back ("30s",
 * "48M", "on-failure"), or what it means when unset: --help's defaults,
 * the status, and later a configuration file printed back.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/compat.h"
#include "primary/core/optable.h"

#define HOUR_MS 3600000u

static const void *cfield(const zc_options *o, const struct zc__opt *r)
{
    return (const char *) o + r->offset;
}

/* An enum field's word, "?" for a library caller's unknown value. */
static const char *word(enum zc__opt_kind kind, int value)
{
    const char *w = zc__opt_word(kind, value);

    return w ? w : "?";
}

static int text(char *buf, size_t size, const char *fmt, ...) ZC_PRINTF(3, 4);

/* A factor in the fewest digits that read back to the same double:
 * "2", "0.1", and a file written from it sets exactly what was set. */
static int factor(char *buf, size_t size, double v)
{
    char t[32];

    for (int digits = 6; digits < 17; digits++) {
        snprintf(t, sizeof(t), "%.*g", digits, v);
        if (strtod(t, NULL) == v)
            return text(buf, size, "%s", t);
    }
    return text(buf, size, "%.17g", v);
}

/* A duration as the tool takes it, in its largest exact unit: "30s",
 * "5m", "1h", "250ms"; "0". */
static int duration(char *buf, size_t size, uint32_t ms)
{
    if (ms && ms % HOUR_MS == 0)
        return text(buf, size, "%uh", ms / HOUR_MS);
    if (ms && ms % 60000 == 0)
        return text(buf, size, "%um", ms / 60000);
    if (ms && ms % 1000 == 0)
        return text(buf, size, "%us", ms / 1000);
    return text(buf, size, ms ? "%ums" : "%u", ms);
}

/* A size in its largest exact power of 1024: "48M", "2G"; bytes else. */
static int size_text(char *buf, size_t size, uint64_t n)
{
    static const char units[] = "KMGT";
    int u = -1;

    while (n && n % 1024 == 0 && u < 3) {
        n /= 1024;
        u++;
    }
    return u < 0 ? text(buf, size, "%llu", (unsigned long long) n)
                 : text(buf, size, "%llu%c", (unsigned long long) n, units[u]);
}

static int text(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, buf ? size : 0, fmt, ap);
    va_end(ap);
    return n;
}

int zc_option_format(const zc_options *o, const char *name, char *buf,
                     size_t size)
{
    const struct zc__opt *r = zc__opt_find(name);
    const void *f;
    const char *name_of;

    if (!o || !r || !zc__opt_fits(o, r, false))
        return -ENOENT;
    f = cfield(o, r);
    switch (r->kind) {
    case ZC__OPT_UINT:
        if (*(const unsigned *) f == 0 &&
            r->offset == offsetof(zc_options, workers))
            return text(buf, size, "one per CPU");
        return text(buf, size, "%u", *(const unsigned *) f);
    case ZC__OPT_DURATION: return duration(buf, size, *(const uint32_t *) f);
    case ZC__OPT_FACTOR: return factor(buf, size, *(const double *) f);
    case ZC__OPT_SIGNAL:
        name_of = zc__signal_name(*(const int *) f);
        return name_of ? text(buf, size, "%s", name_of)
                       : text(buf, size, "%d", *(const int *) f);
    case ZC__OPT_READY:
        if (o->ready == ZC_READY_DELAY) {
            char d[24];

            duration(d, sizeof(d), o->ready_delay_ms);
            return text(buf, size, "delay:%s", d);
        }
        return text(buf, size, "%s", word(r->kind, o->ready));
    case ZC__OPT_RESPAWN:
    case ZC__OPT_BALANCE:
    case ZC__OPT_WATCHDOG_ACTION:
    case ZC__OPT_KILL_MODE:
    case ZC__OPT_OVERFLOW:
    case ZC__OPT_LOG_FORMAT:
        return text(buf, size, "%s", word(r->kind, *(const int *) f));
    case ZC__OPT_OUTPUT:
        if (o->output == ZC_OUTPUT_AUTO)
            return text(buf, size, "%s",
                        o->log_format == ZC_LOG_FORMAT_JSON ? "json"
                                                            : "prefix");
        return text(buf, size, "%s", word(r->kind, o->output));
    case ZC__OPT_UMASK:
        return *(const int *) f < 0
                   ? text(buf, size, "the primary's")
                   : text(buf, size, "%04o", (unsigned) *(const int *) f);
    case ZC__OPT_FLAG:
        return text(buf, size, "%s", *(const bool *) f ? "on" : "off");
    case ZC__OPT_SIZE: return size_text(buf, size, *(const uint64_t *) f);
    case ZC__OPT_GIVE_UP:
        if (o->give_up_count) {
            char d[24];

            duration(d, sizeof(d), o->give_up_window_ms);
            return text(buf, size, "%u/%s", o->give_up_count, d);
        }
        return text(buf, size, "off");
    case ZC__OPT_LISTEN:
        return o->n_listen ? text(buf, size, "%s", o->listen[0])
                           : text(buf, size, "none");
    case ZC__OPT_ENV:
        return o->n_env ? text(buf, size, "%s", o->env[0])
                        : text(buf, size, "none");
    case ZC__OPT_NAME:
    case ZC__OPT_PATH:
        /* unset: what the fleet does then, not "none" (which for
         * --control means no socket at all) */
        if (!*(const char *const *) f)
            return text(buf, size, "%s",
                        r->kind == ZC__OPT_NAME
                            ? "the command's name"
                            : "NAME.sock in the runtime directory");
        return text(buf, size, "%s", *(const char *const *) f);
    case ZC__OPT_USER:
    case ZC__OPT_DIR:
        return text(buf, size, "%s",
                    *(const char *const *) f ? *(const char *const *) f
                                             : "the primary's");
    default:
        return text(buf, size, "%s",
                    *(const char *const *) f ? *(const char *const *) f
                                             : "none");
    }
}
