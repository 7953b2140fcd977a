/* Workers that drop privileges (--user, --group, --chdir, --umask): what
 * /proc says of them, a privileged port bound by the primary and served by
 * them, and every path a worker uses still working under another uid. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"

/* The lines "Uid:", "Gid:", "Groups:" of /proc/PID/status, joined. */
static void ids_of(pid_t pid, char *out, size_t size)
{
    char path[64], *text, *line;
    size_t n = 0;

    snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
    text = zt_read_file(path);
    ASSERT(text);
    out[0] = '\0';
    for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        if (!strncmp(line, "Uid:", 4) || !strncmp(line, "Gid:", 4) ||
            !strncmp(line, "Groups:", 7))
            n += (size_t) snprintf(out + n, n < size ? size - n : 0, "%s\n",
                                   line);
    free(text);
}

/* A port below 1024 nothing listens on at 127.0.0.1, or 0. */
static int privileged_port(void)
{
    for (int port = 1000; port > 900; port--) {
        struct sockaddr_in a = { .sin_family = AF_INET,
                                 .sin_port = htons((uint16_t) port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

        ok = bind(fd, (struct sockaddr *) &a, sizeof(a)) == 0;
        close(fd);
        if (ok)
            return port;
    }
    return 0;
}

/*
 * As root with --user nobody: the primary binds a privileged port, each
 * worker is nobody (uid, gid, groups) and serves it; sticky hand-offs
 * (the IPC link), READY=1 (notify), the metrics region and the watchdog's
 * pings all work under that uid.
 */
void test_user_drops_privileges(void)
{
    char addr[32], want[64], ids[512], mkey[128];
    int mport, port = privileged_port();
    pid_t pids[2];
    struct zt_proc *p;

    if (geteuid() != 0)
        zt_skip("dropping privileges takes a root primary");
    if (!port)
        zt_skip("no free port below 1024 on 127.0.0.1");
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    p = zt_fleet(2, pids, NULL, "-w", "2", "-u", "nobody", "-l", addr,
                 "--sticky", "--ready", "notify", "--metrics", "127.0.0.1:0",
                 "--watchdog", "200ms", "--watchdog-require", "--control",
                 "none", "--", zt_hello(), NULL);
    ASSERT_CONTAINS(p->log, "workers run as nobody (uid 65534, gid 65534");
    ASSERT_EQ(zt_count(p, "the workers run as root"), 0);
    mport = zt_metrics_port(p);
    for (int i = 0; i < 2; i++) {
        ids_of(pids[i], ids, sizeof(ids));
        printf("# worker %d: %s", i, ids);
        ASSERT_CONTAINS(ids, "Uid:\t65534\t65534\t65534\t65534\n");
        ASSERT_CONTAINS(ids, "Gid:\t65534\t65534\t65534\t65534\n");
        ASSERT_CONTAINS(ids, "Groups:\t65534 \n");
    }
    /* Sticky: every request handed over the link to a nobody worker. */
    for (int i = 0; i < 20; i++) {
        struct zt_resp r;

        ASSERT_EQ(zt_http_get(port, NULL, &r), 200);
        ASSERT(r.pid == pids[0] || r.pid == pids[1]);
    }
    ASSERT_GE(zt_metric(mport, "zcluster_sticky_handoffs_total"), 20);
    /* Their own metrics, from the region they write. */
    snprintf(mkey, sizeof(mkey), "hello_requests_total{code=\"200\"}");
    ASSERT_GE(zt_metric(mport, mkey), 20);
    /* Pinging for five periods: no miss, the same workers. */
    zt_pump(p, 1000);
    ASSERT_EQ(zt_metric(mport, "zcluster_watchdog_misses_total"
                               "{action=\"kill\"}"),
              0);
    snprintf(want, sizeof(want), "(slot 0, pid %d) ready", (int) pids[0]);
    ASSERT_CONTAINS(p->log, want);
    ASSERT(zt_alive(pids[0]) && zt_alive(pids[1]));
    zt_stop_fleet(p);
}

/* The user's supplementary groups, as initgroups finds them: a user made
 * for the test, in a group of its own and in one more. */
void test_user_supplementary_groups(void)
{
    const char *user = "zc-test-user", *extra = "zc-test-extra";
    char cmd[512], ids[512], gid[32], *out;
    pid_t pids[1];
    struct zt_proc *p;

    if (geteuid() != 0 || access("/usr/sbin/useradd", X_OK) != 0)
        zt_skip("making a user takes root and useradd (passwd)");
    snprintf(cmd, sizeof(cmd),
             "userdel %s 2>/dev/null; groupdel %s "
             "2>/dev/null; groupadd %s && useradd --system --no-create-home "
             "-G %s %s && getent group %s | cut -d: -f3",
             user, extra, extra, extra, user, extra);
    out = zt_capture(cmd);
    snprintf(gid, sizeof(gid), "%d", atoi(out));
    free(out);
    ASSERT(atoi(gid) > 0);
    p = zt_fleet(1, pids, NULL, "-w", "1", "--user", user, "--control", "none",
                 "--", "/bin/sleep", "30", NULL);
    ids_of(pids[0], ids, sizeof(ids));
    printf("# %s", ids);
    zt_stop_fleet(p);
    snprintf(cmd, sizeof(cmd), "userdel %s; groupdel %s", user, extra);
    free(zt_capture(cmd));
    ASSERT_CONTAINS(ids, gid);
    ASSERT_CONTAINS(ids, "Groups:\t");
    ASSERT(strstr(strstr(ids, "Groups:"), gid));
    ASSERT(!strstr(ids, "Uid:\t0\t"));
}

/* --chdir and --umask, as a uid with no passwd entry (its group is the
 * gid of the same number); read back from what the worker prints. */
void test_user_chdir_umask(void)
{
    struct zt_proc *p;

    if (geteuid() != 0)
        zt_skip("changing the workers' user takes root");
    p = zt_zc("-w", "1", "--user", "4321", "--chdir", "/tmp", "--umask", "027",
              "--control", "none", "--", "/bin/sh", "-c",
              "echo ids $(id -u) $(id -g) $(id -G); echo dir $(pwd); "
              "echo mask $(umask)",
              NULL);
    ASSERT_EQ(zt_exit_code(p, 10000), 0);
    ASSERT_CONTAINS(p->log, "out: ids 4321 4321 4321\n");
    ASSERT_CONTAINS(p->log, "out: dir /tmp\n");
    ASSERT_CONTAINS(p->log, "out: mask 0027\n");
    ASSERT_CONTAINS(p->log, "workers run as uid 4321 (uid 4321, gid 4321");
    zt_proc_free(p);
}

/* Refused at start with status 2, before anything is bound: a user or a
 * group that does not exist, two groups, --user in a primary that is not
 * root (unless it is that user already). A directory the user may not
 * enter: the fleet ends as a command that cannot be run does. */
void test_user_refused(void)
{
    static const char *const mine[] = { "--user", "nobody", NULL };
    static const char *const other[] = { "--user", "daemon", NULL };
    char closed[256], line[320];
    struct zt_proc *p;

    p = zt_zc("--user", "zc-no-such-user", "-w", "1", "--control", "none", "--",
              "/bin/true", NULL);
    ASSERT_EQ(zt_exit_code(p, 5000), 2);
    ASSERT_CONTAINS(p->log, "invalid --user 'zc-no-such-user': no such user");
    zt_proc_free(p);
    p = zt_zc("--user", "nobody", "--group", "zc-no-such-group", "-w", "1",
              "--control", "none", "--", "/bin/true", NULL);
    ASSERT_EQ(zt_exit_code(p, 5000), 2);
    ASSERT_CONTAINS(p->log, "no such group");
    zt_proc_free(p);
    p = zt_zc("--user", "nobody:0", "--group", "1", "-w", "1", "--control",
              "none", "--", "/bin/true", NULL);
    ASSERT_EQ(zt_exit_code(p, 5000), 2);
    ASSERT_CONTAINS(p->log, "two different groups");
    zt_proc_free(p);
    p = zt_zc("--umask", "0999", "--", "/bin/true", NULL);
    ASSERT_EQ(zt_exit_code(p, 5000), 2);
    ASSERT_CONTAINS(p->log, "expected an octal mode");
    zt_proc_free(p);
    if (geteuid() != 0 || access("/usr/bin/setpriv", X_OK) != 0)
        zt_skip("the rest needs root and setpriv (util-linux)");
    p = zt_as_nobody("1", other, NULL);
    ASSERT_EQ(zt_exit_code(p, 5000), 2);
    ASSERT_CONTAINS(p->log, "the primary runs as uid 65534, not root");
    zt_proc_free(p);
    p = zt_as_nobody("1", mine, NULL);
    zt_wait_line(p, "1 worker ready", 10000);
    ASSERT_EQ(zt_count(p, "workers run as"), 0);
    zt_stop_fleet(p);
    snprintf(closed, sizeof(closed), "%s/closed", zt_tmpdir());
    ASSERT(mkdir(closed, 0700) == 0 || errno == EEXIST);
    p = zt_zc("--user", "nobody", "--chdir", closed, "-w", "1", "--control",
              "none", "--", "/bin/true", NULL);
    ASSERT_EQ(zt_exit_code(p, 5000), 1);
    snprintf(line, sizeof(line),
             "cannot enter --chdir '%s' as nobody: "
             "Permission denied",
             closed);
    ASSERT_CONTAINS(p->log, line);
    ASSERT_CONTAINS(p->log, "it is not tried again");
    zt_proc_free(p);
}

/* Once the fleet has served, a worker that cannot take its user's
 * directory is a spawn failure that backs off, as a failed exec does; it
 * comes back once it can. */
void test_user_failure_backs_off(void)
{
    char dir[256], want[400];
    pid_t pids[1];
    struct zt_proc *p;

    if (geteuid() != 0)
        zt_skip("changing the workers' user takes root");
    /* not under the test's own directory, which only root may enter */
    snprintf(dir, sizeof(dir), "/tmp/zc-workdir-XXXXXX");
    ASSERT(mkdtemp(dir));
    ASSERT_EQ(chmod(dir, 0755), 0);
    p = zt_fleet(1, pids, NULL, "-w", "1", "--user", "nobody", "--chdir", dir,
                 "--respawn-delay", "100ms", "--control", "none", "--",
                 "/bin/sleep", "30", NULL);
    ASSERT_EQ(chmod(dir, 0700), 0);
    kill(pids[0], SIGKILL);
    snprintf(want, sizeof(want),
             "cannot enter --chdir '%s' as nobody: "
             "Permission denied; retrying in",
             dir);
    zt_wait_line(p, want, 5000);
    zt_wait_line(p, "failure 3 in a row", 5000);
    ASSERT_EQ(chmod(dir, 0755), 0);
    zt_wait_line(p, "ready", 10000);
    zt_stop_fleet(p);
    ASSERT_EQ(rmdir(dir), 0);
}
