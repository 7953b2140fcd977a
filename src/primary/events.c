/*
 * The application's event callbacks (zc_primary_on_event): every fleet event
 * (spawned, ready, exited, respawn, reloaded) reaches them from here.
 */
#include <errno.h>
#include <stdlib.h>

#include "base/log.h"
#include "primary/events.h"

#define NS ZC__PNS

void zc__emit(struct zc_primary *p, const zc_event *e)
{
    for (size_t i = 0; i < p->n_event_fns; i++) {
        int r = p->event_fns[i].fn(e, p->event_fns[i].userdata);

        if (r < 0)
            zc_log(ZC_LOG_ERROR, NS, "event callback %zu failed: %s; running "
                   "the others", i + 1, zc_strerror(r));
    }
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
