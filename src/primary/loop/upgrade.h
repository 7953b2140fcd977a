/* Upgrading the primary in place: the exec and the take-over (upgrade.c). */
#ifndef ZC_UPGRADE_H
#define ZC_UPGRADE_H

#include <stdbool.h>
#include <stddef.h>

#include "primary/core/fleet.h"
#include "primary/loop/carry.h"

/* At start: the binary an upgrade executes, the image to go back to. */
void zc__upgrade_init(struct zc_primary *p, char **argv);
/* p->hooks.upgrade: refused (-EBUSY: not now; -ENOTSUP: no binary known;
 * another -errno: the preflight) with why, or its serial (why says what
 * is about to happen). The exec is done by zc__upgrade_before_poll(). */
long long zc__upgrade_request(struct zc_primary *p, const char *by, bool reload,
                              char *why, size_t size);
/* Before the loop waits, when an upgrade was asked for: the exec. It
 * returns only if it failed (said, in the log and p->upgrade). */
void zc__upgrade_before_poll(struct zc_primary *p);

/* ZC_UPGRADE_CHECK: the preflight's answer on stdout; the exit status. */
int zc__upgrade_check(const char *asked);

/* What the new image holds while it takes the fleet over. */
struct upgrade_take {
    int state_fd, exe_fd; /* the state's memfd; the image before */
    const void *data;     /* the state, mapped */
    size_t len;
    struct carry_in in;
    char back[320]; /* ZC_UPGRADE_BACK: why the next image gave up */
};

/*
 * Started by an upgrade (ZC_UPGRADE_STATE): reads the fleet's records and
 * the running options into p (p->carried for the openers) and returns 1;
 * 0 for a fresh start. What cannot be read goes back to the image before.
 */
int zc__upgrade_take(struct zc_primary *p, const zc_options *given,
                     struct upgrade_take *t);
/* Executes the image before with the state and why; never returns. */
_Noreturn void zc__upgrade_back(struct zc_primary *p, struct upgrade_take *t,
                                const char *why);
/* Everything taken: fds closed on exec again, the outcome said and kept,
 * what died meanwhile reaped, a --reload started. */
void zc__upgrade_finish(struct zc_primary *p, struct upgrade_take *t);

#endif
