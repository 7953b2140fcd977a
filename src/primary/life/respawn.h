/* Slots and their respawns; the fleet's end (respawn.c). */
#ifndef ZC_RESPAWN_H
#define ZC_RESPAWN_H

#include <stdbool.h>
#include <stdint.h>

#include "base/backoff.h"
#include "primary/core/fleet.h"

/* Uniform in [0, 1), for the jitters. */
double zc__respawn_uniform(struct zc_primary *p);
/* The slot's failures in a row at now, as status and /metrics show them:
 * 0 once its worker has stayed ready for --backoff-reset. */
unsigned zc__respawn_failures(const struct zc_primary *p, const struct slot *s,
                              uint64_t now);
/* A crash, or a failed start: counted on the slot; returns the backoff,
 * jittered. */
uint64_t zc__respawn_count_crash(struct zc_primary *p, struct slot *s);
/* The slot waits delay_ms, then starts a worker. */
void zc__respawn_schedule(struct zc_primary *p, struct slot *s,
                          uint64_t delay_ms);
/* Starts the slot's worker now (or schedules a retry if it cannot). */
void zc__respawn_spawn_slot(struct zc_primary *p, struct slot *s);
/* The slot's serving worker exited on its own (what: the log's words for
 * it): respawn, or not. */
/* With --give-up, w (its slot's, still starting) was never ready: it is
 * stopped, a failure as if it had died. */
void zc__respawn_never_ready(struct zc_primary *p, struct worker *w);
void zc__respawn_lost_worker(struct zc_primary *p, struct slot *s, bool clean,
                             const char *what);
/* A failure of the slot (why: the log's words for it), in its give-up
 * window: true when the slot is failed now (said and handled), false
 * when it goes on as usual. */
bool zc__respawn_counts_failure(struct zc_primary *p, struct slot *s,
                                const char *why);
/* A failed slot's retry, if --failed-retry is set and none is due. */
void zc__respawn_retry_later(struct zc_primary *p, struct slot *s);
/* The same for a worker killed as hung (the watchdog): a failure, whose
 * replacement starts at once the first time in a row. */
void zc__respawn_hung_worker(struct zc_primary *p, struct slot *s,
                             const char *what);
/* Ends the loop when nothing runs and nothing will be restarted. */
void zc__respawn_check_end(struct zc_primary *p);
/* Every worker is reaped after a shutdown: the loop may end. */
void zc__respawn_all_stopped(struct zc_primary *p);
struct slot *zc__respawn_slot_new(struct zc_primary *p, unsigned index);
/* Room for n slots. Returns 0 or -ENOMEM. */
int zc__respawn_grow_slots(struct zc_primary *p, unsigned n);

#endif
