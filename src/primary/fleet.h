/*
 * The primary's worker table: slots, worker processes, the reload under
 * way. Private to the primary: primary.c runs the fleet, expose.c shows
 * it at /metrics.
 */
#ifndef ZC_FLEET_H
#define ZC_FLEET_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "proto/handlers.h"
#include "proto/ipc.h"
#include "proto/listen.h"
#include "base/loop.h"
#include "metrics/layout.h"
#include "zcluster.h"

struct zc__metrics;
struct zc__sticky;
struct conn;

enum slot_state {
    SLOT_EMPTY,     /* no worker, nothing scheduled */
    SLOT_BACKOFF,   /* waiting for its respawn timer */
    SLOT_RUNNING,   /* has a worker */
    SLOT_DONE       /* stopped for good (exit 0, or --respawn never) */
};

enum worker_state {
    W_STARTING,     /* running, not ready yet */
    W_READY,        /* running and ready */
    W_DRAINING,     /* asked to stop */
    W_EXITED        /* reaped; the record is freed before the next wait */
};

struct zc_primary;
struct slot;

struct worker {
    struct zc_primary *p;
    struct worker *prev, *next;     /* p->workers: every unreaped worker */
    struct worker *dirty_next;      /* p->dirty: messages to write */
    struct slot *slot;              /* NULL once retired */
    unsigned slot_index;            /* for the log, kept after retirement */
    enum worker_state state;
    pid_t pid;          /* -1 once reaped: only unreaped pids are signalled */
    uint64_t id;
    uint64_t generation;
    uint64_t started_us;
    uint64_t stop_us;               /* when it was asked to stop */
    uint64_t kill_at_us;            /* SIGKILL deadline; 0: the shutdown's */
    uint64_t step_of;               /* the reload whose step ends at its exit */
    /* the ready delay while STARTING; the answer to the shutdown message,
     * then the SIGKILL deadline, while DRAINING */
    struct zc__timer timer;
    struct zc__timer ready_deadline; /* a reload's replacement only */
    char status[128];               /* last STATUS= it sent, for display */
    struct zc__ipc ipc;             /* link to it; fd -1 if none */
    struct zc__io ipc_io;
    uint32_t ipc_events;            /* what ipc_io is registered for */
    bool linked;        /* said hello: it takes a shutdown message */
    bool stop_acked;    /* said stopping: it needs no stop signal */
    bool stop_sent;     /* the shutdown message or the stop signal went */
    bool signalled;     /* the stop signal went */
    bool retired;       /* replaced or scaled away: never respawned */
    bool dirty;         /* on p->dirty */
    const char *link_error; /* set by a frame callback: close after the read */
    /* metrics (expose.c): its registry, shared with it, and our view of
     * it and of the text snapshots it sends */
    void *metrics_map;
    struct zc__mview *mview;
    bool reports_text;  /* sent a snapshot: asked for one at each scrape */
    bool collecting;    /* asked for one, not answered yet */
    /* sticky.c: its link took no more connections; EPOLLOUT says when */
    bool sticky_blocked;
};

struct slot {
    struct zc_primary *p;
    unsigned index;
    enum slot_state state;
    struct worker *w;           /* serving (or starting); NULL if none */
    struct worker *next;        /* a reload's replacement, until it is ready */
    uint64_t generation;        /* what its respawns are started as */
    uint64_t last_id;           /* of its latest worker, for the log */
    unsigned crashes;           /* in a row; drives the backoff */
    uint64_t ready_us;          /* when its worker became ready; 0 if not */
    struct zc__timer timer;     /* the respawn, in BACKOFF */
    uint64_t backoff_ms;        /* of the respawn scheduled, for /metrics */
    uint64_t restarts;          /* respawns scheduled, ever */
    double cpu_gone_s;          /* CPU time of its workers that have exited */
    /* sticky.c: connections waiting for this slot's worker, oldest first,
     * and the deadline of the oldest */
    struct conn *wait_head, *wait_tail;
    unsigned n_waiting;
    struct zc__timer wait_timer;
    bool sticky_down;           /* waited out: its clients go elsewhere */
};

/* The rolling reload under way (active), or the last one. */
struct reload {
    bool active;
    bool again;             /* asked for again while active */
    bool pumping;           /* in reload_pump: do not re-enter */
    uint64_t generation;
    uint64_t start_us;
    unsigned next;          /* the next slot to step */
    unsigned stepping;      /* steps started and not finished */
    unsigned replaced;
    unsigned min_ready;     /* the fewest ready workers seen, */
    unsigned max_alive;     /* and the most processes */
};

struct listener {
    struct zc__addr addr;
    int fd;
    bool adopted;           /* passed to us by systemd: not ours to unlink */
    char text[ZC__ADDR_TEXT_MAX];
};

/* The worker environment: the primary's own, minus the protocol variables,
 * plus ours. Built once; only the values change from spawn to spawn, so
 * spawning allocates nothing. */
struct worker_env {
    char **envp;
    size_t n_base;
    char *fdnames;          /* "LISTEN_FDNAMES=a:b" */
    char listen_fds[32];
    char listen_pid[40];    /* the child writes its pid after the '=' */
    char notify[128];
    char id[48];
    char slot[32];
    char generation[48];
    char ipc_fd[32];
    char ipc_max[48];
    char metrics_fd[32];
    char *sticky;           /* "ZC_STICKY=a:b", NULL unless sticky */
};

struct zc_primary {
    struct zc__loop loop;
    zc_options opt;
    struct slot **slots;
    unsigned n_slots, cap_slots;
    struct worker *workers;     /* unreaped, newest first */
    struct worker *dead;        /* reaped in this batch, freed before the wait */
    struct worker *dirty;       /* with messages to write */
    struct listener *listeners;
    size_t n_listeners;
    int listen_fds[ZC_MAX_LISTEN];
    int notify_fd;
    struct zc__io notify_io;
    int devnull;
    char *const *argv;      /* what each worker executes */
    char *self_path;        /* absolute path of our binary, or NULL: PATH */
    struct worker_env env;
    uint64_t next_worker_id;
    uint64_t generation;    /* the latest, started by the latest reload */
    struct reload reload;
    bool started;           /* the first workers were spawned */
    /* Asked for from a callback, done in before_poll: a callback may run
     * in the middle of a spawn or an exit, where the table must not move
     * under its caller. 0: no scale asked for. */
    bool pending_reload;
    unsigned pending_scale;
    bool said_own_sockets;  /* warn_own_sockets() has spoken */
    bool shutting_down;
    bool killing;           /* SIGKILL already sent to every worker */
    bool announced_ready;
    bool any_failed;        /* a worker failed and was not respawned */
    unsigned n_alive;       /* spawned and not yet reaped */
    unsigned n_ready;       /* in W_READY */
    uint64_t shutdown_start_us;
    struct zc__timer shutdown_timer;
    sigset_t signals;       /* blocked and read from the signalfd */
    int exit_status;
    struct zc__handlers handlers;
    struct event_fn {
        zc_event_fn fn;
        void *userdata;
    } *event_fns;
    size_t n_event_fns;
    struct rlimit nofile;   /* as we found it; what workers get */
    bool nofile_raised;
    struct zc__metrics *metrics;    /* NULL without zc_options.metrics */
    struct zc__sticky *sticky;      /* NULL without zc_options.sticky */
};

/* primary.c: queues a message for w, written when the loop's batch ends.
 * Returns 0 or -errno as zc_primary_send(). */
int zc__primary_queue(struct zc_primary *p, struct worker *w, const char *type,
                      const void *data, size_t len);
/* primary.c: w's link has something to write or wait for (sticky_blocked):
 * flushed and watched for EPOLLOUT before the loop waits. */
void zc__primary_watch_link(struct zc_primary *p, struct worker *w);

/* -- expose.c: the endpoint, the fleet's metrics, the workers' ----------- */

/* Opens the endpoint at p->opt.metrics. Returns 0 or -errno (logged). */
int zc__expose_start(struct zc_primary *p);
void zc__expose_stop(struct zc_primary *p);
/* A worker is about to be spawned: its shared registry, and the fd to
 * place in it (-1: none). Returns 0 or -errno. */
int zc__expose_spawning(struct zc_primary *p, struct worker *w, int *ret_fd);
/* The worker has started (or could not): close the fd given to it. */
void zc__expose_spawned(struct zc_primary *p, struct worker *w, int fd);
/* A worker's text snapshot ("zc.metrics"). */
void zc__expose_text(struct zc_primary *p, struct worker *w, const void *data,
                     size_t len);
/* A worker was reaped (ru: its resources): keep what it counted. */
void zc__expose_exited(struct zc_primary *p, struct worker *w,
                       const struct rusage *ru);
/* Tallies for the fleet's metrics. */
void zc__expose_reload(struct zc_primary *p, int outcome);
void zc__expose_dropped(struct zc_primary *p);

#endif
