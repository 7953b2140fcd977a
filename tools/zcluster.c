/*
 * zcluster(1): run any server as a fleet of workers. Thin on purpose: it
 * parses options into a zc_options and calls zc_cluster_run(), so whatever
 * the tool does, a C program can do through the library.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/compat.h"
#include "base/parse.h"
#include "zcluster.h"

#define MAX_DURATION_MS 86400000u   /* one day */

static const char *arg_listen[ZC_MAX_LISTEN];

static void help(void)
{
    printf("Usage: zcluster [OPTIONS] [--] COMMAND [ARGS...]\n"
           "Run COMMAND as a fleet of worker processes that share listening "
           "sockets.\n\n"
           "  -w, --workers N             number of workers (default: one per CPU)\n"
           "  -l, --listen ADDR           bind ADDR once and pass it to every worker;\n"
           "                              repeatable. HOST:PORT, [V6]:PORT, :PORT,\n"
           "                              unix:PATH, unix:@NAME; NAME=ADDR names it\n"
           "      --ready POLICY          when a worker is ready: auto (READY=1 or\n"
           "                              1 s up, the default), notify, immediate,\n"
           "                              delay:MS\n"
           "      --respawn WHEN          on-failure (default), always, never\n"
           "      --respawn-delay MS      delay before the first respawn (1000)\n"
           "      --max-respawn-delay MS  cap of the exponential backoff (30000)\n"
           "      --backoff-factor F      backoff growth per crash in a row (2)\n"
           "      --backoff-reset MS      ready this long clears the crash count (10000)\n"
           "      --shutdown-timeout MS   drain time before SIGKILL (30000)\n"
           "      --stop-signal SIG       signal that asks a worker to drain (TERM)\n"
           "      --ready-timeout MS      a reload's new worker must be ready within\n"
           "                              this, or the reload stops (10000)\n"
           "      --max-surge K           slots a reload replaces at a time (1)\n"
           "      --metrics ADDR          serve /metrics, /healthz and /readyz on\n"
           "                              HOST:PORT (Prometheus text format)\n"
           "      --metrics-timeout MS    a client's request must arrive within\n"
           "                              this (5000)\n"
           "      --metrics-wait MS       a scrape waits this long for workers that\n"
           "                              report metrics by message (500)\n"
           "      --sticky                the primary accepts and hands each\n"
           "                              connection to the worker of the slot its\n"
           "                              client address hashes to (Node-style DJB2)\n"
           "      --sticky-wait MS        a connection waits this long for its slot's\n"
           "                              worker, then goes to the next slot (2000)\n"
           "      --sticky-queue N        connections that may wait per slot (1024)\n"
           "      --proxy-protocol        with --sticky: connections start with a\n"
           "                              PROXY v1 or v2 header; hash its client\n"
           "      --proxy-timeout MS      the header must arrive within this (5000)\n"
           "  -h, --help                  show this help\n"
           "  -V, --version               show the version\n\n"
           "Durations take ms, s or m (\"500\", \"500ms\", \"2s\").\n"
           "Signals: TERM/INT drain and exit (a second one kills at once), "
           "QUIT kills at once,\n"
           "HUP reloads worker by worker, TTIN adds a worker, TTOU removes one.\n"
           "Environment: ZC_LOG_LEVEL=error|warn|info|debug|trace, "
           "ZC_DEBUG=zc:*,-zc:loop, NO_COLOR.\n"
           "See zcluster(1) and docs/protocol.md for what a worker receives.\n");
}

static int usage_error(const char *fmt, ...) ZC_PRINTF(1, 2);

/* One line that says what is wrong, one that says where to look; status 2. */
static int usage_error(const char *fmt, ...)
{
    va_list ap;

    if (fmt) {
        fprintf(stderr, "zcluster: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
    }
    fprintf(stderr, "Try 'zcluster --help' for more information.\n");
    return 2;
}

enum {
    OPT_READY = 256, OPT_RESPAWN, OPT_RESPAWN_DELAY, OPT_MAX_RESPAWN_DELAY,
    OPT_BACKOFF_FACTOR, OPT_BACKOFF_RESET, OPT_SHUTDOWN_TIMEOUT,
    OPT_STOP_SIGNAL, OPT_READY_TIMEOUT, OPT_MAX_SURGE, OPT_METRICS,
    OPT_METRICS_TIMEOUT, OPT_METRICS_WAIT, OPT_STICKY, OPT_STICKY_WAIT,
    OPT_STICKY_QUEUE, OPT_PROXY_PROTOCOL, OPT_PROXY_TIMEOUT,
};

static const struct option long_options[] = {
    { "workers", required_argument, NULL, 'w' },
    { "listen", required_argument, NULL, 'l' },
    { "ready", required_argument, NULL, OPT_READY },
    { "respawn", required_argument, NULL, OPT_RESPAWN },
    { "respawn-delay", required_argument, NULL, OPT_RESPAWN_DELAY },
    { "max-respawn-delay", required_argument, NULL, OPT_MAX_RESPAWN_DELAY },
    { "backoff-factor", required_argument, NULL, OPT_BACKOFF_FACTOR },
    { "backoff-reset", required_argument, NULL, OPT_BACKOFF_RESET },
    { "shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN_TIMEOUT },
    { "stop-signal", required_argument, NULL, OPT_STOP_SIGNAL },
    { "ready-timeout", required_argument, NULL, OPT_READY_TIMEOUT },
    { "max-surge", required_argument, NULL, OPT_MAX_SURGE },
    { "metrics", required_argument, NULL, OPT_METRICS },
    { "metrics-timeout", required_argument, NULL, OPT_METRICS_TIMEOUT },
    { "metrics-wait", required_argument, NULL, OPT_METRICS_WAIT },
    { "sticky", no_argument, NULL, OPT_STICKY },
    { "sticky-wait", required_argument, NULL, OPT_STICKY_WAIT },
    { "sticky-queue", required_argument, NULL, OPT_STICKY_QUEUE },
    { "proxy-protocol", no_argument, NULL, OPT_PROXY_PROTOCOL },
    { "proxy-timeout", required_argument, NULL, OPT_PROXY_TIMEOUT },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};

static int parse_ready(const char *v, zc_options *o)
{
    if (strcmp(v, "auto") == 0)
        o->ready = ZC_READY_AUTO;
    else if (strcmp(v, "notify") == 0)
        o->ready = ZC_READY_NOTIFY;
    else if (strcmp(v, "immediate") == 0)
        o->ready = ZC_READY_IMMEDIATE;
    else if (strncmp(v, "delay:", 6) == 0 &&
             zc__parse_duration_ms(v + 6, MAX_DURATION_MS, &o->ready_delay_ms) == 0)
        o->ready = ZC_READY_DELAY;
    else
        return usage_error("invalid --ready '%s': expected auto, notify, "
                           "immediate or delay:MS", v);
    return 0;
}

static int parse_respawn(const char *v, zc_options *o)
{
    if (strcmp(v, "on-failure") == 0)
        o->respawn = ZC_RESPAWN_ON_FAILURE;
    else if (strcmp(v, "always") == 0)
        o->respawn = ZC_RESPAWN_ALWAYS;
    else if (strcmp(v, "never") == 0)
        o->respawn = ZC_RESPAWN_NEVER;
    else
        return usage_error("invalid --respawn '%s': expected on-failure, "
                           "always or never", v);
    return 0;
}

static int parse_duration(const char *opt, const char *v, uint32_t *ret)
{
    if (zc__parse_duration_ms(v, MAX_DURATION_MS, ret) < 0)
        return usage_error("invalid --%s '%s': expected a duration from 0 to "
                           "24 hours, such as 500, 500ms or 2s", opt, v);
    return 0;
}

static int parse_factor(const char *v, double *ret)
{
    char *end;

    errno = 0;
    *ret = strtod(v, &end);
    if (errno || end == v || *end || !(*ret >= 1.0 && *ret <= 1000.0))
        return usage_error("invalid --backoff-factor '%s': expected a "
                           "number from 1 to 1000", v);
    return 0;
}

static int parse_option(int c, const char *v, zc_options *o)
{
    unsigned long n;
    int sig;

    switch (c) {
    case 'w':
        if (zc__parse_uint(v, 1, ZC_MAX_WORKERS, &n) < 0)
            return usage_error("invalid --workers '%s': expected a whole "
                               "number from 1 to 4096", v);
        o->workers = (unsigned) n;
        return 0;
    case 'l':
        if (zc_address_check(v) < 0)
            return usage_error("invalid --listen address '%s': expected "
                               "HOST:PORT, [V6]:PORT, :PORT or unix:PATH", v);
        if (o->n_listen == ZC_MAX_LISTEN)
            return usage_error("too many --listen addresses (%d at most)",
                               ZC_MAX_LISTEN);
        arg_listen[o->n_listen++] = v;
        return 0;
    case OPT_READY:
        return parse_ready(v, o);
    case OPT_RESPAWN:
        return parse_respawn(v, o);
    case OPT_RESPAWN_DELAY:
        return parse_duration("respawn-delay", v, &o->respawn_delay_ms);
    case OPT_MAX_RESPAWN_DELAY:
        return parse_duration("max-respawn-delay", v, &o->max_respawn_delay_ms);
    case OPT_BACKOFF_FACTOR:
        return parse_factor(v, &o->backoff_factor);
    case OPT_BACKOFF_RESET:
        return parse_duration("backoff-reset", v, &o->backoff_reset_ms);
    case OPT_SHUTDOWN_TIMEOUT:
        return parse_duration("shutdown-timeout", v, &o->shutdown_timeout_ms);
    case OPT_STOP_SIGNAL:
        sig = zc__signal_parse(v);
        if (sig < 0 || sig == SIGKILL || sig == SIGSTOP)
            return usage_error("invalid --stop-signal '%s': expected a "
                               "signal name or number such as TERM", v);
        o->stop_signal = sig;
        return 0;
    case OPT_READY_TIMEOUT:
        if (parse_duration("ready-timeout", v, &o->ready_timeout_ms))
            return 2;
        if (o->ready_timeout_ms == 0)
            return usage_error("invalid --ready-timeout '%s': must be at "
                               "least 1 ms", v);
        return 0;
    case OPT_MAX_SURGE:
        if (zc__parse_uint(v, 1, ZC_MAX_WORKERS, &n) < 0)
            return usage_error("invalid --max-surge '%s': expected a whole "
                               "number from 1 to 4096", v);
        o->max_surge = (unsigned) n;
        return 0;
    case OPT_METRICS:
        if (zc_address_check(v) < 0 || strncmp(v, "unix:", 5) == 0 ||
            strchr(v, '='))
            return usage_error("invalid --metrics address '%s': expected "
                               "HOST:PORT, [V6]:PORT or :PORT", v);
        o->metrics = v;
        return 0;
    case OPT_METRICS_TIMEOUT:
        if (parse_duration("metrics-timeout", v, &o->metrics_timeout_ms))
            return 2;
        if (o->metrics_timeout_ms < 100 || o->metrics_timeout_ms > 3600000)
            return usage_error("invalid --metrics-timeout '%s': must be from "
                               "100 ms to 1 hour", v);
        return 0;
    case OPT_METRICS_WAIT:
        if (parse_duration("metrics-wait", v, &o->metrics_wait_ms))
            return 2;
        if (o->metrics_wait_ms < 1 || o->metrics_wait_ms > 60000)
            return usage_error("invalid --metrics-wait '%s': must be from "
                               "1 ms to 60 s", v);
        return 0;
    case OPT_STICKY:
        o->sticky = true;
        return 0;
    case OPT_STICKY_WAIT:
        if (parse_duration("sticky-wait", v, &o->sticky_wait_ms))
            return 2;
        if (o->sticky_wait_ms > 3600000)
            return usage_error("invalid --sticky-wait '%s': must be at most "
                               "1 hour", v);
        return 0;
    case OPT_STICKY_QUEUE:
        if (zc__parse_uint(v, 1, 1000000, &n) < 0)
            return usage_error("invalid --sticky-queue '%s': expected a whole "
                               "number from 1 to 1000000", v);
        o->sticky_queue = (unsigned) n;
        return 0;
    case OPT_PROXY_PROTOCOL:
        o->proxy_protocol = true;
        return 0;
    case OPT_PROXY_TIMEOUT:
        if (parse_duration("proxy-timeout", v, &o->proxy_timeout_ms))
            return 2;
        if (o->proxy_timeout_ms < 1 || o->proxy_timeout_ms > 3600000)
            return usage_error("invalid --proxy-timeout '%s': must be from "
                               "1 ms to 1 hour", v);
        return 0;
    default:            /* getopt has said what was wrong */
        return usage_error(NULL);
    }
}

int main(int argc, char **argv)
{
    zc_options o;
    int c, r;

    zc_options_init(&o);
    o.listen = arg_listen;
    /* '+': options end at the command's name, "--" or not. */
    while ((c = getopt_long(argc, argv, "+w:l:hV", long_options, NULL)) != -1) {
        if (c == 'h') {
            help();
            return 0;
        }
        if (c == 'V') {
            printf("zcluster %s\n", ZC_VERSION);
            return 0;
        }
        r = parse_option(c, optarg, &o);
        if (r)
            return r;
    }
    if (optind >= argc)
        return usage_error("no command given: zcluster [OPTIONS] -- COMMAND "
                           "[ARGS...]");
    if (o.respawn_delay_ms > o.max_respawn_delay_ms)
        return usage_error("--respawn-delay %u ms is larger than "
                           "--max-respawn-delay %u ms", o.respawn_delay_ms,
                           o.max_respawn_delay_ms);
    if (o.proxy_protocol && !o.sticky)
        return usage_error("--proxy-protocol needs --sticky: only then does "
                           "the primary accept connections and read their "
                           "headers");
    if (o.sticky && o.n_listen == 0 && !getenv("LISTEN_FDS"))
        return usage_error("--sticky needs a listen address (-l) for the "
                           "primary to accept on");
    o.command = argv + optind;
    return zc_cluster_run(argc, argv, NULL, NULL, &o);
}
