/*
 * Graceful shutdown: stop accepting, ask every worker to drain, SIGKILL
 * what is left at the shutdown timeout (or at once, on a second TERM or
 * INT, or QUIT), and exit once every worker is reaped.
 */
#include <signal.h>
#include <stdio.h>

#include "base/compat.h"
#include "base/log.h"
#include "primary/core/events.h"
#include "primary/life/respawn.h"
#include "primary/life/shutdown.h"
#include "primary/life/strays.h"
#include "primary/life/walk.h"
#include "primary/life/worker.h"
#include "primary/spread/router.h"
#include "proto/notify.h"

#define NS ZC__PNS

static void kill_all(struct zc_primary *p)
{
    p->killing = true;
    for (struct worker *w = p->workers; w; w = w->next)
        zc__worker_signal(w, SIGKILL);
    zc__strays_kill_all(p);
}

void zc__shutdown_on_timeout(struct zc__loop *l, struct zc__timer *t)
{
    struct zc_primary *p =
        zc__container_of(t, struct zc_primary, shutdown_timer);

    (void) l;
    /* Node workers were asked with Node's disconnect: the stop signal
     * comes first, SIGKILL a second later. */
    if (p->opt.node && !p->node_signalled) {
        p->node_signalled = true;
        zc_log(ZC_LOG_WARN, NS, "shutdown timeout of %u ms reached: sending "
               "the stop signal to %u remaining worker%s, SIGKILL in 1000 ms",
               p->opt.shutdown_timeout_ms, p->n_alive, PLURAL(p->n_alive));
        for (struct worker *w = p->workers; w; w = w->next) {
            zc__worker_signal(w, p->opt.stop_signal);
            w->signalled = true;
        }
        if (zc__timer_start(&p->loop, &p->shutdown_timer,
                            zc__now_us() + 1000000ull) == 0)
            return;
    }
    if (zc__strays_alive(p))
        zc_log(ZC_LOG_WARN, NS, "shutdown timeout of %u ms reached: killing %u "
               "remaining worker%s and %u process%s they left with SIGKILL",
               p->opt.shutdown_timeout_ms, p->n_alive, PLURAL(p->n_alive),
               zc__strays_alive(p), zc__strays_alive(p) == 1 ? "" : "es");
    else
        zc_log(ZC_LOG_WARN, NS, "shutdown timeout of %u ms reached: killing %u "
               "remaining worker%s with SIGKILL", p->opt.shutdown_timeout_ms,
               p->n_alive, PLURAL(p->n_alive));
    kill_all(p);
}

/* A second TERM or INT while draining: the operator is done waiting. */
static void escalate(struct zc_primary *p, const char *by)
{
    if (p->killing)
        return;
    zc_log(ZC_LOG_WARN, NS, "%s again: killing %u worker%s now with SIGKILL",
           by, p->n_alive, PLURAL(p->n_alive));
    kill_all(p);
}

/* No slot will start anything again: pending respawns are cancelled and
 * the slots let go of their workers, which from here on only drain. */
static void freeze_slots(struct zc_primary *p)
{
    for (unsigned i = 0; i < p->n_slots; i++) {
        struct slot *s = p->slots[i];

        zc__timer_stop(&p->loop, &s->timer);
        s->w = s->next = NULL;
        s->state = SLOT_EMPTY;
    }
}

void zc__shutdown_begin(struct zc_primary *p, const char *by, bool drain)
{
    int stop = p->opt.stop_signal;

    if (p->shutting_down) {
        escalate(p, by);
        return;
    }
    if (p->lame_duck) { /* QUIT, or the delay cut short */
        zc__timer_stop(&p->loop, &p->lame_duck_timer);
        p->lame_duck = false;
    }
    p->shutting_down = true;
    p->shutdown_start_us = zc__now_us();
    (void) zc_notify("STOPPING=1");
    if (p->walk.active)
        zc__walk_interrupted(p, by);
    zc__router_stop(p);
    freeze_slots(p);
    /* What the workers left behind stops with them. */
    zc__strays_scan(p);
    if (p->n_alive == 0 && zc__strays_alive(p) == 0) {
        zc_log(ZC_LOG_INFO, NS, "%s: no worker running", by);
        zc__respawn_all_stopped(p);
    } else if (p->n_alive == 0) {
        zc_log(ZC_LOG_INFO, NS, "%s: no worker running; waiting for %u "
               "process%s they left", by, zc__strays_alive(p),
               zc__strays_alive(p) == 1 ? "" : "es");
        if (zc__timer_start(&p->loop, &p->shutdown_timer,
                            p->shutdown_start_us +
                                p->opt.shutdown_timeout_ms * 1000ull) < 0)
            kill_all(p);
    } else if (!drain) {
        zc_log(ZC_LOG_WARN, NS, "%s: killing %u worker%s now with SIGKILL",
               by, p->n_alive, PLURAL(p->n_alive));
        kill_all(p);
    } else {
        char stop_text[16], how[128];
        unsigned by_message = 0;

        /* Real-time stop signals have no name: say the number. */
        if (zc__signal_name(stop))
            snprintf(stop_text, sizeof(stop_text), "SIG%s",
                     zc__signal_name(stop));
        else
            snprintf(stop_text, sizeof(stop_text), "signal %d", stop);
        for (struct worker *w = p->workers; w; w = w->next)
            by_message += zc__worker_stop(p, w, 0);
        if (by_message && p->opt.node)
            snprintf(how, sizeof(how), "%s with Node's disconnect (%s at the "
                     "deadline, SIGKILL a second later)",
                     by_message == p->n_alive ? "" : " some", stop_text);
        else if (by_message == 0)
            snprintf(how, sizeof(how), " with %s", stop_text);
        else if (by_message == p->n_alive)
            snprintf(how, sizeof(how), " with a shutdown message (%s if "
                     "unanswered)", stop_text);
        else
            snprintf(how, sizeof(how), ": %u with a shutdown message (%s if "
                     "unanswered), %u with %s", by_message, stop_text,
                     p->n_alive - by_message, stop_text);
        zc_log(ZC_LOG_INFO, NS, "%s: stopping %u worker%s%s, waiting up to "
               "%u ms", by, p->n_alive, PLURAL(p->n_alive),
               how, p->opt.shutdown_timeout_ms);
        /* Without the deadline nothing would ever escalate: kill now. */
        if (zc__timer_start(&p->loop, &p->shutdown_timer,
                            p->shutdown_start_us +
                                p->opt.shutdown_timeout_ms * 1000ull) < 0)
            kill_all(p);
    }
}

unsigned long long zc__shutdown_left_ms(const struct zc_primary *p)
{
    uint64_t now = zc__now_us();

    return p->lame_duck_end_us > now ? (p->lame_duck_end_us - now) / 1000 : 0;
}

void zc__shutdown_plan(const struct zc_primary *p, char *buf, size_t size)
{
    if (p->lame_duck)
        snprintf(buf, size,
                 "the shutdown delay cut short (%llu ms left): "
                 "stopping %u worker%s now, waiting up to %u ms",
                 zc__shutdown_left_ms(p), p->n_alive, PLURAL(p->n_alive),
                 p->opt.shutdown_timeout_ms);
    else if (p->opt.shutdown_delay_ms)
        snprintf(buf, size,
                 "not ready from now (/readyz 503), serving for "
                 "%u ms more, then stopping %u worker%s within %u ms",
                 p->opt.shutdown_delay_ms, p->n_alive, PLURAL(p->n_alive),
                 p->opt.shutdown_timeout_ms);
    else
        snprintf(buf, size, "stopping %u worker%s, waiting up to %u ms",
                 p->n_alive, PLURAL(p->n_alive), p->opt.shutdown_timeout_ms);
}

void zc__shutdown_on_delay(struct zc__loop *l, struct zc__timer *t)
{
    struct zc_primary *p =
        zc__container_of(t, struct zc_primary, lame_duck_timer);
    char by[96];

    (void) l;
    snprintf(by, sizeof(by), "%s, %u ms ago", p->lame_duck_by,
             p->opt.shutdown_delay_ms);
    zc_log(ZC_LOG_INFO, NS, "shutdown delay of %u ms over: draining",
           p->opt.shutdown_delay_ms);
    zc__shutdown_begin(p, by, true);
}

void zc__shutdown_request(struct zc_primary *p, const char *by)
{
    uint32_t delay = p->opt.shutdown_delay_ms;
    char msg[96];

    if (p->lame_duck) {
        zc_log(ZC_LOG_INFO, NS,
               "%s during the shutdown delay: draining now, "
               "%llu ms early",
               by, zc__shutdown_left_ms(p));
        zc__shutdown_begin(p, by, true);
        return;
    }
    if (p->shutting_down || delay == 0) {
        zc__shutdown_begin(p, by, true);
        return;
    }
    p->lame_duck = true;
    p->lame_duck_end_us = zc__now_us() + delay * 1000ull;
    snprintf(p->lame_duck_by, sizeof(p->lame_duck_by), "%s", by);
    /* Under systemd: the stop takes the delay and the drain, not only
     * TimeoutStopSec's default. */
    snprintf(msg, sizeof(msg), "STOPPING=1\nEXTEND_TIMEOUT_USEC=%llu",
             (delay + p->opt.shutdown_timeout_ms) * 1000ull);
    (void) zc_notify(msg);
    zc_log(ZC_LOG_INFO, NS,
           "%s: lame duck for %u ms: /readyz answers 503 so "
           "that balancers stop sending, the fleet serves on meanwhile; then "
           "it drains (a second TERM drains at once)",
           by, delay);
    zc__notify_status(p);
    if (zc__timer_start(&p->loop, &p->lame_duck_timer, p->lame_duck_end_us) < 0)
        zc__shutdown_begin(p, by, true);
}
