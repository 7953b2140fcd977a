/*
 * The worker side of the protocol: what a process started by a primary
 * finds in its environment (docs/protocol.md). Read once, under
 * pthread_once, then read-only: the getters are safe from any thread and
 * after fork.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zcluster.h"

/* Filled once, under pthread_once: every getter may run first, from any
 * thread, and none sees the fields half written. */
static struct {
    bool is_worker;
    bool sticky;
    uint64_t id;
    int slot;
    uint64_t generation;
} self = { .slot = -1 };
static pthread_once_t self_once = PTHREAD_ONCE_INIT;

static bool parse_u64(const char *s, uint64_t *ret)
{
    char *end;
    unsigned long long v;

    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *ret = v;
    return true;
}

static void read_env(void)
{
    uint64_t v;

    if (!parse_u64(getenv("ZC_WORKER_ID"), &self.id) || self.id == 0) {
        self.id = 0;
        return;
    }
    self.is_worker = true;
    self.sticky = getenv("ZC_STICKY") != NULL;
    if (parse_u64(getenv("ZC_WORKER_SLOT"), &v) && v < ZC_MAX_WORKERS)
        self.slot = (int) v;
    if (parse_u64(getenv("ZC_GENERATION"), &v))
        self.generation = v;
}

static void parse_env(void)
{
    (void) pthread_once(&self_once, read_env);
}

bool zc_self_is_worker(void)
{
    parse_env();
    return self.is_worker;
}

uint64_t zc_self_id(void)
{
    parse_env();
    return self.id;
}

int zc_self_slot(void)
{
    parse_env();
    return self.slot;
}

uint64_t zc_self_generation(void)
{
    parse_env();
    return self.generation;
}

bool zc_self_is_sticky(void)
{
    parse_env();
    return self.sticky;
}

bool zc_is_primary(void)
{
    return !zc_self_is_worker();
}

/* The older names (zcluster.h): the same functions under a second name. */
bool zc_is_worker(void) __attribute__((alias("zc_self_is_worker")));
uint64_t zc_worker_id(void) __attribute__((alias("zc_self_id")));
int zc_worker_slot(void) __attribute__((alias("zc_self_slot")));
uint64_t zc_worker_generation(void)
    __attribute__((alias("zc_self_generation")));
bool zc_worker_is_sticky(void) __attribute__((alias("zc_self_is_sticky")));

int zc_listen_fds(void)
{
    uint64_t pid, n;

    /* LISTEN_PID guards against variables inherited by a child that the
     * sockets were not meant for. */
    if (!parse_u64(getenv("LISTEN_PID"), &pid) || pid != (uint64_t) getpid())
        return 0;
    if (!parse_u64(getenv("LISTEN_FDS"), &n) || n > 1024)
        return 0;
    return (int) n;
}

const char *zc_listen_fd_name(int i, char *buf, size_t size)
{
    const char *names = getenv("LISTEN_FDNAMES");

    if (!names || i < 0 || i >= zc_listen_fds() || size == 0)
        return NULL;
    for (; i > 0; i--) {
        names = strchr(names, ':');
        if (!names)
            return NULL;
        names++;
    }
    snprintf(buf, size, "%.*s", (int) strcspn(names, ":"), names);
    return buf;
}
