/* The log as an operator sees it: levels, ZC_DEBUG patterns, colour only
 * on a terminal. */
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

/* A crashing worker under --respawn never: one info line per start, one
 * warning for the crash, a debug line for its STATUS=. */
static char *const crash_argv[] = {
    (char *) "-w", (char *) "1", (char *) "--respawn", (char *) "never",
    (char *) "--", NULL, (char *) "--helper", (char *) "status_then_crash", NULL,
};

static struct zt_proc *run_crash(char *const env[])
{
    char *argv[16];
    struct zt_proc *p;
    int n = 0;

    argv[n++] = (char *) zt_zcluster();
    for (int i = 0; i < 9; i++)
        argv[n++] = i == 5 ? (char *) zt_self() : crash_argv[i];
    p = zt_start(argv, env);
    ASSERT_EQ(zt_exit_code(p, 5000), 1);
    return p;
}

void test_log_levels_and_patterns(void)
{
    struct zt_proc *p;

    /* Default: info and up, no debug, no colour into a pipe. */
    p = run_crash(NULL);
    ASSERT_CONTAINS(p->log, " info  zc:primary: worker 1 (slot 0, pid ");
    ASSERT_CONTAINS(p->log, " warn  zc:primary: worker 1 (slot 0, pid ");
    ASSERT(!strstr(p->log, " debug "));
    ASSERT(!strchr(p->log, '\033'));
    zt_proc_free(p);
    /* ZC_LOG_LEVEL=warn: the info lines go. */
    p = run_crash((char *const[]) { (char *) "ZC_LOG_LEVEL=warn", NULL });
    ASSERT(!strstr(p->log, " info "));
    ASSERT_CONTAINS(p->log, " warn  zc:primary:");
    zt_proc_free(p);
    /* ZC_DEBUG selects namespaces for debug lines... */
    p = run_crash((char *const[]) { (char *) "ZC_DEBUG=zc:*", NULL });
    ASSERT_CONTAINS(p->log, " debug zc:primary: worker 1 (slot 0) status: loading config");
    zt_proc_free(p);
    /* ...and "-" takes them back out. */
    p = run_crash((char *const[]) {
        (char *) "ZC_DEBUG=zc:*,-zc:primary,-zc:balance", NULL });
    ASSERT(!strstr(p->log, " debug "));
    zt_proc_free(p);
    zt_reap_all(2000);
}

/* Runs the crash under a pseudo-terminal; returns all it printed. */
static char *run_on_terminal(bool no_color)
{
    static char out[16384];
    size_t len = 0;
    int master, st;
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    uint64_t t0 = zt_now_ms();

    ASSERT(pid >= 0);
    if (pid == 0) {
        char *argv[16];
        int n = 0;
        sigset_t none;

        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (no_color)
            setenv("NO_COLOR", "1", 1);
        else
            unsetenv("NO_COLOR");
        argv[n++] = (char *) zt_zcluster();
        for (int i = 0; i < 9; i++)
            argv[n++] = i == 5 ? (char *) zt_self() : crash_argv[i];
        execv(argv[0], argv);
        _exit(127);
    }
    for (;;) {
        struct pollfd pfd = { .fd = master, .events = POLLIN };
        ssize_t n;

        ASSERT(zt_now_ms() - t0 < 5000);
        if (poll(&pfd, 1, 5000) <= 0)
            continue;
        n = read(master, out + len, sizeof(out) - 1 - len);
        if (n <= 0)
            break;      /* EIO once the last writer of the terminal is gone */
        len += (size_t) n;
    }
    out[len] = '\0';
    close(master);
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    return out;
}

void test_log_colour_only_on_terminal(void)
{
    const char *out = run_on_terminal(false);

    ASSERT_CONTAINS(out, "\033[33mwarn ");
    ASSERT_CONTAINS(out, "\033[32minfo ");
    out = run_on_terminal(true);
    ASSERT(!strchr(out, '\033'));
    ASSERT_CONTAINS(out, " warn  zc:primary:");
    zt_reap_all(2000);
}
