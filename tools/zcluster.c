/*
 * zcluster(1): run any server as a fleet of workers. Thin on purpose: it
 * parses options into a zc_options and calls zc_cluster_run(), so whatever
 * the tool does, a C program can do through the library. Its options are
 * the library's table (zc_option_get): parsed by zc_option_set(), shown
 * by --help with the defaults zc_options_init() sets. Public header only.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zcluster.h"

#define MAX_OPTIONS 64      /* rows of the table, with room to spare */
#define HELP_COLUMN 30      /* where an option's description starts */
#define HELP_WIDTH 79

static const char *arg_listen[ZC_MAX_LISTEN];
static const char *arg_env[ZC_MAX_ENV];

/* getopt's values for the tool's own options, past the table's rows. */
#define OPT_CONFIG 1000
#define OPT_CHECK_CONFIG 1001

/* Writes text from column col, wrapped at HELP_WIDTH, continuation lines
 * indented to HELP_COLUMN. NBSP ('\1') is a space no line breaks at. */
#define NBSP '\1'

static void wrap(const char *text, int col)
{
    while (*text) {
        int room = HELP_WIDTH - col, n = (int) strlen(text);

        if (n > room) {
            n = room;
            while (n > 0 && text[n] != ' ')
                n--;
            if (n == 0)         /* one long word: let it overflow */
                n = (int) strcspn(text, " ");
        }
        for (int k = 0; k < n; k++)
            putchar(text[k] == NBSP ? ' ' : text[k]);
        putchar('\n');
        text += n;
        while (*text == ' ')
            text++;
        if (*text)
            printf("%*s", HELP_COLUMN, "");
        col = HELP_COLUMN;
    }
}

static void help(void)
{
    const zc_option_info *i;
    zc_options defaults;
    char def[64], head[64], text[512];

    zc_options_init(&defaults);
    printf("Usage: zcluster [OPTIONS] [--] COMMAND [ARGS...]\n"
           "Run COMMAND as a fleet of worker processes that share listening "
           "sockets.\n\n");
    for (size_t k = 0; (i = zc_option_get(k)); k++) {
        int n;

        n = snprintf(head, sizeof(head), "  %c%c%s--%s%s%s",
                     i->short_name ? '-' : ' ',
                     i->short_name ? i->short_name : ' ',
                     i->short_name ? ", " : "  ", i->name, i->arg ? " " : "",
                     i->arg ? i->arg : "");
        (void) zc_option_format(&defaults, i->name, def, sizeof(def));
        /* Flags are off and addresses unset by default: nothing to say. */
        if (i->arg && strcmp(def, "none") != 0)
            snprintf(text, sizeof(text), "%s (default:%c%s)", i->help, NBSP,
                     def);
        else
            snprintf(text, sizeof(text), "%s", i->help);
        if (n >= HELP_COLUMN - 1)
            printf("%s\n%*s", head, HELP_COLUMN, "");
        else
            printf("%-*s", HELP_COLUMN, head);
        wrap(text, HELP_COLUMN);
    }
    printf(
        "  -c, --config FILE           read the options from FILE (one "
        "'name = value'\n"
        "                              a line); those given here win; a "
        "reload reads it\n"
        "                              again\n"
        "      --check-config FILE     check FILE (and the options given "
        "here), print\n"
        "                              the configuration, exit 0 or 2\n"
        "  -t                          check the configuration, print it, "
        "exit 0 or 2\n"
        "  -h, --help                  show this help\n"
        "  -V, --version               show the version\n\n"
        "Durations take ms, s, m or h (\"500\", \"500ms\", \"2s\", \"1h\"); "
        "sizes K, M, G (powers of 1024).\n"
        "Signals: TERM/INT drain and exit (a second one kills at once), "
        "QUIT kills at once,\n"
        "HUP reloads worker by worker, TTIN adds a worker, TTOU removes one\n"
        "(signals in a burst coalesce: zclusterctl scale N is exact).\n"
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

/* getopt_long's tables, from the options table: a long option's val is
 * 256 + its row, a short one's its letter. */
static void build_getopt(struct option *longs, char *shorts)
{
    const zc_option_info *i;
    size_t k, s = 0;

    shorts[s++] = '+';          /* options end at the command's name */
    for (k = 0; (i = zc_option_get(k)) && k < MAX_OPTIONS; k++) {
        longs[k] = (struct option) { i->name, i->arg ? required_argument
                                                     : no_argument,
                                     NULL, 256 + (int) k };
        if (i->short_name) {
            shorts[s++] = i->short_name;
            if (i->arg)
                shorts[s++] = ':';
        }
    }
    longs[k++] =
        (struct option) { "config", required_argument, NULL, OPT_CONFIG };
    longs[k++] = (struct option) { "check-config", required_argument, NULL,
                                   OPT_CHECK_CONFIG };
    longs[k++] = (struct option) { "help", no_argument, NULL, 'h' };
    longs[k++] = (struct option) { "version", no_argument, NULL, 'V' };
    longs[k] = (struct option) { NULL, 0, NULL, 0 };
    memcpy(shorts + s, "c:thV", 6);
}

/* The table's row for what getopt returned, or NULL. */
static const zc_option_info *row_of(int c)
{
    const zc_option_info *i;

    if (c >= 256)
        return zc_option_get((size_t) (c - 256));
    for (size_t k = 0; (i = zc_option_get(k)); k++)
        if (i->short_name && i->short_name == c)
            return i;
    return NULL;
}

/* "name=value" (or "name", a flag), as zc_config_load() takes what wins
 * over the file. */
static char * override(const char *name, const char *value)
{
    size_t n = strlen(name) + (value ? strlen(value) + 1 : 0) + 1;
    char *s = malloc(n);

    if (s)
        snprintf(s, n, "%s%s%s", name, value ? "=" : "", value ? value : "");
    return s;
}

/* What main keeps until it returns: the command line's options as
 * zc_config_load() lays them over the file (malloc'ed up to "--", then
 * argv's), and the file's options. */
static char **overrides;
static size_t n_over;
static zc_config *conf;

/* Frees what main kept (so that the sanitizers see no leak); status. */
static int done(int status)
{
    zc_config_free(conf);
    for (size_t i = 0;
         overrides && i < n_over && strcmp(overrides[i], "--") != 0; i++)
        free(overrides[i]);
    free(overrides);
    return status;
}

/* --check-config: the options as a file, or what is wrong; 0 or 2. */
static int check_only(const zc_options *o, const char *file)
{
    char *text = zc_config_format(o);

    if (!text)
        return usage_error("out of memory");
    printf("# zcluster %s: %s is valid\n%s", ZC_VERSION,
           file ? file : "the command line", text);
    free(text);
    return 0;
}

int main(int argc, char **argv)
{
    struct option longs[MAX_OPTIONS + 6];
    char shorts[2 * MAX_OPTIONS + 8], why[512];
    const zc_option_info *row;
    const char *file = NULL;
    zc_options o;
    bool inherited, check = false;
    int c;

    overrides = calloc((size_t) argc + 2, sizeof(*overrides));
    if (!overrides)
        return done(usage_error("out of memory"));
    zc_options_init(&o);
    o.listen_room = arg_listen;
    o.env_room = arg_env;
    build_getopt(longs, shorts);
    while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        if (c == 'h') {
            help();
            return done(0);
        }
        if (c == 'V') {
            printf("zcluster %s\n", ZC_VERSION);
            return done(0);
        }
        if (c == 'c' || c == OPT_CONFIG || c == OPT_CHECK_CONFIG) {
            if (file && strcmp(file, optarg) != 0)
                return done(usage_error("one configuration file: '%s' and '%s'",
                                        file, optarg));
            file = optarg;
            check |= c == OPT_CHECK_CONFIG;
            continue;
        }
        if (c == 't') {
            check = true;
            continue;
        }
        row = row_of(c);
        if (!row)               /* getopt has said what was wrong */
            return done(usage_error(NULL));
        /* Checked now, for the command line's own error; kept to be laid
         * over the file, at start and at every reload. */
        if (zc_option_set(&o, row->name, optarg, why, sizeof(why)) < 0)
            return done(usage_error("%s", why));
        if (!(overrides[n_over++] =
                  override(row->name, row->arg ? optarg : NULL)))
            return done(usage_error("out of memory"));
    }
    if (optind < argc) {
        overrides[n_over++] = (char *) "--";
        for (int i = optind; i < argc; i++)
            overrides[n_over++] = argv[i];
        o.command = argv + optind;
    }
    if (file) {
        zc_options_init(&o);
        conf = zc_config_load(&o, file, overrides, why, sizeof(why));
        if (!conf) {
            fprintf(stderr, "zcluster: %s\n", why);
            return done(2);
        }
    }
    if (!o.command)
        return done(usage_error(file ? "no command: give 'command = ...' in "
                                       "%s, or one after the options"
                                     : "no command given: zcluster [OPTIONS] "
                                       "-- COMMAND [ARGS...]",
                                file));
    inherited = getenv("LISTEN_FDS") != NULL;
    if (zc_options_check(&o, inherited, why, sizeof(why)) < 0) {
        if (!file)
            return done(usage_error("%s", why));
        fprintf(stderr, "zcluster: %s: %s\n", file, why);
        return done(2);
    }
    return done(check ? check_only(&o, file)
                      : zc_cluster_run(argc, argv, NULL, NULL, &o));
}
