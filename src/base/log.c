/*
 * The logger of the primary and of linked workers (spec row S9).
 *
 * Configuration comes from the environment once: ZC_LOG_LEVEL sets the
 * threshold for every namespace (default info); ZC_DEBUG selects namespaces
 * that also show debug and trace lines, like the spec's DEBUG patterns.
 * A line is formatted into a stack buffer and written with one write(2), so
 * lines from the primary and its workers sharing stderr never interleave.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/clean.h"
#include "base/log.h"

#define LINE_MAX_BYTES 2048

static const char *const level_names[] = {
    [ZC_LOG_ERROR] = "error",
    [ZC_LOG_WARN] = "warn",
    [ZC_LOG_INFO] = "info",
    [ZC_LOG_DEBUG] = "debug",
    [ZC_LOG_TRACE] = "trace",
};

/* ANSI colours for the level word, used only when stderr is a terminal. */
static const char *const level_colours[] = {
    [ZC_LOG_ERROR] = "\033[1;31m",
    [ZC_LOG_WARN] = "\033[33m",
    [ZC_LOG_INFO] = "\033[32m",
    [ZC_LOG_DEBUG] = "\033[36m",
    [ZC_LOG_TRACE] = "\033[90m",
};

static struct {
    bool loaded;
    int level;             /* threshold for every namespace */
    char patterns[512];    /* ZC_DEBUG, or "" */
    int colour;            /* -1 unknown, 0 no, 1 yes */
    zc_log_fn sink;
    void *sink_userdata;
    int format;     /* ZC_LOG_FORMAT_* */
    bool named;     /* ZC_OUTPUT: a primary names our lines */
    char fleet[72]; /* the JSON lines' zc_fleet, or "" */
    zc__log_writer_fn writer;
    void *writer_arg;
} cfg = { .level = ZC_LOG_INFO, .colour = -1 };

int zc__log_format_env(void)
{
    const char *v = getenv("ZC_LOG_FORMAT");

    return v && strcmp(v, "json") == 0 ? ZC_LOG_FORMAT_JSON
                                       : ZC_LOG_FORMAT_TEXT;
}

void zc__log_set_format(int format, const char *fleet)
{
    if (!cfg.loaded)
        zc__log_reload();
    cfg.format = format;
    snprintf(cfg.fleet, sizeof(cfg.fleet), "%s", fleet ? fleet : "");
}

void zc__log_set_writer(zc__log_writer_fn fn, void *arg)
{
    cfg.writer = fn;
    cfg.writer_arg = arg;
}

int zc__log_time(char *buf, size_t size, bool utc)
{
    struct timeval tv;
    struct tm tm;

    (void) gettimeofday(&tv, NULL);
    if (utc)
        (void) gmtime_r(&tv.tv_sec, &tm);
    else
        (void) localtime_r(&tv.tv_sec, &tm);
    return snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ld%s",
                    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                    tm.tm_min, tm.tm_sec, (long) (tv.tv_usec / 1000),
                    utc ? "Z" : "");
}

int zc__log_level_parse(const char *s)
{
    for (int i = 0; i <= ZC_LOG_TRACE; i++)
        if (strcasecmp(s, level_names[i]) == 0)
            return i;
    if (s[0] >= '0' && s[0] <= '4' && s[1] == '\0')
        return s[0] - '0';
    if (strcasecmp(s, "warning") == 0)
        return ZC_LOG_WARN;
    return -EINVAL;
}

void zc__log_reload(void)
{
    const char *v = getenv("ZC_LOG_LEVEL");
    int level = v ? zc__log_level_parse(v) : ZC_LOG_INFO;

    cfg.level = level < 0 ? ZC_LOG_INFO : level;
    cfg.format = zc__log_format_env();
    v = getenv("ZC_OUTPUT");
    cfg.named = v && *v;
    v = getenv("ZC_DEBUG");
    snprintf(cfg.patterns, sizeof(cfg.patterns), "%s", v ? v : "");
    cfg.loaded = true;
}

bool zc__log_glob_match(const char *p, const char *s)
{
    const char *star_p = NULL, *star_s = NULL;

    /* Iterative matcher with one backtrack point: linear-ish, no recursion
     * a hostile pattern could blow up. */
    while (*s) {
        if (*p == '*') {
            star_p = ++p;
            star_s = s;
        } else if (*p == '?' || *p == *s) {
            p++;
            s++;
        } else if (star_p) {
            p = star_p;
            s = ++star_s;
        } else {
            return false;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

bool zc__log_patterns_match(const char *list, const char *ns)
{
    char pat[128];
    bool selected = false;

    while (*list) {
        size_t n = strcspn(list, ", ");
        bool negate = list[0] == '-';
        size_t skip = negate ? 1 : 0;

        if (n > skip && n - skip < sizeof(pat)) {
            memcpy(pat, list + skip, n - skip);
            pat[n - skip] = '\0';
            if (zc__log_glob_match(pat, ns))
                selected = !negate;
        }
        list += n;
        list += strspn(list, ", ");
    }
    return selected;
}

bool zc_log_is_enabled(int level, const char *ns)
{
    if (!cfg.loaded)
        zc__log_reload();
    if (level <= cfg.level)
        return true;
    if (level < ZC_LOG_DEBUG || cfg.patterns[0] == '\0')
        return false;
    return zc__log_patterns_match(cfg.patterns, ns ? ns : "");
}

void zc_log_set_sink(zc_log_fn fn, void *userdata)
{
    cfg.sink = fn;
    cfg.sink_userdata = userdata;
}

static bool use_colour(void)
{
    if (cfg.colour < 0)
        cfg.colour = isatty(STDERR_FILENO) && !getenv("NO_COLOR");
    return cfg.colour;
}

/* One JSON object, the field names of docs/logging.md: those that are
 * zcluster's alone start with zc_, so that a worker's own JSON lines can
 * be merged with them (the primary's output path). */
static int json_line(char *line, size_t size, int level, const char *ns,
                     const char *msg)
{
    char when[40], text[LINE_MAX_BYTES * 2], fleet[sizeof(cfg.fleet) * 6];
    char space[128];

    (void) zc__json_escape(space, sizeof(space), ns, strlen(ns));
    (void) zc__json_escape(text, sizeof(text), msg, strlen(msg));
    /* A worker whose lines its primary names: the primary's zc_time and
     * zc_pid are merged in, and the line must not have them twice. */
    if (cfg.named)
        return snprintf(line, size,
                        "{\"level\":\"%s\",\"zc_ns\":\"%s\",\"msg\":\"%s\"}\n",
                        level_names[level], space, text);
    (void) zc__log_time(when, sizeof(when), true);
    (void) zc__json_escape(fleet, sizeof(fleet), cfg.fleet, strlen(cfg.fleet));
    return snprintf(line, size,
                    "{\"zc_time\":\"%s\",\"level\":\"%s\","
                    "\"zc_ns\":\"%s\",%s%s%s\"zc_pid\":%ld,\"msg\":\"%s\"}\n",
                    when, level_names[level], space,
                    fleet[0] ? "\"zc_fleet\":\"" : "", fleet,
                    fleet[0] ? "\"," : "", (long) getpid(), text);
}

static void default_sink(int level, const char *ns, const char *msg)
{
    char line[LINE_MAX_BYTES * 2 + 512], when[40];
    bool colour;
    int n;

    if (cfg.format == ZC_LOG_FORMAT_JSON) {
        n = json_line(line, sizeof(line), level, ns, msg);
    } else if (cfg.named) {
        /* the time and pid are in the primary's prefix */
        n = snprintf(line, sizeof(line), "%-5s %s: %s\n", level_names[level],
                     ns, msg);
    } else {
        colour = use_colour();
        (void) zc__log_time(when, sizeof(when), false);
        n = snprintf(line, sizeof(line), "%s %s[%ld] %s%-5s%s %s: %s\n", when,
                     program_invocation_short_name, (long) getpid(),
                     colour ? level_colours[level] : "", level_names[level],
                     colour ? "\033[0m" : "", ns, msg);
    }
    if (n < 0)
        return;
    if ((size_t) n >= sizeof(line)) {
        n = sizeof(line) - 1;
        if (cfg.format == ZC_LOG_FORMAT_JSON)
            n = json_line(line, sizeof(line), level, ns,
                          "(a log line too long to write)");
        else
            line[n - 1] = '\n';
    }
    if (cfg.writer) {
        cfg.writer(line, (size_t) n, cfg.writer_arg);
        return;
    }
    /* One write: stderr is shared with every worker. A short write or an
     * error has nowhere better to be reported. */
    (void) !write(STDERR_FILENO, line, (size_t) n);
}

void zc_log(int level, const char *ns, const char *fmt, ...)
{
    char msg[LINE_MAX_BYTES];
    int saved = errno;      /* callers log, then still read errno */
    va_list ap;

    if (level < ZC_LOG_ERROR)
        level = ZC_LOG_ERROR;
    if (level > ZC_LOG_TRACE)
        level = ZC_LOG_TRACE;
    if (!zc_log_is_enabled(level, ns))
        goto out;
    va_start(ap, fmt);
    (void) vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (cfg.sink)
        cfg.sink(level, ns, msg, cfg.sink_userdata);
    else
        default_sink(level, ns, msg);
out:
    errno = saved;
}

const char *zc_strerror(int r)
{
    return strerror(r < 0 ? -r : r);
}
