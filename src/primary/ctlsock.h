/* The control socket's file (ctlsock.c). */
#ifndef ZC_CTLSOCK_H
#define ZC_CTLSOCK_H

#include <stdbool.h>
#include <sys/types.h>
#include <sys/un.h>

#include "primary/fleet.h"

struct zc__ctlsock {
    char path[sizeof(((struct sockaddr_un *) 0)->sun_path)];
    dev_t dev;              /* of the file we made, to remove only it */
    ino_t ino;
    bool has_group;         /* --control-group: mode 0660 and this group */
    gid_t group;
};

/*
 * Makes the socket of fleet p (zc_options.control, or the default place)
 * and listens on it with backlog. Returns 0 with *fd, 1 when the fleet
 * must run without one (said why, once), or -EADDRINUSE when a live fleet
 * has it (said).
 */
int zc__ctlsock_open(struct zc_primary *p, struct zc__ctlsock *s,
                     unsigned backlog, int *fd);
/* Removes the socket's file if it is still the one we made. */
void zc__ctlsock_remove(const struct zc__ctlsock *s);

#endif
