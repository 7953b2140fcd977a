/* Listen addresses: parsing, binding, formatting. */
#ifndef ZC_LISTEN_H
#define ZC_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define ZC__FDNAME_MAX 64
#define ZC__ADDR_TEXT_MAX 128
/* Every listening socket's; the kernel caps it at net.core.somaxconn. */
#define ZC__LISTEN_BACKLOG 4096

struct zc__addr {
    char name[ZC__FDNAME_MAX];  /* its LISTEN_FDNAMES entry */
    struct sockaddr_storage ss;
    socklen_t len;
    bool any;                   /* ":PORT": dual-stack [::], else 0.0.0.0 */
};

/* Parses the zc_options.listen syntax. Returns 0 or -EINVAL. */
int zc__addr_parse(const char *text, struct zc__addr *ret);

/* Binds and listens. Returns 0 with *ret_fd (CLOEXEC, blocking) or -errno.
 * flags: ZC_LISTEN_*. */
int zc__addr_listen(const struct zc__addr *a, int flags, int *ret_fd);

/* "127.0.0.1:80", "[::1]:80", "unix:/run/x.sock", "unix:@name". */
void zc__addr_format(const struct sockaddr *sa, socklen_t len, char *buf,
                     size_t size);

/* The filesystem path of a unix address, or NULL (abstract, not unix). */
const char *zc__addr_unix_path(const struct zc__addr *a);
/*
 * The one rule for a unix socket's path, for -l unix:PATH and the control
 * socket alike: nothing there (0), or a socket of our own user that nobody
 * listens on, a stale one, which is removed (1). Anything else is left
 * alone: a live socket is -EADDRINUSE (*pid its owner's, 0 if unknown), a
 * file that is not a socket -EEXIST, another user's socket -EPERM, one we
 * cannot tell about (EACCES, ...) -errno.
 */
int zc__unix_clear_stale(const char *path, long *pid);
/* What zc__unix_clear_stale()'s refusal r means, for a log line. */
const char *zc__unix_stale_why(int r);

#endif
