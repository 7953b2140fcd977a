/*
 * Signals become actions here, one table for all (nginx's signals[] idea):
 * TERM and INT drain, QUIT kills, HUP reloads, TTIN and TTOU scale by one,
 * USR2 upgrades the primary, CHLD reaps. They are blocked and read from
 * the loop's signalfd, so no handler ever runs.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/compat.h"
#include "base/log.h"
#include "primary/life/reconfig.h"
#include "primary/life/scale.h"
#include "primary/life/shutdown.h"
#include "primary/life/walk.h"
#include "primary/loop/inputs.h"
#include "primary/loop/lifecycle.h"
#include "primary/loop/signals.h"

#define NS ZC__PNS

/* Two stop signals this close from one sender are one request. */
#define DUPLICATE_US 1000000ull

static void on_sigchld(struct zc_primary *p, const struct signalfd_siginfo *si)
{
    (void) si;
    /* What a worker said before it died (READY=1, STATUS=) is read before
     * its death is handled, whatever order epoll reports the two fds in. */
    zc__inputs_notify_drain(p);
    zc__lifecycle_reap(p);
}

/*
 * timeout(1), and a supervisor that signals a process and then its
 * process group, send one TERM twice, a millisecond apart: that is one
 * request to stop, not the operator's second one that skips the drain.
 * The same signal from the same process (not the kernel's, which is a
 * terminal's ^C) within a second is a duplicate.
 */
static bool duplicate(struct zc_primary *p, const struct signalfd_siginfo *si)
{
    struct last_stop *l = &p->last_stop;
    uint64_t now = zc__now_us();
    bool dup = (p->shutting_down || p->lame_duck) && si->ssi_pid != 0 &&
               l->sig == (int) si->ssi_signo && l->pid == (pid_t) si->ssi_pid &&
               now - l->at_us < DUPLICATE_US;

    *l = (struct last_stop) { (int) si->ssi_signo, (pid_t) si->ssi_pid, now };
    return dup;
}

static void on_stop(struct zc_primary *p, const struct signalfd_siginfo *si)
{
    int sig = (int) si->ssi_signo;
    char by[32];

    snprintf(by, sizeof(by), "received SIG%s", zc__signal_name(sig));
    if (duplicate(p, si)) {
        zc_log(ZC_LOG_INFO, NS,
               "%s again from pid %u within a second: the "
               "same request (a process and its group signalled together), "
               "still stopping; send it again later, or QUIT, to kill now",
               by, (unsigned) si->ssi_pid);
        return;
    }
    if (sig == SIGQUIT)
        zc__shutdown_begin(p, by, false);
    else
        zc__shutdown_request(p, by);
}

static void on_hup(struct zc_primary *p, const struct signalfd_siginfo *si)
{
    char why[512];

    (void) si;
    if (zc__reconfig_prepare(p, NULL, why, sizeof(why)) < 0) {
        zc_log(ZC_LOG_ERROR, NS,
               "received SIGHUP: reload refused, the fleet "
               "runs on as it was: %s",
               why);
        return;
    }
    (void) zc__reconfig_reload(p, "received SIGHUP");
}

/* One worker more or less, as gunicorn and unicorn do. */
static void on_scale_signal(struct zc_primary *p,
                            const struct signalfd_siginfo *si)
{
    int sig = (int) si->ssi_signo;
    bool up = sig == SIGTTIN;
    char by[32];

    snprintf(by, sizeof(by), "received SIG%s", zc__signal_name(sig));
    if (up ? p->n_slots >= ZC_MAX_WORKERS : p->n_slots <= 1) {
        zc_log(ZC_LOG_WARN, NS,
               "%s: already at %u worker%s, the %s; ignoring "
               "it",
               by, p->n_slots, PLURAL(p->n_slots), up ? "most" : "fewest");
        return;
    }
    (void) zc__scale_to(p, up ? p->n_slots + 1 : p->n_slots - 1, by);
}

/* nginx's and HAProxy's signal for a new binary: here the primary
 * executes it in its own pid (upgrade.c). */
static void on_usr2(struct zc_primary *p, const struct signalfd_siginfo *si)
{
    char why[400];

    (void) si;
    /* A refusal is logged there, with the reason; nothing stays pending. */
    (void) p->hooks.upgrade(p, "received SIGUSR2", false, why, sizeof(why));
}

/* What each signal does, as one table (nginx's signals[] idea). */
static const struct {
    int sig;
    void (*fn)(struct zc_primary *p, const struct signalfd_siginfo *si);
} signal_actions[] = {
    { SIGCHLD, on_sigchld },      { SIGTERM, on_stop },
    { SIGINT, on_stop },          { SIGQUIT, on_stop },
    { SIGHUP, on_hup },           { SIGTTIN, on_scale_signal },
    { SIGTTOU, on_scale_signal }, { SIGUSR2, on_usr2 },
};

#define N_SIGNALS (sizeof(signal_actions) / sizeof(signal_actions[0]))
_Static_assert(N_SIGNALS == ZC__N_SIGNALS, "ZC__N_SIGNALS is the table's size");

void zc__signals_on(struct zc__loop *l, const struct signalfd_siginfo *si)
{
    struct zc_primary *p = zc__container_of(l, struct zc_primary, loop);

    for (size_t i = 0; i < N_SIGNALS; i++)
        if ((int) si->ssi_signo == signal_actions[i].sig) {
            signal_actions[i].fn(p, si);
            return;
        }
}

/* The signals of signal_actions[], taken over as signals.h says; the old
 * state is saved for zc__signals_restore(). */
void zc__signals_take(struct zc_primary *p, struct sigaction *old,
                      sigset_t *old_mask)
{
    struct sigaction dfl = { .sa_handler = SIG_DFL };

    sigemptyset(&p->signals);
    for (size_t i = 0; i < N_SIGNALS; i++)
        sigaddset(&p->signals, signal_actions[i].sig);
    (void) sigprocmask(SIG_BLOCK, &p->signals, old_mask);
    for (size_t i = 0; i < N_SIGNALS; i++)
        (void) sigaction(signal_actions[i].sig, &dfl, &old[i]);
}

void zc__signals_restore(const struct sigaction *old,
                         const sigset_t *old_mask)
{
    for (size_t i = 0; i < N_SIGNALS; i++)
        (void) sigaction(signal_actions[i].sig, &old[i], NULL);
    (void) sigprocmask(SIG_SETMASK, old_mask, NULL);
}
