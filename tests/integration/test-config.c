/* A fleet from a configuration file: the command line over it, the check
 * before a start, a reload that reads it again (and refuses a broken
 * one), the running options read back, and the library's reload with
 * options of the program's. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"

static void conf_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s.conf", zt_tmpdir(), name);
}

#define ctl(out, ...) zt_run(out, 20000, zt_zclusterctl(), __VA_ARGS__)
#define zc_run(out, ...) zt_run(out, 10000, zt_zcluster(), __VA_ARGS__)

/* Whether pid's environment has the entry kv ("KEY=VALUE"). */
static bool env_has(pid_t pid, const char *kv)
{
    char path[64], buf[65536];
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/environ", (int) pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    for (ssize_t i = 0; n > 0 && i < n; i += (ssize_t) strlen(buf + i) + 1) {
        buf[n] = '\0';
        if (strcmp(buf + i, kv) == 0)
            return true;
    }
    return false;
}

/* Waits until pid has n children, each with kv in its environment. */
static void wait_workers_with(pid_t pid, int n, const char *kv)
{
    uint64_t t0 = zt_now_ms();

    for (;;) {
        pid_t kids[64];
        int k = zt_children_of(pid, kids, 64), with = 0;

        for (int i = 0; i < k; i++)
            with += env_has(kids[i], kv);
        if (k == n && with == n)
            return;
        if (zt_now_ms() - t0 > 10000)
            zt_fail(__FILE__, __LINE__,
                    "%d children, %d with %s; wanted "
                    "%d with it",
                    k, with, kv, n);
        usleep(20000);
    }
}

void test_config_fleet_from_file(void)
{
    char file[300], text[600], *out;
    pid_t pids[2];
    struct zt_resp r;
    int port;
    struct zt_proc *p;

    conf_path(file, sizeof(file), "cfa");
    snprintf(text, sizeof(text),
             "# the shop\n"
             "name = cfa\n"
             "workers = 2\n"
             "listen = 127.0.0.1:0\n"
             "max_surge = 2\n"
             "env = GREETING='hello world'\n"
             "command = %s --drain-idle 50\n",
             zt_hello());
    zt_write_file(file, text);
    p = zt_fleet(2, pids, &port, "--config", file, NULL);
    ASSERT(port > 0);
    ASSERT_EQ(zt_http_get(port, NULL, &r), 200);
    for (int i = 0; i < 2; i++)
        ASSERT(env_has(pids[i], "GREETING=hello world"));
    ASSERT_EQ(ctl(&out, "-n", "cfa", "config", NULL), 0);
    ASSERT_CONTAINS(out, "workers = 2\n");
    ASSERT_CONTAINS(out, "max-surge = 2\n");
    ASSERT_CONTAINS(out, "env = 'GREETING=hello world'\n");
    ASSERT_CONTAINS(out, "--drain-idle 50\n");
    free(out);
    ASSERT_EQ(ctl(&out, "-n", "cfa", "status", "--json", NULL), 0);
    ASSERT_CONTAINS(out, "\"wanted\": 2, \"ready\": 2");
    free(out);
    zt_stop_fleet(p);
}

/* Each option of the command line wins, a list given there replaces the
 * file's, and its command replaces the file's. */
void test_config_command_line_wins(void)
{
    char file[300], text[600];
    pid_t pids[1];
    struct zt_resp r;
    int port;
    struct zt_proc *p;

    conf_path(file, sizeof(file), "cfb");
    snprintf(text, sizeof(text),
             "name = cfb\n"
             "workers = 3\n"
             "listen = unix:%s/no/such/dir/cfb.sock\n"
             "env = GREETING=file\n"
             "env = KEPT=no\n"
             "command = /bin/false\n",
             zt_tmpdir());
    zt_write_file(file, text);
    p = zt_fleet(1, pids, &port, "--config", file, "-w", "1", "-l",
                 "127.0.0.1:0", "--env", "GREETING=cli", "--", zt_hello(),
                 NULL);
    ASSERT(port > 0);
    ASSERT_EQ(zt_http_get(port, NULL, &r), 200);
    ASSERT(env_has(pids[0], "GREETING=cli"));
    ASSERT(!env_has(pids[0], "KEPT=no"));
    ASSERT_EQ(zt_children(p->pid), 1);
    zt_stop_fleet(p);
}

struct bad {
    const char *name, *text, *want;
};

void test_config_check(void)
{
    static const struct bad bad[] = {
        { "unknown", "wokers = 2\ncommand = x\n",
          "bad-unknown.conf:1: unknown option 'wokers' (did you mean "
          "'workers'?)" },
        { "value", "command = x\n\nworkers = many\n",
          "bad-value.conf:3: invalid --workers 'many'" },
        { "quote", "command = x 'y\n", "bad-quote.conf:1: command:" },
        { "twice", "workers = 2\nworkers = 3\ncommand = x\n",
          "bad-twice.conf:2: workers given twice (first at line 1)" },
        { "nocommand", "workers = 2\n", "no command: give 'command = ...'" },
        { "spaces", "command =    \n",
          "bad-spaces.conf:1: command: no "
          "command" },
        { "env", "env = FOO\ncommand = x\n",
          "bad-env.conf:1: invalid --env "
          "'FOO': expected KEY=VALUE" },
        { "reserved", "env = LISTEN_FDS=3\ncommand = x\n",
          "bad-reserved.conf:1: --env LISTEN_FDS: zcluster sets it" },
        { "flag", "sticky = maybe\ncommand = x\n",
          "bad-flag.conf:1: sticky: expected on or off" },
        { "words", "workers = 2 3\ncommand = x\n",
          "bad-words.conf:1: workers: expected one value, not 2 words" },
        { "binary", "workers = 2\n\x01\x02\x03\ncommand = x\n",
          "bad-binary.conf:2:" },
        { "empty", "", "bad-empty.conf: no options in it" },
        { "comments", "# nothing\n\n", "bad-comments.conf: no options in it" },
        { "together", "proxy-protocol = on\ncommand = x\n",
          "bad-together.conf: --proxy-protocol" },
    };
    char file[300], text[400], *out, *big;
    int fd;

    conf_path(file, sizeof(file), "good");
    snprintf(text, sizeof(text),
             "workers = 3\nlisten = :8080\n"
             "command = %s\n",
             zt_hello());
    zt_write_file(file, text);
    ASSERT_EQ(zc_run(&out, "--check-config", file, NULL), 0);
    ASSERT_CONTAINS(out, "good.conf is valid");
    ASSERT_CONTAINS(out, "workers = 3\nlisten = :8080\n");
    free(out);
    /* -t with the file, the command line over it. */
    ASSERT_EQ(zc_run(&out, "-t", "--config", file, "-w", "5", NULL), 0);
    ASSERT_CONTAINS(out, "workers = 5\n");
    free(out);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char name[32];

        snprintf(name, sizeof(name), "bad-%s", bad[i].name);
        conf_path(file, sizeof(file), name);
        zt_write_file(file, bad[i].text);
        ASSERT_EQ(zc_run(&out, "--check-config", file, NULL), 2);
        ASSERT_CONTAINS(out, bad[i].want);
        free(out);
    }
    /* Not files a configuration can be, refused before they are read. */
    ASSERT_EQ(zc_run(&out, "--check-config", zt_tmpdir(), NULL), 2);
    ASSERT_CONTAINS(out, "is a directory");
    free(out);
    conf_path(file, sizeof(file), "missing");
    ASSERT_EQ(zc_run(&out, "--check-config", file, NULL), 2);
    ASSERT_CONTAINS(out, "missing.conf: No such file");
    free(out);
    conf_path(file, sizeof(file), "fifo");
    ASSERT_EQ(mkfifo(file, 0600), 0);
    ASSERT_EQ(zc_run(&out, "--check-config", file, NULL), 2);
    ASSERT_CONTAINS(out, "fifo.conf: not a regular file");
    free(out);
    conf_path(file, sizeof(file), "huge");
    fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT(fd >= 0 && ftruncate(fd, 10 << 20) == 0);
    close(fd);
    ASSERT_EQ(zc_run(&out, "--check-config", file, NULL), 2);
    ASSERT_CONTAINS(out, "huge.conf: 10485760 bytes: a configuration file "
                         "is at most 1 MiB");
    free(out);
    /* A line of 100 KiB, and one of 1 MiB. */
    big = malloc((1 << 20) + 64);
    ASSERT(big);
    for (int k = 0; k < 2; k++) {
        size_t len = k ? 1 << 20 : 100 << 10;

        memcpy(big, "command = ", 10);
        memset(big + 10, 'x', len);
        strcpy(big + 10 + len, "\n");
        conf_path(file, sizeof(file), "long");
        zt_write_file(file, big);
        ASSERT_EQ(zc_run(&out, "--check-config", file, NULL), 2);
        ASSERT_CONTAINS(out, k ? "a configuration file is at most 1 MiB"
                               : "long.conf:1: ");
        free(out);
    }
    free(big);
}

/* A reload under load after the worker count and a variable changed in
 * the file: the new workers see the new value, the count follows, and no
 * request fails. */
void test_config_reload_under_load(void)
{
    char file[300], text[600], *out;
    pid_t pids[2];
    int port;
    struct zt_proc *p;
    struct zt_load *l;
    struct zt_load_result res;

    conf_path(file, sizeof(file), "cfr");
    snprintf(text, sizeof(text),
             "name = cfr\nworkers = 2\n"
             "listen = 127.0.0.1:0\nenv = GREETING=one\n"
             "command = %s --startup-delay 100\n",
             zt_hello());
    zt_write_file(file, text);
    p = zt_fleet(2, pids, &port, "--config", file, NULL);
    l = zt_load_start(port, 8, true);
    snprintf(text, sizeof(text),
             "name = cfr\nworkers = 3\n"
             "listen = 127.0.0.1:0\nenv = GREETING=two\n"
             "command = %s --startup-delay 100\n",
             zt_hello());
    zt_write_file(file, text);
    ASSERT_EQ(ctl(&out, "-n", "cfr", "reload", NULL), 0);
    ASSERT_CONTAINS(out, "reload to generation 2 done");
    free(out);
    wait_workers_with(p->pid, 3, "GREETING=two");
    zt_wait_line(p, "GREETING", 100); /* the log named the change */
    ASSERT_EQ(ctl(&out, "-n", "cfr", "status", "--json", NULL), 0);
    ASSERT_CONTAINS(out, "\"wanted\": 3, \"ready\": 3");
    free(out);
    /* And back to 2, with the first value. */
    snprintf(text, sizeof(text),
             "name = cfr\nworkers = 2\n"
             "listen = 127.0.0.1:0\nenv = GREETING=one\n"
             "command = %s --startup-delay 100\n",
             zt_hello());
    zt_write_file(file, text);
    ASSERT_EQ(kill(p->pid, SIGHUP), 0);
    zt_wait_line(p, "reload to generation 3 done", 20000);
    wait_workers_with(p->pid, 2, "GREETING=one");
    zt_load_stop(l, &res);
    printf("# %llu requests over %llu connections through two reloads "
           "from the file, %llu failed\n",
           (unsigned long long) res.ok, (unsigned long long) res.connects,
           (unsigned long long) res.failed);
    ASSERT_EQ(res.failed, 0);
    ASSERT(res.ok > 0);
    zt_stop_fleet(p);
}

/* A broken file, a listener moved, a file gone: each reload refused with
 * the file and line, and the fleet as it was; then a good file works. */
void test_config_reload_refused(void)
{
    char file[300], text[800], good[600], *out;
    pid_t pids[2], kids[8];
    int port;
    struct zt_proc *p;

    conf_path(file, sizeof(file), "cfx");
    snprintf(good, sizeof(good),
             "name = cfx\nworkers = 2\n"
             "listen = 127.0.0.1:0\ncommand = %s\n",
             zt_hello());
    zt_write_file(file, good);
    p = zt_fleet(2, pids, &port, "--config", file, NULL);

    snprintf(text, sizeof(text), "%sworkers = 4\n", good);
    zt_write_file(file, text);
    ASSERT_EQ(ctl(&out, "-n", "cfx", "reload", NULL), 1);
    ASSERT_CONTAINS(out, "cfx.conf:5: workers given twice");
    free(out);
    ASSERT_EQ(kill(p->pid, SIGHUP), 0);
    zt_wait_line(p,
                 "received SIGHUP: reload refused, the fleet runs on as "
                 "it was",
                 5000);

    snprintf(text, sizeof(text),
             "name = cfx\nworkers = 2\n"
             "listen = 127.0.0.1:1\ncommand = %s\n",
             zt_hello());
    zt_write_file(file, text);
    ASSERT_EQ(ctl(&out, "-n", "cfx", "reload", NULL), 1);
    ASSERT_CONTAINS(out, "cfx.conf:3: listen cannot change on a reload");
    free(out);

    ASSERT_EQ(unlink(file), 0);
    ASSERT_EQ(ctl(&out, "-n", "cfx", "reload", NULL), 1);
    ASSERT_CONTAINS(out, "cfx.conf: No such file");
    free(out);

    /* Untouched: the same two workers, still generation 1. */
    ASSERT_EQ(zt_children_of(p->pid, kids, 8), 2);
    ASSERT(kids[0] == pids[0] || kids[0] == pids[1]);
    ASSERT(kids[1] == pids[0] || kids[1] == pids[1]);
    ASSERT_EQ(ctl(&out, "-n", "cfx", "status", "--json", NULL), 0);
    ASSERT_CONTAINS(out, "\"generation\": 1,");
    free(out);
    ASSERT_EQ(zt_count(p, "rolling reload to generation"), 0);

    /* A good one goes through; then one replaced by a broken one between
     * two reloads is refused, and the fleet keeps what the good one said. */
    snprintf(text, sizeof(text),
             "name = cfx\nworkers = 3\n"
             "listen = 127.0.0.1:0\ncommand = %s\n",
             zt_hello());
    zt_write_file(file, text);
    ASSERT_EQ(ctl(&out, "-n", "cfx", "reload", NULL), 0);
    free(out);
    zt_write_file(file, "name = cfx\nworkers = 2\ncommand = 'unclosed\n");
    ASSERT_EQ(ctl(&out, "-n", "cfx", "reload", NULL), 1);
    ASSERT_CONTAINS(out, "cfx.conf:3: command: a ' that is not closed");
    free(out);
    ASSERT_EQ(ctl(&out, "-n", "cfx", "config", NULL), 0);
    ASSERT_CONTAINS(out, "# fleet cfx, generation 2, read from ");
    ASSERT_CONTAINS(out, "workers = 3\n");
    free(out);
    ASSERT_EQ(zt_children(p->pid), 3);
    zt_stop_fleet(p);
}

/* zclusterctl config, read back by --config, gives the same fleet. */
void test_config_read_back(void)
{
    char file[300], again[300], text[600], *first, *second;
    pid_t pids[3];
    int port;
    struct zt_proc *p;

    conf_path(file, sizeof(file), "cfc");
    snprintf(text, sizeof(text),
             "name = cfc\nworkers = 2\n"
             "listen = api=127.0.0.1:0\nrespawn-delay = 250ms\n"
             "shutdown-timeout = 5s\nkill-mode = process\n"
             "env = 'QUOTED=it'\\''s'\n"
             "command = %s --drain-idle '50'\n",
             zt_hello());
    zt_write_file(file, text);
    p = zt_fleet(2, pids, &port, "--config", file, NULL);
    /* Scaled by hand: the running count is what it says. */
    ASSERT_EQ(ctl(NULL, "-n", "cfc", "scale", "3", NULL), 0);
    ASSERT_EQ(ctl(&first, "-n", "cfc", "config", NULL), 0);
    ASSERT_CONTAINS(first, "workers = 3\n");
    ASSERT_CONTAINS(first, "env = 'QUOTED=it'\\''s'\n");
    zt_stop_fleet(p);

    conf_path(again, sizeof(again), "cfc-again");
    zt_write_file(again, first);
    p = zt_fleet(3, pids, &port, "--config", again, NULL);
    ASSERT(env_has(pids[0], "QUOTED=it's"));
    ASSERT_EQ(ctl(&second, "-n", "cfc", "config", NULL), 0);
    /* The same, but for the first line (the file's name). */
    ASSERT(strchr(first, '\n') && strchr(second, '\n'));
    ASSERT_STREQ(strchr(first, '\n'), strchr(second, '\n'));
    free(first);
    free(second);
    zt_stop_fleet(p);
}

/* zc_primary_reload_options(): a moved listener refused with the reason,
 * then 3 workers with a variable of their own. */
void test_config_library_reload(void)
{
    char *argv[] = { (char *) zt_self(),   (char *) "--helper",
                     (char *) "ipc_fleet", (char *) "reconf",
                     (char *) "2",         NULL };
    struct zt_proc *p = zt_start(argv, NULL);

    zt_wait_line(p,
                 "test: moved listener: reload_options returned -22: "
                 "zc_primary_reload_options(): listen cannot change on a "
                 "reload",
                 10000);
    zt_wait_line(p, "test: 3 workers: reload_options returned 0", 5000);
    zt_wait_line(p, "reload to generation 2 done", 20000);
    wait_workers_with(p->pid, 3, "ZT_RECONF=three");
    zt_stop_fleet(p);
}
