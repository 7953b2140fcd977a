/*
 * Listen addresses. The primary binds each once and every worker inherits
 * the same socket, so a listening socket outlives any worker and no
 * connection waiting in its accept queue is lost when a worker leaves.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto/listen.h"
#include "zcluster.h"

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* "NAME=" prefix: a run of name characters followed by '='. An address
 * itself always has ':' or '[' before any '=', so this cannot misfire. */
static const char *split_name(const char *text, struct zc__addr *a)
{
    size_t n = 0;

    while (is_name_char(text[n]))
        n++;
    if (text[n] != '=' || n == 0 || n >= sizeof(a->name))
        return text;
    memcpy(a->name, text, n);
    a->name[n] = '\0';
    return text + n + 1;
}

static int parse_port(const char *s, in_port_t *ret)
{
    unsigned long v = 0;
    size_t n = 0;

    for (; s[n]; n++) {
        if (s[n] < '0' || s[n] > '9' || n >= 5)
            return -EINVAL;
        v = v * 10 + (unsigned long) (s[n] - '0');
    }
    if (n == 0 || v > 65535)
        return -EINVAL;
    *ret = htons((in_port_t) v);
    return 0;
}

static int parse_unix(const char *path, struct zc__addr *a)
{
    struct sockaddr_un *un = (struct sockaddr_un *) &a->ss;
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof(un->sun_path) || (path[0] == '@' && n == 1))
        return -EINVAL;
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, path, n);
    if (path[0] == '@') {
        /* Abstract: no NUL terminator, the length says where it ends. */
        un->sun_path[0] = '\0';
        a->len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n);
    } else {
        un->sun_path[n] = '\0';
        a->len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n + 1);
    }
    return 0;
}

static int parse_inet6(const char *text, struct zc__addr *a)
{
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &a->ss;
    const char *close = strchr(text, ']');
    char host[INET6_ADDRSTRLEN];
    size_t n;

    if (!close || close[1] != ':')
        return -EINVAL;
    n = (size_t) (close - text - 1);
    if (n == 0 || n >= sizeof(host))
        return -EINVAL;
    memcpy(host, text + 1, n);
    host[n] = '\0';
    in6->sin6_family = AF_INET6;
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
        return -EINVAL;
    a->len = sizeof(*in6);
    return parse_port(close + 2, &in6->sin6_port);
}

static int parse_inet(const char *text, struct zc__addr *a)
{
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &a->ss;
    struct sockaddr_in *in = (struct sockaddr_in *) &a->ss;
    const char *colon = strrchr(text, ':');
    const char *port = colon ? colon + 1 : text;
    char host[INET_ADDRSTRLEN];
    size_t n = colon ? (size_t) (colon - text) : 0;

    /* ":PORT", "*:PORT" and a bare "PORT" mean every interface. */
    if (n == 0 || (n == 1 && text[0] == '*')) {
        a->any = true;
        in6->sin6_family = AF_INET6;
        in6->sin6_addr = in6addr_any;
        a->len = sizeof(*in6);
        return parse_port(port, &in6->sin6_port);
    }
    if (n >= sizeof(host))
        return -EINVAL;
    memcpy(host, text, n);
    host[n] = '\0';
    in->sin_family = AF_INET;
    a->len = sizeof(*in);
    if (strcmp(host, "localhost") == 0)
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
        return -EINVAL;
    return parse_port(port, &in->sin_port);
}

int zc__addr_parse(const char *text, struct zc__addr *ret)
{
    struct zc__addr a;
    int r;

    memset(&a, 0, sizeof(a));
    strcpy(a.name, "unknown");  /* systemd's name for an unnamed socket */
    if (!text)
        return -EINVAL;
    text = split_name(text, &a);
    if (strncmp(text, "unix:", 5) == 0)
        r = parse_unix(text + 5, &a);
    else if (text[0] == '[')
        r = parse_inet6(text, &a);
    else
        r = parse_inet(text, &a);
    if (r < 0)
        return r;
    *ret = a;
    return 0;
}

int zc_address_check(const char *addr)
{
    struct zc__addr a;

    return zc__addr_parse(addr, &a);
}

const char *zc__addr_unix_path(const struct zc__addr *a)
{
    const struct sockaddr_un *un = (const struct sockaddr_un *) &a->ss;

    if (a->ss.ss_family != AF_UNIX || un->sun_path[0] == '\0')
        return NULL;
    return un->sun_path;
}

int zc__unix_clear_stale(const char *path, long *pid)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct ucred cred;
    socklen_t len = sizeof(cred);
    struct stat st;
    int fd, r;

    *pid = 0;
    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    if (lstat(path, &st) == -1)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISSOCK(st.st_mode))
        return -EEXIST;
    if (st.st_uid != geteuid())
        return -EPERM;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd == -1)
        return -errno;
    if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0 ||
        errno == EAGAIN) {
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
            *pid = (long) cred.pid;
        r = -EADDRINUSE;
    } else if (errno != ECONNREFUSED) {
        r = -errno;     /* cannot tell: not ours to remove */
    } else {
        r = unlink(path) == 0 || errno == ENOENT ? 1 : -errno;
    }
    (void) close(fd);
    return r;
}

const char *zc__unix_stale_why(int r)
{
    switch (r) {
    case -EEXIST:
        return "a file that is not a socket is there; it is left alone";
    case -EPERM: return "another user's socket is there; it is left alone";
    case -EADDRINUSE: return "a live socket is there (something listens on it)";
    default: return zc_strerror(r);
    }
}

static int set_opt(int fd, int level, int name, int value)
{
    if (setsockopt(fd, level, name, &value, sizeof(value)) == -1)
        return -errno;
    return 0;
}

static int configure(int fd, const struct zc__addr *a, int flags)
{
    int r = 0;

    if (a->ss.ss_family == AF_UNIX)
        return 0;
    r = set_opt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    if (r == 0 && (flags & ZC_LISTEN_REUSEPORT))
        r = set_opt(fd, SOL_SOCKET, SO_REUSEPORT, 1);
    /* ":PORT" takes v4 too; an explicit v6 address only v6, so that
     * "[::]:80" and "0.0.0.0:80" can be bound side by side. */
    if (r == 0 && a->ss.ss_family == AF_INET6)
        r = set_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY, a->any ? 0 : 1);
    return r;
}

static int listen_one(const struct zc__addr *a, int flags, int *ret_fd)
{
    const char *path = zc__addr_unix_path(a);
    int fd, r;

    if (path) {
        long pid;

        r = zc__unix_clear_stale(path, &pid);
        if (r < 0)
            return r;
    }
    fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1)
        return -errno;
    r = configure(fd, a, flags);
    if (r < 0)
        goto fail;
    if (bind(fd, (const struct sockaddr *) &a->ss, a->len) == -1 ||
        listen(fd, ZC__LISTEN_BACKLOG) == -1) {
        r = -errno;
        goto fail;
    }
    *ret_fd = fd;
    return 0;
fail:
    (void) close(fd);
    return r;
}

int zc__addr_listen(const struct zc__addr *a, int flags, int *ret_fd)
{
    struct zc__addr v4;
    int r = listen_one(a, flags, ret_fd);

    /* ":PORT" on a host without IPv6 falls back to 0.0.0.0. */
    if (r == -EAFNOSUPPORT && a->any) {
        struct sockaddr_in *in = (struct sockaddr_in *) &v4.ss;

        v4 = *a;
        memset(&v4.ss, 0, sizeof(v4.ss));
        in->sin_family = AF_INET;
        in->sin_port = ((const struct sockaddr_in6 *) &a->ss)->sin6_port;
        in->sin_addr.s_addr = htonl(INADDR_ANY);
        v4.len = sizeof(*in);
        r = listen_one(&v4, flags, ret_fd);
    }
    return r;
}

int zc_listen(const char *addr, int flags, int *ret_fd)
{
    struct zc__addr a;
    int r;

    if (!addr || !ret_fd)
        return -EINVAL;
    r = zc__addr_parse(addr, &a);
    if (r < 0)
        return r;
    return zc__addr_listen(&a, flags, ret_fd);
}

void zc__addr_format(const struct sockaddr *sa, socklen_t len, char *buf,
                     size_t size)
{
    char host[INET6_ADDRSTRLEN] = "?";

    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *) sa;

        (void) inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        snprintf(buf, size, "%s:%u", host, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;

        (void) inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        snprintf(buf, size, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else if (sa->sa_family == AF_UNIX) {
        const struct sockaddr_un *un = (const struct sockaddr_un *) sa;
        size_t n = len > offsetof(struct sockaddr_un, sun_path)
                       ? len - offsetof(struct sockaddr_un, sun_path) : 0;

        if (n > 0 && un->sun_path[0] == '\0')
            snprintf(buf, size, "unix:@%.*s", (int) n - 1, un->sun_path + 1);
        else
            snprintf(buf, size, "unix:%.*s", (int) strnlen(un->sun_path, n),
                     un->sun_path);
    } else {
        snprintf(buf, size, "(family %d)", sa->sa_family);
    }
}
