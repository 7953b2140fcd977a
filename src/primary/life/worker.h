/* One worker process, from fork to reaping (worker.c). */
#ifndef ZC_PRIMARY_WORKER_H
#define ZC_PRIMARY_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "primary/core/fleet.h"

/* "exited with status 1", "was killed by signal KILL (core dumped)". */
void zc__worker_describe_exit(int status, char *buf, size_t size);
/* Keeps n_ready, and the reload's fewest-ready figure, in step. */
void zc__worker_set_state(struct zc_primary *p, struct worker *w,
                          enum worker_state state);
/* Signals w's process group (w itself if it left it); only while unreaped. */
void zc__worker_signal(struct worker *w, int sig);
/* Starts w's ready policy: ready at once, on a timer, or on its word; and
 * its ready deadline, for a walk's replacement or with --give-up (its
 * expiry, or a failure to arm it, goes to hooks.not_ready). */
void zc__worker_ready_policy(struct zc_primary *p, struct worker *w);
/* How long a worker ready in sticky or least-conn mode has to say hello
 * before it is taken for one that cannot take hand-offs. */
#define ZC__HELLO_GRACE_MS 500
/* w is ready but takes no hand-offs: said once, its clients sent on. */
void zc__worker_found_deaf(struct zc_primary *p, struct worker *w);
/*
 * Starts a worker process for slot s, of generation gen, and logs it with
 * note appended. On failure returns -errno with what failed in what (the
 * program, or the socketpair of its link) for the caller to log; the id
 * it would have had is used up, as a failed fork's would be.
 */
int zc__worker_spawn(struct zc_primary *p, struct slot *s, uint64_t gen,
                     const char *note, struct worker **ret, char *what,
                     size_t what_size);
/* Asks w to drain, by message when it is linked, else by the stop signal;
 * kill_at_us is its own SIGKILL deadline (0: the shutdown timer's).
 * Returns whether the message went, for the log. */
bool zc__worker_stop(struct zc_primary *p, struct worker *w,
                     uint64_t kill_at_us);
/* Out of its slot for good: it drains, within shutdown_timeout. */
void zc__worker_retire(struct zc_primary *p, struct worker *w);
/* Out of its slot at once, with no drain: sig now (and SIGCONT, so that a
 * stopped worker takes it), SIGKILL after grace_ms. */
void zc__worker_kill_after(struct zc_primary *p, struct worker *w, int sig,
                           uint32_t grace_ms);
/* A Node worker closed its channel after Node's disconnect: the stop
 * signal follows if it still runs a second later. */
void zc__worker_node_closed(struct zc_primary *p, struct worker *w);
/* It said it is stopping: no stop signal needed. */
void zc__worker_stop_acked(struct zc_primary *p, struct worker *w);
/* Reaped: out of the list, onto the dead one until the loop waits. */
void zc__worker_forget(struct zc_primary *p, struct worker *w);
struct worker *zc__worker_by_pid(struct zc_primary *p, pid_t pid);
/* A worker process an upgrade handed over: its record, in the list and
 * counted alive, STARTING with no link, no output and no timer running
 * (the caller sets what the image before knew); NULL without memory. */
struct worker *zc__worker_adopt(struct zc_primary *p, struct slot *s,
                                unsigned slot_index, uint64_t id, uint64_t gen,
                                pid_t pid);
/* Teardown on an error path: no worker may outlive the library's call. */
void zc__worker_kill_and_reap_all(struct zc_primary *p);

#endif
