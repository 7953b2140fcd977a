/* Platform probes and stubs (see compat.h). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/compat.h"

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
