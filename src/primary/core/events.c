/*
 * What the fleet tells others of itself: every fleet event (spawned,
 * ready, exited, respawn, reloaded) reaches the application's callbacks
 * (zc_primary_on_event) and the control socket's clients from here, and
 * our own manager (systemd) hears how many workers are ready.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "base/log.h"
#include "primary/core/events.h"
#include "primary/core/words.h"

#define NS ZC__PNS

void zc__emit(struct zc_primary *p, const zc_event *e)
{
    if (p->hooks.event)
        p->hooks.event(p, e);
    for (size_t i = 0; i < p->n_event_fns; i++) {
        int r = p->event_fns[i].fn(e, p->event_fns[i].userdata);

        if (r < 0)
            zc_log(ZC_LOG_ERROR, NS, "event callback %zu failed: %s; running "
                   "the others", i + 1, zc_strerror(r));
    }
}

void zc__announce_if_ready(struct zc_primary *p)
{
    unsigned ready = 0, failed = 0;

    if (p->announced_ready)
        return;
    for (unsigned i = 0; i < p->n_slots; i++) {
        const struct slot *s = p->slots[i];

        if (s->w && s->w->state == W_READY)
            ready++;
        else if (!s->w && s->state == SLOT_FAILED)
            failed++;
        else
            return;
    }
    if (!ready)
        return;
    p->announced_ready = true;
    if (failed)
        zc_log(ZC_LOG_WARN, NS, "%u of %u workers ready, %u slot%s failed "
               "(given up on): serving, degraded", ready, p->n_slots, failed,
               PLURAL(failed));
    else
        zc_log(ZC_LOG_INFO, NS, p->n_slots == 1 ? "%u worker ready"
               : "all %u workers ready", p->n_slots);
    /* Our own manager (systemd Type=notify) learns we are up. */
    (void) zc_notify("READY=1");
}

void zc__notify_status(struct zc_primary *p)
{
    char text[sizeof(p->sd_status)], msg[sizeof(p->sd_status) + 8];

    if (p->shutting_down)
        snprintf(text, sizeof(text), "stopping: %u worker%s left", p->n_alive,
                 PLURAL(p->n_alive));
    else if (p->lame_duck)
        snprintf(text, sizeof(text),
                 "stopping: not ready, serving until the "
                 "shutdown delay ends");
    else
        snprintf(text, sizeof(text), "%u of %u workers ready, generation "
                 "%llu%s%s", p->n_ready, p->n_slots,
                 (unsigned long long) p->running_generation,
                 p->walk.active ? ", " : "",
                 p->walk.active ? zc__walk_kind_doing(p->walk.kind) : "");
    if (strcmp(text, p->sd_status) == 0)
        return;
    memcpy(p->sd_status, text, sizeof(text));
    snprintf(msg, sizeof(msg), "STATUS=%s", text);
    (void) zc_notify(msg);
}

void zc__emit_worker(struct zc_primary *p, int type, const struct worker *w,
                     int status)
{
    zc_event e = { .type = type, .worker_id = w->id,
                   .slot = (int) w->slot_index, .pid = (int) w->pid,
                   .generation = w->generation, .status = status };

    zc__emit(p, &e);
}

int zc_primary_on_event(zc_primary *p, zc_event_fn fn, void *userdata)
{
    struct event_fn *v;

    if (!p || !fn)
        return -EINVAL;
    v = realloc(p->event_fns, (p->n_event_fns + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    p->event_fns = v;
    v[p->n_event_fns++] = (struct event_fn) { fn, userdata };
    return 0;
}
