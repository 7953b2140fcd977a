/*
 * The control protocol's requests (docs/control.md): what a method, a path
 * and its query arguments ask for, checked before anything is done. Pure,
 * unit-tested and fuzzed; the primary checks what depends on the fleet
 * (does the slot exist).
 */
#ifndef ZC_CTLREQ_H
#define ZC_CTLREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zcluster.h"

#define ZC__CONTROL_VERSION 1   /* of the JSON documents */

enum zc__ctl_verb {
    ZC__CTL_STATUS,
    ZC__CTL_METRICS,
    ZC__CTL_RELOAD,
    ZC__CTL_SCALE,
    ZC__CTL_RESTART,
    ZC__CTL_SIGNAL,
    ZC__CTL_STOP,
    ZC__CTL_LOGS,
    ZC__CTL_CONFIG,
    ZC__CTL_UPGRADE,        /* POST /upgrade: the primary executes anew */
    ZC__CTL_UPGRADE_STATUS, /* GET /upgrade: how the last one went */
};

struct zc__ctl_req {
    enum zc__ctl_verb verb;
    bool text;              /* status: a table, not JSON */
    bool color;             /* the table for a terminal */
    bool wait;              /* long operations: stream until the outcome */
    int scale_by;           /* scale: -1 or +1 for "-N"/"+N", 0 for "N" */
    unsigned scale_n;
    int signal;
    unsigned lines;   /* logs: the last N lines, default 10 */
    bool follow;      /* logs: then every new one */
    bool reload;      /* upgrade: a rolling reload of the workers after */
    unsigned n_slots; /* restart, signal, logs: 0 = every slot */
    uint64_t slots[ZC_MAX_WORKERS / 64];    /* a bit per slot */
};

#define ZC__CTL_MAX_ARGS 8
/* The most lines `logs` asks for at once. */
#define ZC__CTL_MAX_LINES 100000

/* A query argument; value NULL for "?name" alone. */
struct zc__ctl_arg {
    const char *key, *value;
};

/* What reading a request says: taken, or the HTTP status that refuses it. */
enum zc__ctl_verdict {
    ZC__CTL_TAKEN = 0,
    ZC__CTL_BAD_REQUEST = 400,      /* a bad, unknown or repeated argument */
    ZC__CTL_NOT_FOUND = 404,        /* an unknown path */
    ZC__CTL_BAD_METHOD = 405,       /* a method the path does not take */
};

/*
 * Reads a request: its method, path and query arguments (an argument the
 * path does not take, or one given twice, is an error). Returns
 * ZC__CTL_TAKEN, or the status that refuses it with the reason in why;
 * with ZC__CTL_BAD_METHOD, allow says the methods the path takes.
 */
enum zc__ctl_verdict zc__ctl_parse(struct zc__ctl_req *q, const char *method,
                                   const char *path,
                                   const struct zc__ctl_arg *args,
                                   size_t n_args, char *why, size_t size,
                                   const char **allow);

/* "2,3,7" into q's slots (every one < ZC_MAX_WORKERS, none twice).
 * 0 or -EINVAL with why. */
int zc__ctl_parse_slots(struct zc__ctl_req *q, const char *s, char *why,
                        size_t size);
/* "6", "+2" or "-1" into q's scale_by and scale_n (n >= 1 for +/-). */
int zc__ctl_parse_scale(struct zc__ctl_req *q, const char *s, char *why,
                        size_t size);
/* The target of a scale from n slots: 1..ZC_MAX_WORKERS, or -ERANGE. */
int zc__ctl_scale_target(const struct zc__ctl_req *q, unsigned n);

/* "slot 2" or "slots 2, 3, 7" for a bitmap of slots (cut at size). */
void zc__ctl_slots_text(const uint64_t *bits, char *out, size_t size);

static inline bool zc__ctl_has_slot(const struct zc__ctl_req *q, unsigned i)
{
    return i < ZC_MAX_WORKERS && (q->slots[i / 64] >> (i % 64)) & 1;
}

#endif
