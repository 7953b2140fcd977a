/*
 * The control socket's file: where it goes (proto/ctlpath.c), its
 * directory made, the fleet's name claimed, a stale socket left by a dead
 * fleet replaced, a live one refused, its mode and group set before anyone
 * can reach it, and at the end removed, if it is still ours. control.c
 * serves what connects.
 *
 * A name is claimed with a lock on PATH.lock (flock, held for the fleet's
 * life, released by the kernel if it dies): two primaries that start at
 * the same moment cannot both take it, as they could by probing the socket
 * and replacing it. Whoever holds the lock owns the socket's path, so a
 * socket found there without a holder is stale.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/compat.h"
#include "base/creds.h"
#include "base/log.h"
#include "primary/control/ctlsock.h"
#include "proto/ctlpath.h"
#include "proto/listen.h"

#define NS "zc:control"
#define LOCK_SUFFIX ".lock"
/* A name the user did not give that is taken becomes NAME-2 ... NAME-N. */
#define MAX_SUFFIX 99

static int lock_path(const char *path, char *out, size_t size)
{
    int n = snprintf(out, size, "%s" LOCK_SUFFIX, path);

    return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

/*
 * Takes the lock of path's name: 0 with s->lock_fd, -EADDRINUSE when a
 * live fleet holds it (*holder its pid, or 0 if unknown), or -errno when
 * it cannot be made (the fleet runs without a socket).
 */
static int claim(struct zc__ctlsock *s, long *holder)
{
    char lock[sizeof(s->path) + sizeof(LOCK_SUFFIX)], text[24];
    struct stat a, b;
    int fd, r;
    ssize_t n;

    *holder = 0;
    r = lock_path(s->path, lock, sizeof(lock));
    if (r < 0)
        return r;
    /* The holder unlinks its lock file as it ends; a lock taken on the
     * file it unlinked is worth nothing, so the file must still be the
     * one at the path once locked. */
    for (int tries = 0; tries < 8; tries++) {
        fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd == -1)
            return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
            r = errno == EWOULDBLOCK ? -EADDRINUSE : -errno;
            n = pread(fd, text, sizeof(text) - 1, 0);
            if (n > 0) {
                text[n] = '\0';
                *holder = atol(text);
            }
            (void) close(fd);
            return r;
        }
        if (fstat(fd, &a) == 0 && stat(lock, &b) == 0 && a.st_dev == b.st_dev &&
            a.st_ino == b.st_ino) {
            n = snprintf(text, sizeof(text), "%ld\n", (long) getpid());
            if (ftruncate(fd, 0) == -1 || pwrite(fd, text, (size_t) n, 0) != n)
                zc_log(ZC_LOG_DEBUG, NS, "cannot write our pid in %s", lock);
            s->lock_fd = fd;
            return 0;
        }
        (void) close(fd);
    }
    return -EAGAIN;
}

static void release(struct zc__ctlsock *s)
{
    char lock[sizeof(s->path) + sizeof(LOCK_SUFFIX)];

    if (s->lock_fd < 0)
        return;
    /* Unlinked while still held: the next one to lock it makes a new one. */
    if (lock_path(s->path, lock, sizeof(lock)) == 0)
        (void) unlink(lock);
    (void) close(s->lock_fd);
    s->lock_fd = -1;
}

/* What is at path may be replaced by our socket: the rule -l unix:PATH
 * follows too (proto/listen.c). Returns 0, -EADDRINUSE with *pid (a live
 * fleet of a zcluster that takes no lock), or another refusal. */
static int replaceable(const char *path, long *pid)
{
    int r = zc__unix_clear_stale(path, pid);

    if (r == 1)
        zc_log(ZC_LOG_INFO, NS, "replacing the stale control socket %s left "
               "by a fleet that is gone", path);
    return r < 0 ? r : 0;
}

/* Binds s->path (claimed): 0 with *ret, or -errno. */
static int bind_socket(struct zc__ctlsock *s, unsigned backlog, int *ret)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    mode_t mode = s->has_group ? 0660 : 0600, old;
    int fd, r = 0;

    memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    /* Single-threaded: the umask is ours for the bind, so the socket is
     * never reachable with a wider mode. */
    old = umask(0777 & ~mode);
    if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) == -1)
        r = -errno;
    (void) umask(old);
    if (r == 0 && s->has_group && chown(s->path, (uid_t) -1, s->group) == -1)
        r = -errno;
    if (r == 0 && listen(fd, (int) backlog) == -1)
        r = -errno;
    if (r < 0) {
        (void) close(fd);
        return r;
    }
    *ret = fd;
    return 0;
}

/*
 * Members of the control group must get through every directory above
 * the socket: one that lets only its owner in makes --control-group do
 * nothing, whatever the socket's mode. Said, with what to do.
 */
static void check_reach(const struct zc__ctlsock *s, const char *group)
{
    char dir[sizeof(s->path)];
    struct stat st;
    char *slash;

    if (!s->has_group)
        return;
    snprintf(dir, sizeof(dir), "%s", s->path);
    while ((slash = strrchr(dir, '/')) && slash != dir) {
        *slash = '\0';
        if (stat(dir, &st) == -1)
            return;
        if ((st.st_mode & 0001) ||
            (st.st_gid == s->group && (st.st_mode & 0010)))
            continue;
        zc_log(ZC_LOG_WARN, NS, "members of %s cannot reach the control "
               "socket: %s (mode %04o, uid %lu) does not let them through; "
               "give --control PATH in a directory they can enter", group,
               dir, (unsigned) (st.st_mode & 0777), (unsigned long) st.st_uid);
        return;
    }
}

/* Where the sockets go by default, the directory made: 0, or 1 to run
 * without a socket (said why). */
static int place_dir(const struct zc__ctlsock *s, char *dir, size_t size)
{
    char why[256];
    mode_t mode, was;
    bool made;

    if (zc__control_dir(dir, size, &made) < 0) {
        zc_log(ZC_LOG_WARN, NS, "no control socket: its path would be too "
               "long; give --control PATH");
        return 1;
    }
    if (!made)
        return 0;
    /* Root's place is everyone's to look in; a user's own, only theirs
     * (to pass through, with a group). */
    mode = strcmp(dir, ZC__CONTROL_SYSTEM_DIR) == 0 ? 0755
         : s->has_group ? 0711 : 0700;
    if (zc__control_dir_make(dir, mode, why, sizeof(why), &was) < 0) {
        zc_log(ZC_LOG_WARN, NS, "no control socket: %s; the fleet runs "
               "without one (signals still work)", why);
        return 1;
    }
    if (was)
        zc_log(ZC_LOG_INFO, NS, "%s was mode %04o: made it %04o, so that "
               "each control socket's own mode says who may use it", dir,
               (unsigned) was, (unsigned) ((was | mode) & 0777));
    return 0;
}

/*
 * Claims the name and binds its socket at s->path. Returns 0, -EADDRINUSE
 * (taken: *holder its pid, 0 if unknown), 1 to run without a socket (said),
 * or -EEXIST (refused, said).
 */
static int take(struct zc_primary *p, struct zc__ctlsock *s, unsigned backlog,
                int *fd, long *holder)
{
    int r = claim(s, holder);

    if (r == 0) {
        r = replaceable(s->path, holder);
        /* Something that is not ours at the path: never removed, and the
         * fleet does not start in its stead. */
        if (r == -EEXIST || r == -EPERM) {
            zc_log(ZC_LOG_ERROR, NS, "cannot start fleet %s: its control "
                   "socket %s: %s (remove it, or give --control PATH or "
                   "--name)", p->name, s->path, zc__unix_stale_why(r));
            release(s);
            return -EEXIST;
        }
        if (r == 0)
            r = bind_socket(s, backlog, fd);
        if (r < 0)
            release(s);
    }
    if (r == 0 || r == -EADDRINUSE)
        return r;
    zc_log(ZC_LOG_WARN, NS, "no control socket: cannot create %s: %s; the "
           "fleet runs without one (zclusterctl cannot reach it; signals "
           "still work)", s->path, zc_strerror(r));
    return 1;
}

static void say_taken(struct zc_primary *p, const struct zc__ctlsock *s,
                      long pid)
{
    char who[32] = "";

    if (pid > 0)
        snprintf(who, sizeof(who), ", pid %ld", pid);
    zc_log(ZC_LOG_ERROR, NS, "cannot start: a fleet named %s is already "
           "running%s (its control socket is %s); give this one another "
           "%s", p->name, who, s->path, p->opt.control ? "--control PATH"
                                                         : "--name");
}

/* Upgraded: the socket, its lock and the fleet's name as they were; the
 * socket was never closed, so a client connecting meanwhile waited in
 * its backlog. */
static int take_carried(struct zc_primary *p, struct zc__ctlsock *s, int *fd)
{
    struct carried *c = p->carried;
    struct stat st;

    snprintf(s->path, sizeof(s->path), "%s", c->control_path);
    snprintf(p->name, sizeof(p->name), "%s", c->name);
    *fd = c->control;
    s->lock_fd = c->control_lock;
    c->control = c->control_lock = -1;
    if (p->opt.control_group)
        s->has_group = zc__group_parse(p->opt.control_group, &s->group) == 0;
    if (stat(s->path, &st) == 0) {
        s->dev = st.st_dev;
        s->ino = st.st_ino;
    }
    return 0;
}

int zc__ctlsock_open(struct zc_primary *p, struct zc__ctlsock *s,
                     unsigned backlog, int *fd)
{
    char dir[sizeof(s->path)], base[sizeof(p->name)];
    struct stat st;
    long holder = 0;
    int r;

    *s = (struct zc__ctlsock) { .group = (gid_t) -1, .lock_fd = -1 };
    if (p->carried && p->carried->control >= 0)
        return take_carried(p, s, fd);
    if (p->opt.control_group) {
        s->has_group = zc__group_parse(p->opt.control_group, &s->group) == 0;
        if (!s->has_group)
            zc_log(ZC_LOG_WARN, NS, "control group '%s' is gone: only root "
                   "and uid %lu may control the fleet", p->opt.control_group,
                   (unsigned long) geteuid());
    }
    if (p->opt.control) {
        snprintf(s->path, sizeof(s->path), "%s", p->opt.control);
        r = take(p, s, backlog, fd, &holder);
    } else {
        long first = 0;

        if (place_dir(s, dir, sizeof(dir)) != 0)
            return 1;
        snprintf(base, sizeof(base), "%s", p->name);
        for (unsigned k = 1; ; k++) {
            if (k > 1) {
                char suffix[8];

                /* k stays under MAX_SUFFIX: the modulo only shows the
                 * compiler the width (-Wformat-truncation). */
                snprintf(suffix, sizeof(suffix), "-%u", k % (MAX_SUFFIX + 1));
                snprintf(p->name, sizeof(p->name), "%.*s%s",
                         (int) (sizeof(p->name) - sizeof(suffix)), base,
                         suffix);
            }
            if (zc__control_path(dir, p->name, s->path, sizeof(s->path)) < 0) {
                zc_log(ZC_LOG_WARN, NS, "no control socket: its path would "
                       "be too long; give --control PATH");
                return 1;
            }
            r = take(p, s, backlog, fd, &holder);
            if (k == 1)
                first = holder;
            /* Only a name the user did not give moves aside. */
            if (r != -EADDRINUSE || p->opt.name || k == MAX_SUFFIX)
                break;
        }
        if (r == 0 && strcmp(base, p->name) != 0)
            zc_log(ZC_LOG_WARN, NS, "fleet name %s is taken (pid %ld): this "
                   "fleet is %s (give --name to choose one)", base, first,
                   p->name);
    }
    if (r == -EADDRINUSE)
        say_taken(p, s, holder);
    if (r != 0)
        return r;
    check_reach(s, p->opt.control_group);
    if (stat(s->path, &st) == 0) {
        s->dev = st.st_dev;
        s->ino = st.st_ino;
    }
    return 0;
}

void zc__ctlsock_remove(struct zc__ctlsock *s)
{
    struct stat st;

    /* Only our own socket: a fleet started since may have replaced it. */
    if (stat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
        (void) unlink(s->path);
    release(s);
}
