/*
 * The primary process: one thread, one event loop, one table of slots.
 *
 * A slot is a place in the fleet (0..N-1), not a process: it holds the
 * current worker, its state and the slot's crash history. Keying backoff on
 * the slot, not on the dead worker (as the spec does), is what makes a
 * crash loop actually back off.
 *
 *   EMPTY ──spawn──▶ STARTING ──READY=1 / delay──▶ READY
 *     ▲                 │  exit                       │ exit
 *     │                 ▼                             ▼
 *     └──timer── BACKOFF ◀──── crash (or exit 0 with --respawn always)
 *                       DONE ◀── exit 0, or --respawn never
 *   any live state ──shutdown──▶ DRAINING ──exit──▶ EMPTY
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compat.h"
#include "listen.h"
#include "log.h"
#include "loop.h"
#include "notify.h"
#include "primary.h"
#include "spawn.h"

#define NS "zc:primary"
#define PLURAL(n) ((n) == 1 ? "" : "s")

enum slot_state {
    SLOT_EMPTY,     /* no process, nothing scheduled */
    SLOT_BACKOFF,   /* waiting for its respawn timer */
    SLOT_STARTING,  /* running, not ready yet */
    SLOT_READY,     /* running and ready */
    SLOT_DRAINING,  /* asked to stop */
    SLOT_DONE       /* stopped for good (exit 0, or --respawn never) */
};

struct primary;

struct slot {
    struct primary *p;
    unsigned index;
    enum slot_state state;
    pid_t pid;              /* -1 once reaped: only unreaped pids are signalled */
    uint64_t worker_id;     /* of the current or last worker */
    uint64_t generation;
    unsigned crashes;       /* in a row; drives the backoff */
    uint64_t started_us;
    uint64_t ready_us;      /* 0 until the current worker is ready */
    struct zc__timer timer; /* ready delay while STARTING, respawn in BACKOFF */
    char status[128];       /* last STATUS= it sent, for display */
};

struct listener {
    struct zc__addr addr;
    int fd;
    bool adopted;           /* passed to us by systemd: not ours to unlink */
    char text[ZC__ADDR_TEXT_MAX];
};

/* The worker environment: the primary's own, minus the protocol variables,
 * plus ours. Built once; only the values change from spawn to spawn, so
 * spawning allocates nothing. */
struct worker_env {
    char **envp;
    size_t n_base;
    char *fdnames;          /* "LISTEN_FDNAMES=a:b" */
    char listen_fds[32];
    char listen_pid[40];    /* the child writes its pid after the '=' */
    char notify[128];
    char id[48];
    char slot[32];
    char generation[48];
};

struct primary {
    struct zc__loop loop;
    zc_options opt;
    struct slot *slots;
    unsigned n_slots;
    struct listener *listeners;
    size_t n_listeners;
    int listen_fds[ZC_MAX_LISTEN];
    int notify_fd;
    struct zc__io notify_io;
    int devnull;
    char *const *argv;      /* what each worker executes */
    char *self_path;        /* absolute path of our binary, or NULL: PATH */
    struct worker_env env;
    uint64_t next_worker_id;
    uint64_t generation;
    bool shutting_down;
    bool killing;           /* SIGKILL already sent to every worker */
    bool announced_ready;
    bool any_failed;        /* a worker failed and was not respawned */
    unsigned n_alive;       /* spawned and not yet reaped */
    uint64_t shutdown_start_us;
    struct zc__timer shutdown_timer;
    sigset_t signals;       /* blocked and read from the signalfd */
    int exit_status;
};

static const char *const protocol_vars[] = {
    "LISTEN_FDS=", "LISTEN_PID=", "LISTEN_FDNAMES=", "NOTIFY_SOCKET=",
    "ZC_WORKER_ID=", "ZC_WORKER_SLOT=", "ZC_GENERATION=", "ZC_IPC_FD=",
};

uint64_t zc__backoff_ms(uint32_t base_ms, double factor, uint32_t cap_ms,
                        unsigned crashes)
{
    double d = base_ms;

    for (unsigned i = 1; i < crashes && d < cap_ms; i++)
        d *= factor;
    if (!(d <= cap_ms))     /* also catches NaN */
        d = cap_ms;
    return (uint64_t) d;
}

static unsigned cpu_count(void)
{
    cpu_set_t set;
    long n;

    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        return (unsigned) CPU_COUNT(&set);
    n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned) n : 1;
}

/* The library's callers get the tool's checks too: a bad option is a
 * logged error and exit status 2, never a fleet that misbehaves later. */
int zc__options_validate(const zc_options *o)
{
    const char *why = NULL;

    if (o->workers > ZC_MAX_WORKERS)
        why = "workers: more than 4096";
    else if (o->n_listen > ZC_MAX_LISTEN || (o->n_listen && !o->listen))
        why = "listen: more than 64 addresses";
    else if (o->ready < ZC_READY_AUTO || o->ready > ZC_READY_DELAY)
        why = "ready: unknown policy";
    else if (o->respawn < ZC_RESPAWN_ON_FAILURE || o->respawn > ZC_RESPAWN_NEVER)
        why = "respawn: unknown policy";
    else if (!(o->backoff_factor >= 1.0 && o->backoff_factor <= 1000.0))
        why = "backoff_factor: must be from 1 to 1000";
    else if (o->respawn_delay_ms > o->max_respawn_delay_ms)
        why = "respawn_delay_ms: larger than max_respawn_delay_ms";
    else if (o->stop_signal <= 0 || o->stop_signal >= NSIG ||
             o->stop_signal == SIGSTOP)
        why = "stop_signal: not a signal that can stop a worker";
    else if (o->command && !o->command[0])
        why = "command: empty";
    if (why) {
        zc_log(ZC_LOG_ERROR, NS, "invalid options: %s", why);
        return -EINVAL;
    }
    for (size_t i = 0; i < o->n_listen; i++)
        if (zc_address_check(o->listen[i]) < 0) {
            zc_log(ZC_LOG_ERROR, NS, "invalid listen address '%s'",
                   o->listen[i]);
            return -EINVAL;
        }
    return 0;
}

/* -- worker environment and executable ---------------------------------- */

static bool is_protocol_var(const char *e)
{
    for (size_t i = 0; i < sizeof(protocol_vars) / sizeof(protocol_vars[0]); i++)
        if (strncmp(e, protocol_vars[i], strlen(protocol_vars[i])) == 0)
            return true;
    return false;
}

/* The variables the primary inherited are passed on, except the
 * protocol's own: a zcluster run by systemd (or by another zcluster) must
 * not hand its own LISTEN_FDS or NOTIFY_SOCKET down to its workers. */
static int env_init(struct primary *p)
{
    struct worker_env *e = &p->env;
    size_t n = 0, len = sizeof("LISTEN_FDNAMES=");
    char **ep;

    for (char **v = environ; *v; v++)
        n++;
    e->envp = calloc(n + 8, sizeof(*e->envp));
    for (size_t i = 0; i < p->n_listeners; i++)
        len += strlen(p->listeners[i].addr.name) + 1;
    e->fdnames = malloc(len);
    if (!e->envp || !e->fdnames)
        return -ENOMEM;
    ep = e->envp;
    for (char **v = environ; *v; v++)
        if (!is_protocol_var(*v))
            *ep++ = *v;
    e->n_base = (size_t) (ep - e->envp);
    strcpy(e->fdnames, "LISTEN_FDNAMES=");
    for (size_t i = 0; i < p->n_listeners; i++) {
        if (i)
            strcat(e->fdnames, ":");
        strcat(e->fdnames, p->listeners[i].addr.name);
    }
    snprintf(e->listen_fds, sizeof(e->listen_fds), "LISTEN_FDS=%zu",
             p->n_listeners);
    /* Only the child's copy of this buffer ever gets the digits. */
    strcpy(e->listen_pid, "LISTEN_PID=");
    return 0;
}

/* Fills in the per-worker values; returns where LISTEN_PID's value goes. */
static char *env_prepare(struct primary *p, const struct slot *s)
{
    struct worker_env *e = &p->env;
    char **ep = e->envp + e->n_base;
    char *pid_value = NULL;

    if (p->n_listeners) {
        *ep++ = e->listen_fds;
        *ep++ = e->fdnames;
        pid_value = e->listen_pid + strlen("LISTEN_PID=");
        *ep++ = e->listen_pid;
    }
    *ep++ = e->notify;
    snprintf(e->id, sizeof(e->id), "ZC_WORKER_ID=%llu",
             (unsigned long long) s->worker_id);
    snprintf(e->slot, sizeof(e->slot), "ZC_WORKER_SLOT=%u", s->index);
    snprintf(e->generation, sizeof(e->generation), "ZC_GENERATION=%llu",
             (unsigned long long) s->generation);
    *ep++ = e->id;
    *ep++ = e->slot;
    *ep++ = e->generation;
    *ep = NULL;
    return pid_value;
}

/* Looks name up in PATH the way execvp would, but before fork, so the
 * child does not allocate. Done at every spawn: a new binary in PATH is
 * what the next worker runs. */
static int find_in_path(const char *name, char *buf, size_t size)
{
    const char *path = getenv("PATH");
    int r = -ENOENT;

    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        struct stat st;

        if (snprintf(buf, size, "%.*s%s%s", (int) n, path, n ? "/" : "",
                     name) < (int) size &&
            stat(buf, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(buf, X_OK) == 0)
                return 0;
            r = -EACCES;
        }
        path += n;
        if (*path == ':')
            path++;
    }
    return r;
}

static int resolve_exec(struct primary *p, char *buf, size_t size)
{
    const char *name = p->self_path ? p->self_path : p->argv[0];

    if (strchr(name, '/')) {
        if (snprintf(buf, size, "%s", name) >= (int) size)
            return -ENAMETOOLONG;
        return 0;
    }
    return find_in_path(name, buf, size);
}

/* argv[0] made absolute against today's directory, symlinks kept: a deploy
 * that re-points "current -> release-N" is then seen by the next worker. */
static int self_path_init(struct primary *p, const char *argv0)
{
    char cwd[PATH_MAX];

    if (!argv0 || !*argv0) {
        p->self_path = strdup("/proc/self/exe");
        return p->self_path ? 0 : -ENOMEM;
    }
    if (!strchr(argv0, '/'))
        return 0;
    if (argv0[0] == '/') {
        p->self_path = strdup(argv0);
    } else {
        if (!getcwd(cwd, sizeof(cwd)))
            return -errno;
        if (asprintf(&p->self_path, "%s/%s", cwd, argv0) == -1)
            p->self_path = NULL;
    }
    return p->self_path ? 0 : -ENOMEM;
}

/* -- slot life ------------------------------------------------------------ */

static void spawn_slot(struct primary *p, struct slot *s);
static void check_fleet_end(struct primary *p);

static void describe_exit(int status, char *buf, size_t size)
{
    const char *name;

    if (WIFEXITED(status)) {
        snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
        return;
    }
    name = zc__signal_name(WTERMSIG(status));
    if (name)
        snprintf(buf, size, "was killed by signal %s%s", name,
                 WCOREDUMP(status) ? " (core dumped)" : "");
    else
        snprintf(buf, size, "was killed by signal %d%s", WTERMSIG(status),
                 WCOREDUMP(status) ? " (core dumped)" : "");
}

static void announce_if_all_ready(struct primary *p)
{
    if (p->announced_ready)
        return;
    for (unsigned i = 0; i < p->n_slots; i++)
        if (p->slots[i].state != SLOT_READY)
            return;
    p->announced_ready = true;
    zc_log(ZC_LOG_INFO, NS, "all %u workers ready", p->n_slots);
    /* Our own manager (systemd Type=notify) learns we are up. */
    (void) zc_notify("READY=1\nSTATUS=all workers ready");
}

static void mark_ready(struct primary *p, struct slot *s, const char *how)
{
    uint64_t now = zc__now_us();

    zc__timer_stop(&p->loop, &s->timer);
    s->state = SLOT_READY;
    s->ready_us = now;
    zc_log(ZC_LOG_INFO, NS, "worker %llu (slot %u, pid %d) ready in %llu ms (%s)",
           (unsigned long long) s->worker_id, s->index, (int) s->pid,
           (unsigned long long) ((now - s->started_us) / 1000), how);
    announce_if_all_ready(p);
}

static void schedule_respawn(struct primary *p, struct slot *s, uint64_t delay_ms)
{
    s->state = SLOT_BACKOFF;
    if (zc__timer_start(&p->loop, &s->timer,
                        zc__now_us() + delay_ms * 1000u) < 0) {
        zc_log(ZC_LOG_ERROR, NS, "slot %u: out of memory for its respawn "
               "timer, leaving it empty", s->index);
        s->state = SLOT_DONE;
        p->any_failed = true;
    }
}

/* A crash, or a failed start: count it on the slot and back off. */
static uint64_t count_crash(struct primary *p, struct slot *s)
{
    uint64_t now = zc__now_us();

    /* A worker that stayed ready long enough wipes the slate; checked at
     * the crash rather than with a timer, so a stable fleet never wakes. */
    if (s->ready_us && now - s->ready_us >= p->opt.backoff_reset_ms * 1000ull)
        s->crashes = 0;
    if (s->crashes < UINT_MAX)
        s->crashes++;
    return zc__backoff_ms(p->opt.respawn_delay_ms, p->opt.backoff_factor,
                          p->opt.max_respawn_delay_ms, s->crashes);
}

static void on_slot_timer(struct zc__loop *l, struct zc__timer *t)
{
    struct slot *s = zc__container_of(t, struct slot, timer);
    struct primary *p = s->p;
    char how[64];

    (void) l;
    if (s->state == SLOT_BACKOFF) {
        spawn_slot(p, s);
    } else if (s->state == SLOT_STARTING) {
        snprintf(how, sizeof(how), p->opt.ready == ZC_READY_DELAY
                 ? "ready delay of %u ms elapsed" : "up %u ms without READY=1",
                 p->opt.ready_delay_ms);
        mark_ready(p, s, how);
    }
}

static void start_ready_policy(struct primary *p, struct slot *s)
{
    switch (p->opt.ready) {
    case ZC_READY_IMMEDIATE:
        mark_ready(p, s, "immediate");
        break;
    case ZC_READY_AUTO:
    case ZC_READY_DELAY:
        if (zc__timer_start(&p->loop, &s->timer,
                            s->started_us + p->opt.ready_delay_ms * 1000ull) < 0)
            mark_ready(p, s, "no memory for a ready timer");
        break;
    default:            /* NOTIFY: only READY=1 will do */
        break;
    }
}

static void spawn_failed(struct primary *p, struct slot *s, const char *path,
                         int r)
{
    uint64_t delay = count_crash(p, s);

    zc_log(ZC_LOG_ERROR, NS,
           "worker %llu (slot %u) could not be started: %s '%s': %s; "
           "retrying in %llu ms (failure %u in a row)",
           (unsigned long long) s->worker_id, s->index,
           r == -EAGAIN || r == -ENOMEM ? "fork for" : "cannot execute",
           path, zc_strerror(r), (unsigned long long) delay, s->crashes);
    schedule_respawn(p, s, delay);
}

static void spawn_slot(struct primary *p, struct slot *s)
{
    char path[PATH_MAX];
    struct zc__spawn sp = {
        .path = path, .argv = p->argv, .envp = p->env.envp,
        .fds = p->listen_fds, .n_fds = (int) p->n_listeners,
        .stdin_fd = p->devnull, .pdeath_signal = SIGKILL,
    };
    pid_t pid = -1;
    int r;

    s->worker_id = p->next_worker_id++;
    s->generation = p->generation;
    s->ready_us = 0;
    s->status[0] = '\0';
    r = resolve_exec(p, path, sizeof(path));
    if (r < 0) {
        spawn_failed(p, s, p->self_path ? p->self_path : p->argv[0], r);
        return;
    }
    sp.listen_pid = env_prepare(p, s);
    r = zc__spawn(&sp, &pid);
    if (r < 0) {
        spawn_failed(p, s, path, r);
        return;
    }
    s->pid = pid;
    s->state = SLOT_STARTING;
    s->started_us = zc__now_us();
    p->n_alive++;
    zc_log(ZC_LOG_INFO, NS, "worker %llu (slot %u, pid %d) started: %s",
           (unsigned long long) s->worker_id, s->index, (int) pid, path);
    start_ready_policy(p, s);
}

/* Every worker is reaped: nothing can be left behind, so we may exit. */
static void finish_shutdown(struct primary *p)
{
    zc_log(ZC_LOG_INFO, NS, "all workers stopped in %llu ms, exiting",
           (unsigned long long) ((zc__now_us() - p->shutdown_start_us) / 1000));
    p->exit_status = 0;
    zc__loop_stop(&p->loop);
}

/* The worker left; decide, once, what the slot does next. */
static void on_worker_exit(struct primary *p, struct slot *s, int status)
{
    bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    char what[320];
    size_t n;
    uint64_t delay;

    /* "worker 3 (slot 1, pid 4121) exited with status 1", said once. */
    n = (size_t) snprintf(what, sizeof(what), "worker %llu (slot %u, pid %d) ",
                          (unsigned long long) s->worker_id, s->index,
                          (int) s->pid);
    describe_exit(status, what + n, sizeof(what) - n);
    /* Its last STATUS= is the best clue to why it died. */
    if (s->status[0] && !clean)
        snprintf(what + strlen(what), sizeof(what) - strlen(what),
                 " (last status: %s)", s->status);
    /* Reaped: from here on the pid may belong to anyone. */
    s->pid = -1;
    zc__timer_stop(&p->loop, &s->timer);
    p->n_alive--;
    if (p->shutting_down) {
        s->state = SLOT_EMPTY;
        zc_log(ZC_LOG_INFO, NS, "%s during shutdown; %u left", what, p->n_alive);
        if (p->n_alive == 0)
            finish_shutdown(p);
        return;
    }
    if (p->opt.respawn == ZC_RESPAWN_NEVER ||
        (clean && p->opt.respawn == ZC_RESPAWN_ON_FAILURE)) {
        s->state = SLOT_DONE;
        p->any_failed |= !clean;
        zc_log(clean ? ZC_LOG_INFO : ZC_LOG_WARN, NS, "%s; not restarting it (%s)",
               what, clean ? "it stopped on purpose" : "--respawn never");
        check_fleet_end(p);
        return;
    }
    if (clean) {
        s->crashes = 0;
        delay = p->opt.respawn_delay_ms;
    } else {
        delay = count_crash(p, s);
    }
    zc_log(clean ? ZC_LOG_INFO : ZC_LOG_WARN, NS, "%s; restarting in %llu ms "
           "(failure %u in a row)", what, (unsigned long long) delay, s->crashes);
    schedule_respawn(p, s, delay);
}

/* A linear scan: it runs once per exit or notify message, never per
 * request, and a thousand slots scan in a microsecond. */
static struct slot *slot_by_pid(struct primary *p, pid_t pid)
{
    for (unsigned i = 0; i < p->n_slots; i++)
        if (p->slots[i].pid == pid)
            return &p->slots[i];
    return NULL;
}

static void reap_children(struct primary *p)
{
    int status;
    pid_t pid;

    /* SIGCHLDs coalesce: reap until nothing is left, whatever woke us. */
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        struct slot *s = slot_by_pid(p, pid);

        if (s)
            on_worker_exit(p, s, status);
        else
            zc_log(ZC_LOG_DEBUG, NS, "reaped pid %d, not a worker", (int) pid);
    }
}

/* Everything ended on its own (exit 0 without --respawn always, or
 * --respawn never): nothing is left to supervise. */
static void check_fleet_end(struct primary *p)
{
    for (unsigned i = 0; i < p->n_slots; i++)
        if (p->slots[i].state != SLOT_DONE && p->slots[i].state != SLOT_EMPTY)
            return;
    zc_log(p->any_failed ? ZC_LOG_WARN : ZC_LOG_INFO, NS,
           "no worker is running and none will be restarted; exiting with "
           "status %d", p->any_failed ? 1 : 0);
    p->exit_status = p->any_failed ? 1 : 0;
    zc__loop_stop(&p->loop);
}

/* -- signals and shutdown ------------------------------------------------- */

static void signal_worker(struct slot *s, int sig)
{
    /* The worker leads its own process group, so killpg also reaches its
     * children. One that moved to another group (setsid) gets kill(). Only
     * unreaped pids are signalled, so the pid cannot have been reused. */
    if (s->pid > 0 && killpg(s->pid, sig) == -1 && errno == ESRCH)
        (void) kill(s->pid, sig);
}

static void kill_all(struct primary *p)
{
    p->killing = true;
    for (unsigned i = 0; i < p->n_slots; i++)
        signal_worker(&p->slots[i], SIGKILL);
}

static void on_shutdown_timeout(struct zc__loop *l, struct zc__timer *t)
{
    struct primary *p = zc__container_of(t, struct primary, shutdown_timer);

    (void) l;
    zc_log(ZC_LOG_WARN, NS, "shutdown timeout of %u ms reached: killing %u "
           "remaining worker%s with SIGKILL", p->opt.shutdown_timeout_ms,
           p->n_alive, PLURAL(p->n_alive));
    kill_all(p);
}

/* A second TERM or INT while draining: the operator is done waiting. */
static void escalate(struct primary *p, const char *name)
{
    if (p->killing)
        return;
    zc_log(ZC_LOG_WARN, NS, "received SIG%s again: killing %u worker%s now "
           "with SIGKILL", name, p->n_alive, PLURAL(p->n_alive));
    kill_all(p);
}

/* No slot will start anything again: pending respawns and ready timers
 * are cancelled, running workers are marked as draining. */
static void freeze_slots(struct primary *p)
{
    for (unsigned i = 0; i < p->n_slots; i++) {
        struct slot *s = &p->slots[i];

        zc__timer_stop(&p->loop, &s->timer);
        s->state = s->pid > 0 ? SLOT_DRAINING : SLOT_EMPTY;
    }
}

static void begin_shutdown(struct primary *p, int sig, bool drain)
{
    const char *name = zc__signal_name(sig);
    int stop = p->opt.stop_signal;

    if (p->shutting_down) {
        escalate(p, name);
        return;
    }
    p->shutting_down = true;
    p->shutdown_start_us = zc__now_us();
    (void) zc_notify("STOPPING=1");
    freeze_slots(p);
    if (p->n_alive == 0) {
        zc_log(ZC_LOG_INFO, NS, "received SIG%s: no worker running", name);
        finish_shutdown(p);
    } else if (!drain) {
        zc_log(ZC_LOG_WARN, NS, "received SIG%s: killing %u worker%s now "
               "with SIGKILL", name, p->n_alive, PLURAL(p->n_alive));
        kill_all(p);
    } else {
        char stop_text[16];

        /* Real-time stop signals have no name: say the number. */
        if (zc__signal_name(stop))
            snprintf(stop_text, sizeof(stop_text), "SIG%s", zc__signal_name(stop));
        else
            snprintf(stop_text, sizeof(stop_text), "signal %d", stop);
        zc_log(ZC_LOG_INFO, NS, "received SIG%s: stopping %u worker%s with %s, "
               "waiting up to %u ms", name, p->n_alive, PLURAL(p->n_alive),
               stop_text, p->opt.shutdown_timeout_ms);
        for (unsigned i = 0; i < p->n_slots; i++)
            signal_worker(&p->slots[i], stop);
        /* Without the deadline nothing would ever escalate: kill now. */
        if (zc__timer_start(&p->loop, &p->shutdown_timer,
                            p->shutdown_start_us +
                                p->opt.shutdown_timeout_ms * 1000ull) < 0)
            kill_all(p);
    }
}

static void drain_notify(struct primary *p);

static void on_sigchld(struct primary *p, int sig)
{
    (void) sig;
    /* What a worker said before it died (READY=1, STATUS=) is read before
     * its death is handled, whatever order epoll reports the two fds in. */
    drain_notify(p);
    reap_children(p);
}

static void on_stop(struct primary *p, int sig)
{
    begin_shutdown(p, sig, true);
}

static void on_quit(struct primary *p, int sig)
{
    begin_shutdown(p, sig, false);
}

static void on_not_yet(struct primary *p, int sig)
{
    (void) p;
    zc_log(ZC_LOG_WARN, NS, "received SIG%s: %s is not available in this "
           "version; ignoring it", zc__signal_name(sig),
           sig == SIGHUP ? "rolling reload" : "scaling at run time");
}

/* What each signal does, as one table (nginx's signals[] idea). */
static const struct {
    int sig;
    void (*fn)(struct primary *p, int sig);
} signal_actions[] = {
    { SIGCHLD, on_sigchld },
    { SIGTERM, on_stop },
    { SIGINT, on_stop },
    { SIGQUIT, on_quit },
    { SIGHUP, on_not_yet },
    { SIGTTIN, on_not_yet },
    { SIGTTOU, on_not_yet },
};

static void on_signal(struct zc__loop *l, const struct signalfd_siginfo *si)
{
    struct primary *p = zc__container_of(l, struct primary, loop);

    for (size_t i = 0; i < sizeof(signal_actions) / sizeof(signal_actions[0]); i++)
        if ((int) si->ssi_signo == signal_actions[i].sig) {
            signal_actions[i].fn(p, (int) si->ssi_signo);
            return;
        }
}

/* -- notify socket -------------------------------------------------------- */

/* The sender is the worker, or a process in its group (a wrapper script's
 * child, say: systemd's NotifyAccess=all within the unit). */
static struct slot *slot_by_sender(struct primary *p, pid_t pid)
{
    struct slot *s = slot_by_pid(p, pid);
    pid_t pgid;

    if (s)
        return s;
    pgid = getpgid(pid);
    return pgid > 0 ? slot_by_pid(p, pgid) : NULL;
}

static void on_notify_message(struct primary *p, pid_t pid, const char *msg)
{
    struct slot *s = slot_by_sender(p, pid);
    char v[8];

    if (!s || s->pid <= 0) {
        zc_log(ZC_LOG_DEBUG, NS, "ignoring a notify message from pid %d, "
               "which is not a worker", (int) pid);
        return;
    }
    if (zc__notify_get(msg, "STATUS", s->status, sizeof(s->status)))
        zc_log(ZC_LOG_DEBUG, NS, "worker %llu (slot %u) status: %s",
               (unsigned long long) s->worker_id, s->index, s->status);
    if (zc__notify_get(msg, "STOPPING", NULL, 0))
        zc_log(ZC_LOG_DEBUG, NS, "worker %llu (slot %u) is stopping",
               (unsigned long long) s->worker_id, s->index);
    if (zc__notify_get(msg, "READY", v, sizeof(v)) && strcmp(v, "1") == 0 &&
        s->state == SLOT_STARTING &&
        (p->opt.ready == ZC_READY_AUTO || p->opt.ready == ZC_READY_NOTIFY))
        mark_ready(p, s, "READY=1");
}

static void drain_notify(struct primary *p)
{
    char buf[ZC__NOTIFY_MAX];
    pid_t pid;

    /* Bounded per wake-up: a flood of datagrams cannot starve SIGCHLD. */
    for (int i = 0; i < 64; i++) {
        int n = zc__notify_recv(p->notify_fd, buf, sizeof(buf), &pid);

        if (n == -EAGAIN)
            return;
        if (n == -EBADMSG) {
            zc_log(ZC_LOG_DEBUG, NS, "dropped a truncated or anonymous "
                   "notify message");
            continue;
        }
        if (n < 0) {
            zc_log(ZC_LOG_WARN, NS, "notify socket: %s", zc_strerror(n));
            return;
        }
        on_notify_message(p, pid, buf);
    }
}

static void on_notify(struct zc__loop *l, struct zc__io *io, uint32_t events)
{
    (void) l;
    (void) events;
    drain_notify(zc__container_of(io, struct primary, notify_io));
}

/* -- set-up and tear-down ------------------------------------------------- */

static void listener_log(struct primary *p, struct listener *ln, const char *from)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    /* Port 0 binds an ephemeral port: log the real one. */
    if (getsockname(ln->fd, (struct sockaddr *) &ss, &len) == 0)
        zc__addr_format((struct sockaddr *) &ss, len, ln->text, sizeof(ln->text));
    zc_log(ZC_LOG_INFO, NS, "listening on %s (fd %d in workers, name %s%s)",
           ln->text, 3 + (int) p->n_listeners, ln->addr.name, from);
    p->listen_fds[p->n_listeners++] = ln->fd;
}

/*
 * zcluster itself socket-activated by systemd: the sockets it was given
 * (LISTEN_PID is ours) come first, in order, then the -l ones. They were
 * inherited without close-on-exec; set it, so they only reach workers
 * through the fd plan.
 */
static int adopt_inherited(struct primary *p, int n)
{
    for (int i = 0; i < n; i++) {
        struct listener *ln = &p->listeners[i];
        int fd = 3 + i, listening = 0, type = 0;
        socklen_t len = sizeof(int);

        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == -1 ||
            getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
            !listening || type != SOCK_STREAM) {
            zc_log(ZC_LOG_ERROR, NS, "cannot start: inherited fd %d (LISTEN_FDS) "
                   "is not a listening stream socket", fd);
            return -ENOTSOCK;
        }
        (void) fcntl(fd, F_SETFD, FD_CLOEXEC);
        ln->fd = fd;
        ln->adopted = true;
        if (!zc_listen_fd_name(i, ln->addr.name, sizeof(ln->addr.name)))
            strcpy(ln->addr.name, "unknown");
        listener_log(p, ln, ", from LISTEN_FDS");
    }
    return 0;
}

static int open_listeners(struct primary *p)
{
    int inherited = zc_listen_fds(), r;

    if ((size_t) inherited + p->opt.n_listen > ZC_MAX_LISTEN) {
        zc_log(ZC_LOG_ERROR, NS, "cannot start: more than %d listening sockets",
               ZC_MAX_LISTEN);
        return -EINVAL;
    }
    p->listeners = calloc((size_t) inherited + p->opt.n_listen + 1,
                          sizeof(*p->listeners));
    if (!p->listeners)
        return -ENOMEM;
    r = adopt_inherited(p, inherited);
    if (r < 0)
        return r;
    for (size_t i = 0; i < p->opt.n_listen; i++) {
        struct listener *ln = &p->listeners[p->n_listeners];

        r = zc__addr_parse(p->opt.listen[i], &ln->addr);
        if (r == 0)
            r = zc__addr_listen(&ln->addr, 0, &ln->fd);
        if (r < 0) {
            zc_log(ZC_LOG_ERROR, NS, "cannot listen on %s: %s",
                   p->opt.listen[i], zc_strerror(r));
            return r;
        }
        snprintf(ln->text, sizeof(ln->text), "%s", p->opt.listen[i]);
        listener_log(p, ln, "");
    }
    return 0;
}

static void close_listeners(struct primary *p)
{
    for (size_t i = 0; i < p->n_listeners; i++) {
        const char *path = zc__addr_unix_path(&p->listeners[i].addr);

        (void) close(p->listeners[i].fd);
        if (path && !p->listeners[i].adopted)
            (void) unlink(path);
    }
    free(p->listeners);
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

static int setup(struct primary *p, char **argv)
{
    const size_t prefix = strlen("NOTIFY_SOCKET=");
    int r;

    r = zc__loop_init(&p->loop, &p->signals, on_signal, p->n_slots + 4);
    if (r < 0)
        return setup_failed("event loop", r);
    p->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (p->devnull == -1)
        return setup_failed("/dev/null", -errno);
    p->argv = p->opt.command ? p->opt.command : argv;
    if (!p->opt.command && (r = self_path_init(p, argv[0])) < 0)
        return setup_failed("finding our own binary", r);
    r = open_listeners(p);
    if (r < 0)
        return r;           /* logged with its address */
    r = zc__notify_open(&p->notify_fd, p->env.notify + prefix,
                        sizeof(p->env.notify) - prefix);
    if (r < 0)
        return setup_failed("notify socket", r);
    memcpy(p->env.notify, "NOTIFY_SOCKET=", prefix);
    p->notify_io = (struct zc__io) { .fd = p->notify_fd, .cb = on_notify };
    r = zc__loop_add(&p->loop, &p->notify_io, EPOLLIN);
    if (r < 0)
        return setup_failed("notify socket", r);
    p->slots = calloc(p->n_slots, sizeof(*p->slots));
    if (!p->slots || env_init(p) < 0)
        return setup_failed("worker table", -ENOMEM);
    for (unsigned i = 0; i < p->n_slots; i++) {
        p->slots[i] = (struct slot) { .p = p, .index = i, .pid = -1 };
        zc__timer_init(&p->slots[i].timer, on_slot_timer);
    }
    return 0;
}

/* Only on an error path: the library returns into its caller's process,
 * where no PDEATHSIG would fire, so no worker may be left running. */
static void kill_and_reap_all(struct primary *p)
{
    for (unsigned i = 0; p->slots && i < p->n_slots; i++) {
        struct slot *s = &p->slots[i];

        if (s->pid <= 0)
            continue;
        signal_worker(s, SIGKILL);
        while (waitpid(s->pid, NULL, 0) == -1 && errno == EINTR)
            ;
        s->pid = -1;
    }
}

static void teardown(struct primary *p)
{
    kill_and_reap_all(p);
    close_listeners(p);
    if (p->notify_fd >= 0)
        (void) close(p->notify_fd);
    if (p->devnull >= 0)
        (void) close(p->devnull);
    zc__loop_free(&p->loop);
    free(p->env.envp);
    free(p->env.fdnames);
    free(p->self_path);
    free(p->slots);
}

#define N_SIGNALS (sizeof(signal_actions) / sizeof(signal_actions[0]))

/*
 * Takes the signals of signal_actions[] over: blocked (they are read from
 * the signalfd) and at their default disposition. An inherited SIG_IGN
 * would make a signal vanish before it is ever pending, so the signalfd
 * would never see it: a non-interactive shell's "zcluster &" starts with
 * SIGINT ignored, and an ignored SIGCHLD makes the kernel reap workers
 * behind our back. The old state is saved for restore_signals().
 */
static void take_signals(struct primary *p, struct sigaction *old,
                         sigset_t *old_mask)
{
    struct sigaction dfl = { .sa_handler = SIG_DFL };

    sigemptyset(&p->signals);
    for (size_t i = 0; i < N_SIGNALS; i++)
        sigaddset(&p->signals, signal_actions[i].sig);
    (void) sigprocmask(SIG_BLOCK, &p->signals, old_mask);
    for (size_t i = 0; i < N_SIGNALS; i++)
        (void) sigaction(signal_actions[i].sig, &dfl, &old[i]);
}

static void restore_signals(const struct sigaction *old,
                            const sigset_t *old_mask)
{
    for (size_t i = 0; i < N_SIGNALS; i++)
        (void) sigaction(signal_actions[i].sig, &old[i], NULL);
    (void) sigprocmask(SIG_SETMASK, old_mask, NULL);
}

int zc__primary_run(char **argv, const zc_options *o)
{
    struct primary p = { .notify_fd = -1, .devnull = -1, .exit_status = 1,
                         .loop = { .epfd = -1, .sigfd = -1, .timerfd = -1 } };
    struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe, old[N_SIGNALS];
    sigset_t old_mask;
    int r;

    p.opt = *o;
    p.n_slots = o->workers ? o->workers : cpu_count();
    p.next_worker_id = 1;
    p.generation = 1;
    if (zc__options_validate(&p.opt) < 0)
        return 2;
    sanitize_stdio();
    /* Signals are read from a signalfd, so they must stay blocked; SIGPIPE
     * is ignored and every send uses MSG_NOSIGNAL as well. */
    take_signals(&p, old, &old_mask);
    (void) sigaction(SIGPIPE, &ign, &old_pipe);
    zc__timer_init(&p.shutdown_timer, on_shutdown_timeout);
    r = setup(&p, argv);
    if (r < 0)
        goto out;
    zc_log(ZC_LOG_INFO, NS, "starting %u worker%s: %s", p.n_slots,
           PLURAL(p.n_slots), p.self_path ? p.self_path : p.argv[0]);
    for (unsigned i = 0; i < p.n_slots && !p.loop.stop; i++)
        spawn_slot(&p, &p.slots[i]);
    r = zc__loop_run(&p.loop);
    if (r < 0)
        zc_log(ZC_LOG_ERROR, NS, "event loop failed: %s", zc_strerror(r));
out:
    teardown(&p);
    (void) sigaction(SIGPIPE, &old_pipe, NULL);
    restore_signals(old, &old_mask);
    return r < 0 ? 1 : p.exit_status;
}
