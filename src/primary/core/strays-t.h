/* What strays.c keeps: the processes and groups a worker left behind,
 * stopped and waiting for their SIGKILL deadline (the core only embeds
 * this). */
#ifndef ZC_STRAYS_T_H
#define ZC_STRAYS_T_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/loop.h"

/* Tracked at once; past it, one more is sent SIGKILL at once. */
#define ZC__STRAYS_MAX 256

struct stray {
    pid_t id;               /* a pid, or a process group */
    bool group;
    uint64_t kill_at_us;    /* its SIGKILL; 0: none (sent, or left alone) */
    char comm[16];          /* its name, for the log */
};

struct stray_table {
    struct stray v[ZC__STRAYS_MAX];
    unsigned n;
    struct zc__timer timer; /* the earliest kill_at_us */
    bool subreaper;         /* we are one: orphans come to us */
    unsigned long long since_ticks; /* when we became one (since boot) */
};

#endif
