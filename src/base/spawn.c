/*
 * Starting a worker. Everything that allocates (argv, envp, the fd plan) is
 * built by the caller before fork; the child only makes system calls until
 * execve, because the primary's allocator and stdio locks may be in any
 * state in the child's copy of memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/compat.h"
#include "base/spawn.h"

#ifdef ZC_TEST_SEAMS
int zc__spawn_fail_after;
#endif

/* Writes v in decimal and a NUL; no stdio, safe in the child. */
static void put_decimal(char *buf, unsigned long v)
{
    char tmp[24];
    int n = 0;

    do {
        tmp[n++] = (char) ('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *buf++ = tmp[--n];
    *buf = '\0';
}

static void reset_signals(void)
{
    struct sigaction sa = { .sa_handler = SIG_DFL };
    sigset_t none;

    /* The primary blocks the signals it reads from its signalfd and
     * ignores SIGPIPE; both would survive execve and silently change how
     * the worker behaves. 32 and 33 belong to glibc and say EINVAL. */
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            (void) sigaction(sig, &sa, NULL);
    sigemptyset(&none);
    (void) sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * Moves the fds into place. Sources may sit on target numbers (the
 * primary's first listener is often fd 3 itself), so every source is first
 * copied above the whole target range, then dup2'ed down, which also
 * clears close-on-exec on the target. errfd ends up just past the targets.
 */
static int place_fds(const struct zc__spawn *s, int *errfd)
{
    int high[ZC__SPAWN_MAX_FDS];
    int top = 3 + s->n_fds;

    for (int i = 0; i < s->n_fds; i++) {
        high[i] = fcntl(s->fds[i], F_DUPFD_CLOEXEC, top + 1);
        if (high[i] == -1)
            return -errno;
    }
    /* stdin first: /dev/null may sit on the number errfd moves to. */
    if (s->stdin_fd >= 0 && dup2(s->stdin_fd, 0) == -1)
        return -errno;
    if (s->output &&
        (dup2(s->output[0], 1) == -1 || dup2(s->output[1], 2) == -1))
        return -errno;
    if (*errfd != top) {
        if (dup3(*errfd, top, O_CLOEXEC) == -1)
            return -errno;
        *errfd = top;
    }
    for (int i = 0; i < s->n_fds; i++)
        if (dup2(high[i], 3 + i) == -1)
            return -errno;
    /* Whatever the primary inherited without close-on-exec (a shell's fd,
     * a test harness's pipe) must not reach workers. */
    zc__close_from(top + 1);
    return 0;
}

const char *zc__spawn_step_name(int step)
{
    switch (step) {
    case ZC__CREDS_STEP_GROUPS: return "setgroups";
    case ZC__CREDS_STEP_GID: return "setresgid";
    case ZC__CREDS_STEP_UID: return "setresuid";
    case ZC__CREDS_STEP_REGAIN: return "it could set its uid back to 0";
    case ZC__SPAWN_STEP_CHDIR: return "chdir";
    case ZC__SPAWN_STEP_FDS: return "placing its file descriptors";
    default: return "execve";
    }
}

/* Everything between fork and exec that can fail, in order: 0, or -errno
 * with *step. */
static int prepare(const struct zc__spawn *s, pid_t parent, int *errfd,
                   int *step)
{
    int err;

    *step = ZC__SPAWN_STEP_FDS;
    err = place_fds(s, errfd);
    if (err < 0)
        return err;
    if (s->nofile)
        (void) setrlimit(RLIMIT_NOFILE, s->nofile);
    /* Before the parent-death signal: the kernel clears it when the
     * credentials change. */
    if (s->creds && (err = zc__creds_apply(s->creds, step)) < 0)
        return err;
    if (s->pdeath_signal) {
        (void) prctl(PR_SET_PDEATHSIG, s->pdeath_signal);
        /* The primary may have died between fork and prctl. */
        if (getppid() != parent)
            _exit(127);
    }
    /* As the worker's user, as systemd's WorkingDirectory= is entered:
     * a directory it may not enter is its failure, not a way round. */
    *step = ZC__SPAWN_STEP_CHDIR;
    if (s->chdir && chdir(s->chdir) == -1)
        return -errno;
    if (s->set_umask)
        (void) umask(s->umask);
    *step = ZC__SPAWN_STEP_EXEC;
    return 0;
}

static void child(const struct zc__spawn *s, pid_t parent, int errfd)
{
    int err, report[2];

    reset_signals();
    /* Own process group: a terminal's ^C reaches only the primary, which
     * then drains the workers; killpg reaches a worker's own children. */
    (void) setpgid(0, 0);
    err = prepare(s, parent, &errfd, &report[1]);
    if (err == 0) {
        if (s->listen_pid)
            put_decimal(s->listen_pid, (unsigned long) getpid());
        if (s->watchdog_pid)
            put_decimal(s->watchdog_pid, (unsigned long) getpid());
        execve(s->path, s->argv, s->envp);
        err = -errno;
    }
    report[0] = -err;
    (void) !write(errfd, report, sizeof(report));
    _exit(127);
}

int zc__spawn(const struct zc__spawn *s, pid_t *ret_pid, int *ret_step)
{
    pid_t parent = getpid(), pid;
    int pipefd[2], report[2] = { 0, 0 };
    int err;
    ssize_t n;

    if (s->n_fds < 0 || s->n_fds > ZC__SPAWN_MAX_FDS)
        return -EINVAL;
#ifdef ZC_TEST_SEAMS
    if (zc__spawn_fail_after > 0 && --zc__spawn_fail_after == 0)
        return -EAGAIN;
#endif
    if (pipe2(pipefd, O_CLOEXEC) == -1)
        return -errno;
    pid = fork();
    if (pid == -1) {
        err = errno;
        (void) close(pipefd[0]);
        (void) close(pipefd[1]);
        return -err;
    }
    if (pid == 0)
        child(s, parent, pipefd[1]);
    /* Both sides call setpgid so that neither order of events leaves a
     * window where the worker is still in our group (EACCES after exec is
     * fine: the child did it itself). */
    (void) setpgid(pid, pid);
    (void) close(pipefd[1]);
    *ret_pid = pid;
    /* EOF means execve succeeded (the pipe was close-on-exec). */
    do {
        n = read(pipefd[0], report, sizeof(report));
    } while (n == -1 && errno == EINTR);
    (void) close(pipefd[0]);
    if (n != (ssize_t) sizeof(report))
        return 0;
    /* Reap it here so the failure is one synchronous event. */
    while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
        ;
    if (ret_step)
        *ret_step = report[1];
    err = report[0];
    return err > 0 ? -err : -ECHILD;
}
