/*
 * Where fleets are found and what they are called: root's place
 * (/run/zcluster, in a /run of the test's own) whatever mode another fleet
 * left it in, found by name from another user with a clear answer, names
 * from the command, a second fleet of one command, a name the user gave
 * that is taken, and two primaries racing for one name.
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

#define NOBODY "/usr/bin/setpriv", "--reuid=65534", "--regid=65534"

/* Runs ARGS... (NULL-terminated); its exit code, *out what it printed. */
#define run(out, ...) zt_run(out, 10000, __VA_ARGS__)

/* Two fleets at once: zt_stop_fleet() reaps every child, the other's too. */
static void stop_both(struct zt_proc *a, struct zt_proc *b)
{
    ASSERT(kill(a->pid, SIGTERM) == 0);
    ASSERT(kill(b->pid, SIGTERM) == 0);
    ASSERT_EQ(zt_exit_code(a, 10000), 0);
    ASSERT_EQ(zt_exit_code(b, 10000), 0);
    zt_proc_free(a);
    zt_proc_free(b);
    zt_reap_all(3000);
}

static void need_setpriv(void)
{
    if (access("/usr/bin/setpriv", X_OK) != 0)
        zt_skip("needs setpriv (util-linux)");
    zt_private_run();
}

static const char *nogroup_arg(void)
{
    static char arg[32];
    gid_t gid = 65534;

    snprintf(arg, sizeof(arg), "--groups=%u", (unsigned) gid);
    return arg;
}

/* Another fleet made /run/zcluster 0700: --control-group still lets its
 * members in, since the directory is made to let them through. */
void test_places_group_through_narrow_dir(void)
{
    struct zt_proc *p;
    struct stat st;
    pid_t pids[1];
    char *out;
    int port;

    need_setpriv();
    ASSERT(mkdir("/run/zcluster", 0700) == 0);
    ASSERT(chmod("/run/zcluster", 0700) == 0);
    p = zt_fleet(1, pids, &port, "-n", "team", "-w", "1", "--control-group",
                 "nogroup", "-l", "127.0.0.1:0", "--", zt_hello(), NULL);
    ASSERT_CONTAINS(p->log, "control socket /run/zcluster/team.sock");
    ASSERT_CONTAINS(p->log, "/run/zcluster was mode 0700: made it 0755");
    ASSERT(stat("/run/zcluster", &st) == 0);
    ASSERT_EQ(st.st_mode & 0777, 0755);
    ASSERT_EQ(run(&out, NOBODY, nogroup_arg(), zt_zclusterctl(), "-s",
                  "/run/zcluster/team.sock", "status", NULL), 0);
    ASSERT_CONTAINS(out, "fleet team:");
    free(out);
    zt_stop_fleet(p);
    /* A directory above that lets nobody through is said at start. */
    ASSERT(mkdir("/run/private", 0700) == 0);
    p = zt_fleet(1, pids, &port, "-n", "team", "-w", "1", "--control-group",
                 "nogroup", "--control", "/run/private/team.sock", "-l",
                 "127.0.0.1:0", "--", zt_hello(), NULL);
    ASSERT_CONTAINS(p->log, "members of nogroup cannot reach the control "
                    "socket: /run/private (mode 0700, uid 0)");
    zt_stop_fleet(p);
}

/* A user finds root's fleets by name: served when the fleet lets them in,
 * told "permission denied" (exit 4) and why when it does not, and listed
 * only where they may control it. */
void test_places_other_user_finds_root_fleet(void)
{
    struct zt_proc *shop, *team;
    pid_t pids[1];
    char *out;
    int port;

    need_setpriv();
    shop = zt_fleet(1, pids, &port, "-n", "shop", "-w", "1", "-l",
                    "127.0.0.1:0", "--", zt_hello(), NULL);
    team = zt_fleet(1, pids, &port, "-n", "team", "-w", "1",
                    "--control-group", "nogroup", "-l", "127.0.0.1:0", "--",
                    zt_hello(), NULL);
    ASSERT_EQ(run(&out, NOBODY, "--clear-groups", zt_zclusterctl(), "-n",
                  "shop", "status", NULL), 4);
    ASSERT_CONTAINS(out, "permission denied: /run/zcluster/shop.sock belongs "
                    "to uid 0 (mode 0600)");
    ASSERT_CONTAINS(out, "--control-group");
    free(out);
    ASSERT_EQ(run(&out, NOBODY, nogroup_arg(), zt_zclusterctl(), "-n", "team",
                  "status", NULL), 0);
    ASSERT_CONTAINS(out, "fleet team:");
    free(out);
    ASSERT_EQ(run(&out, NOBODY, nogroup_arg(), zt_zclusterctl(), "list", NULL), 0);
    ASSERT_CONTAINS(out, "/run/zcluster/team.sock");
    ASSERT(!strstr(out, "shop"));
    free(out);
    /* No such fleet anywhere: still "no fleet" (3). */
    ASSERT_EQ(run(&out, NOBODY, nogroup_arg(), zt_zclusterctl(), "-n", "nope",
                  "status", NULL), 3);
    free(out);
    stop_both(shop, team);
}

/* A second fleet of the same command gets a name of its own, said; a
 * name the user gave that is taken refuses to start, saying --name. */
void test_places_names_do_not_collide(void)
{
    char script[300], body[400], *out, *argv[8];
    struct zt_proc *a, *b, *c;

    snprintf(script, sizeof(script), "%s/shop.sh", zt_tmpdir());
    snprintf(body, sizeof(body), "exec %s\n", zt_hello());
    zt_write_file(script, body);
    argv[0] = (char *) zt_zcluster();
    argv[1] = (char *) "-w1";
    argv[2] = (char *) "-l127.0.0.1:0";
    argv[3] = (char *) "--";
    argv[4] = (char *) "/bin/sh";
    argv[5] = script;
    argv[6] = NULL;
    a = zt_start(argv, NULL);
    zt_wait_line(a, "1 worker ready", 5000);
    ASSERT_CONTAINS(a->log, "(fleet shop, mode 0600)");
    b = zt_start(argv, NULL);
    zt_wait_line(b, "1 worker ready", 5000);
    ASSERT_CONTAINS(b->log, "fleet name shop is taken");
    ASSERT_CONTAINS(b->log, "this fleet is shop-2 (give --name to choose one)");
    ASSERT_EQ(run(&out, zt_zclusterctl(), "list", NULL), 0);
    ASSERT_CONTAINS(out, "shop ");
    ASSERT_CONTAINS(out, "shop-2 ");
    free(out);
    c = zt_zc("-n", "shop", "-w", "1", "-l", "127.0.0.1:0", "--", zt_hello(),
              NULL);
    ASSERT_EQ(zt_exit_code(c, 5000), 1);
    zt_pump(c, 100);
    ASSERT_CONTAINS(c->log, "a fleet named shop is already running");
    ASSERT_CONTAINS(c->log, "give this one another --name");
    zt_proc_free(c);
    stop_both(a, b);
}

/* Two primaries started at the same moment over the same stale socket:
 * one gets the name and is reachable by it, the other refuses. Ten
 * times, as the race is one of timing. */
void test_places_name_race(void)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char path[300], *out, want[64];

    snprintf(path, sizeof(path), "%s/race.sock", zt_tmpdir());
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", path);
    for (int round = 0; round < 10; round++) {
        struct zt_proc *p[2];
        int fd = socket(AF_UNIX, SOCK_STREAM, 0), won = -1;

        ASSERT(bind(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0);
        close(fd);          /* stale: bound, its owner gone */
        for (int i = 0; i < 2; i++)
            p[i] = zt_zc("-n", "race", "-w", "1", "-l", "127.0.0.1:0", "--",
                         zt_hello(), NULL);
        for (int i = 0; i < 2; i++) {
            const char *l = zt_try_line(p[i], "1 worker ready", 5000);

            if (l) {
                ASSERT_EQ(won, -1);
                won = i;
            }
        }
        ASSERT(won >= 0);
        ASSERT_EQ(zt_exit_code(p[1 - won], 5000), 1);
        zt_pump(p[1 - won], 100);
        ASSERT_CONTAINS(p[1 - won]->log, "a fleet named race is already running");
        ASSERT_EQ(run(&out, zt_zclusterctl(), "-n", "race", "status", "--json",
                      NULL), 0);
        snprintf(want, sizeof(want), "\"pid\": %d,", (int) p[won]->pid);
        ASSERT_CONTAINS(out, want);
        free(out);
        zt_proc_free(p[1 - won]);
        zt_stop_fleet(p[won]);
    }
}

/* Starts a fleet that must refuse to start (exit 1); its log. */
static char *refused(const char *arg, ...)
{
    char *argv[24] = { (char *) zt_zcluster() }, *log;
    struct zt_proc *p;
    va_list ap;
    int n = 1;

    va_start(ap, arg);
    for (const char *a = arg; a && n < 23; a = va_arg(ap, const char *))
        argv[n++] = (char *) a;
    va_end(ap);
    p = zt_start(argv, NULL);
    ASSERT_EQ(zt_exit_code(p, 5000), 1);
    zt_pump(p, 100);
    log = strdup(p->log);
    zt_proc_free(p);
    zt_reap_all(2000);
    return log;
}

/* Nothing but a stale socket of our own is ever removed to make room:
 * not a regular file at the control path, not another user's file or
 * socket in the default place, not a file at -l unix:PATH. The fleet
 * refuses to start and says what is there. */
void test_places_nothing_deleted(void)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char path[300], *log, *text;
    int fd;

    snprintf(path, sizeof(path), "%s/precious", zt_tmpdir());
    zt_write_file(path, "precious data\n");
    log = refused("-w", "1", "--control", path, "--", zt_hello(), NULL);
    ASSERT_CONTAINS(log, "a file that is not a socket is there; it is left alone");
    free(log);
    {
        char arg[320];

        snprintf(arg, sizeof(arg), "unix:%s", path);
        log = refused("-w", "1", "-l", arg, "--", zt_hello(), NULL);
        ASSERT_CONTAINS(log, "a file that is not a socket is there");
        free(log);
    }
    text = zt_read_file(path);
    ASSERT_STREQ(text, "precious data\n");
    free(text);
    if (geteuid() != 0)
        return;
    zt_private_run();
    ASSERT(mkdir("/run/zcluster", 0755) == 0);
    zt_write_file("/run/zcluster/shop.sock", "nobody's\n");
    ASSERT(chown("/run/zcluster/shop.sock", 65534, 65534) == 0);
    log = refused("-n", "shop", "-w", "1", "--", zt_hello(), NULL);
    ASSERT_CONTAINS(log, "its control socket /run/zcluster/shop.sock: a file "
                    "that is not a socket");
    free(log);
    text = zt_read_file("/run/zcluster/shop.sock");
    ASSERT_STREQ(text, "nobody's\n");
    free(text);
    /* another user's stale socket: not ours to remove either */
    snprintf(sa.sun_path, sizeof(sa.sun_path), "/run/zcluster/team.sock");
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT(bind(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0);
    close(fd);
    ASSERT(chown(sa.sun_path, 65534, 65534) == 0);
    log = refused("-n", "team", "-w", "1", "--", zt_hello(), NULL);
    ASSERT_CONTAINS(log, "another user's socket is there; it is left alone");
    free(log);
    ASSERT(access(sa.sun_path, F_OK) == 0);
}

/* zclusterctl does not speak to a socket anybody could have put there:
 * one in a directory others may write to, unless sticky and ours. */
void test_places_ctl_distrusts_open_dirs(void)
{
    char dir[300], sock[340], *out;
    pid_t pids[1];
    int port;
    struct zt_proc *p;

    snprintf(dir, sizeof(dir), "%s/open", zt_tmpdir());
    ASSERT(mkdir(dir, 0777) == 0);
    ASSERT(chmod(dir, 0777) == 0);
    snprintf(sock, sizeof(sock), "%s/shop.sock", dir);
    p = zt_fleet(1, pids, &port, "-w", "1", "--control", sock, "-l",
                 "127.0.0.1:0", "--", zt_hello(), NULL);
    ASSERT_EQ(run(&out, zt_zclusterctl(), "-s", sock, "status", NULL), 4);
    ASSERT_CONTAINS(out, "its directory may be written by anybody");
    free(out);
    ASSERT(chmod(dir, 01777) == 0);
    ASSERT_EQ(run(&out, zt_zclusterctl(), "-s", sock, "status", NULL), 0);
    ASSERT_CONTAINS(out, "fleet ");
    free(out);
    zt_stop_fleet(p);
}
