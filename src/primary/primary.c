/*
 * The primary process: one thread, one event loop, a table of slots and a
 * list of worker processes.
 *
 * A slot is a place in the fleet (0..N-1), not a process: it holds the
 * worker serving it, the replacement a reload is starting for it, and the
 * slot's crash history. Keying backoff on the slot, not on the dead worker
 * (as the spec does), is what makes a crash loop actually back off.
 *
 * A worker is one process. It can outlive its place: a reload or a scale
 * down retires it, it drains, and a retired worker is never respawned (the
 * spec respawns an old worker killed during its reload, and its fleet grows).
 *
 *   slot    EMPTY ──spawn──▶ RUNNING ──crash──▶ BACKOFF ──timer──▶ RUNNING
 *                               └── exit 0, or --respawn never ──▶ DONE
 *   worker  STARTING ──READY=1 / policy──▶ READY ──stop / retire──▶ DRAINING
 *
 * A rolling reload steps through the slots, at most max_surge at a time and
 * never with more than N + max_surge processes: start the replacement,
 * wait until it is ready, retire the old worker, wait until it has gone.
 * A replacement that exits or is late fails the reload and changes nothing
 * else: every slot not yet stepped keeps the worker it had.
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/compat.h"
#include "primary/fleet.h"
#include "proto/handlers.h"
#include "proto/ipc.h"
#include "proto/listen.h"
#include "base/log.h"
#include "base/loop.h"
#include "proto/notify.h"
#include "primary/primary.h"
#include "base/spawn.h"
#include "primary/sticky.h"

#define NS "zc:primary"
#define PLURAL(n) ((n) == 1 ? "" : "s")
/* How long a linked worker has to answer "shutdown" with "stopping"
 * before it gets the stop signal as well (at most half the timeout). */
#define STOP_ACK_MS 1000
#define IPC_READS 16        /* 64 KiB reads per wake-up and worker */

static const char *const protocol_vars[] = {
    "LISTEN_FDS=", "LISTEN_PID=", "LISTEN_FDNAMES=", "NOTIFY_SOCKET=",
    "ZC_WORKER_ID=", "ZC_WORKER_SLOT=", "ZC_GENERATION=", "ZC_IPC_FD=",
    "ZC_IPC_MAX_MESSAGE=", "ZC_METRICS_FD=", "ZC_STICKY=",
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
    else if (o->ipc_max_message == 0 || o->ipc_max_message > (1u << 30))
        why = "ipc_max_message: must be from 1 byte to 1 GiB";
    else if (o->ipc_queue_max < 4096)
        why = "ipc_queue_max: must be at least 4096 bytes";
    else if (o->ready_timeout_ms == 0)
        why = "ready_timeout_ms: must be at least 1 ms";
    else if (o->max_surge < 1 || o->max_surge > ZC_MAX_WORKERS)
        why = "max_surge: must be from 1 to 4096";
    else if (o->metrics_timeout_ms < 100 || o->metrics_timeout_ms > 3600000)
        why = "metrics_timeout_ms: must be from 100 ms to 1 hour";
    else if (o->metrics_wait_ms < 1 || o->metrics_wait_ms > 60000)
        why = "metrics_wait_ms: must be from 1 ms to 60 s";
    else if (o->metrics_memory < 4096 || o->metrics_memory > (1u << 30) ||
             o->metrics_memory % 4096)
        why = "metrics_memory: must be whole pages from 4 KiB to 1 GiB";
    else if (o->sticky_wait_ms > 3600000)
        why = "sticky_wait_ms: must be at most 1 hour";
    else if (o->sticky_queue < 1 || o->sticky_queue > 1000000)
        why = "sticky_queue: must be from 1 to 1000000";
    else if (o->proxy_timeout_ms < 1 || o->proxy_timeout_ms > 3600000)
        why = "proxy_timeout_ms: must be from 1 ms to 1 hour";
    else if (o->proxy_protocol && !o->sticky)
        why = "proxy_protocol: needs sticky (only then does the primary "
              "accept connections and see their headers)";
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

/* Listening sockets a worker gets: none in sticky mode, where the
 * primary accepts. */
static size_t worker_listeners(const struct zc_primary *p)
{
    return p->opt.sticky ? 0 : p->n_listeners;
}

/* The variables the primary inherited are passed on, except the
 * protocol's own: a zcluster run by systemd (or by another zcluster) must
 * not hand its own LISTEN_FDS or NOTIFY_SOCKET down to its workers. */
static int env_init(struct zc_primary *p)
{
    struct worker_env *e = &p->env;
    size_t n = 0, len = sizeof("LISTEN_FDNAMES=");
    char **ep;

    for (char **v = environ; *v; v++)
        n++;
    e->envp = calloc(n + 12, sizeof(*e->envp));
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
    /* Sticky: the primary keeps the sockets, and the names say what the
     * listener index of a handed-off connection means. */
    if (p->opt.sticky) {
        e->sticky = malloc(len);
        if (!e->sticky)
            return -ENOMEM;
        sprintf(e->sticky, "ZC_STICKY=%s", e->fdnames + strlen("LISTEN_FDNAMES="));
    }
    /* Only the child's copy of this buffer ever gets the digits. */
    strcpy(e->listen_pid, "LISTEN_PID=");
    /* The link comes right after the listeners in the fd plan. */
    snprintf(e->ipc_fd, sizeof(e->ipc_fd), "ZC_IPC_FD=%zu",
             3 + worker_listeners(p));
    snprintf(e->ipc_max, sizeof(e->ipc_max), "ZC_IPC_MAX_MESSAGE=%u",
             p->opt.ipc_max_message);
    /* The shared metrics registry, when there is one, comes after it. */
    snprintf(e->metrics_fd, sizeof(e->metrics_fd), "ZC_METRICS_FD=%zu",
             4 + worker_listeners(p));
    return 0;
}

/* Fills in the per-worker values; returns where LISTEN_PID's value goes. */
static char *env_prepare(struct zc_primary *p, const struct worker *w,
                         bool metrics)
{
    struct worker_env *e = &p->env;
    char **ep = e->envp + e->n_base;
    char *pid_value = NULL;

    if (e->sticky)
        *ep++ = e->sticky;
    if (worker_listeners(p)) {
        *ep++ = e->listen_fds;
        *ep++ = e->fdnames;
        pid_value = e->listen_pid + strlen("LISTEN_PID=");
        *ep++ = e->listen_pid;
    }
    *ep++ = e->notify;
    snprintf(e->id, sizeof(e->id), "ZC_WORKER_ID=%llu",
             (unsigned long long) w->id);
    snprintf(e->slot, sizeof(e->slot), "ZC_WORKER_SLOT=%u", w->slot_index);
    snprintf(e->generation, sizeof(e->generation), "ZC_GENERATION=%llu",
             (unsigned long long) w->generation);
    *ep++ = e->id;
    *ep++ = e->slot;
    *ep++ = e->generation;
    *ep++ = e->ipc_fd;
    *ep++ = e->ipc_max;
    if (metrics)
        *ep++ = e->metrics_fd;
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

static int resolve_exec(struct zc_primary *p, char *buf, size_t size)
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
static int self_path_init(struct zc_primary *p, const char *argv0)
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

/* -- events and worker links --------------------------------------------- */

static void mark_ready(struct zc_primary *p, struct worker *w, const char *how);
static void stop_acknowledged(struct zc_primary *p, struct worker *w);

static void emit(struct zc_primary *p, const zc_event *e)
{
    for (size_t i = 0; i < p->n_event_fns; i++) {
        int r = p->event_fns[i].fn(e, p->event_fns[i].userdata);

        if (r < 0)
            zc_log(ZC_LOG_ERROR, NS, "event callback %zu failed: %s; running "
                   "the others", i + 1, zc_strerror(r));
    }
}

static void emit_worker(struct zc_primary *p, int type, const struct worker *w,
                        int status)
{
    zc_event e = { .type = type, .worker_id = w->id,
                   .slot = (int) w->slot_index, .pid = (int) w->pid,
                   .generation = w->generation, .status = status };

    emit(p, &e);
}

/* EPOLLOUT only while messages wait: a writable socket would otherwise
 * wake the loop forever. */
static void link_update_events(struct zc_primary *p, struct worker *w)
{
    uint32_t want = EPOLLIN | (zc__ipc_pending(&w->ipc) || w->sticky_blocked
                               ? EPOLLOUT : 0);

    if (w->ipc.fd >= 0 && want != w->ipc_events &&
        zc__loop_mod(&p->loop, &w->ipc_io, want) == 0)
        w->ipc_events = want;
}

/* Its link took everything: connections waiting for it may go now. */
static void link_writable(struct zc_primary *p, struct worker *w)
{
    if (w->sticky_blocked && !zc__ipc_pending(&w->ipc)) {
        w->sticky_blocked = false;
        if (w->slot)
            zc__sticky_kick(p, w->slot);
    }
}

static void link_close(struct zc_primary *p, struct worker *w)
{
    if (w->ipc.fd >= 0)
        zc__loop_del(&p->loop, &w->ipc_io);
    zc__ipc_close(&w->ipc);
    w->linked = false;
    w->link_error = NULL;
}

/* Whatever went wrong costs this worker its link and nothing else. */
static void link_failed(struct zc_primary *p, struct worker *w, int r)
{
    if (r == 1) {
        zc_log(ZC_LOG_DEBUG, NS, "worker %llu (slot %u) closed its IPC link",
               (unsigned long long) w->id, w->slot_index);
    } else {
        zc__expose_dropped(p);      /* the frame it was refused for */
        zc_log(ZC_LOG_WARN, NS, "worker %llu (slot %u, pid %d): IPC: %s (%s); "
               "closing its link", (unsigned long long) w->id, w->slot_index,
               (int) w->pid, w->link_error ? w->link_error :
               w->ipc.why ? w->ipc.why : "error", zc_strerror(r));
    }
    link_close(p, w);
}

static void on_hello(struct worker *w, const struct zc__ipc_frame *f)
{
    if (f->len == 1 && f->data[0] == '1') {
        w->linked = true;
        /* Ready before its hello (--ready immediate): it takes now. */
        if (w->slot && w->state == W_READY)
            zc__sticky_kick(w->p, w->slot);
        return;
    }
    w->link_error = "it speaks another protocol version (hello is not \"1\")";
}

/* Printable text only: a STATUS ends up in our log lines. */
static void copy_status(struct worker *w, const struct zc__ipc_frame *f)
{
    size_t n = f->len < sizeof(w->status) - 1 ? f->len : sizeof(w->status) - 1;

    for (size_t i = 0; i < n; i++)
        w->status[i] = f->data[i] >= 0x20 && f->data[i] < 0x7f
                       ? (char) f->data[i] : '?';
    w->status[n] = '\0';
}

static bool takes_ready_message(const struct zc_primary *p,
                                const struct worker *w)
{
    return w->state == W_STARTING &&
           (p->opt.ready == ZC_READY_AUTO || p->opt.ready == ZC_READY_NOTIFY);
}

/* The reserved types first (docs/protocol.md), then the application's
 * handlers, which may watch reserved types too. */
static void on_frame(struct zc__ipc *c, struct zc__ipc_frame *f, void *userdata)
{
    struct worker *w = userdata;
    struct zc_primary *p = w->p;
    zc_msg m = { .type = f->type, .data = f->data, .len = f->len,
                 .fds = f->fds, .n_fds = f->n_fds,
                 .worker_id = w->id, .slot = (int) w->slot_index };

    (void) c;
    if (w->link_error)
        return;
    if (strcmp(f->type, "hello") == 0)
        on_hello(w, f);
    else if (strcmp(f->type, "ready") == 0 && takes_ready_message(p, w))
        mark_ready(p, w, "ready message");
    else if (strcmp(f->type, "status") == 0)
        copy_status(w, f);
    else if (strcmp(f->type, "stopping") == 0)
        stop_acknowledged(p, w);
    else if (strcmp(f->type, "zc.metrics") == 0)
        zc__expose_text(p, w, f->data, f->len);
    zc__handlers_run(&p->handlers, &m, NS);
}

static void on_ipc(struct zc__loop *l, struct zc__io *io, uint32_t events)
{
    struct worker *w = zc__container_of(io, struct worker, ipc_io);
    struct zc_primary *p = w->p;
    int r = 0;

    (void) l;
    if (w->ipc.fd < 0)
        return;         /* closed earlier in this batch */
    if (events & EPOLLOUT) {
        r = zc__ipc_flush(&w->ipc);
        if (r == 0)
            link_writable(p, w);
    }
    if (r == 0 && w->ipc.fd >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        r = zc__ipc_read(&w->ipc, IPC_READS, on_frame, w);
    if (r == 0 && w->link_error)
        r = -EPROTO;
    if (r != 0)
        link_failed(p, w, r);
    else
        link_update_events(p, w);
}

/* At the worker's exit: what it said last is handled before its death,
 * as with notify messages. Bounded by what its socket can hold. */
static void link_drain(struct zc_primary *p, struct worker *w)
{
    int r = 0;

    if (w->ipc.fd >= 0)
        r = zc__ipc_read(&w->ipc, 64, on_frame, w);
    if (r < 0 && r != -ECONNRESET)
        link_failed(p, w, r);
    link_close(p, w);
}

/* Queues for one worker; written by before_poll when the batch ends. */
static int queue_to(struct zc_primary *p, struct worker *w, const char *type,
                    const void *data, size_t len, const int *fds, size_t n_fds)
{
    int r;

    if (w->ipc.fd < 0)
        return -ENOTCONN;
    r = zc__ipc_send(&w->ipc, type, data, len, fds, n_fds, false);
    if (r == -ENOBUFS)
        zc__expose_dropped(p);
    if (r == 0 && !w->dirty) {
        w->dirty = true;
        w->dirty_next = p->dirty;
        p->dirty = w;
    }
    return r;
}

int zc__primary_queue(struct zc_primary *p, struct worker *w, const char *type,
                      const void *data, size_t len)
{
    return queue_to(p, w, type, data, len, NULL, 0);
}

void zc__primary_watch_link(struct zc_primary *p, struct worker *w)
{
    if (!w->dirty) {
        w->dirty = true;
        w->dirty_next = p->dirty;
        p->dirty = w;
    }
}

/* Before each wait: write what the batch queued, then free the records of
 * the workers reaped in it (epoll may still have named them in the batch,
 * so they live until here). */
static void apply_requests(struct zc_primary *p);

static void before_poll(struct zc__loop *l)
{
    struct zc_primary *p = zc__container_of(l, struct zc_primary, loop);

    apply_requests(p);
    while (p->dirty) {
        struct worker *w = p->dirty;
        int r;

        p->dirty = w->dirty_next;
        w->dirty = false;
        if (w->ipc.fd < 0)
            continue;
        r = zc__ipc_flush(&w->ipc);
        if (r < 0)
            link_failed(p, w, r);
        else
            link_update_events(p, w);
    }
    zc__sticky_before_poll(p);
    while (p->dead) {
        struct worker *w = p->dead;

        p->dead = w->next;
        free(w);
    }
}

/* The primary's end is always corked: messages wait for the end of the
 * batch and leave many per write. */
static int link_open(struct zc_primary *p, struct worker *w, int fd)
{
    zc__ipc_init(&w->ipc, fd, p->opt.ipc_max_message, p->opt.ipc_queue_max);
    w->ipc.corked = true;
    w->ipc_io = (struct zc__io) { .fd = fd, .cb = on_ipc };
    w->ipc_events = EPOLLIN;
    return zc__loop_add(&p->loop, &w->ipc_io, EPOLLIN);
}

/* -- workers and slots ---------------------------------------------------- */

static void spawn_slot(struct zc_primary *p, struct slot *s);
static void check_fleet_end(struct zc_primary *p);
static void signal_worker(struct worker *w, int sig);
static void promote(struct zc_primary *p, struct slot *s);
static void reload_failed(struct zc_primary *p, const struct slot *s,
                          const char *why);
static void reload_pump(struct zc_primary *p);

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

/* Keeps n_ready, and the reload's fewest-ready figure, in step. */
static void set_state(struct zc_primary *p, struct worker *w,
                      enum worker_state state)
{
    if (w->state == W_READY && state != W_READY) {
        p->n_ready--;
        if (p->reload.active && p->n_ready < p->reload.min_ready)
            p->reload.min_ready = p->n_ready;
    } else if (w->state != W_READY && state == W_READY) {
        p->n_ready++;
    }
    w->state = state;
}

static void announce_if_all_ready(struct zc_primary *p)
{
    if (p->announced_ready)
        return;
    for (unsigned i = 0; i < p->n_slots; i++)
        if (!p->slots[i]->w || p->slots[i]->w->state != W_READY)
            return;
    p->announced_ready = true;
    zc_log(ZC_LOG_INFO, NS, "all %u workers ready", p->n_slots);
    /* Our own manager (systemd Type=notify) learns we are up. */
    (void) zc_notify("READY=1\nSTATUS=all workers ready");
}

static void mark_ready(struct zc_primary *p, struct worker *w, const char *how)
{
    uint64_t now = zc__now_us();
    struct slot *s = w->slot;

    zc__timer_stop(&p->loop, &w->timer);
    set_state(p, w, W_READY);
    zc_log(ZC_LOG_INFO, NS, "worker %llu (slot %u, pid %d) ready in %llu ms (%s)",
           (unsigned long long) w->id, w->slot_index, (int) w->pid,
           (unsigned long long) ((now - w->started_us) / 1000), how);
    emit_worker(p, ZC_EVENT_READY, w, 0);
    if (s && s->next == w)
        promote(p, s);
    else if (s)
        s->ready_us = now;
    /* Its slot's clients, waiting or to come, are its own now. */
    if (s && s->w == w)
        zc__sticky_kick(p, s);
    announce_if_all_ready(p);
}

static void schedule_respawn(struct zc_primary *p, struct slot *s, uint64_t delay_ms)
{
    zc_event e = { .type = ZC_EVENT_RESPAWN, .worker_id = s->last_id,
                   .slot = (int) s->index, .pid = -1,
                   .generation = s->generation, .delay_ms = delay_ms };

    s->state = SLOT_BACKOFF;
    s->backoff_ms = delay_ms;
    s->restarts++;
    if (zc__timer_start(&p->loop, &s->timer,
                        zc__now_us() + delay_ms * 1000u) < 0) {
        zc_log(ZC_LOG_ERROR, NS, "slot %u: out of memory for its respawn "
               "timer, leaving it empty", s->index);
        s->state = SLOT_DONE;
        p->any_failed = true;
        return;
    }
    emit(p, &e);
}

/* A crash, or a failed start: count it on the slot and back off. */
static uint64_t count_crash(struct zc_primary *p, struct slot *s)
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

/* Arms the SIGKILL deadline of a worker asked to stop, if it has its own
 * (a retired one; at shutdown the shutdown timer does it for all). */
static void arm_kill(struct zc_primary *p, struct worker *w)
{
    if (!w->kill_at_us) {
        zc__timer_stop(&p->loop, &w->timer);
    } else if (zc__timer_start(&p->loop, &w->timer, w->kill_at_us) < 0) {
        zc_log(ZC_LOG_WARN, NS, "worker %llu (pid %d): no memory for its stop "
               "deadline: killing it with SIGKILL now",
               (unsigned long long) w->id, (int) w->pid);
        signal_worker(w, SIGKILL);
    }
}

static void on_worker_timer(struct zc__loop *l, struct zc__timer *t)
{
    struct worker *w = zc__container_of(t, struct worker, timer);
    struct zc_primary *p = w->p;
    char how[64];

    (void) l;
    if (w->state == W_STARTING) {
        snprintf(how, sizeof(how), p->opt.ready == ZC_READY_DELAY
                 ? "ready delay of %u ms elapsed" : "up %u ms without READY=1",
                 p->opt.ready_delay_ms);
        mark_ready(p, w, how);
    } else if (w->state == W_DRAINING && !w->signalled && !w->stop_acked) {
        zc_log(ZC_LOG_INFO, NS, "worker %llu (slot %u, pid %d) did not answer "
               "the shutdown message: sending it the stop signal",
               (unsigned long long) w->id, w->slot_index, (int) w->pid);
        signal_worker(w, p->opt.stop_signal);
        w->signalled = true;
        arm_kill(p, w);
    } else if (w->state == W_DRAINING) {
        zc_log(ZC_LOG_WARN, NS, "worker %llu (slot %u, pid %d) still running "
               "%u ms after it was asked to stop: killing it with SIGKILL",
               (unsigned long long) w->id, w->slot_index, (int) w->pid,
               p->opt.shutdown_timeout_ms);
        signal_worker(w, SIGKILL);
    }
}

static void on_slot_timer(struct zc__loop *l, struct zc__timer *t)
{
    struct slot *s = zc__container_of(t, struct slot, timer);

    (void) l;
    if (s->state == SLOT_BACKOFF)
        spawn_slot(s->p, s);
}

/* A reload's replacement that is not ready in time fails the reload. */
static void on_ready_deadline(struct zc__loop *l, struct zc__timer *t)
{
    struct worker *w = zc__container_of(t, struct worker, ready_deadline);
    char why[128];

    (void) l;
    if (w->state != W_STARTING || !w->slot || w->slot->next != w)
        return;
    snprintf(why, sizeof(why), "worker %llu (pid %d) was not ready within "
             "%u ms; stopping it", (unsigned long long) w->id, (int) w->pid,
             w->p->opt.ready_timeout_ms);
    reload_failed(w->p, w->slot, why);
}

static void start_ready_policy(struct zc_primary *p, struct worker *w)
{
    switch (p->opt.ready) {
    case ZC_READY_IMMEDIATE:
        mark_ready(p, w, "immediate");
        break;
    case ZC_READY_AUTO:
    case ZC_READY_DELAY:
        if (zc__timer_start(&p->loop, &w->timer,
                            w->started_us + p->opt.ready_delay_ms * 1000ull) < 0)
            mark_ready(p, w, "no memory for a ready timer");
        break;
    default:            /* NOTIFY: only READY=1 will do */
        break;
    }
}

static void spawn_failed(struct zc_primary *p, struct slot *s, const char *what,
                         int r)
{
    uint64_t delay = count_crash(p, s);

    zc_log(ZC_LOG_ERROR, NS, "worker %llu (slot %u) could not be started: %s: "
           "%s; retrying in %llu ms (failure %u in a row)",
           (unsigned long long) s->last_id, s->index, what, zc_strerror(r),
           (unsigned long long) delay, s->crashes);
    schedule_respawn(p, s, delay);
}

/*
 * Starts a worker process for slot s, of generation gen, and logs it with
 * note appended. On failure returns -errno with what failed in what (the
 * program, or the socketpair of its link) for the caller to log; the id
 * it would have had is used up, as a failed fork's would be.
 */
static int spawn_worker(struct zc_primary *p, struct slot *s, uint64_t gen,
                        const char *note, struct worker **ret, char *what,
                        size_t what_size)
{
    char path[PATH_MAX];
    int fds[ZC_MAX_LISTEN + 2], pair[2], metrics_fd;
    struct zc__spawn sp = {
        .path = path, .argv = p->argv, .envp = p->env.envp,
        .fds = fds, .n_fds = (int) worker_listeners(p) + 1,
        .stdin_fd = p->devnull, .pdeath_signal = SIGKILL,
        .nofile = p->nofile_raised ? &p->nofile : NULL,
    };
    struct worker *w;
    pid_t pid = -1;
    int r;

    s->last_id = p->next_worker_id++;
    r = resolve_exec(p, path, sizeof(path));
    if (r < 0) {
        snprintf(what, what_size, "cannot execute '%s'",
                 p->self_path ? p->self_path : p->argv[0]);
        return r;
    }
    w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(what, what_size, "its record");
        return -ENOMEM;
    }
    *w = (struct worker) { .p = p, .slot = s, .slot_index = s->index,
                           .id = s->last_id, .generation = gen, .pid = -1 };
    w->ipc.fd = -1;
    zc__timer_init(&w->timer, on_worker_timer);
    zc__timer_init(&w->ready_deadline, on_ready_deadline);
    /* Non-blocking on both ends; the worker's end is placed after the
     * listeners and closed here once it has it. */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
                   pair) == -1) {
        r = -errno;
        snprintf(what, what_size, "socketpair for its IPC link");
        free(w);
        return r;
    }
    memcpy(fds, p->listen_fds, sizeof(int) * worker_listeners(p));
    fds[worker_listeners(p)] = pair[1];
    (void) zc__expose_spawning(p, w, &metrics_fd);  /* logged; not fatal */
    if (metrics_fd >= 0)
        fds[sp.n_fds++] = metrics_fd;
    sp.listen_pid = env_prepare(p, w, metrics_fd >= 0);
    r = zc__spawn(&sp, &pid);
    (void) close(pair[1]);
    zc__expose_spawned(p, w, metrics_fd);
    if (r < 0) {
        (void) close(pair[0]);
        zc__expose_exited(p, w, NULL);
        free(w);
        snprintf(what, what_size, "%s '%s'", r == -EAGAIN || r == -ENOMEM
                 ? "fork for" : "cannot execute", path);
        return r;
    }
    if (link_open(p, w, pair[0]) < 0)
        link_close(p, w);   /* it runs without a link: logged on use */
    w->pid = pid;
    w->state = W_STARTING;
    w->started_us = zc__now_us();
    w->next = p->workers;
    if (w->next)
        w->next->prev = w;
    p->workers = w;
    p->n_alive++;
    if (p->reload.active && p->n_alive > p->reload.max_alive)
        p->reload.max_alive = p->n_alive;
    zc_log(ZC_LOG_INFO, NS, "worker %llu (slot %u, pid %d) started: %s%s",
           (unsigned long long) w->id, s->index, (int) pid, path, note);
    emit_worker(p, ZC_EVENT_SPAWNED, w, 0);
    *ret = w;
    return 0;
}

static void spawn_slot(struct zc_primary *p, struct slot *s)
{
    char what[PATH_MAX + 32];
    struct worker *w;
    int r = spawn_worker(p, s, s->generation, "", &w, what, sizeof(what));

    if (r < 0) {
        spawn_failed(p, s, what, r);
        return;
    }
    s->w = w;
    s->state = SLOT_RUNNING;
    s->ready_us = 0;
    start_ready_policy(p, w);
}

/*
 * Asks one worker to drain. A linked worker gets the "shutdown" message
 * (with the time it has) and a moment to answer "stopping" before the
 * stop signal follows; one that already said "stopping" gets nothing more.
 * kill_at_us is its own SIGKILL deadline (0: the shutdown timer's). Asking
 * twice changes nothing. Returns whether the message went, for the log.
 */
static bool stop_worker(struct zc_primary *p, struct worker *w,
                        uint64_t kill_at_us)
{
    uint32_t ack_ms = p->opt.shutdown_timeout_ms / 2;
    uint64_t now = zc__now_us();
    char ms[16];

    if (w->pid <= 0 || w->stop_sent)
        return w->pid > 0 && !w->signalled;
    zc__timer_stop(&p->loop, &w->ready_deadline);
    set_state(p, w, W_DRAINING);
    w->stop_sent = true;
    w->stop_us = now;
    w->kill_at_us = kill_at_us;
    if (w->stop_acked) {
        arm_kill(p, w);
        return true;
    }
    if (ack_ms > STOP_ACK_MS)
        ack_ms = STOP_ACK_MS;
    snprintf(ms, sizeof(ms), "%u", p->opt.shutdown_timeout_ms);
    if (w->linked && queue_to(p, w, "shutdown", ms, strlen(ms), NULL, 0) == 0 &&
        zc__timer_start(&p->loop, &w->timer, now + ack_ms * 1000ull) == 0)
        return true;
    signal_worker(w, p->opt.stop_signal);
    w->signalled = true;
    arm_kill(p, w);
    return false;
}

/* Out of its slot for good: it drains, with shutdown_timeout to do it. */
static void retire(struct zc_primary *p, struct worker *w)
{
    w->retired = true;
    w->slot = NULL;
    (void) stop_worker(p, w, zc__now_us() + p->opt.shutdown_timeout_ms * 1000ull);
}

static void stop_acknowledged(struct zc_primary *p, struct worker *w)
{
    w->stop_acked = true;
    if (w->state == W_DRAINING && !w->signalled)
        arm_kill(p, w);
}

/* Every worker is reaped: nothing can be left behind, so we may exit. */
static void finish_shutdown(struct zc_primary *p)
{
    zc_log(ZC_LOG_INFO, NS, "all workers stopped in %llu ms, exiting",
           (unsigned long long) ((zc__now_us() - p->shutdown_start_us) / 1000));
    p->exit_status = 0;
    zc__loop_stop(&p->loop);
}

/* Reaped: out of the list, onto the dead one until before_poll. */
static void forget_worker(struct zc_primary *p, struct worker *w)
{
    zc__timer_stop(&p->loop, &w->timer);
    zc__timer_stop(&p->loop, &w->ready_deadline);
    set_state(p, w, W_EXITED);
    w->pid = -1;
    if (w->prev)
        w->prev->next = w->next;
    else
        p->workers = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->next = p->dead;
    p->dead = w;
    p->n_alive--;
}

/* A slot whose serving worker exited on its own: respawn, or not. */
static void slot_lost_worker(struct zc_primary *p, struct slot *s, bool clean,
                             const char *what)
{
    uint64_t delay;

    s->w = NULL;
    if (s->next) {
        /* Its replacement takes the slot when ready; if it fails instead,
         * reload_failed schedules a respawn. */
        s->state = SLOT_EMPTY;
        zc_log(ZC_LOG_WARN, NS, "%s; its replacement, worker %llu, is starting",
               what, (unsigned long long) s->next->id);
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

/* The worker left; decide, once, what happens next. */
static void on_worker_exit(struct zc_primary *p, struct worker *w, int status,
                           const struct rusage *ru)
{
    bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    struct reload *R = &p->reload;
    struct slot *s;
    char what[320];
    size_t n;

    /* What it said last (a status, a result) is handled before its death. */
    link_drain(p, w);
    /* Its counts stay in the fleet's (a last text snapshot included). */
    zc__expose_exited(p, w, ru);
    /* "worker 3 (slot 1, pid 4121) exited with status 1", said once. */
    n = (size_t) snprintf(what, sizeof(what), "worker %llu (slot %u, pid %d) ",
                          (unsigned long long) w->id, w->slot_index,
                          (int) w->pid);
    describe_exit(status, what + n, sizeof(what) - n);
    emit_worker(p, ZC_EVENT_EXITED, w, status);
    /* Its last STATUS= is the best clue to why it died. */
    if (w->status[0] && !clean)
        snprintf(what + strlen(what), sizeof(what) - strlen(what),
                 " (last status: %s)", w->status);
    /* Reaped: from here on the pid may belong to anyone. */
    forget_worker(p, w);
    s = w->slot;
    if (p->shutting_down) {
        zc_log(ZC_LOG_INFO, NS, "%s during shutdown; %u left", what, p->n_alive);
        if (p->n_alive == 0)
            finish_shutdown(p);
        return;
    }
    if (w->retired) {
        zc_log(clean ? ZC_LOG_INFO : ZC_LOG_WARN, NS, "%s; retired, drained "
               "in %llu ms", what,
               (unsigned long long) ((zc__now_us() - w->stop_us) / 1000));
        if (R->active && w->step_of == R->generation)
            R->stepping--;
        reload_pump(p);
        check_fleet_end(p);
        return;
    }
    if (s && s->next == w) {
        s->next = NULL;
        R->stepping--;
        snprintf(what + strlen(what), sizeof(what) - strlen(what),
                 " before it was ready");
        reload_failed(p, s, what);
        return;
    }
    if (s)
        slot_lost_worker(p, s, clean, what);
}

/* A linear scan: it runs once per exit or notify message, never per
 * request, and a thousand workers scan in a microsecond. */
static struct worker *worker_by_pid(struct zc_primary *p, pid_t pid)
{
    for (struct worker *w = p->workers; w; w = w->next)
        if (w->pid == pid)
            return w;
    return NULL;
}

static void reap_children(struct zc_primary *p)
{
    struct rusage ru;
    int status;
    pid_t pid;

    /* SIGCHLDs coalesce: reap until nothing is left, whatever woke us.
     * wait4 for the CPU time the worker used, for /metrics. */
    while ((pid = wait4(-1, &status, WNOHANG, &ru)) > 0) {
        struct worker *w = worker_by_pid(p, pid);

        if (w)
            on_worker_exit(p, w, status, &ru);
        else
            zc_log(ZC_LOG_DEBUG, NS, "reaped pid %d, not a worker", (int) pid);
    }
}

/* Everything ended on its own (exit 0 without --respawn always, or
 * --respawn never): nothing is left to supervise. */
static void check_fleet_end(struct zc_primary *p)
{
    if (p->n_alive > 0 || p->reload.active)
        return;
    for (unsigned i = 0; i < p->n_slots; i++)
        if (p->slots[i]->state != SLOT_DONE && p->slots[i]->state != SLOT_EMPTY)
            return;
    zc_log(p->any_failed ? ZC_LOG_WARN : ZC_LOG_INFO, NS,
           "no worker is running and none will be restarted; exiting with "
           "status %d", p->any_failed ? 1 : 0);
    p->exit_status = p->any_failed ? 1 : 0;
    zc__loop_stop(&p->loop);
}

/* -- rolling reload ------------------------------------------------------- */

static int reload_start(struct zc_primary *p, const char *by);

static void emit_reload(struct zc_primary *p, int outcome)
{
    zc_event e = { .type = ZC_EVENT_RELOADED, .slot = -1, .pid = -1,
                   .generation = p->reload.generation, .status = outcome };

    zc__expose_reload(p, outcome);
    emit(p, &e);
}

static unsigned long long reload_ms(const struct zc_primary *p)
{
    return (unsigned long long) ((zc__now_us() - p->reload.start_us) / 1000);
}

static void reload_done(struct zc_primary *p)
{
    struct reload *R = &p->reload;

    R->active = false;
    zc_log(ZC_LOG_INFO, NS, "reload to generation %llu done in %llu ms: %u of "
           "%u slots replaced; never fewer than %u ready workers, never more "
           "than %u processes", (unsigned long long) R->generation,
           reload_ms(p), R->replaced, p->n_slots, R->min_ready, R->max_alive);
    emit_reload(p, ZC_RELOAD_DONE);
    if (R->again)
        (void) reload_start(p, "a reload was asked for during the last one");
}

/*
 * A replacement failed: the reload stops where it is. Replacements still
 * starting are stopped, and every slot not yet stepped keeps the worker it
 * has; slots already stepped keep their new, ready, workers. A slot left
 * with no worker at all (its old one died meanwhile) respawns as usual.
 */
static void reload_failed(struct zc_primary *p, const struct slot *failed,
                          const char *why)
{
    struct reload *R = &p->reload;
    unsigned kept = 0;

    R->active = false;
    for (unsigned i = 0; i < p->n_slots; i++) {
        struct slot *s = p->slots[i];

        if (s->next) {
            struct worker *w = s->next;

            s->next = NULL;
            retire(p, w);
        }
        if (!s->w && (s->state == SLOT_EMPTY || s->state == SLOT_BACKOFF) &&
            !zc__timer_is_active(&s->timer))
            schedule_respawn(p, s, count_crash(p, s));
        kept += s->generation != R->generation;
    }
    zc_log(ZC_LOG_ERROR, NS, "reload to generation %llu failed after %llu ms: "
           "slot %u: %s. %u of %u slots replaced; the other %u keep%s their "
           "workers. %s", (unsigned long long) R->generation, reload_ms(p),
           failed->index, why, R->replaced, p->n_slots, kept,
           kept == 1 ? "s" : "", R->again
           ? "The reload asked for during this one is dropped: send SIGHUP "
             "again to retry." : "Send SIGHUP again to retry.");
    R->again = false;
    emit_reload(p, ZC_RELOAD_FAILED);
}

static void reload_interrupted(struct zc_primary *p, const char *name)
{
    struct reload *R = &p->reload;

    R->active = false;
    R->again = false;
    zc_log(ZC_LOG_WARN, NS, "received SIG%s during the reload to generation "
           "%llu: abandoning it after %llu ms, %u of %u slots replaced", name,
           (unsigned long long) R->generation, reload_ms(p), R->replaced,
           p->n_slots);
    emit_reload(p, ZC_RELOAD_INTERRUPTED);
}

static void start_replacement(struct zc_primary *p, struct slot *s)
{
    struct reload *R = &p->reload;
    char what[PATH_MAX + 32], note[160], why[PATH_MAX + 96], old[48];
    struct worker *w;
    int r;

    if (s->state == SLOT_BACKOFF)
        zc__timer_stop(&p->loop, &s->timer);
    snprintf(old, sizeof(old), "replacing worker %llu",
             s->w ? (unsigned long long) s->w->id : 0ull);
    snprintf(note, sizeof(note), " (reload to generation %llu, step %u of %u, "
             "%s)", (unsigned long long) R->generation, R->next, p->n_slots,
             s->w ? old : "which had no worker running");
    r = spawn_worker(p, s, R->generation, note, &w, what, sizeof(what));
    if (r < 0) {
        snprintf(why, sizeof(why), "worker %llu could not be started: %s: %s",
                 (unsigned long long) s->last_id, what, zc_strerror(r));
        reload_failed(p, s, why);
        return;
    }
    R->stepping++;
    s->next = w;
    if (zc__timer_start(&p->loop, &w->ready_deadline, w->started_us +
                        p->opt.ready_timeout_ms * 1000ull) < 0) {
        reload_failed(p, s, "no memory for the replacement's ready deadline");
        return;
    }
    start_ready_policy(p, w);
}

/* The slot's replacement is ready: it serves, and the old worker goes. */
static void promote(struct zc_primary *p, struct slot *s)
{
    struct reload *R = &p->reload;
    struct worker *w = s->next, *old = s->w;
    unsigned long long ms = (zc__now_us() - w->started_us) / 1000;

    zc__timer_stop(&p->loop, &w->ready_deadline);
    s->next = NULL;
    s->w = w;
    s->state = SLOT_RUNNING;
    s->generation = w->generation;
    s->crashes = 0;
    s->ready_us = zc__now_us();
    R->replaced++;
    if (old) {
        zc_log(ZC_LOG_INFO, NS, "reload to generation %llu: slot %u replaced "
               "(%u of %u): worker %llu ready in %llu ms; retiring worker %llu "
               "(pid %d)", (unsigned long long) R->generation, s->index,
               R->replaced, p->n_slots, (unsigned long long) w->id, ms,
               (unsigned long long) old->id, (int) old->pid);
        old->step_of = R->generation;
        retire(p, old);
    } else {
        zc_log(ZC_LOG_INFO, NS, "reload to generation %llu: slot %u filled "
               "(%u of %u): worker %llu ready in %llu ms",
               (unsigned long long) R->generation, s->index, R->replaced,
               p->n_slots, (unsigned long long) w->id, ms);
        R->stepping--;
    }
    reload_pump(p);
}

/*
 * Starts as many steps as the limits allow: at most max_surge under way,
 * and never more than N + max_surge processes, old ones still draining
 * and respawns to come included. Slots created during this reload already run its generation.
 * Ends the reload when every slot is stepped and every old worker gone.
 */
static unsigned respawns_due(const struct zc_primary *p)
{
    unsigned n = 0;

    for (unsigned i = 0; i < p->n_slots; i++)
        n += zc__timer_is_active(&p->slots[i]->timer);
    return n;
}

static void reload_pump(struct zc_primary *p)
{
    struct reload *R = &p->reload;

    if (!R->active || R->pumping)
        return;
    R->pumping = true;
    /* A slot waiting for its respawn will have a process again: count it,
     * or the respawn could take the fleet past N + max_surge. */
    while (R->active && R->next < p->n_slots &&
           R->stepping < p->opt.max_surge &&
           p->n_alive + respawns_due(p) < p->n_slots + p->opt.max_surge) {
        struct slot *s = p->slots[R->next++];

        if (s->generation != R->generation)
            start_replacement(p, s);
    }
    R->pumping = false;
    if (R->active && R->next >= p->n_slots && R->stepping == 0)
        reload_done(p);
}

/*
 * Without listeners of ours, workers bind their own sockets (SO_REUSEPORT,
 * say). Then a retired worker's socket closes with whatever waits in its
 * accept queue: reset, unless the kernel moves it to the other sockets of
 * the group (net.ipv4.tcp_migrate_req, Linux 5.14). Said once per fleet.
 */
static void warn_own_sockets(struct zc_primary *p)
{
    static const char *const path = "/proc/sys/net/ipv4/tcp_migrate_req";
    char v = '?';
    int fd;

    if (p->said_own_sockets || p->n_listeners > 0)
        return;
    p->said_own_sockets = true;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (read(fd, &v, 1) != 1)
            v = '?';
        (void) close(fd);
    }
    if (v == '1')
        zc_log(ZC_LOG_INFO, NS, "no listening sockets of ours: workers that "
               "bind SO_REUSEPORT themselves leave their queued connections "
               "to the others (net.ipv4.tcp_migrate_req is 1)");
    else
        zc_log(ZC_LOG_WARN, NS, "no listening sockets of ours: if workers "
               "bind SO_REUSEPORT themselves, connections queued on a retired "
               "worker's socket are reset when it closes (net.ipv4."
               "tcp_migrate_req is %s; set it to 1, or give -l to zcluster so "
               "every worker shares one socket)", v == '0' ? "0" : "unknown");
}

/* Returns 0 when it starts, 1 when it was coalesced into the one under way. */
static int reload_start(struct zc_primary *p, const char *by)
{
    struct reload *R = &p->reload;

    if (p->shutting_down) {
        zc_log(ZC_LOG_WARN, NS, "%s: shutting down, not reloading", by);
        return -ECANCELED;
    }
    if (R->active) {
        R->again = true;
        zc_log(ZC_LOG_INFO, NS, "%s: the reload to generation %llu is under "
               "way (%u of %u slots replaced); one more will follow when it "
               "succeeds", by, (unsigned long long) R->generation,
               R->replaced, p->n_slots);
        return 1;
    }
    warn_own_sockets(p);
    p->generation++;
    *R = (struct reload) { .active = true, .generation = p->generation,
                           .start_us = zc__now_us(), .min_ready = p->n_ready,
                           .max_alive = p->n_alive };
    zc_log(ZC_LOG_INFO, NS, "%s: rolling reload to generation %llu: %u "
           "worker%s, %u at a time, each replacement to be ready within %u ms",
           by, (unsigned long long) R->generation, p->n_slots,
           PLURAL(p->n_slots), p->opt.max_surge, p->opt.ready_timeout_ms);
    reload_pump(p);
    return 0;
}

/* -- scaling -------------------------------------------------------------- */

static struct slot *slot_new(struct zc_primary *p, unsigned index)
{
    struct slot *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->p = p;
    s->index = index;
    s->generation = p->generation;
    zc__timer_init(&s->timer, on_slot_timer);
    zc__sticky_slot_init(s);
    return s;
}

static int grow_slots(struct zc_primary *p, unsigned n)
{
    unsigned cap = p->cap_slots ? p->cap_slots : 4;
    struct slot **v;

    if (n <= p->cap_slots)
        return 0;
    while (cap < n)
        cap *= 2;
    v = realloc(p->slots, cap * sizeof(*v));
    if (!v)
        return -ENOMEM;
    memset(v + p->cap_slots, 0, (cap - p->cap_slots) * sizeof(*v));
    p->slots = v;
    p->cap_slots = cap;
    return 0;
}

/* The highest slot goes; its workers drain like retired ones. */
static void remove_slot(struct zc_primary *p, struct slot *s)
{
    zc__timer_stop(&p->loop, &s->timer);
    if (s->next) {
        p->reload.stepping--;
        retire(p, s->next);
    }
    if (s->w) {
        zc_log(ZC_LOG_INFO, NS, "slot %u removed: retiring worker %llu "
               "(pid %d)", s->index, (unsigned long long) s->w->id,
               (int) s->w->pid);
        retire(p, s->w);
    } else {
        zc_log(ZC_LOG_INFO, NS, "slot %u removed (it had no worker running)",
               s->index);
    }
    zc__sticky_slot_removed(p, s);
    free(s);
}

static int scale_to(struct zc_primary *p, unsigned n, const char *by)
{
    unsigned from = p->n_slots;

    if (n < 1 || n > ZC_MAX_WORKERS)
        return -EINVAL;
    if (p->shutting_down) {
        zc_log(ZC_LOG_WARN, NS, "%s: shutting down, not scaling", by);
        return -ECANCELED;
    }
    if (n == from)
        return 0;
    if (grow_slots(p, n) < 0) {
        zc_log(ZC_LOG_ERROR, NS, "%s: no memory to scale to %u workers", by, n);
        return -ENOMEM;
    }
    zc_log(ZC_LOG_INFO, NS, "%s: scaling from %u to %u worker%s", by, from, n,
           PLURAL(n));
    while (p->n_slots > n)
        remove_slot(p, p->slots[--p->n_slots]);
    while (p->n_slots < n) {
        struct slot *s = slot_new(p, p->n_slots);

        if (!s) {
            zc_log(ZC_LOG_ERROR, NS, "no memory for slot %u: staying at %u "
                   "workers", p->n_slots, p->n_slots);
            break;
        }
        p->slots[p->n_slots++] = s;
        p->announced_ready = false;
        /* From primary_init, the first spawn round starts it. */
        if (p->started)
            spawn_slot(p, s);
    }
    reload_pump(p);
    return 0;
}

/* -- signals and shutdown ------------------------------------------------- */

static void signal_worker(struct worker *w, int sig)
{
    /* The worker leads its own process group, so killpg also reaches its
     * children. One that moved to another group (setsid) gets kill(). Only
     * unreaped pids are signalled, so the pid cannot have been reused. */
    if (w->pid > 0 && killpg(w->pid, sig) == -1 && errno == ESRCH)
        (void) kill(w->pid, sig);
}

static void kill_all(struct zc_primary *p)
{
    p->killing = true;
    for (struct worker *w = p->workers; w; w = w->next)
        signal_worker(w, SIGKILL);
}

static void on_shutdown_timeout(struct zc__loop *l, struct zc__timer *t)
{
    struct zc_primary *p = zc__container_of(t, struct zc_primary, shutdown_timer);

    (void) l;
    zc_log(ZC_LOG_WARN, NS, "shutdown timeout of %u ms reached: killing %u "
           "remaining worker%s with SIGKILL", p->opt.shutdown_timeout_ms,
           p->n_alive, PLURAL(p->n_alive));
    kill_all(p);
}

/* A second TERM or INT while draining: the operator is done waiting. */
static void escalate(struct zc_primary *p, const char *name)
{
    if (p->killing)
        return;
    zc_log(ZC_LOG_WARN, NS, "received SIG%s again: killing %u worker%s now "
           "with SIGKILL", name, p->n_alive, PLURAL(p->n_alive));
    kill_all(p);
}

/* No slot will start anything again: pending respawns are cancelled and
 * the slots let go of their workers, which from here on only drain. */
static void freeze_slots(struct zc_primary *p)
{
    for (unsigned i = 0; i < p->n_slots; i++) {
        struct slot *s = p->slots[i];

        zc__timer_stop(&p->loop, &s->timer);
        s->w = s->next = NULL;
        s->state = SLOT_EMPTY;
    }
}

static void begin_shutdown(struct zc_primary *p, int sig, bool drain)
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
    if (p->reload.active)
        reload_interrupted(p, name);
    zc__sticky_stop(p);
    freeze_slots(p);
    if (p->n_alive == 0) {
        zc_log(ZC_LOG_INFO, NS, "received SIG%s: no worker running", name);
        finish_shutdown(p);
    } else if (!drain) {
        zc_log(ZC_LOG_WARN, NS, "received SIG%s: killing %u worker%s now "
               "with SIGKILL", name, p->n_alive, PLURAL(p->n_alive));
        kill_all(p);
    } else {
        char stop_text[16], how[128];
        unsigned by_message = 0;

        /* Real-time stop signals have no name: say the number. */
        if (zc__signal_name(stop))
            snprintf(stop_text, sizeof(stop_text), "SIG%s", zc__signal_name(stop));
        else
            snprintf(stop_text, sizeof(stop_text), "signal %d", stop);
        for (struct worker *w = p->workers; w; w = w->next)
            by_message += stop_worker(p, w, 0);
        if (by_message == 0)
            snprintf(how, sizeof(how), " with %s", stop_text);
        else if (by_message == p->n_alive)
            snprintf(how, sizeof(how), " with a shutdown message (%s if "
                     "unanswered)", stop_text);
        else
            snprintf(how, sizeof(how), ": %u with a shutdown message (%s if "
                     "unanswered), %u with %s", by_message, stop_text,
                     p->n_alive - by_message, stop_text);
        zc_log(ZC_LOG_INFO, NS, "received SIG%s: stopping %u worker%s%s, "
               "waiting up to %u ms", name, p->n_alive, PLURAL(p->n_alive),
               how, p->opt.shutdown_timeout_ms);
        /* Without the deadline nothing would ever escalate: kill now. */
        if (zc__timer_start(&p->loop, &p->shutdown_timer,
                            p->shutdown_start_us +
                                p->opt.shutdown_timeout_ms * 1000ull) < 0)
            kill_all(p);
    }
}

static void drain_notify(struct zc_primary *p);

static void on_sigchld(struct zc_primary *p, int sig)
{
    (void) sig;
    /* What a worker said before it died (READY=1, STATUS=) is read before
     * its death is handled, whatever order epoll reports the two fds in. */
    drain_notify(p);
    reap_children(p);
}

static void on_stop(struct zc_primary *p, int sig)
{
    begin_shutdown(p, sig, true);
}

static void on_quit(struct zc_primary *p, int sig)
{
    begin_shutdown(p, sig, false);
}

static void on_hup(struct zc_primary *p, int sig)
{
    (void) sig;
    (void) reload_start(p, "received SIGHUP");
}

/* One worker more or less, as gunicorn and unicorn do. */
static void on_scale_signal(struct zc_primary *p, int sig)
{
    bool up = sig == SIGTTIN;
    char by[32];

    snprintf(by, sizeof(by), "received SIG%s", zc__signal_name(sig));
    if (up ? p->n_slots >= ZC_MAX_WORKERS : p->n_slots <= 1) {
        zc_log(ZC_LOG_WARN, NS, "%s: already at %u worker%s, the %s; ignoring "
               "it", by, p->n_slots, PLURAL(p->n_slots), up ? "most" : "fewest");
        return;
    }
    (void) scale_to(p, up ? p->n_slots + 1 : p->n_slots - 1, by);
}

/* What each signal does, as one table (nginx's signals[] idea). */
static const struct {
    int sig;
    void (*fn)(struct zc_primary *p, int sig);
} signal_actions[] = {
    { SIGCHLD, on_sigchld },
    { SIGTERM, on_stop },
    { SIGINT, on_stop },
    { SIGQUIT, on_quit },
    { SIGHUP, on_hup },
    { SIGTTIN, on_scale_signal },
    { SIGTTOU, on_scale_signal },
};

static void on_signal(struct zc__loop *l, const struct signalfd_siginfo *si)
{
    struct zc_primary *p = zc__container_of(l, struct zc_primary, loop);

    for (size_t i = 0; i < sizeof(signal_actions) / sizeof(signal_actions[0]); i++)
        if ((int) si->ssi_signo == signal_actions[i].sig) {
            signal_actions[i].fn(p, (int) si->ssi_signo);
            return;
        }
}

/* -- notify socket -------------------------------------------------------- */

/* The sender is the worker, or a process in its group (a wrapper script's
 * child, say: systemd's NotifyAccess=all within the unit). */
static struct worker *worker_by_sender(struct zc_primary *p, pid_t pid)
{
    struct worker *w = worker_by_pid(p, pid);
    pid_t pgid;

    if (w)
        return w;
    pgid = getpgid(pid);
    return pgid > 0 ? worker_by_pid(p, pgid) : NULL;
}

static void on_notify_message(struct zc_primary *p, pid_t pid, const char *msg)
{
    struct worker *w = worker_by_sender(p, pid);
    char v[8];

    if (!w) {
        zc_log(ZC_LOG_DEBUG, NS, "ignoring a notify message from pid %d, "
               "which is not a worker", (int) pid);
        return;
    }
    if (zc__notify_get(msg, "STATUS", w->status, sizeof(w->status)))
        zc_log(ZC_LOG_DEBUG, NS, "worker %llu (slot %u) status: %s",
               (unsigned long long) w->id, w->slot_index, w->status);
    if (zc__notify_get(msg, "STOPPING", NULL, 0)) {
        zc_log(ZC_LOG_DEBUG, NS, "worker %llu (slot %u) is stopping",
               (unsigned long long) w->id, w->slot_index);
        stop_acknowledged(p, w);
    }
    if (zc__notify_get(msg, "READY", v, sizeof(v)) && strcmp(v, "1") == 0 &&
        takes_ready_message(p, w))
        mark_ready(p, w, "READY=1");
}

static void drain_notify(struct zc_primary *p)
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
    drain_notify(zc__container_of(io, struct zc_primary, notify_io));
}

/* -- set-up and tear-down ------------------------------------------------- */

static void listener_log(struct zc_primary *p, struct listener *ln, const char *from)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    /* Port 0 binds an ephemeral port: log the real one. */
    if (getsockname(ln->fd, (struct sockaddr *) &ss, &len) == 0)
        zc__addr_format((struct sockaddr *) &ss, len, ln->text, sizeof(ln->text));
    if (p->opt.sticky)
        zc_log(ZC_LOG_INFO, NS, "listening on %s (sticky: the primary accepts, "
               "listener %zu, name %s%s%s)", ln->text, p->n_listeners,
               ln->addr.name, p->opt.proxy_protocol ? ", PROXY protocol" : "",
               from);
    else
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
static int adopt_inherited(struct zc_primary *p, int n)
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

static int open_listeners(struct zc_primary *p)
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

static void close_listeners(struct zc_primary *p)
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

static int setup(struct zc_primary *p, char **argv)
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
    if (p->opt.metrics && (r = zc__expose_start(p)) < 0)
        return r;           /* logged with its address */
    if (grow_slots(p, p->n_slots) < 0 || env_init(p) < 0)
        return setup_failed("worker table", -ENOMEM);
    for (unsigned i = 0; i < p->n_slots; i++)
        if (!(p->slots[i] = slot_new(p, i)))
            return setup_failed("worker table", -ENOMEM);
    if (p->opt.sticky && p->n_listeners == 0) {
        zc_log(ZC_LOG_ERROR, NS, "cannot start: sticky sessions need a "
               "listen address for the primary to accept on");
        return -EDESTADDRREQ;
    }
    if (p->opt.sticky && (r = zc__sticky_start(p)) < 0)
        return r;           /* logged */
    p->loop.before_poll = before_poll;
    raise_nofile(p);
    return 0;
}

/* Only on an error path: the library returns into its caller's process,
 * where no PDEATHSIG would fire, so no worker may be left running. */
static void kill_and_reap_all(struct zc_primary *p)
{
    for (struct worker *w = p->workers; w; w = w->next) {
        zc__ipc_close(&w->ipc);
        signal_worker(w, SIGKILL);
        while (waitpid(w->pid, NULL, 0) == -1 && errno == EINTR)
            ;
        w->pid = -1;
    }
}

static void free_all(struct zc_primary *p)
{
    for (struct worker *w = p->workers, *next; w; w = next) {
        next = w->next;
        free(w);
    }
    for (struct worker *w = p->dead, *next; w; w = next) {
        next = w->next;
        free(w);
    }
    for (unsigned i = 0; p->slots && i < p->n_slots; i++)
        free(p->slots[i]);
    free(p->slots);
}

static void teardown(struct zc_primary *p)
{
    kill_and_reap_all(p);
    zc__sticky_free(p);
    zc__expose_stop(p);
    close_listeners(p);
    if (p->notify_fd >= 0)
        (void) close(p->notify_fd);
    if (p->devnull >= 0)
        (void) close(p->devnull);
    zc__loop_free(&p->loop);
    free(p->env.envp);
    free(p->env.fdnames);
    free(p->env.sticky);
    free(p->self_path);
    free_all(p);
    free(p->event_fns);
    zc__handlers_free(&p->handlers);
    if (p->nofile_raised)
        (void) setrlimit(RLIMIT_NOFILE, &p->nofile);
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
static void take_signals(struct zc_primary *p, struct sigaction *old,
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

/* -- the application's side ------------------------------------------------ */

int zc_primary_on(zc_primary *p, const char *type, zc_msg_fn fn, void *userdata)
{
    return p ? zc__handlers_add(&p->handlers, type, fn, userdata) : -EINVAL;
}

int zc_primary_on_event(zc_primary *p, zc_event_fn fn, void *userdata)
{
    struct event_fn *v;

    if (!p || !fn)
        return -EINVAL;
    v = realloc(p->event_fns, (p->n_event_fns + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    p->event_fns = v;
    v[p->n_event_fns++] = (struct event_fn) { fn, userdata };
    return 0;
}

static int check_message(const zc_primary *p, const char *type,
                         const void *data, size_t len, const int *fds,
                         size_t n_fds)
{
    if (!p || zc__ipc_type_check(type, false) < 0 || (len && !data) ||
        (n_fds && !fds) || n_fds > ZC_IPC_FDS_MAX)
        return -EINVAL;
    return len > p->opt.ipc_max_message ? -EMSGSIZE : 0;
}

int zc_primary_send(zc_primary *p, uint64_t worker_id, const char *type,
                    const void *data, size_t len, const int *fds, size_t n_fds)
{
    int r = check_message(p, type, data, len, fds, n_fds);

    if (r < 0)
        return r;
    /* A scan, as for pids: a thousand workers take a microsecond. */
    for (struct worker *w = p->workers; w; w = w->next)
        if (w->id == worker_id)
            return queue_to(p, w, type, data, len, fds, n_fds);
    return -ESRCH;
}

int zc_primary_broadcast(zc_primary *p, const char *type, const void *data,
                         size_t len)
{
    int r = check_message(p, type, data, len, NULL, 0), n = 0;

    if (r < 0)
        return r;
    for (struct worker *w = p->workers; w; w = w->next) {
        if (w->ipc.fd < 0)
            continue;
        r = queue_to(p, w, type, data, len, NULL, 0);
        if (r == 0)
            n++;
        else
            zc_log(ZC_LOG_DEBUG, NS, "broadcast '%s': not sent to worker %llu "
                   "(slot %u): %s", type, (unsigned long long) w->id,
                   w->slot_index, zc_strerror(r));
    }
    return n;
}

/* Requests made from callbacks, in the order scale, then reload. */
static void apply_requests(struct zc_primary *p)
{
    unsigned n = p->pending_scale;

    p->pending_scale = 0;
    if (n)
        (void) scale_to(p, n, "zc_primary_scale()");
    if (p->pending_reload) {
        p->pending_reload = false;
        (void) reload_start(p, "zc_primary_reload()");
    }
}

int zc_primary_reload(zc_primary *p)
{
    if (!p)
        return -EINVAL;
    if (p->shutting_down)
        return -ECANCELED;
    if (!p->started)
        return -EAGAIN;
    if (p->pending_reload || p->reload.active) {
        p->pending_reload = true;
        return 1;
    }
    p->pending_reload = true;
    return 0;
}

int zc_primary_scale(zc_primary *p, unsigned workers)
{
    if (!p || workers < 1 || workers > ZC_MAX_WORKERS)
        return -EINVAL;
    if (p->shutting_down)
        return -ECANCELED;
    /* Before the start nothing runs yet: the count is set at once. */
    if (!p->started)
        return scale_to(p, workers, "zc_primary_scale()");
    p->pending_scale = workers;
    return 0;
}

unsigned zc_primary_workers(const zc_primary *p)
{
    return !p ? 0 : p->pending_scale ? p->pending_scale : p->n_slots;
}

int zc__primary_run(char **argv, const zc_options *o, void *arg)
{
    struct zc_primary p = { .notify_fd = -1, .devnull = -1, .exit_status = 1,
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
    if (o->primary_init && (r = o->primary_init(&p, arg)) < 0) {
        zc_log(ZC_LOG_ERROR, NS, "cannot start: the primary_init callback "
               "failed: %s", zc_strerror(r));
        goto out;
    }
    zc_log(ZC_LOG_INFO, NS, "starting %u worker%s: %s", p.n_slots,
           PLURAL(p.n_slots), p.self_path ? p.self_path : p.argv[0]);
    for (unsigned i = 0; i < p.n_slots && !p.loop.stop; i++)
        spawn_slot(&p, p.slots[i]);
    p.started = true;
    r = zc__loop_run(&p.loop);
    if (r < 0)
        zc_log(ZC_LOG_ERROR, NS, "event loop failed: %s", zc_strerror(r));
out:
    teardown(&p);
    (void) sigaction(SIGPIPE, &old_pipe, NULL);
    restore_signals(old, &old_mask);
    return r < 0 ? 1 : p.exit_status;
}
