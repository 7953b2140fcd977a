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

/* A build may give its own (-DZC_VERSION=...), as the upgrade tests'
 * second image of the tool does; releases never do. */
#ifndef ZC_VERSION
#define ZC_VERSION "0.4.0"
#endif

/* The most workers one primary manages. */
#define ZC_MAX_WORKERS 4096
/* The most listening addresses one primary binds. */
#define ZC_MAX_LISTEN 64

/* Typed messages (IPC): the longest type, the most fds one message carries,
 * and the default largest payload (zc_options.ipc_max_message). */
#define ZC_IPC_TYPE_MAX 64
#define ZC_IPC_FDS_MAX 16
#define ZC_IPC_MAX_MESSAGE (16u * 1024 * 1024)

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

/* How new connections reach workers (zc_options.balance). */
enum {
    /* One socket per address, shared by every worker: the kernel wakes
     * the most recently idle one, so bursts pile onto few workers. */
    ZC_BALANCE_SHARED = 0,
    /* One socket per slot and address, all the primary's, in one
     * SO_REUSEPORT group per address: the kernel spreads connections over
     * the slots whose worker takes them, and a dead worker's queue waits
     * in its slot's socket for the replacement. Unix sockets stay shared. */
    ZC_BALANCE_REUSEPORT,
    /* The primary accepts and hands each connection to the ready worker
     * with the fewest open (docs/library.md, "Balancing"). */
    ZC_BALANCE_LEAST_CONN,
    /* The primary accepts and hands each connection to the worker of the
     * slot its client's address hashes to (same as sticky = true). */
    ZC_BALANCE_STICKY,
    /* The default: ZC_BALANCE_REUSEPORT, or ZC_BALANCE_STICKY with
     * sticky = true. Every worker gets its share of the connections
     * without being asked; a worker that stops accepting is steered
     * around (docs/library.md, "Balancing"). */
    ZC_BALANCE_AUTO
};

/* What a watchdog miss does (zc_options.watchdog_action). */
enum {
    /* watchdog_signal, then SIGKILL after watchdog_grace_ms; the slot's
     * next worker starts without waiting for it to go */
    ZC_WATCHDOG_KILL = 0,
    ZC_WATCHDOG_LOG         /* logged and counted, nothing else */
};

/* What ends with a worker (zc_options.kill_mode), as systemd's
 * KillMode=. */
enum {
    /* its process group: when the worker ends, or is stopped, what it
     * started in its group gets the stop signal too, and SIGKILL at the
     * drain deadline; processes re-parented to the primary likewise */
    ZC_KILL_GROUP = 0,
    /* the worker alone: what it started is left running (and reaped when
     * it exits, if it was re-parented to the primary) */
    ZC_KILL_PROCESS
};

/* zc_options.output: where the workers' stdout and stderr go. */
enum {
    /* prefix, or json when the primary logs JSON (log_format) */
    ZC_OUTPUT_AUTO = 0,
    /* through the primary, line by line: "name[slot 1 id 4 pid 312 gen 1
     * out] text", never two workers' bytes in one line */
    ZC_OUTPUT_PREFIX,
    /* through the primary, one JSON object per line */
    ZC_OUTPUT_JSON,
    /* the primary's own stdout and stderr, as they are: no copy, no
     * names, lines of two workers may mix */
    ZC_OUTPUT_INHERIT
};

/* zc_options.output_overflow: what the primary does when its own stdout
 * or stderr cannot take the workers' lines as fast as they come. */
enum {
    ZC_OVERFLOW_WAIT = 0, /* stops reading: the workers wait to write */
    ZC_OVERFLOW_DROP      /* drops whole lines, counts them */
};

/* zc_options.log_format: the primary's own log lines. */
enum {
    ZC_LOG_FORMAT_TEXT = 0, /* "12:00:00.123 info  zc:primary: ..." */
    ZC_LOG_FORMAT_JSON      /* one JSON object per line */
};

typedef struct zc_primary zc_primary;

/*
 * Sticky sessions: picks the slot, 0 .. count-1, for a client whose
 * address is addr, as text the way Node prints socket.remoteAddress
 * ("192.0.2.7" on an IPv4 socket, "::ffff:192.0.2.7" for an IPv4 client
 * of a dual-stack socket, "2001:db8::7"; "" for a unix socket). A result
 * of count or more is taken modulo count. Called in the primary for every
 * connection: it must be quick and must not block.
 */
typedef unsigned (*zc_hash_fn)(const char *addr, unsigned count, void *userdata);

/* The spec's _defaultIpHash: DJB2 over addr's bytes, kept to 31 bits,
 * modulo count (0 when count is 0). The default zc_hash_fn. */
ZC_EXPORT unsigned zc_default_ip_hash(const char *addr, unsigned count);

/*
 * Called once in the primary, after the sockets are bound and before the
 * first worker starts, with the arg given to zc_cluster_run(): the place to
 * register message handlers and event callbacks. A negative return stops
 * the start (zc_cluster_run() returns 1).
 */
typedef int (*zc_primary_fn)(zc_primary *p, void *arg);

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
 *
 * ABI: fields are only ever added at the end, and the struct says its own
 * size. zc_options_init() is a macro that passes sizeof(*o) as this
 * program was built, so a program built against this header keeps working
 * with every later libzcluster.so.0: the library writes and reads only
 * the fields the program's struct has, and gives the later ones their
 * defaults. A program built against a newer header than the library may
 * run too, as long as it leaves the fields the library does not know at
 * their defaults (zero); otherwise zc_cluster_run() refuses its options.
 *
 * Strings and arrays the struct points to are borrowed: the caller owns
 * them and keeps them alive and unchanged until zc_cluster_run() returns
 * (listen, listen_room, command, metrics, name, control, control_group,
 * sticky_hash_arg).
 */
typedef struct zc_options {
    /* sizeof(zc_options) as the program was built; set by
     * zc_options_init(), never by hand. */
    uint32_t struct_size;
    /* Number of worker slots; 0 means one per CPU available to us. */
    unsigned workers;
    /* Addresses to bind once in the primary and pass to every worker:
     * "HOST:PORT", "[V6]:PORT", ":PORT" (all interfaces), "unix:PATH",
     * "unix:@NAME" (abstract), each optionally "NAME=ADDR" to set its
     * LISTEN_FDNAMES entry. The library never writes through it:
     * zc_option_set() appends to listen_room. Borrowed. */
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
    /* Library mode: called in the primary before workers start; NULL. */
    zc_primary_fn primary_init;
    /* Largest message payload either way, default ZC_IPC_MAX_MESSAGE;
     * workers learn it from ZC_IPC_MAX_MESSAGE. */
    uint32_t ipc_max_message;
    /* Bytes queued per worker before a send fails with -ENOBUFS, default
     * 1 MiB (a larger message still goes when nothing is queued). */
    uint32_t ipc_queue_max;
    /* A reload's replacement must be ready within this, or the reload
     * stops, default 10000. */
    uint32_t ready_timeout_ms;
    /* Slots a reload replaces at a time, default 1; the fleet then never
     * has more than workers + max_surge processes. */
    unsigned max_surge;
    /* "HOST:PORT" where the primary serves /metrics, /healthz and /readyz
     * (docs/library.md, "Metrics"); NULL: no endpoint, and workers get no
     * shared registry. Borrowed. */
    const char *metrics;
    /* A client of that endpoint must send its whole request within this,
     * and an idle keep-alive connection is closed after it, default 5000. */
    uint32_t metrics_timeout_ms;
    /* How long a scrape waits for the workers that report by message
     * (docs/protocol.md, "Metrics"), default 500; the others cost nothing. */
    uint32_t metrics_wait_ms;
    /* Bytes of each worker's shared registry, default 1 MiB (pages cost
     * memory only once used). */
    uint32_t metrics_memory;
    /* Sticky sessions (docs/library.md, "Sticky sessions"): the primary
     * accepts every connection itself and hands it, over the worker's
     * IPC link, to the worker of the slot sticky_hash picks for the
     * client's address. Workers get no listening sockets; they take
     * connections with zc_worker_on_connection(). */
    bool sticky;
    /* How long a connection waits for its slot's worker (starting, or
     * restarting after a crash) before it goes to the next slot with a
     * ready worker, default 2000. */
    uint32_t sticky_wait_ms;
    /* Connections that may wait per slot, default 1024; past it, a new
     * one goes to the next slot with a ready worker at once. */
    uint32_t sticky_queue;
    /* NULL: zc_default_ip_hash. */
    zc_hash_fn sticky_hash;
    void *sticky_hash_arg;
    /* With sticky: every connection starts with a PROXY protocol header
     * (v1 or v2), read by the primary. The client address in it is what
     * is hashed and what the worker is told. */
    bool proxy_protocol;
    /* The header must arrive within this, or the connection is closed,
     * default 5000. */
    uint32_t proxy_timeout_ms;
    /* ZC_BALANCE_*, default ZC_BALANCE_AUTO (an even spread). Before
     * 0.2 the default was ZC_BALANCE_SHARED. ZC_BALANCE_STICKY and
     * sticky = true are the same. */
    int balance;
    /* With ZC_BALANCE_LEAST_CONN: a worker is handed at most this many
     * open connections; when every ready worker has that many, the
     * primary stops accepting and the kernel's backlog holds the rest.
     * 0 (the default): no limit. */
    unsigned max_conns_per_worker;
    /* The fleet's name, for the control socket and zclusterctl -n
     * (docs/control.md): 1 to 64 of [A-Za-z0-9_.@-]. NULL: the base name
     * of the command (or of this program). Borrowed. */
    const char *name;
    /* Where the control socket is: NULL for the default place
     * ($RUNTIME_DIRECTORY, /run/zcluster for root, $XDG_RUNTIME_DIR/
     * zcluster, /tmp/zcluster-UID; then NAME.sock), "none" for no
     * control socket, or a path. Borrowed. */
    const char *control;
    /* A group (name or number) whose members may use the control socket
     * too; NULL: only root and our own uid. Borrowed. */
    const char *control_group;
    /* Workers are Node.js cluster workers (docs/protocol.md, "Node.js
     * workers"): each gets Node's IPC channel (NODE_CHANNEL_FD) and
     * NODE_UNIQUE_ID, its server.listen() gets a socket of the primary's,
     * its "listening" is its readiness, and it is stopped with Node's
     * disconnect. */
    bool node;
    /*
     * Worker health (docs/health.md). The watchdog: a worker silent for
     * watchdog_ms (0, the default: off; else at least 100) misses. Linked
     * workers are pinged by the library from zc_worker_dispatch() and
     * zc_worker_run(); others send WATCHDOG=1 (systemd's protocol: they get
     * WATCHDOG_USEC and WATCHDOG_PID). A worker is watched from its first
     * ping, or from readiness with watchdog_require.
     */
    uint32_t watchdog_ms;
    bool watchdog_require;
    int watchdog_signal;            /* default SIGABRT */
    uint32_t watchdog_grace_ms;     /* then SIGKILL, default 5000 */
    int watchdog_action;            /* ZC_WATCHDOG_*, default KILL */
    /* Recycling: a worker up this long (0, default: no limit), or whose
     * resident memory exceeds max_memory bytes (0: none; read from /proc
     * every 5 s, or every watchdog period if shorter), is replaced, new
     * worker first, like one step of a reload. Each worker's limits are
     * lowered by a random part of up to recycle_jitter (0..1, default 0.1)
     * so that workers started together do not recycle together. */
    uint32_t max_lifetime_ms;
    uint64_t max_memory;
    double recycle_jitter;
    unsigned recycle_concurrency;   /* at once, default 1 */
    uint32_t recycle_spacing_ms;    /* between two starts, default 10000 */
    /* Give-up: a slot whose workers failed give_up_count times (0, the
     * default: never give up) within give_up_window_ms stops respawning
     * and is failed; it is tried again after failed_retry_ms (default 5
     * minutes; 0: never), by a restart of it, or by a reload. */
    unsigned give_up_count;
    uint32_t give_up_window_ms;
    uint32_t failed_retry_ms;
    /* Each respawn delay d becomes d * (1 - backoff_jitter * u), u uniform
     * in [0, 1): slots that crashed together come back apart. 0..1,
     * default 0.5. */
    double backoff_jitter;
    /* ZC_KILL_GROUP (default) or ZC_KILL_PROCESS: whether what a worker
     * started ends with it (the primary is a child subreaper, so
     * processes that leave a worker's group come back to it). */
    int kill_mode;
    /* Room for ZC_MAX_LISTEN addresses that zc_option_set(o, "listen", ...)
     * appends to (and points listen at); NULL: that call fails. The
     * caller's array, writable. Borrowed. */
    const char **listen_room;
    /* Since 0.3.0. Workers run as user (a name or a number, "USER:GROUP"
     * for another group than the user's) with the user's supplementary
     * groups, set between fork and exec; group alone changes only the
     * group. NULL (the default): as the primary. Needs a root primary,
     * unless it is already that user. Borrowed. */
    const char *user;
    const char *group;
    /* A worker's working directory (entered as its user), NULL: the
     * primary's; its umask, -1 (the default): the primary's. */
    const char *chdir;
    int umask;
    /* ZC_OUTPUT_* (default AUTO), ZC_OVERFLOW_* (default WAIT),
     * ZC_LOG_FORMAT_* (default TEXT, or JSON when ZC_LOG_FORMAT=json is
     * in the environment): docs/logging.md. */
    int output;
    int output_overflow;
    int log_format;
    /* Since 0.4.0. Variables added to every worker's environment, each
     * "KEY=VALUE", in place of an inherited KEY; the worker protocol's own
     * (LISTEN_FDS, ZC_*, ...) are refused. zc_option_set(o, "env", ...)
     * appends to env_room (ZC_MAX_ENV entries), as listen does. Borrowed. */
    const char *const *env;
    size_t n_env;
    const char **env_room;
    /* The configuration file these options were read from
     * (zc_config_load()), NULL: none. A reload (SIGHUP, zclusterctl
     * reload, zc_primary_reload()) reads it again, with config_overrides
     * on top, and applies it (docs/configuration.md). Borrowed. */
    const char *config;
    /* What wins over the file at every reading, NULL-terminated: "name=
     * value" ("name" for a flag), as on the command line, then perhaps
     * "--" and the command's words. Borrowed. */
    char *const *config_overrides;
    /* Lame duck: on SIGTERM (or zclusterctl stop) /readyz answers 503 at
     * once and the fleet goes on serving for this long, so that balancers
     * and Kubernetes stop sending before the listeners close; then the
     * drain. A second stop request skips the rest of it. 0 (the default):
     * the drain starts at once. */
    uint32_t shutdown_delay_ms;
} zc_options;

/* The most env entries a zc_options holds. */
#define ZC_MAX_ENV 256

/*
 * Sets every field of *o to its default and o->struct_size to size, the
 * size of the struct as the caller was built (zc_options_init passes
 * it). Returns 0, or -EINVAL when size is too small to be a zc_options
 * (nothing is written then).
 */
ZC_EXPORT int zc_options_init_sized(zc_options *o, size_t size);
#define zc_options_init(o) zc_options_init_sized((o), sizeof(*(o)))

/*
 * Options by name: one table that the zcluster tool's parser, its --help
 * and the checks share, so a new option is one row, and a program of
 * yours can take the tool's options the way the tool does. Each row is a
 * long option name ("respawn-delay") and the field it sets.
 */
typedef struct zc_option_info {
    const char *name;       /* long name, without "--" */
    char short_name;        /* 'w' for -w, or 0 */
    const char *arg;        /* the value's name in help ("MS"); NULL: a flag */
    const char *help;       /* what it does, one sentence, no default */
    bool repeatable;        /* may be given more than once (listen) */
    /* Since 0.4.0: a reload with new options may change it; NULL, or why
     * it needs a restart ("the sockets are bound once, at start"). */
    const char *restart_only;
} zc_option_info;

/* The i-th row (0, 1, ... in --help order); NULL past the last. The rows
 * are static: safe from any thread. */
ZC_EXPORT const zc_option_info *zc_option_get(size_t i);

/*
 * Sets the option called name from text, the way the tool's command line
 * does: durations take ms, s or m ("500", "500ms", "2s"), signals a name
 * or a number, flags no value (NULL). Returns 0; -ENOENT for an unknown
 * name; -EINVAL for a value that does not parse or is out of range, with
 * a sentence for the user in why (of why_size bytes, may be NULL):
 * "invalid --workers '0': expected a whole number from 1 to 4096". value
 * is borrowed by o for the string options (listen, metrics). "listen"
 * appends to o->listen_room, which must have room for ZC_MAX_LISTEN
 * addresses, and points o->listen at it (-EINVAL when it is NULL or full,
 * or when o->listen points at another array). -ENOENT too for an option
 * whose field o's struct, built against an older header, does not have.
 */
ZC_EXPORT int zc_option_set(zc_options *o, const char *name,
                            const char *value, char *why, size_t why_size);

/*
 * Writes the option's value in o as the tool would take it ("30s", "5m",
 * "48M", "TERM", "on-failure", "delay:500ms"), or what it means when it
 * is unset ("one per CPU", "none", "the command's name"), into buf (of size bytes, '\0'-terminated,
 * truncated if need be). Returns the length it needed, or -ENOENT.
 * zc_options_init() then this is how --help prints its defaults.
 */
ZC_EXPORT int zc_option_format(const zc_options *o, const char *name,
                               char *buf, size_t size);

/*
 * Checks what no single option can: --respawn-delay above
 * --max-respawn-delay, --proxy-protocol without --sticky, --sticky with no
 * address to accept on (has_inherited: the process was given sockets by
 * systemd, LISTEN_FDS). Returns 0, or -EINVAL with a sentence in why.
 * zc_cluster_run() checks all of it again (logged, status 2).
 */
ZC_EXPORT int zc_options_check(const zc_options *o, bool has_inherited,
                               char *why, size_t why_size);

/*
 * A configuration file (docs/configuration.md): one option a line, as
 * "name = value" with the long option's name ("workers = 4", "listen =
 * :8080"), "#" comment lines, repeatable listen and env lines, flags as
 * "sticky = on" (on/off, true/false, yes/no), the worker's command as
 * "command = ./shop --port 8080". Each value is one word as a POSIX shell
 * reads it (single quotes, double quotes, backslashes; nothing else), the
 * command as many.
 *
 * zc_config_load() applies the file at path to o (set up by
 * zc_options_init(); what the file does not say stays as it is), then
 * overrides (o->config_overrides' format; NULL: none), which win; a
 * listen or env given in overrides replaces the file's list. It sets
 * o->config to the file's absolute path and o->config_overrides to a copy
 * of overrides, so a reload of the fleet reads the same again. Returns a
 * handle that owns every string o now points to (free it with
 * zc_config_free() once o is no longer used), or NULL with a sentence in
 * why that names the file and line: "shop.conf:3: unknown option
 * 'wokers' (did you mean 'workers'?)". The check zc_options_check() makes
 * is left to the caller.
 */
typedef struct zc_config zc_config;
ZC_EXPORT zc_config *zc_config_load(zc_options *o, const char *path,
                                    char *const *overrides, char *why,
                                    size_t why_size);
ZC_EXPORT void zc_config_free(zc_config *c);
/*
 * o as a configuration file that zc_config_load() reads back to the same
 * options: every option that differs from its default, workers always
 * (unless 0), then env and command. Returns a string to free(), or NULL
 * (no memory).
 */
ZC_EXPORT char *zc_config_format(const zc_options *o);

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

/*
 * Worker side, about this process: zc_self_* read what the primary put in
 * the environment, need no zc_worker handle, and are safe from any thread
 * and after fork() (the environment is read once, under pthread_once, and
 * never again: a later setenv() is not seen). The methods of a zc_worker
 * handle are the zc_worker_* calls further down.
 *
 * Older names, kept as aliases in libzcluster.so.0: zc_is_worker
 * (zc_self_is_worker), zc_worker_id, zc_worker_slot, zc_worker_generation,
 * zc_worker_ready, zc_worker_is_sticky, zc_worker_conn_closed (zc_self_*
 * of the same name), and zc_is_primary, which is !zc_self_is_worker(): true
 * in a primary and in a program run on its own alike.
 */

/* True in a process started by a zcluster primary (ZC_WORKER_ID is set). */
ZC_EXPORT bool zc_self_is_worker(void);
/* This worker's unique, increasing id (ZC_WORKER_ID), 0 if not a worker. */
ZC_EXPORT uint64_t zc_self_id(void);
/* This worker's slot 0..N-1 (ZC_WORKER_SLOT), -1 if not a worker. */
ZC_EXPORT int zc_self_slot(void);
/* The fleet generation that started this worker (ZC_GENERATION), 0 if none. */
ZC_EXPORT uint64_t zc_self_generation(void);

ZC_EXPORT bool zc_is_worker(void);          /* zc_self_is_worker() */
ZC_EXPORT bool zc_is_primary(void);         /* !zc_self_is_worker() */
ZC_EXPORT uint64_t zc_worker_id(void);      /* zc_self_id() */
ZC_EXPORT int zc_worker_slot(void);         /* zc_self_slot() */
ZC_EXPORT uint64_t zc_worker_generation(void);  /* zc_self_generation() */

/*
 * Number of listening sockets passed to this process (fds 3 .. 3+n-1), by
 * systemd's socket-activation protocol; 0 when LISTEN_PID is not this
 * process. Unlike sd_listen_fds() the variables are left in place.
 */
ZC_EXPORT int zc_listen_fds(void);

/* LISTEN_FDNAMES entry of fd 3+i, written into buf (size bytes, truncated
 * if need be). Returns buf, which the caller owns, or NULL when there is
 * no such entry (i out of range, no LISTEN_FDNAMES, size 0). */
ZC_EXPORT const char *zc_listen_fd_name(int i, char *buf, size_t size);

/*
 * Tell the primary this worker is ready to serve (READY=1 on NOTIFY_SOCKET).
 * Returns 0, 0 as well when there is no NOTIFY_SOCKET (not under a
 * manager), or -errno if the message could not be sent.
 */
ZC_EXPORT int zc_self_ready(void);
ZC_EXPORT int zc_worker_ready(void);        /* zc_self_ready() */

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

/*
 * Typed messages between the primary and its workers (docs/protocol.md,
 * "Typed messages"). A message has a type (1..ZC_IPC_TYPE_MAX printable
 * ASCII bytes), an opaque payload of up to ipc_max_message bytes and up to
 * ZC_IPC_FDS_MAX file descriptors. Types starting with "zc." and the names
 * hello, ready, status, stopping and shutdown are reserved: handlers may
 * be registered for them (they run after the library has acted on the
 * message), but the send functions refuse them with -EINVAL.
 */

/* A received message, valid for the duration of the handler call. */
typedef struct zc_msg {
    const char *type;       /* NUL-terminated */
    const void *data;       /* payload (not NUL-terminated) */
    size_t len;
    int *fds;               /* received fds, owned by the library */
    size_t n_fds;
    uint64_t worker_id;     /* in the primary: the sender; in a worker: 0 */
    int slot;               /* in the primary: the sender's slot; else -1 */
} zc_msg;

/*
 * Takes received fd i out of m: the caller owns it from here on (it is
 * close-on-exec). Fds not taken are closed after the last handler.
 * Returns the fd, or -EBADF if i is out of range or already taken.
 */
ZC_EXPORT int zc_msg_take_fd(zc_msg *m, size_t i);

/*
 * A message handler. Handlers of one type run in registration order; a
 * negative return is logged as that handler's failure ("handler 2 for
 * 'config' failed: ...") and the next handler still runs.
 */
typedef int (*zc_msg_fn)(zc_msg *m, void *userdata);

/* What happened to a worker (zc_primary_on_event). */
enum {
    ZC_EVENT_SPAWNED = 0,   /* started: pid set */
    ZC_EVENT_READY,         /* counts as ready (the --ready policy) */
    ZC_EVENT_EXITED,        /* reaped: status is the wait status */
    ZC_EVENT_RESPAWN,       /* a new worker for the slot in delay_ms */
    ZC_EVENT_RELOADED,      /* a rolling reload ended: status is a
                               ZC_RELOAD_*, generation its generation;
                               worker_id 0, slot and pid -1 */
    ZC_EVENT_WATCHDOG,      /* a worker missed its watchdog: delay_ms is how
                               long it was silent, status the action
                               (ZC_WATCHDOG_*) */
    ZC_EVENT_RECYCLE,       /* a worker is being recycled: status is a
                               ZC_RECYCLE_* */
    ZC_EVENT_GAVE_UP        /* a slot failed give_up_count times within the
                               window and stopped respawning: delay_ms is
                               when it is tried again (0: never) */
};

/* Why a worker is recycled (ZC_EVENT_RECYCLE's status). */
enum {
    ZC_RECYCLE_LIFETIME = 0,    /* up max_lifetime_ms (less its jitter) */
    ZC_RECYCLE_MEMORY           /* resident memory over max_memory */
};

/* How a rolling reload ended (ZC_EVENT_RELOADED's status). */
enum {
    ZC_RELOAD_DONE = 0,     /* every slot runs the new generation */
    ZC_RELOAD_FAILED,       /* a replacement exited or was not ready in time */
    ZC_RELOAD_INTERRUPTED   /* a shutdown began during it */
};

typedef struct zc_event {
    int type;               /* ZC_EVENT_* */
    uint64_t worker_id;
    int slot;
    int pid;
    uint64_t generation;
    int status;             /* EXITED: as from waitpid(); else 0 */
    uint64_t delay_ms;      /* RESPAWN: the backoff delay; else 0 */
} zc_event;

typedef int (*zc_event_fn)(const zc_event *e, void *userdata);

/*
 * Primary side. p is the handle passed to zc_options.primary_init; it is
 * valid until zc_cluster_run() returns, and every call must come from the
 * primary's thread (from primary_init or from a callback).
 */

/* Calls fn for each message of this type from any worker. type is copied.
 * Returns 0, -EINVAL (bad type), -ENOMEM. */
ZC_EXPORT int zc_primary_on(zc_primary *p, const char *type, zc_msg_fn fn,
                            void *userdata);
/* Calls fn for every worker event, after the callbacks registered before
 * it; a negative return from fn is logged and the others still run.
 * Returns 0, -EINVAL (p or fn NULL), -ENOMEM. */
ZC_EXPORT int zc_primary_on_event(zc_primary *p, zc_event_fn fn, void *userdata);

/*
 * Sends a message to the live worker with this id. The payload is copied
 * and fds are duplicated, so both stay the caller's. Messages are written
 * when the primary's loop is next idle, many per write. Returns 0;
 * -ESRCH if no live worker has that id; -EINVAL for a bad or reserved
 * type or more than ZC_IPC_FDS_MAX fds; -EMSGSIZE for a payload over
 * ipc_max_message; -ENOBUFS when that worker's queue is full (it is not
 * reading); -ENOTCONN when its link is closed.
 */
ZC_EXPORT int zc_primary_send(zc_primary *p, uint64_t worker_id,
                              const char *type, const void *data, size_t len,
                              const int *fds, size_t n_fds);
/*
 * Sends a message to every live worker, each once. Returns how many
 * workers it was queued for; a worker whose queue is full is skipped (and
 * logged at debug level). Errors as zc_primary_send() for the message
 * itself.
 */
ZC_EXPORT int zc_primary_broadcast(zc_primary *p, const char *type,
                                   const void *data, size_t len);

/*
 * Asks for a rolling reload, as SIGHUP does: slot by slot (max_surge at
 * a time, never more than workers + max_surge processes) a worker of the
 * next generation is started from the program's path as it is now on
 * disk; once it is ready the old one is retired (drained, never
 * respawned). A replacement that exits, or is not ready within
 * ready_timeout_ms, stops the reload: it is stopped, and every slot not
 * yet replaced keeps its worker. ZC_EVENT_RELOADED tells how it ended.
 *
 * Like zc_primary_scale(), it takes effect when the current callback and
 * the others of the loop's batch have returned, before the loop waits
 * again: a callback may run in the middle of a spawn or an exit.
 *
 * Returns 0 when a reload will start; 1 when one was already asked for
 * (the same one) or is under way (one more follows it, if it succeeds;
 * asking again changes nothing); -ECANCELED during shutdown; -EAGAIN in
 * primary_init, before any worker has started.
 */
ZC_EXPORT int zc_primary_reload(zc_primary *p);
/*
 * With a configuration file (zc_options.config), zc_primary_reload() and
 * SIGHUP first read it again, with the overrides on top, and check the
 * whole before any worker is touched: a file that does not read, an
 * option out of range, or a change to an option that needs a restart
 * (zc_option_info.restart_only) refuses the reload (-EINVAL from
 * zc_primary_reload(), logged with the file and line) and the fleet runs
 * on as it was. Otherwise the reload starts the new command, arguments
 * and environment, and the fleet is scaled to the new worker count as part
 * of it.
 *
 * zc_primary_reload_options() is the same with options given by the
 * program: o (from zc_options_init(), or zc_config_load()) is copied,
 * checked, and applied by the reload that follows; the callbacks
 * (primary_init, sticky_hash) stay the running ones. Returns what
 * zc_primary_reload() returns, or -EINVAL with a sentence in why.
 */
ZC_EXPORT int zc_primary_reload_options(zc_primary *p, const zc_options *o,
                                        char *why, size_t why_size);

/* zc_primary_upgrade(): a rolling reload of the workers follows. */
#define ZC_UPGRADE_RELOAD 1u
/*
 * Upgrades the primary in place, as SIGUSR2 and `zclusterctl upgrade` do
 * (docs/upgrade.md): the program at the path this process was started
 * from (argv[0], made absolute at start) is run once in a check mode, and
 * if it says it reads this image's state, this process executes it, in
 * its own pid, once the callback's batch has returned. The workers, the
 * sockets, the links and their queues, the metrics and the counters are
 * handed over and never stopped or closed. The new image calls
 * primary_init again, then zc_primary_last_upgrade() says how it went; if
 * it cannot take the fleet over it executes this image again, which says
 * why. ZC_UPGRADE_RELOAD in flags: a rolling reload of the workers
 * follows a successful upgrade.
 *
 * Returns the upgrade's serial (>= 1); -EBUSY during a reload, a shutdown
 * or another upgrade, before the first workers started, or while
 * something is half on its way (try again); -ENOTSUP for a primary that
 * cannot tell its own binary; another -errno when the new binary failed
 * its check. why (of why_size bytes, may be NULL) says which, or what is
 * about to happen.
 */
ZC_EXPORT long long zc_primary_upgrade(zc_primary *p, unsigned flags, char *why,
                                       size_t why_size);
/*
 * How the last upgrade of this fleet went: 1 done, -1 failed (this image
 * is the one it started from, or the new one went back to it), 0 none
 * yet or one under way. *serial (may be NULL) is its serial; why (may be
 * NULL) the sentence the log said.
 */
ZC_EXPORT int zc_primary_last_upgrade(const zc_primary *p, uint64_t *serial,
                                      char *why, size_t why_size);
/*
 * Sets the number of slots, as SIGTTIN/SIGTTOU do one at a time: new
 * slots start a worker at once; removed slots (the highest first) retire
 * their workers, which drain. Takes effect after the callback's batch
 * (see zc_primary_reload), the last call of a batch winning; in
 * primary_init it sets at once how many the fleet starts with. Returns 0;
 * -EINVAL for 0 or more than ZC_MAX_WORKERS; -ECANCELED during shutdown;
 * -ENOMEM (from primary_init).
 */
ZC_EXPORT int zc_primary_scale(zc_primary *p, unsigned workers);
/* The number of slots, a scaling asked for and not yet done included. */
ZC_EXPORT unsigned zc_primary_workers(const zc_primary *p);

/*
 * Worker side: the worker's link to its primary, a drain helper in the
 * spec's lifecycle order, and a small event loop for workers without one.
 *
 * Your own loop: watch zc_worker_fd() for readability (epoll, libev,
 * libuv's uv_poll, io_uring poll) and call zc_worker_dispatch() when it is
 * readable. Ours: zc_worker_watch() your fds, then zc_worker_run().
 */
typedef struct zc_worker zc_worker;

/* zc_worker_new() flags. */
#define ZC_WORKER_SIGNALS 0x1   /* SIGTERM and SIGINT start the drain */

/*
 * Opens the link (ZC_IPC_FD) and says hello to the primary. In a process
 * not started by a primary it succeeds without a link (sends then fail
 * with -ENOTCONN), so the same program runs on its own. With
 * ZC_WORKER_SIGNALS it blocks SIGTERM and SIGINT and reads them from a
 * signalfd: call it before creating threads. Returns 0 and *ret, or
 * -ENOMEM, -EBADF (ZC_IPC_FD is not a socket), -errno.
 */
ZC_EXPORT int zc_worker_new(zc_worker **ret, int flags);
/* Closes the link and everything zc_worker_new opened. NULL is a no-op. */
ZC_EXPORT void zc_worker_free(zc_worker *w);
/* Whether this worker has a link to a primary. */
ZC_EXPORT bool zc_worker_is_linked(const zc_worker *w);

/* Calls fn for each message of this type from the primary, after the
 * handlers of that type registered before it; type is copied, and may be
 * a reserved one ("shutdown") to watch it. Returns 0, -EINVAL (w or fn
 * NULL, type not 1..64 printable bytes), -ENOMEM. */
ZC_EXPORT int zc_worker_on(zc_worker *w, const char *type, zc_msg_fn fn,
                           void *userdata);

/* True in a worker of a sticky fleet (ZC_STICKY is set): its connections
 * come from the primary (zc_worker_on_connection), not from listening
 * sockets. */
ZC_EXPORT bool zc_self_is_sticky(void);
ZC_EXPORT bool zc_worker_is_sticky(void);   /* zc_self_is_sticky() */

/* A connection a sticky primary handed over (docs/protocol.md, "Sticky
 * sessions"). Strings are valid for the duration of the callback. */
typedef struct zc_conn {
    int fd;                 /* connected stream socket, non-blocking and
                               close-on-exec: the callback's from the call
                               on, whatever it returns. The primary may
                               hold its copy a moment longer: with epoll,
                               EPOLL_CTL_DEL before close() */
    unsigned listener;      /* the listen address it came in on (0-based) */
    const char *client;     /* the client's address as hashed (zc_hash_fn);
                               with proxy_protocol, the header's source */
    unsigned client_port;   /* 0 for a unix socket */
    const char *server;     /* from a PROXY header: the address the client
                               connected to; NULL otherwise (getsockname) */
    unsigned server_port;
} zc_conn;

typedef int (*zc_conn_fn)(zc_worker *w, const zc_conn *c, void *userdata);

/*
 * Calls fn for every connection the primary hands this worker, with the
 * connection's fd, which fn then owns (a negative return is logged; the
 * fd is still fn's). One callback per worker: a second call replaces
 * the first. Without one, handed connections are closed, with a warning.
 */
ZC_EXPORT int zc_worker_on_connection(zc_worker *w, zc_conn_fn fn,
                                      void *userdata);

/*
 * Says that a connection the primary handed to this process is closed.
 * With ZC_BALANCE_LEAST_CONN the primary hands each new connection to the
 * worker with the fewest open, and this is how it learns of a close: a
 * relaxed add into memory this worker shares with it, no system call.
 * A worker that never calls it is counted by what it was handed, so the
 * primary hands connections out in turn. Safe from any thread; a no-op
 * cost in a process that no primary started.
 */
ZC_EXPORT void zc_self_conn_closed(void);
ZC_EXPORT void zc_worker_conn_closed(void); /* zc_self_conn_closed() */

/*
 * Sends a message to the primary, which sees this worker's id and slot.
 * The payload is copied, fds are duplicated. Outside zc_worker_dispatch()
 * it is written at once if nothing is queued; inside, messages are
 * written together when the dispatch ends. Returns 0, -ENOTCONN (no link,
 * or the primary is gone), -EINVAL, -EMSGSIZE, -ENOBUFS (queue full: the
 * primary is not keeping up; retry after a dispatch), -errno.
 */
ZC_EXPORT int zc_worker_send(zc_worker *w, const char *type, const void *data,
                             size_t len, const int *fds, size_t n_fds);

/* The one fd to watch for readability (an epoll fd). */
ZC_EXPORT int zc_worker_fd(const zc_worker *w);
/*
 * Does whatever is ready without blocking: reads and dispatches messages,
 * writes queued ones, handles signals, drain deadlines and watched fds.
 * Each call is also the watchdog's ping (zcluster --watchdog): the fd
 * above becomes readable twice a period for it, so a loop that calls this
 * whenever the fd is readable is never taken for hung, and one that stops
 * turning for a period is (docs/health.md).
 * Returns 0 to carry on, 1 once the drain has finished (the worker should
 * now exit), or -errno.
 */
ZC_EXPORT int zc_worker_dispatch(zc_worker *w);

/* Built-in loop: fn(fd, events, userdata) runs when fd has events
 * (EPOLLIN, EPOLLOUT: sys/epoll.h values). One registration per fd; fd
 * stays the caller's. Returns 0, -EINVAL (w or fn NULL, fd < 0),
 * -EEXIST (fd already watched), -ENOMEM, or -errno from epoll (-EPERM for
 * a regular file). A negative return from fn is logged. */
typedef int (*zc_io_fn)(int fd, uint32_t events, void *userdata);
ZC_EXPORT int zc_worker_watch(zc_worker *w, int fd, uint32_t events,
                              zc_io_fn fn, void *userdata);
/* Stops watching fd (before closing it). -ENOENT if it was not watched. */
ZC_EXPORT int zc_worker_unwatch(zc_worker *w, int fd);
/* Runs dispatch until the drain has finished. Returns 0 or -errno. */
ZC_EXPORT int zc_worker_run(zc_worker *w);

/*
 * The drain, in the spec's lifecycle order. Hooks registered for a phase
 * run in registration order; a negative return is logged and the next
 * hook still runs.
 */
enum {
    ZC_DRAIN_BEFORE = 0,        /* before-shutdown hooks */
    ZC_DRAIN_STOP_ACCEPTING,    /* close or unwatch listening sockets */
    ZC_DRAIN_CLOSE_LONG_LIVED,  /* WebSocket 1001, end SSE streams */
    ZC_DRAIN_IN_FLIGHT,         /* return how many requests are still open */
    ZC_DRAIN_FORCE_CLOSE,       /* only at the drain timeout: cut them off */
    ZC_DRAIN_CLOSE_RESOURCES,   /* databases, files */
    ZC_DRAIN_AFTER,             /* shutdown hooks */
    ZC_DRAIN_PHASES
};

/*
 * A drain hook. For ZC_DRAIN_IN_FLIGHT, return the number of requests
 * still in flight: while the sum over the hooks is above 0 the drain
 * waits, until zc_worker_drain_progress() finds it at 0 or the timeout
 * runs FORCE_CLOSE. Other phases return 0, or -errno on failure.
 */
typedef int (*zc_drain_fn)(zc_worker *w, int phase, void *userdata);
/* Registers fn for phase (ZC_DRAIN_*), after the hooks of that phase
 * registered before it. Returns 0, -EINVAL (w or fn NULL, phase out of
 * range), -ENOMEM. */
ZC_EXPORT int zc_worker_on_drain(zc_worker *w, int phase, zc_drain_fn fn,
                                 void *userdata);

/*
 * Starts the drain now (idempotent), with timeout_ms for in-flight work.
 * The library starts it itself on a "shutdown" message (with the time
 * the primary gives), on the stop signals with ZC_WORKER_SIGNALS
 * (30000 ms), and when the primary is gone (EOF on the link; 5000 ms).
 * The primary is told with a "stopping" message.
 */
ZC_EXPORT int zc_worker_drain(zc_worker *w, uint32_t timeout_ms);
/* In-flight work may have finished: re-asks the IN_FLIGHT hooks. */
ZC_EXPORT void zc_worker_drain_progress(zc_worker *w);
/* Whether the drain has started. */
ZC_EXPORT bool zc_worker_is_draining(const zc_worker *w);

/*
 * Metrics: counters, gauges and histograms, with labels, in the worker
 * (docs/library.md, "Metrics"). The primary serves the sum over its
 * workers at /metrics (zc_options.metrics), with the fleet's own metrics.
 *
 * A worker's registry lives in memory its primary shares, so a scrape
 * sees every increment up to that moment, and a worker killed with
 * SIGKILL loses nothing: counters and histograms of workers that have
 * exited are kept in the sum, so they never go down across restarts and
 * reloads. Gauges are summed over the live workers, or kept one series
 * per worker with ZC_METRIC_PER_WORKER. In a process not started by a
 * primary, the same calls work on private memory.
 *
 * Creating a metric or a label set allocates and takes a lock (once);
 * after that, zc_metric_inc/add/set/adjust/observe make no system call,
 * allocate nothing, and are safe from any thread. Register metrics in the
 * worker process itself: processes it forks share the values and may
 * update them, but must not register.
 */
enum { ZC_COUNTER = 0, ZC_GAUGE, ZC_HISTOGRAM };

/* zc_metric_new() flags. */
#define ZC_METRIC_PER_WORKER 0x1    /* gauge: one series per worker, with
                                       labels slot and worker, not summed */

typedef struct zc_metric zc_metric;

/*
 * Registers a metric family. name follows Prometheus ([a-zA-Z_:]
 * [a-zA-Z0-9_:]*, not starting with "zcluster_", which the fleet's own
 * metrics use); labels is NULL or comma-separated label names ("method,
 * code"; [a-zA-Z_][a-zA-Z0-9_]*, no "__" prefix; not "le" in a histogram,
 * not "slot" or "worker" in a per-worker gauge); help is one line of text. With no labels, *ret is the one series, ready to update;
 * with labels, get a series per label set from zc_metric_with(). Returns 0,
 * -EINVAL (logged: which rule the name broke), -EEXIST (the name is
 * taken), -ENOSPC (the registry's memory is full: zc_options.
 * metrics_memory), -ENOMEM.
 */
ZC_EXPORT int zc_metric_new(zc_metric **ret, int type, const char *name,
                            const char *help, const char *labels, int flags);
/* The same for a histogram: buckets are the upper bounds, strictly
 * increasing and finite (+Inf is added), at most 64; NULL for the usual
 * .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10 (seconds). */
ZC_EXPORT int zc_histogram_new(zc_metric **ret, const char *name,
                               const char *help, const char *labels,
                               const double *buckets, size_t n_buckets);
/*
 * The series of family m for these label values, one per label name, in
 * order (UTF-8 text). The first call for a label set creates it; later
 * calls find it. Keep the handle for the hot path. Returns 0, -EINVAL
 * (m is a series, or a value is not UTF-8), -ENOSPC, -ENOMEM.
 */
ZC_EXPORT int zc_metric_with(zc_metric *m, zc_metric **ret,
                             const char *const *values);

/* Counter: adds n (inc: 1). */
ZC_EXPORT void zc_metric_add(zc_metric *m, uint64_t n);
ZC_EXPORT void zc_metric_inc(zc_metric *m);
/* Gauge: sets it, or adds delta (may be negative). */
ZC_EXPORT void zc_metric_set(zc_metric *m, double v);
ZC_EXPORT void zc_metric_adjust(zc_metric *m, double delta);
/* Histogram: counts v in its bucket and adds it to the sum. */
ZC_EXPORT void zc_metric_observe(zc_metric *m, double v);
/* These do nothing on a handle of another type or on a labelled family. */

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

/* ---------------------------------------------------------------------
 * The control socket's client side: what zclusterctl is made of
 * (docs/control.md). A fleet serves HTTP/1.1 on a unix socket; these find
 * it, ask it, and read its answers' JSON lines.
 * ------------------------------------------------------------------- */

#define ZC_CONTROL_NAME_MAX 64

typedef struct zc_control_fleet {
    char name[ZC_CONTROL_NAME_MAX + 1];
    char path[108];             /* its socket */
    long pid;                   /* of its primary; 0 if not told */
} zc_control_fleet;

/*
 * The fleets this user may control: those in this user's default
 * directory (the one a fleet started by this user with no --control would
 * use), then root's (/run/zcluster), that answer a connection, sorted by
 * name. Writes at most max, sets *n to how many there are. Returns 0, or
 * -errno if neither directory can be read (-ENOENT: no fleet ever ran).
 */
ZC_EXPORT int zc_control_list(zc_control_fleet *out, size_t max, size_t *n);

/* The socket of fleet name: the first that exists of this user's default
 * directory, a unit's RuntimeDirectory=zcluster/NAME in it, then root's
 * /run/zcluster likewise; else the one in this user's directory. A socket
 * there that this user may not connect to answers -EACCES. 0, -EINVAL for
 * a bad name, -ENAMETOOLONG. */
ZC_EXPORT int zc_control_path(const char *name, char *path, size_t size);

/* Called with each line of an answer's body, without its newline; a
 * negative return stops reading and is returned. */
typedef int (*zc_control_line_fn)(const char *line, size_t len,
                                  void *userdata);

/*
 * One request to the socket at path: method ("GET", "POST") and target
 * ("/reload?wait=1"). Waits at most timeout_ms for the whole answer (0:
 * no limit). Returns the HTTP status (fn has had every line of the body),
 * or -errno: -ENOENT or -ECONNREFUSED (no fleet there), -EACCES (the
 * socket's mode), -EPERM (it is in a directory anybody may write to, and
 * not in a sticky one as ours or root's: it could be anybody's, so it is
 * not spoken to), -ETIMEDOUT, -EPROTO (not an answer we can read), or
 * fn's own.
 */
ZC_EXPORT int zc_control_request(const char *path, const char *method,
                                 const char *target, uint32_t timeout_ms,
                                 zc_control_line_fn fn, void *userdata);

/*
 * The value of a top-level key of one JSON object (a line of an answer):
 * a string unescaped, anything else (number, true, null, an object) as
 * its text. Returns its length (out is cut at size - 1 and terminated),
 * or -ENOENT when the key is absent, -EINVAL when json is not an object.
 */
ZC_EXPORT int zc_control_field(const char *json, size_t len, const char *key,
                               char *out, size_t size);

#ifdef __cplusplus
}
#endif
#endif
