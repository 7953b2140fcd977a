/*
 * zcluster: run a network server as a fleet of worker processes.
 *
 * This is the one public header of libzcluster. Conventions:
 *
 *   - Functions named as actions return int: >= 0 on success, -errno on
 *     failure (zc_strerror() turns it into text). Predicates return bool.
 *   - Parameters are borrowed unless the name or comment says otherwise.
 *   - Nothing here is thread-safe unless stated; the worker-side getters
 *     only read state parsed once from the environment and are safe
 *     everywhere, including after fork().
 *
 * The worker protocol these functions implement (environment variables,
 * file descriptors, readiness) is documented in docs/protocol.md.
 */
#ifndef ZCLUSTER_H
#define ZCLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define ZC_EXPORT __attribute__((visibility("default")))
#define ZC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define ZC_EXPORT
#define ZC_PRINTF(a, b)
#endif

#define ZC_VERSION "0.1.0"

/* The most workers one primary manages. */
#define ZC_MAX_WORKERS 4096
/* The most listening addresses one primary binds. */
#define ZC_MAX_LISTEN 64

/* When a starting worker counts as ready (zc_options.ready). */
enum {
    ZC_READY_AUTO = 0,  /* READY=1, or after ready_delay_ms up, first wins */
    ZC_READY_NOTIFY,    /* only READY=1 on NOTIFY_SOCKET */
    ZC_READY_IMMEDIATE, /* as soon as it has been started */
    ZC_READY_DELAY      /* after ready_delay_ms up, whatever it says */
};

/* Which exits are followed by a new worker in the slot (zc_options.respawn). */
enum {
    ZC_RESPAWN_ON_FAILURE = 0, /* non-zero status or killed by a signal */
    ZC_RESPAWN_ALWAYS,         /* every exit, exit 0 included */
    ZC_RESPAWN_NEVER           /* none: a slot whose worker exits stays empty */
};

/*
 * What the worker runs. Called in the worker process by zc_cluster_run()
 * with the process's own argc/argv and the arg given to zc_cluster_run();
 * its return value becomes the worker's exit status (0 means "stopped on
 * purpose": not respawned unless respawn is ZC_RESPAWN_ALWAYS).
 */
typedef int (*zc_worker_fn)(int argc, char **argv, void *arg);

/*
 * Options of a fleet. The caller owns the struct (usually on its stack),
 * calls zc_options_init() to set every default, then changes fields.
 * Fields are only ever added at the end.
 */
typedef struct zc_options {
    /* Number of worker slots; 0 means one per CPU available to us. */
    unsigned workers;
    /* Addresses to bind once in the primary and pass to every worker:
     * "HOST:PORT", "[V6]:PORT", ":PORT" (all interfaces), "unix:PATH",
     * "unix:@NAME" (abstract), each optionally "NAME=ADDR" to set its
     * LISTEN_FDNAMES entry. Borrowed; must outlive zc_cluster_run(). */
    const char *const *listen;
    size_t n_listen;
    /* NULL: each worker re-executes this program and runs worker_fn.
     * Otherwise the argv (NULL-terminated) each worker executes; a
     * name without '/' is looked up in PATH at every spawn. Borrowed. */
    char *const *command;
    int ready;                     /* ZC_READY_*, default AUTO */
    uint32_t ready_delay_ms;       /* AUTO and DELAY policies, default 1000 */
    int respawn;                   /* ZC_RESPAWN_*, default ON_FAILURE */
    uint32_t respawn_delay_ms;     /* first respawn delay, default 1000 */
    uint32_t max_respawn_delay_ms; /* backoff cap, default 30000 */
    double backoff_factor;         /* growth per crash, default 2 (>= 1) */
    /* A worker that stays ready this long clears its slot's crash count,
     * default 10000. */
    uint32_t backoff_reset_ms;
    uint32_t shutdown_timeout_ms;  /* drain time before SIGKILL, default 30000 */
    int stop_signal;               /* asks a worker to drain, default SIGTERM */
} zc_options;

/* Set every field of *o to its default. */
ZC_EXPORT void zc_options_init(zc_options *o);

/*
 * Run a fleet, or be one of its workers.
 *
 * In a process started by a zcluster primary (ZC_WORKER_ID is set), call
 * worker_fn(argc, argv, arg) and return what it returns. Otherwise become
 * the primary: bind o->listen, start o->workers workers, keep them alive
 * (respawn with backoff), and on SIGTERM/SIGINT drain them and return.
 *
 * Without o->command the primary re-executes its own program for each
 * worker from the path it was started with (argv[0], made absolute against
 * the start-up directory without resolving symlinks, or found in PATH), so
 * a new binary put at that path is what later workers run.
 *
 * The primary owns the process's signals and children while it runs: call
 * it from the main thread before creating any other thread (workers die
 * with the thread that forked them). It blocks TERM, INT, QUIT, HUP, CHLD,
 * TTIN, TTOU, sets them to their default disposition (an inherited SIG_IGN
 * would hide them), ignores PIPE, and restores all of it before returning.
 * It reaps every child of the process, so children forked before the call
 * are reaped (and logged at debug level) too.
 *
 * Returns an exit status for main() to return: 0 after a clean shutdown or
 * when every worker stopped on purpose; 1 when the fleet could not start
 * (an address in use, say: logged) or ended with failed workers; 2 for
 * invalid options (logged). Never calls exit().
 */
ZC_EXPORT int zc_cluster_run(int argc, char **argv, zc_worker_fn worker_fn,
                             void *arg, const zc_options *o);

/* Worker side. Each reads the environment the primary set (once). */

/* True in a process started by a zcluster primary. */
ZC_EXPORT bool zc_is_worker(void);
/* True when not a worker (a primary, or a program run on its own). */
ZC_EXPORT bool zc_is_primary(void);
/* This worker's unique, increasing id (ZC_WORKER_ID), 0 if not a worker. */
ZC_EXPORT uint64_t zc_worker_id(void);
/* This worker's slot 0..N-1 (ZC_WORKER_SLOT), -1 if not a worker. */
ZC_EXPORT int zc_worker_slot(void);
/* The fleet generation that started this worker (ZC_GENERATION), 0 if none. */
ZC_EXPORT uint64_t zc_worker_generation(void);

/*
 * Number of listening sockets passed to this process (fds 3 .. 3+n-1), by
 * systemd's socket-activation protocol; 0 when LISTEN_PID is not this
 * process. Unlike sd_listen_fds() the variables are left in place.
 */
ZC_EXPORT int zc_listen_fds(void);

/* LISTEN_FDNAMES entry of fd 3+i, or NULL. Valid until the next call. */
ZC_EXPORT const char *zc_listen_fd_name(int i, char *buf, size_t size);

/*
 * Tell the primary this worker is ready to serve (READY=1 on NOTIFY_SOCKET).
 * Returns 0, 0 as well when there is no NOTIFY_SOCKET (not under a
 * manager), or -errno if the message could not be sent.
 */
ZC_EXPORT int zc_worker_ready(void);

/*
 * Send a raw sd_notify state ("STATUS=warming cache", "STOPPING=1") to
 * NOTIFY_SOCKET. Same returns as zc_worker_ready(). Safe after fork().
 */
ZC_EXPORT int zc_notify(const char *state);

/*
 * Check a listen address without binding it. Returns 0 if it parses,
 * -EINVAL if not.
 */
ZC_EXPORT int zc_address_check(const char *addr);

/* zc_listen() flags. */
#define ZC_LISTEN_REUSEPORT 0x1 /* set SO_REUSEPORT (TCP only) */

/*
 * Bind and listen on addr (zc_options.listen syntax) in this process, for a
 * server that runs without a primary. Stores the fd (close-on-exec,
 * blocking) in *ret_fd. Returns 0 or -errno (-EINVAL: addr does not parse).
 */
ZC_EXPORT int zc_listen(const char *addr, int flags, int *ret_fd);

/* Logging: one namespaced, levelled logger for the primary and workers. */

enum { ZC_LOG_ERROR = 0, ZC_LOG_WARN, ZC_LOG_INFO, ZC_LOG_DEBUG, ZC_LOG_TRACE };

/*
 * Log a message under a namespace ("zc:primary", "app:db"). Shown when
 * level <= ZC_LOG_LEVEL (default info), or when level is debug or trace and
 * ns matches the ZC_DEBUG patterns (comma-separated globs, "-" negates:
 * "zc:*,-zc:loop"). Thread-safe as long as the sink is.
 */
ZC_EXPORT void zc_log(int level, const char *ns, const char *fmt, ...)
    ZC_PRINTF(3, 4);
/* Whether zc_log(level, ns, ...) would show anything. */
ZC_EXPORT bool zc_log_is_enabled(int level, const char *ns);

/*
 * Replace where log lines go. fn receives the level, namespace and the
 * formatted message (no newline); NULL restores the default sink, which
 * writes one line per message to stderr with a timestamp, the program name
 * and pid, and the level (coloured on a terminal unless NO_COLOR is set).
 */
typedef void (*zc_log_fn)(int level, const char *ns, const char *msg,
                          void *userdata);
ZC_EXPORT void zc_log_set_sink(zc_log_fn fn, void *userdata);

/* strerror(-r) for a negative errno return. */
ZC_EXPORT const char *zc_strerror(int r);

#ifdef __cplusplus
}
#endif
#endif
