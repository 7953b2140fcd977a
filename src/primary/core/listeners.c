/*
 * The fleet's listening sockets: adopted from systemd's socket activation
 * (LISTEN_FDS naming our pid), then bound from the listen addresses, each
 * logged as workers will find it; closed (and unix paths unlinked) at
 * the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "primary/core/listeners.h"

#define NS ZC__PNS

static void listener_log(struct zc_primary *p, struct listener *ln,
                         const char *from)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    /* Port 0 binds an ephemeral port: log the real one. */
    if (getsockname(ln->fd, (struct sockaddr *) &ss, &len) == 0)
        zc__addr_format((struct sockaddr *) &ss, len, ln->text,
                        sizeof(ln->text));
    if (ZC__PRIMARY_ACCEPTS(p))
        zc_log(ZC_LOG_INFO, NS, "listening on %s (%s: the primary accepts, "
               "listener %zu, name %s%s%s)", ln->text, p->opt.balance ==
               ZC_BALANCE_STICKY ? "sticky" : "least-conn", p->n_listeners,
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
            zc_log(ZC_LOG_ERROR, NS,
                   "cannot start: inherited fd %d (LISTEN_FDS) "
                   "is not a listening stream socket",
                   fd);
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

/* Upgraded: the sockets the image before had, in its order (systemd's,
 * then the -l ones: the running options are the same), never bound
 * again, so no connection waiting in a backlog is lost. */
static int take_carried(struct zc_primary *p, struct carried *c)
{
    size_t k = 0;

    p->listeners = calloc(c->n_listen + 1, sizeof(*p->listeners));
    if (!p->listeners)
        return -ENOMEM;
    for (size_t i = 0; i < c->n_listen; i++) {
        struct listener *ln = &p->listeners[i];
        struct carried_listener *cl = &c->listen[i];

        ln->fd = cl->fd;
        cl->fd = -1;
        ln->adopted = cl->adopted;
        if (cl->adopted)
            snprintf(ln->addr.name, sizeof(ln->addr.name), "%s", cl->name);
        else if (k < p->opt.n_listen)
            (void) zc__addr_parse(p->opt.listen[k++], &ln->addr);
        listener_log(p, ln, ", kept across the upgrade");
    }
    return 0;
}

int zc__listeners_open(struct zc_primary *p)
{
    int inherited = zc_listen_fds(), r;

    if (p->carried)
        return take_carried(p, p->carried);

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
            r = zc__addr_listen(&ln->addr,
                                p->opt.balance == ZC_BALANCE_REUSEPORT
                                    ? ZC_LISTEN_REUSEPORT
                                    : 0,
                                &ln->fd);
        if (r < 0) {
            zc_log(ZC_LOG_ERROR, NS, "cannot listen on %s: %s",
                   p->opt.listen[i], zc__addr_unix_path(&ln->addr)
                   ? zc__unix_stale_why(r) : zc_strerror(r));
            return r;
        }
        snprintf(ln->text, sizeof(ln->text), "%s", p->opt.listen[i]);
        listener_log(p, ln, "");
    }
    return 0;
}

void zc__listeners_close(struct zc_primary *p)
{
    for (size_t i = 0; i < p->n_listeners; i++) {
        const char *path = zc__addr_unix_path(&p->listeners[i].addr);

        (void) close(p->listeners[i].fd);
        if (path && !p->listeners[i].adopted)
            (void) unlink(path);
    }
    free(p->listeners);
}
