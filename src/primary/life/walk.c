/*
 * Walks: the one way workers are replaced new one first. A walk steps
 * through the slots, at most `surge` at a time and never with more than
 * N + surge processes: start the replacement, wait until it is ready,
 * retire the old worker, wait until it has gone. Its kind says which slots
 * and at what generation:
 *
 *   reload   every slot, to a new generation (SIGHUP, zclusterctl reload)
 *   restart  the slots picked, at the generation they run (zclusterctl)
 *   recycle  as a restart, --recycle-concurrency at a time (recycle.c)
 *
 * A replacement that exits or is late fails the walk and changes nothing
 * else: every slot not yet stepped keeps the worker it had. The events
 * that advance a step (a replacement ready, an old worker gone) come from
 * lifecycle.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "primary/core/conffile.h"
#include "primary/core/events.h"
#include "primary/core/node.h"
#include "primary/core/words.h"
#include "primary/life/respawn.h"
#include "primary/life/walk.h"
#include "primary/life/worker.h"
#include "proto/ctlreq.h"

#define NS ZC__PNS

/*
 * A walk ended: the log's words go to the control socket's clients, a
 * reload's outcome to the application's callbacks, /metrics and status,
 * and our manager learns the reload it was told of is over.
 */
static void walk_ended(struct zc_primary *p, int outcome, const char *why)
{
    struct walk *R = &p->walk;
    struct walk_end end = { .kind = R->kind, .serial = R->serial,
                            .generation = R->generation, .outcome = outcome,
                            .why = why };
    zc_event e = { .type = ZC_EVENT_RELOADED,
                   .slot = -1,
                   .pid = -1,
                   .status = outcome,
                   .generation = R->generation };

    if (R->kind == WALK_RELOAD) {
        p->reload_outcomes[outcome]++;
        p->last_reload = (struct last_reload) { .generation = R->generation,
            .outcome = outcome, .end_us = zc__now_us() };
        snprintf(p->last_reload.why, sizeof(p->last_reload.why), "%s", why);
        if (!p->shutting_down)
            (void) zc_notify("READY=1");
    }
    zc__notify_status(p);
    if (p->hooks.walk_ended)
        p->hooks.walk_ended(p, &end);
    /* Only a reload is the application's event (ZC_EVENT_RELOADED). */
    if (R->kind == WALK_RELOAD)
        zc__emit(p, &e);
}

static bool picked(const struct walk *R, unsigned i)
{
    return i < ZC_MAX_WORKERS && (R->pick[i / 64] >> (i % 64)) & 1;
}

static unsigned long long walk_ms(const struct zc_primary *p)
{
    return (unsigned long long) ((zc__now_us() - p->walk.start_us) / 1000);
}

/* The slots the walk steps: every slot for a reload, the picked ones for
 * a restart or a recycle. */
static unsigned walk_total(const struct zc_primary *p)
{
    const struct walk *R = &p->walk;
    unsigned n = 0;

    if (R->kind == WALK_RELOAD)
        return p->n_slots;
    for (unsigned i = 0; i < p->n_slots; i++)
        n += picked(R, i);
    return n;
}

static void walk_done(struct zc_primary *p)
{
    struct walk *R = &p->walk;
    char why[256];

    R->active = false;
    if (R->kind == WALK_RELOAD)
        p->running_generation = R->generation;
    snprintf(why, sizeof(why), "%s done in %llu ms: %u of %u slot%s replaced; "
             "never fewer than %u worker%s ready, never more than %u "
             "process%s", R->name, walk_ms(p), R->replaced, walk_total(p),
             PLURAL(walk_total(p)), R->min_ready, PLURAL(R->min_ready),
             R->max_alive, R->max_alive == 1 ? "" : "es");
    zc_log(ZC_LOG_INFO, NS, "%s", why);
    walk_ended(p, ZC_RELOAD_DONE, why);
    /* The loop starts it (loop/run.c) through reconfig.c, which applies
     * the options it was asked with first. */
    if (R->again) {
        p->pending_reload = true;
        p->pending_reload_by = R->kind != WALK_RELOAD
                                   ? "a reload was asked for during the restart"
                                   : "a reload was asked for during the last "
                                     "one";
    }
}

/*
 * A replacement failed: the reload stops where it is. Replacements still
 * starting are stopped, and every slot not yet stepped keeps the worker it
 * has; slots already stepped keep their new, ready, workers. A slot left
 * with no worker at all (its old one died meanwhile) respawns as usual.
 */
void zc__walk_failed(struct zc_primary *p, const struct slot *failed,
                       const char *why)
{
    struct walk *R = &p->walk;
    unsigned kept = 0;
    char text[512];
    bool again = R->kind != WALK_RELOAD && R->again;

    R->active = false;
    for (unsigned i = 0; i < p->n_slots; i++) {
        struct slot *s = p->slots[i];

        if (s->next) {
            struct worker *w = s->next;

            s->next = NULL;
            zc__worker_retire(p, w);
        }
        if (!s->w && (s->state == SLOT_EMPTY || s->state == SLOT_BACKOFF) &&
            !zc__timer_is_active(&s->timer))
            zc__respawn_schedule(p, s, zc__respawn_count_crash(p, s));
        zc__respawn_retry_later(p, s);      /* a failed slot tried in vain */
        kept += s->generation != R->generation;
    }
    if (R->kind != WALK_RELOAD)
        snprintf(text, sizeof(text), "%s failed after %llu ms: slot %u: %s. "
                 "%u of %u slot%s replaced; the others keep their workers",
                 R->name, walk_ms(p), failed->index, why, R->replaced,
                 walk_total(p), PLURAL(walk_total(p)));
    else
        snprintf(text, sizeof(text), "reload to generation %llu failed after "
                 "%llu ms: slot %u: %s. %u of %u slot%s replaced; the other "
                 "%u keep%s %s. %s", (unsigned long long) R->generation,
                 walk_ms(p), failed->index, why, R->replaced, p->n_slots,
                 PLURAL(p->n_slots), kept, kept == 1 ? "s" : "",
                 kept == 1 ? "its worker" : "their workers", R->again
                 ? "The reload asked for during this one is dropped: send "
                   "SIGHUP again to retry." : "Send SIGHUP again to retry.");
    zc_log(ZC_LOG_ERROR, NS, "%s", text);
    if (R->again && !again) /* dropped, with the options it had */
        zc__conf_next_drop(&p->conf_next);
    R->again = false;
    walk_ended(p, ZC_RELOAD_FAILED, text);
    /* A reload asked for during a restart is not the restart's to drop. */
    if (again) {
        p->pending_reload = true;
        p->pending_reload_by = "a reload was asked for during the restart";
    }
}

void zc__walk_interrupted(struct zc_primary *p, const char *by)
{
    struct walk *R = &p->walk;
    char text[256];

    R->active = false;
    R->again = false;
    snprintf(text, sizeof(text), "%s during the %s: abandoning it after %llu "
             "ms, %u of %u slot%s replaced", by, R->name, walk_ms(p),
             R->replaced, walk_total(p), PLURAL(walk_total(p)));
    zc_log(ZC_LOG_WARN, NS, "%s", text);
    walk_ended(p, ZC_RELOAD_INTERRUPTED, text);
}

static void start_replacement(struct zc_primary *p, struct slot *s)
{
    struct walk *R = &p->walk;
    char what[PATH_MAX + 32], note[160], why[PATH_MAX + 96], old[48];
    struct worker *w;
    int r;

    /* A slot backing off, or given up on, is tried at once. */
    if (s->state == SLOT_BACKOFF || s->state == SLOT_FAILED)
        zc__timer_stop(&p->loop, &s->timer);
    snprintf(old, sizeof(old), "replacing worker %llu",
             s->w ? (unsigned long long) s->w->id : 0ull);
    snprintf(note, sizeof(note), " (%s, step %u of %u, %s)", R->name,
             ++R->steps, walk_total(p),
             s->w ? old : "which had no worker running");
    r = zc__worker_spawn(p, s, R->kind == WALK_RELOAD ? R->generation
                         : s->generation,
                         note, &w, what, sizeof(what));
    if (r < 0) {
        snprintf(why, sizeof(why), "worker %llu could not be started: %s: %s",
                 (unsigned long long) s->last_id, what, zc_strerror(r));
        zc__walk_failed(p, s, why);
        return;
    }
    R->stepping++;
    s->next = w;
    zc__worker_ready_policy(p, w);
}

/* The slot's replacement is ready: it serves, and the old worker goes. */
void zc__walk_promote(struct zc_primary *p, struct slot *s)
{
    struct walk *R = &p->walk;
    struct worker *w = s->next, *old = s->w;
    unsigned long long ms = (zc__now_us() - w->started_us) / 1000;

    s->next = NULL;
    s->w = w;
    s->state = SLOT_RUNNING;
    s->generation = w->generation;
    s->crashes = 0;
    s->ready_us = zc__now_us();
    R->replaced++;
    if (old) {
        zc_log(ZC_LOG_INFO, NS, "%s: slot %u replaced (%u of %u): worker "
               "%llu ready in %llu ms; retiring worker %llu (pid %d)", R->name,
               s->index, R->replaced, walk_total(p), (unsigned long long) w->id,
               ms, (unsigned long long) old->id, (int) old->pid);
        old->step_of = R->serial;
        zc__worker_retire(p, old);
    } else {
        zc_log(ZC_LOG_INFO, NS,
               "%s: slot %u filled (%u of %u): worker %llu "
               "ready in %llu ms",
               R->name, s->index, R->replaced, walk_total(p),
               (unsigned long long) w->id, ms);
        R->stepping--;
    }
    zc__walk_pump(p);
}

/*
 * Starts as many steps as the limits allow: at most max_surge under way,
 * and never more than N + max_surge processes, old ones still draining
 * and respawns to come included. Slots created during a reload already
 * run its generation.
 * Ends the reload when every slot is stepped and every old worker gone.
 */
static unsigned respawns_due(const struct zc_primary *p)
{
    unsigned n = 0;

    for (unsigned i = 0; i < p->n_slots; i++)
        n += zc__timer_is_active(&p->slots[i]->timer);
    return n;
}

void zc__walk_pump(struct zc_primary *p)
{
    struct walk *R = &p->walk;

    if (!R->active || R->pumping)
        return;
    R->pumping = true;
    /* A slot waiting for its respawn will have a process again: count it,
     * or the respawn could take the fleet past N + max_surge. */
    while (R->active && R->next < p->n_slots && R->stepping < R->surge &&
           p->n_alive + respawns_due(p) < p->n_slots + R->surge) {
        struct slot *s = p->slots[R->next++];

        if (R->kind == WALK_RELOAD ? s->generation != R->generation
                                   : picked(R, s->index))
            start_replacement(p, s);
    }
    R->pumping = false;
    if (R->active && R->next >= p->n_slots && R->stepping == 0)
        walk_done(p);
}

/*
 * Without listeners of ours (-l, or bound for Node workers' listen()),
 * workers bind their own sockets (SO_REUSEPORT, say). Then a retired
 * worker's socket closes with whatever waits in its accept queue: reset,
 * unless the kernel moves it to the other sockets of the group
 * (net.ipv4.tcp_migrate_req, Linux 5.14). Said once per fleet.
 */
static void warn_own_sockets(struct zc_primary *p)
{
    static const char *const path = "/proc/sys/net/ipv4/tcp_migrate_req";
    char v = '?';
    int fd;

    if (p->said_own_sockets || p->n_listeners > 0 || zc__node_servers(p) > 0)
        return;
    p->said_own_sockets = true;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (read(fd, &v, 1) != 1)
            v = '?';
        (void) close(fd);
    }
    if (v == '1')
        zc_log(ZC_LOG_INFO, NS, "no listening sockets of ours: workers that "
               "bind SO_REUSEPORT themselves leave their queued connections "
               "to the others (net.ipv4.tcp_migrate_req is 1)");
    else
        zc_log(ZC_LOG_WARN, NS, "no listening sockets of ours: if workers "
               "bind SO_REUSEPORT themselves, connections queued on a retired "
               "worker's socket are reset when it closes (net.ipv4."
               "tcp_migrate_req is %s; set it to 1, or give -l to zcluster so "
               "every worker shares one socket)", v == '0' ? "0" : "unknown");
}

static int reload_start(struct zc_primary *p, const char *by)
{
    struct walk *R = &p->walk;
    char msg[96];

    if (p->shutting_down || p->lame_duck) {
        zc_log(ZC_LOG_WARN, NS, "%s: shutting down, not reloading", by);
        return -ECANCELED;
    }
    if (R->active) {
        R->again = true;
        zc_log(ZC_LOG_INFO, NS, "%s: the %s is under way (%u of %u slot%s "
               "replaced); a reload will follow when it succeeds", by, R->name,
               R->replaced, walk_total(p), PLURAL(walk_total(p)));
        return 1;
    }
    warn_own_sockets(p);
    p->generation++;
    *R = (struct walk) { .active = true, .kind = WALK_RELOAD,
                         .generation = p->generation, .serial = ++p->walks,
                         .start_us = zc__now_us(), .min_ready = p->n_ready,
                         .max_alive = p->n_alive, .surge = p->opt.max_surge };
    snprintf(R->name, sizeof(R->name), "reload to generation %llu",
             (unsigned long long) R->generation);
    /* systemd's Type=notify-reload: the reload it asked for is under way
     * (READY=1 says it ended); harmless for any other manager. */
    snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long) zc__now_us());
    (void) zc_notify(msg);
    zc__notify_status(p);
    zc_log(ZC_LOG_INFO, NS, "%s: rolling reload to generation %llu: %u "
           "worker%s, %u at a time, each replacement to be ready within %u ms",
           by, (unsigned long long) R->generation, p->n_slots,
           PLURAL(p->n_slots), p->opt.max_surge, p->opt.ready_timeout_ms);
    zc__walk_pump(p);
    return 0;
}

/* A restart or a recycle: the slots picked, at the generation they run. */
static int slots_start(struct zc_primary *p, enum walk_kind kind,
                       const uint64_t *slots, const char *by)
{
    struct walk *R = &p->walk;
    unsigned surge = kind == WALK_RECYCLE ? p->opt.recycle_concurrency
                                          : p->opt.max_surge;
    char which[48];

    if (p->shutting_down || p->lame_duck)
        return -ECANCELED;
    if (R->active)
        return -EBUSY;
    *R = (struct walk) { .active = true, .kind = kind,
                         .generation = p->generation, .serial = ++p->walks,
                         .start_us = zc__now_us(), .min_ready = p->n_ready,
                         .max_alive = p->n_alive, .surge = surge };
    memcpy(R->pick, slots, sizeof(R->pick));
    zc__ctl_slots_text(R->pick, which, sizeof(which));
    snprintf(R->name, sizeof(R->name), "%s of %s", zc__walk_kind_name(kind),
             which);
    zc_log(ZC_LOG_INFO, NS, "%s: %s, %u at a time, each new worker to be "
           "ready within %u ms", by, R->name, surge, p->opt.ready_timeout_ms);
    zc__notify_status(p);
    zc__walk_pump(p);
    return 0;
}

int zc__walk_start(struct zc_primary *p, enum walk_kind kind,
                   const uint64_t *slots, const char *by)
{
    return kind == WALK_RELOAD ? reload_start(p, by)
                               : slots_start(p, kind, slots, by);
}

void zc__walk_snapshot(const struct zc_primary *p, struct walk_snapshot *out)
{
    const struct walk *R = &p->walk;

    *out = (struct walk_snapshot) { .active = R->active, .kind = R->kind,
                                    .generation = R->generation,
                                    .replaced = R->replaced,
                                    .total = R->active ? walk_total(p) : 0 };
    memcpy(out->name, R->name, sizeof(out->name));
}
