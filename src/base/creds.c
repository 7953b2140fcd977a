/*
 * Who a worker runs as. gunicorn once forgot the supplementary groups
 * (its workers kept root's); a process that can set its uid back to 0 has
 * dropped nothing. So the child sets all three, in the only order that
 * works (groups and gid need root, which the uid change gives up), and
 * then tries to get root back, which must fail.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/compat.h"
#include "base/creds.h"
#include "base/parse.h"

#define MAX_ID ((unsigned long) (uid_t) -2)

int zc__group_parse(const char *s, gid_t *gid)
{
    char buf[4096];
    struct group g, *found = NULL;
    unsigned long n;
    FILE *f;

    if (!s || !*s)
        return -EINVAL;
    if (zc__parse_uint(s, 0, (gid_t) -2, &n) == 0) {
        if (gid)
            *gid = (gid_t) n;
        return 0;
    }
    /* /etc/group itself: getgrnam() would need NSS's shared libraries
     * in the static programs. A group known only to a directory service
     * is given by number. */
    f = fopen("/etc/group", "re");
    if (!f)
        return -ENOENT;
    while (fgetgrent_r(f, &g, buf, sizeof(buf), &found) == 0)
        if (strcmp(found->gr_name, s) == 0)
            break;
        else
            found = NULL;
    (void) fclose(f);
    if (!found)
        return -ENOENT;
    if (gid)
        *gid = found->gr_gid;
    return 0;
}

/* The passwd entry named s, or of uid s: 0, or -ENOENT. */
static int find_user(const char *s, bool by_uid, uid_t uid, char *name,
                     size_t size, uid_t *ret_uid, gid_t *ret_gid)
{
    char buf[4096];
    struct passwd pw, *found = NULL;
    FILE *f = fopen("/etc/passwd", "re");

    if (!f)
        return -ENOENT;
    while (fgetpwent_r(f, &pw, buf, sizeof(buf), &found) == 0)
        if (by_uid ? found->pw_uid == uid : strcmp(found->pw_name, s) == 0)
            break;
        else
            found = NULL;
    (void) fclose(f);
    if (!found)
        return -ENOENT;
    snprintf(name, size, "%s", found->pw_name);
    *ret_uid = found->pw_uid;
    *ret_gid = found->pw_gid;
    return 0;
}

static bool has_gid(const struct zc__creds *c, gid_t g)
{
    for (int i = 0; i < c->n_groups; i++)
        if (c->groups[i] == g)
            return true;
    return false;
}

static int add_gid(struct zc__creds *c, gid_t g, int *room)
{
    gid_t *bigger;

    if (has_gid(c, g))
        return 0;
    if (c->n_groups == *room) {
        bigger = realloc(c->groups, sizeof(gid_t) * (size_t) (*room * 2));
        if (!bigger)
            return -ENOMEM;
        c->groups = bigger;
        *room *= 2;
    }
    c->groups[c->n_groups++] = g;
    return 0;
}

/* c->gid, then every group /etc/group lists user in (initgroups' files
 * source), at most the kernel's NGROUPS_MAX. */
static int member_groups(struct zc__creds *c, const char *user)
{
    long max = sysconf(_SC_NGROUPS_MAX);
    char buf[16384];
    struct group g, *found;
    int room = 8, r = 0;
    FILE *f;

    c->groups = malloc(sizeof(gid_t) * (size_t) room);
    if (!c->groups)
        return -ENOMEM;
    c->groups[c->n_groups++] = c->gid;
    if (!user || !(f = fopen("/etc/group", "re")))
        return 0;
    while (r == 0 && fgetgrent_r(f, &g, buf, sizeof(buf), &found) == 0)
        for (char **m = found->gr_mem; m && *m && r == 0; m++)
            if (strcmp(*m, user) == 0 && (max <= 0 || c->n_groups < max))
                r = add_gid(c, found->gr_gid, &room);
    (void) fclose(f);
    return r;
}

static int resolve_user(struct zc__creds *c, const char *u, char *why,
                        size_t size)
{
    unsigned long n;
    bool numeric = zc__parse_uint(u, 0, MAX_ID, &n) == 0;
    char name[sizeof(c->user)];

    if (find_user(u, numeric, (uid_t) n, name, sizeof(name), &c->uid,
                  &c->gid) == 0) {
        snprintf(c->user, sizeof(c->user), "%s", name);
    } else if (numeric) {
        /* No entry: the group of the same number, never root's 0, which
         * is what a container runtime gives such a uid. */
        c->uid = (uid_t) n;
        c->gid = (gid_t) n;
        snprintf(c->user, sizeof(c->user), "uid %lu", n);
        return 1;
    } else {
        (void) zc__why(why, size,
                       "invalid --user '%s': no such user in "
                       "/etc/passwd (a user known only to a directory "
                       "service is given by number)",
                       u);
        return -ENOENT;
    }
    return 0;
}

int zc__creds_resolve(struct zc__creds *c, const char *user, const char *group,
                      char *why, size_t size)
{
    char u[256];
    const char *colon, *g = group;
    bool anonymous = false;
    int r;

    memset(c, 0, sizeof(*c));
    if (!user && !group)
        return 0;
    if (user) {
        colon = strchr(user, ':');
        if (strlen(user) >= sizeof(u) || colon == user || (colon && !colon[1]))
            return zc__why(why, size,
                           "invalid --user '%s': expected USER, "
                           "UID, USER:GROUP or UID:GID",
                           user);
        snprintf(u, sizeof(u), "%.*s",
                 colon ? (int) (colon - user) : (int) strlen(user), user);
        if (colon && group && strcmp(colon + 1, group) != 0)
            return zc__why(why, size,
                           "--user %s and --group %s name two "
                           "different groups: give one",
                           user, group);
        if (colon)
            g = colon + 1;
        r = resolve_user(c, u, why, size);
        if (r < 0)
            return -ENOENT;
        anonymous = r == 1;
        c->set_uid = true;
    }
    c->set_gid = true;
    if (g && zc__group_parse(g, &c->gid) < 0) {
        (void) zc__why(why, size,
                       "invalid --%s '%s': no such group in /etc/group "
                       "(a group known only to a directory service is given by "
                       "number)",
                       group ? "group" : "user", group ? group : user);
        return -ENOENT;
    }
    snprintf(c->group, sizeof(c->group), "%s", g ? g : "");
    if (!g || zc__parse_uint(g, 0, MAX_ID, &(unsigned long) { 0 }) == 0)
        snprintf(c->group, sizeof(c->group), "gid %lu", (unsigned long) c->gid);
    /* Without a user, only the group changes: root's own supplementary
     * groups go with it, or the worker keeps them. */
    r = member_groups(c, user && !anonymous ? c->user : NULL);
    if (r < 0) {
        zc__creds_free(c);
        return zc__why(why, size, "no memory for the groups of --user");
    }
    return 0;
}

void zc__creds_free(struct zc__creds *c)
{
    free(c->groups);
    c->groups = NULL;
    c->n_groups = 0;
}

int zc__creds_apply(const struct zc__creds *c, int *step)
{
    if (c->set_gid) {
        *step = ZC__CREDS_STEP_GROUPS;
        if (setgroups((size_t) c->n_groups, c->groups) == -1)
            return -errno;
        *step = ZC__CREDS_STEP_GID;
        if (setresgid(c->gid, c->gid, c->gid) == -1)
            return -errno;
    }
    if (!c->set_uid)
        return 0;
    *step = ZC__CREDS_STEP_UID;
    if (setresuid(c->uid, c->uid, c->uid) == -1)
        return -errno;
    /* Each of these succeeding means root was not given up. */
    *step = ZC__CREDS_STEP_REGAIN;
    if (c->uid != 0 &&
        (setresuid((uid_t) -1, 0, (uid_t) -1) == 0 || setuid(0) == 0))
        return -EPERM;
    if (c->uid != 0 && c->gid != 0 && setgid(0) == 0)
        return -EPERM;
    return 0;
}
