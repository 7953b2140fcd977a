/* Round-robin over the live sockets of a SO_REUSEPORT group, in the
 * kernel, with eBPF (roundrobin.c). */
#ifndef ZC_ROUNDROBIN_H
#define ZC_ROUNDROBIN_H

#include <stdint.h>

/* The most sockets one group can name (the steering maps' size). */
#define ZC__RR_MAX 4096

struct zc__rr {
    int prog;                   /* the program; -1: none */
    int socks; /* REUSEPORT_SOCKARRAY: index k, socket of slot k */
    int state;                  /* ARRAY of one: counter, n_live, live[] */
    int counts;                 /* ARRAY: connections sent to each slot */
};

/* A group with nothing open: what zc__rr_open starts from and
 * zc__rr_close leaves. */
#define ZC__RR_CLOSED                                      \
    (struct zc__rr)                                        \
    {                                                      \
        .prog = -1, .socks = -1, .state = -1, .counts = -1 \
    }

/*
 * Makes the maps and loads the program for one group (up to ZC__RR_MAX
 * sockets). Returns 0, or -errno with rr left closed: -EPERM without
 * CAP_BPF (or CAP_SYS_ADMIN), -EINVAL or -ENOTSUP where the kernel lacks
 * a part (atomic fetch-add, the reuseport program type: the kernel's own
 * ENOTSUPP, 524, is returned as -ENOTSUP). Nothing is
 * steered until zc__rr_attach.
 */
int zc__rr_open(struct zc__rr *rr);

/* Slot k's socket goes at index k; fd must listen, with SO_REUSEPORT. */
int zc__rr_add(struct zc__rr *rr, unsigned index, int fd);

/* From now on new connections go round live[0..n) (indexes given to
 * zc__rr_add); n 0: the kernel's own hash over every socket. */
int zc__rr_live(struct zc__rr *rr, const unsigned *live, unsigned n);

/* The connections the program has sent to slot index (zc__rr_add's),
 * since the group's maps were made: 0 or -errno. */
int zc__rr_count(const struct zc__rr *rr, unsigned index, uint64_t *n);

/* Attaches the program to fd's group (replacing any classic one). */
int zc__rr_attach(struct zc__rr *rr, int fd);

void zc__rr_close(struct zc__rr *rr);

#endif
