/*
 * Options: their defaults (zc_options_init) and the check every caller
 * gets, the tool and the library alike, on the ranges of the options
 * table (optable.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/parse.h"
#include "primary/core/optable.h"
#include "primary/core/options.h"

#define NS "zc:primary"

/* The defaults, into the whole of this library's struct. */
static void defaults(zc_options *o)
{
    memset(o, 0, sizeof(*o));
    o->struct_size = sizeof(*o);
    o->ready = ZC_READY_AUTO;
    o->balance = ZC_BALANCE_AUTO;
    o->ready_delay_ms = 1000;
    o->respawn = ZC_RESPAWN_ON_FAILURE;
    o->respawn_delay_ms = 1000;
    o->max_respawn_delay_ms = 30000;
    o->backoff_factor = 2.0;
    o->backoff_reset_ms = 10000;
    o->shutdown_timeout_ms = 30000;
    o->stop_signal = SIGTERM;
    o->ipc_max_message = ZC_IPC_MAX_MESSAGE;
    o->ipc_queue_max = 1024 * 1024;
    o->ready_timeout_ms = 10000;
    o->max_surge = 1;
    o->metrics_timeout_ms = 5000;
    o->metrics_wait_ms = 500;
    o->metrics_memory = 1024 * 1024;
    o->sticky_wait_ms = 2000;
    o->sticky_queue = 1024;
    o->proxy_timeout_ms = 5000;
    o->watchdog_signal = SIGABRT;
    o->watchdog_grace_ms = 5000;
    o->watchdog_action = ZC_WATCHDOG_KILL;
    o->kill_mode = ZC_KILL_GROUP;
    o->recycle_jitter = 0.1;
    o->recycle_concurrency = 1;
    o->recycle_spacing_ms = 10000;
    o->failed_retry_ms = 300000;
    o->backoff_jitter = 0.5;
    o->umask = -1;
    o->log_format = zc__log_format_env();
}

int zc_options_init_sized(zc_options *o, size_t size)
{
    zc_options d;

    if (!o || size < ZC__OPTIONS_MIN_SIZE || size > UINT32_MAX)
        return -EINVAL;
    defaults(&d);
    /* Only the caller's bytes: a struct from an older header is smaller
     * than ours, and what lies past it is the caller's stack. */
    if (size <= sizeof(d)) {
        memcpy(o, &d, size);
    } else {
        memset(o, 0, size);
        memcpy(o, &d, sizeof(d));
    }
    o->struct_size = (uint32_t) size;
    return 0;
}

int zc__options_import(zc_options *out, const zc_options *in, char *why,
                       size_t size)
{
    size_t n = in ? in->struct_size : 0;

    defaults(out);
    if (n < ZC__OPTIONS_MIN_SIZE)
        return zc__why(why, size,
                       "options not set up by zc_options_init() "
                       "(struct_size %zu)",
                       n);
    /* From a newer header: the fields this library does not know must be
     * left alone, or the program expects what this library cannot do. */
    for (size_t i = sizeof(*out); i < n; i++)
        if (((const unsigned char *) in)[i])
            return zc__why(why, size,
                           "the program was built against a newer "
                           "zcluster.h (%zu bytes of options, this library "
                           "knows "
                           "%zu) and sets options this library does not have",
                           n, sizeof(*out));
    memcpy(out, in, n < sizeof(*out) ? n : sizeof(*out));
    out->struct_size = sizeof(*out);
    return 0;
}

/* A row's range, on the field as the library's caller set it. Durations
 * with no range of their own, and a day's upper bound, are the tool's
 * parsing limits, not the library's. */
static bool in_range(const zc_options *o, const struct zc__opt *r)
{
    const void *f = (const char *) o + r->offset;
    double v;

    switch (r->kind) {
    case ZC__OPT_UINT:
        v = *(const unsigned *) f;
        /* workers: 0 is one per CPU */
        if (v == 0 && r->offset == offsetof(zc_options, workers))
            return true;
        break;
    case ZC__OPT_DURATION:
        v = *(const uint32_t *) f;
        break;
    case ZC__OPT_FACTOR:
        v = *(const double *) f;
        break;
    default:
        return true;
    }
    if (r->max == 0)
        return true;
    return v >= r->min && (v <= r->max || r->max == ZC__DAY_MS);
}

/* The library's callers get the tool's checks too: a bad option is a
 * logged error and exit status 2, never a fleet that misbehaves later. */

/* Checks on an imported, whole struct (the caller's may be smaller). */
static int check(const zc_options *o, bool has_inherited, char *why,
                 size_t why_size)
{
    zc_options m = *o;
    char mode[16];

    if (o->respawn_delay_ms > o->max_respawn_delay_ms)
        return zc__why(why, why_size,
                       "--respawn-delay %u ms is larger than "
                       "--max-respawn-delay %u ms",
                       o->respawn_delay_ms, o->max_respawn_delay_ms);
    /* sticky alone, as the library said it before balance existed, is fine */
    if (o->sticky && o->balance != ZC_BALANCE_STICKY &&
        o->balance != ZC_BALANCE_SHARED && o->balance != ZC_BALANCE_AUTO) {
        (void) zc_option_format(o, "balance", mode, sizeof(mode));
        return zc__why(why, why_size,
                       "--sticky and --balance %s contradict each "
                       "other: --sticky is --balance sticky",
                       mode);
    }
    zc__options_reconcile(&m);
    (void) zc_option_format(&m, "balance", mode, sizeof(mode));
    if (m.proxy_protocol && m.balance != ZC_BALANCE_STICKY &&
        m.balance != ZC_BALANCE_LEAST_CONN)
        return zc__why(why, why_size,
                       "--proxy-protocol needs --sticky or "
                       "--balance least-conn: only then does the primary "
                       "accept "
                       "connections and read their headers");
    if ((m.balance == ZC_BALANCE_STICKY ||
         m.balance == ZC_BALANCE_LEAST_CONN) &&
        m.n_listen == 0 && !has_inherited)
        return o->sticky ? zc__why(why, why_size,
                                   "--sticky needs a listen address (-l) for "
                                   "the primary to accept on")
                         : zc__why(why, why_size,
                                   "--balance %s needs a listen address (-l) "
                                   "for the primary to accept on",
                                   mode);
    if (m.watchdog_ms && m.watchdog_ms < ZC__WATCHDOG_MIN_MS)
        return zc__why(why, why_size,
                       "--watchdog %u ms is shorter than the "
                       "primary can honour: at least %d ms (0: off)",
                       m.watchdog_ms, ZC__WATCHDOG_MIN_MS);
    if ((m.watchdog_require || m.watchdog_action != ZC_WATCHDOG_KILL) &&
        !m.watchdog_ms)
        return zc__why(why, why_size,
                       "--watchdog-require and --watchdog-action "
                       "need --watchdog DUR");
    return 0;
}

int zc__options_validate(const zc_options *o)
{
    const struct zc__opt *r;
    const char *why = NULL;
    char range[64], words[160];

    for (size_t i = 0; (r = zc__opt_at(i)); i++)
        if (!in_range(o, r)) {
            zc__opt_range_text(r, range, sizeof(range));
            zc_log(ZC_LOG_ERROR, NS, "invalid options: %s: must be %s%s",
                   r->field, range, r->offset == offsetof(zc_options, workers)
                   ? " (0: one per CPU)" : "");
            return -EINVAL;
        }
    if (o->n_listen > ZC_MAX_LISTEN || (o->n_listen && !o->listen))
        why = (snprintf(words, sizeof(words), "listen: more than %d "
                        "addresses", ZC_MAX_LISTEN), words);
    else if (!zc__opt_word_known(ZC__OPT_READY, o->ready))
        why = "ready: unknown policy";
    else if (!zc__opt_word_known(ZC__OPT_RESPAWN, o->respawn))
        why = "respawn: unknown policy";
    else if (o->stop_signal <= 0 || o->stop_signal >= NSIG ||
             o->stop_signal == SIGSTOP)
        why = "stop_signal: not a signal that can stop a worker";
    else if (o->command && !o->command[0])
        why = "command: empty";
    else if (o->ipc_max_message == 0 || o->ipc_max_message > (1u << 30))
        why = "ipc_max_message: must be from 1 byte to 1 GiB";
    else if (o->ipc_queue_max < 4096)
        why = "ipc_queue_max: must be at least 4096 bytes";
    else if (o->metrics_memory < 4096 || o->metrics_memory > (1u << 30) ||
             o->metrics_memory % 4096)
        why = "metrics_memory: must be whole pages from 4 KiB to 1 GiB";
    else if (!zc__opt_word_known(ZC__OPT_BALANCE, o->balance))
        why = "balance: unknown mode";
    else if (o->watchdog_signal <= 0 || o->watchdog_signal >= NSIG ||
             o->watchdog_signal == SIGSTOP || o->watchdog_signal == SIGKILL)
        why = "watchdog_signal: not a signal a worker can be sent first "
              "(SIGKILL follows it anyway)";
    else if (!zc__opt_word_known(ZC__OPT_WATCHDOG_ACTION, o->watchdog_action))
        why = "watchdog_action: unknown action";
    else if (!zc__opt_word_known(ZC__OPT_KILL_MODE, o->kill_mode))
        why = "kill_mode: unknown mode";
    else if ((o->give_up_count == 0) != (o->give_up_window_ms == 0))
        why = "give_up_count and give_up_window_ms: set both, or neither";
    else if (o->umask < -1 || o->umask > 0777)
        why = "umask: must be -1 (the primary's) or a mode from 0 to 0777";
    else if (!zc__opt_word_known(ZC__OPT_OUTPUT, o->output))
        why = "output: unknown format";
    else if (!zc__opt_word_known(ZC__OPT_OVERFLOW, o->output_overflow))
        why = "output_overflow: unknown policy";
    else if (!zc__opt_word_known(ZC__OPT_LOG_FORMAT, o->log_format))
        why = "log_format: unknown format";

    /* What no single option can say, as the tool checks it; the listen
     * addresses are run.c's to check, with what it binds. */
    else if (check(o, true, words, sizeof(words)) < 0)
        why = words;
    if (why) {
        zc_log(ZC_LOG_ERROR, NS, "invalid options: %s", why);
        return -EINVAL;
    }
    for (size_t i = 0; (r = zc__opt_at(i)); i++) {
        const char *v;
        char text[200];

        if (r->kind != ZC__OPT_NAME && r->kind != ZC__OPT_PATH &&
            r->kind != ZC__OPT_GROUP && r->kind != ZC__OPT_USER &&
            r->kind != ZC__OPT_DIR)
            continue;           /* not a string field */
        v = *(const char *const *) ((const char *) o + r->offset);
        if (v && zc__opt_check_text(r, v, text, sizeof(text)) < 0) {
            zc_log(ZC_LOG_ERROR, NS, "invalid options: %s: %s", r->field, text);
            return -EINVAL;
        }
    }
    for (size_t i = 0; i < o->n_listen; i++)
        if (zc_address_check(o->listen[i]) < 0) {
            zc_log(ZC_LOG_ERROR, NS, "invalid listen address '%s'",
                   o->listen[i]);
            return -EINVAL;
        }
    return 0;
}

int zc_options_check(const zc_options *o, bool has_inherited, char *why,
                     size_t why_size)
{
    zc_options m;

    if (zc__options_import(&m, o, why, why_size) < 0)
        return -EINVAL;
    return check(&m, has_inherited, why, why_size);
}
