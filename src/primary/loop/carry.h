/* The fleet as state, handed from one image to the next: handover.c
 * writes it, takeover.c reads it. */
#ifndef ZC_CARRY_H
#define ZC_CARRY_H

#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "primary/core/fleet.h"

/* What the writer needs that the fleet does not hold itself. */
struct carry_out {
    const sigset_t *mask;         /* the mask the primary was started with */
    int control_fd, control_lock; /* -1: no control socket */
    const char *control_path;
    int metrics_fd; /* -1: no metrics endpoint */
};

/* The state written, and the fds it names (to let through the exec). */
struct carry_state {
    uint8_t *data;
    size_t len;
    int *fds;
    size_t n_fds;
};

/* Writes p's state. 0, or -ENOMEM with st empty. */
int zc__carry_write(struct zc_primary *p, const struct carry_out *out,
                    struct carry_state *st);
void zc__carry_state_free(struct carry_state *st);

/* What the reader found that is not the fleet's own: for run.c. */
struct carry_in {
    const void *data; /* the state, kept mapped */
    size_t len;
    const char *options; /* the running options, a file's text */
    size_t options_len;
    char config[PATH_MAX]; /* their file, "" if none */
    sigset_t mask;
    bool has_mask;
    int exe_fd; /* the image before, to go back to */
    char exe_path[PATH_MAX];
    unsigned n_slots;
    uint64_t exec_us; /* when the image before called exec */
    char by[64];      /* who asked for the upgrade */
    uint64_t ipc_gone[2];
    unsigned n_ipc_gone;
    uint64_t router_counts[32]; /* the router's, its order */
    size_t n_router_counts;
    uint64_t accept_counts[2]; /* pauses, PROXY closes */
    bool has_accept_counts;
};

/*
 * Reads the fleet's records of a state: its counters into p, its sockets
 * into p->carried (allocated here; the openers take them), the rest into
 * *in. 0; -EPROTO for a version this image does not read; -EINVAL for a
 * state it cannot use; why says which.
 */
int zc__carry_read_fleet(struct zc_primary *p, const void *data, size_t len,
                         struct carry_in *in, char *why, size_t size);
/* Once the fleet is set up: its slots, workers and output pipes. 0, or
 * -EINVAL with why (what was taken until then stays taken). */
int zc__carry_read_workers(struct zc_primary *p, const struct carry_in *in,
                           char *why, size_t size);

/* Frees p->carried once taken (its fds are the openers' by then). */
void zc__carry_free(struct carried *c);
/* Calls fn with every fd the state names that is open here. */
void zc__carry_each_fd(const void *data, size_t len,
                       void (*fn)(int fd, void *arg), void *arg);

#endif
