/*
 * The control socket's file: where it goes (proto/ctlpath.c), its
 * directory made, a stale one left by a dead fleet replaced, a live one
 * refused, its mode and group set before anyone can reach it, and at the
 * end removed, if it is still ours. control.c serves what connects.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/compat.h"
#include "base/log.h"
#include "proto/ctlpath.h"
#include "primary/ctlsock.h"

#define NS "zc:control"

/* The pid of a live fleet at path, 0 if nothing listens there (stale),
 * -errno if that cannot be told. */
static long probe(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct ucred cred;
    socklen_t len = sizeof(cred);
    long pid;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    if (fd < 0)
        return -errno;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == -1 &&
        errno != EAGAIN) {
        pid = errno == ECONNREFUSED ? 0 : -errno;
        (void) close(fd);
        return pid;
    }
    pid = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0
          ? (long) cred.pid : 1;
    (void) close(fd);
    return pid;
}

/* Binds ctl->path: 0, 1 when the fleet must run without it (said why),
 * or -EADDRINUSE when a live fleet has it (said). */
static int bind_socket(struct zc_primary *p, struct zc__ctlsock *ctl,
                       unsigned backlog, int *ret)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    mode_t mode = ctl->has_group ? 0660 : 0600, old;
    int fd, r = 0;
    long pid;

    memcpy(sa.sun_path, ctl->path, strlen(ctl->path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        r = -errno;
    /* Single-threaded: the umask is ours for the bind, so the socket is
     * never reachable with a wider mode. */
    old = umask(0777 & ~mode);
    for (int tries = 0; r == 0 && tries < 2; tries++) {
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0)
            break;
        r = -errno;
        if (r != -EADDRINUSE || tries)
            break;
        pid = probe(ctl->path);
        if (pid > 0) {
            zc_log(ZC_LOG_ERROR, NS, "cannot start: a fleet named %s is "
                   "already running, pid %ld (its control socket is %s)",
                   p->name, pid, ctl->path);
            break;
        }
        zc_log(ZC_LOG_INFO, NS, "replacing the stale control socket %s left "
               "by a fleet that is gone", ctl->path);
        r = unlink(ctl->path) == 0 ? 0 : -errno;
    }
    (void) umask(old);
    if (r == -EADDRINUSE) {
        (void) close(fd);
        return r;
    }
    if (r == 0 && ctl->has_group && chown(ctl->path, (uid_t) -1, ctl->group) == -1)
        r = -errno;
    if (r == 0 && listen(fd, (int) backlog) == -1)
        r = -errno;
    if (r < 0) {
        zc_log(ZC_LOG_WARN, NS, "no control socket: cannot create %s: %s; the "
               "fleet runs without one (zclusterctl cannot reach it; signals "
               "still work)", ctl->path, zc_strerror(r));
        if (fd >= 0)
            (void) close(fd);
        return 1;
    }
    *ret = fd;
    return 0;
}

/* Where the socket goes, its directory made: 0, or 1 to run without. */
static int place(struct zc_primary *p, struct zc__ctlsock *ctl)
{
    const char *control = p->opt.control;
    char dir[sizeof(ctl->path)], why[256];
    bool made;

    if (control) {
        snprintf(ctl->path, sizeof(ctl->path), "%s", control);
        return 0;
    }
    if (zc__control_dir(dir, sizeof(dir), &made) < 0 ||
        zc__control_path(dir, p->name, ctl->path, sizeof(ctl->path)) < 0) {
        zc_log(ZC_LOG_WARN, NS, "no control socket: its path would be too "
               "long; give --control PATH");
        return 1;
    }
    if (made && zc__control_dir_make(dir, ctl->has_group ? ctl->group
                                                         : (gid_t) -1,
                                     why, sizeof(why)) < 0) {
        zc_log(ZC_LOG_WARN, NS, "no control socket: %s; the fleet runs "
               "without one (signals still work)", why);
        return 1;
    }
    return 0;
}

int zc__ctlsock_open(struct zc_primary *p, struct zc__ctlsock *s,
                     unsigned backlog, int *fd)
{
    struct stat st;
    int r;

    *s = (struct zc__ctlsock) { .group = (gid_t) -1 };
    if (p->opt.control_group) {
        s->has_group = zc__group_parse(p->opt.control_group, &s->group) == 0;
        if (!s->has_group)
            zc_log(ZC_LOG_WARN, NS, "control group '%s' is gone: only root "
                   "and uid %lu may control the fleet", p->opt.control_group,
                   (unsigned long) geteuid());
    }
    r = place(p, s);
    if (r == 0)
        r = bind_socket(p, s, backlog, fd);
    if (r == 0 && stat(s->path, &st) == 0) {
        s->dev = st.st_dev;
        s->ino = st.st_ino;
    }
    return r;
}

void zc__ctlsock_remove(const struct zc__ctlsock *s)
{
    struct stat st;

    /* Only our own socket: a fleet started since may have replaced it. */
    if (stat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
        (void) unlink(s->path);
}
