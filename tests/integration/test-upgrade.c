/*
 * Upgrading the primary in place (loop/upgrade.c, docs/upgrade.md): the
 * fleet is started from a symlink, the symlink re-pointed at another build
 * of the tool (Makefile: zcluster-b, another version; zcluster-v99, which
 * cannot read our state; zcluster-lies, which says it can at the preflight
 * and refuses once executed), and the primary told to upgrade.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"

#define ctl(out, ...) zt_run(out, 30000, zt_zclusterctl(), __VA_ARGS__)

static char image[PATH_MAX]; /* the symlink the fleet is started from */

static const char *other(const char *name)
{
    return zt_other_zcluster(name);
}

static void point(const char *target)
{
    zt_repoint(image, target);
}

/* zcluster, started as image (a symlink to this build's), N workers of
 * zcluster-hello on 127.0.0.1, metrics, the fleet named name; extra
 * options before the command (NULL-terminated, may be NULL). */
static struct zt_proc *fleet(const char *name, int n, int *port,
                             const char *const *extra)
{
    char workers[16], want[48];
    const char *argv[40];
    struct zt_proc *p;
    int k = 0;

    snprintf(image, sizeof(image), "%s/zc-%s", zt_tmpdir(), name);
    point(zt_zcluster());
    snprintf(workers, sizeof(workers), "%d", n);
    argv[k++] = image;
    argv[k++] = "-w";
    argv[k++] = workers;
    argv[k++] = "-l";
    argv[k++] = "127.0.0.1:0";
    argv[k++] = "--metrics";
    argv[k++] = "127.0.0.1:0";
    argv[k++] = "--name";
    argv[k++] = name;
    for (int i = 0; extra && extra[i] && k < 34; i++)
        argv[k++] = extra[i];
    argv[k++] = "--";
    argv[k++] = zt_hello();
    argv[k] = NULL;
    p = zt_start((char *const *) argv, NULL);
    *port = zt_parse_port(zt_wait_line(p, "listening on 127.0.0.1:", 5000));
    snprintf(want, sizeof(want),
             n == 1 ? "%d worker ready" : "all %d workers ready", n);
    zt_wait_line(p, want, 10000);
    return p;
}

static int cmp_pid(const void *a, const void *b)
{
    return *(const pid_t *) a - *(const pid_t *) b;
}

/* The primary's children, sorted: n of them in kids. */
static int children(pid_t pid, pid_t *kids, int max)
{
    int n = zt_children_of(pid, kids, max);

    ASSERT(n >= 0);
    qsort(kids, (size_t) n, sizeof(*kids), cmp_pid);
    return n;
}

static void same_children(pid_t pid, const pid_t *before, int n)
{
    pid_t now[16];

    ASSERT_EQ(children(pid, now, 16), n);
    for (int i = 0; i < n; i++)
        ASSERT_EQ(now[i], before[i]);
}

/* status says the image's version, and how many upgrades (-1: any). */
static void says_version(const char *name, const char *version, int upgrades)
{
    char want[64], *out;

    ASSERT_EQ(ctl(&out, "-n", name, "status", "--json", NULL), 0);
    snprintf(want, sizeof(want), "\"zcluster\": \"%s\"", version);
    ASSERT_CONTAINS(out, want);
    snprintf(want, sizeof(want), "\"upgrades\": %d,", upgrades);
    if (upgrades >= 0)
        ASSERT_CONTAINS(out, want);
    free(out);
}

/* The eBPF program's count of connections sent to each slot, summed. */
static double steered(int mport)
{
    static char text[1 << 16];
    const char *body;
    double sum = 0, v;

    ASSERT_EQ(zt_http_fetch(mport, "/metrics", text, sizeof(text), &body), 200);
    for (int i = 0; i < 3; i++) {
        char key[80];

        snprintf(key, sizeof(key),
                 "zcluster_slot_connections_steered_total{slot=\"%d\"}", i);
        v = zt_sample(body, key);
        sum += isnan(v) ? 0 : v; /* not counted without eBPF */
    }
    return sum;
}

#define REQUESTS "hello_requests_total{code=\"200\"}"

/* The primary's fds once a control connection just answered has been
 * closed on its side too: the fewest seen over 300 ms. */
static int settled_fds(struct zt_proc *p)
{
    int least = zt_fd_count(p->pid);
    uint64_t until = zt_now_ms() + 300;

    while (zt_now_ms() < until) {
        int n;

        zt_pump(p, 20);
        n = zt_fd_count(p->pid);
        least = n < least ? n : least;
    }
    return least;
}

/* Ten upgrades in a row, between two builds, under keep-alive and
 * connection-per-request load: no request fails, the primary and its
 * workers keep their pids, each image says its version, a counter never
 * goes back (a worker killed first: what it counted is the retained
 * base), the primary's fds and memory stay flat. */
void test_upgrade_under_load(void)
{
    pid_t kids[16];
    int port, mport, n, fds = 0;
    long rss = 0;
    double last, c, last_steered = 0;
    char *out, want[64];
    struct zt_load *ka, *cl = NULL;
    struct zt_load_result r1, r2;
    struct zt_proc *p = fleet("upl", 3, &port, NULL);

    mport = zt_metrics_port(p);
    /* A worker's death folds its count into the retained base, which
     * must travel too. (Before the load that must see no failure: the
     * killed worker's own clients do.) */
    ka = zt_load_start(port, 4, false);
    ASSERT_EQ(children(p->pid, kids, 16), 3);
    for (int i = 0; i < 500 && zt_metric(mport, REQUESTS) < 300; i++)
        zt_pump(p, 10);
    zt_load_stop(ka, &r1);
    ASSERT_EQ(kill(kids[0], SIGKILL), 0);
    zt_wait_line(p, "was killed by signal KILL", 5000);
    zt_wait_line(p, "ready in", 10000);
    n = children(p->pid, kids, 16);
    ASSERT_EQ(n, 3);
    last = zt_metric(mport, REQUESTS);
    ASSERT(last >= 300);
    for (int i = 0; i < 10; i++) {
        const char *version = i % 2 == 0 ? "0.4.0+b" : "0.4.0";

        point(i % 2 == 0 ? other("b") : zt_zcluster());
        ASSERT_EQ(ctl(&out, "-n", "upl", "upgrade", NULL), 0);
        snprintf(want, sizeof(want), "-> %s in", version);
        ASSERT_CONTAINS(out, want);
        ASSERT_CONTAINS(out, "3 workers, 1 socket, 3 metrics views kept");
        free(out);
        says_version("upl", version, i + 1);
        same_children(p->pid, kids, n);
        c = zt_metric(mport, REQUESTS);
        ASSERT(c >= last);
        last = c;
        /* The round-robin's maps go on: its count never goes back. */
        ASSERT(steered(mport) >= last_steered);
        last_steered = steered(mport);
        /* The first without load: the sum must be exactly kept, the
         * dead worker's part included. The other nine under load. */
        if (i == 0) {
            ka = zt_load_start(port, 4, true);
            cl = zt_load_start(port, 4, false);
        }
        if (i == 1) {
            fds = settled_fds(p);
            rss = zt_rss_kib(p->pid);
        }
    }
    ASSERT(!p->exited);
    n = settled_fds(p);
    printf("# primary after upgrades 2 and 10: %d and %d fds, %ld and %ld "
           "KiB\n",
           fds, n, rss, zt_rss_kib(p->pid));
    ASSERT_EQ(n, fds);
    if (!zt_memory_kept())
        ASSERT(zt_rss_kib(p->pid) <= rss + 256);
    zt_load_stop(ka, &r1);
    zt_load_stop(cl, &r2);
    printf("# 10 upgrades: %llu keep-alive and %llu new-connection "
           "requests, %llu and %llu failed; %s=%.0f\n",
           (unsigned long long) r1.ok, (unsigned long long) r2.ok,
           (unsigned long long) r1.failed, (unsigned long long) r2.failed,
           REQUESTS, last);
    ASSERT_EQ(r1.failed, 0);
    ASSERT_EQ(r2.failed, 0);
    ASSERT(r1.ok > 0 && r2.ok > 0);
    zt_stop_fleet(p);
}

/* Each way an upgrade is refused: the client exits 1 with the reason,
 * the log says it, and the fleet serves on, its workers untouched. */
void test_upgrade_refused(void)
{
    char path[PATH_MAX], *out;
    pid_t kids[16];
    int port, n;
    struct zt_load *ka;
    struct zt_load_result res;
    const char *extra[] = { "--shutdown-delay", "1s", NULL };
    struct zt_proc *p = fleet("upr", 2, &port, extra);
    int r;

    ka = zt_load_start(port, 4, true);
    n = children(p->pid, kids, 16);
    ASSERT_EQ(n, 2);

    snprintf(path, sizeof(path), "%s/upr-missing", zt_tmpdir());
    point(path);
    ASSERT_EQ(ctl(&out, "-n", "upr", "upgrade", NULL), 1);
    ASSERT_CONTAINS(out, "cannot execute");
    ASSERT_CONTAINS(out, "No such file or directory");
    free(out);

    snprintf(path, sizeof(path), "%s/upr-plain", zt_tmpdir());
    zt_write_file(path, "not a program\n");
    point(path);
    ASSERT_EQ(ctl(&out, "-n", "upr", "upgrade", NULL), 1);
    ASSERT_CONTAINS(out, "Permission denied");
    free(out);

    /* Executable, but no program this machine runs (another
     * architecture's would fail the same way, ENOEXEC). */
    snprintf(path, sizeof(path), "%s/upr-garbage", zt_tmpdir());
    zt_write_script(path, "\x7f"
                          "ELF but not really\n");
    point(path);
    ASSERT_EQ(ctl(&out, "-n", "upr", "upgrade", NULL), 1);
    ASSERT_CONTAINS(out, "Exec format error");
    free(out);

    snprintf(path, sizeof(path), "%s/upr-exits", zt_tmpdir());
    zt_write_script(path, "#!/bin/sh\necho 'this build is broken' >&2\n"
                          "exit 1\n");
    point(path);
    ASSERT_EQ(ctl(&out, "-n", "upr", "upgrade", NULL), 1);
    ASSERT_CONTAINS(out, "exited with status 1 without answering: this "
                         "build is broken");
    free(out);

    point(other("v99"));
    ASSERT_EQ(ctl(&out, "-n", "upr", "upgrade", NULL), 1);
    ASSERT_CONTAINS(out, "cannot read state version 1 (it reads 99 to 99)");
    free(out);

    /* USR2 is refused the same way, said in the log, never left pending. */
    point(path);
    ASSERT_EQ(kill(p->pid, SIGUSR2), 0);
    zt_wait_line(p, "received SIGUSR2: upgrade refused, the fleet runs on",
                 5000);

    /* Passes the preflight, executed, cannot read the state: it goes back
     * to the image before, which says so to the client. */
    point(other("lies"));
    ASSERT_EQ(ctl(&out, "-n", "upr", "upgrade", NULL), 1);
    ASSERT_CONTAINS(out, "the state handed over is version 1; this image "
                         "reads 99 to 99; back on zcluster 0.4.0");
    free(out);
    zt_wait_line(p, "going back to the image before", 5000);
    says_version("upr", "0.4.0", 0);
    same_children(p->pid, kids, n);

    /* Not while a reload is under way. */
    point(zt_zcluster());
    ASSERT_EQ(ctl(NULL, "-n", "upr", "reload", "--no-wait", NULL), 0);
    ASSERT_EQ(ctl(&out, "-n", "upr", "upgrade", NULL), 1);
    ASSERT_CONTAINS(out, "is under way");
    free(out);
    zt_wait_line(p, "reload to generation 2 done", 20000);
    n = children(p->pid, kids, 16);

    /* The binary vanishes between its preflight and the exec (it removes
     * its own link as it answers): the exec fails, the image runs on,
     * and the client hears it from GET /upgrade. */
    snprintf(path, sizeof(path), "%s/upr-vanishes", zt_tmpdir());
    {
        char text[PATH_MAX * 2];

        snprintf(text, sizeof(text),
                 "#!/bin/sh\n[ -n \"$ZC_UPGRADE_CHECK\" ] && rm -f '%s'\n"
                 "exec '%s' \"$@\"\n",
                 image, zt_zcluster());
        zt_write_script(path, text);
    }
    point(path);
    ASSERT_EQ(ctl(&out, "-n", "upr", "upgrade", NULL), 1);
    ASSERT_CONTAINS(out, "upgrade 2: zcluster 0.4.0 -> 0.4.0");
    ASSERT_CONTAINS(out, "upgrade 2 failed: cannot execute");
    ASSERT_CONTAINS(out, "the fleet runs on as it was, on zcluster 0.4.0");
    free(out);
    same_children(p->pid, kids, n);

    /* And after all that, an upgrade that works. */
    point(zt_zcluster());
    ASSERT_EQ(ctl(&out, "-n", "upr", "upgrade", NULL), 0);
    ASSERT_CONTAINS(out, "upgraded zcluster 0.4.0 -> 0.4.0");
    free(out);
    same_children(p->pid, kids, n);
    zt_load_stop(ka, &res);
    ASSERT_EQ(res.failed, 0);
    ASSERT(res.ok > 0);

    /* Not while it shuts down (its delay: it serves on meanwhile). */
    ASSERT_EQ(kill(p->pid, SIGTERM), 0);
    zt_wait_line(p, "lame duck for 1000 ms", 5000);
    r = ctl(&out, "-n", "upr", "upgrade", NULL);
    ASSERT_CONTAINS(out, "the fleet is shutting down");
    ASSERT_EQ(r, 1);
    free(out);
    zt_stop_fleet(p);
}

/* A worker killed while the primary is between images (its preflight
 * held up by the new binary, a wrapper that waits for the test): the new
 * image reaps it and respawns its slot. */
void test_upgrade_kill9_between_images(void)
{
    char script[PATH_MAX], started[PATH_MAX], go[PATH_MAX], text[PATH_MAX * 4];
    const char *up, *killed;
    pid_t kids[16];
    int port;
    struct zt_proc *p = fleet("upk", 2, &port, NULL), *c;

    ASSERT_EQ(children(p->pid, kids, 16), 2);
    snprintf(script, sizeof(script), "%s/upk-wrapper", zt_tmpdir());
    snprintf(started, sizeof(started), "%s/upk-started", zt_tmpdir());
    snprintf(go, sizeof(go), "%s/upk-go", zt_tmpdir());
    snprintf(text, sizeof(text),
             "#!/bin/sh\n: > '%s'\n"
             "i=0; while [ ! -e '%s' ] && [ $i -lt 1000 ]; do "
             "sleep 0.01; i=$((i+1)); done\n"
             "exec '%s' \"$@\"\n",
             started, go, zt_zcluster());
    zt_write_script(script, text);
    point(script);
    {
        const char *argv[] = { zt_zclusterctl(), "-n", "upk", "upgrade", NULL };

        c = zt_start((char *const *) argv, NULL);
    }
    for (int i = 0; i < 500 && access(started, F_OK) != 0; i++)
        zt_pump(p, 10);
    ASSERT(access(started, F_OK) == 0);
    ASSERT_EQ(kill(kids[0], SIGKILL), 0);
    ASSERT(zt_wait_gone(kids[0], 5000) || zt_alive(kids[0]));
    zt_write_file(go, "");
    ASSERT_EQ(zt_exit_code(c, 20000), 0);
    zt_proc_free(c);
    up = zt_wait_line(p, "upgraded zcluster", 5000);
    up = strstr(p->log, "upgraded zcluster");
    killed = zt_wait_line(p, "was killed by signal KILL", 5000);
    killed = strstr(p->log, "was killed by signal KILL");
    ASSERT(up && killed && killed > up);
    zt_wait_line(p, "ready in", 10000);
    ASSERT_EQ(children(p->pid, kids, 16), 2);
    zt_stop_fleet(p);
}

/* upgrade --reload: the primary, then every worker, one command. */
void test_upgrade_then_reload(void)
{
    pid_t before[16], after[16];
    int port;
    char *out;
    struct zt_load *ka;
    struct zt_load_result res;
    struct zt_proc *p = fleet("upw", 2, &port, NULL);

    ka = zt_load_start(port, 4, true);
    ASSERT_EQ(children(p->pid, before, 16), 2);
    point(other("b"));
    ASSERT_EQ(ctl(&out, "-n", "upw", "upgrade", "--reload", NULL), 0);
    ASSERT_CONTAINS(out, "upgraded zcluster 0.4.0 -> 0.4.0+b");
    ASSERT_CONTAINS(out, "reload to generation 2 done");
    free(out);
    ASSERT_EQ(children(p->pid, after, 16), 2);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            ASSERT(after[i] != before[j]);
    says_version("upw", "0.4.0+b", 1);
    zt_load_stop_at(ka, 2, &res);
    ASSERT_EQ(res.failed, 0);
    ASSERT_EQ(res.max_generation, 2);
    zt_stop_fleet(p);
}

/* What the fleet holds travels: a slot's pending respawn keeps its time,
 * a worker's unfinished output line is written whole after, the control
 * socket's name and the configuration file a reload reads. */
void test_upgrade_keeps_state(void)
{
    char file[PATH_MAX], text[PATH_MAX + 600], flag[PATH_MAX], *out;
    const char *argv[8];
    struct zt_proc *p;
    pid_t kids[16];

    snprintf(image, sizeof(image), "%s/zc-upc", zt_tmpdir());
    point(zt_zcluster());
    snprintf(flag, sizeof(flag), "%s/upc-flag", zt_tmpdir());
    snprintf(file, sizeof(file), "%s/upc.conf", zt_tmpdir());
    /* Slot 0 writes half a line, waits for the flag, ends it; slot 1
     * fails at once, every time, with a long backoff. */
    snprintf(text, sizeof(text),
             "name = upc\nworkers = 2\nready = immediate\n"
             "respawn-delay = 2s\nmax-respawn-delay = 2s\nbackoff-jitter = 0\n"
             "command = /bin/sh -c 'if [ \"$ZC_WORKER_SLOT\" = 1 ]; then "
             "exit 3; fi; echo \"said before the upgrade\"; "
             "printf \"first half, \"; "
             "while [ ! -e %s ]; do sleep 0.02; done; "
             "echo \"second half\"; exec sleep 600'\n",
             flag);
    zt_write_file(file, text);
    argv[0] = image;
    argv[1] = "--config";
    argv[2] = file;
    argv[3] = NULL;
    p = zt_start((char *const *) argv, NULL);
    zt_wait_line(p, "exited with status 3; restarting in 2000 ms", 10000);
    for (int i = 0; i < 250 && !zt_count(p, "said before the upgrade"); i++)
        zt_pump(p, 20);
    ASSERT_EQ(zt_count(p, "said before the upgrade"), 1);
    point(other("b"));
    ASSERT_EQ(ctl(&out, "-n", "upc", "upgrade", NULL), 0);
    ASSERT_CONTAINS(out, "-> 0.4.0+b");
    free(out);
    /* The backoff goes on: still waiting, then the respawn, which fails
     * the same way (the failures in a row kept: the second one). */
    ASSERT_EQ(ctl(&out, "-n", "upc", "status", NULL), 0);
    ASSERT_CONTAINS(out, "backoff");
    free(out);
    zt_wait_line(p, "failure 2 in a row", 10000);
    /* The half line is finished after the upgrade: one line. */
    zt_write_file(flag, "");
    zt_wait_line(p, "first half, second half", 5000);
    /* The recent lines are kept for zclusterctl logs. */
    ASSERT_EQ(ctl(&out, "-n", "upc", "logs", NULL), 0);
    ASSERT_CONTAINS(out, "said before the upgrade");
    ASSERT_CONTAINS(out, "first half, second half");
    free(out);
    /* The file a reload reads is the one the fleet was started with. */
    ASSERT_EQ(ctl(&out, "-n", "upc", "config", NULL), 0);
    ASSERT_CONTAINS(out, "respawn-delay = 2s");
    free(out);
    snprintf(text, sizeof(text),
             "name = upc\nworkers = 1\nready = immediate\n"
             "command = /bin/sh -c 'exec sleep 600'\n");
    zt_write_file(file, text);
    ASSERT_EQ(ctl(&out, "-n", "upc", "reload", NULL), 0);
    ASSERT_CONTAINS(out, "done");
    free(out);
    ASSERT_EQ(children(p->pid, kids, 16), 1);
    zt_stop_fleet(p);
}

/* zc_primary_upgrade() from a library primary's message handler: the
 * program executes itself, primary_init runs again in the new image, the
 * workers are the same processes; 200 messages queued for a worker that
 * was not reading its link reach it whole; asking twice, the second is
 * refused. */
void test_upgrade_library(void)
{
    char *argv[] = { (char *) zt_self(),   (char *) "--helper",
                     (char *) "ipc_fleet", (char *) "upgrade",
                     (char *) "2",         NULL };
    struct zt_proc *p = zt_start(argv, NULL);
    pid_t before[2];

    zt_wait_line(p, "test: init: upgrade serial 0, outcome 0", 10000);
    for (int i = 0; i < 2; i++) {
        unsigned long id;
        int slot;

        ASSERT(zt_parse_worker(zt_wait_line(p, ") started", 5000), &id, &slot,
                               &before[i]));
    }
    qsort(before, 2, sizeof(before[0]), cmp_pid);
    /* Worker 1 asks as soon as it runs, ready or not yet, and reads
     * nothing for 1.5 s: the messages queued for it travel. */
    zt_wait_line(p, "test: queued 200 blobs for worker 1", 10000);
    zt_wait_line(p, "test: upgrade returned 1: upgrade 1: zcluster", 10000);
    zt_wait_line(p,
                 "test: again: upgrade returned -16: upgrade 1 is under "
                 "way",
                 10000);
    zt_wait_line(p, "test: init: upgrade serial 1", 10000);
    zt_wait_line(p, "upgraded zcluster", 10000);
    zt_wait_line(p, "test: worker 1 got 200 blobs", 10000);
    same_children(p->pid, before, 2);
    zt_stop_fleet(p);
}

/* Worker health travels: a worker's --max-lifetime, drawn when it became
 * ready, still recycles it after an upgrade (an adopted worker whose
 * limits were lost would never be). */
void test_upgrade_keeps_health(void)
{
    const char *extra[] = { "--max-lifetime",
                            "2s",
                            "--recycle-jitter",
                            "0",
                            "--watchdog",
                            "1s",
                            NULL };
    pid_t before[16];
    int port;
    char *out;
    uint64_t t0;
    struct zt_proc *p = fleet("uph", 1, &port, extra);

    ASSERT_EQ(children(p->pid, before, 16), 1);
    t0 = zt_now_ms();
    point(other("b"));
    ASSERT_EQ(ctl(&out, "-n", "uph", "upgrade", NULL), 0);
    free(out);
    zt_wait_line(p, "recycling: recycle of slot 0", 5000);
    ASSERT(zt_now_ms() - t0 < 3000);
    zt_wait_line(p, "done in", 5000);
    ASSERT(!zt_alive(before[0]) || zt_wait_gone(before[0], 5000));
    ASSERT_EQ(zt_count(p, "missed"), 0);
    zt_stop_fleet(p);
}

/* Where the primary accepts (least-conn): upgrades under load lose no
 * connection, the workers' counts and the router's counters go on. */
void test_upgrade_least_conn(void)
{
    const char *extra[] = { "--balance", "least-conn", NULL };
    pid_t kids[16];
    int port, mport, n;
    double handed, c;
    char *out;
    struct zt_load *ka, *cl;
    struct zt_load_result r1, r2;
    struct zt_proc *p = fleet("upq", 2, &port, extra);

    mport = zt_metrics_port(p);
    n = children(p->pid, kids, 16);
    ka = zt_load_start(port, 4, true);
    cl = zt_load_start(port, 4, false);
    handed = zt_metric(mport, "zcluster_least_conn_handoffs_total");
    for (int i = 0; i < 4; i++) {
        point(i % 2 == 0 ? other("b") : zt_zcluster());
        ASSERT_EQ(ctl(&out, "-n", "upq", "upgrade", NULL), 0);
        ASSERT_CONTAINS(out, "upgraded zcluster");
        free(out);
        c = zt_metric(mport, "zcluster_least_conn_handoffs_total");
        ASSERT(c >= handed);
        handed = c;
        same_children(p->pid, kids, n);
        /* The new image accepts and hands off: new connections come in. */
        for (int k = 0; k < 100 && c < handed + 20; k++) {
            zt_pump(p, 20);
            c = zt_metric(mport, "zcluster_least_conn_handoffs_total");
        }
        ASSERT(c >= handed + 20);
        handed = c;
    }
    zt_load_stop(ka, &r1);
    zt_load_stop(cl, &r2);
    printf("# 4 upgrades, least-conn: %llu and %llu requests, %llu and %llu "
           "failed, %.0f handed off\n",
           (unsigned long long) r1.ok, (unsigned long long) r2.ok,
           (unsigned long long) r1.failed, (unsigned long long) r2.failed,
           handed);
    ASSERT_EQ(r1.failed, 0);
    ASSERT_EQ(r2.failed, 0);
    ASSERT(handed > 0);
    zt_stop_fleet(p);
}
