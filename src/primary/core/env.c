/*
 * What a worker process is given: its environment (the worker protocol of
 * docs/protocol.md) and the path of what it executes. Both are worked out
 * before fork, so the child only makes system calls.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "primary/core/env.h"
#include "primary/core/output.h"

static const char *const protocol_vars[] = {
    "LISTEN_FDS=",
    "LISTEN_PID=",
    "LISTEN_FDNAMES=",
    "NOTIFY_SOCKET=",
    "ZC_WORKER_ID=",
    "ZC_WORKER_SLOT=",
    "ZC_GENERATION=",
    "ZC_IPC_FD=",
    "ZC_IPC_MAX_MESSAGE=",
    "ZC_METRICS_FD=",
    "ZC_STICKY=",
    /* a zcluster started by a Node primary must not hand its channel on */
    "NODE_CHANNEL_FD=",
    "NODE_UNIQUE_ID=",
    "NODE_CHANNEL_SERIALIZATION_MODE=",
    /* our own manager's watchdog is ours, not the workers' */
    "WATCHDOG_USEC=",
    "WATCHDOG_PID=",
    /* how their lines are written is this fleet's to say */
    "ZC_OUTPUT=",
    "ZC_LOG_FORMAT=",
    /* an upgrade's, between one image of the primary and the next */
    "ZC_UPGRADE_STATE=",
    "ZC_UPGRADE_CHECK=",
    "ZC_UPGRADE_BACK=",
};

bool zc__env_reserved(const char *e)
{
    for (size_t i = 0; i < sizeof(protocol_vars) / sizeof(protocol_vars[0]);
         i++)
        if (strncmp(e, protocol_vars[i], strlen(protocol_vars[i])) == 0)
            return true;
    return false;
}

/* Listening sockets a worker gets: none when the primary accepts
 * (sticky, least-conn). */
size_t zc__env_worker_listeners(const struct zc_primary *p)
{
    return ZC__PRIMARY_ACCEPTS(p) ? 0 : p->n_listeners;
}

/* The variables the primary inherited are passed on, except the
 * protocol's own: a zcluster run by systemd (or by another zcluster) must
 * not hand its own LISTEN_FDS or NOTIFY_SOCKET down to its workers. */
/* Whether --env gives the variable of e (KEY=VALUE): it takes its place. */
static bool given(const struct zc_primary *p, const char *e)
{
    size_t k = strcspn(e, "=");

    for (size_t i = 0; i < p->opt.n_env; i++)
        if (strncmp(p->opt.env[i], e, k) == 0 && p->opt.env[i][k] == '=')
            return true;
    return false;
}

void zc__env_free(struct zc_primary *p)
{
    free(p->env.envp);
    free(p->env.fdnames);
    free(p->env.sticky);
    p->env.envp = NULL;
    p->env.fdnames = NULL;
    p->env.sticky = NULL;
}

int zc__env_init(struct zc_primary *p)
{
    struct worker_env *e = &p->env;
    size_t n = p->opt.n_env, len = sizeof("LISTEN_FDNAMES=");
    char **ep;

    zc__env_free(p);
    for (char **v = environ; *v; v++)
        n++;
    e->envp = calloc(n + 26, sizeof(*e->envp)); /* ours: 19 at most */
    for (size_t i = 0; i < p->n_listeners; i++)
        len += strlen(p->listeners[i].addr.name) + 1;
    e->fdnames = malloc(len);
    if (!e->envp || !e->fdnames)
        return -ENOMEM;
    ep = e->envp;
    for (char **v = environ; *v; v++)
        if (!zc__env_reserved(*v) && !given(p, *v))
            *ep++ = *v;
    for (size_t i = 0; i < p->opt.n_env; i++)
        *ep++ = (char *) p->opt.env[i];
    /* Their lines are named by us: their own logs need not say their
     * time and pid (base/log.c); they log in the fleet's format. */
    if (p->output)
        *ep++ = (char *) (strcmp(zc__output_mode(p), "json") == 0
                              ? "ZC_OUTPUT=json"
                              : "ZC_OUTPUT=prefix");
    if (p->opt.log_format == ZC_LOG_FORMAT_JSON)
        *ep++ = (char *) "ZC_LOG_FORMAT=json";
    e->n_base = (size_t) (ep - e->envp);
    strcpy(e->fdnames, "LISTEN_FDNAMES=");
    for (size_t i = 0; i < p->n_listeners; i++) {
        if (i)
            strcat(e->fdnames, ":");
        strcat(e->fdnames, p->listeners[i].addr.name);
    }
    snprintf(e->listen_fds, sizeof(e->listen_fds), "LISTEN_FDS=%zu",
             p->n_listeners);
    /* The primary accepts: it keeps the sockets, and the names say what the
     * listener index of a handed-off connection means. */
    if (ZC__PRIMARY_ACCEPTS(p)) {
        e->sticky = malloc(len);
        if (!e->sticky)
            return -ENOMEM;
        sprintf(e->sticky, "ZC_STICKY=%s",
                e->fdnames + strlen("LISTEN_FDNAMES="));
    }
    /* Only the child's copy of this buffer ever gets the digits. */
    strcpy(e->listen_pid, "LISTEN_PID=");
    strcpy(e->watchdog_pid, "WATCHDOG_PID=");
    snprintf(e->watchdog_usec, sizeof(e->watchdog_usec), "WATCHDOG_USEC=%llu",
             (unsigned long long) p->opt.watchdog_ms * 1000ull);
    /* The link comes right after the listeners in the fd plan. */
    snprintf(e->ipc_fd, sizeof(e->ipc_fd), "ZC_IPC_FD=%zu",
             3 + zc__env_worker_listeners(p));
    snprintf(e->ipc_max, sizeof(e->ipc_max), "ZC_IPC_MAX_MESSAGE=%u",
             p->opt.ipc_max_message);
    /* --node: the same link is the worker's Node channel. */
    snprintf(e->node_fd, sizeof(e->node_fd), "NODE_CHANNEL_FD=%zu",
             3 + zc__env_worker_listeners(p));
    /* The shared metrics registry, when there is one, comes after it. */
    snprintf(e->metrics_fd, sizeof(e->metrics_fd), "ZC_METRICS_FD=%zu",
             4 + zc__env_worker_listeners(p));
    return 0;
}

/* Fills in the per-worker values; returns where LISTEN_PID's value goes,
 * and where WATCHDOG_PID's does in *watchdog_pid (NULL: none). */
char *zc__env_prepare(struct zc_primary *p, const struct worker *w,
                      bool metrics, char **watchdog_pid)
{
    struct worker_env *e = &p->env;
    char **ep = e->envp + e->n_base;
    char *pid_value = NULL;

    if (e->sticky)
        *ep++ = e->sticky;
    if (zc__env_worker_listeners(p)) {
        *ep++ = e->listen_fds;
        *ep++ = e->fdnames;
        pid_value = e->listen_pid + strlen("LISTEN_PID=");
        *ep++ = e->listen_pid;
    }
    *ep++ = e->notify;
    *watchdog_pid = NULL;
    if (p->opt.watchdog_ms) {
        *ep++ = e->watchdog_usec;
        *ep++ = e->watchdog_pid;
        *watchdog_pid = e->watchdog_pid + strlen("WATCHDOG_PID=");
    }
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
    if (p->opt.node) {
        snprintf(e->node_id, sizeof(e->node_id), "NODE_UNIQUE_ID=%llu",
                 (unsigned long long) w->id);
        *ep++ = e->node_fd;
        *ep++ = e->node_id;
        *ep++ = (char *) "NODE_CHANNEL_SERIALIZATION_MODE=json";
    }
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

int zc__env_resolve_exec(struct zc_primary *p, char *buf, size_t size)
{
    const char *name = p->self_path ? p->self_path : p->argv[0];

    if (strchr(name, '/')) {
        if (snprintf(buf, size, "%s", name) >= (int) size)
            return -ENAMETOOLONG;
        return 0;
    }
    return find_in_path(name, buf, size);
}

/* path made absolute against today's directory, symlinks kept: a deploy
 * that re-points "current -> release-N" is then seen by the next exec. */
static int absolute(const char *path, char **out)
{
    char cwd[PATH_MAX];

    if (path[0] == '/') {
        *out = strdup(path);
    } else {
        if (!getcwd(cwd, sizeof(cwd)))
            return -errno;
        if (asprintf(out, "%s/%s", cwd, path) == -1)
            *out = NULL;
    }
    return *out ? 0 : -ENOMEM;
}

int zc__env_self_path(struct zc_primary *p, const char *argv0)
{
    if (!argv0 || !*argv0) {
        p->self_path = strdup("/proc/self/exe");
        return p->self_path ? 0 : -ENOMEM;
    }
    if (!strchr(argv0, '/'))
        return 0;
    return absolute(argv0, &p->self_path);
}

int zc__env_own_path(const char *argv0, char **out)
{
    char buf[PATH_MAX];
    int r;

    *out = NULL;
    if (!argv0 || !*argv0)
        return -ENOENT;
    if (!strchr(argv0, '/')) {
        r = find_in_path(argv0, buf, sizeof(buf));
        if (r < 0)
            return r;
        argv0 = buf;
    }
    return absolute(argv0, out);
}
