/* The options table (optable.c): one row per option of the tool. */
#ifndef ZC_OPTABLE_H
#define ZC_OPTABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "zcluster.h"

/* The shortest watchdog period: the primary's timers and the kernel's
 * scheduling are good to a few ms, and a ping every 50 ms is cheap, but a
 * shorter period would judge workers by the scheduler's noise. */
#define ZC__WATCHDOG_MIN_MS 100
/* The longest duration the tool takes where a row has no range of its
 * own, and the range's upper bound that means "the tool's, not the
 * library's". */
#define ZC__DAY_MS 86400000u
/* The most failures a --give-up window counts. */
#define ZC__GIVE_UP_MAX 100
/* The longest lifetime and retry: a month. */
#define ZC__MONTH_MS 2592000000u

enum zc__opt_kind {
    ZC__OPT_FLAG,            /* bool, no value */
    ZC__OPT_UINT,            /* unsigned, whole number in [min, max] */
    ZC__OPT_DURATION,        /* uint32_t ms; [min, max] when max, else a day */
    ZC__OPT_FACTOR,          /* double in [min, max] */
    ZC__OPT_SIGNAL,          /* int, a signal that can stop a process */
    ZC__OPT_READY,           /* ready (and ready_delay_ms) */
    ZC__OPT_RESPAWN,         /* respawn */
    ZC__OPT_BALANCE,         /* balance (and sticky) */
    ZC__OPT_LISTEN,          /* listen/n_listen, repeatable */
    ZC__OPT_ADDRESS,         /* const char *, HOST:PORT */
    ZC__OPT_NAME,            /* const char *, a fleet name */
    ZC__OPT_PATH,            /* const char *, an absolute path or "none" */
    ZC__OPT_GROUP,           /* const char *, a group name or number */
    ZC__OPT_SIZE,            /* uint64_t bytes, "768M"; at most max */
    ZC__OPT_GIVE_UP,         /* give_up_count and give_up_window_ms: "N/DUR" */
    ZC__OPT_WATCHDOG_ACTION, /* watchdog_action: kill or log */
    ZC__OPT_KILL_MODE,       /* kill_mode: group or process */
    ZC__OPT_USER,            /* const char *, USER[:GROUP] */
    ZC__OPT_DIR,             /* const char *, a directory */
    ZC__OPT_UMASK,           /* int, octal 0..max; -1 unset */
    ZC__OPT_OUTPUT,          /* output: prefix, json or inherit */
    ZC__OPT_OVERFLOW,        /* output_overflow: wait or drop */
    ZC__OPT_LOG_FORMAT,      /* log_format: text or json */
    ZC__OPT_ENV,             /* env/n_env, KEY=VALUE, repeatable */
};

struct zc__opt {
    zc_option_info info;
    enum zc__opt_kind kind;
    size_t offset;          /* of its field in zc_options */
    const char *field;      /* the field's name, for the library's errors */
    double min, max;        /* its range; max 0: the kind's own */
};

/* The i-th row, NULL past the last; the row called name, or NULL. */
const struct zc__opt *zc__opt_at(size_t i);
const struct zc__opt *zc__opt_find(const char *name);
/* "from 1 to 4096", "at least 1 ms", "at most 1 hour", "from 100 ms to
 * 1 hour": the row's range as the errors say it. */
void zc__opt_range_text(const struct zc__opt *r, char *buf, size_t size);

/* sticky = true is how the library said ZC_BALANCE_STICKY before balance
 * existed: either one sets the other, here and nowhere else (--sticky,
 * and the fleet's options at start); ZC_BALANCE_AUTO becomes the mode it
 * stands for. */
void zc__options_reconcile(zc_options *o);

/* Whether o's struct (of o->struct_size bytes, perhaps from an older
 * header) has every field that setting r writes (writing), or that
 * formatting it reads. */
bool zc__opt_fits(const zc_options *o, const struct zc__opt *r, bool writing);

/* Whether value is one of the words of an enum kind's option (ready,
 * respawn, balance, watchdog action, kill mode): the values are the
 * tables', whatever their order. */
bool zc__opt_word_known(enum zc__opt_kind kind, int value);
/* The word of value in an enum kind's table, NULL if it has none. */
const char *zc__opt_word(enum zc__opt_kind kind, int value);

/* A name, path or group row's value: 0, or -EINVAL with why. */
int zc__opt_check_text(const struct zc__opt *r, const char *v, char *why,
                       size_t size);

#endif
