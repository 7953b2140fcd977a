/*
 * NOTIFY_SOCKET. One datagram socket serves every worker: the kernel stamps
 * each message with the sender's pid (SO_PASSCRED), which is how a READY=1
 * is tied to its worker, and how a stranger's datagram is told apart.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto/notify.h"
#include "zcluster.h"

int zc__notify_open(int *ret_fd, char *path, size_t size)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    socklen_t len = sizeof(sa_family_t);
    int fd, one = 1, r;

    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd == -1)
        return -errno;
    /* Binding with only the family autobinds a unique abstract name: no
     * file to clean up, no name to collide with another primary. */
    if (bind(fd, (struct sockaddr *) &sa, len) == -1 ||
        setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == -1)
        goto fail_errno;
    len = sizeof(sa);
    if (getsockname(fd, (struct sockaddr *) &sa, &len) == -1)
        goto fail_errno;
    len -= (socklen_t) offsetof(struct sockaddr_un, sun_path);
    if (len < 2 || len > size) {
        r = -ENAMETOOLONG;
        goto fail;
    }
    path[0] = '@';
    memcpy(path + 1, sa.sun_path + 1, len - 1);
    path[len] = '\0';
    *ret_fd = fd;
    return 0;
fail_errno:
    r = -errno;
fail:
    (void) close(fd);
    return r;
}

/*
 * One pass over the control messages: keep the sender's credentials, and
 * close every fd that came along (FDSTORE=1 and friends): one we did not
 * ask for would stay open in the primary for good, and a worker could
 * exhaust our fd table one datagram at a time.
 */
static void read_control(struct msghdr *mh, struct ucred *cred)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level != SOL_SOCKET)
            continue;
        if (c->cmsg_type == SCM_CREDENTIALS &&
            c->cmsg_len == CMSG_LEN(sizeof(*cred))) {
            memcpy(cred, CMSG_DATA(c), sizeof(*cred));
        } else if (c->cmsg_type == SCM_RIGHTS) {
            size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

            for (size_t i = 0; i < n; i++) {
                int passed;

                memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                (void) close(passed);
            }
        }
    }
}

int zc__notify_recv(int fd, char *buf, size_t size, pid_t *ret_pid)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(struct ucred)) +
                 CMSG_SPACE(sizeof(int) * 16)];
    } control;
    struct iovec iov = { .iov_base = buf, .iov_len = size - 1 };
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = &control, .msg_controllen = sizeof(control),
    };
    struct ucred cred = { .pid = 0 };
    ssize_t n;

    /* MSG_TRUNC makes recvmsg return the real length, so an oversized
     * datagram is recognised and dropped instead of read half. */
    n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
    if (n == -1)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    read_control(&mh, &cred);
    /* No credentials means we cannot tell who sent it: never act on it. */
    if ((size_t) n >= size || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
        cred.pid <= 0)
        return -EBADMSG;
    buf[n] = '\0';
    *ret_pid = cred.pid;
    return (int) n;
}

/* Messages are newline-separated KEY=value lines (sd_notify(3)); a key
 * must match whole, so READY does not match READYX=1. */
bool zc__notify_get(const char *msg, const char *key, char *val, size_t size)
{
    size_t klen = strlen(key);

    while (*msg) {
        size_t n = strcspn(msg, "\n");

        if (n > klen && strncmp(msg, key, klen) == 0 && msg[klen] == '=') {
            if (val && size > 0) {
                size_t v = n - klen - 1;

                if (v >= size)
                    v = size - 1;
                memcpy(val, msg + klen + 1, v);
                val[v] = '\0';
            }
            return true;
        }
        msg += n;
        if (*msg == '\n')
            msg++;
    }
    return false;
}

int zc_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    size_t n;
    socklen_t len;
    int fd, r = 0;

    if (!state)
        return -EINVAL;
    if (!path || !*path)
        return 0;
    n = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sa.sun_path))
        return -EAFNOSUPPORT;   /* vsock and friends: not ours to speak */
    memcpy(sa.sun_path, path, n);
    if (path[0] == '@')
        sa.sun_path[0] = '\0';
    /* An abstract name's length is exact; a path's includes its NUL. */
    len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n +
                       (path[0] == '@' ? 0 : 1));
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd == -1)
        return -errno;
    if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
               (struct sockaddr *) &sa, len) == -1)
        r = -errno;
    (void) close(fd);
    return r;
}

int zc_self_ready(void)
{
    return zc_notify("READY=1");
}

int zc_worker_ready(void) __attribute__((alias("zc_self_ready")));
