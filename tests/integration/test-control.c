/*
 * The control socket and zclusterctl against real fleets: status against
 * /proc, reload outcomes and exit codes, scale, restart, signal, stop,
 * who may connect, names, and bad requests that leave the fleet as it was.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "test.h"

/* Starts PROG ARGS... (NULL-terminated). */
static struct zt_proc *run(const char *prog, ...)
{
    char *argv[32] = { (char *) prog };
    va_list ap;
    int n = 1;

    va_start(ap, prog);
    for (const char *a = va_arg(ap, const char *); a && n < 31;
         a = va_arg(ap, const char *))
        argv[n++] = (char *) a;
    va_end(ap);
    return zt_start(argv, NULL);
}

/* Runs zclusterctl ARGS...; returns its exit code, *out its output. */
#define ctl(out, timeout_ms, ...) \
    zt_run(out, timeout_ms, zt_zclusterctl(), __VA_ARGS__)

static void sock_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s.sock", zt_tmpdir(), name);
}

static bool has_pid(const char *json, pid_t pid)
{
    char want[32];

    snprintf(want, sizeof(want), "\"pid\": %d,", (int) pid);
    return strstr(json, want) != NULL;
}

void test_control_status_matches_proc(void)
{
    pid_t pids[3], kids[8];
    int port, n;
    char *out, path[300], cmd[600];
    struct zt_proc *p = zt_fleet(3, pids, &port, "-n", "shop", "-w", "3",
                                 "-l", "127.0.0.1:0", "--", zt_hello(), NULL);

    ASSERT_CONTAINS(p->log, "control socket ");
    sock_path(path, sizeof(path), "shop");
    ASSERT_EQ(ctl(&out, 5000, "-n", "shop", "status", "--json", NULL), 0);
    ASSERT_CONTAINS(out, "\"version\": 1");
    ASSERT_CONTAINS(out, "\"name\": \"shop\"");
    ASSERT_CONTAINS(out, "\"wanted\": 3, \"ready\": 3");
    n = zt_children_of(p->pid, kids, 8);
    ASSERT_EQ(n, 3);
    for (int i = 0; i < n; i++)
        ASSERT(has_pid(out, kids[i]));
    ASSERT_EQ(zt_count_in(out, "\"state\": \"ready\""), 3);
    free(out);
    /* The table, no -n: the only fleet. No colour off a terminal. */
    ASSERT_EQ(ctl(&out, 5000, "status", NULL), 0);
    ASSERT_CONTAINS(out, "fleet shop: pid ");
    ASSERT_CONTAINS(out, "3 of 3 workers ready");
    ASSERT(!strchr(out, '\033'));
    for (int i = 0; i < 3; i++) {
        char pid[16];

        snprintf(pid, sizeof(pid), " %d ", (int) pids[i]);
        ASSERT_CONTAINS(out, pid);
    }
    free(out);
    ASSERT_EQ(ctl(&out, 5000, "list", NULL), 0);
    ASSERT_CONTAINS(out, "shop");
    ASSERT_CONTAINS(out, path);
    free(out);
    /* No special client needed. */
    snprintf(cmd, sizeof(cmd), "curl -sS --max-time 5 --unix-socket %s "
             "http://zcluster/status", path);
    out = zt_capture(cmd);
    ASSERT_CONTAINS(out, "\"workers\": [");
    ASSERT(has_pid(out, pids[0]));
    free(out);
    snprintf(cmd, sizeof(cmd), "curl -sS -N --max-time 10 -X POST "
             "--unix-socket %s http://zcluster/reload", path);
    out = zt_capture(cmd);
    ASSERT_CONTAINS(out, "{\"event\": \"started\", \"generation\": 2");
    ASSERT_CONTAINS(out, "{\"event\": \"outcome\", \"ok\": true, \"outcome\": "
                    "\"done\"");
    free(out);
    /* A body is read and dropped; past 4 KiB it is refused. */
    snprintf(cmd, sizeof(cmd), "head -c 5000 /dev/zero | curl -sS --max-time "
             "5 -X POST --data-binary @- -o /dev/null -w '%%{http_code}' "
             "--unix-socket %s http://zcluster/reload", path);
    out = zt_capture(cmd);
    ASSERT_STREQ(out, "413");
    free(out);
    /* Two fleets: without -n, zclusterctl names them and exits 2. */
    {
        pid_t other[1];
        int oport;
        struct zt_proc *q = zt_fleet(1, other, &oport, "-n", "other", "-w",
                                     "1", "-l", "127.0.0.1:0", "--",
                                     zt_hello(), NULL);

        ASSERT_EQ(ctl(&out, 5000, "status", NULL), 2);
        ASSERT_CONTAINS(out, "2 fleets are running; say which with -n NAME");
        ASSERT_CONTAINS(out, "  other (pid");
        ASSERT_CONTAINS(out, "  shop (pid");
        free(out);
        /* Not zt_stop_fleet(): it waits for every child, shop's too. */
        ASSERT(kill(q->pid, SIGTERM) == 0);
        ASSERT_EQ(zt_exit_code(q, 10000), 0);
        zt_proc_free(q);
    }
    zt_stop_fleet(p);
}

/* A crashing slot shows its backoff; a reload's replacement shows as
 * "replacement" while it starts. */
void test_control_status_backoff_and_reload(void)
{
    char script[300], *out;
    pid_t pids[2];
    int port;
    struct zt_proc *p;
    struct zt_proc *c;

    snprintf(script, sizeof(script), "%s/release", zt_tmpdir());
    zt_write_script(script, "#!/bin/sh\n"
                 "[ \"$ZC_WORKER_SLOT\" = 1 ] && [ -e \"$0.crash\" ] && exit 3\n"
                 "exec sleep 60\n");
    p = zt_fleet(2, pids, &port, "-n", "shop", "-w", "2", "--ready",
                 "delay:300", "--respawn-delay", "5s", "--backoff-jitter", "0", "--max-respawn-delay",
                 "5s", "--", script, NULL);
    /* Slot 1 crashes: its respawn waits 5 s. */
    snprintf(script + strlen(script), 16, ".crash");
    zt_write_file(script, "");
    script[strlen(script) - 6] = '\0';
    ASSERT(kill(pids[1], SIGKILL) == 0);
    zt_wait_line(p, "restarting in 5000 ms", 5000);
    ASSERT_EQ(ctl(&out, 5000, "-n", "shop", "status", "--json", NULL), 0);
    ASSERT_CONTAINS(out, "{\"slot\": 1, \"role\": \"serving\", \"state\": \"backoff\"");
    ASSERT_CONTAINS(out, "\"backoff_left_ms\": ");
    ASSERT_CONTAINS(out, "\"failures\": 1");
    free(out);
    ASSERT_EQ(ctl(&out, 5000, "-n", "shop", "status", NULL), 0);
    ASSERT_CONTAINS(out, "backoff 4.");
    free(out);
    /* Mid-reload: slot 0's replacement takes 300 ms to count as ready. */
    snprintf(script + strlen(script), 16, ".crash");
    ASSERT(unlink(script) == 0);
    script[strlen(script) - 6] = '\0';
    c = run(zt_zclusterctl(), "-n", "shop", "reload", NULL);
    zt_wait_line(p, "reload to generation 2, step 1", 5000);
    ASSERT_EQ(ctl(&out, 5000, "-n", "shop", "status", "--json", NULL), 0);
    ASSERT_CONTAINS(out, "\"state\": \"reloading\"");
    ASSERT_CONTAINS(out, "{\"slot\": 0, \"role\": \"replacement\", \"state\": "
                    "\"starting\"");
    free(out);
    ASSERT_EQ(zt_exit_code(c, 15000), 0);
    zt_proc_free(c);
    zt_stop_fleet(p);
}

void test_control_reload_outcomes(void)
{
    char script[300], good[600], *out;
    pid_t pids[2], kids[4];
    int port;
    struct zt_proc *p;
    uint64_t t0;

    snprintf(script, sizeof(script), "%s/release", zt_tmpdir());
    snprintf(good, sizeof(good), "#!/bin/sh\nexec %s\n", zt_hello());
    zt_write_script(script, good);
    p = zt_fleet(2, pids, &port, "-n", "shop", "-w", "2", "-l", "127.0.0.1:0",
                 "--ready", "notify", "--ready-timeout", "2000", "--", script,
                 NULL);
    /* A good release: every step in words, exit 0. */
    ASSERT_EQ(ctl(&out, 15000, "-n", "shop", "reload", NULL), 0);
    ASSERT_CONTAINS(out, "shop: reload to generation 2 started");
    ASSERT_CONTAINS(out, "shop: slot 1: worker 4 ready");
    ASSERT_CONTAINS(out, "shop: reload to generation 2 done in");
    free(out);
    ASSERT_EQ(zt_children_of(p->pid, pids, 2), 2);
    /* A broken one: exit 1, the failing slot and the reason; the old
     * workers stay. */
    zt_write_script(script, "#!/bin/sh\necho broken release >&2\nexit 1\n");
    ASSERT_EQ(ctl(&out, 15000, "-n", "shop", "reload", NULL), 1);
    ASSERT_CONTAINS(out, "failed after");
    ASSERT_CONTAINS(out, "slot 0: worker 5 (slot 0, pid");
    ASSERT_CONTAINS(out, "exited with status 1 before it was ready");
    free(out);
    ASSERT_EQ(zt_children_of(p->pid, kids, 4), 2);
    ASSERT(kids[0] == pids[0] || kids[0] == pids[1]);
    ASSERT(kids[1] == pids[0] || kids[1] == pids[1]);
    /* The generation that runs is still 2; the failed one is the last
     * reload's, apart. */
    ASSERT_EQ(ctl(&out, 5000, "-n", "shop", "status", "--json", NULL), 0);
    ASSERT_CONTAINS(out, "\"outcome\": \"failed\"");
    ASSERT_CONTAINS(out, "\"generation\": 2,\n    \"workers\": {");
    ASSERT_CONTAINS(out, "\"last_reload\": {\"generation\": 3, \"outcome\": "
                    "\"failed\"");
    ASSERT_EQ(zt_count_in(out, "\"generation\": 2, \"uptime_s\""), 2);
    free(out);
    ASSERT_EQ(ctl(&out, 5000, "-n", "shop", "status", NULL), 0);
    ASSERT_CONTAINS(out, ", generation 2; 2 of 2 workers ready");
    ASSERT_CONTAINS(out, "last reload: generation 3 failed");
    free(out);
    ASSERT_EQ(ctl(&out, 5000, "-n", "shop", "metrics", NULL), 0);
    ASSERT_CONTAINS(out, "\nzcluster_generation 2\n");
    free(out);
    /* --no-wait returns at once; the reload goes on (and fails). */
    zt_write_script(script, "#!/bin/sh\nexec sleep 60\n");
    t0 = zt_now_ms();
    ASSERT_EQ(ctl(&out, 5000, "-n", "shop", "reload", "--no-wait", NULL), 0);
    ASSERT_LE(zt_now_ms() - t0, 1500);
    ASSERT_CONTAINS(out, "reload to generation 4 started");
    free(out);
    zt_wait_line(p, "reload to generation 4 failed", 5000);
    /* --json: the lines themselves on stdout, the outcome last. */
    zt_write_script(script, good);
    ASSERT_EQ(ctl(&out, 15000, "-n", "shop", "--json", "reload", NULL), 0);
    ASSERT_CONTAINS(out, "{\"event\": \"started\", \"generation\": 5");
    ASSERT_CONTAINS(out, "{\"event\": \"outcome\", \"ok\": true, \"outcome\": "
                    "\"done\"");
    free(out);
    zt_stop_fleet(p);
}

/* Status says what an operator asks first: the command, the balance
 * mode, the limits, the metrics address, the listeners. */
void test_control_status_says_the_fleet(void)
{
    pid_t pids[2];
    int port, mport;
    char *out, want[160];
    struct zt_proc *p;

    p = zt_fleet(2, pids, &port, "-n", "shop", "-w", "2", "-l", "127.0.0.1:0",
                 "--balance", "reuseport", "--metrics", "127.0.0.1:0",
                 "--watchdog", "2s", "--max-memory", "48M", "--", zt_hello(),
                 "--startup-delay", "0", NULL);
    mport = zt_metrics_port(p);
    ASSERT_EQ(ctl(&out, 5000, "-n", "shop", "status", "--json", NULL), 0);
    snprintf(want, sizeof(want), "\"command\": [\"%s\", \"--startup-delay\", "
             "\"0\"]", zt_hello());
    ASSERT_CONTAINS(out, want);
    ASSERT_CONTAINS(out, "\"balance\": \"reuseport\", \"steering\": \"");
    snprintf(want, sizeof(want), "\"sockets\": [\"127.0.0.1:%d\"]", port);
    ASSERT_CONTAINS(out, want);
    snprintf(want, sizeof(want), "\"metrics\": \"127.0.0.1:%d\"", mport);
    ASSERT_CONTAINS(out, want);
    ASSERT_CONTAINS(out, "\"limits\": {\"watchdog_ms\": 2000, "
                    "\"max_memory_bytes\": 50331648, \"max_lifetime_ms\": 0");
    free(out);
    ASSERT_EQ(ctl(&out, 5000, "-n", "shop", "status", NULL), 0);
    snprintf(want, sizeof(want), "command: %s --startup-delay 0\n", zt_hello());
    ASSERT_CONTAINS(out, want);
    snprintf(want, sizeof(want), "sockets: 127.0.0.1:%d (balance reuseport (",
             port);
    ASSERT_CONTAINS(out, want);
    ASSERT_CONTAINS(out, "limits: watchdog 2s, max memory 48M, max lifetime off");
    snprintf(want, sizeof(want), "metrics: http://127.0.0.1:%d/metrics\n", mport);
    ASSERT_CONTAINS(out, want);
    free(out);
    zt_stop_fleet(p);
}

/* Two reloads asked for at once: the second joins SIGHUP's rule (one
 * more after a success) and its client hears of that one. */
void test_control_reload_joins(void)
{
    struct zt_proc *p, *a, *b;
    pid_t pids[2];
    int port;

    p = zt_fleet(2, pids, &port, "-n", "shop", "-w", "2", "-l", "127.0.0.1:0",
                 "--", zt_hello(), "--startup-delay", "200", NULL);
    a = run(zt_zclusterctl(), "-n", "shop", "reload", NULL);
    zt_wait_line(p, "rolling reload to generation 2", 5000);
    b = run(zt_zclusterctl(), "-n", "shop", "reload", NULL);
    zt_wait_line(p, "a reload will follow when it succeeds", 5000);
    ASSERT_EQ(zt_exit_code(a, 15000), 0);
    ASSERT_EQ(zt_exit_code(b, 15000), 0);
    zt_pump(a, 100);
    zt_pump(b, 100);
    ASSERT_CONTAINS(a->log, "reload to generation 2 done");
    ASSERT_CONTAINS(b->log, "a reload to generation 3 follows it");
    ASSERT_CONTAINS(b->log, "reload to generation 3 done");
    zt_proc_free(a);
    zt_proc_free(b);
    zt_stop_fleet(p);
}

void test_control_scale_restart_signal(void)
{
    pid_t pids[3], kids[8];
    int port;
    char *out, helper[16] = "signals";
    struct zt_proc *p = zt_fleet(3, pids, &port, "-n", "shop", "-w", "3",
                                 "--ready", "notify", "--", zt_self(),
                                 "--helper", helper, NULL);

    ASSERT_EQ(ctl(&out, 10000, "-n", "shop", "scale", "+2", NULL), 0);
    ASSERT_CONTAINS(out, "scaling from 3 to 5 workers");
    ASSERT_CONTAINS(out, "5 of 5 workers ready");
    free(out);
    ASSERT_EQ(zt_children_of(p->pid, kids, 8), 5);
    ASSERT_EQ(ctl(&out, 10000, "-n", "shop", "scale", "-1", NULL), 0);
    ASSERT_CONTAINS(out, "4 of 4 workers ready");
    free(out);
    ASSERT_EQ(zt_children_of(p->pid, kids, 8), 4);
    ASSERT_EQ(ctl(&out, 10000, "-n", "shop", "scale", "3", NULL), 0);
    free(out);
    ASSERT_EQ(zt_children_of(p->pid, kids, 8), 3);
    /* Restart slot 1: the others keep their pids. */
    ASSERT_EQ(ctl(&out, 10000, "-n", "shop", "restart", "1", NULL), 0);
    ASSERT_CONTAINS(out, "restart of slot 1 done");
    free(out);
    ASSERT(zt_alive(pids[0]) && zt_alive(pids[2]));
    ASSERT_EQ(zt_children_of(p->pid, kids, 8), 3);
    for (int i = 0; i < 3; i++)
        ASSERT(kids[i] != pids[1]);
    /* A signal reaches exactly the slots named. */
    ASSERT_EQ(ctl(&out, 5000, "-n", "shop", "signal", "USR1", "0", "2", NULL), 0);
    ASSERT_CONTAINS(out, "sent SIGUSR1 to 2 workers");
    free(out);
    /* In either order. */
    for (uint64_t t0 = zt_now_ms(); zt_count(p, "slot 0 got SIGUSR1") < 1 ||
         zt_count(p, "slot 2 got SIGUSR1") < 1; ) {
        ASSERT(zt_now_ms() - t0 < 5000);
        zt_pump(p, 20);
    }
    ASSERT_EQ(ctl(&out, 5000, "-n", "shop", "signal", "USR2", NULL), 0);
    free(out);
    for (int i = 0; i < 3; i++)
        zt_wait_line(p, "got SIGUSR2", 5000);
    ASSERT_EQ(zt_count(p, "slot 1 got SIGUSR1"), 0);
    zt_stop_fleet(p);
}

void test_control_stop_waits(void)
{
    pid_t pids[2];
    int port;
    char *out, helper[16] = "ignore_term";
    struct zt_proc *p;

    /* A stop during a stop: the first one is still draining a worker that
     * ignores TERM. */
    p = zt_fleet(1, pids, &port, "-n", "shop", "-w", "1", "--shutdown-timeout",
                 "2s", "--", zt_self(), "--helper", helper, NULL);
    ASSERT_EQ(ctl(&out, 5000, "stop", "--no-wait", NULL), 0);
    ASSERT_CONTAINS(out, "stopping 1 worker");
    free(out);
    ASSERT_EQ(ctl(&out, 5000, "stop", NULL), 1);
    ASSERT_CONTAINS(out, "the fleet is already stopping");
    free(out);
    ASSERT_EQ(zt_exit_code(p, 10000), 0);
    zt_proc_free(p);
    zt_reap_all(3000);

    p = zt_fleet(2, pids, &port, "-n", "shop", "-w", "2", "-l", "127.0.0.1:0", "--", zt_hello(), NULL);

    ASSERT_EQ(ctl(&out, 15000, "stop", NULL), 0);
    ASSERT_CONTAINS(out, "shop: stopping 2 workers");
    free(out);
    /* Gone when zclusterctl returned: its exit is already there. */
    ASSERT_EQ(zt_exit_code(p, 100), 0);
    zt_proc_free(p);
    ASSERT_EQ(ctl(&out, 5000, "-n", "shop", "status", NULL), 3);
    ASSERT_CONTAINS(out, "no fleet shop");
    free(out);
    zt_reap_all(3000);
}

/* Who may: root and the fleet's uid; another uid is refused (exit 4),
 * by the socket's mode, or by the primary when the mode lets it in. */
void test_control_permissions(void)
{
    char path[300], gid_arg[32], *out;
    pid_t pids[1];
    int port;
    struct zt_proc *p, *c;

    if (access("/usr/bin/setpriv", X_OK) != 0 || geteuid() != 0)
        zt_skip("needs root and setpriv (util-linux)");
    ASSERT(chmod(zt_tmpdir(), 0755) == 0);
    sock_path(path, sizeof(path), "shop");
    p = zt_fleet(1, pids, &port, "-n", "shop", "-w", "1", "-l", "127.0.0.1:0", "--", zt_hello(),
                 NULL);
    {
#define AS_NOBODY "/usr/bin/setpriv", "--reuid=65534", "--regid=65534", \
                  "--clear-groups", zt_zclusterctl(), "-s", path, "status", NULL
        c = run(AS_NOBODY);
        ASSERT_EQ(zt_exit_code(c, 5000), 4);
        zt_pump(c, 100);
        ASSERT_CONTAINS(c->log, "permission denied");
        zt_proc_free(c);
        /* Past the mode: the primary refuses, and says who. */
        ASSERT(chmod(path, 0666) == 0);
        c = run(AS_NOBODY);
        ASSERT_EQ(zt_exit_code(c, 5000), 4);
        zt_pump(c, 100);
        ASSERT_CONTAINS(c->log, "permission denied: uid 65534");
        zt_proc_free(c);
        zt_wait_line(p, "refused a control request from uid 65534 (pid", 5000);
        /* A second refusal within the second is not logged again. */
        c = run(AS_NOBODY);
        ASSERT_EQ(zt_exit_code(c, 5000), 4);
        zt_proc_free(c);
        zt_pump(p, 200);
        ASSERT_EQ(zt_count(p, "refused a control request"), 1);
    }
    zt_stop_fleet(p);
    /* A member of the control group is served. */
    p = zt_fleet(1, pids, &port, "-n", "shop", "-w", "1", "--control-group",
                 "nogroup", "-l", "127.0.0.1:0", "--", zt_hello(), NULL);
    ASSERT_CONTAINS(p->log, "mode 0660");
    {
        struct stat st;

        ASSERT(stat(path, &st) == 0);
        ASSERT_EQ(st.st_mode & 0777, 0660);
        snprintf(gid_arg, sizeof(gid_arg), "--groups=%u", (unsigned) st.st_gid);
        c = run("/usr/bin/setpriv", "--reuid=65534", "--regid=65534", gid_arg,
                zt_zclusterctl(), "-s", path, "status", NULL);
        ASSERT_EQ(zt_exit_code(c, 5000), 0);
        zt_pump(c, 100);
        ASSERT_CONTAINS(c->log, "fleet shop");
        zt_proc_free(c);
    }
    (void) out;
    zt_stop_fleet(p);
}

/* One name, two fleets: the second is refused; a stale socket is not in
 * the way; a socket that cannot be made is a warning, not a failure. */
void test_control_names_and_places(void)
{
    char path[300], ro[300], cmd[700];
    pid_t pids[1], other[1];
    int port;
    struct zt_proc *p, *q;
    int fd;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };

    p = zt_fleet(1, pids, &port, "-n", "shop", "-w", "1", "-l", "127.0.0.1:0", "--", zt_hello(),
                 NULL);
    q = zt_zc("-n", "shop", "-w", "1", "-l", "127.0.0.1:0", "--", zt_hello(), NULL);
    ASSERT_EQ(zt_exit_code(q, 5000), 1);
    zt_pump(q, 100);
    {
        char want[96];

        snprintf(want, sizeof(want), "a fleet named shop is already running, "
                 "pid %d", (int) p->pid);
        ASSERT_CONTAINS(q->log, want);
    }
    zt_proc_free(q);
    zt_stop_fleet(p);
    /* A stale socket: bound, never listened on, its owner gone. */
    sock_path(path, sizeof(path), "shop");
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", path);
    ASSERT(bind(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0);
    close(fd);
    p = zt_fleet(1, pids, &port, "-n", "shop", "-w", "1", "-l", "127.0.0.1:0", "--", zt_hello(),
                 NULL);
    ASSERT_CONTAINS(p->log, "replacing the stale control socket");
    zt_stop_fleet(p);
    /* A unit's RuntimeDirectory=zcluster/web: DIR/web/web.sock is found by
     * name and listed. */
    {
        char web[300], sock[340], *out;

        snprintf(web, sizeof(web), "%s/web", zt_tmpdir());
        ASSERT(mkdir(web, 0700) == 0);
        snprintf(sock, sizeof(sock), "%s/web.sock", web);
        p = zt_fleet(1, pids, &port, "-n", "web", "-w", "1", "--control", sock,
                     "-l", "127.0.0.1:0", "--", zt_hello(), NULL);
        ASSERT_EQ(ctl(&out, 5000, "-n", "web", "status", NULL), 0);
        ASSERT_CONTAINS(out, "fleet web:");
        free(out);
        ASSERT_EQ(ctl(&out, 5000, "list", NULL), 0);
        ASSERT_CONTAINS(out, sock);
        free(out);
        zt_stop_fleet(p);
    }
    /* --control none: no socket. */
    p = zt_fleet(1, pids, &port, "-n", "shop", "-w", "1", "--control", "none",
                 "-l", "127.0.0.1:0", "--", zt_hello(), NULL);
    ASSERT(access(path, F_OK) != 0);
    zt_stop_fleet(p);
    /* A read-only directory: the fleet runs, with one warning. */
    snprintf(ro, sizeof(ro), "%s/ro", zt_tmpdir());
    ASSERT(mkdir(ro, 0755) == 0);
    snprintf(cmd, sizeof(cmd), "mount -t tmpfs -o ro,size=64k tmpfs %s 2>&1", ro);
    if (system(cmd) != 0)
        zt_skip("cannot mount a read-only tmpfs here");
    snprintf(path, sizeof(path), "%.280s/shop.sock", ro);
    p = zt_fleet(1, other, &port, "-n", "shop", "-w", "1", "--control", path,
                 "-l", "127.0.0.1:0", "--", zt_hello(), NULL);
    ASSERT_CONTAINS(p->log, "no control socket: cannot create");
    ASSERT_CONTAINS(p->log, "Read-only file system");
    ASSERT_EQ(zt_count(p, "no control socket"), 1);
    zt_stop_fleet(p);
    snprintf(cmd, sizeof(cmd), "umount %s", ro);
    ASSERT_EQ(system(cmd), 0);
}

/* Bad input: a clear error and the documented exit code; the fleet is
 * untouched. */
void test_control_bad_requests(void)
{
    static const struct { const char *req; const char *want; } raw[] = {
        { "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "404" },
        { "DELETE /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "405" },
        { "POST /scale?to=abc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "invalid scale" },
        { "POST /scale?to=0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "400" },
        { "POST /reload?wiat=0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "does not take 'wiat'" },
        { "POST /restart?slots=1,,2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "invalid slot list" },
        { "POST /signal?signal=NOPE HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "invalid signal" },
        { "GET /status?format=xml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "format" },
        /* MHD closes the connection on a request line it cannot read */
        { "garbage\r\n\r\n", NULL },
    };
    char path[300], *out;
    pid_t pids[2], kids[4];
    int port, half;
    uint64_t half_at;
    struct zt_proc *p = zt_fleet(2, pids, &port, "-n", "shop", "-w", "2",
                                 "-l", "127.0.0.1:0", "--", zt_hello(), "--startup-delay", "300",
                                 NULL);

    sock_path(path, sizeof(path), "shop");
    for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
        char buf[2048];

        size_t n = zt_unix_raw(path, raw[i].req, buf, sizeof(buf));

        if (raw[i].want) {
            ASSERT(n > 0);
            ASSERT_CONTAINS(buf, raw[i].want);
        }
    }
    /* Half a request, then nothing: others are served meanwhile, and it
     * is cut off at the deadline (checked at the end). */
    half = zt_unix_connect(path);
    half_at = zt_now_ms();
    ASSERT(write(half, "GET /sta", 8) == 8);
    ASSERT_EQ(ctl(&out, 5000, "-n", "shop", "status", NULL), 0);
    free(out);
    ASSERT_EQ(ctl(&out, 5000, "-n", "shop", "scale", "0", NULL), 2);
    ASSERT_CONTAINS(out, "invalid scale '0'");
    free(out);
    ASSERT_EQ(ctl(&out, 5000, "-n", "shop", "restart", "7", NULL), 2);
    ASSERT_CONTAINS(out, "no slot 7: the fleet has 2 slots (0 to 1)");
    free(out);
    ASSERT_EQ(ctl(&out, 5000, "-n", "shop", "signal", "WHAT", NULL), 2);
    free(out);
    ASSERT_EQ(ctl(&out, 5000, "-n", "shop", "frobnicate", NULL), 2);
    free(out);
    ASSERT_EQ(ctl(&out, 5000, "-n", "shop", "--timeout", "soon", "status", NULL), 2);
    free(out);
    /* A restart mid-reload is refused; a client that leaves mid-stream
     * does not stop the reload. */
    {
        struct zt_proc *c = run(zt_zclusterctl(), "-n", "shop", "reload", NULL);

        zt_wait_line(p, "step 1 of 2", 5000);
        ASSERT_EQ(ctl(&out, 5000, "-n", "shop", "restart", "1", NULL), 1);
        ASSERT_CONTAINS(out, "reload to generation 2 is under way");
        free(out);
        kill(c->pid, SIGKILL);
        zt_wait_exit(c, 5000);
        zt_proc_free(c);
        zt_wait_line(p, "reload to generation 2 done", 10000);
    }
    /* --timeout: exit 5, the operation goes on. */
    ASSERT_EQ(ctl(&out, 5000, "-n", "shop", "--timeout", "100ms", "reload", NULL), 5);
    ASSERT_CONTAINS(out, "the operation goes on");
    free(out);
    zt_wait_line(p, "reload to generation 3 done", 10000);
    ASSERT_EQ(zt_children_of(p->pid, kids, 4), 2);
    {
        char c;

        ASSERT_EQ(read(half, &c, 1), 0);
        ASSERT_GE(zt_now_ms() - half_at, 4900);
        ASSERT_LE(zt_now_ms() - half_at, 7000);
        close(half);
    }
    zt_stop_fleet(p);
}

/* systemd's Type=notify-reload: SIGHUP is a reload; RELOADING=1 with
 * MONOTONIC_USEC= says it began, READY=1 that it ended; STATUS= follows
 * the ready workers. */
void test_control_systemd_notify_reload(void)
{
    char path[300], env[340], buf[512], all[4096] = "";
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char *argv[] = { (char *) zt_zcluster(), (char *) "-n", (char *) "shop",
                     (char *) "-w", (char *) "2", (char *) "-l",
                     (char *) "127.0.0.1:0", (char *) "--",
                     (char *) zt_hello(), NULL };
    char *envp[] = { env, NULL };
    struct zt_proc *p;
    uint64_t t0;
    int fd;

    snprintf(path, sizeof(path), "%s/notify", zt_tmpdir());
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", path);
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT(bind(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0);
    snprintf(env, sizeof(env), "NOTIFY_SOCKET=%s", path);
    p = zt_start(argv, envp);
    zt_wait_line(p, "all 2 workers ready", 5000);
    ASSERT(kill(p->pid, SIGHUP) == 0);
    zt_wait_line(p, "reload to generation 2 done", 10000);
    t0 = zt_now_ms();
    while (!strstr(all, "generation 2\n") || !strstr(all, "2 of 2 workers "
           "ready, generation 2")) {
        ssize_t n;

        ASSERT(zt_now_ms() - t0 < 5000);
        n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
        if (n <= 0) {
            zt_pump(p, 10);
            continue;
        }
        buf[n] = '\0';
        snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s\n", buf);
    }
    ASSERT_CONTAINS(all, "READY=1\n");
    ASSERT_CONTAINS(all, "RELOADING=1\nMONOTONIC_USEC=");
    /* READY=1 again after RELOADING=1: the reload's end. */
    ASSERT_CONTAINS(strstr(all, "RELOADING=1"), "READY=1");
    close(fd);
    zt_stop_fleet(p);
}

/* The README's example: "zclusterctl signal USR1 # reopen logs". The
 * bundled server reopens its --log file on USR1 (after logrotate moved
 * it), and nobody dies of it. */
void test_control_signal_usr1_reopens_logs(void)
{
    char log[300], moved[320], *out, *text;
    pid_t pids[2], kids[4];
    int port;
    struct zt_proc *p;

    snprintf(log, sizeof(log), "%s/hello.log", zt_tmpdir());
    snprintf(moved, sizeof(moved), "%s.1", log);
    p = zt_fleet(2, pids, &port, "-n", "shop", "-w", "2", "-l", "127.0.0.1:0",
                 "--", zt_hello(), "--log", log, NULL);
    ASSERT(rename(log, moved) == 0);
    ASSERT_EQ(ctl(&out, 5000, "-n", "shop", "signal", "USR1", NULL), 0);
    ASSERT_CONTAINS(out, "sent SIGUSR1 to 2 workers");
    free(out);
    for (uint64_t t0 = zt_now_ms(); ; zt_pump(p, 20)) {
        text = zt_read_file(log);
        if (text && zt_count_in(text, "received SIGUSR1: reopened") == 2)
            break;
        ASSERT(zt_now_ms() - t0 < 5000);
        free(text);
    }
    free(text);
    ASSERT_EQ(zt_children_of(p->pid, kids, 4), 2);
    ASSERT(kids[0] == pids[0] || kids[0] == pids[1]);
    ASSERT(kids[1] == pids[0] || kids[1] == pids[1]);
    ASSERT_EQ(zt_count(p, "killed by signal"), 0);
    ASSERT_EQ(ctl(&out, 5000, "-n", "shop", "status", "--json", NULL), 0);
    ASSERT_EQ(zt_count_in(out, "\"restarts\": 0"), 2);
    free(out);
    zt_stop_fleet(p);
}

/* 32 reload streams hold every connection of the control socket (the
 * fleet's workers take 2 s to be ready, so each reload waits): status is
 * still answered within 100 ms, and one more reload that would wait is
 * told 503 (not a bare EOF), without starting anything. */
void test_control_status_never_dark(void)
{
    static const char reload[] = "POST /reload HTTP/1.1\r\nHost: x\r\n\r\n";
    char path[300], buf[512], *out;
    pid_t pids[1];
    int port, fds[32];
    struct zt_proc *p;

    p = zt_fleet(1, pids, &port, "-n", "shop", "-w", "1", "-l", "127.0.0.1:0",
                 "--ready", "notify", "--", zt_hello(), "--startup-delay",
                 "2000", NULL);
    sock_path(path, sizeof(path), "shop");
    for (int i = 0; i < 32; i++) {
        fds[i] = zt_unix_connect(path);
        ASSERT_EQ(send(fds[i], reload, sizeof(reload) - 1, MSG_NOSIGNAL),
                  (ssize_t) sizeof(reload) - 1);
    }
    zt_wait_line(p, "reload to generation 2, step 1", 5000);
    /* All 32 read and held: one still unread when status comes would
     * rightly be closed to make room for it. */
    for (uint64_t t0 = zt_now_ms();
         zt_count(p, "a reload will follow when it succeeds") < 31; zt_pump(p, 10))
        ASSERT(zt_now_ms() - t0 < 5000);
    for (int i = 0; i < 5; i++) {
        uint64_t t0 = zt_now_ms();

        ASSERT_EQ(ctl(&out, 5000, "-n", "shop", "status", "--json", NULL), 0);
        ASSERT_CONTAINS(out, "\"state\": \"reloading\"");
        free(out);
        printf("# status answered in %llu ms with 32 reload streams open\n",
               (unsigned long long) (zt_now_ms() - t0));
        ASSERT_LE(zt_now_ms() - t0, 100);
    }
    {
        size_t n = zt_unix_raw(path, "POST /reload HTTP/1.1\r\nHost: x\r\n"
                               "Connection: close\r\n\r\n", buf, sizeof(buf));

        ASSERT(n > 0);
        ASSERT_CONTAINS(buf, "HTTP/1.1 503");
        ASSERT_CONTAINS(buf, "clients are waiting on this fleet's control socket");
    }
    for (int i = 0; i < 32; i++)
        close(fds[i]);
    zt_wait_line(p, "reload to generation 2 done", 10000);
    ASSERT_EQ(zt_count(p, "a reload will follow when it succeeds"), 31);
    zt_stop_fleet(p);
}

/* A worker's STATUS= with escape sequences (a title, a bell, a screen
 * clear, a C1 control) reaches the log, status and zclusterctl escaped:
 * no byte a terminal acts on. */
void test_control_status_text_escaped(void)
{
    pid_t pids[1];
    int port;
    struct zt_proc *p;
    char *out;
    const char *l;

    if (access("/usr/bin/python3", X_OK) != 0)
        zt_skip("python3 is not installed");
    p = zt_fleet(1, pids, &port, "-n", "shop", "-w", "1", "--ready", "notify",
                 "--", "/usr/bin/python3", zt_path("tests/data/status-escape.py"),
                 NULL);
    ASSERT_EQ(ctl(&out, 5000, "-n", "shop", "status", NULL), 0);
    ASSERT_CONTAINS(out, "\\x1b]0;pwned\\x07hi\\x1b[2J\\xc2\\x9b");
    ASSERT(!strchr(out, '\033') && !strchr(out, '\a'));
    free(out);
    ASSERT_EQ(ctl(&out, 5000, "-n", "shop", "status", "--json", NULL), 0);
    ASSERT_CONTAINS(out, "\"status\": \"\\\\x1b]0;pwned\\\\x07hi");
    free(out);
    ASSERT(kill(pids[0], SIGKILL) == 0);
    l = zt_wait_line(p, "(last status: ", 5000);
    ASSERT_CONTAINS(l, "(last status: \\x1b]0;pwned\\x07hi\\x1b[2J\\xc2\\x9b)");
    ASSERT(!strchr(p->log, '\033') && !strchr(p->log, '\a'));
    zt_stop_fleet(p);
}

/* zclusterctl's verbs are one table: --help lists each with its
 * arguments, and a missing or unknown verb is a usage error (exit 2) that
 * names them all, before any fleet is looked for. */
void test_control_cli_verbs(void)
{
    static const char *const verbs[] = { "list",  "status",  "reload",
                                         "scale", "restart", "signal",
                                         "stop",  "metrics", "logs" };
    char *out, line[64];

    ASSERT_EQ(ctl(&out, 5000, "--help", NULL), 0);
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        snprintf(line, sizeof(line), "\n  %s ", verbs[i]);
        ASSERT_CONTAINS(out, line);
    }
    ASSERT_CONTAINS(out, "scale N|+N|-N [--no-wait]");
    free(out);
    ASSERT_EQ(ctl(&out, 5000, "frobnicate", NULL), 2);
    ASSERT_CONTAINS(out, "unknown verb 'frobnicate' (list, status, reload, "
                         "scale, restart, signal, stop, metrics, logs, "
                         "config, upgrade)");
    free(out);
    ASSERT_EQ(ctl(&out, 5000, "-s", "/nonexistent/zc.sock", NULL), 2);
    ASSERT_CONTAINS(out, "no verb given (list, status, reload, scale, "
                         "restart, signal, stop, metrics, logs, config, "
                         "upgrade)");
    free(out);
    /* A verb's own arguments are checked before the fleet is sought. */
    ASSERT_EQ(ctl(&out, 5000, "-s", "/nonexistent/zc.sock", "scale", "many",
                  NULL),
              2);
    ASSERT_CONTAINS(out, "scale takes one number");
    free(out);
    ASSERT_EQ(ctl(&out, 5000, "-s", "/nonexistent/zc.sock", "logs", "-n", "x",
                  NULL),
              2);
    ASSERT_CONTAINS(out, "invalid number of lines 'x'");
    free(out);
}
