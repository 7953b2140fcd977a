/*
 * Slots and their respawns: a slot is a place in the fleet (0..N-1), not a
 * process. When its worker exits on its own, this decides: respawn now,
 * respawn after a backoff that grows with the slot's failures in a row, or
 * stop for good; and when nothing is left to supervise, the fleet ends.
 * Keying the backoff on the slot, not on the dead worker (as the spec
 * does), is what makes a crash loop actually back off.
 *
 *   slot  EMPTY --spawn--> RUNNING --crash--> BACKOFF --timer--> RUNNING
 *                             |-- exit 0, or --respawn never --> DONE
 *                             `-- N failures within DUR --> FAILED --retry-->
 *
 * Give-up (--give-up N/DUR) is a window on the slot's failures: crashes,
 * failed starts, watchdog kills, and with it workers never ready. A
 * failed slot is left alone, the others serve; its timer, when
 * --failed-retry is set, tries it again. The respawn delay is jittered
 * (--backoff-jitter) so that slots that crashed together come back apart.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "primary/core/events.h"
#include "primary/life/respawn.h"
#include "primary/life/worker.h"
#include "primary/spread/balance.h"
#include "primary/spread/sticky.h"

#define NS ZC__PNS

double zc__respawn_uniform(struct zc_primary *p)
{
    uint64_t *x = &p->health.rng;

    /* xorshift64*: the jitters need spread, not secrecy. */
    if (!*x)
        *x = (zc__now_us() << 20) ^ (uint64_t) getpid() ^ 0x9e3779b97f4a7c15ull;
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return (double) ((*x * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0;
}

void zc__respawn_schedule(struct zc_primary *p, struct slot *s,
                          uint64_t delay_ms)
{
    zc_event e = { .type = ZC_EVENT_RESPAWN, .worker_id = s->last_id,
                   .slot = (int) s->index, .pid = -1,
                   .generation = s->generation, .delay_ms = delay_ms };

    s->state = SLOT_BACKOFF;
    s->backoff_ms = delay_ms;
    s->restarts++;
    if (zc__timer_start(&p->loop, &s->timer,
                        zc__now_us() + delay_ms * 1000u) < 0) {
        zc_log(ZC_LOG_ERROR, NS, "slot %u: out of memory for its respawn "
               "timer, leaving it empty", s->index);
        s->state = SLOT_DONE;
        p->any_failed = true;
        return;
    }
    zc__emit(p, &e);
}

unsigned zc__respawn_failures(const struct zc_primary *p, const struct slot *s,
                              uint64_t now)
{
    /* A worker that stayed ready long enough wipes the slate; derived
     * when asked rather than cleared by a timer, so a stable fleet never
     * wakes and status and /metrics say 0 once it is so. */
    if (s->ready_us && now - s->ready_us >= p->opt.backoff_reset_ms * 1000ull)
        return 0;
    return s->crashes;
}

/* A crash, or a failed start: count it on the slot and back off. */
uint64_t zc__respawn_count_crash(struct zc_primary *p, struct slot *s)
{
    s->crashes = zc__respawn_failures(p, s, zc__now_us());
    if (s->crashes < UINT_MAX)
        s->crashes++;
    return (uint64_t) ((double) zc__backoff_ms(p->opt.respawn_delay_ms,
                                               p->opt.backoff_factor,
                                               p->opt.max_respawn_delay_ms,
                                               s->crashes) *
                       (1.0 - p->opt.backoff_jitter * zc__respawn_uniform(p)));
}

/* "5m00s", "60 s", "1.5 s": a window or a retry as the log says it. */
static void say_ms(char *buf, size_t size, uint64_t ms)
{
    if (ms >= 60000)
        snprintf(buf, size, "%llum%02llus", (unsigned long long) (ms / 60000),
                 (unsigned long long) (ms / 1000 % 60));
    else
        snprintf(buf, size, "%llu.%llu s", (unsigned long long) (ms / 1000),
                 (unsigned long long) (ms % 1000 / 100));
}

void zc__respawn_retry_later(struct zc_primary *p, struct slot *s)
{
    if (s->state == SLOT_FAILED && p->opt.failed_retry_ms &&
        !zc__timer_is_active(&s->timer) &&
        zc__timer_start(&p->loop, &s->timer,
                        zc__now_us() + p->opt.failed_retry_ms * 1000ull) < 0)
        zc_log(ZC_LOG_ERROR, NS, "slot %u: out of memory for its retry "
               "timer; it stays failed until restarted", s->index);
}

/* The slot failed too often: it stops respawning, and says why. */
static void give_up(struct zc_primary *p, struct slot *s, unsigned recent)
{
    struct health_slot *h = &s->health;
    char window[32], retry[64];
    zc_event e = { .type = ZC_EVENT_GAVE_UP, .worker_id = s->last_id,
                   .slot = (int) s->index, .pid = -1,
                   .generation = s->generation,
                   .delay_ms = p->opt.failed_retry_ms };

    s->state = SLOT_FAILED;
    h->failed_us = zc__now_us();
    h->n_fails = 0;             /* a retry starts a fresh window */
    p->health.give_ups++;
    p->any_failed = true;
    say_ms(window, sizeof(window), p->opt.give_up_window_ms);
    if (p->opt.failed_retry_ms) {
        char in[32];

        say_ms(in, sizeof(in), p->opt.failed_retry_ms);
        snprintf(retry, sizeof(retry), "trying it again in %s", in);
    } else {
        snprintf(retry, sizeof(retry),
                 "not trying it again (--failed-retry 0)");
    }
    /* Two events, a line each: this failure and what it decides, then the
     * slot's new state (its last failures are in status). */
    zc_log(ZC_LOG_WARN, NS,
           "%s; not restarting it: slot %u has failed %u times "
           "within %s (--give-up)",
           h->why[0], s->index, recent, window);
    zc_log(ZC_LOG_ERROR, NS, "slot %u given up on, %s; %u worker%s still "
           "serving (zclusterctl status shows its last failures)", s->index,
           retry, p->n_ready, PLURAL(p->n_ready));
    zc__emit(p, &e);
    /* What waits in its sockets would wait until the retry, if any. */
    zc__balance_abandon(p, s->index, "given up on");
    zc__respawn_retry_later(p, s);
    zc__announce_if_ready(p);
    zc__notify_status(p);
    zc__respawn_check_end(p);
}

bool zc__respawn_counts_failure(struct zc_primary *p, struct slot *s,
                                const char *why)
{
    struct health_slot *h = &s->health;
    uint64_t now = zc__now_us();
    unsigned recent = 0;

    memmove(h->why[1], h->why[0], sizeof(h->why[0]) * (ZC__WHYS_KEPT - 1));
    snprintf(h->why[0], sizeof(h->why[0]), "%s", why);
    if (h->n_why < ZC__WHYS_KEPT)
        h->n_why++;
    if (!p->opt.give_up_count)
        return false;
    h->fails_us[h->next_fail] = now;
    h->next_fail = (h->next_fail + 1) % ZC__FAILS_KEPT;
    if (h->n_fails < ZC__FAILS_KEPT)
        h->n_fails++;
    for (unsigned i = 0; i < h->n_fails; i++)
        recent += now - h->fails_us[(h->next_fail + ZC__FAILS_KEPT - 1 - i) %
                                    ZC__FAILS_KEPT] <=
                  p->opt.give_up_window_ms * 1000ull;
    if (recent < p->opt.give_up_count)
        return false;
    give_up(p, s, recent);
    return true;
}

static void on_slot_timer(struct zc__loop *l, struct zc__timer *t)
{
    struct slot *s = zc__container_of(t, struct slot, timer);

    (void) l;
    if (s->state == SLOT_FAILED)
        zc_log(ZC_LOG_INFO, NS, "slot %u: trying it again, %llu s after it was "
               "given up on (--failed-retry)", s->index, (unsigned long long)
               ((zc__now_us() - s->health.failed_us) / 1000000));
    if (s->state == SLOT_BACKOFF || s->state == SLOT_FAILED)
        zc__respawn_spawn_slot(s->p, s);
}

/* With --give-up, a worker never ready is a failure like a crash: it is
 * stopped, and its slot goes on as if it had died. */
void zc__respawn_never_ready(struct zc_primary *p, struct worker *w)
{
    struct slot *s = w->slot;
    char what[200];

    if (w->state != W_STARTING || !s || s->w != w)
        return;
    snprintf(what, sizeof(what), "worker %llu (slot %u, pid %d) was not ready "
             "within %u ms (--ready-timeout); stopping it",
             (unsigned long long) w->id, s->index, (int) w->pid,
             p->opt.ready_timeout_ms);
    zc__worker_retire(p, w);
    zc__respawn_lost_worker(p, s, false, what);
}

/* Why an exec fails that will fail the same way next time: no such
 * program, not executable, not a program. */
static bool exec_error(int r)
{
    switch (-r) {
    case ENOENT: case EACCES: case EPERM: case ENOEXEC: case ENOTDIR:
    case ELOOP: case ENAMETOOLONG: case EISDIR: case E2BIG: case ELIBBAD:
        return true;
    default:
        return false;
    }
}

static void spawn_failed(struct zc_primary *p, struct slot *s, const char *what,
                         int r)
{
    uint64_t delay;
    char why[PATH_MAX + 96];

    snprintf(why, sizeof(why), "worker %llu (slot %u) could not be started: "
             "%s: %s", (unsigned long long) s->last_id, s->index, what,
             zc_strerror(r));
    /* Before any worker was ever ready a command that cannot be executed
     * is a mistake, not a passing fault: retrying it for ever would only
     * hide it from whoever started the fleet (systemd fails such a unit
     * at once, 203/EXEC). Once the fleet has served, the binary may be
     * mid-deploy: that backs off as any failure. */
    if (!p->any_ready && exec_error(r)) {
        zc_log(ZC_LOG_ERROR, NS, "cannot start: %s; no worker of this fleet "
               "has been ready yet, so it is not tried again: exiting with "
               "status 1", why);
        p->exit_status = 1;
        p->any_failed = true;
        s->state = SLOT_DONE;
        zc__loop_stop(&p->loop);
        return;
    }
    delay = zc__respawn_count_crash(p, s);
    if (zc__respawn_counts_failure(p, s, why))
        return;
    zc_log(ZC_LOG_ERROR, NS, "%s; retrying in %llu ms (failure %u in a row)",
           why, (unsigned long long) delay, s->crashes);
    zc__respawn_schedule(p, s, delay);
}

void zc__respawn_spawn_slot(struct zc_primary *p, struct slot *s)
{
    char what[PATH_MAX + 32];
    struct worker *w;
    int r = zc__worker_spawn(p, s, s->generation, "", &w, what, sizeof(what));

    if (r < 0) {
        spawn_failed(p, s, what, r);
        return;
    }
    s->w = w;
    s->state = SLOT_RUNNING;
    s->ready_us = 0;
    zc__worker_ready_policy(p, w);
}

/* A slot whose serving worker exited on its own: respawn, or not. */
static void lost(struct zc_primary *p, struct slot *s, bool clean,
                 const char *what, bool hung)
{
    uint64_t delay;

    s->w = NULL;
    if (s->next) {
        /* Its replacement takes the slot when ready; if it fails instead,
         * zc__walk_failed() schedules a respawn. */
        s->state = SLOT_EMPTY;
        zc_log(ZC_LOG_WARN, NS, "%s; its replacement, worker %llu, is starting",
               what, (unsigned long long) s->next->id);
        return;
    }
    if (p->opt.respawn == ZC_RESPAWN_NEVER ||
        (clean && p->opt.respawn == ZC_RESPAWN_ON_FAILURE)) {
        s->state = SLOT_DONE;
        p->any_failed |= !clean;
        zc_log(clean ? ZC_LOG_INFO : ZC_LOG_WARN, NS,
               "%s; not restarting it (%s)", what,
               clean ? "it stopped on purpose" : "--respawn never");
        zc__respawn_check_end(p);
        return;
    }
    if (clean) {
        s->crashes = 0;
        delay = p->opt.respawn_delay_ms;
    } else {
        delay = zc__respawn_count_crash(p, s);
        if (zc__respawn_counts_failure(p, s, what))
            return;
        /* A hung worker kept its slot out of service for a period or two
         * already: its first replacement starts at once (it still counts,
         * so a slot that hangs again backs off). */
        if (hung && s->crashes == 1)
            delay = 0;
    }
    zc_log(clean ? ZC_LOG_INFO : ZC_LOG_WARN, NS,
           "%s; restarting in %llu ms "
           "(failure %u in a row)",
           what, (unsigned long long) delay, s->crashes);
    zc__respawn_schedule(p, s, delay);
}

void zc__respawn_lost_worker(struct zc_primary *p, struct slot *s, bool clean,
                             const char *what)
{
    lost(p, s, clean, what, false);
}

void zc__respawn_hung_worker(struct zc_primary *p, struct slot *s,
                             const char *what)
{
    lost(p, s, false, what, true);
}

/* Everything ended on its own (exit 0 without --respawn always, or
 * --respawn never): nothing is left to supervise. */
void zc__respawn_check_end(struct zc_primary *p)
{
    bool failed = false;

    if (p->n_alive > 0 || p->walk.active)
        return;
    for (unsigned i = 0; i < p->n_slots; i++) {
        const struct slot *s = p->slots[i];

        if (s->state == SLOT_FAILED && !zc__timer_is_active(&s->timer))
            failed = true;
        else if (s->state != SLOT_DONE && s->state != SLOT_EMPTY)
            return;
    }
    if (failed) {
        zc_log(ZC_LOG_ERROR, NS, "no worker is running: every slot failed or "
               "stopped, and a failed slot is not tried again (--failed-retry "
               "0); exiting with status 1 for the service manager to take "
               "over (systemd's Restart=, Kubernetes)");
        p->exit_status = 1;
        zc__loop_stop(&p->loop);
        return;
    }
    zc_log(p->any_failed ? ZC_LOG_WARN : ZC_LOG_INFO, NS,
           "no worker is running and none will be restarted; exiting with "
           "status %d", p->any_failed ? 1 : 0);
    p->exit_status = p->any_failed ? 1 : 0;
    zc__loop_stop(&p->loop);
}

/* Every worker is reaped: nothing can be left behind, so we may exit. */
void zc__respawn_all_stopped(struct zc_primary *p)
{
    zc_log(ZC_LOG_INFO, NS, "all workers stopped in %llu ms, exiting",
           (unsigned long long) ((zc__now_us() - p->shutdown_start_us) / 1000));
    p->exit_status = 0;
    zc__loop_stop(&p->loop);
}

struct slot *zc__respawn_slot_new(struct zc_primary *p, unsigned index)
{
    struct slot *s = calloc(1, sizeof(*s)), *old;

    if (!s)
        return NULL;
    s->p = p;
    s->index = index;
    s->generation = p->generation;
    zc__timer_init(&s->timer, on_slot_timer);
    zc__sticky_slot_init(s);
    /* A slot scaled away and back: its counters go on where they were
     * (Prometheus takes a counter that goes down for a restart). */
    old = index < p->n_kept ? p->slots[index] : NULL;
    if (old) {
        s->restarts = old->restarts;
        s->metrics.cpu_gone_s = old->metrics.cpu_gone_s;
        free(old);
        p->slots[index] = NULL;
    }
    if (index >= p->n_kept)
        p->n_kept = index + 1;
    return s;
}

int zc__respawn_grow_slots(struct zc_primary *p, unsigned n)
{
    unsigned cap = p->cap_slots ? p->cap_slots : 4;
    struct slot **v;

    if (n <= p->cap_slots)
        return 0;
    while (cap < n)
        cap *= 2;
    v = realloc(p->slots, cap * sizeof(*v));
    if (!v)
        return -ENOMEM;
    memset(v + p->cap_slots, 0, (cap - p->cap_slots) * sizeof(*v));
    p->slots = v;
    p->cap_slots = cap;
    return 0;
}
