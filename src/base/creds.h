/* Who a worker runs as: users and groups by name or number, resolved
 * once in the primary, applied in the child between fork and exec. */
#ifndef ZC_CREDS_H
#define ZC_CREDS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct zc__creds {
    bool set_gid; /* gid and groups are set */
    bool set_uid; /* and uid too */
    uid_t uid;
    gid_t gid;
    gid_t *groups; /* supplementary, gid first; owned */
    int n_groups;
    char user[64];  /* "nobody", or "uid 4000" with no entry */
    char group[64]; /* "nogroup", or "gid 4000" */
};

/* A group name (in /etc/group) or number: 0 with *gid (gid may be
 * NULL), or -ENOENT. */
int zc__group_parse(const char *s, gid_t *gid);

/*
 * Resolves --user (NAME, UID, NAME:GROUP, UID:GID; NULL: none) and
 * --group (a name or number; NULL: the user's) into c. The user's
 * supplementary groups are those /etc/group lists it in, as initgroups
 * finds them; a uid with no passwd entry has none, and its group is the
 * one given, or the gid of the same number. Returns 0, or -ENOENT /
 * -EINVAL with a sentence in why. Reads /etc/passwd and /etc/group
 * itself: the static programs have no NSS (a user known only to a
 * directory service is given by number).
 */
int zc__creds_resolve(struct zc__creds *c, const char *user, const char *group,
                      char *why, size_t size);
void zc__creds_free(struct zc__creds *c);

/*
 * In a forked child, before exec: supplementary groups, then gid, then
 * uid, then a check that root cannot be taken back. Only system calls.
 * Returns 0, or -errno with *step set to one of ZC__CREDS_STEP_*.
 */
enum {
    ZC__CREDS_STEP_GROUPS = 1,
    ZC__CREDS_STEP_GID,
    ZC__CREDS_STEP_UID,
    ZC__CREDS_STEP_REGAIN,
};
int zc__creds_apply(const struct zc__creds *c, int *step);

#endif
