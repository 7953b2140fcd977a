/*
 * The primary's public calls (include/zcluster.h): message handlers, sends
 * and broadcasts, and reload and scale asked for by the application, which
 * take effect when the batch of events they were asked from is done.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "base/log.h"
#include "primary/core/link.h"
#include "primary/life/reconfig.h"
#include "primary/life/scale.h"
#include "primary/life/walk.h"
#include "primary/loop/upgrade.h"
#include "proto/handlers.h"
#include "proto/ipc.h"

#define NS ZC__PNS

int zc_primary_on(zc_primary *p, const char *type, zc_msg_fn fn, void *userdata)
{
    return p ? zc__handlers_add(&p->handlers, type, fn, userdata) : -EINVAL;
}

static int check_message(const zc_primary *p, const char *type,
                         const void *data, size_t len, const int *fds,
                         size_t n_fds)
{
    if (!p || zc__ipc_type_check(type, false) < 0 || (len && !data) ||
        (n_fds && !fds) || n_fds > ZC_IPC_FDS_MAX)
        return -EINVAL;
    return len > p->opt.ipc_max_message ? -EMSGSIZE : 0;
}

int zc_primary_send(zc_primary *p, uint64_t worker_id, const char *type,
                    const void *data, size_t len, const int *fds, size_t n_fds)
{
    int r = check_message(p, type, data, len, fds, n_fds);

    if (r < 0)
        return r;
    /* A scan, as for pids: a thousand workers take a microsecond. */
    for (struct worker *w = p->workers; w; w = w->next)
        if (w->id == worker_id)
            return zc__link_queue(p, w, type, data, len, fds, n_fds);
    return -ESRCH;
}

int zc_primary_broadcast(zc_primary *p, const char *type, const void *data,
                         size_t len)
{
    int r = check_message(p, type, data, len, NULL, 0), n = 0;

    if (r < 0)
        return r;
    for (struct worker *w = p->workers; w; w = w->next) {
        if (w->ipc.fd < 0)
            continue;
        r = zc__link_queue(p, w, type, data, len, NULL, 0);
        if (r == 0)
            n++;
        else
            zc_log(ZC_LOG_DEBUG, NS, "broadcast '%s': not sent to worker %llu "
                   "(slot %u): %s", type, (unsigned long long) w->id,
                   w->slot_index, zc_strerror(r));
    }
    return n;
}

/* given NULL: the configuration file, if the fleet has one. */
static int reload(zc_primary *p, const zc_options *given, char *why,
                  size_t size)
{
    struct walk_snapshot walk;
    char text[512];

    if (!p)
        return -EINVAL;
    if (p->shutting_down)
        return -ECANCELED;
    if (!p->started)
        return -EAGAIN;
    if (zc__reconfig_prepare(p, given, text, sizeof(text)) < 0) {
        zc_log(ZC_LOG_ERROR, NS,
               "%s: reload refused, the fleet runs on as "
               "it was: %s",
               given ? "zc_primary_reload_options()" : "zc_primary_reload()",
               text);
        if (why && size)
            snprintf(why, size, "%s", text);
        return -EINVAL;
    }
    zc__walk_snapshot(p, &walk);
    if (p->pending_reload || walk.active) {
        p->pending_reload = true;
        return 1;
    }
    p->pending_reload = true;
    return 0;
}

int zc_primary_reload(zc_primary *p)
{
    return reload(p, NULL, NULL, 0);
}

int zc_primary_reload_options(zc_primary *p, const zc_options *o, char *why,
                              size_t why_size)
{
    if (!o) {
        if (why && why_size)
            snprintf(why, why_size, "zc_primary_reload_options: no options");
        return -EINVAL;
    }
    return reload(p, o, why, why_size);
}

long long zc_primary_upgrade(zc_primary *p, unsigned flags, char *why,
                             size_t why_size)
{
    char said[400];
    long long r;

    if (!p || (flags & ~ZC_UPGRADE_RELOAD))
        return -EINVAL;
    r = zc__upgrade_request(p, "zc_primary_upgrade()",
                            flags & ZC_UPGRADE_RELOAD, said, sizeof(said));
    if (why && why_size)
        snprintf(why, why_size, "%s", said);
    return r;
}

int zc_primary_last_upgrade(const zc_primary *p, uint64_t *serial, char *why,
                            size_t why_size)
{
    if (!p)
        return 0;
    if (serial)
        *serial = p->upgrade.serial;
    if (why && why_size)
        snprintf(why, why_size, "%s", p->upgrade.why);
    return p->upgrade.pending ? 0 : p->upgrade.outcome;
}

int zc_primary_scale(zc_primary *p, unsigned workers)
{
    if (!p || workers < 1 || workers > ZC_MAX_WORKERS)
        return -EINVAL;
    if (p->shutting_down)
        return -ECANCELED;
    /* Before the start nothing runs yet: the count is set at once. */
    if (!p->started)
        return zc__scale_to(p, workers, "zc_primary_scale()");
    p->pending_scale = workers;
    return 0;
}

unsigned zc_primary_workers(const zc_primary *p)
{
    return !p ? 0 : p->pending_scale ? p->pending_scale : p->n_slots;
}
