/*
 * The primary process: one thread, one event loop (base/loop.c), a table of
 * slots and a list of worker processes (fleet.h). This file sets it up,
 * runs it and takes it down; what happens in between is the other files of
 * src/primary/ (docs/architecture.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/compat.h"
#include "base/cpus.h"
#include "base/log.h"
#include "primary/control/control.h"
#include "primary/control/endpoint.h"
#include "primary/core/collect.h"
#include "primary/core/conffile.h"
#include "primary/core/env.h"
#include "primary/core/identity.h"
#include "primary/core/link.h"
#include "primary/core/listeners.h"
#include "primary/core/node.h"
#include "primary/core/optable.h"
#include "primary/core/output.h"
#include "primary/core/options.h"
#include "primary/core/primary.h"
#include "primary/health/recycle.h"
#include "primary/health/watchdog.h"
#include "primary/life/reconfig.h"
#include "primary/life/respawn.h"
#include "primary/life/scale.h"
#include "primary/life/shutdown.h"
#include "primary/life/strays.h"
#include "primary/life/walk.h"
#include "primary/life/worker.h"
#include "primary/loop/inputs.h"
#include "primary/loop/lifecycle.h"
#include "primary/loop/signals.h"
#include "primary/loop/upgrade.h"
#include "primary/spread/balance.h"
#include "primary/spread/router.h"
#include "primary/spread/watch.h"
#include "proto/ctlpath.h"
#include "proto/handlers.h"
#include "proto/notify.h"

#define NS ZC__PNS

/* Requests made from callbacks, in the order scale, then reload. */
static void apply_requests(struct zc_primary *p)
{
    unsigned n = p->pending_scale;

    p->pending_scale = 0;
    if (n)
        (void) zc__scale_to(p, n, "zc_primary_scale()");
    if (p->pending_reload) {
        p->pending_reload = false;
        (void) zc__reconfig_reload(p, p->pending_reload_by
                                          ? p->pending_reload_by
                                          : "zc_primary_reload()");
        p->pending_reload_by = NULL;
    }
}

/* Before each wait: write what the batch queued, then free the records of
 * the workers reaped in it (epoll may still have named them in the batch,
 * so they live until here). */
static void before_poll(struct zc__loop *l)
{
    struct zc_primary *p = zc__container_of(l, struct zc_primary, loop);

    apply_requests(p);
    /* Steered away from a slot before its worker reads that it retires:
     * what it has queued by then is all it gets, and it accepts that. */
    zc__balance_steer(p);
    zc__watch_arm(p);
    zc__link_flush_dirty(p);
    zc__router_before_poll(p);
    zc__output_reap(p);
    while (p->dead) {
        struct worker *w = p->dead;

        p->dead = w->next;
        free(w);
    }
    /* Last: everything this batch queued is written, nothing is owed. */
    zc__upgrade_before_poll(p);
}

/* A socket must never land on 0-2 and be taken for stdio. */
static void sanitize_stdio(void)
{
    for (int fd = 0; fd < 3; fd++)
        if (fcntl(fd, F_GETFD) == -1 && errno == EBADF)
            (void) open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
}

static int setup_failed(const char *what, int r)
{
    zc_log(ZC_LOG_ERROR, NS, "cannot start: %s: %s", what, zc_strerror(r));
    return r;
}

/*
 * Each worker costs the primary one fd (its link), so a thousand workers
 * need more than the usual soft limit of 1024. Raise it to the hard limit,
 * as systemd does for itself; workers get the limit we found, since some
 * programs still use select().
 */
static void raise_nofile(struct zc_primary *p)
{
    struct rlimit more;

    if (getrlimit(RLIMIT_NOFILE, &p->nofile) == -1)
        return;
    more = p->nofile;
    /* Always, not only for a large -w: the fleet can grow at run time. */
    if (more.rlim_cur >= more.rlim_max)
        return;
    more.rlim_cur = more.rlim_max;
    p->nofile_raised = setrlimit(RLIMIT_NOFILE, &more) == 0;
}

/* zc_options.name, or one from the command (proto/ctlpath.c). */
static void name_fleet(struct zc_primary *p, char **argv)
{
    if (p->opt.name)
        snprintf(p->name, sizeof(p->name), "%s", p->opt.name);
    else
        zc__control_default_name(p->opt.command ? p->opt.command : argv,
                                 p->name, sizeof(p->name));
}

static int setup(struct zc_primary *p, char **argv)
{
    const size_t prefix = strlen("NOTIFY_SOCKET=");
    int r;

    r = zc__loop_init(&p->loop, &p->signals, zc__signals_on, p->n_slots + 4);
    if (r < 0)
        return setup_failed("event loop", r);
    name_fleet(p, argv);
    zc__log_set_format(p->opt.log_format, p->name);
    if (zc__output_start(p) < 0)
        return setup_failed("the workers' output", -ENOMEM);
    /* First: a second fleet of the same name stops before it binds. */
    r = zc__control_start(p);
    if (r < 0)
        return r;           /* logged */
    p->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (p->devnull == -1)
        return setup_failed("/dev/null", -errno);
    p->argv = p->opt.command ? p->opt.command : argv;
    if (!p->opt.command && (r = zc__env_self_path(p, argv[0])) < 0)
        return setup_failed("finding our own binary", r);
    r = zc__listeners_open(p);
    if (r == 0)
        r = zc__balance_open(p);
    if (r < 0)
        return r;           /* logged with its address */
    if (p->carried && p->carried->notify >= 0) {
        /* Upgraded: the socket workers already send to. */
        p->notify_fd = p->carried->notify;
        p->carried->notify = -1;
        snprintf(p->env.notify + prefix, sizeof(p->env.notify) - prefix, "%s",
                 p->carried->notify_path);
        r = 0;
    } else {
        r = zc__notify_open(&p->notify_fd, p->env.notify + prefix,
                            sizeof(p->env.notify) - prefix);
    }
    if (r < 0)
        return setup_failed("notify socket", r);
    memcpy(p->env.notify, "NOTIFY_SOCKET=", prefix);
    p->notify_io =
        (struct zc__io) { .fd = p->notify_fd, .cb = zc__inputs_on_notify };
    r = zc__loop_add(&p->loop, &p->notify_io, EPOLLIN);
    if (r < 0)
        return setup_failed("notify socket", r);
    /* Least-conn reads closes from the registries workers share, and the
     * watchdog their pings. */
    if ((p->opt.metrics || p->opt.balance == ZC_BALANCE_LEAST_CONN ||
         p->opt.watchdog_ms) && zc__collect_start(p) < 0)
        return setup_failed("metrics", -ENOMEM);
    if (p->opt.metrics && (r = zc__endpoint_start(p)) < 0)
        return r;           /* logged with its address */
    if (zc__respawn_grow_slots(p, p->n_slots) < 0 || zc__env_init(p) < 0)
        return setup_failed("worker table", -ENOMEM);
    for (unsigned i = 0; i < p->n_slots; i++)
        if (!(p->slots[i] = zc__respawn_slot_new(p, i)))
            return setup_failed("worker table", -ENOMEM);
    if (p->router && p->n_listeners == 0) {
        char mode[16];

        (void) zc_option_format(&p->opt, "balance", mode, sizeof(mode));
        zc_log(ZC_LOG_ERROR, NS, "cannot start: --balance %s needs a listen "
               "address for the primary to accept on", mode);
        return -EDESTADDRREQ;
    }
    if ((r = zc__router_start(p)) < 0)
        return r;           /* logged */
    p->loop.before_poll = before_poll;
    raise_nofile(p);
    return 0;
}

static void free_all(struct zc_primary *p)
{
    for (struct worker *w = p->workers, *next; w; w = next) {
        next = w->next;
        zc__node_forget(w);
        free(w);
    }
    for (struct worker *w = p->dead, *next; w; w = next) {
        next = w->next;
        free(w);
    }
    for (unsigned i = 0; p->slots && i < p->n_kept; i++)
        free(p->slots[i]);
    free(p->slots);
}

static void teardown(struct zc_primary *p)
{
    zc__control_stop(p);
    zc__worker_kill_and_reap_all(p);
    zc__strays_end(p);
    zc__router_free(p);
    zc__endpoint_stop(p);
    zc__collect_stop(p);
    zc__balance_close(p);
    zc__listeners_close(p);
    zc__node_close_servers(p);
    zc__output_stop(p);
    if (p->notify_fd >= 0)
        (void) close(p->notify_fd);
    if (p->devnull >= 0)
        (void) close(p->devnull);
    zc__loop_free(&p->loop);
    zc__env_free(p);
    zc__conf_next_drop(&p->conf_next);
    zc_config_free(p->conf_owner);
    free(p->self_path);
    free(p->exe_path);
    free(p->upgrade_config);
    if (p->exe_fd >= 0)
        (void) close(p->exe_fd);
    zc__identity_free(p);
    zc__log_set_format(zc__log_format_env(), NULL);
    free_all(p);
    free(p->event_fns);
    zc__handlers_free(&p->handlers);
    if (p->nofile_raised)
        (void) setrlimit(RLIMIT_NOFILE, &p->nofile);
}

/* Started by an upgrade: the mask it was started with (carried), with
 * the signals the loop reads blocked on top, as a fresh start has it. */
static void restore_mask(struct zc_primary *p, const struct upgrade_take *t,
                         sigset_t *old_mask)
{
    sigset_t m;

    if (t->in.has_mask)
        *old_mask = t->in.mask;
    m = *old_mask;
    for (int sig = 1; sig < NSIG; sig++)
        if (sigismember(&p->signals, sig) == 1)
            sigaddset(&m, sig);
    (void) sigprocmask(SIG_SETMASK, &m, NULL);
}

int zc__primary_run(char **argv, const zc_options *o, void *arg)
{
    struct zc_primary p = { .notify_fd = -1,
                            .devnull = -1,
                            .exit_status = 1,
                            .exe_fd = -1,
                            .loop = {
                                .epfd = -1, .sigfd = -1, .timerfd = -1 } };
    struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe,
                     old[ZC__N_SIGNALS];
    struct upgrade_take up;
    char why[512];
    sigset_t old_mask;
    int r, restoring;

    p.start_us = zc__now_us();
    p.next_worker_id = 1;
    p.generation = p.running_generation = 1;
    p.opt = *o;
    p.own_argv = argv;
    restoring = zc__upgrade_take(&p, o, &up);
    zc__options_reconcile(&p.opt);
    p.router = zc__router_for(p.opt.balance);
    zc__log_set_format(p.opt.log_format, NULL);
    p.n_slots = restoring ? up.in.n_slots : o->workers;
    if (!p.n_slots) {
        char how[512];

        p.n_slots = zc__cpus_available(how, sizeof(how));
        zc_log(ZC_LOG_INFO, NS,
               "%u worker%s, one per CPU this process may "
               "use: %s",
               p.n_slots, PLURAL(p.n_slots), how);
    }
    if (zc__options_validate(&p.opt) < 0 || zc__identity_resolve(&p) < 0) {
        if (restoring)
            zc__upgrade_back(&p, &up,
                             "the running options are refused "
                             "by this image (see the line above)");
        zc__identity_free(&p);
        return 2;
    }
    sanitize_stdio();
    /* Signals are read from a signalfd, so they must stay blocked; SIGPIPE
     * is ignored and every send uses MSG_NOSIGNAL as well. */
    zc__signals_take(&p, old, &old_mask);
    if (restoring)
        restore_mask(&p, &up, &old_mask);
    p.start_mask = old_mask;
    (void) sigaction(SIGPIPE, &ign, &old_pipe);
    zc__timer_init(&p.shutdown_timer, zc__shutdown_on_timeout);
    zc__timer_init(&p.lame_duck_timer, zc__shutdown_on_delay);
    zc__watch_start(&p);
    zc__upgrade_init(&p, argv);
    p.hooks.ready = zc__lifecycle_ready;
    p.hooks.not_ready = zc__lifecycle_not_ready;
    p.hooks.link_io = zc__inputs_link_io;
    p.hooks.event = zc__control_event;
    p.hooks.walk_ended = zc__control_walk_ended;
    p.hooks.output_line = zc__control_output_line;
    p.hooks.upgrade = zc__upgrade_request;
    r = setup(&p, argv);
    if (r < 0 && restoring)
        zc__upgrade_back(&p, &up,
                         "this image could not set the fleet up "
                         "(see the line above)");
    if (r < 0)
        goto out;
    if (restoring && zc__carry_read_workers(&p, &up.in, why, sizeof(why)) < 0)
        zc__upgrade_back(&p, &up, why);
    if (o->primary_init && (r = o->primary_init(&p, arg)) < 0) {
        zc_log(ZC_LOG_ERROR, NS, "cannot start: the primary_init callback "
               "failed: %s", zc_strerror(r));
        if (restoring)
            zc__upgrade_back(&p, &up, "the primary_init callback failed");
        goto out;
    }
    if (!restoring)
        zc_log(ZC_LOG_INFO, NS, "starting %u worker%s: %s", p.n_slots,
               PLURAL(p.n_slots), p.self_path ? p.self_path : p.argv[0]);
    zc__watchdog_start(&p);
    zc__recycle_start(&p);
    zc__strays_start(&p);
    if (restoring)
        zc__upgrade_finish(&p, &up);
    for (unsigned i = 0; !restoring && i < p.n_slots && !p.loop.stop; i++)
        zc__respawn_spawn_slot(&p, p.slots[i]);
    p.started = true;
    r = zc__loop_run(&p.loop);
    if (r < 0)
        zc_log(ZC_LOG_ERROR, NS, "event loop failed: %s", zc_strerror(r));
out:
    teardown(&p);
    (void) sigaction(SIGPIPE, &old_pipe, NULL);
    zc__signals_restore(old, &old_mask);
    return r < 0 ? 1 : p.exit_status;
}
