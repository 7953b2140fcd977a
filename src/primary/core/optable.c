/*
 * The options table: each option's name, kind, field, range and help in
 * one row. The tool parses its command line with it and prints --help
 * from it (defaults from zc_options_init()), and the library checks its
 * callers' options against the same ranges (options.c), so a range is
 * written once and an error reads the same from both.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "base/compat.h"
#include "base/creds.h"
#include "base/parse.h"
#include "primary/core/env.h"
#include "primary/core/optable.h"
#include "proto/ctlpath.h"

#define HOUR_MS 3600000u

#define ROWF(fixed_, name_, short_, kind_, arg_, field_, min_, max_, help_) \
    {                                                                       \
        { name_,                                                            \
          short_,                                                           \
          arg_,                                                             \
          help_,                                                            \
          kind_ == ZC__OPT_LISTEN || kind_ == ZC__OPT_ENV,                  \
          fixed_ },                                                         \
            kind_, offsetof(zc_options, field_), #field_, min_, max_        \
    }
/* An option a reload with new options may change: it is read where it is
 * used, so the next worker, respawn or step has the new value. */
#define ROW(...) ROWF(NULL, __VA_ARGS__)
/* One that needs a restart, and why: what it shapes is made at start. */
#define FIXED(why_, ...) ROWF(why_, __VA_ARGS__)

#define AT_START_SOCKETS "the listening sockets are bound once, at start"
#define AT_START_METRICS                            \
    "the metrics endpoint and the workers' shared " \
    "registries are set up at start"
#define AT_START_SPREAD                                  \
    "how connections reach workers is chosen at start: " \
    "the sockets and their steering follow from it"
#define AT_START_NODE                                   \
    "Node workers are given their channel and sockets " \
    "from their first spawn"
#define AT_START_CONTROL                              \
    "the control socket is made at start, under the " \
    "fleet's name"
#define AT_START_HEALTH "the health checks' timers are set up at start"
#define AT_START_USER                                    \
    "who workers run as is resolved at start, with the " \
    "primary's rights"
#define AT_START_OUTPUT                                 \
    "the output pipes and the log's format are set up " \
    "at start"

/* In --help order. A range of 0..0 means the kind's own (a duration: up to
 * a day, unchecked in the library, as before the table). */
static const struct zc__opt rows[] = {
    ROW("workers", 'w', ZC__OPT_UINT, "N", workers, 1, ZC_MAX_WORKERS,
        "number of workers"),
    FIXED(AT_START_SOCKETS, "listen", 'l', ZC__OPT_LISTEN, "ADDR", listen, 0, 0,
          "bind ADDR once and pass it to every worker; repeatable. "
          "HOST:PORT, [V6]:PORT, :PORT, unix:PATH, unix:@NAME; NAME=ADDR "
          "names it"),
    ROW("ready", 0, ZC__OPT_READY, "POLICY", ready, 0, 0,
        "when a worker is ready: auto (READY=1 or 1 s up), notify, "
        "immediate, delay:DUR"),
    ROW("respawn", 0, ZC__OPT_RESPAWN, "WHEN", respawn, 0, 0,
        "which exits are followed by a new worker: on-failure, always, "
        "never"),
    ROW("respawn-delay", 0, ZC__OPT_DURATION, "DUR", respawn_delay_ms, 0, 0,
        "delay before the first respawn"),
    ROW("max-respawn-delay", 0, ZC__OPT_DURATION, "DUR", max_respawn_delay_ms,
        0, 0, "cap of the exponential backoff"),
    ROW("backoff-factor", 0, ZC__OPT_FACTOR, "F", backoff_factor, 1, 1000,
        "backoff growth per crash in a row"),
    ROW("backoff-reset", 0, ZC__OPT_DURATION, "DUR", backoff_reset_ms, 0, 0,
        "ready this long clears the crash count"),
    ROW("shutdown-timeout", 0, ZC__OPT_DURATION, "DUR", shutdown_timeout_ms, 0,
        0, "drain time before SIGKILL"),
    ROW("shutdown-delay", 0, ZC__OPT_DURATION, "DUR", shutdown_delay_ms, 0,
        HOUR_MS,
        "on TERM, /readyz answers 503 and the fleet serves on for DUR "
        "before it drains (a second TERM drains at once)"),
    ROW("stop-signal", 0, ZC__OPT_SIGNAL, "SIG", stop_signal, 0, 0,
        "signal that asks a worker to drain"),
    ROW("ready-timeout", 0, ZC__OPT_DURATION, "DUR", ready_timeout_ms, 1,
        ZC__DAY_MS,
        "a reload's new worker must be ready within this, or the "
        "reload stops"),
    ROW("max-surge", 0, ZC__OPT_UINT, "K", max_surge, 1, ZC_MAX_WORKERS,
        "slots a reload replaces at a time"),
    FIXED(AT_START_METRICS, "metrics", 0, ZC__OPT_ADDRESS, "ADDR", metrics, 0,
          0,
          "serve /metrics, /healthz and /readyz on HOST:PORT (Prometheus "
          "text format)"),
    FIXED(AT_START_METRICS, "metrics-timeout", 0, ZC__OPT_DURATION, "DUR",
          metrics_timeout_ms, 100, HOUR_MS,
          "a client's request must arrive within this"),
    FIXED(AT_START_METRICS, "metrics-wait", 0, ZC__OPT_DURATION, "DUR",
          metrics_wait_ms, 1, 60000,
          "a scrape waits this long for workers that report metrics by "
          "message"),
    FIXED(AT_START_SPREAD, "balance", 0, ZC__OPT_BALANCE, "MODE", balance, 0, 0,
          "how connections reach workers: auto (the default: reuseport, or "
          "sticky with --sticky), reuseport (a socket per slot, an even "
          "spread, slots that do not accept left out), shared (one socket "
          "all workers accept on), least-conn (the primary hands each to the "
          "least busy worker), sticky"),
    ROW("max-conns-per-worker", 0, ZC__OPT_UINT, "N", max_conns_per_worker, 0,
        1000000,
        "with --balance least-conn: open connections a worker is "
        "handed at most; when all have that many, the primary stops "
        "accepting (0: no limit)"),
    FIXED(AT_START_SPREAD, "sticky", 0, ZC__OPT_FLAG, NULL, sticky, 0, 0,
          "the same as --balance sticky: the primary accepts and hands each "
          "connection to the worker of the slot its client address hashes to "
          "(Node-style DJB2)"),
    ROW("sticky-wait", 0, ZC__OPT_DURATION, "DUR", sticky_wait_ms, 0, HOUR_MS,
        "a connection waits this long for its slot's worker, then goes to "
        "the next slot"),
    ROW("sticky-queue", 0, ZC__OPT_UINT, "N", sticky_queue, 1, 1000000,
        "connections that may wait per slot"),
    FIXED(AT_START_SPREAD, "proxy-protocol", 0, ZC__OPT_FLAG, NULL,
          proxy_protocol, 0, 0,
          "with --sticky: connections start with a PROXY v1 or v2 header; "
          "hash its client"),
    ROW("proxy-timeout", 0, ZC__OPT_DURATION, "DUR", proxy_timeout_ms, 1,
        HOUR_MS, "the header must arrive within this"),
    FIXED(AT_START_NODE, "node", 0, ZC__OPT_FLAG, NULL, node, 0, 0,
          "workers are Node.js cluster workers (node app.js): Node's IPC "
          "channel, listen() answered with the primary's sockets, ready when "
          "listening, stopped with Node's disconnect"),
    FIXED(AT_START_CONTROL, "name", 'n', ZC__OPT_NAME, "NAME", name, 0, 0,
          "the fleet's name, for zclusterctl -n; the command's name is the "
          "program's, or an interpreter's script (node app.js: app), and "
          "becomes NAME-2 if another fleet has it"),
    FIXED(AT_START_CONTROL, "control", 0, ZC__OPT_PATH, "PATH", control, 0, 0,
          "the control socket; the runtime directory is $RUNTIME_DIRECTORY, "
          "/run/zcluster for root, or $XDG_RUNTIME_DIR/zcluster; none: no "
          "control socket"),
    FIXED(AT_START_CONTROL, "control-group", 0, ZC__OPT_GROUP, "GROUP",
          control_group, 0, 0,
          "members of GROUP may use the control socket too (mode 0660)"),
    ROW("backoff-jitter", 0, ZC__OPT_FACTOR, "F", backoff_jitter, 0, 1,
        "each respawn delay d becomes d * (1 - F * u), u random in [0, 1), "
        "so slots that crashed together come back apart"),
    FIXED(AT_START_HEALTH, "watchdog", 0, ZC__OPT_DURATION, "DUR", watchdog_ms,
          0, ZC__DAY_MS,
          "a worker that does not ping for DUR is hung (0: off; at least "
          "100ms): linked workers ping from their loop, others send "
          "WATCHDOG=1"),
    FIXED(AT_START_HEALTH, "watchdog-require", 0, ZC__OPT_FLAG, NULL,
          watchdog_require, 0, 0,
          "watch every worker from readiness, not from its first ping"),
    FIXED(AT_START_HEALTH, "watchdog-signal", 0, ZC__OPT_SIGNAL, "SIG",
          watchdog_signal, 0, 0,
          "sent to a hung worker first (for a core dump)"),
    FIXED(AT_START_HEALTH, "watchdog-grace", 0, ZC__OPT_DURATION, "DUR",
          watchdog_grace_ms, 0, 0, "then SIGKILL after this"),
    FIXED(AT_START_HEALTH, "watchdog-action", 0, ZC__OPT_WATCHDOG_ACTION,
          "ACTION", watchdog_action, 0, 0,
          "kill (signal, grace, SIGKILL; its slot's "
          "next worker starts at once) or log (log and count only)"),
    FIXED(AT_START_HEALTH, "max-lifetime", 0, ZC__OPT_DURATION, "DUR",
          max_lifetime_ms, 0, ZC__MONTH_MS,
          "recycle a worker up this long (0: never)"),
    FIXED(AT_START_HEALTH, "max-memory", 0, ZC__OPT_SIZE, "SIZE", max_memory, 0,
          0,
          "recycle a worker whose resident memory exceeds SIZE (768M, 2GiB; "
          "0: never)"),
    FIXED(AT_START_HEALTH, "recycle-jitter", 0, ZC__OPT_FACTOR, "F",
          recycle_jitter, 0, 1,
          "each worker's limits are lowered by a random part of up to F"),
    FIXED(AT_START_HEALTH, "recycle-concurrency", 0, ZC__OPT_UINT, "N",
          recycle_concurrency, 1, ZC_MAX_WORKERS, "workers recycled at once"),
    FIXED(AT_START_HEALTH, "recycle-spacing", 0, ZC__OPT_DURATION, "DUR",
          recycle_spacing_ms, 0, 0,
          "at least this between the starts of two recycles"),
    ROW("kill-mode", 0, ZC__OPT_KILL_MODE, "MODE", kill_mode, 0, 0,
        "what ends with a worker: group (what it started, its process group "
        "and what left it, gets the stop signal with it, SIGKILL at the "
        "drain deadline) or process (the worker alone)"),
    ROW("give-up", 0, ZC__OPT_GIVE_UP, "N/DUR", give_up_count, 0, 0,
        "a slot whose workers failed N times within DUR stops respawning "
        "and is failed"),
    ROW("failed-retry", 0, ZC__OPT_DURATION, "DUR", failed_retry_ms, 0,
        ZC__MONTH_MS, "try a failed slot again after DUR (0: never)"),
    FIXED(AT_START_USER, "user", 'u', ZC__OPT_USER, "USER[:GROUP]", user, 0, 0,
          "run workers as USER (a name or uid) with its supplementary groups; "
          "the primary binds as it was started (root)"),
    FIXED(AT_START_USER, "group", 'g', ZC__OPT_GROUP, "GROUP", group, 0, 0,
          "run workers with GROUP (a name or gid) instead of the user's"),
    ROW("chdir", 0, ZC__OPT_DIR, "DIR", chdir, 0, 0,
        "workers start in DIR, entered as their user"),
    ROW("umask", 0, ZC__OPT_UMASK, "MODE", umask, 0, 0,
        "workers' umask, octal (027)"),
    FIXED(AT_START_OUTPUT, "output", 0, ZC__OPT_OUTPUT, "FORMAT", output, 0, 0,
          "workers' stdout and stderr: prefix (each line with the fleet, "
          "slot, worker, pid, generation and stream), json (a JSON object "
          "per line), inherit (the primary's, as they are); the default is "
          "prefix, or json with --log-format json"),
    FIXED(AT_START_OUTPUT, "output-overflow", 0, ZC__OPT_OVERFLOW, "WHAT",
          output_overflow, 0, 0,
          "when the primary's stdout is slower than the workers: wait (stop "
          "reading their output, so they wait) or drop (whole lines, "
          "counted)"),
    FIXED(AT_START_OUTPUT, "log-format", 0, ZC__OPT_LOG_FORMAT, "FORMAT",
          log_format, 0, 0,
          "the primary's own log: text or json (also ZC_LOG_FORMAT=json)"),
    ROW("env", 'e', ZC__OPT_ENV, "KEY=VALUE", env, 0, 0,
        "add KEY=VALUE to every worker's environment, in place of an "
        "inherited KEY; repeatable"),
};

#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

static const char *const ready_names[] = {
    [ZC_READY_AUTO] = "auto", [ZC_READY_NOTIFY] = "notify",
    [ZC_READY_IMMEDIATE] = "immediate", [ZC_READY_DELAY] = "delay",
};
static const char *const balance_names[] = {
    [ZC_BALANCE_SHARED] = "shared",
    [ZC_BALANCE_REUSEPORT] = "reuseport",
    [ZC_BALANCE_LEAST_CONN] = "least-conn",
    [ZC_BALANCE_STICKY] = "sticky",
    [ZC_BALANCE_AUTO] = "auto",
};
static const char *const watchdog_action_names[] = {
    [ZC_WATCHDOG_KILL] = "kill", [ZC_WATCHDOG_LOG] = "log",
};
static const char *const kill_mode_names[] = {
    [ZC_KILL_GROUP] = "group", [ZC_KILL_PROCESS] = "process",
};
static const char *const respawn_names[] = {
    [ZC_RESPAWN_ON_FAILURE] = "on-failure", [ZC_RESPAWN_ALWAYS] = "always",
    [ZC_RESPAWN_NEVER] = "never",
};
static const char *const output_names[] = {
    [ZC_OUTPUT_AUTO] = "auto",
    [ZC_OUTPUT_PREFIX] = "prefix",
    [ZC_OUTPUT_JSON] = "json",
    [ZC_OUTPUT_INHERIT] = "inherit",
};
static const char *const overflow_names[] = {
    [ZC_OVERFLOW_WAIT] = "wait",
    [ZC_OVERFLOW_DROP] = "drop",
};
static const char *const log_format_names[] = {
    [ZC_LOG_FORMAT_TEXT] = "text",
    [ZC_LOG_FORMAT_JSON] = "json",
};

#define N_NAMES(a) ((int) (sizeof(a) / sizeof((a)[0])))

/* v's index among the n names, or -1. */
static int name_index(const char *const *names, int n, const char *v)
{
    for (int i = 0; i < n; i++)
        if (names[i] && strcmp(v, names[i]) == 0)
            return i;
    return -1;
}

struct vocab {
    enum zc__opt_kind kind;
    const char *const *names;
    int n;
};

#define VOCAB(kind_, names_)           \
    {                                  \
        kind_, names_, N_NAMES(names_) \
    }

static const struct vocab vocabs[] = {
    VOCAB(ZC__OPT_READY, ready_names),
    VOCAB(ZC__OPT_RESPAWN, respawn_names),
    VOCAB(ZC__OPT_BALANCE, balance_names),
    VOCAB(ZC__OPT_WATCHDOG_ACTION, watchdog_action_names),
    VOCAB(ZC__OPT_KILL_MODE, kill_mode_names),
    VOCAB(ZC__OPT_OUTPUT, output_names),
    VOCAB(ZC__OPT_OVERFLOW, overflow_names),
    VOCAB(ZC__OPT_LOG_FORMAT, log_format_names),
};

static const struct vocab *vocab_of(enum zc__opt_kind kind)
{
    for (size_t i = 0; i < sizeof(vocabs) / sizeof(vocabs[0]); i++)
        if (vocabs[i].kind == kind)
            return &vocabs[i];
    return NULL;
}

const char *zc__opt_word(enum zc__opt_kind kind, int value)
{
    const struct vocab *v = vocab_of(kind);

    return v && value >= 0 && value < v->n ? v->names[value] : NULL;
}

bool zc__opt_word_known(enum zc__opt_kind kind, int value)
{
    return zc__opt_word(kind, value) != NULL;
}

const struct zc__opt *zc__opt_at(size_t i)
{
    return i < N_ROWS ? &rows[i] : NULL;
}

const struct zc__opt *zc__opt_find(const char *name)
{
    for (size_t i = 0; name && i < N_ROWS; i++)
        if (strcmp(rows[i].info.name, name) == 0)
            return &rows[i];
    return NULL;
}

const zc_option_info *zc_option_get(size_t i)
{
    return i < N_ROWS ? &rows[i].info : NULL;
}

/* "1 ms", "60 s", "1 hour": a limit as a person says it. */
static void duration_text(char *buf, size_t size, uint32_t ms)
{
    if (ms && ms % HOUR_MS == 0)
        snprintf(buf, size, "%u hour%s", ms / HOUR_MS,
                 ms == HOUR_MS ? "" : "s");
    else if (ms && ms % 1000 == 0)
        snprintf(buf, size, "%u s", ms / 1000);
    else
        snprintf(buf, size, "%u ms", ms);
}

void zc__opt_range_text(const struct zc__opt *r, char *buf, size_t size)
{
    char lo[32], hi[32];

    if (r->kind != ZC__OPT_DURATION) {
        snprintf(buf, size, "from %.15g to %.15g", r->min, r->max);
        return;
    }
    duration_text(lo, sizeof(lo), (uint32_t) r->min);
    duration_text(hi, sizeof(hi), (uint32_t) r->max);
    if (r->min == 0)
        snprintf(buf, size, "at most %s", hi);
    else if (r->max == ZC__DAY_MS)
        snprintf(buf, size, "at least %s", lo);
    else
        snprintf(buf, size, "from %s to %s", lo, hi);
}

/* The first byte past a field of zc_options. */
#define END_OF(f) (offsetof(zc_options, f) + sizeof(((zc_options *) 0)->f))

static void *field(zc_options *o, const struct zc__opt *r)
{
    return (char *) o + r->offset;
}

static int set_duration(zc_options *o, const struct zc__opt *r, const char *v,
                        char *why, size_t size)
{
    uint32_t cap = r->max > ZC__DAY_MS ? (uint32_t) r->max : ZC__DAY_MS, ms;
    char range[64];
    int e = zc__parse_duration_ms(v, cap, &ms);

    if (e == -ERANGE) {
        duration_text(range, sizeof(range), cap);
        return zc__why(why, size, "invalid --%s '%s': must be at most %s",
                       r->info.name, v, range);
    }
    if (e < 0)
        return zc__why(why, size,
                       "invalid --%s '%s': expected a duration such "
                       "as 500, 500ms, 2s, 5m or 1h",
                       r->info.name, v);
    if (r->max && (ms < r->min || ms > r->max)) {
        zc__opt_range_text(r, range, sizeof(range));
        return zc__why(why, size, "invalid --%s '%s': must be %s", r->info.name,
                       v, range);
    }
    *(uint32_t *) field(o, r) = ms;
    return 0;
}

static int set_uint(zc_options *o, const struct zc__opt *r, const char *v,
                    char *why, size_t size)
{
    unsigned long lo = (unsigned long) r->min, hi = (unsigned long) r->max;
    unsigned long n;

    if (zc__parse_uint(v, lo, hi, &n) < 0)
        return zc__why(why, size,
                       "invalid --%s '%s': expected a whole number "
                       "from %.15g to %.15g",
                       r->info.name, v, r->min, r->max);
    *(unsigned *) field(o, r) = (unsigned) n;
    return 0;
}

static int set_factor(zc_options *o, const struct zc__opt *r, const char *v,
                      char *why, size_t size)
{
    char *end;
    double d;

    errno = 0;
    d = strtod(v, &end);
    if (errno || end == v || *end || !(d >= r->min && d <= r->max))
        return zc__why(why, size,
                       "invalid --%s '%s': expected a number from %.15g "
                       "to %.15g",
                       r->info.name, v, r->min, r->max);
    *(double *) field(o, r) = d;
    return 0;
}

static int set_signal(zc_options *o, const struct zc__opt *r, const char *v,
                      char *why, size_t size)
{
    int sig = zc__signal_parse(v);

    if (sig < 0 || sig == SIGKILL || sig == SIGSTOP)
        return zc__why(why, size,
                       "invalid --%s '%s': expected a signal name or "
                       "number such as TERM",
                       r->info.name, v);
    *(int *) field(o, r) = sig;
    return 0;
}

/* The words an error offers: "auto, notify, immediate or delay:MS", from
 * the table, with last (if any) in place of the entry skip (-1: none). */
static void words_text(const char *const *names, int n, int skip,
                       const char *last, char *out, size_t size)
{
    const char *w[8];
    int k = 0;
    size_t len = 0;

    for (int i = 0; i < n && k < 8; i++)
        if (names[i] && i != skip)
            w[k++] = names[i];
    if (last && k < 8)
        w[k++] = last;
    out[0] = '\0';
    for (int i = 0; i < k && len < size; i++)
        len += (size_t) snprintf(out + len, size - len, "%s%s", i == 0 ? ""
                                 : i == k - 1 ? " or " : ", ", w[i]);
}

/* A field that takes one word of its table. */
static int set_word(zc_options *o, const struct zc__opt *r, const char *v,
                    char *why, size_t size)
{
    const struct vocab *w = vocab_of(r->kind);
    int i = name_index(w->names, w->n, v);
    char words[96];

    if (i < 0) {
        words_text(w->names, w->n, -1, NULL, words, sizeof(words));
        return zc__why(why, size, "invalid --%s '%s': expected %s",
                       r->info.name, v, words);
    }
    *(int *) field(o, r) = i;
    return 0;
}

static int set_ready(zc_options *o, const struct zc__opt *r, const char *v,
                     char *why, size_t size)
{
    /* every name but "delay", which takes its time after a colon */
    int i = name_index(ready_names, N_NAMES(ready_names), v);
    char words[96];

    if (i >= 0 && i != ZC_READY_DELAY) {
        o->ready = i;
        return 0;
    }
    if (strncmp(v, "delay:", 6) == 0 &&
        zc__parse_duration_ms(v + 6, ZC__DAY_MS, &o->ready_delay_ms) == 0) {
        o->ready = ZC_READY_DELAY;
        return 0;
    }
    words_text(ready_names, N_NAMES(ready_names), ZC_READY_DELAY, "delay:MS",
               words, sizeof(words));
    return zc__why(why, size, "invalid --%s '%s': expected %s", r->info.name, v,
                   words);
}

static int set_size(zc_options *o, const struct zc__opt *r, const char *v,
                    char *why, size_t size)
{
    uint64_t n;

    if (zc__parse_size(v, UINT64_MAX / 2, &n) < 0)
        return zc__why(why, size,
                       "invalid --%s '%s': expected a size such as "
                       "768M, 768MiB, 2G or 1048576 (bytes; K, M, G, T are "
                       "powers "
                       "of 1024)",
                       r->info.name, v);
    *(uint64_t *) field(o, r) = n;
    return 0;
}

static int set_umask(zc_options *o, const struct zc__opt *r, const char *v,
                     char *why, size_t size)
{
    char *end;
    long m;

    errno = 0;
    m = strtol(v, &end, 8);
    if (errno || end == v || *end || *v == '-' || *v == '+' || m < 0 ||
        m > 0777)
        return zc__why(why, size,
                       "invalid --%s '%s': expected an octal mode "
                       "from 0 to 0777, such as 027",
                       r->info.name, v);
    *(int *) field(o, r) = (int) m;
    return 0;
}

static int set_give_up(zc_options *o, const char *v, char *why, size_t size)
{
    const char *slash = strchr(v, '/');
    unsigned long n;
    char count[16];
    uint32_t ms;

    if (strcmp(v, "off") == 0) {
        o->give_up_count = 0;
        o->give_up_window_ms = 0;
        return 0;
    }
    if (!slash || (size_t) (slash - v) >= sizeof(count))
        goto bad;
    memcpy(count, v, (size_t) (slash - v));
    count[slash - v] = '\0';
    if (zc__parse_uint(count, 1, ZC__GIVE_UP_MAX, &n) < 0 ||
        zc__parse_duration_ms(slash + 1, ZC__DAY_MS, &ms) < 0 || ms == 0)
        goto bad;
    o->give_up_count = (unsigned) n;
    o->give_up_window_ms = ms;
    return 0;
bad:
    return zc__why(why, size,
                   "invalid --give-up '%s': expected N/DUR, N "
                   "failures (1 to %d) within DUR (more than 0, at most %u "
                   "hours), such as 5/60s; or off",
                   v, ZC__GIVE_UP_MAX, ZC__DAY_MS / HOUR_MS);
}

static int set_listen(zc_options *o, const char *v, char *why, size_t size)
{
    if (zc_address_check(v) < 0)
        return zc__why(why, size,
                       "invalid --listen address '%s': expected "
                       "HOST:PORT, [V6]:PORT, :PORT or unix:PATH",
                       v);
    if (!o->listen_room)
        return zc__why(why, size,
                       "--listen: no room for addresses "
                       "(zc_options.listen_room is NULL)");
    if (o->listen && o->listen != o->listen_room)
        return zc__why(why, size,
                       "--listen: zc_options.listen points at the "
                       "program's own array, not at listen_room");
    if (o->n_listen >= ZC_MAX_LISTEN)
        return zc__why(why, size, "too many --listen addresses (%d at most)",
                       ZC_MAX_LISTEN);
    o->listen_room[o->n_listen++] = v;
    o->listen = o->listen_room;
    return 0;
}

/* KEY=VALUE, KEY a shell variable's name and none of the worker
 * protocol's, which the primary sets for each worker (env.c). */
static int set_env(zc_options *o, const char *v, char *why, size_t size)
{
    size_t k = strcspn(v, "=");
    bool name = k > 0 && !(v[0] >= '0' && v[0] <= '9');

    for (size_t i = 0; i < k && name; i++)
        name = (v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= 'a' && v[i] <= 'z') ||
               (v[i] >= '0' && v[i] <= '9') || v[i] == '_';
    if (!v[k] || !name)
        return zc__why(why, size,
                       "invalid --env '%.64s': expected KEY=VALUE, KEY "
                       "of letters, digits and _ (not first a digit)",
                       v);
    if (zc__env_reserved(v))
        return zc__why(why, size,
                       "--env %.*s: zcluster sets it for each worker "
                       "(docs/protocol.md)",
                       (int) k, v);
    if (!o->env_room)
        return zc__why(why, size,
                       "--env: no room for variables "
                       "(zc_options.env_room is NULL)");
    if (o->env && o->env != o->env_room)
        return zc__why(why, size,
                       "--env: zc_options.env points at the program's "
                       "own array, not at env_room");
    if (o->n_env >= ZC_MAX_ENV)
        return zc__why(why, size, "too many --env variables (%d at most)",
                       ZC_MAX_ENV);
    o->env_room[o->n_env++] = v;
    o->env = o->env_room;
    return 0;
}

static int set_address(zc_options *o, const struct zc__opt *r, const char *v,
                       char *why, size_t size)
{
    if (zc_address_check(v) < 0 || strncmp(v, "unix:", 5) == 0 ||
        strchr(v, '='))
        return zc__why(why, size,
                       "invalid --%s address '%s': expected HOST:PORT, "
                       "[V6]:PORT or :PORT",
                       r->info.name, v);
    *(const char **) field(o, r) = v;
    return 0;
}

int zc__opt_check_text(const struct zc__opt *r, const char *v, char *why,
                       size_t size)
{
    if (r->kind == ZC__OPT_NAME && !zc__control_name_ok(v))
        return zc__why(why, size,
                       "invalid --%s '%s': 1 to %d letters, digits "
                       "and _.@- , not starting with . or -",
                       r->info.name, v, ZC__CONTROL_NAME_MAX);
    if (r->kind == ZC__OPT_PATH && strcmp(v, "none") != 0 &&
        (v[0] != '/' ||
         strlen(v) >= sizeof(((struct sockaddr_un *) 0)->sun_path)))
        return zc__why(why, size,
                       "invalid --%s '%s': expected an absolute path "
                       "shorter than %zu bytes, or none",
                       r->info.name, v,
                       sizeof(((struct sockaddr_un *) 0)->sun_path));
    if (r->kind == ZC__OPT_GROUP && zc__group_parse(v, NULL) < 0)
        return zc__why(why, size, "invalid --%s '%s': no such group",
                       r->info.name, v);
    if ((r->kind == ZC__OPT_USER || r->kind == ZC__OPT_DIR) &&
        (!*v || strlen(v) >= 4096))
        return zc__why(why, size, "invalid --%s '%s': expected %s",
                       r->info.name, v,
                       r->kind == ZC__OPT_USER
                           ? "USER, UID, USER:GROUP or UID:GID"
                           : "a directory");
    return 0;
}

static int set_text(zc_options *o, const struct zc__opt *r, const char *v,
                    char *why, size_t size)
{
    if (zc__opt_check_text(r, v, why, size) < 0)
        return -EINVAL;
    *(const char **) field(o, r) = v;
    return 0;
}

/* The end of what setting r writes: a few kinds set a second field. */
static size_t written_end(const struct zc__opt *r)
{
    switch (r->kind) {
    case ZC__OPT_READY: return END_OF(ready_delay_ms);
    case ZC__OPT_GIVE_UP: return END_OF(give_up_window_ms);
    case ZC__OPT_LISTEN: return END_OF(listen_room);
    case ZC__OPT_ENV: return END_OF(env_room);
    case ZC__OPT_FLAG: return r->offset + sizeof(bool);
    case ZC__OPT_UINT: return r->offset + sizeof(unsigned);
    case ZC__OPT_DURATION: return r->offset + sizeof(uint32_t);
    case ZC__OPT_FACTOR: return r->offset + sizeof(double);
    case ZC__OPT_SIZE: return r->offset + sizeof(uint64_t);
    case ZC__OPT_ADDRESS: case ZC__OPT_NAME: case ZC__OPT_PATH:
    case ZC__OPT_GROUP:
    case ZC__OPT_USER:
    case ZC__OPT_DIR: return r->offset + sizeof(const char *);
    default: return r->offset + sizeof(int);
    }
}

bool zc__opt_fits(const zc_options *o, const struct zc__opt *r, bool writing)
{
    /* Reading listen needs listen and n_listen; appending, the room. */
    if (r->kind == ZC__OPT_LISTEN && !writing)
        return o->struct_size >= END_OF(n_listen);
    if (r->kind == ZC__OPT_ENV && !writing)
        return o->struct_size >= END_OF(n_env);
    return o->struct_size >= written_end(r);
}

void zc__options_reconcile(zc_options *o)
{
    if (o->balance == ZC_BALANCE_AUTO)
        o->balance = o->sticky ? ZC_BALANCE_STICKY : ZC_BALANCE_REUSEPORT;
    if (o->balance == ZC_BALANCE_STICKY)
        o->sticky = true;
    else if (o->sticky && o->balance == ZC_BALANCE_SHARED)
        o->balance = ZC_BALANCE_STICKY;
}

int zc_option_set(zc_options *o, const char *name, const char *value,
                  char *why, size_t why_size)
{
    const struct zc__opt *r = zc__opt_find(name);

    if (!o || !r)
        return r ? -EINVAL : -ENOENT;
    /* A program built against an older header has no field for it. */
    if (!zc__opt_fits(o, r, true))
        return -ENOENT;
    if (r->kind == ZC__OPT_FLAG) {
        *(bool *) field(o, r) = true;
        if (r->offset == offsetof(zc_options, sticky))
            zc__options_reconcile(o);
        return 0;
    }
    if (!value)
        return zc__why(why, why_size, "option '--%s' requires an argument",
                       name);
    switch (r->kind) {
    case ZC__OPT_UINT:
        return set_uint(o, r, value, why, why_size);
    case ZC__OPT_DURATION:
        return set_duration(o, r, value, why, why_size);
    case ZC__OPT_FACTOR:
        return set_factor(o, r, value, why, why_size);
    case ZC__OPT_SIGNAL:
        return set_signal(o, r, value, why, why_size);
    case ZC__OPT_READY:
        return set_ready(o, r, value, why, why_size);
    case ZC__OPT_RESPAWN:
    case ZC__OPT_BALANCE:
    case ZC__OPT_WATCHDOG_ACTION:
    case ZC__OPT_KILL_MODE:
    case ZC__OPT_OUTPUT:
    case ZC__OPT_OVERFLOW:
    case ZC__OPT_LOG_FORMAT: return set_word(o, r, value, why, why_size);
    case ZC__OPT_UMASK: return set_umask(o, r, value, why, why_size);
    case ZC__OPT_LISTEN:
        return set_listen(o, value, why, why_size);
    case ZC__OPT_ENV: return set_env(o, value, why, why_size);
    case ZC__OPT_SIZE:
        return set_size(o, r, value, why, why_size);
    case ZC__OPT_GIVE_UP: return set_give_up(o, value, why, why_size);
    case ZC__OPT_NAME:
    case ZC__OPT_PATH:
    case ZC__OPT_GROUP:
    case ZC__OPT_USER:
    case ZC__OPT_DIR: return set_text(o, r, value, why, why_size);
    default:
        return set_address(o, r, value, why, why_size);
    }
}
