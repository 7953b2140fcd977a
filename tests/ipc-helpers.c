/*
 * Library-mode fleets for the IPC tests: "test-runner --helper ipc_fleet
 * MODE [N] [ARG]" is the primary (zc_cluster_run with primary_init), and
 * re-executed, each of its workers. Both sides report with zc_log lines
 * under "test", which the tests wait for.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "test.h"

#define T "test"

static const char *mode;
static const char *mode_arg;    /* MODE's argument, or NULL */
static unsigned n_workers;
static unsigned n_ready;
static uint64_t slot0_id;       /* the worker of slot 0, for "slow" */

/* -- primary side --------------------------------------------------------- */

static const char *const event_names[] = {
    "spawned", "ready", "exited", "respawn", "reloaded", "watchdog",
    "recycle", "gave-up",
};

static long fd_count(void)
{
    char path[64];
    long n = 0;

    for (int fd = 0; fd < 4096; fd++) {
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        n += access(path, F_OK) == 0;
    }
    return n;
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;

    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = atol(line + 6);
    if (f)
        fclose(f);
    return kib;
}

static void flood_slow_worker(zc_primary *p, uint64_t id)
{
    char msg[64] = "spam";
    unsigned long n = 0;
    long before = rss_kib();
    int r;

    /* 64-byte messages, then 256 KiB ones, to a worker that never reads. */
    while ((r = zc_primary_send(p, id, "spam", msg, sizeof(msg), NULL, 0)) == 0 &&
           n < 10000000)
        n++;
    zc_log(ZC_LOG_INFO, T, "slow: %lu small messages queued, then: %s", n,
           zc_strerror(r));
    {
        static char big[256 * 1024];

        for (int i = 0; i < 1000; i++)
            if ((r = zc_primary_send(p, id, "spam", big, sizeof(big), NULL, 0)) < 0)
                break;
        zc_log(ZC_LOG_INFO, T, "slow: big message refused: %s", zc_strerror(r));
    }
    zc_log(ZC_LOG_INFO, T, "slow: primary rss grew %ld KiB", rss_kib() - before);
}

static int on_event(const zc_event *e, void *userdata)
{
    zc_primary *p = userdata;

    zc_log(ZC_LOG_INFO, T, "event %s worker %llu slot %d status %d delay %llu "
           "generation %llu", event_names[e->type],
           (unsigned long long) e->worker_id, e->slot, e->status,
           (unsigned long long) e->delay_ms, (unsigned long long) e->generation);
    if (e->type == ZC_EVENT_SPAWNED && e->slot == 0)
        slot0_id = e->worker_id;
    if (e->type != ZC_EVENT_READY || ++n_ready != n_workers)
        return 0;
    zc_log(ZC_LOG_INFO, T, "primary fds %ld rss %ld", fd_count(), rss_kib());
    if (strcmp(mode, "basic") == 0 || strcmp(mode, "python") == 0) {
        int n = zc_primary_broadcast(p, "ping", "b1", 2);

        zc_log(ZC_LOG_INFO, T, "broadcast queued for %d", n);
        if (strcmp(mode, "basic") == 0)
            zc_log(ZC_LOG_INFO, T, "send to %llu: %s", (unsigned long long) e->worker_id,
                   zc_strerror(zc_primary_send(p, e->worker_id, "direct", "d1", 2,
                                               NULL, 0)));
        zc_log(ZC_LOG_INFO, T, "send to nobody: %s",
               zc_strerror(zc_primary_send(p, 999999, "direct", "x", 1, NULL, 0)));
        zc_log(ZC_LOG_INFO, T, "reserved type: %s",
               zc_strerror(zc_primary_broadcast(p, "shutdown", "", 0)));
    } else if (strcmp(mode, "slow") == 0) {
        flood_slow_worker(p, slot0_id);
        /* The fleet still works: the other worker answers. */
        zc_log(ZC_LOG_INFO, T, "broadcast queued for %d",
               zc_primary_broadcast(p, "ping", "b2", 2));
    }
    return 0;
}

static int on_pong(zc_msg *m, void *userdata)
{
    (void) userdata;
    zc_log(ZC_LOG_INFO, T, "pong from worker %llu slot %d: %.*s",
           (unsigned long long) m->worker_id, m->slot, (int) m->len,
           (const char *) m->data);
    return 0;
}

static int order_1(zc_msg *m, void *userdata)
{
    (void) m;
    (void) userdata;
    zc_log(ZC_LOG_INFO, T, "order handler 1");
    return 0;
}

static int order_2(zc_msg *m, void *userdata)
{
    (void) m;
    (void) userdata;
    return -EIO;
}

static int order_3(zc_msg *m, void *userdata)
{
    (void) m;
    (void) userdata;
    zc_log(ZC_LOG_INFO, T, "order handler 3");
    return 0;
}

/* The worker passed a pipe's read end with its text waiting in it; we
 * answer with a pipe of our own. */
static int on_fd_pass(zc_msg *m, void *userdata)
{
    zc_primary *p = userdata;
    char buf[64] = "";
    int fd = zc_msg_take_fd(m, 0), back[2];
    ssize_t n;

    if (fd < 0)
        return fd;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    zc_log(ZC_LOG_INFO, T, "fd from worker %llu carried: %s",
           (unsigned long long) m->worker_id, n > 0 ? buf : "(nothing)");
    zc_log(ZC_LOG_INFO, T, "second take: %s", zc_strerror(zc_msg_take_fd(m, 0)));
    if (pipe2(back, O_CLOEXEC) == -1)
        return -errno;
    (void) !write(back[1], "from-primary", 12);
    close(back[1]);
    n = zc_primary_send(p, m->worker_id, "fd-back", NULL, 0, &back[0], 1);
    close(back[0]);
    return (int) n;
}

static unsigned long flood_got;

static int on_flood(zc_msg *m, void *userdata)
{
    (void) m;
    (void) userdata;
    flood_got++;
    return 0;
}

static int on_flood_done(zc_msg *m, void *userdata)
{
    (void) userdata;
    zc_log(ZC_LOG_INFO, T, "flood done: got %lu of %.*s; primary rss %ld",
           flood_got, (int) m->len, (const char *) m->data, rss_kib());
    return 0;
}

static int on_report(zc_msg *m, void *userdata)
{
    (void) userdata;
    zc_log(ZC_LOG_INFO, T, "report from worker %llu: %.*s",
           (unsigned long long) m->worker_id, (int) m->len, (const char *) m->data);
    return 0;
}

/* control: a worker asks, the primary calls the library. */
static int on_do_reload(zc_msg *m, void *userdata)
{
    zc_primary *p = userdata;
    int first = zc_primary_reload(p), second = zc_primary_reload(p);

    (void) m;
    zc_log(ZC_LOG_INFO, T, "reload calls returned %d then %d", first, second);
    return 0;
}

static int on_do_scale(zc_msg *m, void *userdata)
{
    zc_primary *p = userdata;
    char text[16];
    int r;

    snprintf(text, sizeof(text), "%.*s", (int) m->len, (const char *) m->data);
    r = zc_primary_scale(p, (unsigned) atoi(text));
    zc_log(ZC_LOG_INFO, T, "scale to %s returned %d; %u workers", text, r,
           zc_primary_workers(p));
    return 0;
}

/* reconf: new options from the program, first ones that move the
 * listener (refused), then 3 workers with a variable of their own. */
static int on_do_reconf(zc_msg *m, void *userdata)
{
    zc_primary *p = userdata;
    const char *moved[] = { "127.0.0.1:1" }, *env_room[ZC_MAX_ENV];
    const char *listen[] = { "127.0.0.1:0" };
    char why[512] = "";
    zc_options o;
    int r;

    (void) m;
    zc_options_init(&o);
    o.listen = moved;
    o.n_listen = 1;
    r = zc_primary_reload_options(p, &o, why, sizeof(why));
    zc_log(ZC_LOG_INFO, T, "moved listener: reload_options returned %d: %s", r,
           why);
    zc_options_init(&o);
    o.listen = listen;
    o.n_listen = 1;
    o.ready = ZC_READY_NOTIFY;
    o.workers = 3;
    o.env_room = env_room;
    if (zc_option_set(&o, "env", "ZT_RECONF=three", why, sizeof(why)) < 0)
        zc_log(ZC_LOG_ERROR, T, "env: %s", why);
    r = zc_primary_reload_options(p, &o, why, sizeof(why));
    zc_log(ZC_LOG_INFO, T, "3 workers: reload_options returned %d", r);
    return 0;
}

#define BLOBS 200
#define BLOB_SIZE 4096

/* upgrade: worker 1 asks for BLOBS messages and does not read its link
 * for a while; they are queued here, more than its socket holds, and
 * zc_primary_upgrade() is asked for (twice: the second is refused) with
 * them still queued: the next image must send the rest. */
static int on_do_upgrade(zc_msg *m, void *userdata)
{
    static char blob[BLOB_SIZE];
    char why[512] = "";
    long long r;
    int sent = 0;

    for (int i = 0; i < BLOBS; i++)
        sent += zc_primary_send(userdata, m->worker_id, "blob", blob,
                                sizeof(blob), NULL, 0) == 0;
    zc_log(ZC_LOG_INFO, T, "queued %d blobs for worker %llu", sent,
           (unsigned long long) m->worker_id);
    r = zc_primary_upgrade(userdata, 0, why, sizeof(why));
    zc_log(ZC_LOG_INFO, T, "upgrade returned %lld: %s", r, why);
    r = zc_primary_upgrade(userdata, 0, why, sizeof(why));
    zc_log(ZC_LOG_INFO, T, "again: upgrade returned %lld: %s", r, why);
    return 0;
}

static int primary_init(zc_primary *p, void *arg)
{
    uint64_t serial = 0;

    (void) arg;
    /* In every image: the new one says which upgrade brought it. */
    if (strcmp(mode, "upgrade") == 0) {
        int o = zc_primary_last_upgrade(p, &serial, NULL, 0);

        zc_log(ZC_LOG_INFO, T, "init: upgrade serial %llu, outcome %d",
               (unsigned long long) serial, o);
    }
    zc_primary_on(p, "do-upgrade", on_do_upgrade, p);
    zc_primary_on_event(p, on_event, p);
    zc_primary_on(p, "pong", on_pong, NULL);
    zc_primary_on(p, "order", order_1, NULL);
    zc_primary_on(p, "order", order_2, NULL);
    zc_primary_on(p, "order", order_3, NULL);
    zc_primary_on(p, "fd-pass", on_fd_pass, p);
    zc_primary_on(p, "flood", on_flood, NULL);
    zc_primary_on(p, "flood-done", on_flood_done, NULL);
    zc_primary_on(p, "report", on_report, NULL);
    zc_primary_on(p, "do-reload", on_do_reload, p);
    zc_primary_on(p, "do-scale", on_do_scale, p);
    zc_primary_on(p, "do-reconf", on_do_reconf, p);
    if (strcmp(mode, "control") == 0) {
        /* Before the first spawn: nothing to reload; scaling sets the
         * count the fleet starts with. */
        zc_log(ZC_LOG_INFO, T, "init: reload returned %d", zc_primary_reload(p));
        zc_log(ZC_LOG_INFO, T, "init: scale returned %d",
               zc_primary_scale(p, n_workers + 1));
        n_workers++;
    }
    return 0;
}

/* -- worker side ---------------------------------------------------------- */

static zc_worker *self;

static void say(const char *type, const char *text)
{
    int r = zc_worker_send(self, type, text, strlen(text), NULL, 0);

    if (r < 0)
        zc_log(ZC_LOG_ERROR, T, "send %s: %s", type, zc_strerror(r));
}

static int w_ping_fails(zc_msg *m, void *userdata)
{
    (void) m;
    (void) userdata;
    return -EINVAL;
}

static int w_blob(zc_msg *m, void *userdata)
{
    static int got;

    (void) userdata;
    if (m->len == BLOB_SIZE && ++got == BLOBS)
        zc_log(ZC_LOG_INFO, T, "worker %llu got %d blobs",
               (unsigned long long) zc_self_id(), got);
    return 0;
}

static int w_ping(zc_msg *m, void *userdata)
{
    char text[64];

    (void) userdata;
    snprintf(text, sizeof(text), "%llu:%.*s", (unsigned long long) zc_self_id(),
             (int) m->len, (const char *) m->data);
    say("pong", text);
    if (zc_self_slot() == 0) {
        int pfd[2];

        say("order", "");
        if (pipe2(pfd, O_CLOEXEC) == 0) {
            snprintf(text, sizeof(text), "via-fd %llu", (unsigned long long) zc_self_id());
            (void) !write(pfd[1], text, strlen(text));
            zc_worker_send(self, "fd-pass", NULL, 0, &pfd[0], 1);
            close(pfd[0]);
            close(pfd[1]);
        }
    }
    return 0;
}

static int w_direct(zc_msg *m, void *userdata)
{
    (void) userdata;
    zc_log(ZC_LOG_INFO, T, "worker %llu got direct: %.*s",
           (unsigned long long) zc_self_id(), (int) m->len, (const char *) m->data);
    return 0;
}

static int w_fd_back(zc_msg *m, void *userdata)
{
    char buf[64] = "", text[96];
    int fd = zc_msg_take_fd(m, 0);

    (void) userdata;
    if (fd >= 0) {
        (void) !read(fd, buf, sizeof(buf) - 1);
        close(fd);
    }
    snprintf(text, sizeof(text), "fd-back read: %s", buf);
    say("report", text);
    return 0;
}

/* Sends count messages, waiting on the queue when it is full. */
static int worker_flood(unsigned long count)
{
    char msg[64] = { 0 }, text[32];

    for (unsigned long i = 0; i < count;) {
        int r = zc_worker_send(self, "flood", msg, sizeof(msg), NULL, 0);

        if (r == -ENOBUFS) {
            /* The queue waits for the link to be writable: the worker's
             * fd says when. */
            struct pollfd pf = { .fd = zc_worker_fd(self), .events = POLLIN };

            (void) poll(&pf, 1, 1000);
            zc_worker_dispatch(self);
            continue;
        }
        if (r < 0)
            return 1;
        i++;
    }
    snprintf(text, sizeof(text), "%lu", count);
    say("flood-done", text);
    return zc_worker_run(self) < 0;
}

/* drain / drain-timeout: every phase logs; in-flight work ends on a
 * timer (drain) or never (drain-timeout). */
static int busy = 1;
static int timer_fd = -1;

static int on_phase(zc_worker *w, int phase, void *userdata)
{
    static const char *const names[] = {
        "before", "stop-accepting", "close-long-lived", "in-flight",
        "force-close", "close-resources", "after",
    };
    (void) w;
    (void) userdata;
    zc_log(ZC_LOG_INFO, T, "phase %s%s", names[phase],
           phase == ZC_DRAIN_IN_FLIGHT ? (busy ? " busy" : " idle") : "");
    if (phase == ZC_DRAIN_STOP_ACCEPTING && strcmp(mode, "drain") == 0) {
        struct itimerspec at = { .it_value = { 0, 100 * 1000000 } };

        timerfd_settime(timer_fd, 0, &at, NULL);
    }
    if (phase == ZC_DRAIN_FORCE_CLOSE)
        busy = 0;
    return phase == ZC_DRAIN_IN_FLIGHT ? busy : 0;
}

static int on_work_done(int fd, uint32_t events, void *userdata)
{
    uint64_t n;

    (void) events;
    (void) userdata;
    (void) !read(fd, &n, sizeof(n));
    busy = 0;
    zc_worker_drain_progress(self);
    return 0;
}

static int wait_term(void)
{
    sigset_t set;
    int sig;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigwait(&set, &sig);
    zc_log(ZC_LOG_INFO, T, "deaf worker got SIGTERM");
    return 0;
}

/* Sends a notify datagram with fds attached, then says so. */
static void notify_with_fds(void)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * 3)];
    } u;
    char text[] = "STATUS=fds-sent";
    struct iovec iov = { text, sizeof(text) - 1 };
    struct msghdr msg = { .msg_name = &sa, .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
    struct cmsghdr *cm;
    int fds[3] = { 0, 1, 2 }, s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    memcpy(sa.sun_path, path, strlen(path));
    sa.sun_path[0] = '\0';
    msg.msg_namelen = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(path));
    memset(&u, 0, sizeof(u));
    cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(fds));
    memcpy(CMSG_DATA(cm), fds, sizeof(fds));
    if (sendmsg(s, &msg, MSG_NOSIGNAL) < 0)
        zc_log(ZC_LOG_ERROR, T, "notify with fds: %s", strerror(errno));
    close(s);
}

/* control: generation 1 asks for a reload (twice: the same one);
 * generation 2 asks for one during it (one more follows: generation 3);
 * generation 3 asks for 3 workers; the new slot 2 for 0 (refused), then 1. */
static void control_requests(void)
{
    if (zc_self_slot() == 0 && zc_self_generation() < 3)
        say("do-reload", "");
    else if (zc_self_generation() == 3 && zc_self_slot() == 0)
        say("do-scale", "3");
    else if (zc_self_slot() == 2) {
        say("do-scale", "0");
        say("do-scale", "1");
    }
}

static int worker_main(int argc, char **argv, void *arg)
{
    bool signals = strcmp(mode, "deaf") != 0 && strcmp(mode, "slow") != 0;
    int r;

    (void) argc;
    (void) argv;
    (void) arg;
    if (strcmp(mode, "deaf") == 0 || strcmp(mode, "slow") == 0) {
        sigset_t set;

        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigprocmask(SIG_BLOCK, &set, NULL);
    }
    r = zc_worker_new(&self, signals ? ZC_WORKER_SIGNALS : 0);
    if (r < 0) {
        zc_log(ZC_LOG_ERROR, T, "zc_worker_new: %s", zc_strerror(r));
        return 1;
    }
    zc_worker_on(self, "blob", w_blob, NULL);
    zc_worker_on(self, "ping", w_ping_fails, NULL);
    zc_worker_on(self, "ping", w_ping, NULL);
    zc_worker_on(self, "direct", w_direct, NULL);
    zc_worker_on(self, "fd-back", w_fd_back, NULL);
    for (int ph = 0; ph < ZC_DRAIN_PHASES; ph++)
        zc_worker_on_drain(self, ph, on_phase, NULL);
    timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    zc_worker_watch(self, timer_fd, EPOLLIN, on_work_done, NULL);
    if (strncmp(mode, "drain", 5) != 0)
        busy = 0;
    zc_self_ready();
    if (strcmp(mode, "deaf") == 0 || (strcmp(mode, "slow") == 0 && zc_self_slot() == 0))
        return wait_term();
    /* health: slot 0's first worker hangs, slot 2's always crash. */
    if (strcmp(mode, "health") == 0 && zc_self_slot() == 0 && zc_self_id() == 1)
        for (int i = 0; i < 100; i++)
            usleep(100000);
    if (strcmp(mode, "health") == 0 && zc_self_slot() == 2)
        return 3;
    if (strcmp(mode, "flood") == 0 && zc_self_slot() == 0)
        r = worker_flood(mode_arg ? strtoul(mode_arg, NULL, 10) : 1000000);
    else {
        if (strcmp(mode, "notify-fds") == 0)
            notify_with_fds();
        if (strcmp(mode, "control") == 0)
            control_requests();
        if (strcmp(mode, "reconf") == 0 && zc_self_generation() == 1 &&
            zc_self_slot() == 0)
            say("do-reconf", "");
        if (strcmp(mode, "upgrade") == 0 && zc_self_id() == 1) {
            say("do-upgrade", "");
            usleep(1500 * 1000); /* its link unread meanwhile */
        }
        r = zc_worker_run(self) < 0;
    }
    zc_worker_unwatch(self, timer_fd);
    close(timer_fd);
    zc_worker_free(self);
    return r;
}

/* ipc_fleet MODE N [ARG]: MODE picks the behaviour above; N workers. */
int helper_ipc_fleet(int argc, char **argv)
{
    const char *listen[] = { "127.0.0.1:0" };
    char *command[] = { (char *) "python3", NULL, NULL };
    zc_options o;

    if (argc < 2)
        return 2;
    mode = argv[0];
    n_workers = (unsigned) atoi(argv[1]);
    mode_arg = argc > 2 ? argv[2] : NULL;
    zc_options_init(&o);
    o.workers = n_workers;
    o.ready = ZC_READY_NOTIFY;
    o.listen = listen;
    o.n_listen = 1;
    o.respawn_delay_ms = 100;
    o.backoff_jitter = 0;       /* the test reads the delay */
    o.shutdown_timeout_ms = 600;
    o.primary_init = primary_init;
    if (strcmp(mode, "health") == 0) {
        o.watchdog_ms = 300;
        o.max_lifetime_ms = 1000;
        o.recycle_jitter = 0;
        o.give_up_count = 2;
        o.give_up_window_ms = 10000;
        o.failed_retry_ms = 0;
        o.respawn_delay_ms = 50;
    }
    if (strcmp(mode, "python") == 0 && mode_arg) {
        command[1] = (char *) mode_arg;
        o.command = command;
    }
    /* The runner passed argv + 3 of its own argv: the whole command line
     * is what each worker re-executes. */
    return zc_cluster_run(argc + 3, argv - 3, worker_main, NULL, &o);
}

/* link_eof: a worker whose link is fd 3 (the test holds the other end). */
int helper_link_eof(int argc, char **argv)
{
    zc_worker *w;
    int r;

    (void) argc;
    (void) argv;
    r = zc_worker_new(&w, ZC_WORKER_SIGNALS);
    if (r < 0)
        return 3;
    zc_log(ZC_LOG_INFO, T, "linked: %s", zc_worker_is_linked(w) ? "yes" : "no");
    r = zc_worker_run(w);
    zc_worker_free(w);
    zc_log(ZC_LOG_INFO, T, "run returned %d", r);
    return r < 0 ? 1 : 0;
}

/* ipc_garbage KIND: a worker that writes a bad frame on its link, then
 * waits for TERM. KIND: long-type, oversize, flags, stray-fds, mid-frame
 * (half a frame, then it closes its end). */
int helper_ipc_garbage(int argc, char **argv)
{
    const char *kind = argc > 0 ? argv[0] : "long-type";
    const char *env = getenv("ZC_IPC_FD");
    int fd = env ? atoi(env) : -1, devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    sigset_t set;
    int sig;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    if (fd < 3)
        return 2;
    if (strcmp(kind, "long-type") == 0) {
        (void) !write(fd, "\0\0\0\0\101\0\0\0", 8);
    } else if (strcmp(kind, "oversize") == 0) {
        (void) !write(fd, "\xff\xff\xff\x7f\1\0\0\0x", 9);
    } else if (strcmp(kind, "flags") == 0) {
        (void) !write(fd, "\0\0\0\0\1\0\0\x80x", 9);
    } else if (strcmp(kind, "stray-fds") == 0) {
        union {
            struct cmsghdr align;
            char buf[CMSG_SPACE(sizeof(int))];
        } u;
        struct iovec iov = { (void *) "\0\0\0\0\1\0\0\0x", 9 };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                              .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
        struct cmsghdr *cm;

        memset(&u, 0, sizeof(u));
        cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &devnull, sizeof(int));
        (void) sendmsg(fd, &msg, MSG_NOSIGNAL);
    } else if (strcmp(kind, "mid-frame") == 0) {
        (void) !write(fd, "\x10\0\0\0\4\0\0\0abc", 11);
        close(fd);
    }
    zc_self_ready();
    sigwait(&set, &sig);
    return 0;
}
