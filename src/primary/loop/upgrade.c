/*
 * Upgrading the primary in place, HAProxy's -W way rather than nginx's:
 * the primary executes the zcluster binary now at the path it was started
 * from, in its own pid, so its workers stay its children and a service
 * manager's MAINPID stays right. The fleet's state (handover.c, read by
 * takeover.c) goes in a sealed memfd, and its fds stay open across the
 * exec at their numbers; the new image takes them over before its loop
 * runs.
 *
 *   1. refused now, with the reason, if a walk, a shutdown or another
 *      upgrade is under way, or something is half on its way;
 *   2. preflight: the new binary, run once with ZC_UPGRADE_CHECK, says its
 *      version and whether it reads our state's version (a binary that
 *      cannot start, or cannot read us, is refused with nothing at stake);
 *   3. the state written, every signal blocked, the exec. If the exec
 *      fails, this image goes on as if nothing had been asked;
 *   4. the new image reads the state. If it cannot, or fails before it
 *      has taken everything over, it executes the image before again
 *      (kept open from the start as an O_PATH fd, whatever the path holds
 *      since) with the same state and the reason, and that one resumes;
 *   5. it reaps what died meanwhile (the signals stayed pending, blocked,
 *      across the exec, and are read from its signalfd), says how it went
 *      and, with --reload, starts a rolling reload of the workers.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "primary/control/control.h"
#include "primary/control/endpoint.h"
#include "primary/core/conffile.h"
#include "primary/core/env.h"
#include "primary/core/events.h"
#include "primary/core/node.h"
#include "primary/core/output.h"
#include "primary/loop/carry.h"
#include "primary/loop/lifecycle.h"
#include "primary/spread/accept.h"
#include "primary/spread/router.h"
#include "primary/loop/upgrade.h"
#include "proto/state.h"

#define NS ZC__PNS
#define PREFLIGHT_MS 5000   /* the new binary has this to answer */
#define PREFLIGHT_OUT 4096  /* of what it says, kept for the reason */
#define OUTPUT_WAIT_MS 1000 /* queued output written before the exec */
#define STATE_VAR "ZC_UPGRADE_STATE="
#define CHECK_VAR "ZC_UPGRADE_CHECK="
#define BACK_VAR "ZC_UPGRADE_BACK="
#define CHECK_TAG "ZC_UPGRADE_CHECK "

extern char **environ;

void zc__upgrade_init(struct zc_primary *p, char **argv)
{
    int r;

    p->own_argv = argv;
    if (p->exe_fd < 0)
        p->exe_fd = open("/proc/self/exe", O_PATH | O_CLOEXEC);
    if (!p->exe_path && (r = zc__env_own_path(argv[0], &p->exe_path)) < 0)
        zc_log(ZC_LOG_DEBUG, NS,
               "cannot tell where our own binary '%s' "
               "is (%s): no upgrade in place",
               argv[0], zc_strerror(r));
}

/* environ without an upgrade's variables, with a and b (or NULL) added. */
static char **env_with(const char *a, const char *b)
{
    size_t n = 0, k = 0;
    char **e;

    while (environ[n])
        n++;
    e = calloc(n + 3, sizeof(*e));
    if (!e)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "ZC_UPGRADE_", 11) != 0)
            e[k++] = environ[i];
    if (a)
        e[k++] = (char *) a;
    if (b)
        e[k++] = (char *) b;
    return e;
}

/* --- asked for --- */

/* A worker the state cannot describe whole now: one stopping, or with
 * something half on its way on its link. Said in why. */
static bool unsettled_worker(const struct zc_primary *p, char *why, size_t size)
{
    for (const struct worker *w = p->workers; w; w = w->next) {
        if (p->opt.node && (w->state == W_STARTING || !zc__node_quiet(w))) {
            snprintf(why, size, "Node worker %llu is %s: try again",
                     (unsigned long long) w->id,
                     w->state == W_STARTING ? "starting"
                                            : "in the middle of a message");
            return true;
        }
        if (w->ipc.n_marks || w->ipc.n_rfds) {
            snprintf(why, size,
                     "worker %llu's link has a message with fds "
                     "on its way: try again",
                     (unsigned long long) w->id);
            return true;
        }
        if (w->state == W_DRAINING || w->retired || !w->slot ||
            w->slot->w != w) {
            snprintf(why, size,
                     "worker %llu (slot %u) is still stopping: "
                     "upgrade when it has exited",
                     (unsigned long long) w->id, w->slot_index);
            return true;
        }
    }
    return false;
}

static int no(char *why, size_t size, int err, const char *fmt, ...)
    ZC_PRINTF(4, 5);

/* A refusal: err, and why says it. */
static int no(char *why, size_t size, int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, size, fmt, ap);
    va_end(ap);
    return err;
}

/* -EBUSY: not now; -ENOTSUP: no binary to execute; 0: go. */
static int refused(const struct zc_primary *p, char *why, size_t size)
{
    if (p->shutting_down || p->lame_duck)
        return no(why, size, -EBUSY, "the fleet is shutting down");
    if (p->upgrade.pending)
        return no(why, size, -EBUSY, "upgrade %llu is under way",
                  (unsigned long long) p->upgrade.serial);
    if (p->walk.active || p->conf_next.set || p->pending_reload)
        return no(why, size, -EBUSY,
                  "a %s is under way: upgrade when it has ended",
                  p->walk.active ? p->walk.name : "reload");
    if (!p->started)
        return no(why, size, -EBUSY, "the fleet is starting");
    if (!p->exe_path || p->exe_fd < 0)
        return no(why, size, -ENOTSUP,
                  "the primary cannot tell which "
                  "binary it was started from");
    /* A moment's wait, said: a PROXY header being read, a message half
     * on its way. */
    if (zc__accept_reading(p->router_acc))
        return no(why, size, -EBUSY,
                  "connections are still sending their "
                  "PROXY header: try again");
    if (unsettled_worker(p, why, size))
        return -EBUSY;
    return 0;
}

/* Reads what the preflight says until it exits or the time is up. */
static void read_answer(int fd, char *out, size_t size, uint64_t until)
{
    size_t n = 0;

    out[0] = '\0';
    while (n + 1 < size) {
        uint64_t now = zc__now_us();
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        ssize_t got;

        if (now >= until ||
            poll(&pfd, 1, (int) ((until - now) / 1000) + 1) <= 0)
            break;
        got = read(fd, out + n, size - 1 - n);
        if (got <= 0 && !(got < 0 && errno == EINTR))
            break;
        if (got > 0)
            n += (size_t) got;
        out[n] = '\0';
    }
}

/* The new binary's answer: its line, or the last words it said. */
static int judge(const char *path, const char *out, int status, char *why,
                 size_t size)
{
    const char *tag = strstr(out, CHECK_TAG), *last;
    size_t n;

    if (tag && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
        strncmp(tag + strlen(CHECK_TAG), "ok ", 3) == 0) {
        n = strcspn(tag + strlen(CHECK_TAG) + 3, "\n");
        snprintf(why, size, "%.*s", (int) n, tag + strlen(CHECK_TAG) + 3);
        return 0;
    }
    if (tag) {
        n = strcspn(tag + strlen(CHECK_TAG), "\n");
        snprintf(why, size, "%s refused: %.*s", path, (int) n,
                 tag + strlen(CHECK_TAG));
        return -EPROTO;
    }
    /* Its last non-empty line (a usage error, a loader's complaint). */
    n = strlen(out);
    while (n && out[n - 1] == '\n')
        n--;
    last = out + n;
    while (last > out && last[-1] != '\n')
        last--;
    if (WIFSIGNALED(status))
        snprintf(why, size,
                 "%s did not pass the preflight: killed by "
                 "signal %d%s%.*s",
                 path, WTERMSIG(status), n ? ": " : "", (int) (out + n - last),
                 last);
    else
        snprintf(why, size,
                 "%s did not pass the preflight: it exited with "
                 "status %d without answering%s%.*s",
                 path, WEXITSTATUS(status), n ? ": " : "",
                 (int) (out + n - last), last);
    return -ENOEXEC;
}

/*
 * Runs the new binary in its check mode, its output on a pipe, for
 * PREFLIGHT_MS at most (the loop waits: the workers serve on meanwhile).
 * It is reaped here, by its pid, so the loop's reaper never sees it.
 */
static int preflight(struct zc_primary *p, char *why, size_t size)
{
    char var[48], out[PREFLIGHT_OUT];
    uint64_t until = zc__now_us() + PREFLIGHT_MS * 1000ull;
    char **envp;
    int pfd[2], status = 0;
    pid_t pid;

    if (access(p->exe_path, X_OK) < 0) {
        snprintf(why, size, "cannot execute %s: %s", p->exe_path,
                 zc_strerror(-errno));
        return -errno;
    }
    snprintf(var, sizeof(var), CHECK_VAR "%u", ZC__STATE_VERSION);
    envp = env_with(var, NULL);
    if (!envp || pipe2(pfd, O_CLOEXEC) < 0) {
        free(envp);
        snprintf(why, size, "no memory or fds for the preflight");
        return -ENOMEM;
    }
    pid = fork();
    if (pid == 0) {
        sigset_t none;

        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        (void) dup2(pfd[1], STDOUT_FILENO);
        (void) dup2(pfd[1], STDERR_FILENO);
        (void) dup2(p->devnull, STDIN_FILENO);
        execve(p->exe_path, p->own_argv, envp);
        dprintf(STDOUT_FILENO, "cannot execute it: %s\n", strerror(errno));
        _exit(127);
    }
    free(envp);
    (void) close(pfd[1]);
    if (pid < 0) {
        (void) close(pfd[0]);
        snprintf(why, size, "fork for the preflight: %s", zc_strerror(-errno));
        return -EAGAIN;
    }
    read_answer(pfd[0], out, sizeof(out), until);
    (void) close(pfd[0]);
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (zc__now_us() >= until) {
            (void) kill(pid, SIGKILL);
            (void) waitpid(pid, &status, 0);
            snprintf(why, size,
                     "%s did not answer the preflight within "
                     "%d ms",
                     p->exe_path, PREFLIGHT_MS);
            return -ETIMEDOUT;
        }
        (void) poll(NULL, 0, 5);
    }
    return judge(p->exe_path, out, status, why, size);
}

long long zc__upgrade_request(struct zc_primary *p, const char *by, bool reload,
                              char *why, size_t size)
{
    char said[256];
    int r = refused(p, why, size);

    if (r == 0 && (r = preflight(p, said, sizeof(said))) < 0)
        snprintf(why, size, "%s", said);
    if (r < 0) {
        zc_log(ZC_LOG_ERROR, NS,
               "%s: upgrade refused, the fleet runs on as "
               "it was: %s",
               by, why);
        return r;
    }
    p->upgrade.serial++;
    p->upgrade.pending = true;
    p->upgrade.reload_gen = 0;
    p->upgrade.reload_after = reload;
    snprintf(p->upgrade.by, sizeof(p->upgrade.by), "%s", by);
    snprintf(why, size, "upgrade %llu: zcluster %s -> %s%s",
             (unsigned long long) p->upgrade.serial, ZC_VERSION, said,
             reload ? ", then a rolling reload" : "");
    zc_log(ZC_LOG_INFO, NS, "%s: %s; executing %s", by, why, p->exe_path);
    return (long long) p->upgrade.serial;
}

/* --- the exec --- */

static void set_cloexec(const int *fds, size_t n, bool on)
{
    for (size_t i = 0; i < n; i++) {
        int f = fcntl(fds[i], F_GETFD);

        if (f >= 0)
            (void) fcntl(fds[i], F_SETFD,
                         on ? f | FD_CLOEXEC : f & ~FD_CLOEXEC);
    }
}

/* The state in a sealed memfd: the next image reads it, and neither it
 * nor anything else can change it. */
static int state_fd(const struct carry_state *st)
{
    int fd = memfd_create("zcluster-state", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    size_t off = 0;

    if (fd < 0)
        return -errno;
    while (off < st->len) {
        ssize_t n = write(fd, st->data + off, st->len - off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            (void) close(fd);
            return n < 0 ? -errno : -EIO;
        }
        off += (size_t) n;
    }
    if (fcntl(fd, F_ADD_SEALS,
              F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
        (void) close(fd);
        return -errno;
    }
    return fd;
}

/* Returns only if the exec failed: -errno, why said, nothing changed. */
static int exec_now(struct zc_primary *p, char *why, size_t size)
{
    struct carry_out out = { .mask = &p->start_mask,
                             .control_fd = -1,
                             .control_lock = -1,
                             .control_path = "",
                             .metrics_fd = zc__endpoint_listen_fd(p) };
    struct carry_state st;
    char var[64];
    sigset_t all, prev;
    char **envp;
    int fd, r;

    (void) zc__control_handover(p, &out.control_fd, &out.control_lock,
                                &out.control_path);
    zc__output_write_out(p, OUTPUT_WAIT_MS);
    r = zc__carry_write(p, &out, &st);
    if (r < 0) {
        snprintf(why, size, "no memory for the fleet's state");
        return r;
    }
    fd = state_fd(&st);
    if (fd < 0) {
        zc__carry_state_free(&st);
        snprintf(why, size, "cannot hold the fleet's state: %s",
                 zc_strerror(fd));
        return fd;
    }
    snprintf(var, sizeof(var), STATE_VAR "%d:%d", fd, p->exe_fd);
    envp = env_with(var, NULL);
    if (!envp) {
        (void) close(fd);
        zc__carry_state_free(&st);
        snprintf(why, size, "no memory for the environment");
        return -ENOMEM;
    }
    set_cloexec(st.fds, st.n_fds, false);
    set_cloexec(&fd, 1, false);
    /* Whatever arrives now stays pending across the exec, for the next
     * image's signalfd: a child's death included. */
    sigfillset(&all);
    (void) sigprocmask(SIG_SETMASK, &all, &prev);
    execve(p->exe_path, p->own_argv, envp);
    r = -errno;
    (void) sigprocmask(SIG_SETMASK, &prev, NULL);
    set_cloexec(st.fds, st.n_fds, true);
    (void) close(fd);
    free(envp);
    zc__carry_state_free(&st);
    snprintf(why, size, "cannot execute %s: %s", p->exe_path, zc_strerror(r));
    return r;
}

void zc__upgrade_before_poll(struct zc_primary *p)
{
    struct upgrade_info *u = &p->upgrade;
    char why[sizeof(u->why) - 64];

    if (!u->pending)
        return;
    u->pending = false;
    /* The batch that asked may have started something since. */
    if (refused(p, why, sizeof(why)) < 0 || exec_now(p, why, sizeof(why)) < 0) {
        u->outcome = -1;
        snprintf(u->why, sizeof(u->why),
                 "upgrade %llu failed: %.200s; the "
                 "fleet runs on as it was, on zcluster %s",
                 (unsigned long long) u->serial, why, ZC_VERSION);
        zc_log(ZC_LOG_ERROR, NS, "%s", u->why);
    }
}

/* --- the new image --- */

int zc__upgrade_check(const char *asked)
{
    char *end;
    unsigned long v = strtoul(asked, &end, 10);
    bool ok = *asked && !*end && v >= ZC__STATE_MIN && v <= ZC__STATE_VERSION;

#ifdef ZC_TEST_PREFLIGHT_PASSES
    ok = true; /* a test build: refuses only once executed */
#endif
    if (ok) {
        printf(CHECK_TAG "ok %s (state %u)\n", ZC_VERSION, ZC__STATE_VERSION);
        return 0;
    }
    printf(CHECK_TAG "zcluster %s cannot read state version %s (it reads "
                     "%u to %u)\n",
           ZC_VERSION, asked, ZC__STATE_MIN, ZC__STATE_VERSION);
    return 3;
}

/* The fds of ZC_UPGRADE_STATE: "STATE:EXE". */
static bool state_var(int *state, int *exe)
{
    const char *v = getenv("ZC_UPGRADE_STATE");

    return v && sscanf(v, "%d:%d", state, exe) == 2 && *state > 2 &&
           fcntl(*state, F_GETFD) >= 0;
}

static void cloexec_off(int fd, void *arg)
{
    (void) arg;
    set_cloexec(&fd, 1, false);
}

static void cloexec_on(int fd, void *arg)
{
    (void) arg;
    set_cloexec(&fd, 1, true);
}

_Noreturn void zc__upgrade_back(struct zc_primary *p, struct upgrade_take *t,
                                const char *why)
{
    char var[64], *back = NULL;
    char **envp;

    zc_log(ZC_LOG_ERROR, NS,
           "cannot take the fleet over: %s; going back to "
           "the image before",
           why);
    if (t->data)
        zc__carry_each_fd(t->data, t->len, cloexec_off, NULL);
    set_cloexec(&t->state_fd, 1, false);
    snprintf(var, sizeof(var), STATE_VAR "%d:%d", t->state_fd, t->exe_fd);
    if (asprintf(&back, BACK_VAR "%s", why) < 0)
        back = NULL;
    envp = env_with(var, back);
    if (envp && t->exe_fd >= 0)
        fexecve(t->exe_fd, p->own_argv, envp);
    zc_log(ZC_LOG_ERROR, NS,
           "cannot go back to the image before (%s): the "
           "fleet is lost",
           zc_strerror(-errno));
    free(envp);
    free(back);
    _exit(1);
}

/* The running options, from their text (a configuration file's): the
 * callbacks, which text cannot hold, and the file and the overrides a
 * reload reads come from this image's caller, as at a start. */
static int load_options(struct zc_primary *p, const zc_options *given,
                        struct upgrade_take *t, char *why, size_t size)
{
    zc_options o;
    zc_config *c = NULL;

    zc_options_init(&o);
    /* Every option at its default (a library fleet's, say) is no line at
     * all, which a file may not be. */
    if (memmem(t->in.options, t->in.options_len, " = ", 3) &&
        !(c = zc__config_load_text(&o, "the running options", t->in.options,
                                   t->in.options_len, why, size)))
        return -EINVAL;
    o.primary_init = given->primary_init;
    o.sticky_hash = given->sticky_hash;
    o.sticky_hash_arg = given->sticky_hash_arg;
    o.config = NULL;
    if (t->in.config[0]) {
        free(p->upgrade_config);
        p->upgrade_config = strdup(t->in.config);
        o.config = p->upgrade_config;
    }
    o.config_overrides = given->config_overrides;
    p->opt = o;
    p->conf_owner = c;
    return 0;
}

int zc__upgrade_take(struct zc_primary *p, const zc_options *given,
                     struct upgrade_take *t)
{
    const char *back = getenv("ZC_UPGRADE_BACK");
    char why[512];
    struct stat st;
    void *map;

    *t = (struct upgrade_take) { .state_fd = -1, .exe_fd = -1 };
    if (!state_var(&t->state_fd, &t->exe_fd))
        return 0;
    if (back)
        snprintf(t->back, sizeof(t->back), "%s", back);
    /* Not for the workers, nor for a later exec of ours. */
    (void) unsetenv("ZC_UPGRADE_STATE");
    (void) unsetenv("ZC_UPGRADE_BACK");
    if (fstat(t->state_fd, &st) < 0 || st.st_size < ZC__STATE_HEADER ||
        st.st_size > ZC__STATE_MAX)
        zc__upgrade_back(p, t, "the state handed over has no valid size");
    map =
        mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, t->state_fd, 0);
    if (map == MAP_FAILED)
        zc__upgrade_back(p, t, "cannot map the state handed over");
    t->data = map;
    t->len = (size_t) st.st_size;
    if (zc__carry_read_fleet(p, t->data, t->len, &t->in, why, sizeof(why)) <
            0 ||
        load_options(p, given, t, why, sizeof(why)) < 0)
        zc__upgrade_back(p, t, why);
    free(p->exe_path);
    p->exe_path = strdup(t->in.exe_path);
    return 1;
}

/* Counts what was kept, for the line that says how it went. */
static void kept(const struct zc_primary *p, unsigned *workers, unsigned *views)
{
    *workers = *views = 0;
    for (const struct worker *w = p->workers; w; w = w->next) {
        (*workers)++;
        *views += w->metrics.map != NULL;
    }
}

void zc__upgrade_finish(struct zc_primary *p, struct upgrade_take *t)
{
    struct upgrade_info *u = &p->upgrade;
    uint64_t now = zc__now_us();
    unsigned workers, views;
    size_t sockets = p->n_listeners + zc__node_servers(p);

    zc__carry_each_fd(t->data, t->len, cloexec_on, NULL);
    if (t->exe_fd >= 0 && t->exe_fd != p->exe_fd)
        (void) close(t->exe_fd);
    (void) munmap((void *) t->data, t->len);
    (void) close(t->state_fd);
    t->data = NULL;
    /* What the openers did not take (an fd the running options no longer
     * name): closed, not leaked into the next workers. */
    if (p->carried->metrics >= 0)
        (void) close(p->carried->metrics);
    if (p->carried->control >= 0)
        (void) close(p->carried->control);
    if (p->carried->control_lock >= 0)
        (void) close(p->carried->control_lock);
    zc__carry_free(p->carried);
    p->carried = NULL;
    kept(p, &workers, &views);
    u->away_us = now > t->in.exec_us ? now - t->in.exec_us : 0;
    if (t->back[0]) {
        u->outcome = -1;
        snprintf(u->why, sizeof(u->why),
                 "upgrade %llu failed: %.220s; back "
                 "on zcluster %s, the fleet runs on as it was",
                 (unsigned long long) u->serial, t->back, ZC_VERSION);
        zc_log(ZC_LOG_ERROR, NS, "%s", u->why);
    } else {
        u->outcome = 1;
        u->count++;
        snprintf(u->why, sizeof(u->why),
                 "upgraded zcluster %s -> %s in "
                 "%.1f ms; %u worker%s, %zu socket%s, %u metrics view%s "
                 "kept",
                 u->from, ZC_VERSION, (double) u->away_us / 1000.0, workers,
                 PLURAL(workers), sockets, PLURAL(sockets), views,
                 PLURAL(views));
        zc_log(ZC_LOG_INFO, NS, "%s (%s)", u->why, t->in.by);
        if (u->reload_after) {
            u->reload_gen = p->generation + 1;
            p->pending_reload = true;
            p->pending_reload_by = "upgrade --reload";
        }
    }
    u->reload_after = false;
    /* Children that died while no image was looking: their signals are
     * pending on the signalfd too, and find nothing left to reap. */
    zc__lifecycle_reap(p);
    /* What waited in the router goes to the workers that take it now. */
    zc__router_kick(p, NULL);
    zc__notify_status(p);
}
