/*
 * What worker health (watchdog.c, recycle.c, respawn.c's give-up) tells
 * status and /metrics: its counts and a failed slot's reasons, asked for
 * rather than read out of the structs those files own.
 */
#include "primary/health/health.h"

_Static_assert(ZC_WATCHDOG_KILL < ZC__WATCHDOG_ACTIONS &&
               ZC_WATCHDOG_LOG < ZC__WATCHDOG_ACTIONS,
               "a watchdog action past the table");
_Static_assert(ZC_RECYCLE_LIFETIME < ZC__RECYCLE_REASONS &&
               ZC_RECYCLE_MEMORY < ZC__RECYCLE_REASONS,
               "a recycle reason past the table");

void zc__health_snapshot(const struct zc_primary *p,
                         struct health_snapshot *out)
{
    const struct health_fleet *h = &p->health;

    *out = (struct health_snapshot) { .give_ups = h->give_ups };
    for (unsigned i = 0; i < ZC__WATCHDOG_ACTIONS; i++) {
        out->misses[i] = h->misses[i];
        out->misses_all += h->misses[i];
    }
    for (unsigned i = 0; i < ZC__RECYCLE_REASONS; i++) {
        out->recycles[i] = h->recycles[i];
        out->recycles_all += h->recycles[i];
    }
}

const char *zc__health_why(const struct slot *s, unsigned i)
{
    return i < s->health.n_why ? s->health.why[i] : NULL;
}

bool zc__health_heard(const struct worker *w, uint64_t now, double *seconds)
{
    uint64_t at = w->health.heard_us;

    if (!w->p->opt.watchdog_ms || !at)
        return false;
    *seconds = now > at ? (double) (now - at) / 1e6 : 0;
    return true;
}

const char *zc__watchdog_action_name(int action)
{
    static const char *const names[] = {
        [ZC_WATCHDOG_KILL] = "kill", [ZC_WATCHDOG_LOG] = "log",
    };

    return action >= 0 && action < ZC__WATCHDOG_ACTIONS ? names[action] : "?";
}

const char *zc__recycle_reason_name(int reason)
{
    static const char *const names[] = {
        [ZC_RECYCLE_LIFETIME] = "lifetime", [ZC_RECYCLE_MEMORY] = "memory",
    };

    return reason >= 0 && reason < ZC__RECYCLE_REASONS ? names[reason] : "?";
}
