/* systemd's notify protocol, both ends. */
#ifndef ZC_NOTIFY_H
#define ZC_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Largest datagram taken; a longer one is dropped whole. */
#define ZC__NOTIFY_MAX 4096

/* Opens a datagram socket on a fresh abstract address and writes its
 * NOTIFY_SOCKET form ("@xxxxx") to path. Returns 0 and *ret_fd, or -errno. */
int zc__notify_open(int *ret_fd, char *path, size_t size);

/* Receives one message (NUL-terminated in buf) and its sender's pid.
 * Returns the length, -EAGAIN when none is queued, -EBADMSG for one that
 * was truncated or carried no credentials (dropped), or -errno. Any fd a
 * sender attached is closed. */
int zc__notify_recv(int fd, char *buf, size_t size, pid_t *ret_pid);

/* Finds "KEY=value" among the message's lines; copies the value into
 * val (if non-NULL). Returns true when present. */
bool zc__notify_get(const char *msg, const char *key, char *val, size_t size);

#endif
