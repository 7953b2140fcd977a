/* fork + exec with an fd plan, as the worker protocol wants it. */
#ifndef ZC_SPAWN_H
#define ZC_SPAWN_H

#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "base/creds.h"

/* The most fds placed at 3.. in a child. */
#define ZC__SPAWN_MAX_FDS 72

struct zc__spawn {
    const char *path;           /* what to execve */
    char *const *argv;
    char *const *envp;
    /* NULL, or room for 21 bytes inside an envp string ("LISTEN_PID=..."):
     * the child writes its own pid there, the only value it cannot know
     * before fork. */
    char *listen_pid;
    char *watchdog_pid;         /* the same, for "WATCHDOG_PID=" */
    const int *fds;             /* placed at 3, 4, ... in this order */
    int n_fds;
    int stdin_fd;               /* dup2'ed onto 0; -1 keeps ours */
    const int *output;          /* NULL, or dup2'ed onto 1 and 2 */
    int pdeath_signal;          /* sent to the child when we die; 0: none */
    /* NULL, or the RLIMIT_NOFILE the child gets: the primary raises its
     * own soft limit for its many links, workers get the usual one. */
    const struct rlimit *nofile;
    const struct zc__creds *creds; /* NULL: as the primary */
    const char *chdir;             /* NULL: the primary's directory */
    bool set_umask;                /* false: the primary's umask */
    mode_t umask;
};

/* What failed in the child: the exec itself, or a step before it. */
enum {
    ZC__SPAWN_STEP_EXEC = 0,
    /* ZC__CREDS_STEP_* (1..4) */
    ZC__SPAWN_STEP_CHDIR = 8,
    ZC__SPAWN_STEP_FDS,
};
/* "setgroups", "chdir", ...: a step as the log says it. */
const char *zc__spawn_step_name(int step);

/*
 * Starts s->path. Returns 0 with *ret_pid once the child has called execve
 * successfully; -errno when fork failed, or when the child failed before
 * or at its exec (it is then already reaped, *ret_pid is still set for
 * the log, and *ret_step, which may be NULL, says which step).
 */
int zc__spawn(const struct zc__spawn *s, pid_t *ret_pid, int *ret_step);

#ifdef ZC_TEST_SEAMS
/* Test builds only (the test runner links its own spawn.o, built with
 * ZC_TEST_SEAMS; the library has no such variable): when > 0, the n-th
 * next spawn fails as fork() would (-EAGAIN). */
extern int zc__spawn_fail_after;
#endif

#endif
