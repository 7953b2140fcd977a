/*
 * Who the workers run as (--user, --group, --chdir, --umask): resolved
 * once at start, before anything is bound, so that a user that does not
 * exist ends the fleet with status 2 as any bad option does. The child
 * applies it between fork and exec (base/spawn.c, base/creds.c).
 */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "primary/core/fleet.h"
#include "primary/core/identity.h"

#define NS ZC__PNS

int zc__identity_resolve(struct zc_primary *p)
{
    struct zc__creds *c = &p->creds;
    char why[512];
    struct stat st;

    if (zc__creds_resolve(c, p->opt.user, p->opt.group, why, sizeof(why)) < 0) {
        zc_log(ZC_LOG_ERROR, NS, "cannot start: %s", why);
        return -EINVAL;
    }
    if (p->opt.chdir && stat(p->opt.chdir, &st) == -1) {
        zc_log(ZC_LOG_ERROR, NS, "cannot start: --chdir '%s': %s", p->opt.chdir,
               zc_strerror(errno));
        return -EINVAL;
    }
    if (p->opt.chdir && !S_ISDIR(st.st_mode)) {
        zc_log(ZC_LOG_ERROR, NS,
               "cannot start: --chdir '%s': not a "
               "directory",
               p->opt.chdir);
        return -EINVAL;
    }
    if (geteuid() != 0) {
        /* Already that user: nothing to change, and nothing to refuse. */
        if ((!c->set_uid || c->uid == geteuid()) &&
            (!c->set_gid || c->gid == getegid())) {
            if (c->set_gid)
                zc_log(ZC_LOG_DEBUG, NS,
                       "--user/--group: the primary "
                       "already runs as them; workers keep its ids");
            c->set_uid = c->set_gid = false;
            return 0;
        }
        zc_log(ZC_LOG_ERROR, NS,
               "cannot start: --%s %s: the primary runs "
               "as uid %d, not root, and cannot start workers as another "
               "user or group (start it as root, or leave the option out)",
               p->opt.user ? "user" : "group",
               p->opt.user ? p->opt.user : p->opt.group, (int) geteuid());
        return -EPERM;
    }
    if (c->set_uid)
        zc_log(ZC_LOG_INFO, NS,
               "workers run as %s (uid %d, gid %d, %d "
               "group%s)",
               c->user, (int) c->uid, (int) c->gid, c->n_groups,
               c->n_groups == 1 ? "" : "s");
    else if (c->set_gid)
        zc_log(ZC_LOG_INFO, NS, "workers run as root with group %s (gid %d)",
               c->group, (int) c->gid);
    else
        zc_log(ZC_LOG_WARN, NS,
               "the workers run as root, as the primary "
               "does: give --user to run them as another user (the primary "
               "still binds its ports as root)");
    return 0;
}

void zc__identity_free(struct zc_primary *p)
{
    zc__creds_free(&p->creds);
}

void zc__identity_spawn(const struct zc_primary *p, struct zc__spawn *sp)
{
    sp->creds = p->creds.set_gid ? &p->creds : NULL;
    sp->chdir = p->opt.chdir;
    sp->set_umask = p->opt.umask >= 0;
    sp->umask = (mode_t) (p->opt.umask >= 0 ? p->opt.umask : 0);
}

void zc__identity_failure(const struct zc_primary *p, int step, char *what,
                          size_t size)
{
    const struct zc__creds *c = &p->creds;

    switch (step) {
    case ZC__CREDS_STEP_GROUPS:
    case ZC__CREDS_STEP_GID:
    case ZC__CREDS_STEP_UID:
        snprintf(what, size, "cannot switch to user %s, group %s (%s)",
                 c->set_uid ? c->user : "root", c->group,
                 zc__spawn_step_name(step));
        break;
    case ZC__CREDS_STEP_REGAIN:
        snprintf(what, size, "as %s %s", c->user, zc__spawn_step_name(step));
        break;
    case ZC__SPAWN_STEP_CHDIR:
        snprintf(what, size, "cannot enter --chdir '%s' as %s", p->opt.chdir,
                 c->set_uid ? c->user : "the primary's user");
        break;
    default: break;
    }
}
