/*
 * An upgrade through the control socket. The primary's image is replaced
 * in the middle of it, and every connection it has open but the
 * listeners' is closed by the exec; so the request is answered at once
 * (202, with the upgrade's serial) and the client asks GET /upgrade until
 * that serial has an outcome. The control socket itself is handed over,
 * never closed: a client that connects during the exec waits in its
 * backlog and is answered by the image that comes next, which may be the
 * old one again if the new one could not take over.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "base/log.h"
#include "primary/control/reply.h"
#include "primary/control/upgradectl.h"

void zc__upgradectl_request(struct zc_primary *p, struct zc__http_req *r,
                            const struct zc__ctl_req *q, const char *by)
{
    struct zc__buf b = { 0 };
    char why[400];
    long long serial = p->hooks.upgrade(p, by, q->reload, why, sizeof(why));

    if (serial < 0) {
        /* 409: not now (a reload, a shutdown, an upgrade under way);
         * 422: the new binary was refused by its preflight. */
        zc__reply_error(r, serial == -EBUSY ? 409 : 422, why, NULL);
        return;
    }
    zc__buf_printf(&b,
                   "{\"version\": %d, \"accepted\": true, \"upgrade\": "
                   "%lld, \"pid\": %d, \"message\": ",
                   ZC__CONTROL_VERSION, serial, (int) getpid());
    zc__buf_json(&b, why);
    ZC__BUF_LIT(&b, "}\n");
    zc__reply_json(r, 202, &b);
}

void zc__upgradectl_status(struct zc_primary *p, struct zc__http_req *r)
{
    const struct upgrade_info *u = &p->upgrade;
    static const char *const outcome[] = { "failed", "none", "done" };
    struct zc__buf b = { 0 };

    zc__buf_printf(&b,
                   "{\"version\": %d, \"upgrade\": %llu, \"outcome\": "
                   "\"%s\", \"zcluster\": \"%s\", \"upgrades\": %llu, "
                   "\"away_ms\": %.3f, \"pid\": %d, \"message\": ",
                   ZC__CONTROL_VERSION, (unsigned long long) u->serial,
                   u->pending ? "pending" : outcome[u->outcome + 1], ZC_VERSION,
                   (unsigned long long) u->count, (double) u->away_us / 1000.0,
                   (int) getpid());
    zc__buf_json(&b, u->why);
    /* --reload: the walk that follows, once it has an outcome. */
    if (u->reload_gen) {
        const struct last_reload *l = &p->last_reload;
        bool over = l->generation == u->reload_gen;

        zc__buf_printf(&b,
                       ", \"reload_generation\": %llu, "
                       "\"reload_outcome\": \"%s\", \"reload_message\": ",
                       (unsigned long long) u->reload_gen,
                       !over                          ? "pending"
                       : l->outcome == ZC_RELOAD_DONE ? "done"
                                                      : "failed");
        zc__buf_json(&b, over ? l->why : "");
    }
    ZC__BUF_LIT(&b, "}\n");
    zc__reply_json(r, 200, &b);
}
