/*
 * Worker programs for the integration tests: the runner re-run as
 * "test-runner --helper NAME ARGS", so every behaviour a test needs (crash,
 * ignore TERM, report what it inherited) is a few lines here.
 */
#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "metrics/layout.h"
#include "proto/listen.h"
#include "test.h"

/* Blocked before READY=1 is sent: a TERM that follows READY=1 at once
 * must find the helper waiting for it, not kill it by signal. */
static void block_term(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
}

static int wait_for_term(void)
{
    sigset_t set;
    int sig;

    block_term();
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigwait(&set, &sig);
    return 0;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000 };

    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

static void proc_status_line(FILE *out, const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];

    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, key, strlen(key)) == 0)
            fprintf(out, "%s", line);
    if (f)
        fclose(f);
}

/* env DIR: write what this worker inherited to DIR/env.SLOT, say
 * READY=1, wait for TERM. */
int helper_env(int argc, char **argv)
{
    char file[512];

    static const char *const vars[] = {
        "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NOTIFY_SOCKET",
        "ZC_WORKER_ID", "ZC_WORKER_SLOT", "ZC_GENERATION", "ZC_IPC_FD",
        "ZC_IPC_MAX_MESSAGE", "ZC_TEST_MARK",
    };
    char tmp[4096], target[512], path[64];
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    FILE *f;

    if (argc < 1 || !d)
        return 2;
    snprintf(file, sizeof(file), "%s/env.%s", argv[0],
             getenv("ZC_WORKER_SLOT") ? getenv("ZC_WORKER_SLOT") : "x");
    snprintf(tmp, sizeof(tmp), "%s.tmp", file);
    f = fopen(tmp, "w");
    if (!f)
        return 2;
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        fprintf(f, "%s=%s\n", vars[i], getenv(vars[i]) ? getenv(vars[i]) : "(unset)");
    fprintf(f, "pid=%d\npgid=%d\n", (int) getpid(), (int) getpgrp());
    fprintf(f, "fds=");
    while ((e = readdir(d))) {
        int fd = atoi(e->d_name);

        if (e->d_name[0] == '.' || fd == dirfd(d) || fd == fileno(f))
            continue;
        fprintf(f, "%d,", fd);
    }
    fprintf(f, "\n");
    closedir(d);
    for (int fd = 0; fd < 8; fd++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int listening = 0;
        socklen_t ol = sizeof(listening);
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        n = readlink(path, target, sizeof(target) - 1);
        if (n < 0)
            continue;
        target[n] = '\0';
        if (getsockname(fd, (struct sockaddr *) &ss, &len) == 0) {
            zc__addr_format((struct sockaddr *) &ss, len, target, sizeof(target));
            getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &ol);
        }
        fprintf(f, "fd%d=%s%s\n", fd, target, listening ? " listening" : "");
    }
    proc_status_line(f, "SigBlk");
    proc_status_line(f, "SigIgn");
    fclose(f);
    rename(tmp, file);
    block_term();       /* after the report, which shows the mask as given */
    zc_self_ready();
    return wait_for_term();
}

/* crash CODE: exit at once with CODE. */
int helper_crash(int argc, char **argv)
{
    return argc > 0 ? atoi(argv[0]) : 1;
}

/* ignore_term: ready, then deaf to SIGTERM until killed. */
int helper_ignore_term(int argc, char **argv)
{
    (void) argc;
    (void) argv;
    signal(SIGTERM, SIG_IGN);
    zc_self_ready();
    for (;;)
        pause();
}

/*
 * counter DIR PLAN: the n-th start (counted in DIR/count) follows the n-th
 * comma-separated step of PLAN: "c" crashes at once (exit 1), "sMS" says
 * READY=1, stays up MS ms, then crashes. Past the plan: ready and stable.
 */
int helper_counter(int argc, char **argv)
{
    char path[512], *count, *plan, *step;
    int n;

    if (argc < 2)
        return 2;
    snprintf(path, sizeof(path), "%s/count", argv[0]);
    count = zt_read_file(path);
    n = count ? atoi(count) + 1 : 1;
    free(count);
    snprintf(path + strlen(path), sizeof(path) - strlen(path), ".tmp");
    {
        char num[16], final[512];

        snprintf(num, sizeof(num), "%d", n);
        zt_write_file(path, num);
        snprintf(final, sizeof(final), "%s/count", argv[0]);
        rename(path, final);
    }
    plan = strdup(argv[1]);
    step = strtok(plan, ",");
    for (int i = 1; step && i < n; i++)
        step = strtok(NULL, ",");
    if (!step) {
        block_term();
        zc_self_ready();
        return wait_for_term();
    }
    if (step[0] == 's') {
        zc_self_ready();
        sleep_ms((unsigned) atoi(step + 1));
    }
    return 1;
}

/* ready_then_exit CODE: READY=1, then exit with CODE at once. */
int helper_ready_then_exit(int argc, char **argv)
{
    zc_self_ready();
    return argc > 0 ? atoi(argv[0]) : 0;
}

/* status_then_crash: STATUS=loading config, then exit 3 at once. */
int helper_status_then_crash(int argc, char **argv)
{
    (void) argc;
    (void) argv;
    zc_notify("STATUS=loading config");
    return 3;
}

/* never_ready: never says READY=1; stops on TERM. */
int helper_never_ready(int argc, char **argv)
{
    (void) argc;
    (void) argv;
    return wait_for_term();
}

/*
 * metrics_worker N [MS]: counts into the shared registry, waits MS, then
 * says READY=1,
 * so a worker that is ready has counted everything: events_total
 * {kind="a"} N and {kind="b"} 2N, test_seconds observes 0.05, 0.5, 5 and
 * 50 N times each, test_level is 1 (the gauge sum is the live workers),
 * test_slot is the slot, per worker. Waits for TERM.
 */
int helper_metrics_worker(int argc, char **argv)
{
    static const double bounds[] = { 0.1, 1, 10 };
    static const double seen[] = { 0.05, 0.5, 5, 50 };
    const char *a = "a", *b = "b";
    zc_metric *events, *ea, *eb, *seconds, *level, *slot;
    long n = argc > 0 ? atol(argv[0]) : 10;

    block_term();
    if (zc_metric_new(&events, ZC_COUNTER, "events_total", "Events counted.",
                      "kind", 0) < 0 ||
        zc_metric_with(events, &ea, &a) < 0 || zc_metric_with(events, &eb, &b) < 0 ||
        zc_histogram_new(&seconds, "test_seconds", "Observed durations.", NULL,
                         bounds, 3) < 0 ||
        zc_metric_new(&level, ZC_GAUGE, "test_level", "One per live worker.",
                      NULL, 0) < 0 ||
        zc_metric_new(&slot, ZC_GAUGE, "test_slot", "The worker's slot.",
                      NULL, ZC_METRIC_PER_WORKER) < 0)
        return 3;
    for (long i = 0; i < n; i++) {
        zc_metric_inc(ea);
        zc_metric_add(eb, 2);
        for (int j = 0; j < 4; j++)
            zc_metric_observe(seconds, seen[j]);
    }
    zc_metric_set(level, 1);
    zc_metric_set(slot, zc_self_slot());
    if (argc > 1)
        sleep_ms((unsigned) atoi(argv[1]));
    zc_self_ready();
    return wait_for_term();
}

/*
 * Writes a metrics region as a worker fills it, for the seed corpus of
 * tests/fuzz/fuzz-region.c: a 4 KiB memfd handed to the library as
 * ZC_METRICS_FD, a counter with labels, a histogram, per-worker and plain
 * gauges, counted into; then its bytes to argv[0].
 */
int helper_metrics_region(int argc, char **argv)
{
    static const double bounds[] = { 0.1, 1, 10 };
    const char *v[2] = { "GET", "200" };
    zc_metric *req, *get, *lat, *mem, *temp;
    char fdtext[16];
    void *base;
    int fd, out;

    if (argc < 1)
        return 2;
    fd = memfd_create("region", 0);
    if (fd < 0 || ftruncate(fd, 4096) < 0)
        return 3;
    base = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED)
        return 3;
    zc__metrics_format(base, 4096);
    snprintf(fdtext, sizeof(fdtext), "%d", dup(fd));
    setenv("ZC_METRICS_FD", fdtext, 1);
    if (zc_metric_new(&req, ZC_COUNTER, "http_requests_total", "Requests.",
                      "method,code", 0) < 0 || zc_metric_with(req, &get, v) < 0 ||
        zc_histogram_new(&lat, "http_seconds", "Latency.", NULL, bounds, 3) < 0 ||
        zc_metric_new(&mem, ZC_GAUGE, "heap_bytes", "Heap.", NULL,
                      ZC_METRIC_PER_WORKER) < 0 ||
        zc_metric_new(&temp, ZC_GAUGE, "temperature", "Degrees \\ \"C\".",
                      NULL, 0) < 0)
        return 4;
    zc_metric_add(get, 41);
    zc_metric_inc(get);
    zc_metric_observe(lat, 0.05);
    zc_metric_observe(lat, 5);
    zc_metric_set(mem, 1048576);
    zc_metric_set(temp, -2.5);
    out = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0 || write(out, base, 4096) != 4096)
        return 5;
    close(out);
    return 0;
}

/* signals: says READY=1, then tells each USR1 and USR2 it gets ("slot 1
 * got SIGUSR1") until TERM. */
int helper_signals(int argc, char **argv)
{
    sigset_t set;
    int sig;

    (void) argc;
    (void) argv;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);
    (void) zc_notify("READY=1");
    while (sigwait(&set, &sig) == 0 && sig != SIGTERM) {
        fprintf(stderr, "slot %d got SIG%s\n", zc_self_slot(),
                sig == SIGUSR1 ? "USR1" : "USR2");
        fflush(stderr);
    }
    return 0;
}

/*
 * node_primary SCRIPT: a C primary (the library) of 2 Node workers
 * running SCRIPT (--node), metrics on 127.0.0.1:0. A worker's "ping" is
 * answered with "pong" (the same data) to that worker; "greet" is
 * broadcast once both pinged.
 */
static int node_pings;

static int on_ping(zc_msg *m, void *userdata)
{
    zc_primary *p = userdata;

    zc_log(ZC_LOG_INFO, "test", "ping from worker %llu: %.*s",
           (unsigned long long) m->worker_id, (int) m->len,
           (const char *) m->data);
    (void) zc_primary_send(p, m->worker_id, "pong", m->data, m->len, NULL, 0);
    if (++node_pings == 2)
        (void) zc_primary_broadcast(p, "greet", "{\"n\":2}", 7);
    return 0;
}

/* "big": 600 KB back, more than the channel's socket takes at once. */
static int on_big(zc_msg *m, void *userdata)
{
    zc_primary *p = userdata;
    size_t n = 600 * 1024;
    char *s = malloc(n + 2);
    int r;

    if (!s)
        return -ENOMEM;
    memset(s, 'x', n + 2);
    s[0] = s[n + 1] = '"';
    r = zc_primary_send(p, m->worker_id, "bigreply", s, n + 2, NULL, 0);
    free(s);
    return r;
}

static int node_primary_init(zc_primary *p, void *arg)
{
    (void) arg;
    return zc_primary_on(p, "big", on_big, p) < 0 ? -1
         : zc_primary_on(p, "ping", on_ping, p);
}

int helper_node_primary(int argc, char **argv)
{
    char *command[] = { (char *) "/usr/bin/node", NULL, NULL };
    zc_options o;

    if (argc < 1)
        return 2;
    command[1] = argv[0];
    zc_options_init(&o);
    o.workers = 2;
    o.node = true;
    o.command = command;
    o.shutdown_timeout_ms = 3000;
    o.metrics = "127.0.0.1:0";
    o.primary_init = node_primary_init;
    return zc_cluster_run(argc + 3, argv - 3, NULL, NULL, &o);
}

/*
 * leaves_children FILE [EXIT]: starts three children that outlive it, and
 * writes their pids to FILE ("A B C"): A in its process group, B in a
 * session of its own (setsid: out of the group), C in its group but deaf
 * to SIGTERM. Then says READY=1 and exits with EXIT (default 1) once it
 * gets SIGUSR1, or waits for TERM if EXIT is "stay".
 */
int helper_leaves_children(int argc, char **argv)
{
    char text[64], c;
    pid_t kids[3];
    sigset_t set;
    int sig, up[2];

    if (argc < 1 || pipe(up) < 0)
        return 2;
    for (int i = 0; i < 3; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            if (i == 1)
                (void) setsid();
            if (i == 2)
                signal(SIGTERM, SIG_IGN);
            /* Set up: only now may the test signal us (a loaded machine
             * could run the test before the setsid or the SIG_IGN). */
            if (write(up[1], "k", 1) != 1)
                _exit(2);
            close(up[0]);
            close(up[1]);
            for (;;)
                pause();
        }
    }
    close(up[1]);
    for (int i = 0; i < 3; i++)
        if (read(up[0], &c, 1) != 1)
            return 2;
    close(up[0]);
    snprintf(text, sizeof(text), "%d %d %d\n", (int) kids[0], (int) kids[1],
             (int) kids[2]);
    zt_write_file(argv[0], text);
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    zc_self_ready();
    if (argc > 1 && strcmp(argv[1], "stay") == 0)
        return wait_for_term();
    (void) sigwait(&set, &sig);
    return sig == SIGTERM ? 0 : argc > 1 ? atoi(argv[1]) : 1;
}

/* What this process knows of itself, by the zc_self_* names and by the
 * older ones, read first by four threads at once (pthread_once). Prints
 * "id slot generation sticky worker primary"; exits 1 when a name and
 * its alias disagree. */
static void *first_read(void *arg)
{
    *(int *) arg = zc_self_slot();
    return NULL;
}

int helper_self(int argc, char **argv)
{
    pthread_t t[4];
    int slots[4];

    (void) argc;
    (void) argv;
    for (int i = 0; i < 4; i++)
        if (pthread_create(&t[i], NULL, first_read, &slots[i]) != 0)
            return 2;
    for (int i = 0; i < 4; i++)
        (void) pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++)
        if (slots[i] != zc_self_slot())
            return 1;
    if (zc_worker_id() != zc_self_id() || zc_worker_slot() != zc_self_slot() ||
        zc_worker_generation() != zc_self_generation() ||
        zc_worker_is_sticky() != zc_self_is_sticky() ||
        zc_is_worker() != zc_self_is_worker() ||
        zc_is_primary() == zc_self_is_worker())
        return 1;
    printf("%llu %d %llu %d %d %d\n", (unsigned long long) zc_self_id(),
           zc_self_slot(), (unsigned long long) zc_self_generation(),
           zc_self_is_sticky(), zc_self_is_worker(), zc_is_primary());
    return 0;
}

/* lines THREADS COUNT LENGTH: the threads each write COUNT lines of
 * LENGTH bytes (more than a pipe's atomic write), odd threads to stderr,
 * with one write(2) a line under one lock, as a logging library takes
 * one: "S<slot> P<pid> T<thread> N<n> xxx...$". Then it exits 0. */
static struct {
    pthread_mutex_t lock;
    int count, length;
} lines_cfg = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void *write_lines(void *arg)
{
    int t = (int) (intptr_t) arg, fd = t % 2 ? 2 : 1;
    char *line = malloc((size_t) lines_cfg.length + 64);

    if (!line)
        return NULL;
    for (int n = 0; n < lines_cfg.count; n++) {
        int k = snprintf(line, 64, "S%d P%d T%d N%d ", zc_self_slot(),
                         (int) getpid(), t, n);
        size_t len = (size_t) lines_cfg.length, off = 0;

        memset(line + k, 'x', len - (size_t) k - 2);
        line[len - 2] = '$';
        line[len - 1] = '\n';
        pthread_mutex_lock(&lines_cfg.lock);
        while (off < len) {
            ssize_t w = write(fd, line + off, len - off);

            if (w <= 0 && errno != EINTR)
                break;
            off += w > 0 ? (size_t) w : 0;
        }
        pthread_mutex_unlock(&lines_cfg.lock);
    }
    free(line);
    return NULL;
}

int helper_lines(int argc, char **argv)
{
    pthread_t t[8];
    int n;

    if (argc < 3)
        return 2;
    n = atoi(argv[0]);
    lines_cfg.count = atoi(argv[1]);
    lines_cfg.length = atoi(argv[2]);
    if (n < 1 || n > 8 || lines_cfg.length < 64)
        return 2;
    for (int i = 0; i < n; i++)
        pthread_create(&t[i], NULL, write_lines, (void *) (intptr_t) i);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    return 0;
}
