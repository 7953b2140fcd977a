/* spawn.c on its own: fds land where the protocol says, exec errors come
 * back as errno. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto/notify.h"
#include "base/spawn.h"
#include "test.h"

void test_spawn_places_fds(void)
{
    char out[256], arg_out[300], pidvar[40] = "LISTEN_PID=";
    char *argv[] = { (char *) zt_self(), (char *) "--helper", (char *) "env", arg_out, NULL };
    char notify[128] = "NOTIFY_SOCKET=";
    char *envp[] = { (char *) "LISTEN_FDS=2", pidvar, (char *) "ZC_WORKER_ID=7", notify, NULL };
    int a, b, fds[2], status, nfd;
    pid_t pid;
    char *text;
    sigset_t set;

    snprintf(out, sizeof(out), "%s/env.x", zt_tmpdir());
    ASSERT_EQ(zc__notify_open(&nfd, notify + strlen(notify),
                              sizeof(notify) - strlen(notify)), 0);
    snprintf(arg_out, sizeof(arg_out), "%s", zt_tmpdir());
    /* Put the sources on each other's target numbers: 4 must go to 3 and
     * 3 to 4, and a stray non-CLOEXEC fd must not reach the child. */
    a = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    b = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT(a >= 0 && b >= 0);
    fds[0] = a > b ? a : b;
    fds[1] = a > b ? b : a;
    int stray = open("/dev/null", O_RDONLY);    /* no CLOEXEC on purpose */
    ASSERT(stray >= 0);
    /* A blocked signal must not stay blocked in the child. */
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    struct zc__spawn sp = { .path = zt_self(), .argv = argv, .envp = envp,
                            .listen_pid = pidvar + strlen(pidvar),
                            .fds = fds, .n_fds = 2, .stdin_fd = stray,
                            .pdeath_signal = SIGKILL };
    ASSERT_EQ(zc__spawn(&sp, &pid, NULL), 0);
    /* The helper writes its report, then says READY=1: wait for that. */
    {
        struct pollfd pfd = { .fd = nfd, .events = POLLIN };
        char msg[64];
        pid_t from;

        ASSERT_EQ(poll(&pfd, 1, 5000), 1);
        ASSERT(zc__notify_recv(nfd, msg, sizeof(msg), &from) > 0);
        ASSERT_EQ(from, pid);
        ASSERT_STREQ(msg, "READY=1");
    }
    text = zt_read_file(out);
    ASSERT(text);
    kill(pid, SIGTERM);
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char want[64];
    snprintf(want, sizeof(want), "LISTEN_PID=%d\n", (int) pid);
    ASSERT_CONTAINS(text, want);
    ASSERT_CONTAINS(text, "fds=0,1,2,3,4,\n");
    ASSERT_CONTAINS(text, "fd0=/dev/null");
    ASSERT_CONTAINS(text, "SigBlk:\t0000000000000000");
    snprintf(want, sizeof(want), "pgid=%d\n", (int) pid);
    ASSERT_CONTAINS(text, want);
    free(text);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    close(a);
    close(b);
    close(stray);
    close(nfd);
}

void test_spawn_exec_failure(void)
{
    char *argv[] = { (char *) "nope", NULL };
    char *envp[] = { NULL };
    char path[256];
    struct zc__spawn sp = { .argv = argv, .envp = envp, .stdin_fd = -1 };
    pid_t pid = -1;

    sp.path = "/nonexistent/zc-test-binary";
    ASSERT_EQ(zc__spawn(&sp, &pid, NULL), -ENOENT);
    ASSERT(pid > 0);
    snprintf(path, sizeof(path), "%s/not-executable", zt_tmpdir());
    zt_write_file(path, "#!/bin/sh\nexit 0\n");
    sp.path = path;
    ASSERT_EQ(zc__spawn(&sp, &pid, NULL), -EACCES);
    /* The test hook: a fork failure is reported, nothing is started. */
    zc__spawn_fail_after = 1;
    sp.path = "/bin/true";
    ASSERT_EQ(zc__spawn(&sp, &pid, NULL), -EAGAIN);
    /* Both failed children were reaped by zc__spawn itself. */
    ASSERT(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD);
}

/* Reads what a child wrote on the pipe at fd until EOF (bounded). */
static void read_all(int fd, char *buf, size_t size)
{
    size_t n = 0;
    ssize_t r;

    while (n + 1 < size && (r = read(fd, buf + n, size - n - 1)) > 0)
        n += (size_t) r;
    buf[n] = '\0';
}

/*
 * As root: the child takes the user's groups, gid and uid, enters its
 * directory as that user and sets its umask before exec; a directory the
 * user may not enter is the chdir step's failure, reported with it.
 */
void test_spawn_credentials(void)
{
    char *argv[] = { (char *) "/bin/sh", (char *) "-c",
                     (char *) "id -u; id -g; id -G; pwd; umask; "
                              "grep -E '^(Uid|Gid|Groups):' /proc/self/status",
                     NULL };
    char *envp[] = { (char *) "PATH=/usr/bin:/bin", NULL };
    char out[4096], closed[256], why[128];
    struct zc__creds c;
    int pipefd[2], output[2], status, step = -1;
    struct zc__spawn sp = { .path = "/bin/sh",
                            .argv = argv,
                            .envp = envp,
                            .stdin_fd = -1,
                            .chdir = "/tmp",
                            .set_umask = true,
                            .umask = 027 };
    pid_t pid;

    if (geteuid() != 0)
        zt_skip("changing a child's user takes root");
    ASSERT_EQ(zc__creds_resolve(&c, "nobody", NULL, why, sizeof(why)), 0);
    sp.creds = &c;
    ASSERT_EQ(pipe2(pipefd, O_CLOEXEC), 0);
    output[0] = output[1] = pipefd[1];
    sp.output = output;
    ASSERT_EQ(zc__spawn(&sp, &pid, &step), 0);
    close(pipefd[1]);
    read_all(pipefd[0], out, sizeof(out));
    close(pipefd[0]);
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ASSERT_CONTAINS(out, "65534\n65534\n65534\n/tmp\n0027\n");
    ASSERT_CONTAINS(out, "Uid:\t65534\t65534\t65534\t65534");
    ASSERT_CONTAINS(out, "Gid:\t65534\t65534\t65534\t65534");
    ASSERT_CONTAINS(out, "Groups:\t65534 \n");
    /* A directory only root may enter. */
    snprintf(closed, sizeof(closed), "%s/closed", zt_tmpdir());
    ASSERT(mkdir(closed, 0700) == 0 || errno == EEXIST);
    sp.chdir = closed;
    sp.output = NULL;
    ASSERT_EQ(zc__spawn(&sp, &pid, &step), -EACCES);
    ASSERT_EQ(step, ZC__SPAWN_STEP_CHDIR);
    ASSERT_STREQ(zc__spawn_step_name(step), "chdir");
    zc__creds_free(&c);
}
