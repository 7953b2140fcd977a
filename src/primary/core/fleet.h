/*
 * The primary's core types: the fleet, its slots, its worker processes,
 * the walk under way. Features keep their own state in sub-structs they
 * own, each in a header of its own named *-t.h (included below);
 * docs/architecture.md says which file owns which concern. Private to
 * src/primary/.
 */
#ifndef ZC_FLEET_H
#define ZC_FLEET_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "base/creds.h"
#include "base/loop.h"
#include "primary/core/balance-t.h"
#include "primary/core/carry-t.h"
#include "primary/core/collect-t.h"
#include "primary/core/health-t.h"
#include "primary/core/node-t.h"
#include "primary/core/sticky-t.h"
#include "primary/core/strays-t.h"
#include "proto/handlers.h"
#include "proto/ipc.h"
#include "proto/listen.h"
#include "zcluster.h"

#define ZC__PNS "zc:primary"
/* How a walk ended: ZC_RELOAD_DONE, _FAILED, _INTERRUPTED (words.c). */
#define ZC__RELOAD_OUTCOMES 3
#define PLURAL(n) ((n) == 1 ? "" : "s")

/* Sticky and least-conn: the primary accepts every connection and its
 * router hands it to a worker; workers get no listening socket. */
#define ZC__PRIMARY_ACCEPTS(p) ((p)->router != NULL)

struct zc__metrics;
struct zc__endpoint;
struct output;
struct outpipe;
struct router;
struct zc__accept;
struct zc__control;
struct zc__node;

/* How the last reload ended, for status. */
struct last_reload {
    uint64_t generation;    /* 0: none yet */
    int outcome;            /* ZC_RELOAD_* */
    uint64_t end_us;
    char why[256];          /* what the log said of its end */
};

enum slot_state {
    SLOT_EMPTY,     /* no worker, nothing scheduled */
    SLOT_BACKOFF,   /* waiting for its respawn timer */
    SLOT_RUNNING,   /* has a worker */
    SLOT_DONE,      /* stopped for good (exit 0, or --respawn never) */
    SLOT_FAILED     /* given up on (--give-up); its timer: the retry, if any */
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
    uint64_t step_of; /* the walk (serial) whose step ends at its exit */
    /* the ready delay while STARTING; the answer to the shutdown message,
     * then the SIGKILL deadline, while DRAINING */
    struct zc__timer timer;
    /* --ready-timeout, armed by worker.c for a walk's replacement and,
     * with --give-up, for every worker; lifecycle.c decides what its
     * expiry means (hooks.not_ready) */
    struct zc__timer ready_deadline;
    char status[128];               /* last STATUS= it sent, for display */
    struct zc__ipc ipc;             /* link to it; fd -1 if none */
    struct zc__io ipc_io;
    uint32_t ipc_events;            /* what ipc_io is registered for */
    bool linked;        /* said hello: it takes a shutdown message */
    bool stop_acked;    /* said stopping: it needs no stop signal */
    bool stop_sent;     /* the shutdown message or the stop signal went */
    bool signalled;     /* the stop signal went */
    bool retired;       /* replaced or scaled away: never respawned */
    bool deaf;          /* ready, the primary accepting, but it never said
                           hello: it takes no hand-offs (worker.c) */
    bool said_ready;    /* by READY=1, a ready message or Node's
                           "listening": not a timer's guess (watch.c) */
    bool dirty;         /* on p->dirty */
    const char *link_error; /* set by a frame callback: close after the read */
    struct collect_worker metrics;  /* collect.c */
    struct sticky_worker sticky;    /* sticky.c */
    struct balance_worker balance;  /* leastconn.c */
    struct node_worker node;        /* node.c, with --node */
    struct health_worker health;    /* watchdog.c, recycle.c */
    struct outpipe *out[2];         /* output.c: its stdout, stderr */
    /* its CPU and RSS as /proc last told them (status.c) */
    struct proc_sample {
        uint64_t at_us;             /* 0: never read */
        uint64_t cpu_ns;
        long long pages;
        bool ok;
    } sample;
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
    struct collect_slot metrics;    /* collect.c */
    struct sticky_slot sticky;      /* sticky.c */
    struct health_slot health;      /* respawn.c (give-up) */
    struct stuck_slot stuck;        /* watch.c */
};

/* What a walk replaces (walk.c): every slot to a new generation, or the
 * slots picked at the generation they run. */
enum walk_kind {
    WALK_RELOAD,            /* SIGHUP, zclusterctl reload */
    WALK_RESTART,           /* zclusterctl restart SLOT... */
    WALK_RECYCLE,           /* --max-lifetime, --max-memory (recycle.c) */
    WALK_KINDS
};

/* The walk under way (active), or the last one (walk.c owns it). */
struct walk {
    enum walk_kind kind;
    bool active;
    bool again;             /* a reload asked for while active */
    bool pumping;           /* in zc__walk_pump: do not re-enter */
    unsigned surge;         /* steps at a time: --max-surge, or a
                               recycle's --recycle-concurrency */
    uint64_t serial;        /* of this walk, for step_of; restarts say it */
    char name[64];          /* "reload to generation 3", for the log */
    uint64_t pick[ZC_MAX_WORKERS / 64];     /* a restart's or recycle's
                                               slots, a bit each */
    uint64_t generation;
    uint64_t start_us;
    unsigned next;          /* the next slot to step */
    unsigned steps;         /* steps started, to number them */
    unsigned stepping;      /* steps started and not finished */
    unsigned replaced;
    unsigned min_ready;     /* the fewest ready workers seen, */
    unsigned max_alive;     /* and the most processes */
};

/* A walk ended, for the control socket's waiters (hooks.walk_ended). */
struct walk_end {
    enum walk_kind kind;
    uint64_t serial;        /* p->walks when it started */
    uint64_t generation;    /* a reload's target */
    int outcome;            /* ZC_RELOAD_* */
    const char *why;        /* what the log said of its end */
};

struct listener {
    struct zc__addr addr;
    int fd;
    bool adopted;           /* passed to us by systemd: not ours to unlink */
    char text[ZC__ADDR_TEXT_MAX];
    struct balance_listener balance;    /* balance.c */
};

/* The socket slot's worker takes from ln: its own in a --balance
 * reuseport group (balance.c), else the one all share. */
static inline int zc__listener_fd(const struct listener *ln, unsigned slot)
{
    return slot < ln->balance.n ? ln->balance.fds[slot] : ln->fd;
}

/* The worker environment: the primary's own, minus the protocol variables,
 * plus ours. Built once; only the values change from spawn to spawn, so
 * spawning allocates nothing. */
struct worker_env {
    char **envp;
    size_t n_base;
    char *fdnames;          /* "LISTEN_FDNAMES=a:b" */
    char listen_fds[32];
    char listen_pid[40];    /* the child writes its pid after the '=' */
    char watchdog_usec[40]; /* --watchdog: systemd's two variables */
    char watchdog_pid[40];  /* as listen_pid */
    char notify[128];
    char id[48];
    char slot[32];
    char generation[48];
    char ipc_fd[32];
    char ipc_max[48];
    char metrics_fd[32];
    char node_fd[32];       /* --node: NODE_CHANNEL_FD, NODE_UNIQUE_ID */
    char node_id[48];
    char *sticky;           /* "ZC_STICKY=a:b", NULL unless sticky */
};

struct zc_primary {
    struct zc__loop loop;
    zc_options opt;
    struct slot **slots;
    unsigned n_slots, cap_slots;
    unsigned n_kept;            /* slots[] allocated: those past n_slots were
                                   scaled away and keep their counters */
    struct worker *workers;     /* unreaped, newest first */
    struct worker *dead; /* reaped in this batch, freed before the wait */
    struct worker *dirty;       /* with messages to write */
    struct listener *listeners;
    size_t n_listeners;
    int listen_fds[ZC_MAX_LISTEN];
    int notify_fd;
    struct zc__io notify_io;
    int devnull;
    char *const *argv;      /* what each worker executes */
    char *self_path;        /* absolute path of our binary, or NULL: PATH */
    /* The primary's own binary as it was started, for an upgrade: its
     * absolute path (what is there now is what an upgrade executes) and
     * an O_PATH fd of the image running (what a failed one goes back
     * to, whatever happened to the path since); NULL, -1 if unknown. */
    char *exe_path;
    int exe_fd;
    char **own_argv;         /* the primary's own, as it was started */
    sigset_t start_mask;     /* the mask it was started with */
    struct carried *carried; /* handed over by the image before; NULL */
    char *upgrade_config;    /* the config file's name an upgrade carried */
    struct upgrade_info {
        uint64_t count;      /* upgrades that went through, ever */
        uint64_t serial;     /* of the last one asked for */
        int outcome;         /* 0 none, 1 done, -1 failed */
        char why[320];       /* what the log said of its end */
        char from[32];       /* the version it came from */
        uint64_t away_us;    /* exec to the loop running again */
        bool reload_after;   /* --reload: a rolling reload follows */
        uint64_t reload_gen; /* the generation it reloads to; 0 */
        bool pending;        /* asked for: done in before_poll */
        char by[96];         /* who asked, for the log */
    } upgrade;
    struct zc__creds creds; /* who workers run as (identity.c) */
    struct output *output;  /* output.c; NULL: inherited */
    struct worker_env env;
    uint64_t next_worker_id;
    uint64_t generation;    /* the latest, started by the latest reload */
    uint64_t running_generation;    /* of the last reload that went
                                       through: what the fleet runs */
    struct walk walk;
    struct last_reload last_reload;
    uint64_t walks;             /* reloads and restarts started, ever */
    char name[65];              /* the fleet's (zc_options.name or derived) */
    uint64_t start_us;
    char sd_status[96];         /* the last STATUS= told to our manager */
    bool started;           /* the first workers were spawned */
    /* Asked for from a callback, done in before_poll: a callback may run
     * in the middle of a spawn or an exit, where the table must not move
     * under its caller. 0: no scale asked for. */
    bool pending_reload;
    const char *pending_reload_by; /* static text: who asked, for the log */
    unsigned pending_scale;
    /* The options a reload applies when it starts, read from the file or
     * given by zc_primary_reload_options() and checked whole
     * (reconfig.c); the handle owns their strings. */
    struct conf_next {
        bool set;
        zc_options opt;
        zc_config *owner;
        char changes[256]; /* "workers 2 -> 4, env, command" */
    } conf_next;
    /* Owns p->opt's strings once a reload has applied new options; NULL:
     * the caller of zc_cluster_run() does. */
    zc_config *conf_owner;
    bool said_own_sockets;  /* warn_own_sockets() has spoken */
    bool shutting_down;
    bool killing;           /* SIGKILL already sent to every worker */
    bool node_signalled;    /* --node: the stop signal went at the timeout */
    bool announced_ready;
    bool any_ready;         /* a worker of this fleet was ever ready */
    bool any_failed;        /* a worker failed and was not respawned */
    unsigned n_alive;       /* spawned and not yet reaped */
    unsigned n_ready;       /* in W_READY */
    uint64_t shutdown_start_us;
    struct last_stop {          /* the last TERM, INT or QUIT (signals.c) */
        int sig;
        pid_t pid;              /* its sender */
        uint64_t at_us;
    } last_stop;
    struct zc__timer shutdown_timer;
    /* --shutdown-delay: a stop asked for, the drain not yet begun; the
     * fleet serves on, /readyz says it is going (shutdown.c). */
    bool lame_duck;
    uint64_t lame_duck_end_us;
    struct zc__timer lame_duck_timer;
    char lame_duck_by[48];  /* who asked, for the drain's log line */
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
    struct balance_fleet balance;   /* balance.c */
    struct health_fleet health;     /* watchdog.c, recycle.c, respawn.c */
    uint64_t reload_outcomes[ZC__RELOAD_OUTCOMES];  /* by ZC_RELOAD_* */
    uint64_t ipc_dropped;           /* messages not delivered (link.c) */
    struct zc__metrics *metrics;    /* NULL without zc_options.metrics */
    struct zc__endpoint *endpoint;  /* likewise */
    char metrics_addr[ZC__ADDR_TEXT_MAX];   /* where it listens, its port
                                               known; "" without (endpoint.c) */
    /* With sticky or least-conn, chosen once from the mode (router.h);
     * NULL where the kernel spreads connections. Its state is its own. */
    const struct router *router;
    void *router_state;
    struct zc__accept *router_acc;  /* what it accepts with (accept.c) */
    bool router_stopped;            /* shutdown: it takes no more */
    struct zc__control *control;    /* NULL without a control socket */
    struct zc__node *node;          /* --node: the servers bound for workers */
    struct node_fleet node_stats;   /* node.c */
    struct stray_table strays;      /* strays.c */
    /*
     * Set once by setup (run.c). A few events are seen by a file below
     * the one that decides what they mean: a worker's ready timer or
     * policy (worker.c) and its messages (inputs.c) say it is ready, and
     * its link, opened by worker.c, is read by inputs.c. They report
     * through these, so calls between files only ever go down, and every
     * way back up is listed here.
     */
    struct fleet_hooks {
        /* lifecycle.c: w is ready (how says why, for the log) */
        void (*ready)(struct zc_primary *p, struct worker *w, const char *how);
        /* inputs.c: w's link is readable or writable */
        void (*link_io)(struct zc__loop *l, struct zc__io *io, uint32_t events);
        /* lifecycle.c: w's ready deadline passed, w still starting
         * (err 0), or it could not be armed (err -ENOMEM) */
        void (*not_ready)(struct zc_primary *p, struct worker *w, int err);
        /* control.c: every public event (events.c) */
        void (*event)(struct zc_primary *p, const zc_event *e);
        /* control.c: a walk ended (walk.c) */
        void (*walk_ended)(struct zc_primary *p, const struct walk_end *end);
        /* control.c: a line of slot's output, as written (output.c) */
        void (*output_line)(struct zc_primary *p, unsigned slot, const char *s,
                            size_t n);
        /* upgrade.c: an upgrade asked for (by: who); its serial, or
         * -EBUSY (now is not the time) or another -errno, why said */
        long long (*upgrade)(struct zc_primary *p, const char *by, bool reload,
                             char *why, size_t size);
    } hooks;
};

/* Sticky and least-conn: whether the slot has, or will have, a worker
 * that may take hand-offs (one found deaf will not). */
static inline bool zc__slot_awaits_taker(const struct slot *s)
{
    return (s->w && !s->w->deaf) || s->next || s->state == SLOT_BACKOFF;
}

#endif
