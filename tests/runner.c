/*
 * The test runner: one binary, each test in a forked child with a time
 * limit, one line per result and "N passed, N failed" at the end.
 *
 *   test-runner [NAME-SUBSTRING...]      run the tests (all by default)
 *   test-runner --helper NAME [ARGS...]  be one of the helper workers
 *
 * Each test child is a subreaper, so the workers of a zcluster it killed
 * come back to it and it can wait for them exactly; it must end with every
 * child reaped and as many fds open as it started with.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

static const struct {
    const char *name;
    void (*fn)(void);
    int timeout_s;
} tests[] = {
#define TEST(name, timeout_s) { #name, test_##name, timeout_s },
#include "list.h"
#undef TEST
};

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
} helpers[] = {
#define HELPER(name) { #name, helper_##name },
#include "helpers.h"
#undef HELPER
};

static char bin_dir[PATH_MAX - 64];   /* room for the program names */
static char paths[4][PATH_MAX];
static char tmpdir[PATH_MAX];

const char *zt_zcluster(void) { return paths[0]; }
const char *zt_hello(void) { return paths[1]; }
const char *zt_self(void) { return paths[2]; }
const char *zt_zclusterctl(void) { return paths[3]; }
const char *zt_tmpdir(void) { return tmpdir; }

uint64_t zt_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* Set by proc.c: the processes whose output a failure should show. */
extern void zt_dump_procs(void);

void zt_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    printf("# %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    zt_dump_procs();
    fflush(stderr);
    _exit(1);
}

void zt_skip(const char *why)
{
    printf("# SKIP %s\n", why);
    fflush(stdout);
    _exit(ZT_SKIPPED);
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;       /* the directory's own fd */
}

/* Where a test's stderr goes: what it logs on purpose (a library call
 * refused, a helper's error) is shown only if the test fails. */
static void stderr_path(char *buf, size_t size, pid_t pid)
{
    snprintf(buf, size, "/tmp/zc-test.%d/stderr", (int) pid);
}

static void keep_stderr(void)
{
    char path[PATH_MAX];
    int fd;

    stderr_path(path, sizeof(path), getpid());
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0 && dup2(fd, 2) >= 0)
        setvbuf(stderr, NULL, _IONBF, 0);
    if (fd > 2)
        close(fd);
}

/* A failed test's stderr, for whoever reads why. */
static void show_stderr(pid_t pid)
{
    char path[PATH_MAX], buf[4096];
    FILE *f;
    size_t n;

    stderr_path(path, sizeof(path), pid);
    f = fopen(path, "r");
    if (!f)
        return;
    fflush(stdout);
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        (void) !fwrite(buf, 1, n, stderr);
    fclose(f);
}

static void run_in_child(int i)
{
    int fds_before, fds_after, made;
    sigset_t chld;

    (void) setpgid(0, 0);
    (void) prctl(PR_SET_CHILD_SUBREAPER, 1);
    /* Blocked, so zt_reap_all can wait for it with sigtimedwait. */
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/zc-test.%d", (int) getpid());
    /* One there already is a dead process's that had our pid (a runner
     * killed before it cleaned up, or another run's): the pid is ours now,
     * so nothing alive uses it. */
    made = mkdir(tmpdir, 0700);
    if (made == -1 && errno == EEXIST) {
        char cmd[sizeof(tmpdir) + 16];

        snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
        if (system(cmd) == 0)
            made = mkdir(tmpdir, 0700);
    }
    if (made == -1)
        zt_fail(__FILE__, __LINE__, "mkdir %s: %s", tmpdir, strerror(errno));
    /* Each test's fleets keep their control sockets in its own
     * directory, as under systemd's RuntimeDirectory=. */
    setenv("RUNTIME_DIRECTORY", tmpdir, 1);
    keep_stderr();
    fds_before = count_fds();
    tests[i].fn();
    fds_after = count_fds();
    if (fds_after != fds_before)
        zt_fail(__FILE__, __LINE__, "test leaked fds: %d open before, %d after",
                fds_before, fds_after);
    if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
        zt_fail(__FILE__, __LINE__, "test left a child process unreaped");
    _exit(0);
}

/* Waits for the test child; SIGKILLs its whole group at the time limit. */
static int wait_test(pid_t pid, int timeout_s, bool *timed_out)
{
    int pidfd = (int) syscall(SYS_pidfd_open, pid, 0), status = 0;
    struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

    *timed_out = pidfd >= 0 && poll(&pfd, 1, timeout_s * 1000) == 0;
    if (*timed_out)
        (void) kill(-pid, SIGKILL);
    if (pidfd >= 0)
        close(pidfd);
    while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
        ;
    return status;
}

/* Whatever a test left behind (a failed test's zcluster, its workers) is
 * killed and reaped before the next test starts. */
static void clean_up_after(pid_t pgid)
{
    char cmd[PATH_MAX + 32];

    (void) kill(-pgid, SIGKILL);
    alarm(10);
    while (wait(NULL) > 0 || errno == EINTR)
        ;
    alarm(0);
    snprintf(cmd, sizeof(cmd), "rm -rf /tmp/zc-test.%d", (int) pgid);
    if (system(cmd) != 0)
        printf("# could not remove /tmp/zc-test.%d\n", (int) pgid);
}

static bool selected(int i, int argc, char **argv)
{
    if (argc < 2)
        return true;
    for (int a = 1; a < argc; a++)
        if (strstr(tests[i].name, argv[a]))
            return true;
    return false;
}

static void init_paths(void)
{
    const char *b = getenv("ZC_BUILD");
    ssize_t n = readlink("/proc/self/exe", paths[2], sizeof(paths[2]) - 1);

    if (n < 0)
        n = 0;
    paths[2][n] = '\0';
    if (b && *b) {
        char resolved[PATH_MAX];

        if (realpath(b, resolved) && strlen(resolved) < sizeof(bin_dir))
            strcpy(bin_dir, resolved);
        else
            snprintf(bin_dir, sizeof(bin_dir), "%s", b);
    } else {
        snprintf(bin_dir, sizeof(bin_dir), "%.*s",
                 (int) (strrchr(paths[2], '/') - paths[2]), paths[2]);
    }
    snprintf(paths[0], sizeof(paths[0]), "%s/zcluster", bin_dir);
    snprintf(paths[1], sizeof(paths[1]), "%s/zcluster-hello", bin_dir);
    snprintf(paths[3], sizeof(paths[3]), "%s/zclusterctl", bin_dir);
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0, skipped = 0, n = 0;

    if (argc >= 3 && strcmp(argv[1], "--helper") == 0) {
        for (size_t i = 0; i < sizeof(helpers) / sizeof(helpers[0]); i++)
            if (strcmp(helpers[i].name, argv[2]) == 0)
                return helpers[i].fn(argc - 3, argv + 3);
        fprintf(stderr, "unknown helper %s\n", argv[2]);
        return 127;
    }
    init_paths();
    setvbuf(stdout, NULL, _IOLBF, 0);
    (void) prctl(PR_SET_CHILD_SUBREAPER, 1);
    /* Tests read logs in a fixed form; a developer's settings must not
     * change what they see. */
    unsetenv("ZC_DEBUG");
    unsetenv("ZC_LOG_LEVEL");
    setenv("NO_COLOR", "1", 1);
    for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        uint64_t t0 = zt_now_ms();
        bool timed_out;
        pid_t pid;
        int status;

        if (!selected((int) i, argc, argv))
            continue;
        n++;
        fflush(stdout);
        pid = fork();
        if (pid == 0)
            run_in_child((int) i);
        /* The limits are a native primary's; under valgrind every start
         * of one costs half a second. */
        status = wait_test(pid, tests[i].timeout_s *
                           (getenv("ZC_TEST_VALGRIND") ? 3 : 1), &timed_out);
        if (timed_out || !WIFEXITED(status) ||
            (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != ZT_SKIPPED))
            show_stderr(pid);
        clean_up_after(pid);
        if (!timed_out && WIFEXITED(status) && WEXITSTATUS(status) == ZT_SKIPPED) {
            skipped++;
            printf("ok %d - %s # SKIP\n", n, tests[i].name);
        } else if (!timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            passed++;
            printf("ok %d - %s (%llu ms)\n", n, tests[i].name,
                   (unsigned long long) (zt_now_ms() - t0));
        } else {
            failed++;
            printf("not ok %d - %s%s\n", n, tests[i].name,
                   timed_out ? " # timed out" :
                   WIFSIGNALED(status) ? " # killed by a signal" : "");
        }
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}
