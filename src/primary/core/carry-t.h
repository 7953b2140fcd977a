/*
 * What a primary image handed to the one it executed (loop/upgrade.c):
 * the fds that are the fleet's addresses, by role, for the code that
 * would otherwise make them (listeners.c, ctlsock.c, endpoint.c, run.c)
 * to take instead. NULL in a primary that started fresh. Each field is
 * -1 when nothing was handed over for it, and set to -1 once taken.
 */
#ifndef ZC_CARRY_T_H
#define ZC_CARRY_T_H

#include <stdbool.h>
#include <sys/types.h>
#include <sys/un.h>

#include "proto/roundrobin.h"
#include "zcluster.h"

#define ZC__SUN_PATH sizeof(((struct sockaddr_un *) 0)->sun_path)

struct carried_listener {
    int fd;
    bool adopted;  /* systemd's: not ours to unlink */
    char name[64]; /* LISTEN_FDNAMES' name, when adopted */
    /* --balance reuseport: its group, group[k] slot k's socket (-1 for
     * one abandoned), and the round-robin program and maps, if any */
    int *group;
    unsigned n_group;
    struct zc__rr rr;
};

struct carried {
    struct carried_listener listen[ZC_MAX_LISTEN];
    size_t n_listen;
    int notify;
    char notify_path[ZC__SUN_PATH];
    int control, control_lock;
    char control_path[ZC__SUN_PATH];
    char name[65]; /* the fleet's, suffix and all */
    int metrics;
    /* the spread as it was (balance.c takes it): the slots steered to,
     * whether a program is attached and which, its counters */
    unsigned *live;
    unsigned n_live;
    bool round_robin, steered, said_no_steering, migrate;
    uint64_t counts[8];
};

#endif
