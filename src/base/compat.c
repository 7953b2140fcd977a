/* Platform probes and stubs (see compat.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/compat.h"
#include "base/parse.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

void zc__close_from(int first)
{
    struct rlimit rl;

    /* close_range is Linux 5.9; older kernels say ENOSYS, seccomp
     * sandboxes may say EPERM. Either way, fall back. */
    if (syscall(SYS_close_range, (unsigned) first, ~0u, 0u) == 0)
        return;
    if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur > 1u << 20)
        rl.rlim_cur = 1u << 20;
    for (int fd = first; fd < (int) rl.rlim_cur; fd++)
        (void) close(fd);
}

void zc__close_fds(const int *fds, size_t n)
{
    int lo = n ? fds[0] : 0, hi = lo;

    for (size_t i = 1; i < n; i++) {
        if (fds[i] < lo)
            lo = fds[i];
        if (fds[i] > hi)
            hi = fds[i];
    }
    /* n distinct fds spanning exactly n numbers: nothing else is between. */
    if (n > 1 && (size_t) (hi - lo) + 1 == n &&
        syscall(SYS_close_range, (unsigned) lo, (unsigned) hi, 0u) == 0)
        return;
    for (size_t i = 0; i < n; i++)
        (void) close(fds[i]);
}

static const struct {
    int sig;
    const char *name;
} signals[] = {
    { SIGHUP, "HUP" },     { SIGINT, "INT" },       { SIGQUIT, "QUIT" },
    { SIGILL, "ILL" },     { SIGTRAP, "TRAP" },     { SIGABRT, "ABRT" },
    { SIGBUS, "BUS" },     { SIGFPE, "FPE" },       { SIGKILL, "KILL" },
    { SIGUSR1, "USR1" },   { SIGSEGV, "SEGV" },     { SIGUSR2, "USR2" },
    { SIGPIPE, "PIPE" },   { SIGALRM, "ALRM" },     { SIGTERM, "TERM" },
    { SIGCHLD, "CHLD" },   { SIGCONT, "CONT" },     { SIGSTOP, "STOP" },
    { SIGTSTP, "TSTP" },   { SIGTTIN, "TTIN" },     { SIGTTOU, "TTOU" },
    { SIGURG, "URG" },     { SIGXCPU, "XCPU" },     { SIGXFSZ, "XFSZ" },
    { SIGVTALRM, "VTALRM" }, { SIGPROF, "PROF" },   { SIGWINCH, "WINCH" },
    { SIGIO, "IO" },       { SIGPWR, "PWR" },       { SIGSYS, "SYS" },
};

const char *zc__signal_name(int sig)
{
    for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
        if (signals[i].sig == sig)
            return signals[i].name;
    return NULL;
}

int zc__signal_parse(const char *s)
{
    char *end;
    long n;

    if (strncasecmp(s, "SIG", 3) == 0)
        s += 3;
    for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
        if (strcasecmp(s, signals[i].name) == 0)
            return signals[i].sig;
    errno = 0;
    n = strtol(s, &end, 10);
    if (errno || end == s || *end || n < 1 || n >= NSIG)
        return -EINVAL;
    return (int) n;
}

int zc__proc_open(void)
{
    return open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* /proc/PID/FILE into buf, terminated (proc: an fd of /proc, or -1).
 * Returns false if it cannot be read. */
static bool read_proc(int proc, pid_t pid, const char *file, char *buf,
                      size_t size)
{
    char path[64];
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "%s%d/%s", proc >= 0 ? "" : "/proc/",
             (int) pid, file);
    fd = openat(proc >= 0 ? proc : AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    n = read(fd, buf, size - 1);
    (void) close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    return true;
}

bool zc__proc_stat(pid_t pid, unsigned long long *ticks, long long *rss)
{
    char buf[1024], *s;
    unsigned long long ut = 0, st = 0;
    int field = 2;

    if (!read_proc(-1, pid, "stat", buf, sizeof(buf)))
        return false;
    /* The name (field 2) may hold spaces and parentheses: skip to its end.
     * Then fields are single-space separated; only 14, 15 and 24 are
     * read (status calls this for a thousand workers at a time). */
    s = strrchr(buf, ')');
    if (!s)
        return false;
    for (s++; *s && field < 24; ) {
        unsigned long long v = 0;

        while (*s == ' ')
            s++;
        field++;
        if (field != 14 && field != 15 && field != 24) {
            while (*s && *s != ' ')
                s++;
            continue;
        }
        if (*s < '0' || *s > '9')
            return false;
        while (*s >= '0' && *s <= '9')
            v = v * 10 + (unsigned long long) (*s++ - '0');
        if (field == 14)
            ut = v;
        else if (field == 15)
            st = v;
        else
            *rss = (long long) v;
    }
    *ticks = ut + st;
    return field == 24;
}

bool zc__proc_usage(int proc, pid_t pid, uint64_t *cpu_ns, long long *rss)
{
    char buf[128], *end;
    struct timespec ts;
    clockid_t clock;

    /* CPU from the process's CPU clock: one system call, no /proc. */
    if (clock_getcpuclockid(pid, &clock) != 0 ||
        clock_gettime(clock, &ts) != 0)
        return false;
    *cpu_ns = (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
    /* RSS from statm, far cheaper for the kernel than stat. */
    if (!read_proc(proc, pid, "statm", buf, sizeof(buf)))
        return false;
    /* "size resident shared ...", in pages */
    (void) strtoll(buf, &end, 10);
    if (*end != ' ')
        return false;
    *rss = strtoll(end + 1, &end, 10);
    return *end == ' ' || *end == '\n';
}
