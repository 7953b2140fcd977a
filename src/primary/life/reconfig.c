/*
 * A reload that takes new options: from the configuration file, read
 * again, or from the program (zc_primary_reload_options). Two steps, so
 * that nothing is touched by options that do not hold:
 *
 *   prepare  read and check the whole: the file, every value, the options
 *            together, and that none that needs a restart changed. A
 *            failure refuses the reload and leaves the fleet as it was.
 *   reload   when the reload starts (at once, or after the walk under
 *            way), swap the options in, rebuild the workers' environment,
 *            start the walk, and scale to the new count as part of it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/compat.h"
#include "base/cpus.h"
#include "base/log.h"
#include "base/parse.h"
#include "primary/core/conffile.h"
#include "primary/core/env.h"
#include "primary/core/optable.h"
#include "primary/core/options.h"
#include "primary/life/reconfig.h"
#include "primary/life/scale.h"
#include "primary/life/walk.h"

#define NS ZC__PNS

/* Where a message about the new options points: the file and the line
 * that sets key, or the program's call. */
static void where(const zc_options *n, const zc_config *c, const char *key,
                  char *buf, size_t size)
{
    unsigned line = c && key ? zc__config_line(c, key) : 0;

    if (!n->config)
        snprintf(buf, size, "zc_primary_reload_options()");
    else if (line)
        snprintf(buf, size, "%s:%u", n->config, line);
    else
        snprintf(buf, size, "%s", n->config);
}

static void list_values(const char *const *v, size_t n, char *buf, size_t size)
{
    size_t len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < n && len < size; i++)
        len += (size_t) snprintf(buf + len, size - len, "%s%s", i ? " " : "",
                                 v[i]);
}

/* The value of row r as the comparison sees it: listen whole. */
static void value_of(const zc_options *o, const struct zc__opt *r, char *buf,
                     size_t size)
{
    if (r->kind == ZC__OPT_LISTEN)
        list_values(o->listen, o->n_listen, buf, size);
    else
        (void) zc_option_format(o, r->info.name, buf, size);
}

static bool listed(const char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

static bool same_argv(char *const *a, char *const *b)
{
    size_t i = 0;

    if (!a || !b)
        return a == b;
    for (; a[i] && b[i]; i++)
        if (strcmp(a[i], b[i]) != 0)
            return false;
    return a[i] == b[i];
}

static void add_change(char *buf, size_t size, const char *fmt, ...)
    ZC_PRINTF(3, 4);

static void add_change(char *buf, size_t size, const char *fmt, ...)
{
    size_t len = strlen(buf);
    va_list ap;

    if (len + 8 >= size)
        return;
    if (len)
        len += (size_t) snprintf(buf + len, size - len, ", ");
    va_start(ap, fmt);
    (void) vsnprintf(buf + len, size - len, fmt, ap);
    va_end(ap);
}

/* Whether buf ("a, env B, c") has the change said as a whole entry:
 * "env A" is not said by "env AB". */
static bool said_already(const char *buf, const char *said)
{
    size_t n = strlen(said);

    for (const char *at = buf; (at = strstr(at, said)); at++)
        if ((at == buf || at[-1] == ' ') && (at[n] == ',' || !at[n]))
            return true;
    return false;
}

/* "env KEY" for each variable of a that b does not have as it is, once. */
static void env_changes(const char *const *a, size_t na, const char *const *b,
                        size_t nb, char *buf, size_t size)
{
    for (size_t i = 0; i < na; i++) {
        char said[160];

        if (listed(b, nb, a[i]))
            continue;
        snprintf(said, sizeof(said), "env %.*s", (int) strcspn(a[i], "="),
                 a[i]);
        if (!said_already(buf, said))
            add_change(buf, size, "%s", said);
    }
}

/* What the new options n would change; -EINVAL with why when one of them
 * needs a restart. */
static int compare(const struct zc_primary *p, const zc_options *n,
                   const zc_config *c, char *changes, size_t csize, char *why,
                   size_t size)
{
    const struct zc__opt *r;
    char a[256], b[256], at[300];

    changes[0] = '\0';
    for (size_t i = 0; (r = zc__opt_at(i)); i++) {
        if (r->kind == ZC__OPT_ENV)
            continue;
        value_of(&p->opt, r, a, sizeof(a));
        value_of(n, r, b, sizeof(b));
        if (strcmp(a, b) == 0)
            continue;
        if (r->info.restart_only) {
            where(n, c, r->info.name, at, sizeof(at));
            return zc__why(why, size,
                           "%s: %s cannot change on a reload: "
                           "%s (the fleet has '%s', now '%s'); restart the "
                           "fleet to change it",
                           at, r->info.name, r->info.restart_only, a, b);
        }
        if (r->offset != offsetof(zc_options, workers))
            add_change(changes, csize, "%s %s -> %s", r->info.name, a, b);
    }
    env_changes(p->opt.env, p->opt.n_env, n->env, n->n_env, changes, csize);
    env_changes(n->env, n->n_env, p->opt.env, p->opt.n_env, changes, csize);
    if (!same_argv(p->opt.command, n->command))
        add_change(changes, csize, "command");
    return 0;
}

/* Everything but the comparison: what zc_cluster_run() checks at start. */
static int check(struct zc_primary *p, zc_options *n, const zc_config *c,
                 char *why, size_t size)
{
    char at[300], reason[256];
    struct stat st;

    where(n, c, NULL, at, sizeof(at));
    if (p->opt.command && !n->command)
        return zc__why(why, size,
                       "%s: no command: expected 'command = "
                       "...' (the fleet runs %s)",
                       at, p->opt.command[0]);
    if (!p->opt.command && n->command)
        return zc__why(why, size,
                       "%s: a command: the fleet runs its own "
                       "program (library mode), and it needs a restart to run "
                       "another",
                       at);
    /* The program's callbacks are not options a file can say. */
    n->primary_init = p->opt.primary_init;
    n->sticky_hash = p->opt.sticky_hash;
    n->sticky_hash_arg = p->opt.sticky_hash_arg;
    n->ipc_max_message = p->opt.ipc_max_message;
    n->ipc_queue_max = p->opt.ipc_queue_max;
    n->metrics_memory = p->opt.metrics_memory;
    zc__options_reconcile(n);
    if (zc_options_check(n, p->n_listeners > p->opt.n_listen, reason,
                         sizeof(reason)) < 0)
        return zc__why(why, size, "%s: %s", at, reason);
    if (zc__options_validate(n) < 0)
        return zc__why(why, size,
                       "%s: the options do not hold together "
                       "(logged)",
                       at);
    if (n->chdir && (stat(n->chdir, &st) < 0 || !S_ISDIR(st.st_mode))) {
        where(n, c, "chdir", at, sizeof(at));
        return zc__why(why, size, "%s: chdir '%s': not a directory", at,
                       n->chdir);
    }
    return 0;
}

int zc__reconfig_prepare(struct zc_primary *p, const zc_options *given,
                         char *why, size_t size)
{
    struct conf_next next = { .set = true };
    zc_config *c;

    if (given) {
        c = zc__config_copy(given, &next.opt, why, size);
    } else {
        if (!p->opt.config)
            return 0; /* a plain reload: the options stay */
        zc_options_init(&next.opt);
        c = zc_config_load(&next.opt, p->opt.config, p->opt.config_overrides,
                           why, size);
    }
    if (!c)
        return -EINVAL;
    if (check(p, &next.opt, c, why, size) < 0 ||
        compare(p, &next.opt, c, next.changes, sizeof(next.changes), why,
                size) < 0) {
        zc_config_free(c);
        return -EINVAL;
    }
    next.owner = c;
    /* A newer one replaces one not yet applied. */
    zc__conf_next_drop(&p->conf_next);
    p->conf_next = next;
    return 0;
}

/* Swaps the prepared options in; returns the worker count they ask for. */
static unsigned apply(struct zc_primary *p)
{
    struct conf_next *N = &p->conf_next;
    zc_options old = p->opt;
    char how[512];
    unsigned n =
        N->opt.workers ? N->opt.workers : zc__cpus_available(how, sizeof(how));

    p->opt = N->opt;
    if (zc__env_init(p) < 0) {
        p->opt = old;
        zc_log(ZC_LOG_ERROR, NS,
               "no memory for the new workers' "
               "environment: the reload runs with the options as they were");
        zc__conf_next_drop(N);
        return p->n_slots;
    }
    if (p->opt.command)
        p->argv = p->opt.command;
    zc_config_free(p->conf_owner);
    p->conf_owner = N->owner;
    zc_log(ZC_LOG_INFO, NS, "%s from %s: %s; %u worker%s",
           N->changes[0] ? "new options" : "the same options",
           p->opt.config ? p->opt.config : "zc_primary_reload_options()",
           N->changes[0] ? N->changes : "nothing else changed", n, PLURAL(n));
    N->set = false;
    N->owner = NULL;
    return n;
}

int zc__reconfig_reload(struct zc_primary *p, const char *by)
{
    struct walk_snapshot R;
    unsigned n;
    int r;

    zc__walk_snapshot(p, &R);
    /* Refused, or queued after the walk under way: then it applies. */
    if (p->shutting_down || R.active || !p->conf_next.set)
        return zc__walk_start(p, WALK_RELOAD, NULL, by);
    n = apply(p);
    r = zc__walk_start(p, WALK_RELOAD, NULL, by);
    if (r == 0 && n != p->n_slots)
        (void) zc__scale_to(p, n, by);
    return r;
}
