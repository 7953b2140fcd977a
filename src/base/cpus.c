/*
 * How many CPUs this process may use, for "one worker per CPU": its
 * affinity mask, and under cgroup v2 the CPU quota (cpu.max) of its cgroup
 * and of every cgroup above it, rounded up. A container given 2 CPUs on a
 * 64-core host must start 2 workers, not 64 that then thrash in their
 * quota (pm2#4905). What cannot be read is fallen back from, and said.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cpus.h"
#include "base/parse.h"

int zc__cpu_max_parse(const char *text, double *cpus)
{
    char quota[32], extra[2];
    unsigned long long q, period = 100000;
    int n;

    *cpus = 0;
    n = sscanf(text, "%31s %llu %1s", quota, &period, extra);
    if (n < 1 || n > 2)
        return -EINVAL;
    if (strcmp(quota, "max") == 0)
        return period ? 0 : -EINVAL;
    if (strspn(quota, "0123456789") != strlen(quota) || period == 0)
        return -EINVAL;
    q = strtoull(quota, NULL, 10);
    if (q == 0)
        return -EINVAL;
    *cpus = (double) q / (double) period;
    return 1;
}

/* The line "0::PATH" of /proc/self/cgroup: this process's cgroup v2. */
static int own_cgroup(const char *proc_cgroup, char *path, size_t size)
{
    char line[2048];
    FILE *f = fopen(proc_cgroup, "re");
    int r = -ENOENT;

    if (!f)
        return -errno;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "0::", 3) == 0) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(path, size, "%s", line + 3);
            r = 0;
            break;
        }
    fclose(f);
    return r;
}

/* A cpu.max that cannot be used: the affinity, and why, for the log. */
static unsigned fall_back(char *how, size_t size, unsigned cpus,
                          const char *file, const char *what)
{
    snprintf(how, size,
             "%u CPU%s in this process's affinity (%s %s; "
             "ignored)",
             cpus, cpus == 1 ? "" : "s", file, what);
    return cpus;
}

/* One cpu.max: 1 with its quota in *c, 0 for none (or no file), -1 with
 * what is wrong in what. */
static int read_cpu_max(const char *file, double *c, char *what, size_t size)
{
    char text[128];
    FILE *f = fopen(file, "re");
    int e = 0;

    if (!f && errno == ENOENT)
        return 0;
    if (!f) {
        zc__why(what, size, "cannot be read: %s", strerror(errno));
        return -1;
    }
    if (!fgets(text, sizeof(text), f)) {
        e = ferror(f) ? errno : 0;
        text[0] = '\0';
    }
    fclose(f);
    if (e) {
        zc__why(what, size, "cannot be read: %s", strerror(e));
        return -1;
    }
    text[strcspn(text, "\n")] = '\0';
    if (zc__cpu_max_parse(text, c) < 0) {
        zc__why(what, size, "does not read as a CPU quota: '%.40s'", text);
        return -1;
    }
    return *c > 0;
}

static unsigned affinity(void)
{
    cpu_set_t set;
    long n;

    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        return (unsigned) CPU_COUNT(&set);
    n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned) n : 1;
}

unsigned zc__cpus_from(const char *proc_cgroup, const char *root, unsigned cpus,
                       char *how, size_t size)
{
    char own[2048], dir[4096], file[4200], lowest[4200] = "";
    double limit = 0;
    int r = own_cgroup(proc_cgroup, own, sizeof(own));

    snprintf(how, size, "%u CPU%s in this process's affinity", cpus,
             cpus == 1 ? "" : "s");
    if (r < 0)
        return cpus; /* no cgroup v2 here: the affinity is all */
    /* Each cgroup from ours up to the root: the lowest quota binds. */
    snprintf(dir, sizeof(dir), "%s%s", root, strcmp(own, "/") ? own : "");
    for (;;) {
        char what[96];
        double c;

        snprintf(file, sizeof(file), "%s/cpu.max", dir);
        r = read_cpu_max(file, &c, what, sizeof(what));
        if (r < 0)
            return fall_back(how, size, cpus, file, what);
        if (r > 0 && (limit == 0 || c < limit)) {
            limit = c;
            snprintf(lowest, sizeof(lowest), "%s", file);
        }
        if (strlen(dir) <= strlen(root))
            break;
        *strrchr(dir, '/') = '\0';
    }
    if (limit > 0 && limit < cpus) {
        unsigned n = (unsigned) limit; /* rounded up: 1.5 CPUs is 2 */

        n += (double) n < limit;

        snprintf(how, size,
                 "the cgroup's CPU quota: %g CPU%s (%s), "
                 "rounded up%s; the affinity has %u",
                 limit, limit == 1 ? "" : "s", lowest,
                 limit < 1 ? " to one worker" : "", cpus);
        if (n < cpus)
            return n ? n : 1;
    }
    snprintf(how, size, "%u CPU%s in this process's affinity%s%s%s", cpus,
             cpus == 1 ? "" : "s", limit > 0 ? " (the cgroup's quota, " : "",
             limit > 0 ? lowest : "", limit > 0 ? ", allows as many)" : "");
    return cpus;
}

unsigned zc__cpus_available(char *how, size_t size)
{
    return zc__cpus_from("/proc/self/cgroup", "/sys/fs/cgroup", affinity(), how,
                         size);
}
