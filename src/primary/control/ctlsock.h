/* The control socket's file (ctlsock.c). */
#ifndef ZC_CTLSOCK_H
#define ZC_CTLSOCK_H

#include <stdbool.h>
#include <sys/types.h>
#include <sys/un.h>

#include "primary/core/fleet.h"

struct zc__ctlsock {
    char path[sizeof(((struct sockaddr_un *) 0)->sun_path)];
    dev_t dev;              /* of the file we made, to remove only it */
    ino_t ino;
    bool has_group;         /* --control-group: mode 0660 and this group */
    gid_t group;
    int lock_fd;            /* PATH.lock, locked: the name is ours */
};

/*
 * Claims the fleet's name and makes its socket (zc_options.control, or
 * the default place) and listens on it with backlog. A name the user did
 * not give that another fleet holds becomes NAME-2 (p->name changes,
 * said). Returns 0 with *fd, 1 when the fleet must run without one (said
 * why, once), -EADDRINUSE when a live fleet has the name or path the user
 * gave, or -EEXIST when a file that is not a stale socket of ours is in
 * the way (said).
 */
int zc__ctlsock_open(struct zc_primary *p, struct zc__ctlsock *s,
                     unsigned backlog, int *fd);
/* Removes the socket's file if it is still the one we made, and lets the
 * name go. */
void zc__ctlsock_remove(struct zc__ctlsock *s);

#endif
