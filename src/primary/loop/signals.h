/* Signals and what each does (signals.c). */
#ifndef ZC_SIGNALS_H
#define ZC_SIGNALS_H

#include <signal.h>
#include <sys/signalfd.h>

#include "primary/core/fleet.h"

/* How many signals the primary takes over (the size of the arrays below). */
#define ZC__N_SIGNALS 8

/* The loop's signal callback. */
void zc__signals_on(struct zc__loop *l, const struct signalfd_siginfo *si);
/*
 * Takes the signals over: blocked (they are read from the signalfd) and at
 * their default disposition. An inherited SIG_IGN would make a signal
 * vanish before it is ever pending, so the signalfd would never see it: a
 * non-interactive shell's "zcluster &" starts with SIGINT ignored, and an
 * ignored SIGCHLD makes the kernel reap workers behind our back. The old
 * state goes into old[ZC__N_SIGNALS] and old_mask for zc__signals_restore().
 */
void zc__signals_take(struct zc_primary *p, struct sigaction *old,
                      sigset_t *old_mask);
void zc__signals_restore(const struct sigaction *old, const sigset_t *old_mask);

#endif
