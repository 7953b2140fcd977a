/*
 * The control socket's client side (zcluster.h, "The control socket's
 * client side"): find a fleet, send one request, hand the answer's lines
 * to the caller as they arrive, and read a field of a JSON line.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/loop.h"
#include "client/http.h"
#include "proto/ctlpath.h"
#include "proto/json.h"
#include "zcluster.h"

/* DIR/NAME/NAME.sock: a unit's RuntimeDirectory=zcluster/NAME. */
static int nested_path(const char *dir, const char *name, char *out,
                       size_t size)
{
    char sub[sizeof(((struct sockaddr_un *) 0)->sun_path)];
    int n = snprintf(sub, sizeof(sub), "%s/%s", dir, name);

    if (n < 0 || (size_t) n >= sizeof(sub))
        return -ENAMETOOLONG;
    return zc__control_path(sub, name, out, size);
}

/* Where fleet name's socket may be: this user's place first, then root's
 * (ZC__CONTROL_SYSTEM_DIR), each as DIR/NAME.sock and as DIR/NAME/NAME.sock
 * (a unit's RuntimeDirectory=zcluster/NAME). The i-th of them: 0, 1 past
 * the last, or -errno. */
static int candidate(const char *name, unsigned i, char *out, size_t size)
{
    char dir[sizeof(((struct sockaddr_un *) 0)->sun_path)];
    bool made;
    int r;

    if (i >= 4)
        return 1;
    if (i < 2) {
        r = zc__control_dir(dir, sizeof(dir), &made);
        if (r < 0)
            return r;
    } else {
        snprintf(dir, sizeof(dir), "%s", ZC__CONTROL_SYSTEM_DIR);
    }
    return i % 2 ? nested_path(dir, name, out, size)
                 : zc__control_path(dir, name, out, size);
}

int zc_control_path(const char *name, char *path, size_t size)
{
    char p[sizeof(((struct sockaddr_un *) 0)->sun_path)];
    struct stat st;
    int r;

    if (!zc__control_name_ok(name))
        return -EINVAL;
    r = candidate(name, 0, path, size);
    if (r < 0)
        return r;
    /* Not there: the next place that has it, if any. */
    for (unsigned i = 0; candidate(name, i, p, sizeof(p)) == 0; i++)
        if ((lstat(p, &st) == 0 || errno == EACCES) && strlen(p) < size) {
            memcpy(path, p, strlen(p) + 1);
            break;
        }
    return 0;
}

/*
 * A socket in a directory anybody may write to could be anybody's: one
 * planted there would be told our requests and answer them. Trusted only
 * where others cannot replace it: the directory's sticky bit, and the
 * socket ours or root's.
 */
static bool trusted_place(const char *path)
{
    char dir[sizeof(((struct sockaddr_un *) 0)->sun_path)];
    const char *slash = strrchr(path, '/');
    struct stat d, s;

    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else
        snprintf(dir, sizeof(dir), "%.*s",
                 slash == path ? 1 : (int) (slash - path), path);
    if (stat(dir, &d) == -1 || !(d.st_mode & S_IWOTH))
        return true;
    return (d.st_mode & S_ISVTX) && lstat(path, &s) == 0 &&
           (s.st_uid == geteuid() || s.st_uid == 0);
}

/* A connected socket to path, or -errno. */
static int dial(const char *path, int timeout_ms)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    if (!trusted_place(path))
        return -EPERM;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == -1) {
        int e = errno;

        /* A full backlog: the fleet is there but busy. */
        if (e == EAGAIN) {
            struct pollfd pf = { .fd = fd, .events = POLLOUT };

            if (poll(&pf, 1, timeout_ms > 0 ? timeout_ms : 5000) == 1)
                return fd;
            e = ETIMEDOUT;
        }
        (void) close(fd);
        return -e;
    }
    return fd;
}

static long peer_pid(int fd)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);

    return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0
           ? (long) cred.pid : 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const zc_control_fleet *) a)->name,
                  ((const zc_control_fleet *) b)->name);
}

/* Adds the fleet of socket path (called name) if it answers. */
static void add_fleet(const char *name, const char *path,
                      zc_control_fleet *out, size_t max, size_t *n)
{
    zc_control_fleet f = { .pid = 0 };
    int fd;

    if (strlen(path) >= sizeof(f.path))
        return;
    snprintf(f.name, sizeof(f.name), "%s", name);
    memcpy(f.path, path, strlen(path) + 1);
    for (size_t i = 0; i < *n && i < max; i++)
        if (strcmp(out[i].name, f.name) == 0)
            return;         /* the direct socket wins over a nested one */
    fd = dial(f.path, 1000);
    if (fd < 0)
        return;             /* stale: its fleet is gone */
    f.pid = peer_pid(fd);
    (void) close(fd);
    if (*n < max)
        out[*n] = f;
    (*n)++;
}

/* Each DIR/NAME.sock, and each DIR/NAME/NAME.sock (a unit's
 * RuntimeDirectory=zcluster/NAME), second. */
static int list_dir(const char *dir, zc_control_fleet *out, size_t max,
                    size_t *n)
{
    char path[sizeof(((zc_control_fleet *) 0)->path)];
    char name[ZC_CONTROL_NAME_MAX + 1];
    struct dirent *e;
    DIR *d;

    for (int pass = 0; pass < 2; pass++) {
        d = opendir(dir);
        if (!d)
            return -errno;
        while ((e = readdir(d))) {
            if (pass == 0 &&
                zc__control_name_of(e->d_name, name, sizeof(name)) &&
                zc__control_path(dir, name, path, sizeof(path)) == 0)
                add_fleet(name, path, out, max, n);
            else if (pass == 1 && zc__control_name_ok(e->d_name) &&
                     nested_path(dir, e->d_name, path, sizeof(path)) == 0)
                add_fleet(e->d_name, path, out, max, n);
        }
        (void) closedir(d);
    }
    return 0;
}

/* This user's place, then root's: the fleets that answer. */
int zc_control_list(zc_control_fleet *out, size_t max, size_t *n)
{
    char dir[sizeof(((zc_control_fleet *) 0)->path)];
    bool made;
    int r = zc__control_dir(dir, sizeof(dir), &made), own;

    *n = 0;
    if (r < 0)
        return r;
    own = list_dir(dir, out, max, n);
    if (strcmp(dir, ZC__CONTROL_SYSTEM_DIR) != 0)
        r = list_dir(ZC__CONTROL_SYSTEM_DIR, out, max, n);
    if (*n)
        qsort(out, *n < max ? *n : max, sizeof(*out), by_name);
    return own < 0 && r < 0 ? own : 0;
}

static int send_all(int fd, const char *s, size_t n, uint64_t deadline_us)
{
    while (n) {
        ssize_t k = send(fd, s, n, MSG_NOSIGNAL);

        if (k > 0) {
            s += k;
            n -= (size_t) k;
        } else if (k == -1 && errno == EAGAIN) {
            struct pollfd pf = { .fd = fd, .events = POLLOUT };
            uint64_t now = zc__now_us();
            int ms = deadline_us ? (deadline_us > now
                     ? (int) ((deadline_us - now + 999) / 1000) : 0) : -1;

            if (poll(&pf, 1, ms) == 0)
                return -ETIMEDOUT;
        } else if (k == -1 && errno != EINTR) {
            return -errno;
        }
    }
    return 0;
}

int zc_control_request(const char *path, const char *method,
                       const char *target, uint32_t timeout_ms,
                       zc_control_line_fn fn, void *userdata)
{
    uint64_t deadline = timeout_ms ? zc__now_us() + timeout_ms * 1000ull : 0;
    struct zc__reader rd;
    char req[1024], buf[16384];
    int fd, n, r = 0;

    if (!path || !method || !target || !fn || target[0] != '/')
        return -EINVAL;
    n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: zcluster\r\n"
                 "User-Agent: zclusterctl/" ZC_VERSION "\r\n"
                 "Connection: close\r\n\r\n", method, target);
    if (n < 0 || (size_t) n >= sizeof(req))
        return -E2BIG;
    fd = dial(path, (int) timeout_ms);
    if (fd < 0)
        return fd;
    r = send_all(fd, req, (size_t) n, deadline);
    zc__reader_init(&rd, fn, userdata);
    while (r == 0) {
        ssize_t k = recv(fd, buf, sizeof(buf), 0);

        if (k > 0) {
            r = zc__reader_feed(&rd, buf, (size_t) k);
        } else if (k == 0) {
            r = zc__reader_eof(&rd);
        } else if (errno == EAGAIN) {
            struct pollfd pf = { .fd = fd, .events = POLLIN };
            uint64_t now = zc__now_us();
            int ms = deadline ? (deadline > now
                     ? (int) ((deadline - now + 999) / 1000) : 0) : -1;

            if (poll(&pf, 1, ms) == 0)
                r = -ETIMEDOUT;
        } else if (errno == ECONNRESET) {
            r = -EPROTO;
        } else if (errno != EINTR) {
            r = -errno;
        }
    }
    zc__reader_free(&rd);
    (void) close(fd);
    return r == 1 ? rd.status : r;
}

int zc_control_field(const char *json, size_t len, const char *key, char *out,
                     size_t size)
{
    if (!json || !key || !out || !size)
        return -EINVAL;
    return zc__json_field(json, len, key, out, size);
}
